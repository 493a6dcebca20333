/* test_store_mgmt.c -- libs/store's management message in two round trips
 * (mdm_store_mgmt_load / mdm_mgmt_load_free / mdm_store_mgmt_save) and the EVALSHA path every
 * store script takes (EVAL only on NOSCRIPT), against a real redis-server started by the test:
 * what load returns for unknown and known certificates, queue length and session state;
 * what save writes (device fields with their indexes, session state and TTL, the session
 * counter), what it refuses without writing anything, deleted and unenrolled devices, Redis
 * down; EVALSHA seen in MONITOR and INFO commandstats, and SCRIPT FLUSH survived. */
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

#define MDM_TEST_NAME "store-mgmt"
#include "support/redis_fixture.h"

/* ---- data helpers -------------------------------------------------------------------- */

#define S_T0 1700000000L /* enrollment time of every test device */
#define S_SID "sml"      /* the session id the syncml service uses is a constant too */

/* A 40-hex thumbprint derived from a short tag, as the gateway passes them. */
static const char *s_thumb(const char *tag)
{
	static char out[4][41];
	static int next;
	char *t = out[next++ % 4];
	snprintf(t, 41, "%s%040d", tag, 0);
	for (char *p = t; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return t;
}

/* Enrolls `id` with certificate `thumb` through the real enrollment script, with the fields
 * the listing indexes know (platform, user, os_version, device_name). */
static void s_enroll(mdm_store_t *st, const char *id, const char *thumb, long now)
{
	char hw[80], serial[80];
	snprintf(hw, sizeof hw, "HW-%s", id);
	snprintf(serial, sizeof serial, "SER-%s", id);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "device_id", id,
			      "hwdevid", hw, "cert_thumbprint", thumb, "cert_serial", serial,
			      "cert_not_after", "1900000000", "device_name", "Laptop", "platform",
			      "windows", "user", "Alice@Example.com", "os_version", "10.0.1");
	mdm_err_t err = {0};
	if (mdm_store_enroll(st, d, MDM_SPEND_NONE, NULL, NULL, 0, (time_t)now, &err) != 0)
		fail_msg("enroll %s: %s", id, err.text);
	json_decref(d);
}

static void s_create_cmd(mdm_store_t *st, const char *dev, const char *id)
{
	mdm_err_t err = {0};
	if (mdm_store_cmd_create(st, dev, id, "lock", "{\"type\":\"lock\"}", "[]", (time_t)S_T0, 600,
				 &err) != 0)
		fail_msg("cmd_create %s: %s", id, err.text);
}

static const char *s_str(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	return v ? v : "(missing)";
}

static int s_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The device ids a search returns, sorted, as "a,b,c" (one page of up to 50 is enough). */
static const char *s_find_ids(mdm_store_t *st, mdm_device_filter_t f)
{
	static char out[1024];
	mdm_err_t err = {0};
	f.limit = 50;
	json_t *page = mdm_store_device_find(st, &f, &err);
	if (page == NULL)
		fail_msg("find: %s", err.text);
	assert_true(json_is_null(json_object_get(page, "next")));
	json_t *devs = json_object_get(page, "devices");
	size_t n = json_array_size(devs);
	const char *ids[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		ids[i] = s_str(json_array_get(devs, i), "device_id");
	qsort(ids, n, sizeof *ids, s_strcmp_p);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", ids[i]);
	json_decref(page);
	return out;
}

static json_int_t s_stat_count(mdm_store_t *st, const char *by, const char *value)
{
	mdm_err_t err = {0};
	json_t *stats = mdm_store_stats(st, S_T0, &err);
	if (stats == NULL)
		fail_msg("stats: %s", err.text);
	json_t *n = json_object_get(json_object_get(json_object_get(stats, "devices"), by), value);
	json_int_t v = n ? json_integer_value(n) : 0;
	json_decref(stats);
	return v;
}

/* ZSCORE as an integer, -1 when the member is absent. */
static long long s_zscore(const char *key, const char *member)
{
	redisReply *r = s_raw("ZSCORE %s %s", key, member);
	long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
	if (r->type == REDIS_REPLY_ERROR)
		fail_msg("ZSCORE %s: %s", key, r->str);
	freeReplyObject(r);
	return v;
}

/* HGET as a string, "(nil)" when absent. */
static const char *s_hget(const char *key, const char *field)
{
	static char out[512];
	redisReply *r = s_raw("HGET %s %s", key, field);
	snprintf(out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	freeReplyObject(r);
	return out;
}

/* Every key with its DUMP (hex), so "changes nothing" can be checked byte for byte. TTLs are
 * not part of it (a session's TTL runs down by itself). */
static json_t *s_snapshot(void)
{
	json_t *o = json_object();
	redisReply *keys = s_raw("KEYS *");
	assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *d = s_raw("DUMP %b", keys->element[i]->str, keys->element[i]->len);
		assert_int_equal(d->type, REDIS_REPLY_STRING);
		char *hex = malloc(2 * d->len + 1);
		assert_non_null(hex);
		for (size_t j = 0; j < d->len; j++)
			snprintf(hex + 2 * j, 3, "%02x", (unsigned char)d->str[j]);
		json_object_set_new(o, keys->element[i]->str, json_string(hex));
		free(hex);
		freeReplyObject(d);
	}
	freeReplyObject(keys);
	return o;
}

static void s_assert_same_data(json_t *before, const char *what)
{
	json_t *after = s_snapshot();
	if (!json_equal(before, after)) {
		char *a = json_dumps(before, JSON_SORT_KEYS), *b = json_dumps(after, JSON_SORT_KEYS);
		print_error("before: %.2000s\nafter:  %.2000s\n", a, b);
		free(a);
		free(b);
		json_decref(after);
		fail_msg("%s changed the data", what);
	}
	json_decref(after);
}

/* calls / failed_calls of a command in INFO commandstats (0 when never called). */
static long long s_cmdstat(const char *cmd, const char *field)
{
	redisReply *r = s_raw("INFO commandstats");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	char head[64], key[64];
	snprintf(head, sizeof head, "cmdstat_%s:", cmd);
	snprintf(key, sizeof key, "%s=", field);
	long long v = 0;
	const char *line = strstr(r->str, head);
	if (line) {
		const char *eol = strpbrk(line, "\r\n");
		const char *f = strstr(line, key);
		/* "calls=" also ends "failed_calls=": take the one right after ':' or ',' */
		while (f && f[-1] != ':' && f[-1] != ',')
			f = strstr(f + 1, key);
		if (f && (eol == NULL || f < eol))
			v = atoll(f + strlen(key));
	}
	freeReplyObject(r);
	return v;
}

static mdm_store_t *s_dead_store(void)
{
	int port = s_free_tcp_port(); /* nothing listens there */
	assert_true(port > 0);
	char url[64];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
	mdm_err_t err = {0};
	mdm_store_t *st = mdm_store_new(url, &err);
	assert_non_null(st);
	return st;
}

/* ---- mdm_store_mgmt_load --------------------------------------------------------------- */

static void test_load_unknown_thumbprint_finds_nothing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_enroll(st, "DEV-1", s_thumb("A1"), S_T0); /* not an empty database */
	mdm_mgmt_load_t ld = {.queued = 42};
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_mgmt_load(st, s_thumb("FF"), S_SID, &ld, &err), 0);
	assert_int_equal(err.code, MDM_OK);
	assert_null(ld.cert);
	assert_null(ld.device);
	assert_null(ld.session);
	assert_int_equal(ld.queued, 0);
	mdm_mgmt_load_free(&ld);
	mdm_mgmt_load_free(&ld); /* free leaves it zeroed: a second free is harmless */
	assert_null(ld.cert);
}

static void test_load_known_cert_returns_cert_and_device(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("B2");
	s_enroll(st, "DEV-1", th, S_T0);
	s_enroll(st, "DEV-2", s_thumb("C3"), S_T0 + 1);
	mdm_mgmt_load_t ld;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	assert_non_null(ld.cert);
	assert_string_equal(s_str(ld.cert, "device_id"), "DEV-1");
	assert_string_equal(s_str(ld.cert, "state"), "active");
	assert_string_equal(s_str(ld.cert, "not_after"), "1900000000");
	assert_string_equal(s_str(ld.cert, "serial"), "SER-DEV-1");
	assert_non_null(ld.device);
	assert_string_equal(s_str(ld.device, "device_id"), "DEV-1");
	assert_string_equal(s_str(ld.device, "state"), "enrolled");
	assert_string_equal(s_str(ld.device, "cert_thumbprint"), th);
	assert_string_equal(s_str(ld.device, "device_name"), "Laptop");
	assert_null(ld.session);
	assert_int_equal(ld.queued, 0);
	/* the same records the single-record getters return */
	json_t *cert = mdm_store_cert_get(st, th, &err);
	json_t *dev = mdm_store_device_get(st, "DEV-1", &err);
	assert_non_null(cert);
	assert_non_null(dev);
	assert_true(json_equal(cert, ld.cert));
	assert_true(json_equal(dev, ld.device));
	json_decref(cert);
	json_decref(dev);
	mdm_mgmt_load_free(&ld);
	assert_null(ld.cert);
	assert_null(ld.device);
}

static void test_load_counts_the_device_queue(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th1 = s_thumb("D1"), *th2 = s_thumb("D2");
	s_enroll(st, "DEV-1", th1, S_T0);
	s_enroll(st, "DEV-2", th2, S_T0);
	mdm_mgmt_load_t ld;
	mdm_err_t err = {0};
	s_create_cmd(st, "DEV-1", "cmd-1");
	assert_int_equal(mdm_store_mgmt_load(st, th1, S_SID, &ld, &err), 0);
	assert_int_equal(ld.queued, 1);
	mdm_mgmt_load_free(&ld);
	s_create_cmd(st, "DEV-1", "cmd-2");
	s_create_cmd(st, "DEV-2", "cmd-3");
	assert_int_equal(mdm_store_mgmt_load(st, th1, S_SID, &ld, &err), 0);
	assert_int_equal(ld.queued, 2);
	mdm_mgmt_load_free(&ld);
	/* a finished command leaves the queue; another device's queue is not counted */
	assert_int_equal(mdm_store_cmd_finish(st, "cmd-1", 1, "200", NULL, (time_t)S_T0 + 5, &err), 0);
	assert_int_equal(mdm_store_mgmt_load(st, th1, S_SID, &ld, &err), 0);
	assert_int_equal(ld.queued, 1);
	mdm_mgmt_load_free(&ld);
	assert_int_equal(mdm_store_mgmt_load(st, th2, S_SID, &ld, &err), 0);
	assert_int_equal(ld.queued, 1);
	assert_string_equal(s_str(ld.device, "device_id"), "DEV-2");
	mdm_mgmt_load_free(&ld);
}

static void test_load_cert_without_a_device(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_mgmt_load_t ld;
	mdm_err_t err = {0};
	/* a certificate record naming no device */
	const char *orphan = s_thumb("E1");
	s_raw_ok("HSET mdm:cert:%s state active serial S1", orphan);
	assert_int_equal(mdm_store_mgmt_load(st, orphan, S_SID, &ld, &err), 0);
	assert_non_null(ld.cert);
	assert_string_equal(s_str(ld.cert, "state"), "active");
	assert_null(ld.device);
	assert_null(ld.session);
	assert_int_equal(ld.queued, 0);
	mdm_mgmt_load_free(&ld);
	/* a certificate whose device record is gone */
	const char *th = s_thumb("E2");
	s_enroll(st, "DEV-GONE", th, S_T0);
	assert_int_equal(s_raw_int("DEL mdm:dev:DEV-GONE"), 1);
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	assert_non_null(ld.cert);
	assert_string_equal(s_str(ld.cert, "device_id"), "DEV-GONE");
	assert_null(ld.device);
	mdm_mgmt_load_free(&ld);
}

static void test_load_shows_revoked_and_superseded_certificates(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_mgmt_load_t ld;
	mdm_err_t err = {0};
	/* renewal: the old certificate still names the device, as superseded */
	const char *old = s_thumb("F1"), *new = s_thumb("F2");
	s_enroll(st, "DEV-R", old, S_T0);
	assert_int_equal(mdm_store_renew(st, "DEV-R", old, new, "SER-2", 1950000000, S_T0 + 10, &err), 0);
	assert_int_equal(mdm_store_mgmt_load(st, old, S_SID, &ld, &err), 0);
	assert_string_equal(s_str(ld.cert, "state"), "superseded");
	assert_string_equal(s_str(ld.device, "cert_thumbprint"), new);
	mdm_mgmt_load_free(&ld);
	assert_int_equal(mdm_store_mgmt_load(st, new, S_SID, &ld, &err), 0);
	assert_string_equal(s_str(ld.cert, "state"), "active");
	assert_string_equal(s_str(ld.cert, "not_after"), "1950000000");
	assert_string_equal(s_str(ld.device, "device_id"), "DEV-R");
	mdm_mgmt_load_free(&ld);
	/* unenrollment: revoked certificate, unenrolled device, queue gone */
	s_create_cmd(st, "DEV-R", "cmd-u");
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-R", "admin", S_T0 + 20, &err), 0);
	assert_int_equal(mdm_store_mgmt_load(st, new, S_SID, &ld, &err), 0);
	assert_string_equal(s_str(ld.cert, "state"), "revoked");
	assert_string_equal(s_str(ld.device, "state"), "unenrolled");
	assert_int_equal(ld.queued, 0);
	mdm_mgmt_load_free(&ld);
}

static void test_load_ignores_an_unreadable_session_state(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("A7");
	s_enroll(st, "DEV-1", th, S_T0);
	s_raw_ok("SET mdm:sess:DEV-1:%s %s EX 60", S_SID, "{not json");
	mdm_mgmt_load_t ld;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	assert_int_equal(err.code, MDM_OK);
	assert_null(ld.session);
	assert_non_null(ld.cert);
	assert_non_null(ld.device);
	mdm_mgmt_load_free(&ld);
}

static void test_load_refuses_bad_arguments(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	char longer[66];
	memset(longer, 'A', 65);
	longer[65] = '\0';
	char long_sid[130];
	memset(long_sid, 's', 129);
	long_sid[129] = '\0';
	struct {
		const char *thumb, *sid;
	} bad[] = {{NULL, S_SID}, {"", S_SID}, {longer, S_SID}, {"AB", NULL}, {"AB", ""},
		   {"AB", long_sid}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mdm_mgmt_load_t ld = {.queued = 42};
		mdm_err_t err = {0};
		assert_int_equal(mdm_store_mgmt_load(st, bad[i].thumb, bad[i].sid, &ld, &err), -1);
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
		assert_null(ld.cert);
		assert_null(ld.device);
		assert_null(ld.session);
		assert_int_equal(ld.queued, 0);
		mdm_mgmt_load_free(&ld);
	}
}

/* ---- mdm_store_mgmt_save: session state ------------------------------------------------ */

static void test_save_state_then_load_returns_it_with_a_ttl(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th1 = s_thumb("A1"), *th2 = s_thumb("A2");
	s_enroll(st, "DEV-1", th1, S_T0);
	s_enroll(st, "DEV-2", th2, S_T0);
	mdm_err_t err = {0};
	json_t *s1 = json_pack("{s:s,s:s,s:i,s:i,s:{s:[s,s]},s:s}", "sid", "1", "cert", th1,
			       "server_msg", 3, "client_msg", 2, "pending", "2:3", "a", "b",
			       "last_reply", "\xc3\xa9t\xc3\xa9 \"quoted\"\n");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s1, 300, 0, S_T0, &err), 0);
	long long ttl = s_raw_int("TTL mdm:sess:DEV-1:%s", S_SID);
	assert_true(ttl > 0 && ttl <= 300);
	mdm_mgmt_load_t ld;
	assert_int_equal(mdm_store_mgmt_load(st, th1, S_SID, &ld, &err), 0);
	assert_non_null(ld.session);
	assert_true(json_equal(ld.session, s1));
	mdm_mgmt_load_free(&ld);
	/* the single-record getter sees the same state */
	json_t *got = mdm_store_session_get(st, "DEV-1", S_SID, &err);
	assert_non_null(got);
	assert_true(json_equal(got, s1));
	json_decref(got);
	/* another session id, and another device with the same session id, have none */
	assert_int_equal(mdm_store_mgmt_load(st, th1, "other", &ld, &err), 0);
	assert_null(ld.session);
	assert_non_null(ld.device);
	mdm_mgmt_load_free(&ld);
	assert_int_equal(mdm_store_mgmt_load(st, th2, S_SID, &ld, &err), 0);
	assert_null(ld.session);
	mdm_mgmt_load_free(&ld);
	/* a second save replaces the state and restarts the TTL with the new value */
	json_t *s2 = json_pack("{s:s,s:i}", "sid", "2", "server_msg", 1);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s2, 50, 0, S_T0, &err), 0);
	ttl = s_raw_int("TTL mdm:sess:DEV-1:%s", S_SID);
	assert_true(ttl > 0 && ttl <= 50);
	assert_int_equal(mdm_store_mgmt_load(st, th1, S_SID, &ld, &err), 0);
	assert_true(json_equal(ld.session, s2));
	assert_false(json_equal(ld.session, s1));
	mdm_mgmt_load_free(&ld);
	/* a state saved by session_put is read by load too */
	assert_int_equal(mdm_store_session_put(st, "DEV-2", S_SID, s1, 100, &err), 0);
	assert_int_equal(mdm_store_mgmt_load(st, th2, S_SID, &ld, &err), 0);
	assert_true(json_equal(ld.session, s1));
	mdm_mgmt_load_free(&ld);
	json_decref(s1);
	json_decref(s2);
}

static void test_save_without_state_deletes_the_session(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("B1");
	s_enroll(st, "DEV-1", th, S_T0);
	mdm_err_t err = {0};
	json_t *s = json_pack("{s:s}", "sid", "9");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s, 300, 0, S_T0, &err), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:sess:DEV-1:%s", S_SID), 1);
	/* other sessions of the device stay */
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, "keep", s, 300, 0, S_T0, &err), 0);
	json_t *fields = json_pack("{s:s}", "last_seen", "1700000500");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", fields, S_SID, NULL, 300, 0, S_T0, &err), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:sess:DEV-1:%s", S_SID), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:sess:DEV-1:keep"), 1);
	/* the fields of the same call were written */
	assert_string_equal(s_hget("mdm:dev:DEV-1", "last_seen"), "1700000500");
	mdm_mgmt_load_t ld;
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	assert_null(ld.session);
	assert_non_null(ld.device);
	mdm_mgmt_load_free(&ld);
	/* deleting an absent state is fine, and ttl does not matter without a state */
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, NULL, 0, 0, S_T0, &err), 0);
	assert_int_equal(err.code, MDM_OK);
	json_decref(fields);
	json_decref(s);
}

/* ---- mdm_store_mgmt_save: device fields ---------------------------------------------- */

static void test_save_fields_update_device_and_indexes_like_device_update(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th_b = s_thumb("C2");
	s_enroll(st, "DEV-A", s_thumb("C1"), S_T0); /* updated by mdm_store_device_update */
	s_enroll(st, "DEV-B", th_b, S_T0);          /* updated by mdm_store_mgmt_save */
	s_enroll(st, "DEV-C", s_thumb("C3"), S_T0); /* left alone */
	mdm_err_t err = {0};
	/* before: found by the enrollment values, never seen */
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.os_version = "10.0.1"}),
			    "DEV-A,DEV-B,DEV-C");
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.seen_after = 1}), "");
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-B"), -1);
	json_t *fields = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "last_seen", "1700000300",
				   "os_version", "10.0.2", "device_name", "Kiosk-9", "platform",
				   "android", "user", "Bob@Example.com", "manufacturer", "Contoso");
	assert_int_equal(mdm_store_device_update(st, "DEV-A", fields, &err), 0);
	json_t *s = json_pack("{s:s}", "sid", "1");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-B", fields, S_SID, s, 300, 0, S_T0 + 300, &err), 0);
	/* the device record */
	json_t *dev = mdm_store_device_get(st, "DEV-B", &err);
	assert_non_null(dev);
	assert_string_equal(s_str(dev, "last_seen"), "1700000300");
	assert_string_equal(s_str(dev, "os_version"), "10.0.2");
	assert_string_equal(s_str(dev, "device_name"), "Kiosk-9");
	assert_string_equal(s_str(dev, "platform"), "android");
	assert_string_equal(s_str(dev, "user"), "Bob@Example.com");
	assert_string_equal(s_str(dev, "manufacturer"), "Contoso");
	assert_string_equal(s_str(dev, "state"), "enrolled"); /* enrollment fields untouched */
	assert_string_equal(s_str(dev, "cert_thumbprint"), th_b);
	json_decref(dev);
	/* every index moved DEV-B as mdm_store_device_update moved DEV-A (searched through the
	 * indexes, whatever their key layout) */
	static const struct {
		mdm_device_filter_t f;
		const char *ids;
	} want[] = {
		{{.os_version = "10.0.1"}, "DEV-C"},
		{{.os_version = "10.0.2"}, "DEV-A,DEV-B"},
		{{.platform = "android"}, "DEV-A,DEV-B"},
		{{.platform = "windows"}, "DEV-C"},
		{{.user = "bob@example.com"}, "DEV-A,DEV-B"},
		{{.user = "alice@example.com"}, "DEV-C"},
		{{.state = "enrolled"}, "DEV-A,DEV-B,DEV-C"},
		{{.q = "kiosk-9"}, "DEV-A,DEV-B"},
		{{.q = "laptop"}, "DEV-C"},
		{{.seen_after = 1700000300}, "DEV-A,DEV-B"},
		{{.seen_after = 1700000301}, ""},
		{{.seen_before = 1700000300}, ""},
		{{.platform = "android", .os_version = "10.0.2", .user = "bob@example.com",
		  .seen_after = 1700000200, .q = "dev-b"},
		 "DEV-B"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *got = s_find_ids(st, want[i].f);
		if (strcmp(got, want[i].ids) != 0)
			fail_msg("search #%zu: got \"%s\", want \"%s\"", i, got, want[i].ids);
	}
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-B"), 1700000300);
	/* the device counters moved too */
	assert_int_equal(s_stat_count(st, "by_platform", "android"), 2);
	assert_int_equal(s_stat_count(st, "by_platform", "windows"), 1);
	assert_int_equal(s_stat_count(st, "by_state", "enrolled"), 3);
	/* a later last_seen moves the device in mdm:ix:seen */
	json_t *seen = json_pack("{s:s}", "last_seen", "1700000900");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-B", seen, S_SID, s, 300, 0, S_T0 + 900, &err), 0);
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-B"), 1700000900);
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-A"), 1700000300);
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.seen_after = 1700000800}), "DEV-B");
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.seen_before = 1700000800}), "DEV-A");
	json_decref(seen);
	json_decref(fields);
	json_decref(s);
}

static void test_save_with_no_fields_leaves_the_device_alone(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_enroll(st, "DEV-1", s_thumb("D1"), S_T0);
	mdm_err_t err = {0};
	json_t *before = s_snapshot();
	json_t *empty = json_object();
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", empty, S_SID, NULL, 0, 0, S_T0, &err), 0);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, NULL, 0, 0, S_T0, &err), 0);
	s_assert_same_data(before, "a save of nothing");
	json_decref(empty);
	json_decref(before);
}

static void test_save_refuses_owned_and_malformed_fields_writing_nothing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_enroll(st, "DEV-1", s_thumb("E1"), S_T0);
	mdm_err_t err = {0};
	json_t *sess = json_pack("{s:s}", "sid", "1");
	json_t *before = s_snapshot();
	static const char *const owned[] = {"state",         "cert_x",          "cert_thumbprint",
					    "cert_not_after", "device_id",       "hwdevid",
					    "enrolled_at",   "first_enrolled_at", "renewed_at",
					    "unenrolled_at", "unenroll_reason", "replaced_by",
					    "auth"};
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
		/* a legitimate field in the same call is not written either */
		json_t *f = json_pack("{s:s,s:s}", "last_seen", "1700000999", owned[i], "x");
		mdm_err_clear(&err);
		int rc = mdm_store_mgmt_save(st, "DEV-1", f, S_SID, sess, 300, 1, S_T0, &err);
		json_decref(f);
		if (rc != -1 || err.code != MDM_E_BAD_REQUEST)
			fail_msg("field %s: rc %d, %s", owned[i], rc, mdm_code_name(err.code));
	}
	char long_name[66];
	memset(long_name, 'n', 65);
	long_name[65] = '\0';
	json_t *malformed[] = {
		json_pack("{s:s,s:i}", "last_seen", "1", "model", 5),     /* not a string */
		json_pack("{s:s,s:n}", "last_seen", "1", "model"),        /* null */
		json_pack("{s:s,s:s}", "last_seen", "1", "", "empty"),    /* empty name */
		json_pack("{s:s,s:s}", "last_seen", "1", long_name, "v"), /* 65-byte name */
		json_pack("[s,s]", "last_seen", "1"),                     /* not an object */
		json_object(),                                            /* 65 fields */
	};
	for (int i = 0; i < 65; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%02d", i);
		json_object_set_new(malformed[5], name, json_string("v"));
	}
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		mdm_err_clear(&err);
		int rc = mdm_store_mgmt_save(st, "DEV-1", malformed[i], S_SID, sess, 300, 1, S_T0, &err);
		json_decref(malformed[i]);
		if (rc != -1 || err.code != MDM_E_BAD_REQUEST)
			fail_msg("malformed fields #%zu: rc %d, %s", i, rc, mdm_code_name(err.code));
	}
	/* a state without a TTL is refused too */
	json_t *ok = json_pack("{s:s}", "last_seen", "1700000999");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", ok, S_SID, sess, 0, 1, S_T0, &err), -1);
	assert_int_not_equal(err.code, MDM_OK);
	/* nothing at all was written: no field, no index, no session, no session count */
	s_assert_same_data(before, "a refused save");
	assert_int_equal(s_raw_int("EXISTS mdm:sess:DEV-1:%s", S_SID), 0);
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-1"), -1);
	/* 64 fields is the limit, and it is accepted */
	json_t *max = json_object();
	for (int i = 0; i < 64; i++) {
		char name[16];
		snprintf(name, sizeof name, "f%02d", i);
		json_object_set_new(max, name, json_string(name));
	}
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", max, S_SID, sess, 300, 0, S_T0, &err), 0);
	assert_string_equal(s_hget("mdm:dev:DEV-1", "f00"), "f00");
	assert_string_equal(s_hget("mdm:dev:DEV-1", "f63"), "f63");
	json_decref(max);
	json_decref(ok);
	json_decref(before);
	json_decref(sess);
}

static void test_save_refuses_bad_identifiers(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_enroll(st, "DEV-1", s_thumb("E2"), S_T0);
	json_t *before = s_snapshot();
	json_t *sess = json_pack("{s:s}", "sid", "1");
	char long_dev[258], long_sid[130];
	memset(long_dev, 'd', 257);
	long_dev[257] = '\0';
	memset(long_sid, 's', 129);
	long_sid[129] = '\0';
	struct {
		const char *dev, *sid;
	} bad[] = {{NULL, S_SID}, {"", S_SID}, {long_dev, S_SID}, {"DEV-1", NULL}, {"DEV-1", ""},
		   {"DEV-1", long_sid}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mdm_err_t err = {0};
		assert_int_equal(mdm_store_mgmt_save(st, bad[i].dev, NULL, bad[i].sid, sess, 300, 1,
						     S_T0, &err),
				 -1);
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	}
	s_assert_same_data(before, "a save with a bad identifier");
	json_decref(sess);
	json_decref(before);
}

/* ---- mdm_store_mgmt_save: session counter --------------------------------------------- */

static json_int_t s_sessions_at(json_t *stats, long hours_back)
{
	json_t *ph = json_object_get(json_object_get(stats, "sessions"), "per_hour");
	assert_int_equal(json_array_size(ph), 48);
	json_t *b = json_array_get(ph, 47 - (size_t)hours_back);
	return json_integer_value(json_object_get(b, "n"));
}

static void test_save_counts_a_session_in_the_hourly_stats(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_enroll(st, "DEV-1", s_thumb("F1"), S_T0);
	mdm_err_t err = {0};
	const long now = S_T0 + 7200;
	json_t *s = json_pack("{s:s}", "sid", "1");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s, 300, 1, now, &err), 0);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s, 300, 0, now, &err), 0);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, NULL, 0, 1, now, &err), 0);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s, 300, 1, now - 3600, &err), 0);
	json_t *stats = mdm_store_stats(st, now, &err);
	assert_non_null(stats);
	assert_int_equal(s_sessions_at(stats, 0), 2);
	assert_int_equal(s_sessions_at(stats, 1), 1);
	assert_int_equal(s_sessions_at(stats, 2), 0);
	json_t *last = json_array_get(json_object_get(json_object_get(stats, "sessions"), "per_hour"), 47);
	assert_int_equal(json_integer_value(json_object_get(last, "t")), now - now % 3600);
	json_decref(stats);
	/* the same bucket mdm_store_stats_session counts into, with its expiry */
	assert_int_equal(mdm_store_stats_session(st, now, &err), 0);
	stats = mdm_store_stats(st, now, &err);
	assert_non_null(stats);
	assert_int_equal(s_sessions_at(stats, 0), 3);
	json_decref(stats);
	long long ttl = s_raw_int("TTL mdm:st:sess:h:%ld", now - now % 3600);
	assert_true(ttl > 0 && ttl <= 180000);
	/* no daily session bucket (only enrollments have one) */
	assert_int_equal(s_raw_int("EXISTS mdm:st:sess:d:%ld", now - now % 86400), 0);
	json_decref(s);
}

/* ---- mdm_store_mgmt_save: devices that are gone -------------------------------------- */

static void test_save_for_a_deleted_device_does_not_recreate_it(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_enroll(st, "DEV-1", s_thumb("A9"), S_T0);
	assert_int_equal(s_raw_int("DEL mdm:dev:DEV-1"), 1); /* deleted between load and save */
	mdm_err_t err = {0};
	json_t *fields = json_pack("{s:s,s:s}", "last_seen", "1700000400", "os_version", "10.0.9");
	json_t *s = json_pack("{s:s}", "sid", "1");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", fields, S_SID, s, 300, 0, S_T0, &err), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:dev:DEV-1"), 0);
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-1"), -1);
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.os_version = "10.0.9"}), "");
	assert_int_equal(s_stat_count(st, "by_state", "enrolled"), 1); /* not counted again */
	json_t *d = mdm_store_device_get(st, "DEV-1", &err);
	assert_null(d);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	/* a device that never existed is not created either */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-NEVER", fields, S_SID, NULL, 0, 0, S_T0, &err), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:dev:DEV-NEVER"), 0);
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-NEVER"), -1);
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.q = "dev-never"}), "");
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.seen_after = 1}), "");
	json_decref(fields);
	json_decref(s);
}

static void test_save_for_an_unenrolled_device_keeps_it_unenrolled(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("B9");
	s_enroll(st, "DEV-1", th, S_T0);
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-1", "device", S_T0 + 10, &err), 0);
	json_t *fields = json_pack("{s:s}", "last_seen", "1700000500");
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", fields, S_SID, NULL, 0, 1, S_T0 + 20, &err), 0);
	json_t *dev = mdm_store_device_get(st, "DEV-1", &err);
	assert_non_null(dev);
	assert_string_equal(s_str(dev, "state"), "unenrolled");
	assert_string_equal(s_str(dev, "unenroll_reason"), "device");
	assert_string_equal(s_str(dev, "last_seen"), "1700000500");
	json_decref(dev);
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.state = "unenrolled"}), "DEV-1");
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.state = "enrolled"}), "");
	assert_string_equal(s_find_ids(st, (mdm_device_filter_t){.seen_after = 1700000500}), "DEV-1");
	assert_int_equal(s_stat_count(st, "by_state", "unenrolled"), 1);
	assert_int_equal(s_stat_count(st, "by_state", "enrolled"), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:sess:DEV-1:%s", S_SID), 0);
	/* and no command can be queued for it */
	assert_int_equal(mdm_store_cmd_create(st, "DEV-1", "c-x", "lock", "{}", "[]", S_T0 + 30, 60, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	json_decref(fields);
}

/* ---- EVALSHA -------------------------------------------------------------------------- */

/* Starts MONITOR on a second raw connection. */
static redisContext *s_monitor_start(void)
{
	struct timeval tv = {5, 0};
	redisContext *m = redisConnectWithTimeout("127.0.0.1", s_redis.port, tv);
	assert_non_null(m);
	assert_int_equal(m->err, 0);
	assert_int_equal(redisSetTimeout(m, tv), REDIS_OK); /* reads too, not only the connect */
	redisReply *r = redisCommand(m, "MONITOR");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	return m;
}

/* Reads monitored commands until one is `verb` ("EVALSHA", "EVAL") from a client (not a
 * command run inside a script); copies its first argument (the SHA-1 or the script) when
 * out is given. A 5 s read timeout guards against a hang; it is not a timing assertion. */
static void s_monitor_expect(redisContext *m, const char *verb, char *out, size_t cap)
{
	char needle[32];
	snprintf(needle, sizeof needle, "\"%s\" \"", verb);
	for (;;) {
		redisReply *r = NULL;
		if (redisGetReply(m, (void **)&r) != REDIS_OK || r == NULL)
			fail_msg("MONITOR: no %s seen (%s)", verb, m->errstr);
		const char *p = r->type == REDIS_REPLY_STATUS ? strstr(r->str, needle) : NULL;
		if (p && strstr(r->str, " lua]") == NULL) {
			if (out) {
				p += strlen(needle);
				size_t n = strcspn(p, "\"");
				snprintf(out, cap, "%.*s", (int)n, p);
			}
			freeReplyObject(r);
			return;
		}
		freeReplyObject(r);
	}
}

static void test_scripts_are_sent_as_evalsha_and_survive_script_flush(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("AB");
	s_enroll(st, "DEV-1", th, S_T0);
	mdm_err_t err = {0};
	s_raw_ok("SCRIPT FLUSH");
	s_raw_ok("CONFIG RESETSTAT");
	redisContext *mon = s_monitor_start();

	/* first use: EVALSHA answered NOSCRIPT, then EVAL, which loads the script */
	s_create_cmd(st, "DEV-1", "cmd-1");
	char sha[64];
	s_monitor_expect(mon, "EVALSHA", sha, sizeof sha);
	assert_int_equal(strlen(sha), 40);
	assert_int_equal(strspn(sha, "0123456789abcdef"), 40);
	s_monitor_expect(mon, "EVAL", NULL, 0);
	assert_int_equal(s_cmdstat("eval", "calls"), 1);
	assert_int_equal(s_cmdstat("evalsha", "failed_calls"), 1);
	/* the SHA-1 the store sent is the one Redis computed for the script it was sent */
	redisReply *r = s_raw("SCRIPT EXISTS %s", sha);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 1);
	assert_int_equal(r->element[0]->integer, 1);
	freeReplyObject(r);

	/* second use: EVALSHA only, the same SHA-1, no EVAL */
	long long evalsha = s_cmdstat("evalsha", "calls");
	s_create_cmd(st, "DEV-1", "cmd-2");
	char sha2[64];
	s_monitor_expect(mon, "EVALSHA", sha2, sizeof sha2);
	assert_string_equal(sha2, sha);
	assert_int_equal(s_cmdstat("evalsha", "calls"), evalsha + 1);
	assert_int_equal(s_cmdstat("evalsha", "failed_calls"), 1);
	assert_int_equal(s_cmdstat("eval", "calls"), 1);
	mdm_mgmt_load_t ld;
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	assert_int_equal(ld.queued, 2);
	mdm_mgmt_load_free(&ld);

	/* the script cache is emptied (as by a restart or a failover): the next call still
	 * succeeds, through EVAL once, then EVALSHA again */
	s_raw_ok("SCRIPT FLUSH");
	r = s_raw("SCRIPT EXISTS %s", sha);
	assert_int_equal(r->element[0]->integer, 0);
	freeReplyObject(r);
	long long eval = s_cmdstat("eval", "calls");
	long long noscript = s_cmdstat("evalsha", "failed_calls");
	evalsha = s_cmdstat("evalsha", "calls");
	s_create_cmd(st, "DEV-1", "cmd-3");
	assert_int_equal(s_cmdstat("eval", "calls"), eval + 1);
	assert_int_equal(s_cmdstat("evalsha", "calls"), evalsha + 1);
	assert_int_equal(s_cmdstat("evalsha", "failed_calls"), noscript + 1);
	r = s_raw("SCRIPT EXISTS %s", sha);
	assert_int_equal(r->element[0]->integer, 1);
	freeReplyObject(r);
	s_create_cmd(st, "DEV-1", "cmd-4");
	assert_int_equal(s_cmdstat("eval", "calls"), eval + 1);
	assert_int_equal(s_cmdstat("evalsha", "calls"), evalsha + 2);
	assert_int_equal(s_raw_int("LLEN mdm:q:DEV-1"), 4);

	/* a script's own error reply is not mistaken for NOSCRIPT, cached or not */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_create(st, "NO-DEV", "cmd-5", "lock", "{}", "[]", S_T0, 60, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	s_raw_ok("SCRIPT FLUSH");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_create(st, "NO-DEV", "cmd-5", "lock", "{}", "[]", S_T0, 60, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_create(st, "DEV-1", "cmd-4", "lock", "{}", "[]", S_T0, 60, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	redisFree(mon);
}

static void test_mgmt_scripts_survive_script_flush(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("AC");
	mdm_err_t err = {0};
	json_t *s = json_pack("{s:s}", "sid", "1");
	json_t *fields = json_pack("{s:s}", "last_seen", "1700000100");
	s_enroll(st, "DEV-1", th, S_T0);
	for (int round = 0; round < 3; round++) {
		/* round 0 and 2 after a flush (EVAL fallback), round 1 from the cache */
		if (round != 1)
			s_raw_ok("SCRIPT FLUSH");
		long long eval = s_cmdstat("eval", "calls"), evalsha = s_cmdstat("evalsha", "calls");
		mdm_mgmt_load_t ld;
		assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
		assert_non_null(ld.device);
		if (round == 0)
			assert_null(ld.session);
		else
			assert_true(json_equal(ld.session, s));
		mdm_mgmt_load_free(&ld);
		assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", fields, S_SID, s, 300, 1, S_T0, &err), 0);
		assert_int_equal(s_cmdstat("evalsha", "calls"), evalsha + 2);
		assert_int_equal(s_cmdstat("eval", "calls"), eval + (round == 1 ? 0 : 2));
	}
	assert_int_equal(s_zscore("mdm:ix:seen", "DEV-1"), 1700000100);
	json_t *stats = mdm_store_stats(st, S_T0, &err);
	assert_non_null(stats);
	assert_int_equal(s_sessions_at(stats, 0), 3);
	json_decref(stats);
	json_decref(fields);
	json_decref(s);
}

/* ---- Redis down ------------------------------------------------------------------------ */

static void test_redis_down_is_unavailable(void **state)
{
	(void)state;
	mdm_store_t *dead = s_dead_store();
	mdm_mgmt_load_t ld = {.queued = 42};
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_mgmt_load(dead, s_thumb("DD"), S_SID, &ld, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
	assert_null(ld.cert);
	assert_null(ld.device);
	assert_null(ld.session);
	assert_int_equal(ld.queued, 0);
	mdm_mgmt_load_free(&ld);
	json_t *s = json_pack("{s:s}", "sid", "1");
	json_t *fields = json_pack("{s:s}", "last_seen", "1");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_mgmt_save(dead, "DEV-1", fields, S_SID, s, 300, 1, S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_mgmt_save(dead, "DEV-1", NULL, S_SID, NULL, 0, 0, S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
	json_decref(fields);
	json_decref(s);
	mdm_store_destroy(&dead);
}

/* Runs last: kills the server, then starts it again on the same port (empty, and with an
 * empty script cache); the same store reconnects and its scripts load again. */
static void test_redis_restart_then_load_and_save_work_again(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	const char *th = s_thumb("EE");
	s_enroll(st, "DEV-1", th, S_T0);
	mdm_mgmt_load_t ld;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	mdm_mgmt_load_free(&ld);
	json_t *s = json_pack("{s:s}", "sid", "1");
	s_redis_kill();
	redisFree(s_raw_ctx);
	s_raw_ctx = NULL;
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);
	mdm_mgmt_load_free(&ld);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s, 300, 1, S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_UNAVAILABLE);

	assert_int_equal(s_redis_start(), 0);
	struct timeval tv = {2, 0};
	s_raw_ctx = redisConnectWithTimeout("127.0.0.1", s_redis.port, tv);
	assert_non_null(s_raw_ctx);
	assert_int_equal(s_raw_ctx->err, 0);
	mdm_err_clear(&err);
	s_enroll(st, "DEV-1", th, S_T0);
	assert_int_equal(mdm_store_mgmt_save(st, "DEV-1", NULL, S_SID, s, 300, 1, S_T0, &err), 0);
	assert_int_equal(mdm_store_mgmt_load(st, th, S_SID, &ld, &err), 0);
	assert_string_equal(s_str(ld.device, "device_id"), "DEV-1");
	assert_true(json_equal(ld.session, s));
	mdm_mgmt_load_free(&ld);
	json_decref(s);
}

int main(void)
{
	mdm_log_init("test_store_mgmt", MDM_LOG_ERR);
#define S_T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		S_T(test_load_unknown_thumbprint_finds_nothing),
		S_T(test_load_known_cert_returns_cert_and_device),
		S_T(test_load_counts_the_device_queue),
		S_T(test_load_cert_without_a_device),
		S_T(test_load_shows_revoked_and_superseded_certificates),
		S_T(test_load_ignores_an_unreadable_session_state),
		S_T(test_load_refuses_bad_arguments),
		S_T(test_save_state_then_load_returns_it_with_a_ttl),
		S_T(test_save_without_state_deletes_the_session),
		S_T(test_save_fields_update_device_and_indexes_like_device_update),
		S_T(test_save_with_no_fields_leaves_the_device_alone),
		S_T(test_save_refuses_owned_and_malformed_fields_writing_nothing),
		S_T(test_save_refuses_bad_identifiers),
		S_T(test_save_counts_a_session_in_the_hourly_stats),
		S_T(test_save_for_a_deleted_device_does_not_recreate_it),
		S_T(test_save_for_an_unenrolled_device_keeps_it_unenrolled),
		S_T(test_scripts_are_sent_as_evalsha_and_survive_script_flush),
		S_T(test_mgmt_scripts_survive_script_flush),
		cmocka_unit_test(test_redis_down_is_unavailable),
		S_T(test_redis_restart_then_load_and_save_work_again),
	};
#undef S_T
	return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
