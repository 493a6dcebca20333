/* mdm_worker.c -- the service side of the bus (see docs/bus.md, "Worker protocol"). */
#include "mdm_worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mdm_log.h"

struct mdm_worker_t {
	void *zctx;
	int own_zctx; /* created here (not shared with the process's other workers) */
	void *sock;
	char service[32];
	const mdm_command_t *table;
	void *ctx;
};

void mdm_reply_header(mdm_reply_t *rep, const char *name, const char *value)
{
	json_object_set_new(rep->headers, name, json_string(value));
}

void mdm_reply_set(mdm_reply_t *rep, int status, const char *content_type, const char *body,
		   size_t len)
{
	rep->status = status;
	if (content_type)
		mdm_reply_header(rep, "Content-Type", content_type);
	rep->body.len = 0;
	mdm_buf_append(&rep->body, body ? body : "", body ? len : 0);
}

void mdm_reply_json(mdm_reply_t *rep, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
		mdm_reply_set(rep, 500, "application/json", oom, sizeof oom - 1);
		return;
	}
	mdm_reply_set(rep, status, "application/json", text, strlen(text));
	free(text);
}

void mdm_reply_error(mdm_reply_t *rep, const mdm_err_t *err)
{
	mdm_code_t code = err && err->code != MDM_OK ? err->code : MDM_E_INTERNAL;
	const char *text = err && err->text[0] ? err->text : "internal error";
	if (code == MDM_E_UNAVAILABLE)
		mdm_reply_header(rep, "Retry-After", "5");
	json_t *msg = json_string(text);
	if (msg == NULL) {
		/* not UTF-8 (an error text quoting device input): keep the ASCII, mask the rest */
		char safe[sizeof err->text];
		size_t i = 0;
		for (; text[i] && i + 1 < sizeof safe; i++)
			safe[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
		safe[i] = '\0';
		msg = json_string(safe);
	}
	mdm_reply_json(rep, mdm_code_http_status(code),
		       json_pack("{s:{s:s,s:o}}", "error", "code", mdm_code_name(code), "message",
				 msg));
}

const char *mdm_req_header(const mdm_msg_t *req, const char *name)
{
	return json_string_value(json_object_get(req->headers, name));
}

static void *s_connect(mdm_worker_t *self, const char *endpoint, const char *ident)
{
	void *s = zmq_socket(self->zctx, ZMQ_DEALER);
	if (s == NULL)
		return NULL;
	if (ident && ident[0])
		zmq_setsockopt(s, ZMQ_ROUTING_ID, ident, strlen(ident));
	int linger = 0, ivl = 100, ivl_max = 1000;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
	if (zmq_connect(s, endpoint) != 0) {
		zmq_close(s);
		return NULL;
	}
	return s;
}

mdm_worker_t *mdm_worker_new(const char *endpoint, const char *service,
			     const mdm_command_t *table, void *ctx)
{
	return mdm_worker_new_shared(NULL, NULL, endpoint, service, table, ctx);
}

mdm_worker_t *mdm_worker_new_shared(void *zctx, const char *ident, const char *endpoint,
				    const char *service, const mdm_command_t *table, void *ctx)
{
	mdm_worker_t *self = calloc(1, sizeof *self);
	check_mem(self);
	snprintf(self->service, sizeof self->service, "%s", service);
	self->table = table;
	self->ctx = ctx;
	self->zctx = zctx;
	if (self->zctx == NULL) {
		self->zctx = zmq_ctx_new();
		check_mem(self->zctx);
		self->own_zctx = 1;
	}
	self->sock = s_connect(self, endpoint, ident);
	check(self->sock, "bus: cannot connect to %s: %s", endpoint, zmq_strerror(errno));
	return self;
error:
	mdm_worker_destroy(&self);
	return NULL;
}

void mdm_worker_destroy(mdm_worker_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	mdm_worker_t *self = *self_p;
	if (self->sock)
		zmq_close(self->sock);
	if (self->zctx && self->own_zctx)
		zmq_ctx_term(self->zctx);
	free(self);
	*self_p = NULL;
}

static void s_send_control(mdm_worker_t *self, const char *kind)
{
	mdm_msg_t *m = mdm_msg_new(kind, self->service, NULL);
	if (m) {
		mdm_msg_send(m, self->sock, NULL, 0);
		mdm_msg_destroy(&m);
	}
}

/* Runs the handler for one request and sends the reply; the reply also tells the broker
 * that this instance is free again. */
static void s_serve(mdm_worker_t *self, mdm_msg_t *req)
{
	mdm_reply_t rep = {200, json_object(), MDM_BUF_INIT};
	const mdm_command_t *cmd = self->table;
	while (cmd->name && strcmp(cmd->name, req->command) != 0)
		cmd++;
	if (cmd->name == NULL) {
		mdm_err_t err = {0};
		mdm_err_set(&err, MDM_E_NOT_FOUND, "unknown command '%s' for service %s",
			    req->command, self->service);
		mdm_reply_error(&rep, &err);
	} else if (cmd->fn(req, &rep, self->ctx) != 0) {
		log_warn("%s: handler %s failed (request %s)", self->service, cmd->name, req->id);
		if (rep.body.len == 0 && rep.status < 400) {
			mdm_err_t err = {0};
			mdm_err_set(&err, MDM_E_INTERNAL, "internal error");
			mdm_reply_error(&rep, &err);
		}
	}
	mdm_msg_t *out = mdm_msg_new(MDM_BUS_REPLY, self->service, req->id);
	if (out) {
		out->status = rep.status;
		mdm_msg_set_headers(out, rep.headers);
		rep.headers = NULL;
		if (rep.body.failed)
			out->status = 500;
		else if (rep.body.len)
			mdm_msg_set_body(out, rep.body.data, rep.body.len);
		if (mdm_msg_send(out, self->sock, NULL, 0) != 0)
			log_warn("%s: cannot send reply %s: %s", self->service, req->id,
				 zmq_strerror(errno));
		mdm_msg_destroy(&out);
	}
	json_decref(rep.headers);
	mdm_buf_free(&rep.body);
}

int mdm_worker_run(mdm_worker_t *self, volatile sig_atomic_t *stop, int heartbeat_ms)
{
	s_send_control(self, MDM_BUS_READY);
	while (!*stop) {
		zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
		int rc = zmq_poll(&item, 1, heartbeat_ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_err("bus: poll failed: %s", zmq_strerror(errno));
			break;
		}
		if (rc == 0) {
			/* idle: tell the broker we are alive (and re-register after a gateway
			 * restart, which forgets all instances) */
			s_send_control(self, MDM_BUS_HEARTBEAT);
			continue;
		}
		mdm_msg_t *req = mdm_msg_recv(self->sock, NULL, NULL);
		if (req == NULL)
			continue;
		if (!strcmp(req->kind, MDM_BUS_REQUEST))
			s_serve(self, req);
		mdm_msg_destroy(&req);
	}
	s_send_control(self, MDM_BUS_BYE);
	return 0;
}
