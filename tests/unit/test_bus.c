/* test_bus.c -- libs/bus framing over real ZeroMQ sockets (refused inputs in tests/data/bus), reply helpers, and the gateway broker + client with worker threads: routing, 404, timeouts, LRU balancing, late joiners, BYE, stale replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../../services/gateway/gw_broker.h" /* services/ is not on the include path */
#include "../../services/gateway/gw_client.h"
#include "mdm_log.h"
#include "mdm_msg.h"
#include "mdm_worker.h"

/* ---- small helpers ------------------------------------------------------------------- */

static int64_t s_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Repository root: the working directory when it holds tests/unit, else three levels above
 * the binary (build/tests/test_bus). */
static const char *s_root(void)
{
	static char root[PATH_MAX];
	if (root[0])
		return root;
	struct stat st;
	if (stat("tests/unit", &st) == 0) {
		snprintf(root, sizeof root, ".");
		return root;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	snprintf(root, sizeof root, ".");
	if (n > 0) {
		exe[n] = '\0';
		for (int i = 0; i < 3; i++) {
			char *slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
		}
		snprintf(root, sizeof root, "%s", exe);
	}
	return root;
}

static const char *s_data(void)
{
	static char path[PATH_MAX + 32];
	const char *env = getenv("MDM_TEST_DATA");
	if (env && *env)
		return env;
	snprintf(path, sizeof path, "%s/tests/data", s_root());
	return path;
}

/* Whole file, NUL-terminated (binary-safe through *len). Caller frees. */
static char *s_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			char *p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

/* Captures what the code under test logs to stderr between begin and end. */
typedef struct {
	int saved;
	char path[64];
} s_capture_t;

static void s_capture_begin(s_capture_t *c)
{
	fflush(stderr);
	snprintf(c->path, sizeof c->path, "/tmp/mdm-test-bus-%ld.log", (long)getpid());
	int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	c->saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static char *s_capture_end(s_capture_t *c)
{
	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	char *text = s_read_file(c->path, NULL);
	unlink(c->path);
	return text ? text : strdup("");
}

/* Runs fn in a child process (so a crash or a sanitizer abort fails one test, not the
 * suite). Returns the child's exit code, 128 + signal if it died, -1 if fork failed. */
static int s_in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		_exit(fn());
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- reply helpers (no sockets) ------------------------------------------------------ */

static json_t *s_body_json(const char *body, size_t len)
{
	json_error_t jerr;
	return json_loadb(body ? body : "", len, 0, &jerr);
}

static void test_reply_error_unavailable_is_503_with_retry_after(void **state)
{
	(void)state;
	mdm_reply_t rep = {200, json_object(), MDM_BUF_INIT};
	mdm_err_t err = {0};
	mdm_err_set(&err, MDM_E_UNAVAILABLE, "storage unavailable, retry later");
	mdm_reply_error(&rep, &err);
	assert_int_equal(rep.status, 503);
	assert_string_equal(json_string_value(json_object_get(rep.headers, "Retry-After")), "5");
	assert_string_equal(json_string_value(json_object_get(rep.headers, "Content-Type")),
			    "application/json");
	json_t *j = s_body_json(rep.body.data, rep.body.len);
	assert_non_null(j);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "unavailable");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
			    "storage unavailable, retry later");
	json_decref(j);
	json_decref(rep.headers);
	mdm_buf_free(&rep.body);
}

static void test_reply_error_without_error_is_internal_500(void **state)
{
	(void)state;
	mdm_reply_t rep = {200, json_object(), MDM_BUF_INIT};
	mdm_reply_error(&rep, NULL);
	assert_int_equal(rep.status, 500);
	assert_null(json_object_get(rep.headers, "Retry-After"));
	json_t *j = s_body_json(rep.body.data, rep.body.len);
	assert_non_null(j);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "internal");
	assert_string_equal(json_string_value(json_object_get(e, "message")), "internal error");
	json_decref(j);
	json_decref(rep.headers);
	mdm_buf_free(&rep.body);
}

static void test_reply_set_replaces_the_body(void **state)
{
	(void)state;
	mdm_reply_t rep = {200, json_object(), MDM_BUF_INIT};
	mdm_reply_set(&rep, 202, "text/plain", "first body", 10);
	mdm_reply_set(&rep, 204, NULL, "2nd", 3);
	assert_int_equal(rep.status, 204);
	assert_int_equal(rep.body.len, 3);
	assert_string_equal(rep.body.data, "2nd");
	assert_string_equal(json_string_value(json_object_get(rep.headers, "Content-Type")),
			    "text/plain");
	mdm_reply_set(&rep, 200, "application/json", NULL, 55);
	assert_int_equal(rep.body.len, 0);
	mdm_reply_json(&rep, 201, json_pack("{s:i}", "n", 3));
	assert_int_equal(rep.status, 201);
	assert_string_equal(rep.body.data, "{\"n\":3}");
	json_decref(rep.headers);
	mdm_buf_free(&rep.body);
}

static void test_req_header_reads_string_headers_only(void **state)
{
	(void)state;
	mdm_msg_t *m = mdm_msg_new(MDM_BUS_REQUEST, "svc", "id");
	assert_non_null(m);
	mdm_msg_set_headers(m, json_pack("{s:s,s:i}", "method", "POST", "n", 3));
	assert_string_equal(mdm_req_header(m, "method"), "POST");
	assert_null(mdm_req_header(m, "n"));
	assert_null(mdm_req_header(m, "missing"));
	mdm_msg_set_headers(m, NULL); /* NULL means an empty object, never NULL */
	assert_non_null(m->headers);
	assert_int_equal(json_object_size(m->headers), 0);
	mdm_msg_destroy(&m);
	assert_null(m);
	mdm_msg_destroy(&m); /* destroying NULL is harmless */
}

static int s_reply_error_with_invalid_utf8(void)
{
	mdm_reply_t rep = {200, json_object(), MDM_BUF_INIT};
	mdm_err_t err = {0};
	mdm_err_set(&err, MDM_E_NOT_FOUND, "unknown command '%s'", "bad\xff");
	mdm_reply_error(&rep, &err);
	int rc = 0;
	if (rep.body.data == NULL || strlen(rep.body.data) != rep.body.len)
		rc = 10; /* body holds bytes beyond its text */
	else {
		json_t *j = s_body_json(rep.body.data, rep.body.len);
		if (!json_is_object(json_object_get(j, "error")))
			rc = 11;
		json_decref(j);
	}
	json_decref(rep.headers);
	mdm_buf_free(&rep.body);
	return rc;
}

/* Regression (was a bug in libs/bus/mdm_worker.c mdm_reply_json, fixed in ce9b453): when
 * json_dumps() failed -- which happened whenever mdm_reply_error() was given text that is
 * not valid UTF-8, because json_pack() then returned NULL -- the fallback body was copied
 * with length 57 while the literal is 55 bytes long: the reply carried a NUL and one byte
 * read past the literal (ASan: global-buffer-overflow). Run in a child so a sanitizer abort
 * fails this test only. */
static void test_reply_error_with_invalid_utf8_text_is_valid_json(void **state)
{
	(void)state;
	int rc = s_in_child(s_reply_error_with_invalid_utf8);
	if (rc != 0)
		fail_msg("error reply for a non-UTF-8 message: child %s %d (10: body length "
			 "beyond its text, 11: not JSON, 1: sanitizer report)",
			 rc >= 128 ? "died with signal" : "exited", rc >= 128 ? rc - 128 : rc);
}

/* ---- framing over a DEALER/ROUTER pair ----------------------------------------------- */

typedef struct {
	void *zctx, *router, *dealer;
} s_pair_t;

static int s_pair_setup(void **state)
{
	static int seq;
	s_pair_t *p = calloc(1, sizeof *p);
	if (p == NULL)
		return -1;
	p->zctx = zmq_ctx_new();
	p->router = zmq_socket(p->zctx, ZMQ_ROUTER);
	p->dealer = zmq_socket(p->zctx, ZMQ_DEALER);
	int linger = 0, tmo = 2000;
	void *socks[] = {p->router, p->dealer};
	for (int i = 0; i < 2; i++) {
		zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof linger);
		zmq_setsockopt(socks[i], ZMQ_RCVTIMEO, &tmo, sizeof tmo);
		zmq_setsockopt(socks[i], ZMQ_SNDTIMEO, &tmo, sizeof tmo);
	}
	zmq_setsockopt(p->dealer, ZMQ_ROUTING_ID, "peer-1", 6);
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://test-bus-pair-%d", seq++);
	if (zmq_bind(p->router, ep) != 0 || zmq_connect(p->dealer, ep) != 0)
		return -1;
	*state = p;
	return 0;
}

static int s_pair_teardown(void **state)
{
	s_pair_t *p = *state;
	zmq_close(p->router);
	zmq_close(p->dealer);
	zmq_ctx_term(p->zctx);
	free(p);
	return 0;
}

static void test_request_roundtrip_keeps_every_field(void **state)
{
	s_pair_t *p = *state;
	static const char body[] = "bin\0ary\0\xff\x01 data\0";
	mdm_msg_t *req = mdm_msg_new(MDM_BUS_REQUEST, "pki", "gw7:42");
	assert_non_null(req);
	snprintf(req->command, sizeof req->command, "wstep");
	mdm_msg_set_headers(req, json_pack("{s:s,s:s,s:{s:i}}", "method", "POST", "path",
					   "/EnrollmentServer/x", "nested", "n", 1));
	assert_int_equal(mdm_msg_set_body(req, body, sizeof body - 1), 0);
	assert_int_equal(mdm_msg_send(req, p->dealer, NULL, 0), 0);

	char route[256];
	size_t route_len = sizeof route;
	mdm_msg_t *got = mdm_msg_recv(p->router, route, &route_len);
	assert_non_null(got);
	assert_int_equal(route_len, 6);
	assert_memory_equal(route, "peer-1", 6);
	assert_string_equal(got->kind, MDM_BUS_REQUEST);
	assert_string_equal(got->service, "pki");
	assert_string_equal(got->id, "gw7:42");
	assert_string_equal(got->command, "wstep");
	assert_true(json_equal(got->headers, req->headers));
	assert_int_equal(got->body_len, sizeof body - 1);
	assert_memory_equal(got->body, body, sizeof body - 1);
	assert_int_equal(got->body[got->body_len], '\0');
	mdm_msg_destroy(&got);
	mdm_msg_destroy(&req);
}

static void test_reply_roundtrip_through_router_route(void **state)
{
	s_pair_t *p = *state;
	/* learn the dealer's identity from one message first */
	mdm_msg_t *hello = mdm_msg_new(MDM_BUS_READY, "pki", NULL);
	assert_int_equal(mdm_msg_send(hello, p->dealer, NULL, 0), 0);
	mdm_msg_destroy(&hello);
	char route[256];
	size_t route_len = sizeof route;
	hello = mdm_msg_recv(p->router, route, &route_len);
	assert_non_null(hello);
	mdm_msg_destroy(&hello);

	static const int statuses[] = {100, 200, 404, 503, 599};
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		mdm_msg_t *rep = mdm_msg_new(MDM_BUS_REPLY, "pki", "gw7:43");
		rep->status = statuses[i];
		mdm_msg_set_headers(rep, json_pack("{s:s}", "Retry-After", "5"));
		if (i % 2)
			mdm_msg_set_body(rep, "x\0y", 3);
		assert_int_equal(mdm_msg_send(rep, p->router, route, route_len), 0);
		mdm_msg_t *got = mdm_msg_recv(p->dealer, NULL, NULL);
		assert_non_null(got);
		assert_string_equal(got->kind, MDM_BUS_REPLY);
		assert_string_equal(got->service, "pki");
		assert_string_equal(got->id, "gw7:43");
		assert_int_equal(got->status, statuses[i]);
		assert_true(json_equal(got->headers, rep->headers));
		if (i % 2) {
			assert_int_equal(got->body_len, 3);
			assert_memory_equal(got->body, "x\0y", 3);
		} else {
			assert_int_equal(got->body_len, 0);
		}
		mdm_msg_destroy(&got);
		mdm_msg_destroy(&rep);
	}
}

static void test_control_messages_roundtrip(void **state)
{
	s_pair_t *p = *state;
	static const char *kinds[] = {MDM_BUS_READY, MDM_BUS_HEARTBEAT, MDM_BUS_BYE};
	for (size_t i = 0; i < 3; i++) {
		mdm_msg_t *m = mdm_msg_new(kinds[i], "registry", "ignored");
		assert_int_equal(mdm_msg_send(m, p->dealer, NULL, 0), 0);
		mdm_msg_destroy(&m);
		char route[256];
		size_t route_len = sizeof route;
		mdm_msg_t *got = mdm_msg_recv(p->router, route, &route_len);
		assert_non_null(got);
		assert_string_equal(got->kind, kinds[i]);
		assert_string_equal(got->service, "registry");
		assert_string_equal(got->id, "");
		assert_non_null(got->headers);
		assert_int_equal(json_object_size(got->headers), 0);
		assert_null(got->body);
		assert_int_equal(got->body_len, 0);
		mdm_msg_destroy(&got);
	}
}

/* Frame counts on the wire (docs/bus.md): control = 3 frames, request/reply = 7. */
static void test_wire_frame_counts(void **state)
{
	s_pair_t *p = *state;
	mdm_msg_t *m = mdm_msg_new(MDM_BUS_HEARTBEAT, "svc", NULL);
	mdm_msg_send(m, p->dealer, NULL, 0);
	mdm_msg_destroy(&m);
	m = mdm_msg_new(MDM_BUS_REQUEST, "svc", "a:1");
	mdm_msg_send(m, p->dealer, NULL, 0);
	mdm_msg_destroy(&m);
	int expect[] = {1 + 3, 1 + 7};
	for (int k = 0; k < 2; k++) {
		int n = 0, more = 1;
		char first[8] = "";
		while (more) {
			zmq_msg_t f;
			zmq_msg_init(&f);
			assert_true(zmq_msg_recv(&f, p->router, 0) >= 0);
			if (n == 1)
				snprintf(first, sizeof first, "%.*s", (int)zmq_msg_size(&f),
					 (char *)zmq_msg_data(&f));
			more = zmq_msg_more(&f);
			zmq_msg_close(&f);
			n++;
		}
		assert_int_equal(n, expect[k]);
		assert_string_equal(first, MDM_BUS_VERSION);
	}
}

/* Parses a `frames` fixture: one frame per line, \0 \\ \xHH escapes. */
static int s_parse_frames(const char *text, size_t len, char frames[][128], size_t *lens,
			  int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len && n < max) {
		size_t fl = 0;
		while (i < len && text[i] != '\n') {
			char c = text[i++];
			if (c == '\\' && i < len) {
				char e = text[i++];
				if (e == '0')
					c = '\0';
				else if (e == 'x' && i + 1 < len) {
					char hex[3] = {text[i], text[i + 1], 0};
					c = (char)strtol(hex, NULL, 16);
					i += 2;
				} else
					c = e;
			}
			if (fl < 127)
				frames[n][fl++] = c;
		}
		lens[n++] = fl;
		i++; /* the newline */
	}
	return n;
}

static void s_run_invalid_case(s_pair_t *p, const char *dir, const char *name)
{
	char path[PATH_MAX + 400];
	snprintf(path, sizeof path, "%s/%s/frames", dir, name);
	size_t len = 0;
	char *text = s_read_file(path, &len);
	if (text == NULL)
		fail_msg("%s: cannot read %s", name, path);
	snprintf(path, sizeof path, "%s/%s/error", dir, name);
	char *want = s_read_file(path, NULL);
	if (want == NULL)
		fail_msg("%s: cannot read %s", name, path);
	want[strcspn(want, "\n")] = '\0';

	static char frames[32][128];
	size_t lens[32];
	int n = s_parse_frames(text, len, frames, lens, 32);
	for (int i = 0; i < n; i++)
		assert_true(zmq_send(p->dealer, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
	mdm_msg_t *good = mdm_msg_new(MDM_BUS_READY, "after", NULL);
	mdm_msg_send(good, p->dealer, NULL, 0);
	mdm_msg_destroy(&good);

	s_capture_t cap;
	s_capture_begin(&cap);
	char route[256];
	size_t route_len = sizeof route;
	mdm_msg_t *bad = mdm_msg_recv(p->router, route, &route_len);
	char *log = s_capture_end(&cap);
	if (bad != NULL)
		fail_msg("%s: malformed message accepted (kind %s)", name, bad->kind);
	if (want[0] && strstr(log, want) == NULL)
		fail_msg("%s: expected log '%s', got '%s'", name, want, log);

	route_len = sizeof route;
	good = mdm_msg_recv(p->router, route, &route_len);
	if (good == NULL || strcmp(good->kind, MDM_BUS_READY) || strcmp(good->service, "after"))
		fail_msg("%s: the next good message was not received intact", name);
	assert_int_equal(route_len, 6);
	mdm_msg_destroy(&good);
	free(log);
	free(want);
	free(text);
}

static void test_malformed_messages_are_refused_and_consumed(void **state)
{
	s_pair_t *p = *state;
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof dir, "%s/bus/invalid", s_data());
	DIR *d = opendir(dir);
	if (d == NULL)
		fail_msg("no fixtures at %s", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		s_run_invalid_case(p, dir, e->d_name);
		n++;
	}
	closedir(d);
	assert_true(n >= 20);
	print_message("%d invalid bus messages\n", n);
}

/* Counts live Jansson allocations while installed. */
static atomic_long s_json_live;

static void *s_json_malloc(size_t n)
{
	atomic_fetch_add(&s_json_live, 1);
	return malloc(n);
}

static void s_json_free(void *p)
{
	if (p)
		atomic_fetch_sub(&s_json_live, 1);
	free(p);
}

/* BUG (libs/bus/mdm_msg.c:185-186): headers that parse as JSON but are not an object (an
 * array: json_loadb accepts arrays and objects at the top level) are never decref'd when
 * the message is refused, so every such message leaks (LeakSanitizer reports it at exit of
 * the framing test). Fix: `if (h && !json_is_object(h)) { json_decref(h); h = NULL; }`
 * before the check. */
static void test_refused_headers_are_freed(void **state)
{
	s_pair_t *p = *state;
	static const char *hdrs[] = {"[]", "[1,2,3]", "[{}]", "{\"a\":"};
	for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
		const char *f[] = {"MDM1", "REQUEST", "svc", "id1", "cmd", hdrs[i], ""};
		for (int k = 0; k < 7; k++)
			zmq_send(p->dealer, f[k], strlen(f[k]), k + 1 < 7 ? ZMQ_SNDMORE : 0);
		char route[256];
		size_t route_len = sizeof route;
		s_capture_t cap;
		s_capture_begin(&cap);
		atomic_store(&s_json_live, 0);
		json_set_alloc_funcs(s_json_malloc, s_json_free);
		mdm_msg_t *m = mdm_msg_recv(p->router, route, &route_len);
		json_set_alloc_funcs(malloc, free);
		free(s_capture_end(&cap));
		assert_null(m);
		long live = atomic_load(&s_json_live);
		if (live != 0)
			fail_msg("refusing headers '%s' left %ld JSON allocation(s) behind", hdrs[i],
				 live);
	}
}

static void test_identity_longer_than_route_buffer_is_refused(void **state)
{
	s_pair_t *p = *state;
	mdm_msg_t *m = mdm_msg_new(MDM_BUS_READY, "svc", NULL);
	mdm_msg_send(m, p->dealer, NULL, 0);
	mdm_msg_send(m, p->dealer, NULL, 0);
	mdm_msg_destroy(&m);
	char route[8];
	size_t route_len = 3; /* "peer-1" does not fit */
	s_capture_t cap;
	s_capture_begin(&cap);
	m = mdm_msg_recv(p->router, route, &route_len);
	free(s_capture_end(&cap));
	assert_null(m);
	route_len = sizeof route;
	m = mdm_msg_recv(p->router, route, &route_len);
	assert_non_null(m);
	assert_int_equal(route_len, 6);
	mdm_msg_destroy(&m);
}

static void test_recv_timeout_returns_null(void **state)
{
	s_pair_t *p = *state;
	int tmo = 50;
	zmq_setsockopt(p->router, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
	char route[256];
	size_t route_len = sizeof route;
	int64_t t0 = s_now_ms();
	assert_null(mdm_msg_recv(p->router, route, &route_len));
	assert_true(s_now_ms() - t0 < 1000);
}

/* ---- broker + client + workers ------------------------------------------------------- */

typedef struct {
	char name[16];
	char endpoint[128];
	char service[32];
	char ident[64];        /* routing identity ("" = chosen by ZeroMQ) */
	int sleep_ms;          /* duration of the "sleep" command */
	atomic_int sleep_once; /* "sleep_once" sleeps 600 ms while this is set, once */
	atomic_int served;     /* requests handled by this instance */
	volatile sig_atomic_t stop;
	pthread_t thread;
} s_worker_t;

static int s_h_echo(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	s_worker_t *w = ctx;
	atomic_fetch_add(&w->served, 1);
	mdm_reply_set(rep, 201, "application/octet-stream", req->body, req->body_len);
	mdm_reply_header(rep, "X-Worker", w->name);
	mdm_reply_header(rep, "X-Id", req->id);
	mdm_reply_header(rep, "X-Command", req->command);
	const char *m = mdm_req_header(req, "method");
	mdm_reply_header(rep, "X-Method", m ? m : "");
	return 0;
}

static int s_h_sleep(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	s_worker_t *w = ctx;
	atomic_fetch_add(&w->served, 1);
	s_sleep_ms(w->sleep_ms);
	mdm_reply_set(rep, 200, "text/plain", "slept", 5);
	mdm_reply_header(rep, "X-Worker", w->name);
	mdm_reply_header(rep, "X-Id", req->id);
	return 0;
}

static int s_h_sleep_once(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	s_worker_t *w = ctx;
	atomic_fetch_add(&w->served, 1);
	if (atomic_exchange(&w->sleep_once, 0))
		s_sleep_ms(600);
	mdm_reply_set(rep, 200, "text/plain", "sleep_once", 10);
	mdm_reply_header(rep, "X-Id", req->id);
	return 0;
}

static int s_h_fail(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	s_worker_t *w = ctx;
	atomic_fetch_add(&w->served, 1);
	return -1; /* and leaves the reply empty */
}

static const mdm_command_t s_commands[] = {
	{"echo", s_h_echo},
	{"sleep", s_h_sleep},
	{"sleep_once", s_h_sleep_once},
	{"fail", s_h_fail},
	{NULL, NULL},
};

static void *s_worker_main(void *arg)
{
	s_worker_t *w = arg;
	mdm_worker_t *mw = w->ident[0] ? mdm_worker_new_shared(NULL, w->ident, w->endpoint,
								w->service, s_commands, w)
				       : mdm_worker_new(w->endpoint, w->service, s_commands, w);
	if (mw) {
		mdm_worker_run(mw, &w->stop, 50);
		mdm_worker_destroy(&mw);
	}
	return NULL;
}

static s_worker_t *s_worker_start_as(const char *endpoint, const char *service, const char *name,
				     const char *ident)
{
	s_worker_t *w = calloc(1, sizeof *w);
	assert_non_null(w);
	snprintf(w->ident, sizeof w->ident, "%s", ident ? ident : "");
	snprintf(w->name, sizeof w->name, "%s", name);
	snprintf(w->endpoint, sizeof w->endpoint, "%s", endpoint);
	snprintf(w->service, sizeof w->service, "%s", service);
	w->sleep_ms = 800;
	assert_int_equal(pthread_create(&w->thread, NULL, s_worker_main, w), 0);
	return w;
}

static s_worker_t *s_worker_start(const char *endpoint, const char *service, const char *name)
{
	return s_worker_start_as(endpoint, service, name, NULL);
}

/* Stops the worker (it sends BYE on the way out) and frees it. */
static void s_worker_stop(s_worker_t **w)
{
	if (*w == NULL)
		return;
	(*w)->stop = 1;
	pthread_join((*w)->thread, NULL);
	free(*w);
	*w = NULL;
}

typedef struct {
	void *zctx;
	gw_broker_t *broker;
	char endpoint[128];
	gw_client_t *client;
	s_worker_t *w[3];
} s_bus_t;

static int s_bus_setup(void **state)
{
	static int seq;
	s_bus_t *b = calloc(1, sizeof *b);
	if (b == NULL)
		return -1;
	b->zctx = zmq_ctx_new();
	snprintf(b->endpoint, sizeof b->endpoint, "ipc:///tmp/mdm-test-bus-%ld-%d.sock",
		 (long)getpid(), seq++);
	/* requests wait 1.5 s for an instance; instances expire after 3 s without a word, so
	 * that a departure seen sooner can only come from its BYE */
	b->broker = gw_broker_start(b->zctx, b->endpoint, 1500, 1000);
	if (b->broker == NULL)
		return -1;
	b->client = gw_client_new(b->zctx);
	if (b->client == NULL)
		return -1;
	*state = b;
	return 0;
}

static int s_bus_teardown(void **state)
{
	s_bus_t *b = *state;
	for (int i = 0; i < 3; i++)
		s_worker_stop(&b->w[i]);
	gw_client_destroy(&b->client);
	gw_broker_stop(&b->broker);
	zmq_ctx_term(b->zctx);
	unlink(b->endpoint + strlen("ipc://"));
	free(b);
	return 0;
}

/* Waits until the broker knows exactly n instances of service; fails after timeout_ms. */
static void s_wait_instances(gw_broker_t *broker, const char *service, int n, int timeout_ms)
{
	int64_t end = s_now_ms() + timeout_ms;
	int got;
	while ((got = gw_broker_instances(broker, service)) != n && s_now_ms() < end)
		s_sleep_ms(5);
	if (got != n)
		fail_msg("broker knows %d instances of %s, expected %d", got, service, n);
}

static const char *s_hdr(const mdm_msg_t *m, const char *name)
{
	const char *v = json_string_value(json_object_get(m->headers, name));
	return v ? v : "";
}

/* A call made from its own thread. */
typedef struct {
	gw_client_t *client;
	const char *command;
	int timeout_ms;
	mdm_msg_t *rep;
	int64_t elapsed;
	pthread_t thread;
} s_call_t;

static void *s_call_main(void *arg)
{
	s_call_t *c = arg;
	int64_t t0 = s_now_ms();
	c->rep = gw_client_call(c->client, "svc", c->command, NULL, "bg", 2, c->timeout_ms);
	c->elapsed = s_now_ms() - t0;
	return NULL;
}

static void s_call_start(s_call_t *c, void *zctx, const char *command, int timeout_ms)
{
	memset(c, 0, sizeof *c);
	c->client = gw_client_new(zctx);
	assert_non_null(c->client);
	c->command = command;
	c->timeout_ms = timeout_ms;
	assert_int_equal(pthread_create(&c->thread, NULL, s_call_main, c), 0);
}

static void s_call_join(s_call_t *c)
{
	pthread_join(c->thread, NULL);
	gw_client_destroy(&c->client);
}

static void test_request_reaches_worker_and_reply_comes_back(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "w1");
	s_wait_instances(b->broker, "svc", 1, 2000);
	static const char body[] = "payload\0with\0NULs\xff";
	mdm_msg_t *rep = gw_client_call(b->client, "svc", "echo",
					json_pack("{s:s,s:s}", "method", "POST", "path", "/x"),
					body, sizeof body - 1, 2000);
	assert_non_null(rep);
	assert_string_equal(rep->kind, MDM_BUS_REPLY);
	assert_string_equal(rep->service, "svc");
	assert_int_equal(rep->status, 201);
	assert_string_equal(s_hdr(rep, "X-Worker"), "w1");
	assert_string_equal(s_hdr(rep, "X-Method"), "POST");
	assert_string_equal(s_hdr(rep, "X-Command"), "echo");
	assert_string_equal(s_hdr(rep, "X-Id"), rep->id);
	assert_string_equal(s_hdr(rep, "Content-Type"), "application/octet-stream");
	assert_int_equal(rep->body_len, sizeof body - 1);
	assert_memory_equal(rep->body, body, sizeof body - 1);
	assert_int_equal(atomic_load(&b->w[0]->served), 1);
	mdm_msg_destroy(&rep);

	/* and again: the instance is free after answering */
	rep = gw_client_call(b->client, "svc", "echo", NULL, NULL, 0, 2000);
	assert_non_null(rep);
	assert_int_equal(rep->body_len, 0);
	assert_string_equal(s_hdr(rep, "X-Method"), "");
	mdm_msg_destroy(&rep);
	assert_int_equal(atomic_load(&b->w[0]->served), 2);
}

static void test_unknown_command_gives_404_json_error(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "w1");
	s_wait_instances(b->broker, "svc", 1, 2000);
	mdm_msg_t *rep = gw_client_call(b->client, "svc", "no-such-command", NULL, NULL, 0, 2000);
	assert_non_null(rep);
	assert_int_equal(rep->status, 404);
	assert_string_equal(s_hdr(rep, "Content-Type"), "application/json");
	json_t *j = s_body_json(rep->body, rep->body_len);
	assert_non_null(j);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "not_found");
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "no-such-command"));
	json_decref(j);
	mdm_msg_destroy(&rep);
	assert_int_equal(atomic_load(&b->w[0]->served), 0);
}

static void test_failing_handler_with_empty_reply_gives_500(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "w1");
	s_wait_instances(b->broker, "svc", 1, 2000);
	s_capture_t cap;
	s_capture_begin(&cap);
	mdm_msg_t *rep = gw_client_call(b->client, "svc", "fail", NULL, NULL, 0, 2000);
	free(s_capture_end(&cap));
	assert_non_null(rep);
	assert_int_equal(rep->status, 500);
	json_t *j = s_body_json(rep->body, rep->body_len);
	assert_non_null(j);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "code")), "internal");
	json_decref(j);
	mdm_msg_destroy(&rep);
}

static void test_no_worker_times_out_with_null(void **state)
{
	s_bus_t *b = *state;
	int64_t t0 = s_now_ms();
	mdm_msg_t *rep = gw_client_call(b->client, "svc", "echo", NULL, NULL, 0, 300);
	int64_t elapsed = s_now_ms() - t0;
	assert_null(rep);
	if (elapsed < 290 || elapsed > 1000)
		fail_msg("timed out after %lld ms, expected ~300", (long long)elapsed);
	/* another service name has no instance either */
	assert_int_equal(gw_broker_instances(b->broker, "svc"), 0);
}

static void test_busy_worker_is_skipped_while_another_is_idle(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "w1");
	b->w[1] = s_worker_start(b->endpoint, "svc", "w2");
	s_wait_instances(b->broker, "svc", 2, 2000);

	s_call_t slow;
	s_call_start(&slow, b->zctx, "sleep", 3000); /* keeps one instance busy for 800 ms */
	int64_t end = s_now_ms() + 1000;
	while (atomic_load(&b->w[0]->served) + atomic_load(&b->w[1]->served) == 0 &&
	       s_now_ms() < end)
		s_sleep_ms(2);
	s_worker_t *busy = atomic_load(&b->w[0]->served) ? b->w[0] : b->w[1];
	s_worker_t *idle = busy == b->w[0] ? b->w[1] : b->w[0];
	assert_int_equal(atomic_load(&busy->served), 1);

	int64_t t0 = s_now_ms();
	for (int i = 0; i < 5; i++) {
		int64_t t1 = s_now_ms();
		mdm_msg_t *rep = gw_client_call(b->client, "svc", "echo", NULL, NULL, 0, 2000);
		assert_non_null(rep);
		if (strcmp(s_hdr(rep, "X-Worker"), idle->name) != 0)
			fail_msg("request %d went to %s while %s was busy and %s idle", i,
				 s_hdr(rep, "X-Worker"), busy->name, idle->name);
		if (s_now_ms() - t1 > 400)
			fail_msg("request %d waited %lld ms", i, (long long)(s_now_ms() - t1));
		mdm_msg_destroy(&rep);
	}
	assert_true(s_now_ms() - t0 < 700); /* all served while the other was still busy */
	assert_int_equal(atomic_load(&idle->served), 5);
	assert_int_equal(atomic_load(&busy->served), 1);

	s_call_join(&slow);
	assert_non_null(slow.rep);
	assert_int_equal(slow.rep->status, 200);
	assert_string_equal(s_hdr(slow.rep, "X-Worker"), busy->name);
	assert_true(slow.elapsed >= 700);
	mdm_msg_destroy(&slow.rep);
}

static void test_worker_joining_later_gets_queued_work(void **state)
{
	s_bus_t *b = *state;
	s_call_t c;
	s_call_start(&c, b->zctx, "echo", 2000);
	s_sleep_ms(300);
	b->w[0] = s_worker_start(b->endpoint, "svc", "late");
	s_call_join(&c);
	assert_non_null(c.rep);
	assert_int_equal(c.rep->status, 201);
	assert_string_equal(s_hdr(c.rep, "X-Worker"), "late");
	assert_memory_equal(c.rep->body, "bg", 2);
	assert_true(c.elapsed >= 250);
	assert_true(c.elapsed < 1500);
	mdm_msg_destroy(&c.rep);
	assert_int_equal(atomic_load(&b->w[0]->served), 1);
}

static void test_worker_that_said_bye_is_no_longer_used(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "w1");
	b->w[1] = s_worker_start(b->endpoint, "svc", "w2");
	s_wait_instances(b->broker, "svc", 2, 2000);
	s_worker_stop(&b->w[0]);
	/* the BYE removes it at once (silence would take 3 s to notice) */
	s_wait_instances(b->broker, "svc", 1, 500);
	for (int i = 0; i < 4; i++) {
		mdm_msg_t *rep = gw_client_call(b->client, "svc", "echo", NULL, NULL, 0, 1000);
		assert_non_null(rep);
		assert_string_equal(s_hdr(rep, "X-Worker"), "w2");
		mdm_msg_destroy(&rep);
	}
	assert_int_equal(atomic_load(&b->w[1]->served), 4);
}

static void test_stale_reply_is_not_returned_for_the_next_call(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "w1");
	atomic_store(&b->w[0]->sleep_once, 1);
	s_wait_instances(b->broker, "svc", 1, 2000);
	mdm_msg_t *rep = gw_client_call(b->client, "svc", "sleep_once", NULL, NULL, 0, 200);
	assert_null(rep); /* gave up; the reply comes ~400 ms later */
	rep = gw_client_call(b->client, "svc", "echo", NULL, "second", 6, 2000);
	assert_non_null(rep);
	assert_string_equal(s_hdr(rep, "X-Command"), "echo");
	assert_string_equal(s_hdr(rep, "X-Id"), rep->id);
	assert_int_equal(rep->body_len, 6);
	assert_memory_equal(rep->body, "second", 6);
	mdm_msg_destroy(&rep);
	assert_int_equal(atomic_load(&b->w[0]->served), 2);
	/* nothing else is left over for a third call */
	rep = gw_client_call(b->client, "svc", "echo", NULL, "third", 5, 2000);
	assert_non_null(rep);
	assert_memory_equal(rep->body, "third", 5);
	mdm_msg_destroy(&rep);
}

static void test_instances_are_counted_per_service(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start(b->endpoint, "svc", "a1");
	b->w[1] = s_worker_start(b->endpoint, "svc", "a2");
	b->w[2] = s_worker_start(b->endpoint, "other", "b1");
	s_wait_instances(b->broker, "svc", 2, 2000);
	s_wait_instances(b->broker, "other", 1, 2000);
	assert_int_equal(gw_broker_instances(b->broker, "none"), 0);
	/* a request for "other" never reaches an instance of "svc" */
	mdm_msg_t *rep = gw_client_call(b->client, "other", "echo", NULL, NULL, 0, 1000);
	assert_non_null(rep);
	assert_string_equal(s_hdr(rep, "X-Worker"), "b1");
	assert_string_equal(rep->service, "other");
	mdm_msg_destroy(&rep);
}

/* Workers of one process (identities "<process tag>#<n>", mdm_service.c) are one instance
 * for /healthz, but each is a slot of its own: two requests run at the same time. */
static void test_workers_of_one_process_count_as_one_instance(void **state)
{
	s_bus_t *b = *state;
	b->w[0] = s_worker_start_as(b->endpoint, "svc", "p1w0", "host/7/beef#0");
	b->w[1] = s_worker_start_as(b->endpoint, "svc", "p1w1", "host/7/beef#1");
	b->w[2] = s_worker_start_as(b->endpoint, "svc", "p2w0", "host/8/cafe#0");
	int64_t t0 = s_now_ms();
	while (gw_broker_workers(b->broker, "svc") < 3 && s_now_ms() - t0 < 2000)
		s_sleep_ms(10);
	assert_int_equal(gw_broker_workers(b->broker, "svc"), 3);
	assert_int_equal(gw_broker_instances(b->broker, "svc"), 2);
	/* each slot takes a request of its own: three requests in flight at once (each
	 * worker sleeps 800 ms while holding one) land on three different workers */
	s_call_t calls[3];
	for (int i = 0; i < 3; i++)
		s_call_start(&calls[i], b->zctx, "sleep", 3000);
	for (int i = 0; i < 3; i++) {
		s_call_join(&calls[i]);
		assert_non_null(calls[i].rep);
		assert_int_equal(calls[i].rep->status, 200);
		mdm_msg_destroy(&calls[i].rep);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&b->w[i]->served), 1);
	s_worker_stop(&b->w[1]);
	t0 = s_now_ms();
	while (gw_broker_workers(b->broker, "svc") > 2 && s_now_ms() - t0 < 2000)
		s_sleep_ms(10);
	assert_int_equal(gw_broker_instances(b->broker, "svc"), 2); /* p1 still has #0 */
}

static int s_free_tcp_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

static void test_broker_over_tcp_serves_and_refuses_a_taken_port(void **state)
{
	(void)state;
	int port = s_free_tcp_port();
	assert_true(port > 0);
	char ep[64];
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
	void *zctx = zmq_ctx_new();
	gw_broker_t *broker = gw_broker_start(zctx, ep, 1000, 1000);
	assert_non_null(broker);

	void *zctx2 = zmq_ctx_new();
	s_capture_t cap;
	s_capture_begin(&cap);
	gw_broker_t *second = gw_broker_start(zctx2, ep, 1000, 1000);
	free(s_capture_end(&cap));
	assert_null(second);
	zmq_ctx_term(zctx2);

	s_worker_t *w = s_worker_start(ep, "svc", "tcp1");
	s_wait_instances(broker, "svc", 1, 2000);
	gw_client_t *client = gw_client_new(zctx);
	mdm_msg_t *rep = gw_client_call(client, "svc", "echo", NULL, "tcp", 3, 2000);
	assert_non_null(rep);
	assert_string_equal(s_hdr(rep, "X-Worker"), "tcp1");
	assert_memory_equal(rep->body, "tcp", 3);
	mdm_msg_destroy(&rep);
	s_worker_stop(&w);
	gw_client_destroy(&client);
	gw_broker_stop(&broker);
	zmq_ctx_term(zctx);
}

/* Regression (was a bug in services/gateway/gw_broker.c s_on_backend, fixed in ce9b453): a
 * HEARTBEAT freed a busy instance. A worker heartbeats only while idle, but its heartbeat
 * and the broker's next request cross on the wire: when the broker dispatched a request and
 * then read a HEARTBEAT the instance sent just before receiving it, the instance was marked
 * idle while working, and the next request was queued behind the running one inside the
 * instance instead of waiting at the broker (or going to another instance). This test plays
 * the instance by hand to make the crossing deterministic. */
static void test_heartbeat_crossing_a_dispatch_keeps_the_instance_busy(void **state)
{
	s_bus_t *b = *state;
	void *fake = zmq_socket(b->zctx, ZMQ_DEALER);
	int linger = 0, tmo = 2000;
	zmq_setsockopt(fake, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(fake, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
	assert_int_equal(zmq_connect(fake, b->endpoint), 0);
	mdm_msg_t *m = mdm_msg_new(MDM_BUS_READY, "svc", NULL);
	mdm_msg_send(m, fake, NULL, 0);
	mdm_msg_destroy(&m);
	s_wait_instances(b->broker, "svc", 1, 2000);

	s_call_t first, second;
	s_call_start(&first, b->zctx, "echo", 1500);
	mdm_msg_t *req1 = mdm_msg_recv(fake, NULL, NULL);
	assert_non_null(req1);
	/* the heartbeat the instance sent just before the request reached it */
	m = mdm_msg_new(MDM_BUS_HEARTBEAT, "svc", NULL);
	mdm_msg_send(m, fake, NULL, 0);
	mdm_msg_destroy(&m);
	s_sleep_ms(50);
	s_call_start(&second, b->zctx, "echo", 1500);

	/* while it works on req1, the instance must not be handed another request */
	zmq_pollitem_t item = {fake, 0, ZMQ_POLLIN, 0};
	int early = zmq_poll(&item, 1, 300);

	/* answer whatever arrived so both callers finish */
	mdm_msg_t *reqs[2] = {req1, NULL};
	for (int i = 0; i < 2; i++) {
		if (reqs[i] == NULL)
			reqs[i] = mdm_msg_recv(fake, NULL, NULL);
		if (reqs[i] == NULL)
			continue;
		mdm_msg_t *rep = mdm_msg_new(MDM_BUS_REPLY, "svc", reqs[i]->id);
		rep->status = 200;
		mdm_msg_send(rep, fake, NULL, 0);
		mdm_msg_destroy(&rep);
		mdm_msg_destroy(&reqs[i]);
	}
	s_call_join(&first);
	s_call_join(&second);
	mdm_msg_destroy(&first.rep);
	mdm_msg_destroy(&second.rep);
	m = mdm_msg_new(MDM_BUS_BYE, "svc", NULL);
	mdm_msg_send(m, fake, NULL, 0);
	mdm_msg_destroy(&m);
	zmq_close(fake);
	if (early > 0)
		fail_msg("a second request was handed to an instance still working on the first");
}

int main(void)
{
	mdm_log_init("test_bus", MDM_LOG_WARN); /* no "instance joined" lines */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_error_unavailable_is_503_with_retry_after),
		cmocka_unit_test(test_reply_error_without_error_is_internal_500),
		cmocka_unit_test(test_reply_set_replaces_the_body),
		cmocka_unit_test(test_req_header_reads_string_headers_only),
		cmocka_unit_test(test_reply_error_with_invalid_utf8_text_is_valid_json),
		cmocka_unit_test_setup_teardown(test_request_roundtrip_keeps_every_field,
						s_pair_setup, s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_reply_roundtrip_through_router_route,
						s_pair_setup, s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_control_messages_roundtrip, s_pair_setup,
						s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_wire_frame_counts, s_pair_setup,
						s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_messages_are_refused_and_consumed,
						s_pair_setup, s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_refused_headers_are_freed, s_pair_setup,
						s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_identity_longer_than_route_buffer_is_refused,
						s_pair_setup, s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_recv_timeout_returns_null, s_pair_setup,
						s_pair_teardown),
		cmocka_unit_test_setup_teardown(test_request_reaches_worker_and_reply_comes_back,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command_gives_404_json_error,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_failing_handler_with_empty_reply_gives_500,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_no_worker_times_out_with_null, s_bus_setup,
						s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_busy_worker_is_skipped_while_another_is_idle,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_worker_joining_later_gets_queued_work,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_worker_that_said_bye_is_no_longer_used,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_stale_reply_is_not_returned_for_the_next_call,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_instances_are_counted_per_service, s_bus_setup,
						s_bus_teardown),
		cmocka_unit_test_setup_teardown(test_workers_of_one_process_count_as_one_instance,
						s_bus_setup, s_bus_teardown),
		cmocka_unit_test(test_broker_over_tcp_serves_and_refuses_a_taken_port),
		cmocka_unit_test_setup_teardown(
			test_heartbeat_crossing_a_dispatch_keeps_the_instance_busy, s_bus_setup,
			s_bus_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
