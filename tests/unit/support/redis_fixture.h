/* redis_fixture.h -- the shared redis-server fixture of the store unit tests: a private
 * redis-server on a free loopback port (and a unix socket) per test binary, a raw hiredis
 * connection to check what the store wrote, and S_NEED_REDIS() (skip, or fail under CI=true).
 * Include it after cmocka.h and mdm_store.h, with MDM_TEST_NAME defined (a short name used in
 * the socket path). */
#ifndef MDM_TEST_REDIS_FIXTURE_H
#define MDM_TEST_REDIS_FIXTURE_H

#ifndef MDM_TEST_NAME
#error "define MDM_TEST_NAME before including redis_fixture.h"
#endif

#include "redis_server.h"

static int s_group_setup(void **state)
{
	(void)state;
	s_redis_up(MDM_TEST_NAME);
	return 0;
}

static int s_group_teardown(void **state)
{
	(void)state;
	s_redis_kill();
	unlink(s_redis.sock);
	return 0;
}

/* A raw connection to check what the store wrote, independently of the store. */
static redisContext *s_raw_ctx;

static redisReply *s_raw(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(s_raw_ctx, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	return r;
}

static long long s_raw_int(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(s_raw_ctx, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

static void s_raw_ok(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(s_raw_ctx, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_ERROR)
		fail_msg("raw redis: %s", r->str);
	freeReplyObject(r);
}

static int s_setup(void **state)
{
	*state = NULL;
	if (!s_redis.available)
		return 0;
	struct timeval tv = {2, 0};
	s_raw_ctx = redisConnectWithTimeout("127.0.0.1", s_redis.port, tv);
	if (s_raw_ctx == NULL || s_raw_ctx->err)
		return -1;
	redisReply *r = redisCommand(s_raw_ctx, "FLUSHALL");
	if (r)
		freeReplyObject(r);
	mdm_err_t err = {0};
	*state = mdm_store_new(s_redis.url, &err);
	return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
	mdm_store_t *st = *state;
	mdm_store_destroy(&st);
	if (s_raw_ctx) {
		redisFree(s_raw_ctx);
		s_raw_ctx = NULL;
	}
	return 0;
}

#define S_NEED_REDIS()                                                                      \
	do {                                                                                \
		if (!s_redis.available) {                                                   \
			if (getenv("CI"))                                                   \
				fail_msg("redis-server not available (CI=true)");           \
			print_message("skipped: redis-server not available\n");           \
			skip();                                                             \
		}                                                                           \
	} while (0)


#endif
