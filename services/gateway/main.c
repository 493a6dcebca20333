/* main.c -- the gateway: HTTPS (enrollment, admin API) and mTLS (management) listeners
 * that forward every request over the ZeroMQ bus to the service owning its route. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "gw_broker.h"
#include "gw_http.h"
#include "mdm_config.h"
#include "mdm_log.h"
#include "mdm_soap.h"

static const mdm_cfg_entry_t s_settings[] = {
	MDM_CFG_I("MDM_HTTPS_PORT", "8443", 1, 65535, gw_config_t, https_port,
		  "enrollment + admin API HTTPS port (server authentication only)"),
	MDM_CFG_I("MDM_MGMT_PORT", "8444", 1, 65535, gw_config_t, mgmt_port,
		  "management port (mutual TLS with our device certificates)"),
	MDM_CFG_S("MDM_LISTEN_ADDR", "0.0.0.0", gw_config_t, listen_addr, "address to listen on"),
	MDM_CFG_S("MDM_DATA_DIR", "./var", gw_config_t, data_dir, "data directory"),
	MDM_CFG_S("MDM_TLS_CERT", "", gw_config_t, tls_cert,
		  "server certificate + key PEM (default $MDM_DATA_DIR/tls/server.pem)"),
	MDM_CFG_S("MDM_CA_CERT", "", gw_config_t, ca_file,
		  "device CA certificate (default $MDM_DATA_DIR/ca/ca.pem)"),
	MDM_CFG_S("MDM_BUS_BIND", "tcp://127.0.0.1:5560", gw_config_t, bus_bind,
		  "where service instances connect"),
	MDM_CFG_I("MDM_BUS_TIMEOUT_MS", "10000", 100, 600000, gw_config_t, bus_timeout_ms,
		  "how long a request may wait for its service before 503"),
	MDM_CFG_I("MDM_BUS_HEARTBEAT_MS", "1000", 50, 60000, gw_config_t, heartbeat_ms,
		  "instance heartbeat interval (3 missed = gone)"),
	MDM_CFG_I("MDM_MAX_BODY", "1048576", 1024, 67108864, gw_config_t, max_body,
		  "largest request body accepted (413 above)"),
	MDM_CFG_I("MDM_HTTP_THREADS", "32", 2, 1024, gw_config_t, threads,
		  "HTTP threads per listener"),
	MDM_CFG_S("MDM_ADMIN_DIR", "./admin", gw_config_t, admin_dir,
		  "static files of the web console (served at /admin/)"),
};

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

int main(int argc, char **argv)
{
	mdm_log_init("gateway", MDM_LOG_INFO);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: mdm-gateway   (configured by environment / $MDM_CONFIG)\n");
		mdm_config_usage(s_settings, sizeof s_settings / sizeof s_settings[0]);
		return 0;
	}
	static gw_config_t cfg;
	mdm_err_t err = {0};
	if (mdm_config_load(s_settings, sizeof s_settings / sizeof s_settings[0], &cfg, &err)) {
		log_err("config: %s", err.text);
		return 2;
	}
	if (!cfg.tls_cert[0])
		snprintf(cfg.tls_cert, sizeof cfg.tls_cert, "%.480s/tls/server.pem", cfg.data_dir);
	if (!cfg.ca_file[0])
		snprintf(cfg.ca_file, sizeof cfg.ca_file, "%.480s/ca/ca.pem", cfg.data_dir);
	if (access(cfg.tls_cert, R_OK) || access(cfg.ca_file, R_OK)) {
		log_err("missing %s or %s (make run creates them)", cfg.tls_cert, cfg.ca_file);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mdm_soap_init();

	int rc = 1;
	void *zctx = zmq_ctx_new();
	gw_broker_t *broker = gw_broker_start(zctx, cfg.bus_bind, (int)cfg.bus_timeout_ms,
					      (int)cfg.heartbeat_ms);
	gw_http_t *http = broker ? gw_http_start(&cfg, zctx, broker) : NULL;
	if (http) {
		log_info("listening: https://%s:%ld (enrollment, admin), https://%s:%ld (management, "
			 "mTLS); bus %s",
			 cfg.listen_addr, cfg.https_port, cfg.listen_addr, cfg.mgmt_port,
			 cfg.bus_bind);
		while (!s_stop)
			usleep(100000);
		log_info("stopping");
		rc = 0;
	}
	gw_http_stop(&http);
	gw_broker_stop(&broker);
	zmq_ctx_term(zctx);
	mdm_soap_cleanup();
	return rc;
}
