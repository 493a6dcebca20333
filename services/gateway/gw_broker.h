/* gw_broker.h -- the load-balancing broker between gateway threads and service instances. */
#ifndef GW_BROKER_H
#define GW_BROKER_H

#define GW_FRONTEND "inproc://gw-frontend"

typedef struct gw_broker_t gw_broker_t;

/* Binds the backend (where service instances connect, e.g. tcp://127.0.0.1:5560) and the
 * inproc frontend (where gateway threads connect) and starts the broker thread. Requests
 * wait at most queue_timeout_ms for a free instance. Returns NULL on failure (port taken). */
gw_broker_t *gw_broker_start(void *zctx, const char *backend, int queue_timeout_ms,
			     int heartbeat_ms);
/* Stops the thread and closes its sockets. */
void gw_broker_stop(gw_broker_t **self);
/* Number of live instances (processes) of a service (for /healthz); thread-safe snapshot.
 * Workers of one process share the identity prefix before '#' (docs/bus.md). */
int gw_broker_instances(gw_broker_t *self, const char *service);
/* Number of live workers of a service (each takes one request at a time). */
int gw_broker_workers(gw_broker_t *self, const char *service);

#endif
