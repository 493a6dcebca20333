/* mdm_msg.c -- encode/decode the bus frames described in docs/bus.md. */
#include "mdm_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mdm_log.h"

mdm_msg_t *mdm_msg_new(const char *kind, const char *service, const char *id)
{
	mdm_msg_t *self = calloc(1, sizeof *self);
	if (self == NULL)
		return NULL;
	snprintf(self->kind, sizeof self->kind, "%s", kind ? kind : "");
	snprintf(self->service, sizeof self->service, "%s", service ? service : "");
	snprintf(self->id, sizeof self->id, "%s", id ? id : "");
	self->headers = json_object();
	if (self->headers == NULL) {
		free(self);
		return NULL;
	}
	return self;
}

void mdm_msg_destroy(mdm_msg_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	mdm_msg_t *self = *self_p;
	json_decref(self->headers);
	free(self->body);
	free(self);
	*self_p = NULL;
}

int mdm_msg_set_body(mdm_msg_t *self, const void *data, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	if (len)
		memcpy(copy, data, len);
	copy[len] = '\0';
	free(self->body);
	self->body = copy;
	self->body_len = len;
	return 0;
}

void mdm_msg_set_headers(mdm_msg_t *self, json_t *headers)
{
	json_decref(self->headers);
	self->headers = headers ? headers : json_object();
}

/* Frame lists per kind: the single source of the layout in docs/bus.md. */
static int s_frames(const mdm_msg_t *self, const char **f, size_t *fl, char *status, char **hdr)
{
	int n = 0;
	f[n] = MDM_BUS_VERSION, fl[n++] = 4;
	f[n] = self->kind, fl[n++] = strlen(self->kind);
	if (!strcmp(self->kind, MDM_BUS_REQUEST)) {
		f[n] = self->service, fl[n++] = strlen(self->service);
		f[n] = self->id, fl[n++] = strlen(self->id);
		f[n] = self->command, fl[n++] = strlen(self->command);
	} else if (!strcmp(self->kind, MDM_BUS_REPLY)) {
		f[n] = self->service, fl[n++] = strlen(self->service);
		f[n] = self->id, fl[n++] = strlen(self->id);
		snprintf(status, 8, "%d", self->status);
		f[n] = status, fl[n++] = strlen(status);
	} else {
		f[n] = self->service, fl[n++] = strlen(self->service);
		return n;
	}
	*hdr = json_dumps(self->headers, JSON_COMPACT);
	if (*hdr == NULL)
		return -1;
	f[n] = *hdr, fl[n++] = strlen(*hdr);
	f[n] = self->body ? self->body : "", fl[n++] = self->body_len;
	return n;
}

int mdm_msg_send(const mdm_msg_t *self, void *socket, const char *route, size_t route_len)
{
	const char *f[MDM_BUS_MAX_FRAMES];
	size_t fl[MDM_BUS_MAX_FRAMES];
	char status[8];
	char *hdr = NULL;
	int n = s_frames(self, f, fl, status, &hdr);
	int rc = -1;
	check(n > 0, "bus: cannot encode %s message", self->kind);
	if (route && zmq_send(socket, route, route_len, ZMQ_SNDMORE) < 0)
		goto error;
	for (int i = 0; i < n; i++)
		if (zmq_send(socket, f[i], fl[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
			goto error;
	rc = 0;
error:
	free(hdr);
	return rc;
}

/* Reads all remaining frames of the current multipart message into zmq_msg_t slots.
 * Returns the frame count, or -1 on error / too many frames (rest is drained). */
static int s_recv_frames(void *socket, zmq_msg_t *frames, int max)
{
	int n = 0, more = 1, overflow = 0;
	while (more) {
		zmq_msg_t tmp;
		zmq_msg_init(&tmp);
		if (zmq_msg_recv(&tmp, socket, 0) < 0) {
			zmq_msg_close(&tmp);
			for (int i = 0; i < n; i++)
				zmq_msg_close(&frames[i]);
			return -1;
		}
		more = zmq_msg_more(&tmp);
		if (n < max)
			frames[n++] = tmp;
		else {
			overflow = 1;
			zmq_msg_close(&tmp);
		}
	}
	if (overflow) {
		for (int i = 0; i < n; i++)
			zmq_msg_close(&frames[i]);
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

static int s_copy_str(char *dst, size_t cap, zmq_msg_t *m)
{
	size_t len = zmq_msg_size(m);
	if (len >= cap || memchr(zmq_msg_data(m), '\0', len))
		return -1;
	memcpy(dst, zmq_msg_data(m), len);
	dst[len] = '\0';
	return 0;
}

mdm_msg_t *mdm_msg_recv(void *socket, char *route, size_t *route_len)
{
	zmq_msg_t fr[MDM_BUS_MAX_FRAMES];
	int n = s_recv_frames(socket, fr, MDM_BUS_MAX_FRAMES);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ETERM)
			log_warn("bus: message dropped (more than %d frames, or receive error)",
				 MDM_BUS_MAX_FRAMES);
		return NULL;
	}
	mdm_msg_t *self = NULL;
	int i = 0;
	if (route) {
		check(n >= 1 && zmq_msg_size(&fr[0]) <= *route_len, "bus: bad identity frame");
		*route_len = zmq_msg_size(&fr[0]);
		memcpy(route, zmq_msg_data(&fr[0]), *route_len);
		i = 1;
	}
	check(n - i >= 3, "bus: message with %d frames", n - i);
	check(zmq_msg_size(&fr[i]) == 4 && !memcmp(zmq_msg_data(&fr[i]), MDM_BUS_VERSION, 4),
	      "bus: unknown protocol version");
	self = mdm_msg_new(NULL, NULL, NULL);
	check_mem(self);
	check(s_copy_str(self->kind, sizeof self->kind, &fr[i + 1]) == 0, "bus: bad kind frame");
	check(s_copy_str(self->service, sizeof self->service, &fr[i + 2]) == 0,
	      "bus: bad service frame");
	int rest = n - i - 3;
	zmq_msg_t *r = &fr[i + 3];
	if (!strcmp(self->kind, MDM_BUS_REQUEST) || !strcmp(self->kind, MDM_BUS_REPLY)) {
		check(rest == 4, "bus: %s with %d frames after service", self->kind, rest);
		check(s_copy_str(self->id, sizeof self->id, &r[0]) == 0, "bus: bad id frame");
		if (!strcmp(self->kind, MDM_BUS_REQUEST)) {
			check(s_copy_str(self->command, sizeof self->command, &r[1]) == 0,
			      "bus: bad command frame");
		} else {
			char st[8];
			check(s_copy_str(st, sizeof st, &r[1]) == 0, "bus: bad status frame");
			char *end;
			long v = strtol(st, &end, 10);
			check(*end == '\0' && v >= 100 && v <= 599, "bus: bad status %s", st);
			self->status = (int)v;
		}
		json_error_t jerr;
		json_t *h = json_loadb(zmq_msg_data(&r[2]), zmq_msg_size(&r[2]), 0, &jerr);
		if (h && !json_is_object(h)) {
			json_decref(h);
			h = NULL;
		}
		check(h, "bus: headers are not a JSON object");
		mdm_msg_set_headers(self, h);
		check_mem(mdm_msg_set_body(self, zmq_msg_data(&r[3]), zmq_msg_size(&r[3])) == 0);
	} else {
		check(!strcmp(self->kind, MDM_BUS_READY) || !strcmp(self->kind, MDM_BUS_HEARTBEAT) ||
			      !strcmp(self->kind, MDM_BUS_BYE),
		      "bus: unknown kind %s", self->kind);
		check(rest == 0, "bus: %s with %d extra frames", self->kind, rest);
	}
	for (int k = 0; k < n; k++)
		zmq_msg_close(&fr[k]);
	return self;
error:
	for (int k = 0; k < n; k++)
		zmq_msg_close(&fr[k]);
	mdm_msg_destroy(&self);
	return NULL;
}
