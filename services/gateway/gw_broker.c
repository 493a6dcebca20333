/* gw_broker.c -- ready-queue broker: requests go to the least recently used idle instance
 * of their service; with none idle they wait (bounded) until one frees up or they expire.
 *
 * It forwards raw frames (no JSON decoding on this hot path). Replies are routed back to
 * the gateway thread named in the request id ("<thread identity>:<seq>"), so the broker
 * keeps no table of requests in flight. See docs/bus.md. */
#include "gw_broker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "mdm_log.h"
#include "mdm_msg.h"

#define GW_MAX_WORKERS 1024
#define GW_MAX_QUEUED 4096
#define GW_MAX_FRAMES 12

typedef struct {
	unsigned char ident[256];
	size_t ident_len;
	char service[32];
	int busy;
	int64_t last_seen; /* ms, any message from it */
	int64_t busy_since;
	uint64_t idle_seq; /* LRU order among idle instances */
} gw_worker_t;

typedef struct {
	zmq_msg_t frames[GW_MAX_FRAMES]; /* version, kind, service, id, command, hdr, body */
	int n;
	char service[32];
	int64_t enqueued;
} gw_queued_t;

struct gw_broker_t {
	void *front, *back, *pipe_recv, *pipe_send;
	pthread_t thread;
	pthread_mutex_t lock; /* guards workers[] for gw_broker_instances */
	gw_worker_t workers[GW_MAX_WORKERS];
	int n_workers;
	gw_queued_t *queue[GW_MAX_QUEUED];
	int n_queued;
	uint64_t seq;
	int queue_timeout_ms, heartbeat_ms;
};

static int64_t s_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_frame_is(zmq_msg_t *m, const char *s)
{
	size_t len = strlen(s);
	return zmq_msg_size(m) == len && memcmp(zmq_msg_data(m), s, len) == 0;
}

static void s_frame_str(zmq_msg_t *m, char *out, size_t cap)
{
	size_t len = zmq_msg_size(m);
	if (len >= cap)
		len = cap - 1;
	memcpy(out, zmq_msg_data(m), len);
	out[len] = '\0';
}

static int s_recv_all(void *sock, zmq_msg_t *fr, int max)
{
	int n = 0, more = 1, bad = 0;
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			bad = 1;
			break;
		}
		more = zmq_msg_more(&m);
		if (n < max)
			fr[n++] = m;
		else {
			zmq_msg_close(&m);
			bad = 1;
		}
	}
	if (bad) {
		for (int i = 0; i < n; i++)
			zmq_msg_close(&fr[i]);
		return -1;
	}
	return n;
}

static void s_close_all(zmq_msg_t *fr, int n)
{
	for (int i = 0; i < n; i++)
		zmq_msg_close(&fr[i]);
}

/* Sends route + frames (consumed). Returns 0, or -1 (e.g. EHOSTUNREACH: peer gone). */
static int s_send_routed(void *sock, const void *route, size_t route_len, zmq_msg_t *fr, int n)
{
	if (zmq_send(sock, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		s_close_all(fr, n);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (zmq_msg_send(&fr[i], sock, (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
			/* a partial multipart message is discarded by zmq when we stop here */
			s_close_all(fr + i, n - i);
			return -1;
		}
	}
	return 0;
}

static gw_worker_t *s_worker_find(gw_broker_t *self, const void *ident, size_t len)
{
	for (int i = 0; i < self->n_workers; i++)
		if (self->workers[i].ident_len == len && !memcmp(self->workers[i].ident, ident, len))
			return &self->workers[i];
	return NULL;
}

static void s_worker_remove(gw_broker_t *self, gw_worker_t *w)
{
	pthread_mutex_lock(&self->lock);
	log_info("bus: instance of %s left (%d known)", w->service, self->n_workers - 1);
	*w = self->workers[--self->n_workers];
	pthread_mutex_unlock(&self->lock);
}

static gw_worker_t *s_worker_add(gw_broker_t *self, const void *ident, size_t len,
				 const char *service)
{
	if (self->n_workers == GW_MAX_WORKERS || len > sizeof self->workers[0].ident)
		return NULL;
	pthread_mutex_lock(&self->lock);
	gw_worker_t *w = &self->workers[self->n_workers++];
	memset(w, 0, sizeof *w);
	memcpy(w->ident, ident, len);
	w->ident_len = len;
	snprintf(w->service, sizeof w->service, "%s", service);
	pthread_mutex_unlock(&self->lock);
	log_info("bus: instance of %s joined (%d known)", service, self->n_workers);
	return w;
}

/* Least recently used idle instance of `service`, or NULL. */
static gw_worker_t *s_worker_idle(gw_broker_t *self, const char *service)
{
	gw_worker_t *best = NULL;
	for (int i = 0; i < self->n_workers; i++) {
		gw_worker_t *w = &self->workers[i];
		if (!w->busy && !strcmp(w->service, service) &&
		    (best == NULL || w->idle_seq < best->idle_seq))
			best = w;
	}
	return best;
}

/* Hands a request (frames consumed) to an idle instance. Instances that turn out to be
 * gone are dropped and the next is tried. Returns 0 if delivered, -1 if none is idle (the
 * frames are then still owned by the caller). */
static int s_dispatch(gw_broker_t *self, const char *service, zmq_msg_t *fr, int n)
{
	for (;;) {
		gw_worker_t *w = s_worker_idle(self, service);
		if (w == NULL)
			return -1;
		/* copy frames so a failed send to a dead peer can be retried elsewhere */
		zmq_msg_t copy[GW_MAX_FRAMES];
		for (int i = 0; i < n; i++) {
			zmq_msg_init(&copy[i]);
			zmq_msg_copy(&copy[i], &fr[i]);
		}
		if (s_send_routed(self->back, w->ident, w->ident_len, copy, n) == 0) {
			w->busy = 1;
			w->busy_since = s_now_ms();
			s_close_all(fr, n);
			return 0;
		}
		s_worker_remove(self, w);
	}
}

static void s_enqueue(gw_broker_t *self, const char *service, zmq_msg_t *fr, int n)
{
	if (self->n_queued == GW_MAX_QUEUED) {
		log_warn("bus: queue full, dropping a request for %s", service);
		s_close_all(fr, n);
		return;
	}
	gw_queued_t *q = calloc(1, sizeof *q);
	if (q == NULL) {
		s_close_all(fr, n);
		return;
	}
	memcpy(q->frames, fr, sizeof(zmq_msg_t) * (size_t)n);
	q->n = n;
	snprintf(q->service, sizeof q->service, "%s", service);
	q->enqueued = s_now_ms();
	self->queue[self->n_queued++] = q;
}

/* A request from a gateway thread: [thread][MDM1][REQUEST][service][id][cmd][hdr][body]. */
static void s_on_frontend(gw_broker_t *self)
{
	zmq_msg_t fr[GW_MAX_FRAMES];
	int n = s_recv_all(self->front, fr, GW_MAX_FRAMES);
	if (n < 0)
		return;
	if (n != 8 || !s_frame_is(&fr[1], MDM_BUS_VERSION) || !s_frame_is(&fr[2], MDM_BUS_REQUEST)) {
		log_warn("bus: malformed request from a gateway thread");
		s_close_all(fr, n);
		return;
	}
	char service[32];
	s_frame_str(&fr[3], service, sizeof service);
	zmq_msg_close(&fr[0]);
	if (s_dispatch(self, service, fr + 1, n - 1) != 0)
		s_enqueue(self, service, fr + 1, n - 1);
}

/* Gives the oldest waiting request of w's service to w (now idle). */
static void s_drain_queue(gw_broker_t *self, const char *service)
{
	for (int i = 0; i < self->n_queued; i++) {
		gw_queued_t *q = self->queue[i];
		if (strcmp(q->service, service) != 0)
			continue;
		if (s_dispatch(self, service, q->frames, q->n) != 0)
			return;
		memmove(&self->queue[i], &self->queue[i + 1],
			sizeof(self->queue[0]) * (size_t)(self->n_queued - i - 1));
		self->n_queued--;
		free(q);
		i--;
	}
}

/* A message from an instance: READY / HEARTBEAT / BYE, or a REPLY to route back. */
static void s_on_backend(gw_broker_t *self)
{
	zmq_msg_t fr[GW_MAX_FRAMES];
	int n = s_recv_all(self->back, fr, GW_MAX_FRAMES);
	if (n < 0)
		return;
	if (n < 4 || !s_frame_is(&fr[1], MDM_BUS_VERSION)) {
		log_warn("bus: malformed message from an instance");
		s_close_all(fr, n);
		return;
	}
	char service[32];
	s_frame_str(&fr[3], service, sizeof service);
	gw_worker_t *w = s_worker_find(self, zmq_msg_data(&fr[0]), zmq_msg_size(&fr[0]));
	if (s_frame_is(&fr[2], MDM_BUS_BYE)) {
		if (w)
			s_worker_remove(self, w);
		s_close_all(fr, n);
		return;
	}
	if (w == NULL)
		w = s_worker_add(self, zmq_msg_data(&fr[0]), zmq_msg_size(&fr[0]), service);
	if (w) {
		w->last_seen = s_now_ms();
		/* READY and REPLY free the instance. A HEARTBEAT only proves it is alive: one
		 * sent while idle can cross a request on its way to the instance, so it must
		 * not mark a busy instance free (it would be handed a second request). */
		if (!s_frame_is(&fr[2], MDM_BUS_HEARTBEAT) || w->idle_seq == 0) {
			w->busy = 0;
			w->idle_seq = ++self->seq;
		}
	}
	if (s_frame_is(&fr[2], MDM_BUS_REPLY) && n == 8) {
		/* route by the id frame: "<thread identity>:<seq>" */
		char id[64];
		s_frame_str(&fr[4], id, sizeof id);
		char *colon = strchr(id, ':');
		zmq_msg_close(&fr[0]);
		if (colon == NULL || s_send_routed(self->front, id, (size_t)(colon - id), fr + 1,
						   n - 1) != 0)
			log_debug("bus: reply %s has no waiting thread (timed out?)", id);
	} else {
		s_close_all(fr, n);
	}
	if (w)
		s_drain_queue(self, service);
}

/* Drops instances not heard from for 3 heartbeats while idle, or busy for far longer
 * than any request may take, and queued requests their callers gave up on. */
static void s_housekeeping(gw_broker_t *self)
{
	int64_t now = s_now_ms();
	for (int i = 0; i < self->n_workers; i++) {
		gw_worker_t *w = &self->workers[i];
		int dead = !w->busy ? now - w->last_seen > 3 * self->heartbeat_ms
				    : now - w->busy_since > 2 * self->queue_timeout_ms;
		if (dead) {
			s_worker_remove(self, w);
			i--;
		}
	}
	for (int i = 0; i < self->n_queued; i++) {
		gw_queued_t *q = self->queue[i];
		if (now - q->enqueued <= self->queue_timeout_ms)
			continue;
		s_close_all(q->frames, q->n);
		free(q);
		memmove(&self->queue[i], &self->queue[i + 1],
			sizeof(self->queue[0]) * (size_t)(self->n_queued - i - 1));
		self->n_queued--;
		i--;
	}
}

static void *s_run(void *arg)
{
	gw_broker_t *self = arg;
	int64_t next_hk = s_now_ms() + 200;
	for (;;) {
		zmq_pollitem_t items[] = {{self->pipe_recv, 0, ZMQ_POLLIN, 0},
					  {self->back, 0, ZMQ_POLLIN, 0},
					  {self->front, 0, ZMQ_POLLIN, 0}};
		int rc = zmq_poll(items, 3, 200);
		if (rc < 0 && errno != EINTR)
			break;
		if (items[0].revents & ZMQ_POLLIN)
			break;
		/* replies first: they free instances for the requests behind them */
		for (int k = 0; k < 64 && (items[1].revents & ZMQ_POLLIN); k++) {
			s_on_backend(self);
			int ev = 0;
			size_t sz = sizeof ev;
			zmq_getsockopt(self->back, ZMQ_EVENTS, &ev, &sz);
			if (!(ev & ZMQ_POLLIN))
				break;
		}
		for (int k = 0; k < 64 && (items[2].revents & ZMQ_POLLIN); k++) {
			s_on_frontend(self);
			int ev = 0;
			size_t sz = sizeof ev;
			zmq_getsockopt(self->front, ZMQ_EVENTS, &ev, &sz);
			if (!(ev & ZMQ_POLLIN))
				break;
		}
		if (s_now_ms() >= next_hk) {
			s_housekeeping(self);
			next_hk = s_now_ms() + 200;
		}
	}
	return NULL;
}

gw_broker_t *gw_broker_start(void *zctx, const char *backend, int queue_timeout_ms,
			     int heartbeat_ms)
{
	gw_broker_t *self = calloc(1, sizeof *self);
	check_mem(self);
	pthread_mutex_init(&self->lock, NULL);
	self->queue_timeout_ms = queue_timeout_ms;
	self->heartbeat_ms = heartbeat_ms;
	int one = 1, linger = 0;
	self->front = zmq_socket(zctx, ZMQ_ROUTER);
	self->back = zmq_socket(zctx, ZMQ_ROUTER);
	self->pipe_recv = zmq_socket(zctx, ZMQ_PAIR);
	self->pipe_send = zmq_socket(zctx, ZMQ_PAIR);
	check(self->front && self->back && self->pipe_recv && self->pipe_send, "bus: sockets");
	void *all[] = {self->front, self->back, self->pipe_recv, self->pipe_send};
	for (int i = 0; i < 4; i++)
		zmq_setsockopt(all[i], ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(self->front, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	zmq_setsockopt(self->back, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	check(zmq_bind(self->front, GW_FRONTEND) == 0, "bus: bind %s: %s", GW_FRONTEND,
	      zmq_strerror(errno));
	check(zmq_bind(self->back, backend) == 0, "bus: bind %s: %s", backend, zmq_strerror(errno));
	char pipe[64];
	snprintf(pipe, sizeof pipe, "inproc://gw-broker-pipe-%p", (void *)self);
	check(zmq_bind(self->pipe_recv, pipe) == 0 && zmq_connect(self->pipe_send, pipe) == 0,
	      "bus: pipe");
	check(pthread_create(&self->thread, NULL, s_run, self) == 0, "bus: thread");
	return self;
error:
	if (self) {
		void *socks[] = {self->front, self->back, self->pipe_recv, self->pipe_send};
		for (int i = 0; i < 4; i++)
			if (socks[i])
				zmq_close(socks[i]);
		free(self);
	}
	return NULL;
}

void gw_broker_stop(gw_broker_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	gw_broker_t *self = *self_p;
	zmq_send(self->pipe_send, "STOP", 4, 0);
	pthread_join(self->thread, NULL);
	for (int i = 0; i < self->n_queued; i++) {
		s_close_all(self->queue[i]->frames, self->queue[i]->n);
		free(self->queue[i]);
	}
	zmq_close(self->front);
	zmq_close(self->back);
	zmq_close(self->pipe_recv);
	zmq_close(self->pipe_send);
	pthread_mutex_destroy(&self->lock);
	free(self);
	*self_p = NULL;
}

/* The part of a worker identity that names its process: everything before the last '#'
 * ("<host>/<pid>/<nonce>#<n>", mdm_worker.c); an identity without '#' (a peer that did not
 * set one) is a process of its own. */
static size_t s_process_len(const gw_worker_t *w)
{
	for (size_t i = w->ident_len; i > 0; i--)
		if (w->ident[i - 1] == '#')
			return i - 1;
	return w->ident_len;
}

int gw_broker_instances(gw_broker_t *self, const char *service)
{
	int n = 0;
	pthread_mutex_lock(&self->lock);
	for (int i = 0; i < self->n_workers; i++) {
		const gw_worker_t *w = &self->workers[i];
		if (strcmp(w->service, service) != 0)
			continue;
		size_t pl = s_process_len(w);
		int seen = 0;
		for (int j = 0; j < i && !seen; j++) {
			const gw_worker_t *o = &self->workers[j];
			seen = !strcmp(o->service, service) && s_process_len(o) == pl &&
			       !memcmp(o->ident, w->ident, pl);
		}
		n += !seen;
	}
	pthread_mutex_unlock(&self->lock);
	return n;
}

int gw_broker_workers(gw_broker_t *self, const char *service)
{
	int n = 0;
	pthread_mutex_lock(&self->lock);
	for (int i = 0; i < self->n_workers; i++)
		n += !strcmp(self->workers[i].service, service);
	pthread_mutex_unlock(&self->lock);
	return n;
}
