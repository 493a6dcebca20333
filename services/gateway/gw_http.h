/* gw_http.h -- the civetweb side of the gateway: two HTTPS listeners feeding the bus. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "gw_broker.h"

typedef struct {
	long https_port;
	long mgmt_port;
	char listen_addr[64];
	char data_dir[512];
	char tls_cert[512];  /* PEM with the server certificate chain and key */
	char ca_file[512];   /* our device CA: verifies management client certificates */
	char bus_bind[256];
	long bus_timeout_ms;
	long heartbeat_ms;
	long max_body;
	long threads;
	char admin_dir[512]; /* static files of the web console, served at /admin/ */
} gw_config_t;

typedef struct gw_http_t gw_http_t;

/* Starts both listeners. Returns NULL (with the reason logged) if a port is taken or the
 * certificates cannot be loaded. */
gw_http_t *gw_http_start(const gw_config_t *cfg, void *zctx, gw_broker_t *broker);
void gw_http_stop(gw_http_t **self);

#endif
