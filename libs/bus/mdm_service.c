/* mdm_service.c -- shared service bootstrap (see mdm_service.h).
 *
 * A process runs MDM_WORKERS workers, one thread each, every one with its own bus socket
 * and its own service context (its own Redis connection, its own parsed CA...): nothing
 * mutable is shared between them, so handlers need no locks. To the broker each worker is
 * a separate idle/busy slot; a process is one instance (docs/bus.md). Several workers hide
 * the waits of one request (Redis round trips, the bus hop back to the broker) behind the
 * work of another, which one thread per process cannot do. */
#include "mdm_service.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "mdm_log.h"

#define S_MAX_WORKERS 64

typedef struct {
	char bus_url[256];
	long heartbeat_ms;
	long workers;
} s_bus_config_t;

static const mdm_cfg_entry_t s_bus_settings[] = {
	MDM_CFG_S("MDM_BUS_URL", "tcp://127.0.0.1:5560", s_bus_config_t, bus_url,
		  "the gateway's bus endpoint"),
	MDM_CFG_I("MDM_BUS_HEARTBEAT_MS", "1000", 50, 60000, s_bus_config_t, heartbeat_ms,
		  "heartbeat interval while idle"),
	MDM_CFG_I("MDM_WORKERS", "4", 1, S_MAX_WORKERS, s_bus_config_t, workers,
		  "requests this process serves at the same time (one thread each)"),
};

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

typedef struct {
	mdm_worker_t *worker;
	void *ctx;
	int heartbeat_ms;
	pthread_t thread;
	int started;
} s_slot_t;

static void *s_run(void *arg)
{
	s_slot_t *slot = arg;
	mdm_worker_run(slot->worker, &s_stop, slot->heartbeat_ms);
	return NULL;
}

/* "<host>/<pid>/<nonce>": unique per process even when every container's pid is 1 and a
 * restarted container keeps its host name. */
static void s_process_tag(char *out, size_t cap)
{
	char host[64] = "";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned long nonce = (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20) ^
			      ((unsigned long)getpid() << 8);
	snprintf(out, cap, "%.60s/%ld/%08lx", host, (long)getpid(), nonce & 0xffffffffUL);
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

	int n = (int)bus.workers, rc = 1;
	s_slot_t slots[S_MAX_WORKERS];
	memset(slots, 0, sizeof slots);
	void *zctx = zmq_ctx_new();
	check_mem(zctx);
	char tag[128], ident[160];
	s_process_tag(tag, sizeof tag);
	/* contexts are built one after the other on this thread (the first may create the
	 * data directory's CA; the others then load it) */
	for (int i = 0; i < n; i++) {
		if (svc->start && svc->start(svc->config, &slots[i].ctx) != 0)
			goto error;
		snprintf(ident, sizeof ident, "%s#%d", tag, i);
		slots[i].worker = mdm_worker_new_shared(zctx, ident, bus.bus_url, svc->name,
							svc->commands, slots[i].ctx);
		if (slots[i].worker == NULL)
			goto error;
		slots[i].heartbeat_ms = (int)bus.heartbeat_ms;
	}
	/* signals go to this thread only: workers poll with a timeout and see s_stop */
	sigset_t block, old;
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (int i = 1; i < n; i++)
		slots[i].started = pthread_create(&slots[i].thread, NULL, s_run, &slots[i]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_info("serving on %s with %d worker%s", bus.bus_url, n, n == 1 ? "" : "s");
	mdm_worker_run(slots[0].worker, &s_stop, (int)bus.heartbeat_ms);
	s_stop = 1;
	log_info("stopping");
	rc = 0;
error:
	for (int i = 0; i < n; i++)
		if (slots[i].started)
			pthread_join(slots[i].thread, NULL);
	for (int i = 0; i < n; i++) {
		mdm_worker_destroy(&slots[i].worker);
		if (svc->stop && slots[i].ctx)
			svc->stop(slots[i].ctx);
	}
	if (zctx)
		zmq_ctx_term(zctx);
	return rc;
}
