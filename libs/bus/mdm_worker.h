/* mdm_worker.h -- a service instance on the bus: joins the gateway's broker, takes one
 * request at a time, dispatches it through the service's command table, answers. */
#ifndef MDM_WORKER_H
#define MDM_WORKER_H

#include <signal.h>

#include "mdm_buf.h"
#include "mdm_err.h"
#include "mdm_msg.h"

/* What a handler fills in. status defaults to 200; body is sent as-is with
 * Content-Length by the gateway; headers become HTTP response headers. */
typedef struct {
	int status;
	json_t *headers; /* owned by the worker; add with mdm_reply_header() */
	mdm_buf_t body;
} mdm_reply_t;

/* A handler answers one request. `req->headers` holds what the gateway saw (method, path,
 * query, remote_addr, content_type, listener, authorization, client_cert ...); `ctx` is the
 * service's context. A handler always fills `rep` (an error is an answer too); a non-zero
 * return only tells the worker to log that the handler failed unexpectedly, and if the
 * handler left the reply empty the worker answers 500. */
typedef int (*mdm_handler_fn)(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);

typedef struct {
	const char *name; /* command name, as routed by the gateway */
	mdm_handler_fn fn;
} mdm_command_t;

void mdm_reply_header(mdm_reply_t *rep, const char *name, const char *value);
/* Sets status, Content-Type and a copy of body. */
void mdm_reply_set(mdm_reply_t *rep, int status, const char *content_type, const char *body,
		   size_t len);
/* JSON error reply: {"error":{"code":..., "message":...}} with the code's HTTP status
 * (503 adds Retry-After). */
void mdm_reply_error(mdm_reply_t *rep, const mdm_err_t *err);
/* Sets status and a JSON body (json reference stolen). */
void mdm_reply_json(mdm_reply_t *rep, int status, json_t *body);
/* Header accessor: string value of req->headers[name] or NULL. */
const char *mdm_req_header(const mdm_msg_t *req, const char *name);

typedef struct mdm_worker_t mdm_worker_t;

/* Connects (lazily, reconnecting by itself) to `endpoint` (e.g. tcp://127.0.0.1:5560) as
 * an instance of `service`. The table must end with a {NULL, NULL} entry and outlive the
 * worker. Returns NULL on failure. */
mdm_worker_t *mdm_worker_new(const char *endpoint, const char *service,
			     const mdm_command_t *table, void *ctx);
/* The same on a ZeroMQ context shared with other workers of the process (one worker per
 * thread: a worker's socket is only ever used by the thread that runs it; the context
 * must outlive the worker). `ident` (may be NULL: ZeroMQ picks one) is the routing
 * identity, "<process tag>#<n>": the broker counts the workers that share a process tag
 * as one instance (docs/bus.md). */
mdm_worker_t *mdm_worker_new_shared(void *zctx, const char *ident, const char *endpoint,
				    const char *service, const mdm_command_t *table, void *ctx);
void mdm_worker_destroy(mdm_worker_t **self);
/* Serves until *stop becomes non-zero (set it from a signal handler). Sends READY, then a
 * HEARTBEAT every heartbeat_ms while idle, and BYE on the way out. Returns 0. */
int mdm_worker_run(mdm_worker_t *self, volatile sig_atomic_t *stop, int heartbeat_ms);

#endif
