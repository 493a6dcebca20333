/* gw_client.c -- request/reply over the broker with per-request ids (docs/bus.md). */
#include "gw_client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "gw_broker.h"
#include "mdm_log.h"

struct gw_client_t {
	void *sock;
	char ident[24];
	unsigned long seq;
};

static atomic_uint s_next_ident;

gw_client_t *gw_client_new(void *zctx)
{
	gw_client_t *self = calloc(1, sizeof *self);
	if (self == NULL)
		return NULL;
	/* the identity is the routing key the broker reads back out of request ids */
	snprintf(self->ident, sizeof self->ident, "gw%u", atomic_fetch_add(&s_next_ident, 1));
	self->sock = zmq_socket(zctx, ZMQ_DEALER);
	int linger = 0;
	if (self->sock == NULL)
		goto error;
	zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(self->sock, ZMQ_ROUTING_ID, self->ident, strlen(self->ident));
	if (zmq_connect(self->sock, GW_FRONTEND) != 0)
		goto error;
	return self;
error:
	log_err("bus: cannot create a gateway thread socket: %s", zmq_strerror(errno));
	gw_client_destroy(&self);
	return NULL;
}

void gw_client_destroy(gw_client_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	if ((*self_p)->sock)
		zmq_close((*self_p)->sock);
	free(*self_p);
	*self_p = NULL;
}

static long s_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

mdm_msg_t *gw_client_call(gw_client_t *self, const char *service, const char *command,
			  json_t *headers, const char *body, size_t body_len, int timeout_ms)
{
	char id[64];
	snprintf(id, sizeof id, "%s:%lu", self->ident, ++self->seq);
	mdm_msg_t *req = mdm_msg_new(MDM_BUS_REQUEST, service, id);
	if (req == NULL) {
		json_decref(headers);
		return NULL;
	}
	snprintf(req->command, sizeof req->command, "%s", command);
	mdm_msg_set_headers(req, headers);
	if (body_len && mdm_msg_set_body(req, body, body_len) != 0) {
		mdm_msg_destroy(&req);
		return NULL;
	}
	int rc = mdm_msg_send(req, self->sock, NULL, 0);
	mdm_msg_destroy(&req);
	if (rc != 0)
		return NULL;

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	for (;;) {
		long left = s_ms_left(&deadline);
		if (left <= 0)
			return NULL;
		zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
		int n = zmq_poll(&item, 1, left);
		if (n < 0 && errno != EINTR)
			return NULL;
		if (n <= 0)
			continue;
		mdm_msg_t *rep = mdm_msg_recv(self->sock, NULL, NULL);
		if (rep && !strcmp(rep->kind, MDM_BUS_REPLY) && !strcmp(rep->id, id))
			return rep;
		if (rep)
			log_debug("bus: discarding stale reply %s (waiting for %s)", rep->id, id);
		mdm_msg_destroy(&rep);
	}
}
