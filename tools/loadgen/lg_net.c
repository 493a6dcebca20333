/* lg_net.c -- the load generator's engine: per thread one epoll loop over non-blocking
 * TLS connections (OpenSSL), HTTP/1.1 keep-alive with Content-Length framing, closed-loop or
 * open-loop job scheduling, per-job timeouts and a hard stop, so every run ends by itself. */
#include "lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#define LG_JOB_TIMEOUT 30.0   /* seconds for one request before the job fails */
#define LG_HARD_EXTRA 120.0   /* a run ends at most this long after its duration */
#define LG_MAX_RUN 3600.0     /* count-bounded runs end after this many seconds anyway */
#define LG_TIMELINE 4096      /* one-second buckets of completed jobs */

enum { C_DISC, C_HANDSHAKE, C_READY, C_SENDING, C_RECEIVING };

typedef struct {
	long job;
	double sched;
} s_arrival_t;

struct lg_loop {
	const lg_run_cfg_t *cfg;
	int thread;
	int epfd;
	SSL_CTX *ctx;
	lg_conn_t *conns;
	int nconns;
	double t0, deadline, hard_stop;
	/* open loop */
	double rate, next_arrival;
	long n_arrivals;
	s_arrival_t *pending;
	size_t p_head, p_len, p_cap;
	int exhausted; /* no more jobs will start */
	int active;
	double last_end;
	long timeline[LG_TIMELINE];
	int failures_shown;
	lg_result_t res;
};

static atomic_long s_next_job;
static pthread_barrier_t s_barrier;
static double s_t0;

/* ---- helpers ------------------------------------------------------------------------ */

static void s_ssl_errors(const char *what, lg_loop_t *l)
{
	if (l->failures_shown++ < 5) {
		unsigned long e = ERR_get_error();
		char buf[256];
		ERR_error_string_n(e, buf, sizeof buf);
		fprintf(stderr, "mdm-loadgen: %s: %s (errno %d)\n", what, e ? buf : "connection closed",
			errno);
	}
	ERR_clear_error();
}

static void s_epoll(lg_conn_t *c, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	epoll_ctl(c->loop->epfd, op, c->fd, &ev);
}

static void s_close(lg_conn_t *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (c->ssl) {
			SSL_set_quiet_shutdown(c->ssl, 0);
			SSL_shutdown(c->ssl); /* best effort close_notify, never waited for */
		}
		close(c->fd);
	}
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	c->fd = -1;
	c->state = C_DISC;
	c->in_len = 0;
	c->server_close = 0;
	c->ident = -1;
	ERR_clear_error();
}

static int s_connect(lg_conn_t *c)
{
	lg_loop_t *l = c->loop;
	const lg_run_cfg_t *cfg = l->cfg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
	if (inet_pton(AF_INET, cfg->host, &sa.sin_addr) != 1)
		lg_die("bad host %s (an IPv4 address, e.g. 127.0.0.1)", cfg->host);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		lg_die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (cfg->quickack)
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
		if (l->failures_shown++ < 5)
			fprintf(stderr, "mdm-loadgen: connect %s:%d: %s\n", cfg->host, cfg->port,
				strerror(errno));
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->ssl = SSL_new(l->ctx);
	if (c->ssl == NULL)
		lg_die("SSL_new failed");
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	SSL_set1_host(c->ssl, "localhost");
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (c->want_ident >= 0 && cfg->work->client_cert &&
	    cfg->work->client_cert(cfg->work->w, c->ssl, c->want_ident) != 0)
		lg_die("cannot set the client certificate %d", c->want_ident);
	c->ident = c->want_ident;
	c->state = C_HANDSHAKE;
	c->in_len = 0;
	c->server_close = 0;
	l->res.connects++;
	s_epoll(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
	return 0;
}

/* ---- jobs ----------------------------------------------------------------------------- */

static void s_next(lg_conn_t *c);

static void s_job_end(lg_conn_t *c, int ok)
{
	lg_loop_t *l = c->loop;
	double now = lg_now();
	if (ok) {
		l->res.jobs_ok++;
		lg_lat_add(&l->res.lat, (now - c->job_start) * 1000.0);
		long b = (long)(now - l->t0);
		if (b >= 0 && b < LG_TIMELINE)
			l->timeline[b]++;
	} else {
		l->res.jobs_failed++;
	}
	l->active--;
	l->last_end = now;
	c->job = -1;
	if (!ok || c->server_close || l->cfg->close_after_job)
		s_close(c);
	else
		c->state = C_READY;
}

static void s_try_write(lg_conn_t *c);

static void s_send(lg_conn_t *c)
{
	const lg_work_t *w = c->loop->cfg->work;
	c->out.len = 0;
	if (w->request(w->w, c, &c->out) != 0 || c->out.failed) {
		s_job_end(c, 0);
		return;
	}
	c->out_off = 0;
	c->in_len = 0;
	c->state = C_SENDING;
	s_try_write(c);
}

static void s_fail(lg_conn_t *c, const char *what)
{
	s_ssl_errors(what, c->loop);
	if (c->job >= 0)
		s_job_end(c, 0);
	s_close(c);
}

static void s_handshake(lg_conn_t *c)
{
	ERR_clear_error();
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		if (c->job >= 0)
			s_send(c);
		else {
			c->state = C_READY;
			s_epoll(c, EPOLLIN, EPOLL_CTL_MOD);
		}
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		s_epoll(c, EPOLLIN, EPOLL_CTL_MOD);
	else if (e == SSL_ERROR_WANT_WRITE)
		s_epoll(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
	else
		s_fail(c, "TLS handshake");
}

static void s_try_write(lg_conn_t *c)
{
	while (c->out_off < c->out.len) {
		ERR_clear_error();
		int n = SSL_write(c->ssl, c->out.data + c->out_off, (int)(c->out.len - c->out_off));
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE) {
			s_epoll(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		if (e == SSL_ERROR_WANT_READ) {
			s_epoll(c, EPOLLIN, EPOLL_CTL_MOD);
			return;
		}
		s_fail(c, "TLS write");
		return;
	}
	c->state = C_RECEIVING;
	s_epoll(c, EPOLLIN, EPOLL_CTL_MOD);
}

/* A whole response in c->in? Returns header length and fills status/body length, or 0. */
static size_t s_parse(lg_conn_t *c, int *status, size_t *clen)
{
	const char *end = lg_memstr(c->in, c->in_len, "\r\n\r\n");
	if (end == NULL)
		return 0;
	size_t hlen = (size_t)(end - c->in) + 4;
	*status = 0;
	if (c->in_len < 12 || strncmp(c->in, "HTTP/1.", 7) != 0)
		return (size_t)-1;
	*status = atoi(c->in + 9);
	*clen = 0;
	const char *p = c->in;
	while (p < end) {
		const char *eol = lg_memstr(p, (size_t)(end - p) + 2, "\r\n");
		if (eol == NULL)
			break;
		size_t n = (size_t)(eol - p);
		if (n > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
			*clen = (size_t)strtoul(p + 15, NULL, 10);
		else if (n > 11 && strncasecmp(p, "Connection:", 11) == 0 &&
			 lg_memstr(p, n, "close"))
			c->server_close = 1;
		p = eol + 2;
	}
	return hlen;
}

static void s_try_read(lg_conn_t *c)
{
	lg_loop_t *l = c->loop;
	for (;;) {
		if (c->in_cap - c->in_len < 16384) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
			char *p = realloc(c->in, cap + 1);
			if (p == NULL)
				lg_die("out of memory");
			c->in = p;
			c->in_cap = cap;
		}
		if (l->cfg->quickack) {
			/* the kernel leaves quick-ACK mode by itself: set it before every read */
			int one = 1;
			setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
		}
		ERR_clear_error();
		int n = SSL_read(c->ssl, c->in + c->in_len, (int)(c->in_cap - c->in_len));
		if (n > 0) {
			c->in_len += (size_t)n;
			if (c->state != C_RECEIVING) {
				c->in_len = 0; /* nothing expected: drop it */
				continue;
			}
			int status;
			size_t clen = 0;
			size_t hlen = s_parse(c, &status, &clen);
			if (hlen == (size_t)-1) {
				s_fail(c, "not an HTTP response");
				return;
			}
			if (hlen == 0 || c->in_len < hlen + clen)
				continue;
			l->res.requests++;
			if (status < 200 || status > 299)
				l->res.http_errors++;
			c->in[hlen + clen] = '\0';
			const lg_work_t *w = l->cfg->work;
			int r = w->response(w->w, c, status, c->in + hlen, clen);
			c->in_len = 0;
			if (r == 0) {
				if (c->server_close) {
					s_close(c);
					if (s_connect(c) != 0)
						s_job_end(c, 0);
				} else {
					s_send(c);
				}
			} else {
				s_job_end(c, r == 1);
				s_next(c);
			}
			return;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return;
		if (e == SSL_ERROR_WANT_WRITE) {
			s_epoll(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		/* closed by the server: fine when idle (keep-alive timeout) */
		if (c->state == C_READY) {
			s_close(c);
			return;
		}
		s_fail(c, "TLS read (server closed the connection?)");
		return;
	}
}

/* ---- scheduling -------------------------------------------------------------------------- */

static long s_take_job(lg_loop_t *l)
{
	const lg_run_cfg_t *cfg = l->cfg;
	if (l->exhausted)
		return -1;
	if (cfg->seconds > 0 && lg_now() >= l->deadline) {
		l->exhausted = 1;
		return -1;
	}
	long j = atomic_fetch_add(&s_next_job, 1);
	if (cfg->jobs > 0 && j >= cfg->jobs) {
		l->exhausted = 1;
		return -1;
	}
	return j;
}

static void s_start_job(lg_conn_t *c, long job, double start)
{
	lg_loop_t *l = c->loop;
	const lg_work_t *w = l->cfg->work;
	c->job = job;
	c->job_start = start;
	l->active++;
	c->want_ident = -1;
	if (w->begin(w->w, c, job) != 0) {
		s_job_end(c, 0);
		return;
	}
	if (c->fd >= 0 && c->ident != c->want_ident)
		s_close(c);
	if (c->fd < 0) {
		if (s_connect(c) != 0)
			s_job_end(c, 0);
		return;
	}
	s_send(c);
}

/* Gives an idle connection its next job, if there is one. */
static void s_next(lg_conn_t *c)
{
	lg_loop_t *l = c->loop;
	if (c->job >= 0 || (c->state != C_READY && c->state != C_DISC))
		return;
	if (l->rate > 0) {
		if (l->p_len == 0)
			return;
		s_arrival_t a = l->pending[l->p_head];
		l->p_head = (l->p_head + 1) % l->p_cap;
		l->p_len--;
		s_start_job(c, a.job, a.sched);
		return;
	}
	long j = s_take_job(l);
	if (j >= 0)
		s_start_job(c, j, lg_now());
}

static void s_arrivals(lg_loop_t *l, double now)
{
	while (!l->exhausted && l->next_arrival <= now) {
		long j = s_take_job(l);
		if (j < 0)
			break;
		if (l->p_len == l->p_cap) {
			size_t cap = l->p_cap ? l->p_cap * 2 : 1024;
			s_arrival_t *p = lg_xmalloc(cap * sizeof *p);
			for (size_t i = 0; i < l->p_len; i++)
				p[i] = l->pending[(l->p_head + i) % l->p_cap];
			free(l->pending);
			l->pending = p;
			l->p_head = 0;
			l->p_cap = cap;
		}
		l->pending[(l->p_head + l->p_len) % l->p_cap] = (s_arrival_t){j, l->next_arrival};
		l->p_len++;
		l->n_arrivals++;
		l->next_arrival = l->t0 + (double)l->n_arrivals / l->rate;
	}
}

static void s_event(lg_conn_t *c, uint32_t ev)
{
	switch (c->state) {
	case C_HANDSHAKE:
		s_handshake(c);
		break;
	case C_SENDING:
		if (ev & (EPOLLOUT | EPOLLIN | EPOLLERR | EPOLLHUP))
			s_try_write(c);
		break;
	case C_RECEIVING:
	case C_READY:
		s_try_read(c);
		break;
	default:
		break;
	}
}

static void s_check_timeouts(lg_loop_t *l, double now)
{
	for (int i = 0; i < l->nconns; i++) {
		lg_conn_t *c = &l->conns[i];
		if (c->job >= 0 && now - c->job_start > LG_JOB_TIMEOUT) {
			if (l->failures_shown++ < 5)
				fprintf(stderr, "mdm-loadgen: job %ld timed out\n", c->job);
			s_job_end(c, 0);
			s_close(c);
		}
	}
}

static void s_loop_run(lg_loop_t *l)
{
	const lg_run_cfg_t *cfg = l->cfg;
	struct epoll_event evs[256];
	double last_scan = lg_now();
	for (;;) {
		double now = lg_now();
		if (now >= l->hard_stop) {
			fprintf(stderr, "mdm-loadgen: hard stop after %.0f s (%d jobs still running)\n",
				now - l->t0, l->active);
			for (int i = 0; i < l->nconns; i++)
				if (l->conns[i].job >= 0)
					s_job_end(&l->conns[i], 0);
			break;
		}
		if (l->rate > 0)
			s_arrivals(l, now);
		for (int i = 0; i < l->nconns; i++)
			s_next(&l->conns[i]);
		if (l->exhausted && l->active == 0 && l->p_len == 0)
			break;
		/* sleep until the next arrival (nanosecond timeout: a millisecond one would spin
		 * at 0 ms and take CPU from the server on the same cores) or 100 ms */
		double dt = 0.1;
		if (l->rate > 0 && !l->exhausted) {
			dt = l->next_arrival - lg_now();
			if (dt < 0)
				dt = 0;
			if (dt > 0.1)
				dt = 0.1;
		}
		struct timespec ts = {(time_t)dt, (long)((dt - (double)(time_t)dt) * 1e9)};
		int n = epoll_pwait2(l->epfd, evs, 256, &ts, NULL);
		for (int i = 0; i < n; i++)
			s_event(evs[i].data.ptr, evs[i].events);
		now = lg_now();
		if (now - last_scan > 0.5) {
			last_scan = now;
			s_check_timeouts(l, now);
		}
		(void)cfg;
	}
}

/* Connects every connection before the clock starts, when the workload says which
 * identity connection g carries (the keep-alive management run: one device per connection). */
static void s_preconnect(lg_loop_t *l, int (*ident)(void *, int), void *w)
{
	struct epoll_event evs[256];
	for (int i = 0; i < l->nconns; i++) {
		lg_conn_t *c = &l->conns[i];
		c->want_ident = ident(w, c->global_index);
		if (c->want_ident < -1)
			return;
		s_connect(c);
	}
	double stop = lg_now() + 20;
	for (;;) {
		int busy = 0;
		for (int i = 0; i < l->nconns; i++)
			busy += l->conns[i].state == C_HANDSHAKE;
		if (!busy || lg_now() > stop)
			break;
		int n = epoll_wait(l->epfd, evs, 256, 100);
		for (int i = 0; i < n; i++)
			s_event(evs[i].data.ptr, evs[i].events);
	}
}

typedef struct {
	lg_loop_t loop;
	pthread_t tid;
} s_thread_t;

static void *s_thread_main(void *p)
{
	s_thread_t *t = p;
	lg_loop_t *l = &t->loop;
	const lg_work_t *w = l->cfg->work;
	if (w->conn_ident)
		s_preconnect(l, w->conn_ident, w->w);
	pthread_barrier_wait(&s_barrier); /* all connected */
	pthread_barrier_wait(&s_barrier); /* s_t0 set */
	l->t0 = s_t0;
	const lg_run_cfg_t *cfg = l->cfg;
	l->deadline = cfg->seconds > 0 ? l->t0 + cfg->seconds : l->t0 + LG_MAX_RUN;
	l->hard_stop = (cfg->seconds > 0 ? l->deadline + LG_HARD_EXTRA : l->t0 + LG_MAX_RUN);
	l->next_arrival = l->t0;
	l->last_end = l->t0;
	s_loop_run(l);
	return NULL;
}

/* ---- CPU accounting of the stack's processes ($LG_WATCH) ------------------------------- */

#define LG_MAX_WATCH 32
typedef struct {
	char name[32];
	int pid;
	long ticks0;
} s_watch_t;
static s_watch_t s_watch[LG_MAX_WATCH];
static int s_n_watch;
static long s_busy0, s_total0;

static long s_pid_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* after the command name */
	if (p == NULL)
		return -1;
	long utime = 0, stime = 0;
	/* fields 3.. after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) != 2)
		return -1;
	return utime + stime;
}

static void s_machine_ticks(long *busy, long *total)
{
	long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	*busy = *total = 0;
	if (f == NULL)
		return;
	if (fscanf(f, "cpu %ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6], &v[7]) == 8) {
		*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		*total = *busy + v[3] + v[4];
	}
	fclose(f);
}

static void s_watch_start(void)
{
	s_n_watch = 0;
	const char *env = getenv("LG_WATCH");
	char buf[2048];
	snprintf(buf, sizeof buf, "%s", env ? env : "");
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && s_n_watch < LG_MAX_WATCH;
	     t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		s_watch_t *w = &s_watch[s_n_watch];
		snprintf(w->name, sizeof w->name, "%s", t);
		w->pid = atoi(eq + 1);
		w->ticks0 = s_pid_ticks(w->pid);
		if (w->ticks0 >= 0)
			s_n_watch++;
	}
	s_machine_ticks(&s_busy0, &s_total0);
}

static void s_watch_end(char *out, size_t cap)
{
	double tck = (double)sysconf(_SC_CLK_TCK);
	long busy, total;
	s_machine_ticks(&busy, &total);
	size_t n = (size_t)snprintf(out, cap, "{\"_machine_busy\":%.2f,\"_machine_all\":%.2f",
				    (double)(busy - s_busy0) / tck, (double)(total - s_total0) / tck);
	for (int i = 0; i < s_n_watch && n < cap; i++) {
		long t = s_pid_ticks(s_watch[i].pid);
		n += (size_t)snprintf(out + n, cap - n, ",\"%s\":%.2f", s_watch[i].name,
				      t >= 0 ? (double)(t - s_watch[i].ticks0) / tck : -1.0);
	}
	if (n < cap)
		snprintf(out + n, cap - n, "}");
}

static long s_timeline_merged[LG_TIMELINE];
static int s_timeline_len;

int lg_run(const lg_run_cfg_t *cfg, lg_result_t *res)
{
	memset(res, 0, sizeof *res);
	memset(s_timeline_merged, 0, sizeof s_timeline_merged);
	if (cfg->jobs <= 0 && cfg->seconds <= 0)
		lg_die("a run needs a job count or a duration");
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		lg_die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, cfg->cacert, NULL) != 1)
		lg_die("cannot read CA file %s", cfg->cacert);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

	int threads = cfg->threads > 0 ? cfg->threads : 1;
	s_thread_t *th = lg_xmalloc((size_t)threads * sizeof *th);
	atomic_store(&s_next_job, 0);
	pthread_barrier_init(&s_barrier, NULL, (unsigned)threads + 1);
	for (int t = 0; t < threads; t++) {
		lg_loop_t *l = &th[t].loop;
		l->cfg = cfg;
		l->thread = t;
		l->ctx = ctx;
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
		l->nconns = cfg->conns > 0 ? cfg->conns : 1;
		l->conns = lg_xmalloc((size_t)l->nconns * sizeof *l->conns);
		l->rate = cfg->rate > 0 ? cfg->rate / threads : 0;
		for (int i = 0; i < l->nconns; i++) {
			lg_conn_t *c = &l->conns[i];
			c->index = i;
			c->thread = t;
			c->global_index = t * l->nconns + i;
			c->fd = -1;
			c->ident = c->want_ident = -1;
			c->job = -1;
			c->loop = l;
		}
		if (pthread_create(&th[t].tid, NULL, s_thread_main, &th[t]) != 0)
			lg_die("pthread_create failed");
	}
	struct rusage ru0, ru1;
	pthread_barrier_wait(&s_barrier); /* every thread connected (if it preconnects) */
	s_watch_start();
	s_t0 = lg_now();
	getrusage(RUSAGE_SELF, &ru0);
	pthread_barrier_wait(&s_barrier);
	double end = s_t0;
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t].tid, NULL);
		lg_loop_t *l = &th[t].loop;
		res->jobs_ok += l->res.jobs_ok;
		res->jobs_failed += l->res.jobs_failed;
		res->requests += l->res.requests;
		res->http_errors += l->res.http_errors;
		res->connects += l->res.connects;
		lg_lat_merge(&res->lat, &l->res.lat);
		lg_lat_free(&l->res.lat);
		if (l->last_end > end)
			end = l->last_end;
		for (int i = 0; i < LG_TIMELINE; i++)
			s_timeline_merged[i] += l->timeline[i];
	}
	getrusage(RUSAGE_SELF, &ru1);
	s_watch_end(res->cpu_json, sizeof res->cpu_json);
	res->seconds = end - s_t0;
	res->cpu_user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
			(double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
	res->cpu_sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		       (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	s_timeline_len = (int)(res->seconds) + 1;
	if (s_timeline_len > LG_TIMELINE)
		s_timeline_len = LG_TIMELINE;
	for (int t = 0; t < threads; t++) {
		lg_loop_t *l = &th[t].loop;
		for (int i = 0; i < l->nconns; i++) {
			s_close(&l->conns[i]);
			free(l->conns[i].in);
			mdm_buf_free(&l->conns[i].out);
		}
		free(l->conns);
		free(l->pending);
		close(l->epfd);
	}
	pthread_barrier_destroy(&s_barrier);
	free(th);
	SSL_CTX_free(ctx);
	return 0;
}

void lg_result_print(const char *name, const lg_result_t *res, const char *extra_json)
{
	lg_lat_t lat = res->lat;
	lg_lat_sort(&lat);
	double secs = res->seconds > 0 ? res->seconds : 1e-9;
	printf("{\"name\":\"%s\",\"jobs_ok\":%ld,\"jobs_failed\":%ld,\"requests\":%ld,"
	       "\"http_errors\":%ld,\"connects\":%ld,\"seconds\":%.3f,\"jobs_per_s\":%.1f,"
	       "\"requests_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f,\"loadgen_cpu_s\":%.2f,"
	       "\"loadgen_cpu_share\":%.3f,\"cpu_s\":%s,\"timeline\":[",
	       name, res->jobs_ok, res->jobs_failed, res->requests, res->http_errors, res->connects,
	       res->seconds, (double)res->jobs_ok / secs, (double)res->requests / secs,
	       lg_lat_pct(&lat, 50), lg_lat_pct(&lat, 90), lg_lat_pct(&lat, 99),
	       lg_lat_pct(&lat, 99.9), lg_lat_pct(&lat, 100), lg_lat_mean(&lat),
	       res->cpu_user + res->cpu_sys, (res->cpu_user + res->cpu_sys) / secs,
	       res->cpu_json[0] ? res->cpu_json : "{}");
	for (int i = 0; i < s_timeline_len; i++)
		printf("%s%ld", i ? "," : "", s_timeline_merged[i]);
	printf("]%s%s}\n", extra_json && *extra_json ? "," : "", extra_json ? extra_json : "");
	fflush(stdout);
}
