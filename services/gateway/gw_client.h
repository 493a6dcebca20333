/* gw_client.h -- a gateway thread's end of the bus: one DEALER socket per thread. */
#ifndef GW_CLIENT_H
#define GW_CLIENT_H

#include <jansson.h>

#include "mdm_msg.h"

typedef struct gw_client_t gw_client_t;

/* Creates the socket for one HTTP thread and connects it to the broker frontend. */
gw_client_t *gw_client_new(void *zctx);
void gw_client_destroy(gw_client_t **self);

/* Sends one request (headers reference stolen) and waits up to timeout_ms for the reply
 * with the same request id; stale replies to earlier, timed-out requests are discarded.
 * Returns the reply (caller owns it) or NULL on timeout or bus failure. */
mdm_msg_t *gw_client_call(gw_client_t *self, const char *service, const char *command,
			  json_t *headers, const char *body, size_t body_len, int timeout_ms);

#endif
