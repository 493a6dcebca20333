/* test_sentinel.c -- libs/store in Redis Sentinel mode: redis-sentinel:// URLs, then against
 * a real master + two replicas + one sentinel started by the test: discovery (a dead sentinel is
 * skipped), writes confirmed by the replica (WAIT), a write the replica cannot confirm is
 * reported unavailable, an unknown master name, READONLY detection, and a failover that the
 * store follows without being told. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mdm_log.h"
#include "mdm_sentinel.h"
#include "mdm_store.h"

/* ---- URLs ---------------------------------------------------------------------------- */

static void test_url_sentinel_forms(void **state)
{
	(void)state;
	char pw[256] = "";
	int db = 0;
	mdm_err_t err = {0};
	mdm_sentinel_t *s = mdm_sentinel_new(
		"redis-sentinel://:p@ss:w0rd@10.0.0.1:26380,sentinel-b,[::1]:26381/mdm-master/3", pw,
		sizeof pw, &db, &err);
	if (s == NULL)
		fail_msg("refused: %s", err.text);
	assert_int_equal(mdm_sentinel_count(s), 3);
	assert_string_equal(mdm_sentinel_host(s, 0), "10.0.0.1");
	assert_int_equal(mdm_sentinel_port(s, 0), 26380);
	assert_string_equal(mdm_sentinel_host(s, 1), "sentinel-b");
	assert_int_equal(mdm_sentinel_port(s, 1), MDM_SENTINEL_DEFAULT_PORT);
	assert_string_equal(mdm_sentinel_host(s, 2), "::1");
	assert_int_equal(mdm_sentinel_port(s, 2), 26381);
	assert_string_equal(mdm_sentinel_master_name(s), "mdm-master");
	assert_string_equal(pw, "p@ss:w0rd");
	assert_int_equal(db, 3);
	assert_int_equal(mdm_sentinel_wait_replicas(s), 1);
	assert_int_equal(mdm_sentinel_wait_ms(s), 1000);
	mdm_sentinel_destroy(&s);
	assert_null(s);

	db = 0;
	s = mdm_sentinel_new("redis-sentinel://h:1/m?wait_replicas=0&wait_ms=250", pw, sizeof pw,
			     &db, &err);
	assert_non_null(s);
	assert_int_equal(mdm_sentinel_wait_replicas(s), 0);
	assert_int_equal(mdm_sentinel_wait_ms(s), 250);
	assert_int_equal(db, 0);
	mdm_sentinel_destroy(&s);
	s = mdm_sentinel_new("redis-sentinel://h:1/m/?wait_replicas=2", NULL, 0, NULL, &err);
	assert_non_null(s);
	assert_int_equal(mdm_sentinel_wait_replicas(s), 2);
	mdm_sentinel_destroy(&s);

	/* the store takes the same URLs */
	static const char *good[] = {"redis-sentinel://127.0.0.1:26379/mymaster",
				     "redis-sentinel://a:1,b:2,c:3/mymaster/0",
				     "redis-sentinel://:pw@a/m?wait_ms=1500"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mdm_store_t *st = mdm_store_new(good[i], &err);
		if (st == NULL)
			fail_msg("'%s' refused: %s", good[i], err.text);
		mdm_store_destroy(&st);
	}
}

static void test_url_sentinel_bad_forms_are_refused(void **state)
{
	(void)state;
	static const char *bad[] = {
		"redis-sentinel://",                 "redis-sentinel://h:1",
		"redis-sentinel://h:1/",             "redis-sentinel:///m",
		"redis-sentinel://h:0/m",            "redis-sentinel://h:65536/m",
		"redis-sentinel://h:x/m",            "redis-sentinel://h:1,/m",
		"redis-sentinel://,h:1/m",           "redis-sentinel://h:1/m/x",
		"redis-sentinel://h:1/m/1/2",        "redis-sentinel://h:1/m a",
		"redis-sentinel://h:1/m?wait_ms=0",  "redis-sentinel://h:1/m?wait_ms=5000",
		"redis-sentinel://h:1/m?wait=1",     "redis-sentinel://h:1/m?wait_replicas",
		"redis-sentinel://[::1/m",           "redis-sentinel://h:/m",
		"REDIS-SENTINEL://h:1/m",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mdm_err_t err = {0};
		mdm_store_t *st = mdm_store_new(bad[i], &err);
		if (st != NULL) {
			mdm_store_destroy(&st);
			fail_msg("'%s' accepted", bad[i]);
		}
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	}
}

static void test_readonly_replies_are_recognised(void **state)
{
	(void)state;
	redisReply r = {0};
	r.type = REDIS_REPLY_ERROR;
	r.str = "READONLY You can't write against a read only replica. script: 2dc6, on @user_script:1.";
	assert_true(mdm_sentinel_is_readonly(&r));
	r.str = "ERR Error running script (call to f_x): @user_script:1: @user_script: 1: -READONLY You can't write";
	assert_true(mdm_sentinel_is_readonly(&r));
	r.str = "SPENT enrollment secret already used or expired";
	assert_false(mdm_sentinel_is_readonly(&r));
	r.type = REDIS_REPLY_STATUS;
	r.str = "READONLY";
	assert_false(mdm_sentinel_is_readonly(&r));
	assert_false(mdm_sentinel_is_readonly(NULL));
}

/* ---- master + two replicas + sentinel fixture ---------------------------------------- */

/* Two replicas, as operations.md recommends with wait_replicas=1: after a failover the new
 * master still has a replica to confirm writes. */
static struct {
	int available;
	char dir[64];
	pid_t master, replica, replica2, sentinel;
	int master_port, replica_port, replica2_port, sentinel_port, dead_port;
	char url[160];
} s_fx;

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

static int s_have_program(const char *name)
{
	const char *path = getenv("PATH");
	char dir[4096], full[4200];
	snprintf(dir, sizeof dir, "%s", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dir, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof full, "%s/%s", d, name);
		if (access(full, X_OK) == 0)
			return 1;
	}
	return 0;
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

/* fork + exec argv with output into dir/log; the child's pid */
static pid_t s_spawn(const char *log, char *const argv[])
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a test that crashed */
		char path[128];
		snprintf(path, sizeof path, "%s/%s", s_fx.dir, log);
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void s_kill(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGCONT);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

static redisReply *s_ask(int port, const char *fmt, ...)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	if (c == NULL || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	return r;
}

/* 1 if the reply to the command contains needle (arrays flattened) */
static int s_reply_has(redisReply *r, const char *needle)
{
	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		return strstr(r->str, needle) != NULL;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (s_reply_has(r->element[i], needle))
			return 1;
	return 0;
}

/* polls `cmd` on port until its reply contains needle, up to ms */
static int s_wait_for(int port, const char *needle, int ms, const char *fmt, ...)
{
	int64_t end = s_now_ms() + ms;
	while (s_now_ms() < end) {
		struct timeval tv = {1, 0};
		redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
		if (c && !c->err) {
			redisSetTimeout(c, tv);
			va_list ap;
			va_start(ap, fmt);
			redisReply *r = redisvCommand(c, fmt, ap);
			va_end(ap);
			int ok = s_reply_has(r, needle);
			if (r)
				freeReplyObject(r);
			redisFree(c);
			if (ok)
				return 0;
		} else if (c) {
			redisFree(c);
		}
		s_sleep_ms(50);
	}
	return -1;
}

static pid_t s_redis(int port, int replica_of, const char *name)
{
	char p[16], dir[80], rep[48], rdb[64], log[64];
	snprintf(p, sizeof p, "%d", port);
	snprintf(dir, sizeof dir, "%s", s_fx.dir);
	snprintf(rep, sizeof rep, "127.0.0.1 %d", replica_of);
	char *argv[] = {"redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--daemonize", "no", "--dir", dir, "--repl-diskless-sync-delay", "0",
			"--dbfilename", rdb, replica_of ? "--replicaof" : NULL, rep, NULL};
	snprintf(rdb, sizeof rdb, "%s.rdb", name);
	snprintf(log, sizeof log, "%s.log", name);
	return s_spawn(log, argv);
}

static int s_group_setup(void **state)
{
	(void)state;
	if (!s_have_program("redis-server"))
		return 0; /* every fixture test skips (fails under CI=true) */
	snprintf(s_fx.dir, sizeof s_fx.dir, "/tmp/mdm-test-sentinel-%ld", (long)getpid());
	mkdir(s_fx.dir, 0700);
	s_fx.master_port = s_free_tcp_port();
	s_fx.replica_port = s_free_tcp_port();
	s_fx.replica2_port = s_free_tcp_port();
	s_fx.sentinel_port = s_free_tcp_port();
	s_fx.dead_port = s_free_tcp_port(); /* nothing listens there: a dead sentinel */
	s_fx.master = s_redis(s_fx.master_port, 0, "master");
	s_fx.replica = s_redis(s_fx.replica_port, s_fx.master_port, "replica");
	s_fx.replica2 = s_redis(s_fx.replica2_port, s_fx.master_port, "replica2");
	/* the sentinel starts once the replicas are in sync, so its first INFO lists them */
	if (s_wait_for(s_fx.replica_port, "connected", 10000, "ROLE") != 0 ||
	    s_wait_for(s_fx.replica2_port, "connected", 10000, "ROLE") != 0)
		return 0;
	char conf[128];
	snprintf(conf, sizeof conf, "%s/sentinel.conf", s_fx.dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		return 0;
	fprintf(f,
		"port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\n"
		"sentinel monitor mymaster 127.0.0.1 %d 1\n"
		"sentinel down-after-milliseconds mymaster 1000\n"
		"sentinel failover-timeout mymaster 5000\n",
		s_fx.sentinel_port, s_fx.dir, s_fx.master_port);
	fclose(f);
	char *argv_s[] = {"redis-sentinel", conf, NULL};
	char *argv_r[] = {"redis-server", conf, "--sentinel", NULL};
	s_fx.sentinel = s_spawn("sentinel.log", s_have_program("redis-sentinel") ? argv_s : argv_r);
	/* ready when the sentinel knows both replicas */
	char rp[16], rp2[16];
	snprintf(rp, sizeof rp, "%d", s_fx.replica_port);
	snprintf(rp2, sizeof rp2, "%d", s_fx.replica2_port);
	if (s_wait_for(s_fx.sentinel_port, rp, 15000, "SENTINEL replicas mymaster") != 0 ||
	    s_wait_for(s_fx.sentinel_port, rp2, 15000, "SENTINEL replicas mymaster") != 0)
		return 0;
	snprintf(s_fx.url, sizeof s_fx.url, "redis-sentinel://127.0.0.1:%d,127.0.0.1:%d/mymaster",
		 s_fx.dead_port, s_fx.sentinel_port);
	s_fx.available = 1;
	return 0;
}

static int s_group_teardown(void **state)
{
	(void)state;
	s_kill(&s_fx.sentinel);
	s_kill(&s_fx.replica);
	s_kill(&s_fx.replica2);
	s_kill(&s_fx.master);
	if (s_fx.dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_fx.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s_fx.dir);
	}
	return 0;
}

#define S_NEED_FIXTURE()                                                                    \
	do {                                                                                \
		if (!s_fx.available) {                                                      \
			if (getenv("CI"))                                                   \
				fail_msg("redis-server / redis-sentinel fixture did not start " \
					 "(CI=true); logs in %s",                                   \
					 s_fx.dir);                                                 \
			print_message("skipped: no redis-server / redis-sentinel\n");      \
			skip();                                                             \
		}                                                                           \
	} while (0)

static char *s_get(int port, const char *key)
{
	static char out[128];
	redisReply *r = s_ask(port, "HGET %s pwhash", key);
	snprintf(out, sizeof out, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "(none)");
	if (r)
		freeReplyObject(r);
	return out;
}

/* ---- discovery, WAIT, failover ------------------------------------------------------- */

static void test_store_finds_the_master_through_a_live_sentinel(void **state)
{
	S_NEED_FIXTURE();
	(void)state;
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(s_fx.url, &err);
	assert_non_null(st);
	assert_int_equal(mdm_store_ping(st, &err), 0);
	assert_int_equal(mdm_store_user_create(st, "disco@example.com", "h-disco", 1, &err), 0);
	mdm_store_destroy(&st);
	assert_string_equal(s_get(s_fx.master_port, "mdm:user:disco@example.com"), "h-disco");
	/* WAIT returned: a replica has the write already, no sleep needed */
	char a[128], b[128];
	snprintf(a, sizeof a, "%s", s_get(s_fx.replica_port, "mdm:user:disco@example.com"));
	snprintf(b, sizeof b, "%s", s_get(s_fx.replica2_port, "mdm:user:disco@example.com"));
	if (strcmp(a, "h-disco") != 0 && strcmp(b, "h-disco") != 0)
		fail_msg("no replica has the write: %s / %s", a, b);
}

static void test_unknown_master_name_is_unavailable(void **state)
{
	S_NEED_FIXTURE();
	(void)state;
	char url[160];
	snprintf(url, sizeof url, "redis-sentinel://127.0.0.1:%d/nosuchmaster", s_fx.sentinel_port);
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(url, &err);
	assert_non_null(st);
	assert_int_equal(mdm_store_ping(st, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
	mdm_store_destroy(&st);
}

static void test_write_the_replica_cannot_confirm_is_unavailable(void **state)
{
	S_NEED_FIXTURE();
	(void)state;
	char url[200];
	snprintf(url, sizeof url, "%s?wait_ms=300", s_fx.url);
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(url, &err);
	assert_non_null(st);
	assert_int_equal(mdm_store_ping(st, &err), 0);
	kill(s_fx.replica, SIGSTOP);
	kill(s_fx.replica2, SIGSTOP);
	int64_t t0 = s_now_ms();
	int rc = mdm_store_user_create(st, "lonely@example.com", "h", 1, &err);
	int64_t took = s_now_ms() - t0;
	/* reads do not wait for anything */
	mdm_err_t e2 = {0};
	char out[16];
	int rc_read = mdm_store_user_pwhash(st, "nobody@example.com", out, sizeof out, &e2);
	/* with wait_replicas=0 the same write is acknowledged by the master alone */
	char url0[200];
	snprintf(url0, sizeof url0, "%s?wait_replicas=0", s_fx.url);
	mdm_err_t e3 = {0};
	mdm_store_t *st0 = mdm_store_new(url0, &e3);
	int rc0 = mdm_store_user_create(st0, "solo@example.com", "h", 1, &e3);
	kill(s_fx.replica, SIGCONT);
	kill(s_fx.replica2, SIGCONT);
	mdm_store_destroy(&st);
	mdm_store_destroy(&st0);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
	assert_true(took >= 250 && took < 1500);
	assert_int_equal(rc_read, 1);
	assert_int_equal(rc0, 0);
}

/* The port the sentinel names as master, 0 if none. */
static int s_sentinel_master_port(void)
{
	redisReply *r = s_ask(s_fx.sentinel_port, "SENTINEL get-master-addr-by-name mymaster");
	int port = 0;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		port = atoi(r->element[1]->str);
	if (r)
		freeReplyObject(r);
	return port;
}

/* The master dies (SIGKILL) right after acknowledging writes: the store, told nothing,
 * reports the storage unavailable while the sentinel fails over, then writes to the
 * promoted replica, which has every write acknowledged before the kill (WAIT). */
static void test_store_follows_a_failover(void **state)
{
	S_NEED_FIXTURE();
	(void)state;
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(s_fx.url, &err);
	assert_non_null(st);
	/* both replicas healthy again after the SIGSTOP test */
	assert_int_equal(s_wait_for(s_fx.replica_port, "connected", 10000, "ROLE"), 0);
	assert_int_equal(s_wait_for(s_fx.replica2_port, "connected", 10000, "ROLE"), 0);
	char email[64];
	for (int i = 0; i < 50; i++) {
		snprintf(email, sizeof email, "before%d@example.com", i);
		assert_int_equal(mdm_store_user_create(st, email, "h-before", 1, &err), 0);
	}
	s_kill(&s_fx.master);
	/* writes are refused until one lands on the new master with a replica behind it;
	 * each attempt uses a new email: a refused write may still have run */
	int rc = -1, refused = 0;
	int64_t t0 = s_now_ms();
	for (int64_t end = t0 + 20000; rc != 0 && s_now_ms() < end;) {
		snprintf(email, sizeof email, "after%d@example.com", refused);
		mdm_err_clear(&err);
		rc = mdm_store_user_create(st, email, "h-after", 2, &err);
		if (rc != 0) {
			assert_int_equal(err.code, MDM_E_UNAVAILABLE);
			refused++;
			s_sleep_ms(100);
		}
	}
	if (rc != 0)
		fail_msg("no write accepted after the failover: %s", err.text);
	int port = s_sentinel_master_port();
	if (port != s_fx.replica_port && port != s_fx.replica2_port)
		fail_msg("no failover: the sentinel names port %d", port);
	char key[96];
	snprintf(key, sizeof key, "mdm:user:%s", email);
	assert_string_equal(s_get(port, key), "h-after");
	char out[32];
	for (int i = 0; i < 50; i++) {
		snprintf(email, sizeof email, "before%d@example.com", i);
		mdm_err_clear(&err);
		assert_int_equal(mdm_store_user_pwhash(st, email, out, sizeof out, &err), 0);
		assert_string_equal(out, "h-before");
	}
	print_message("failover followed in %d ms, %d write(s) refused meanwhile\n",
		      (int)(s_now_ms() - t0), refused);
	mdm_store_destroy(&st);
}

int main(void)
{
	mdm_log_init("test_sentinel", MDM_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_sentinel_forms),
		cmocka_unit_test(test_url_sentinel_bad_forms_are_refused),
		cmocka_unit_test(test_readonly_replies_are_recognised),
		cmocka_unit_test(test_store_finds_the_master_through_a_live_sentinel),
		cmocka_unit_test(test_unknown_master_name_is_unavailable),
		cmocka_unit_test(test_write_the_replica_cannot_confirm_is_unavailable),
		cmocka_unit_test(test_store_follows_a_failover),
	};
	return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
