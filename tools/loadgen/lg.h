/* lg.h -- mdm-loadgen: the benchmark load generator (issue 5). An epoll event loop drives
 * many keep-alive HTTPS (optionally mutual-TLS) connections to 127.0.0.1 without threads per
 * connection; a workload (enrollment, management session, admin API calls) runs "jobs" of one
 * or more requests on them, closed loop (as fast as it can, N connections) or open loop
 * (arrivals at a fixed rate, latency counted from the scheduled arrival, so a slow server
 * cannot hide its queueing). Every run is bounded: a job count and/or a duration. */
#ifndef LG_H
#define LG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mdm_buf.h"

/* ---- lg_util.c ------------------------------------------------------------------ */

double lg_now(void);                 /* CLOCK_MONOTONIC seconds */
void lg_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *lg_xmalloc(size_t n);
char *lg_xstrdup(const char *s);
/* Finds needle in the first len bytes of hay (hay need not be NUL-terminated). */
const char *lg_memstr(const char *hay, size_t len, const char *needle);
/* Runs fn(i, arg) for i in [0, n) on `threads` threads (work split by an atomic counter). */
void lg_parallel(long n, int threads, void (*fn)(long i, void *arg), void *arg);

/* Latency samples (milliseconds) and their summary. */
typedef struct {
	double *v;
	size_t n, cap;
} lg_lat_t;
void lg_lat_add(lg_lat_t *l, double ms);
void lg_lat_merge(lg_lat_t *into, const lg_lat_t *from);
void lg_lat_sort(lg_lat_t *l);
double lg_lat_pct(const lg_lat_t *l, double p); /* sorted first; p in [0, 100] */
double lg_lat_mean(const lg_lat_t *l);
/* Writes "percentile latency_ms" lines (a CDF for gnuplot) to path; sorted first. */
int lg_lat_write_cdf(lg_lat_t *l, const char *path);
void lg_lat_free(lg_lat_t *l);

/* ---- lg_net.c: connections and the event loop ------------------------------------- */

typedef struct lg_conn lg_conn_t;
typedef struct lg_loop lg_loop_t;

/* A workload. Jobs are numbered 0, 1, 2 ... across all threads. */
typedef struct {
	/* Prepares job `job` on connection c (c->job_state is the workload's per-connection
	 * scratch). Sets c->want_ident: the client certificate the connection must carry
	 * (-1: none); the loop reconnects when it differs from the current one. 0 ok, -1 the
	 * job cannot start (counted as failed). */
	int (*begin)(void *w, lg_conn_t *c, long job);
	/* Appends the next HTTP request (whole, with headers) of the running job to out. */
	int (*request)(void *w, lg_conn_t *c, mdm_buf_t *out);
	/* One response of the job: 0 the job continues (request is called again), 1 the job
	 * is done, -1 it failed (why printed for the first few failures). */
	int (*response)(void *w, lg_conn_t *c, int status, const char *body, size_t len);
	/* Puts the client certificate of identity `ident` on ssl (mTLS workloads). */
	int (*client_cert)(void *w, SSL *ssl, int ident);
	/* Optional: the identity connection g (0 .. threads*conns-1) carries; then every
	 * connection is opened before the clock starts (keep-alive runs with one device per
	 * connection). NULL: connections open on their first job, inside the measurement. */
	int (*conn_ident)(void *w, int g);
	void *w;
} lg_work_t;

typedef struct {
	const char *host;      /* 127.0.0.1 */
	int port;
	const char *cacert;    /* PEM the server certificate must chain to */
	int conns;             /* connections per thread */
	int threads;
	long jobs;             /* total jobs (0: unlimited, then seconds must be set) */
	double seconds;        /* duration bound (0: none; jobs must be set) */
	double rate;           /* > 0: open loop, jobs per second in total */
	int close_after_job;   /* 1: every job on a fresh TLS connection (full handshake) */
	int quickack;          /* 1: TCP_QUICKACK before every read (no delayed ACKs) */
	const lg_work_t *work;
	int quiet;
} lg_run_cfg_t;

typedef struct {
	long jobs_ok, jobs_failed, requests, http_errors, connects;
	double seconds;        /* from the first job's start to the last job's end */
	lg_lat_t lat;          /* per job, ms */
	double cpu_user, cpu_sys; /* the load generator's own CPU seconds during the run */
	/* CPU seconds of the processes named in $LG_WATCH ("name=pid,..."), of the whole
	 * machine (busy, all) during the measurement: a JSON object, "{}" without LG_WATCH */
	char cpu_json[2048];
} lg_result_t;

struct lg_conn {
	int index;             /* per thread */
	int thread;
	int global_index;      /* thread * conns + index */
	int want_ident, ident;
	void *job_state;       /* the workload's */
	long job;
	/* private to lg_net.c below */
	int fd;
	SSL *ssl;
	int state;
	double job_start;
	mdm_buf_t out;
	size_t out_off;
	char *in;
	size_t in_len, in_cap;
	int server_close;
	lg_loop_t *loop;
};

/* Runs the workload; fills res (caller frees res->lat). 0, or -1 if nothing could run. */
int lg_run(const lg_run_cfg_t *cfg, lg_result_t *res);
/* Prints the result as one JSON object on stdout, with a "name" and extra fields. */
void lg_result_print(const char *name, const lg_result_t *res, const char *extra_json);

/* ---- lg_pki.c: device keys, Windows-shaped CSRs, certificate extraction ----------------- */

EVP_PKEY **lg_keys_new(int n, int bits, int threads); /* RSA keys, generated in parallel */
int lg_keys_write(EVP_PKEY **keys, int n, const char *path);
EVP_PKEY **lg_keys_read(const char *path, int *n);
/* DER PKCS#10 like Windows builds it (subject CN "<GUID>!<DeviceID>\0", extension
 * 1.3.6.1.4.1.311.66.1.0 = DeviceID), SHA-256, base64 (caller frees). */
char *lg_csr_b64(EVP_PKEY *key, const char *device_id);
/* From an RSTRC body: the device certificate of the provisioning document, base64 DER
 * (caller frees), or NULL. */
char *lg_rstrc_cert_b64(const char *body, size_t len);

/* ---- commands ------------------------------------------------------------------------ */

int lg_cmd_issue(int argc, char **argv);
int lg_cmd_enroll(int argc, char **argv);
int lg_cmd_manage(int argc, char **argv);
/* https://127.0.0.1:PORT or https://localhost:PORT only; dies otherwise. */
int lg_parse_url(const char *url, int *port);

#endif
