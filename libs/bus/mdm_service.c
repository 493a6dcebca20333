/* mdm_service.c -- shared service bootstrap (see mdm_service.h). */
#include "mdm_service.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mdm_log.h"

typedef struct {
	char bus_url[256];
	long heartbeat_ms;
} s_bus_config_t;

static const mdm_cfg_entry_t s_bus_settings[] = {
	MDM_CFG_S("MDM_BUS_URL", "tcp://127.0.0.1:5560", s_bus_config_t, bus_url,
		  "the gateway's bus endpoint"),
	MDM_CFG_I("MDM_BUS_HEARTBEAT_MS", "1000", 50, 60000, s_bus_config_t, heartbeat_ms,
		  "heartbeat interval while idle"),
};

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

int mdm_service_main(const mdm_service_t *svc, int argc, char **argv)
{
	mdm_log_init(svc->name, MDM_LOG_INFO);
	size_t nb = sizeof s_bus_settings / sizeof s_bus_settings[0];
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: mdm-%s   (configured by environment / $MDM_CONFIG)\n",
			svc->name);
		mdm_config_usage(s_bus_settings, nb);
		if (svc->settings)
			mdm_config_usage(svc->settings, svc->n_settings);
		return 0;
	}
	s_bus_config_t bus;
	mdm_err_t err = {0};
	if (mdm_config_load(s_bus_settings, nb, &bus, &err) != 0 ||
	    (svc->settings && mdm_config_load(svc->settings, svc->n_settings, svc->config, &err))) {
		log_err("config: %s", err.text);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	void *ctx = NULL;
	if (svc->start && svc->start(svc->config, &ctx) != 0)
		return 1;
	mdm_worker_t *worker = mdm_worker_new(bus.bus_url, svc->name, svc->commands, ctx);
	if (worker == NULL) {
		if (svc->stop)
			svc->stop(ctx);
		return 1;
	}
	log_info("serving on %s", bus.bus_url);
	mdm_worker_run(worker, &s_stop, (int)bus.heartbeat_ms);
	log_info("stopping");
	mdm_worker_destroy(&worker);
	if (svc->stop)
		svc->stop(ctx);
	return 0;
}
