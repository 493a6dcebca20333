/* mdm_msg.h -- one bus message (request or reply) and its multi-frame ZeroMQ encoding.
 * The wire format is specified in docs/bus.md; this file is its only implementation. */
#ifndef MDM_MSG_H
#define MDM_MSG_H

#include <jansson.h>
#include <stddef.h>

#define MDM_BUS_VERSION "MDM1"
#define MDM_BUS_MAX_FRAMES 16

/* Message kinds (second frame). */
#define MDM_BUS_READY "READY"
#define MDM_BUS_HEARTBEAT "HEARTBEAT"
#define MDM_BUS_REQUEST "REQUEST"
#define MDM_BUS_REPLY "REPLY"
#define MDM_BUS_BYE "BYE"

typedef struct {
	char kind[16];
	char service[32];
	char id[64];       /* request id, echoed in the reply */
	char command[64];  /* requests only */
	int status;        /* replies only: HTTP-like status */
	json_t *headers;   /* owned; never NULL after a successful recv/new */
	char *body;        /* owned, NUL-terminated one past body_len; may be NULL if empty */
	size_t body_len;
} mdm_msg_t;

/* Constructors return NULL on allocation failure; the caller owns the result. `headers`
 * is taken (reference stolen) and may be NULL for an empty object. */
mdm_msg_t *mdm_msg_new(const char *kind, const char *service, const char *id);
void mdm_msg_destroy(mdm_msg_t **self);
/* Replaces the body with a copy of data. 0 or -1 on allocation failure. */
int mdm_msg_set_body(mdm_msg_t *self, const void *data, size_t len);
void mdm_msg_set_headers(mdm_msg_t *self, json_t *headers);

/* Sends the message on a ZeroMQ socket, prefixed by `route` (an identity frame for ROUTER
 * sockets) when route != NULL. Frame layout by kind is in docs/bus.md. 0 or -1 (errno from
 * zmq; EHOSTUNREACH when a ROUTER_MANDATORY peer is gone). Never blocks longer than the
 * socket's send timeout. */
int mdm_msg_send(const mdm_msg_t *self, void *socket, const char *route, size_t route_len);

/* Receives one whole message. If `route` is non-NULL the first frame is taken as the
 * sender identity and copied there (at most *route_len bytes; *route_len is updated).
 * Returns NULL on a receive error or on a malformed message (wrong version, unknown kind,
 * wrong frame count, bad status, bad JSON): malformed messages are consumed and logged. */
mdm_msg_t *mdm_msg_recv(void *socket, char *route, size_t *route_len);

#endif
