/* test_store.c -- libs/store against a real redis-server started by the test: URLs, users, pre-enrollments, atomic enroll/spend, re-enrollment, renewal, paging, Redis down and back. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mdm_log.h"
#include "mdm_store.h"

/* ---- the redis-server fixture -------------------------------------------------------- */

#define MDM_TEST_NAME "store"
#include "support/redis_fixture.h"

/* ---- data helpers -------------------------------------------------------------------- */

static json_t *s_device(const char *id, const char *hw, const char *thumb)
{
	char serial[64];
	snprintf(serial, sizeof serial, "SER-%s", thumb);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "device_id", id, "hwdevid", hw,
			 "cert_thumbprint", thumb, "cert_serial", serial, "cert_not_after",
			 "1900000000", "device_name", "laptop");
}

static const char *s_field(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	return v ? v : "(missing)";
}

/* Device record field, "(none)" when the device does not exist. */
static char *s_dev_field(mdm_store_t *st, const char *id, const char *name)
{
	static char out[256];
	mdm_err_t err = {0};
	json_t *d = mdm_store_device_get(st, id, &err);
	snprintf(out, sizeof out, "%s", d ? s_field(d, name) : "(none)");
	json_decref(d);
	return out;
}

static char *s_cert_field(mdm_store_t *st, const char *thumb, const char *name)
{
	static char out[256];
	mdm_err_t err = {0};
	json_t *c = mdm_store_cert_get(st, thumb, &err);
	snprintf(out, sizeof out, "%s", c ? s_field(c, name) : "(none)");
	json_decref(c);
	return out;
}

static size_t s_list_count(mdm_store_t *st)
{
	mdm_err_t err = {0};
	json_t *page = mdm_store_device_list(st, 0, 1000, &err);
	assert_non_null(page);
	size_t n = json_array_size(json_object_get(page, "devices"));
	json_decref(page);
	return n;
}

static int s_enroll(mdm_store_t *st, const char *id, const char *hw, const char *thumb,
		    mdm_spend_t spend, const char *key, const char *arg, time_t now, mdm_err_t *err)
{
	json_t *d = s_device(id, hw, thumb);
	int rc = mdm_store_enroll(st, d, spend, key, arg, 600, now, err);
	json_decref(d);
	return rc;
}

/* ---- URLs ---------------------------------------------------------------------------- */

static void test_url_forms_are_parsed(void **state)
{
	(void)state;
	static const char *good[] = {"redis://127.0.0.1:6379", "redis://localhost", "redis://",
				     "redis://h:1/2", "redis://:secret@h:6380/1",
				     "redis://user:secret@h", "unix:///run/redis.sock"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mdm_err_t err = {0};
		mdm_store_t *st = mdm_store_new(good[i], &err);
		if (st == NULL)
			fail_msg("'%s' refused: %s", good[i], err.text);
		mdm_store_destroy(&st);
	}
	static const char *bad[] = {"",          "http://127.0.0.1:6379", "redis:/h",
				    "unix://",   "redis://h:0",           "redis://h:65536",
				    "redis://h:abc", "redis://h:-1",       "REDIS://h"};
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

/* BUG (libs/store/mdm_store.c:48-53): s_parse_url ignores whatever follows the port digits
 * and reads the db with atoi(), so typos are accepted silently: "6379x" connects to 6379 and
 * "/one" selects db 0. */
static void test_url_with_trailing_garbage_is_refused(void **state)
{
	(void)state;
	static const char *bad[] = {"redis://h:6379x", "redis://h:6379/one", "redis://h/1x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mdm_err_t err = {0};
		mdm_store_t *st = mdm_store_new(bad[i], &err);
		if (st != NULL) {
			mdm_store_destroy(&st);
			fail_msg("'%s' accepted", bad[i]);
		}
	}
}

static void test_url_db_number_selects_the_database(void **state)
{
	S_NEED_REDIS();
	(void)state;
	char url[96];
	snprintf(url, sizeof url, "%s/3", s_redis.url);
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(url, &err);
	assert_non_null(st);
	assert_int_equal(mdm_store_user_create(st, "db3@example.com", "h", 1, &err), 0);
	mdm_store_destroy(&st);
	assert_int_equal(s_raw_int("EXISTS mdm:user:db3@example.com"), 0);
	s_raw_ok("SELECT 3");
	assert_int_equal(s_raw_int("EXISTS mdm:user:db3@example.com"), 1);
	s_raw_ok("SELECT 0");
}

static void test_url_password_is_sent_with_auth(void **state)
{
	S_NEED_REDIS();
	(void)state;
	s_raw_ok("CONFIG SET requirepass s3cret-pw");
	char good[128], wrong[128];
	snprintf(good, sizeof good, "redis://:s3cret-pw@127.0.0.1:%d", s_redis.port);
	snprintf(wrong, sizeof wrong, "redis://:nope@127.0.0.1:%d", s_redis.port);
	mdm_err_t err = {0};
	mdm_store_t *ok = mdm_store_new(good, &err), *bad = mdm_store_new(wrong, &err),
		    *none = mdm_store_new(s_redis.url, &err);
	assert_non_null(ok);
	assert_non_null(bad);
	assert_non_null(none);
	int rc_ok = mdm_store_ping(ok, &err);
	mdm_err_t e_bad = {0}, e_none = {0};
	int rc_bad = mdm_store_ping(bad, &e_bad);
	int rc_none = mdm_store_ping(none, &e_none);
	s_raw_ok("AUTH s3cret-pw");
	s_raw_ok("CONFIG SET requirepass %s", "");
	mdm_store_destroy(&ok);
	mdm_store_destroy(&bad);
	mdm_store_destroy(&none);
	assert_int_equal(rc_ok, 0);
	assert_int_equal(rc_bad, -1);
	assert_int_equal(e_bad.code, MDM_E_UNAVAILABLE);
	assert_int_equal(rc_none, -1);
	assert_int_not_equal(e_none.code, MDM_OK);
}

static void test_url_unix_socket(void **state)
{
	S_NEED_REDIS();
	(void)state;
	char url[128];
	snprintf(url, sizeof url, "unix://%s", s_redis.sock);
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(url, &err);
	assert_non_null(st);
	assert_int_equal(mdm_store_ping(st, &err), 0);
	assert_int_equal(mdm_store_user_create(st, "unix@example.com", "h", 1, &err), 0);
	mdm_store_destroy(&st);
	assert_int_equal(s_raw_int("EXISTS mdm:user:unix@example.com"), 1);
}

/* ---- users --------------------------------------------------------------------------- */

static void test_user_create_then_conflict_case_insensitively(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_user_create(st, "Alice@Example.com", "hash-1", 1700000000, &err),
			 0);
	assert_int_equal(err.code, MDM_OK);
	assert_int_equal(mdm_store_user_create(st, "alice@example.com", "hash-2", 1700000001, &err),
			 -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_user_create(st, "ALICE@EXAMPLE.COM", "hash-3", 1, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	/* the first record is untouched, stored under the lower-cased email */
	redisReply *r = s_raw("HGETALL mdm:user:alice@example.com");
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 6);
	freeReplyObject(r);
	r = s_raw("HMGET mdm:user:alice@example.com email pwhash created_at");
	assert_string_equal(r->element[0]->str, "alice@example.com");
	assert_string_equal(r->element[1]->str, "hash-1");
	assert_string_equal(r->element[2]->str, "1700000000");
	freeReplyObject(r);
}

static void test_user_pwhash_found_and_unknown(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_user_create(st, "bob@example.com", "$pbkdf2$abc", 1, &err), 0);
	char out[64] = "";
	assert_int_equal(mdm_store_user_pwhash(st, "BOB@example.COM", out, sizeof out, &err), 0);
	assert_string_equal(out, "$pbkdf2$abc");
	strcpy(out, "untouched");
	assert_int_equal(mdm_store_user_pwhash(st, "nobody@example.com", out, sizeof out, &err), 1);
	assert_int_equal(err.code, MDM_OK);
	/* a small buffer gets a truncated, terminated copy */
	char small[5];
	assert_int_equal(mdm_store_user_pwhash(st, "bob@example.com", small, sizeof small, &err), 0);
	assert_string_equal(small, "$pbk");
}

/* ---- pre-enrollments ----------------------------------------------------------------- */

static void test_preenroll_create_get_and_ttl(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_preenroll_create(st, "aaaa1111", "Carol@Example.com", "desk-7",
						    "sales", 1700000000, 60, &err),
			 0);
	char email[64] = "", name[64] = "";
	assert_int_equal(mdm_store_preenroll_get(st, "aaaa1111", email, sizeof email, name,
						 sizeof name, &err),
			 0);
	assert_string_equal(email, "carol@example.com");
	assert_string_equal(name, "desk-7");
	long long ttl = s_raw_int("TTL mdm:pre:aaaa1111");
	assert_true(ttl > 0 && ttl <= 60);
	redisReply *r = s_raw("HMGET mdm:pre:aaaa1111 group created_at expires_at");
	assert_string_equal(r->element[0]->str, "sales");
	assert_string_equal(r->element[1]->str, "1700000000");
	assert_string_equal(r->element[2]->str, "1700000060");
	freeReplyObject(r);
	/* device_name is optional on both sides */
	assert_int_equal(mdm_store_preenroll_create(st, "bbbb2222", "d@e.f", NULL, NULL, 1, 60, &err),
			 0);
	assert_int_equal(
		mdm_store_preenroll_get(st, "bbbb2222", email, sizeof email, NULL, 0, &err), 0);
	assert_string_equal(email, "d@e.f");
	/* unknown */
	assert_int_equal(mdm_store_preenroll_get(st, "cccc3333", email, sizeof email, name,
						 sizeof name, &err),
			 1);
	assert_int_equal(err.code, MDM_OK);
}

static void test_preenroll_expires_after_its_ttl(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(
		mdm_store_preenroll_create(st, "dddd4444", "x@y.z", "n", "g", time(NULL), 1, &err), 0);
	char email[64];
	assert_int_equal(mdm_store_preenroll_get(st, "dddd4444", email, sizeof email, NULL, 0, &err),
			 0);
	s_sleep_ms(1200);
	assert_int_equal(mdm_store_preenroll_get(st, "dddd4444", email, sizeof email, NULL, 0, &err),
			 1);
	/* and an expired secret cannot be spent */
	assert_int_equal(s_enroll(st, "DEV-EXP", "HW-EXP", "T-EXP", MDM_SPEND_PREENROLL, "dddd4444",
				  "x@y.z", 10, &err),
			 -1);
	assert_int_equal(err.code, MDM_E_AUTHENTICATION);
	assert_int_equal(s_list_count(st), 0);
}

/* BUG (libs/store/mdm_store.c:256-270): mdm_store_preenroll_create sends MULTI, HSET,
 * EXPIRE, EXEC one by one and stops at the first error reply without DISCARD. When Redis
 * refuses the queued HSET (here: OOM under maxmemory), the connection stays inside MULTI:
 * every later command of this store is only QUEUED, so e.g. user_create reports a
 * conflict that does not exist and MULTI itself fails from then on. */
static void test_preenroll_failure_does_not_leave_the_connection_in_multi(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_ping(st, &err), 0);
	s_raw_ok("CONFIG SET maxmemory 1");
	int rc = mdm_store_preenroll_create(st, "eeee5555", "x@y.z", "n", "g", 1, 60, &err);
	s_raw_ok("CONFIG SET maxmemory 0");
	assert_int_equal(rc, -1);
	assert_int_not_equal(err.code, MDM_OK);
	/* Redis is healthy again: the same store must work normally */
	mdm_err_clear(&err);
	rc = mdm_store_user_create(st, "after-oom@example.com", "h", 1, &err);
	if (rc != 0)
		fail_msg("user_create after a refused pre-enrollment: %s (%s)", err.text,
			 mdm_code_name(err.code));
	assert_int_equal(s_raw_int("EXISTS mdm:user:after-oom@example.com"), 1);
	assert_int_equal(mdm_store_preenroll_create(st, "ffff6666", "x@y.z", "n", "g", 1, 60, &err),
			 0);
}

/* ---- failed sign-in counters --------------------------------------------------------- */

static void test_auth_failures_count_within_a_window_and_clear(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_auth_failures(st, "Fay@Example.com", &err), 0);
	assert_int_equal(mdm_store_auth_failure_add(st, "Fay@Example.com", 300, &err), 1);
	assert_int_equal(mdm_store_auth_failure_add(st, "fay@example.com", 300, &err), 2);
	assert_int_equal(mdm_store_auth_failure_add(st, "FAY@EXAMPLE.COM", 300, &err), 3);
	assert_int_equal(mdm_store_auth_failures(st, "fay@example.com", &err), 3);
	long long ttl = s_raw_int("TTL mdm:fail:fay@example.com");
	assert_true(ttl > 0 && ttl <= 300);
	/* later failures do not extend the window */
	s_raw_ok("EXPIRE mdm:fail:fay@example.com 100");
	assert_int_equal(mdm_store_auth_failure_add(st, "fay@example.com", 300, &err), 4);
	ttl = s_raw_int("TTL mdm:fail:fay@example.com");
	assert_true(ttl > 0 && ttl <= 100);
	/* other accounts are independent */
	assert_int_equal(mdm_store_auth_failures(st, "gus@example.com", &err), 0);
	mdm_store_auth_failures_clear(st, "Fay@example.com");
	assert_int_equal(mdm_store_auth_failures(st, "fay@example.com", &err), 0);
	assert_int_equal(err.code, MDM_OK);
}

static void test_auth_failures_window_expires(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_auth_failure_add(st, "hal@example.com", 1, &err), 1);
	assert_int_equal(mdm_store_auth_failure_add(st, "hal@example.com", 1, &err), 2);
	s_sleep_ms(1200);
	assert_int_equal(mdm_store_auth_failures(st, "hal@example.com", &err), 0);
	assert_int_equal(mdm_store_auth_failure_add(st, "hal@example.com", 1, &err), 1);
}

/* BUG (libs/store/mdm_store.c:323-331): mdm_store_auth_failure_add runs SET NX EX and INCR
 * as two commands. When the window expires between them, SET NX finds the key (no-op) and
 * INCR then creates a fresh counter WITHOUT a TTL: the account's failures never expire and
 * it stays throttled for good. The test lets windows expire at every offset around the
 * call until one falls in that gap. Fix: one atomic step, e.g. EVAL "local n =
 * redis.call('INCR', KEYS[1]) if redis.call('TTL', KEYS[1]) < 0 then
 * redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n" (or MULTI INCR / EXPIRE NX). */
static void test_auth_failures_window_never_loses_its_expiry(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	int lost = 0, tries = 0;
	for (int d = 500; d <= 3000 && !lost; d += 7, tries++) {
		s_raw_ok("SET mdm:fail:race@example.com 5 PX 2");
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < d);
		assert_true(mdm_store_auth_failure_add(st, "race@example.com", 60, &err) > 0);
		lost = s_raw_int("TTL mdm:fail:race@example.com") == -1;
		s_raw_ok("DEL mdm:fail:race@example.com");
	}
	if (lost)
		fail_msg("after %d tries: a failure counter without expiry (account locked for good)",
			 tries);
}

/* ---- enrollment ---------------------------------------------------------------------- */

static void test_enroll_writes_device_cert_list_and_hw_index(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(s_enroll(st, "DEV-1", "HW-1", "AAAA", MDM_SPEND_NONE, NULL, NULL,
				  1700000000, &err),
			 0);
	json_t *d = mdm_store_device_get(st, "DEV-1", &err);
	assert_non_null(d);
	assert_string_equal(s_field(d, "device_id"), "DEV-1");
	assert_string_equal(s_field(d, "hwdevid"), "HW-1");
	assert_string_equal(s_field(d, "cert_thumbprint"), "AAAA");
	assert_string_equal(s_field(d, "cert_serial"), "SER-AAAA");
	assert_string_equal(s_field(d, "device_name"), "laptop");
	assert_string_equal(s_field(d, "state"), "enrolled");
	assert_string_equal(s_field(d, "enrolled_at"), "1700000000");
	assert_string_equal(s_field(d, "first_enrolled_at"), "1700000000");
	json_decref(d);
	json_t *c = mdm_store_cert_get(st, "AAAA", &err);
	assert_non_null(c);
	assert_string_equal(s_field(c, "device_id"), "DEV-1");
	assert_string_equal(s_field(c, "serial"), "SER-AAAA");
	assert_string_equal(s_field(c, "not_after"), "1900000000");
	assert_string_equal(s_field(c, "state"), "active");
	assert_string_equal(s_field(c, "issued_at"), "1700000000");
	json_decref(c);
	json_t *page = mdm_store_device_list(st, 0, 10, &err);
	assert_non_null(page);
	json_t *list = json_object_get(page, "devices");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(s_field(json_array_get(list, 0), "device_id"), "DEV-1");
	assert_true(json_is_null(json_object_get(page, "next")));
	json_decref(page);
	redisReply *r = s_raw("GET mdm:hw:HW-1");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "DEV-1");
	freeReplyObject(r);
}

static void test_get_of_unknown_records_is_not_found(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_null(mdm_store_device_get(st, "NOPE", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_null(mdm_store_cert_get(st, "NOPE", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
}

static void test_enroll_refuses_incomplete_device(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	json_t *d = json_pack("{s:s,s:s}", "device_id", "D", "hwdevid", "H");
	assert_int_equal(mdm_store_enroll(st, d, MDM_SPEND_NONE, NULL, NULL, 0, 1, &err), -1);
	assert_int_not_equal(err.code, MDM_OK);
	json_decref(d);
	assert_int_equal(s_raw_int("DBSIZE"), 0);
}

/* BUG (libs/store/mdm_store.c:427): mdm_store_enroll checks device_id, hwdevid and
 * cert_thumbprint but not cert_serial / cert_not_after, which mdm_store.h also requires. The
 * Lua script then fails on its last HSET (nil argument) after it already deleted the
 * pre-enrollment secret and wrote the device record -- Redis does not roll back a script
 * error -- so "if anything fails nothing is written" does not hold. */
static void test_enroll_without_cert_serial_writes_nothing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_preenroll_create(st, "9999aaaa", "u@x.y", "n", "g", 1, 60, &err),
			 0);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "device_id", "DEV-NS", "hwdevid", "HW-NS",
			      "cert_thumbprint", "NSNS", "cert_not_after", "1900000000");
	int rc = mdm_store_enroll(st, d, MDM_SPEND_PREENROLL, "9999aaaa", "u@x.y", 0, 5, &err);
	json_decref(d);
	assert_int_equal(rc, -1);
	char email[64];
	mdm_err_t e2 = {0};
	int secret = mdm_store_preenroll_get(st, "9999aaaa", email, sizeof email, NULL, 0, &e2);
	long long dev = s_raw_int("EXISTS mdm:dev:DEV-NS");
	if (secret != 0 || dev != 0)
		fail_msg("a failed enrollment left writes behind: secret %s, device record %s",
			 secret == 0 ? "kept" : "SPENT", dev ? "WRITTEN" : "absent");
}

static void test_preenroll_secret_is_spent_exactly_once(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(
		mdm_store_preenroll_create(st, "5ec2e7", "Dana@Example.com", "n", "g", 1, 600, &err),
		0);
	/* the email is compared case-insensitively */
	assert_int_equal(s_enroll(st, "DEV-A", "HW-A", "TA", MDM_SPEND_PREENROLL, "5ec2e7",
				  "DANA@example.com", 100, &err),
			 0);
	char email[64];
	assert_int_equal(mdm_store_preenroll_get(st, "5ec2e7", email, sizeof email, NULL, 0, &err),
			 1);
	long long keys = s_raw_int("DBSIZE");
	/* second use with another device: refused, nothing new written */
	assert_int_equal(s_enroll(st, "DEV-B", "HW-B", "TB", MDM_SPEND_PREENROLL, "5ec2e7",
				  "dana@example.com", 101, &err),
			 -1);
	assert_int_equal(err.code, MDM_E_AUTHENTICATION);
	assert_int_equal(s_raw_int("DBSIZE"), keys);
	assert_string_equal(s_dev_field(st, "DEV-B", "state"), "(none)");
	assert_string_equal(s_cert_field(st, "TB", "state"), "(none)");
	assert_int_equal(s_raw_int("EXISTS mdm:hw:HW-B"), 0);
	assert_int_equal(s_list_count(st), 1);
	assert_string_equal(s_dev_field(st, "DEV-A", "enrolled_at"), "100");
}

static void test_preenroll_secret_of_another_user_is_refused(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_preenroll_create(st, "0ther5", "erin@example.com", "n", "g", 1,
						    600, &err),
			 0);
	assert_int_equal(s_enroll(st, "DEV-E", "HW-E", "TE", MDM_SPEND_PREENROLL, "0ther5",
				  "mallory@example.com", 100, &err),
			 -1);
	assert_int_equal(err.code, MDM_E_AUTHENTICATION);
	assert_non_null(strstr(err.text, "another user"));
	/* the rightful owner can still use it */
	char email[64];
	assert_int_equal(mdm_store_preenroll_get(st, "0ther5", email, sizeof email, NULL, 0, &err),
			 0);
	assert_int_equal(s_list_count(st), 0);
	mdm_err_clear(&err);
	assert_int_equal(s_enroll(st, "DEV-E", "HW-E", "TE", MDM_SPEND_PREENROLL, "0ther5",
				  "erin@example.com", 100, &err),
			 0);
	/* unknown secret */
	assert_int_equal(s_enroll(st, "DEV-F", "HW-F", "TF", MDM_SPEND_PREENROLL, "unknown",
				  "erin@example.com", 100, &err),
			 -1);
	assert_int_equal(err.code, MDM_E_AUTHENTICATION);
}

static void test_token_jti_is_single_use(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_token_spent(st, "jti-123", &err), 0);
	assert_int_equal(s_enroll(st, "DEV-T", "HW-T", "TT", MDM_SPEND_TOKEN, "jti-123", NULL, 100,
				  &err),
			 0);
	assert_int_equal(mdm_store_token_spent(st, "jti-123", &err), 1);
	long long ttl = s_raw_int("TTL mdm:tok:jti-123");
	assert_true(ttl > 0 && ttl <= 600); /* spend_ttl of s_enroll */
	long long keys = s_raw_int("DBSIZE");
	assert_int_equal(s_enroll(st, "DEV-U", "HW-U", "TU", MDM_SPEND_TOKEN, "jti-123", NULL, 101,
				  &err),
			 -1);
	assert_int_equal(err.code, MDM_E_AUTHENTICATION);
	assert_int_equal(s_raw_int("DBSIZE"), keys);
	assert_string_equal(s_dev_field(st, "DEV-U", "state"), "(none)");
	/* another token is independent */
	mdm_err_clear(&err);
	assert_int_equal(s_enroll(st, "DEV-U", "HW-U", "TU", MDM_SPEND_TOKEN, "jti-456", NULL, 102,
				  &err),
			 0);
	assert_int_equal(s_list_count(st), 2);
}

static void test_reenrollment_of_same_device_replaces_record_and_revokes_old_cert(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	json_t *d = s_device("DEV-R", "HW-R", "OLD1");
	json_object_set_new(d, "only_in_first", json_string("x"));
	assert_int_equal(mdm_store_enroll(st, d, MDM_SPEND_NONE, NULL, NULL, 0, 1000, &err), 0);
	json_decref(d);
	assert_int_equal(s_enroll(st, "DEV-R", "HW-R", "NEW2", MDM_SPEND_NONE, NULL, NULL, 2000,
				  &err),
			 0);
	assert_int_equal(s_list_count(st), 1);
	assert_string_equal(s_dev_field(st, "DEV-R", "cert_thumbprint"), "NEW2");
	assert_string_equal(s_dev_field(st, "DEV-R", "state"), "enrolled");
	assert_string_equal(s_dev_field(st, "DEV-R", "first_enrolled_at"), "1000");
	assert_string_equal(s_dev_field(st, "DEV-R", "enrolled_at"), "2000");
	assert_string_equal(s_dev_field(st, "DEV-R", "only_in_first"), "(missing)");
	assert_string_equal(s_cert_field(st, "OLD1", "state"), "revoked");
	assert_string_equal(s_cert_field(st, "OLD1", "revoked_at"), "2000");
	assert_string_equal(s_cert_field(st, "NEW2", "state"), "active");
	/* enrolling again with the same certificate does not revoke it */
	assert_int_equal(s_enroll(st, "DEV-R", "HW-R", "NEW2", MDM_SPEND_NONE, NULL, NULL, 3000,
				  &err),
			 0);
	assert_string_equal(s_cert_field(st, "NEW2", "state"), "active");
}

static void test_same_hardware_under_new_device_id_replaces_the_old_device(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(s_enroll(st, "DEV-OLD", "HW-SAME", "T-OLD", MDM_SPEND_NONE, NULL, NULL,
				  1000, &err),
			 0);
	assert_int_equal(s_enroll(st, "DEV-NEW", "HW-SAME", "T-NEW", MDM_SPEND_NONE, NULL, NULL,
				  2000, &err),
			 0);
	assert_string_equal(s_dev_field(st, "DEV-OLD", "state"), "replaced");
	assert_string_equal(s_dev_field(st, "DEV-OLD", "replaced_by"), "DEV-NEW");
	assert_string_equal(s_cert_field(st, "T-OLD", "state"), "revoked");
	assert_string_equal(s_dev_field(st, "DEV-NEW", "state"), "enrolled");
	assert_string_equal(s_cert_field(st, "T-NEW", "state"), "active");
	redisReply *r = s_raw("GET mdm:hw:HW-SAME");
	assert_string_equal(r->str, "DEV-NEW");
	freeReplyObject(r);
	/* both stay listed, newest first */
	mdm_err_t e2 = {0};
	json_t *page = mdm_store_device_list(st, 0, 10, &e2);
	json_t *list = json_object_get(page, "devices");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(s_field(json_array_get(list, 0), "device_id"), "DEV-NEW");
	assert_string_equal(s_field(json_array_get(list, 1), "device_id"), "DEV-OLD");
	json_decref(page);
	/* the replaced device cannot renew */
	assert_int_equal(mdm_store_renew(st, "DEV-OLD", "T-OLD", "T-X", "S", 1, 3000, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
}

static void test_renew_supersedes_old_and_activates_new(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(s_enroll(st, "DEV-N", "HW-N", "C1", MDM_SPEND_NONE, NULL, NULL, 1000, &err),
			 0);
	assert_int_equal(s_enroll(st, "DEV-O", "HW-O", "O1", MDM_SPEND_NONE, NULL, NULL, 1001, &err),
			 0);
	assert_int_equal(mdm_store_renew(st, "DEV-N", "C1", "C2", "SER-C2", 1950000000, 5000, &err),
			 0);
	assert_string_equal(s_cert_field(st, "C1", "state"), "superseded");
	assert_string_equal(s_cert_field(st, "C1", "superseded_by"), "C2");
	assert_string_equal(s_cert_field(st, "C1", "superseded_at"), "5000");
	assert_string_equal(s_cert_field(st, "C2", "state"), "active");
	assert_string_equal(s_cert_field(st, "C2", "device_id"), "DEV-N");
	assert_string_equal(s_cert_field(st, "C2", "serial"), "SER-C2");
	assert_string_equal(s_cert_field(st, "C2", "not_after"), "1950000000");
	assert_string_equal(s_dev_field(st, "DEV-N", "cert_thumbprint"), "C2");
	assert_string_equal(s_dev_field(st, "DEV-N", "cert_serial"), "SER-C2");
	assert_string_equal(s_dev_field(st, "DEV-N", "cert_not_after"), "1950000000");
	assert_string_equal(s_dev_field(st, "DEV-N", "renewed_at"), "5000");
	assert_string_equal(s_dev_field(st, "DEV-N", "state"), "enrolled");

	/* the superseded certificate cannot renew again */
	assert_int_equal(mdm_store_renew(st, "DEV-N", "C1", "C3", "S3", 1, 6000, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	assert_string_equal(s_cert_field(st, "C3", "state"), "(none)");
	/* nor can another device use this one's certificate */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_renew(st, "DEV-O", "C2", "C4", "S4", 1, 6000, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	assert_string_equal(s_cert_field(st, "C2", "state"), "active");
	assert_string_equal(s_dev_field(st, "DEV-O", "cert_thumbprint"), "O1");
	/* unknown certificate */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_renew(st, "DEV-N", "NOPE", "C5", "S5", 1, 6000, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	/* the new certificate renews in turn */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_renew(st, "DEV-N", "C2", "C6", "S6", 1, 7000, &err), 0);
	assert_string_equal(s_cert_field(st, "C2", "state"), "superseded");
	assert_string_equal(s_dev_field(st, "DEV-N", "cert_thumbprint"), "C6");
}

static void test_device_list_pages_newest_first(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	for (int i = 1; i <= 5; i++) {
		char id[16], hw[16], th[16];
		snprintf(id, sizeof id, "D%d", i);
		snprintf(hw, sizeof hw, "H%d", i);
		snprintf(th, sizeof th, "T%d", i);
		assert_int_equal(s_enroll(st, id, hw, th, MDM_SPEND_NONE, NULL, NULL, 1000 + i, &err),
				 0);
	}
	static const struct {
		long offset, limit;
		const char *ids;
		long next; /* -1: null */
	} pages[] = {{0, 2, "D5,D4", 2}, {2, 2, "D3,D2", 4}, {4, 2, "D1", -1},
		     {0, 5, "D5,D4,D3,D2,D1", -1}, {0, 4, "D5,D4,D3,D2", 4}, {10, 2, "", -1}};
	for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
		json_t *page = mdm_store_device_list(st, pages[p].offset, pages[p].limit, &err);
		assert_non_null(page);
		char ids[64] = "";
		json_t *d;
		size_t i;
		json_array_foreach(json_object_get(page, "devices"), i, d)
		{
			size_t used = strlen(ids);
			snprintf(ids + used, sizeof ids - used, "%s%s", i ? "," : "",
				 s_field(d, "device_id"));
		}
		assert_string_equal(ids, pages[p].ids);
		json_t *next = json_object_get(page, "next");
		if (pages[p].next < 0)
			assert_true(json_is_null(next));
		else
			assert_int_equal(json_integer_value(next), pages[p].next);
		json_decref(page);
	}
}

/* Runs last: kills the server, then starts it again on the same port. */
static void test_redis_down_is_unavailable_then_reconnects(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_ping(st, &err), 0); /* connected before the outage */
	s_redis_kill();

	int64_t t0 = s_now_ms();
	char buf[64];
	assert_int_equal(mdm_store_ping(st, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
#define S_DOWN(call)                                                                        \
	do {                                                                                \
		mdm_err_t e = {0};                                                          \
		int64_t t = s_now_ms();                                                     \
		int failed = (call);                                                        \
		if (!failed || e.code != MDM_E_UNAVAILABLE)                                 \
			fail_msg("%s: expected MDM_E_UNAVAILABLE, got %s", #call,           \
				 mdm_code_name(e.code));                                    \
		if (s_now_ms() - t > 3000)                                                  \
			fail_msg("%s took %lld ms", #call, (long long)(s_now_ms() - t));    \
	} while (0)
	S_DOWN(mdm_store_user_create(st, "down@x.y", "h", 1, &e) == -1);
	S_DOWN(mdm_store_user_pwhash(st, "down@x.y", buf, sizeof buf, &e) == -1);
	S_DOWN(mdm_store_preenroll_create(st, "h", "e@x.y", "n", "g", 1, 60, &e) == -1);
	S_DOWN(mdm_store_preenroll_get(st, "h", buf, sizeof buf, NULL, 0, &e) == -1);
	S_DOWN(mdm_store_auth_failures(st, "down@x.y", &e) == -1);
	S_DOWN(mdm_store_auth_failure_add(st, "down@x.y", 60, &e) == -1);
	S_DOWN(mdm_store_token_spent(st, "j", &e) == -1);
	S_DOWN(s_enroll(st, "DEV-D", "HW-D", "TD", MDM_SPEND_NONE, NULL, NULL, 1, &e) == -1);
	S_DOWN(mdm_store_renew(st, "DEV-D", "TD", "TE", "S", 1, 2, &e) == -1);
	S_DOWN(mdm_store_device_get(st, "DEV-D", &e) == NULL);
	S_DOWN(mdm_store_cert_get(st, "TD", &e) == NULL);
	S_DOWN(mdm_store_device_list(st, 0, 10, &e) == NULL);
#undef S_DOWN
	assert_true(s_now_ms() - t0 < 10000);

	/* back on the same port: the same store reconnects by itself */
	redisFree(s_raw_ctx);
	s_raw_ctx = NULL;
	assert_int_equal(s_redis_start(), 0);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_ping(st, &err), 0);
	assert_int_equal(mdm_store_user_create(st, "back@x.y", "h", 1, &err), 0);
	char out[16];
	assert_int_equal(mdm_store_user_pwhash(st, "back@x.y", out, sizeof out, &err), 0);
	assert_string_equal(out, "h");
}

int main(void)
{
	mdm_log_init("test_store", MDM_LOG_WARN);
#define S_T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_forms_are_parsed),
		cmocka_unit_test(test_url_with_trailing_garbage_is_refused),
		S_T(test_url_db_number_selects_the_database),
		S_T(test_url_password_is_sent_with_auth),
		S_T(test_url_unix_socket),
		S_T(test_user_create_then_conflict_case_insensitively),
		S_T(test_user_pwhash_found_and_unknown),
		S_T(test_preenroll_create_get_and_ttl),
		S_T(test_preenroll_expires_after_its_ttl),
		S_T(test_preenroll_failure_does_not_leave_the_connection_in_multi),
		S_T(test_auth_failures_count_within_a_window_and_clear),
		S_T(test_auth_failures_window_expires),
		S_T(test_auth_failures_window_never_loses_its_expiry),
		S_T(test_enroll_writes_device_cert_list_and_hw_index),
		S_T(test_get_of_unknown_records_is_not_found),
		S_T(test_enroll_refuses_incomplete_device),
		S_T(test_enroll_without_cert_serial_writes_nothing),
		S_T(test_preenroll_secret_is_spent_exactly_once),
		S_T(test_preenroll_secret_of_another_user_is_refused),
		S_T(test_token_jti_is_single_use),
		S_T(test_reenrollment_of_same_device_replaces_record_and_revokes_old_cert),
		S_T(test_same_hardware_under_new_device_id_replaces_the_old_device),
		S_T(test_renew_supersedes_old_and_activates_new),
		S_T(test_device_list_pages_newest_first),
		S_T(test_redis_down_is_unavailable_then_reconnects),
	};
#undef S_T
	return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
