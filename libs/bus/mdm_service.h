/* mdm_service.h -- the common main() of every service process: flags, bus settings,
 * signals, start, serve, stop in reverse order. */
#ifndef MDM_SERVICE_H
#define MDM_SERVICE_H

#include "mdm_config.h"
#include "mdm_worker.h"

typedef struct {
	const char *name;               /* "pki": bus service name and log name */
	const mdm_command_t *commands;  /* {NULL, NULL}-terminated */
	const mdm_cfg_entry_t *settings; /* the service's own settings (may be NULL) */
	size_t n_settings;
	void *config;                   /* struct the settings fill */
	/* Builds the per-process context after the config is loaded; 0 or -1 (logged). */
	int (*start)(void *config, void **ctx);
	void (*stop)(void *ctx);
} mdm_service_t;

/* Runs the service until SIGINT/SIGTERM. Exit code for main(): 0 clean, 2 bad config,
 * 1 failed start. Bus settings: MDM_BUS_URL, MDM_BUS_HEARTBEAT_MS. */
int mdm_service_main(const mdm_service_t *svc, int argc, char **argv);

#endif
