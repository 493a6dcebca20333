/* test_store_admin.c -- libs/store console calls (mdm_store_admin.c) against a real redis-server started by the test: administrators, sessions, API tokens, failed-login counters, the audit log, counters kept by the enrollment / unenrollment / command scripts, the device search indexes with filters and cursors, groups, device users, pre-enrollments, and the index rebuild for older data. */
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

#define MDM_TEST_NAME "store-admin"
#include "support/redis_fixture.h"


/* ---- data helpers -------------------------------------------------------------------- */

#define S_T0 1700000000L
#define S_H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define S_H64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* Enrolls a device through the real enrollment script; fields: user, platform, name, os. */
static void s_enroll(mdm_store_t *st, const char *id, const char *user, const char *platform,
		     const char *name, const char *os, long now)
{
	char hw[80], thumb[80];
	snprintf(hw, sizeof hw, "HW-%s", id);
	snprintf(thumb, sizeof thumb, "T-%s-%ld", id, now);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "device_id", id, "hwdevid",
			      hw, "cert_thumbprint", thumb, "cert_serial", "SER", "cert_not_after",
			      "1900000000", "user", user, "platform", platform, "device_name", name,
			      "os_version", os);
	mdm_err_t err = {0};
	if (mdm_store_enroll(st, d, MDM_SPEND_NONE, NULL, NULL, 0, (time_t)now, &err) != 0)
		fail_msg("enroll %s: %s", id, err.text);
	json_decref(d);
}

static const char *s_hget(const char *key, const char *field)
{
	static char out[4096];
	redisReply *r = s_raw("HGET %s %s", key, field);
	snprintf(out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	freeReplyObject(r);
	return out;
}

/* The device ids of a search page as "a,b,c"; next cursor copied to next (or ""). */
static const char *s_find(mdm_store_t *st, mdm_device_filter_t f, char *next, size_t ncap)
{
	static char out[4096];
	mdm_err_t err = {0};
	if (f.limit == 0)
		f.limit = 50;
	json_t *page = mdm_store_device_find(st, &f, &err);
	if (page == NULL)
		fail_msg("find: %s", err.text);
	out[0] = '\0';
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(page, "devices"), i, d)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "",
			 json_string_value(json_object_get(d, "device_id")));
	const char *n = json_string_value(json_object_get(page, "next"));
	if (next)
		snprintf(next, ncap, "%s", n ? n : "");
	json_decref(page);
	return out;
}

/* Walks every page of a search; returns all ids joined. */
static const char *s_find_all(mdm_store_t *st, mdm_device_filter_t f, int *pages)
{
	static char all[8192];
	char next[512] = "";
	all[0] = '\0';
	*pages = 0;
	do {
		f.cursor = next[0] ? next : NULL;
		char cur[512];
		snprintf(cur, sizeof cur, "%s", next);
		f.cursor = cur[0] ? cur : NULL;
		const char *ids = s_find(st, f, next, sizeof next);
		if (ids[0])
			snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", all[0] ? "," : "",
				 ids);
		(*pages)++;
		assert_true(*pages < 100);
	} while (next[0]);
	return all;
}

static long long s_stat(json_t *stats, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(json_object_get(stats, "devices"), a), b));
}

/* ---- administrators, sessions, tokens --------------------------------------------------- */

static void test_admin_create_get_list_delete(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_admin_create(st, "Ann@Example.com", "HASH-A", "admin", S_T0, &err), 0);
	assert_int_equal(mdm_store_admin_create(st, "bob@example.com", "HASH-B", "read-only", S_T0 + 1, &err), 0);
	assert_int_equal(mdm_store_admin_create(st, "ANN@example.com", "X", "admin", S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	json_t *a = mdm_store_admin_get(st, "ann@EXAMPLE.com", &err);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "pwhash")), "HASH-A");
	assert_string_equal(json_string_value(json_object_get(a, "email")), "ann@example.com");
	json_decref(a);
	mdm_err_clear(&err);
	json_t *l = mdm_store_admin_list(st, &err);
	char *text = json_dumps(l, JSON_COMPACT);
	assert_string_equal(text, "[{\"email\":\"ann@example.com\",\"role\":\"admin\",\"created_at\":1700000000},"
				  "{\"email\":\"bob@example.com\",\"role\":\"read-only\",\"created_at\":1700000001}]");
	free(text);
	json_decref(l);
	/* deleting an administrator ends its sessions */
	assert_int_equal(mdm_store_asession_create(st, S_H64, "bob@example.com", "read-only", S_T0, 3600, &err), 0);
	json_t *who = mdm_store_whois(st, S_H64, &err);
	assert_non_null(who);
	assert_string_equal(json_string_value(json_object_get(who, "kind")), "session");
	assert_string_equal(json_string_value(json_object_get(who, "role")), "read-only");
	assert_int_equal(json_integer_value(json_object_get(who, "expires_at")), S_T0 + 3600);
	json_decref(who);
	assert_int_equal(mdm_store_admin_delete(st, "BOB@example.com", &err), 0);
	assert_null(mdm_store_whois(st, S_H64, &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_int_equal(s_raw_int("EXISTS mdm:asess:" S_H64), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:asessions:bob@example.com"), 0);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_admin_delete(st, "bob@example.com", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_null(mdm_store_admin_get(st, "nobody@example.com", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	/* a session needs its administrator */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_asession_create(st, S_H64B, "nobody@example.com", "admin", S_T0, 60, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
}

static void test_sessions_expire_and_logout(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_admin_create(st, "ann@example.com", "H", "admin", S_T0, &err), 0);
	assert_int_equal(mdm_store_asession_create(st, S_H64, "ann@example.com", "admin", S_T0, 1, &err), 0);
	long long ttl = s_raw_int("TTL mdm:asess:" S_H64);
	assert_true(ttl == 1 || ttl == 0);
	s_raw_ok("PEXPIRE mdm:asess:" S_H64 " 1");
	usleep(20000);
	assert_null(mdm_store_whois(st, S_H64, &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_asession_create(st, S_H64B, "ann@example.com", "admin", S_T0, 600, &err), 0);
	json_t *who = mdm_store_whois(st, S_H64B, &err);
	assert_non_null(who);
	json_decref(who);
	/* the stale member of the administrator's session set was pruned */
	assert_int_equal(s_raw_int("SCARD mdm:asessions:ann@example.com"), 1);
	assert_int_equal(mdm_store_asession_delete(st, S_H64B, &err), 0);
	assert_null(mdm_store_whois(st, S_H64B, &err));
	assert_int_equal(s_raw_int("SCARD mdm:asessions:ann@example.com"), 0);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_asession_delete(st, S_H64B, &err), 0); /* harmless */
	assert_int_equal(mdm_store_asession_delete(st, "not-a-hash", &err), -1);
}

static void test_api_tokens(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_apitoken_create(st, S_H64B, "ci", "admin", "bootstrap", S_T0 + 5, &err), 0);
	assert_int_equal(mdm_store_apitoken_create(st, S_H64, "grafana", "read-only", "ann@example.com", S_T0, &err), 0);
	json_t *l = mdm_store_apitoken_list(st, &err);
	char *text = json_dumps(l, JSON_COMPACT);
	assert_string_equal(text, "[{\"id\":\"0123456789abcdef\",\"name\":\"grafana\",\"role\":\"read-only\",\"created_at\":1700000000},"
				  "{\"id\":\"fedcba9876543210\",\"name\":\"ci\",\"role\":\"admin\",\"created_at\":1700000005}]");
	free(text);
	json_decref(l);
	assert_string_equal(s_hget("mdm:apitok:" S_H64, "created_by"), "ann@example.com");
	json_t *who = mdm_store_whois(st, S_H64, &err);
	assert_non_null(who);
	assert_string_equal(json_string_value(json_object_get(who, "kind")), "api");
	assert_string_equal(json_string_value(json_object_get(who, "name")), "grafana");
	assert_string_equal(json_string_value(json_object_get(who, "id")), "0123456789abcdef");
	json_decref(who);
	assert_int_equal(mdm_store_apitoken_delete(st, "0123456789abcdef", &err), 0);
	assert_null(mdm_store_whois(st, S_H64, &err));
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_apitoken_delete(st, "0123456789abcdef", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	l = mdm_store_apitoken_list(st, &err);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
}

static void test_login_failures_per_account_and_address(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	long a, at, r, rt;
	assert_int_equal(mdm_store_login_failures(st, "Ann@example.com", "10.0.0.1", &a, &at, &r, &rt, &err), 0);
	assert_int_equal(a + at + r + rt, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mdm_store_login_failure_add(st, "ann@example.com", "10.0.0.1", 900, &err), 0);
	assert_int_equal(mdm_store_login_failure_add(st, "bob@example.com", "10.0.0.1", 900, &err), 0);
	assert_int_equal(mdm_store_login_failures(st, "ANN@example.com", "10.0.0.1", &a, &at, &r, &rt, &err), 0);
	assert_int_equal(a, 3);
	assert_int_equal(r, 4);
	assert_true(at > 890 && at <= 900 && rt > 890 && rt <= 900);
	mdm_store_login_failures_clear(st, "ann@example.com");
	assert_int_equal(mdm_store_login_failures(st, "ann@example.com", "10.0.0.1", &a, &at, &r, &rt, &err), 0);
	assert_int_equal(a, 0);
	assert_int_equal(r, 4); /* the address keeps its count */
	assert_int_equal(mdm_store_login_failures(st, "ann@example.com", "10.0.0.2", &a, &at, &r, &rt, &err), 0);
	assert_int_equal(r, 0);
}

/* ---- audit ----------------------------------------------------------------------------- */

static void s_audit(mdm_store_t *st, long at, const char *actor, const char *action, const char *target)
{
	mdm_err_t err = {0};
	json_t *ev = json_pack("{s:I,s:s,s:s,s:s,s:s,s:{s:i},s:s}", "at", (json_int_t)at, "actor", actor,
			       "role", "admin", "action", action, "target", target, "detail", "status", 201,
			       "remote_addr", "127.0.0.1");
	if (mdm_store_audit_add(st, ev, 0, &err) != 0)
		fail_msg("audit add: %s", err.text);
	json_decref(ev);
}

/* The targets of an audit page as "a,b,c"; next copied. */
static const char *s_audit_page(mdm_store_t *st, mdm_audit_filter_t f, char *next, size_t ncap)
{
	static char out[2048];
	mdm_err_t err = {0};
	json_t *page = mdm_store_audit_list(st, &f, &err);
	if (page == NULL)
		fail_msg("audit list: %s", err.text);
	out[0] = '\0';
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(page, "events"), i, e)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "",
			 json_string_value(json_object_get(e, "target")));
	const char *n = json_string_value(json_object_get(page, "next"));
	snprintf(next, ncap, "%s", n ? n : "");
	json_decref(page);
	return out;
}

static void test_audit_newest_first_filters_and_pages(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	char next[64], cur[64];
	s_audit(st, S_T0, "ann", "user.create", "u1");
	s_audit(st, S_T0 + 10, "bob", "user.create", "u2");
	s_audit(st, S_T0 + 20, "ann", "group.create", "g1");
	s_audit(st, S_T0 + 30, "ann", "user.create", "u3");
	s_audit(st, S_T0 + 40, "bootstrap", "token.create", "t1");
	mdm_audit_filter_t f = {.limit = 50};
	assert_string_equal(s_audit_page(st, f, next, sizeof next), "t1,u3,g1,u2,u1");
	assert_string_equal(next, "");
	/* the stored shape */
	mdm_err_t err = {0};
	f.limit = 1;
	json_t *page = mdm_store_audit_list(st, &f, &err);
	json_t *e = json_array_get(json_object_get(page, "events"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "at")), S_T0 + 40);
	assert_string_equal(json_string_value(json_object_get(e, "remote_addr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "detail"), "status")), 201);
	assert_non_null(json_string_value(json_object_get(e, "id")));
	json_decref(page);
	/* pages from the stream */
	f.limit = 2;
	assert_string_equal(s_audit_page(st, f, next, sizeof next), "t1,u3");
	snprintf(cur, sizeof cur, "%s", next);
	f.cursor = cur;
	assert_string_equal(s_audit_page(st, f, next, sizeof next), "g1,u2");
	snprintf(cur, sizeof cur, "%s", next);
	assert_string_equal(s_audit_page(st, f, next, sizeof next), "u1");
	assert_string_equal(next, "");
	/* by actor, by action, both; pages through an index */
	mdm_audit_filter_t fa = {.actor = "ann", .limit = 50};
	assert_string_equal(s_audit_page(st, fa, next, sizeof next), "u3,g1,u1");
	fa.limit = 1;
	assert_string_equal(s_audit_page(st, fa, next, sizeof next), "u3");
	snprintf(cur, sizeof cur, "%s", next);
	fa.cursor = cur;
	assert_string_equal(s_audit_page(st, fa, next, sizeof next), "g1");
	mdm_audit_filter_t fb = {.action = "user.create", .limit = 50};
	assert_string_equal(s_audit_page(st, fb, next, sizeof next), "u3,u2,u1");
	mdm_audit_filter_t fc = {.actor = "ann", .action = "user.create", .limit = 50};
	assert_string_equal(s_audit_page(st, fc, next, sizeof next), "u3,u1");
	/* time window, inclusive */
	mdm_audit_filter_t fd = {.since = S_T0 + 10, .until = S_T0 + 30, .limit = 50};
	assert_string_equal(s_audit_page(st, fd, next, sizeof next), "u3,g1,u2");
	fd.actor = "ann";
	assert_string_equal(s_audit_page(st, fd, next, sizeof next), "u3,g1");
	mdm_audit_filter_t fe = {.actor = "nobody", .limit = 5};
	assert_string_equal(s_audit_page(st, fe, next, sizeof next), "");
	/* bad input */
	mdm_audit_filter_t bad = {.cursor = "x-1", .limit = 5};
	assert_null(mdm_store_audit_list(st, &bad, &err));
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	mdm_err_clear(&err);
	bad.cursor = NULL;
	bad.limit = 501;
	assert_null(mdm_store_audit_list(st, &bad, &err));
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
}

/* ---- counters -------------------------------------------------------------------------- */

static void test_counters_follow_enrollment_unenrollment_and_commands(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	long now = S_T0 + 7200 + 10; /* 2 hours into the window */
	s_enroll(st, "D1", "a@x.y", "windows", "PC-1", "10.0", now - 7200);
	s_enroll(st, "D2", "a@x.y", "windows", "PC-2", "10.0", now);
	s_enroll(st, "D3", "b@x.y", "windows-8.1", "PC-3", "6.3", now);
	/* re-enrollment of D3 as another platform moves its counter */
	s_enroll(st, "D3", "b@x.y", "windows", "PC-3", "10.0", now);
	assert_int_equal(mdm_store_device_unenroll(st, "D1", "admin", now, &err), 0);
	assert_int_equal(mdm_store_device_unenroll(st, "D1", "admin", now, &err), 0); /* again: no change */
	assert_int_equal(mdm_store_cmd_create(st, "D2", "c1", "lock", "{}", "[]", now, 60, &err), 0);
	assert_int_equal(mdm_store_cmd_create(st, "D2", "c2", "lock", "{}", "[]", now, 60, &err), 0);
	assert_int_equal(mdm_store_cmd_create(st, "D2", "c3", "lock", "{}", "[]", now, 60, &err), 0);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 1, "200", NULL, now, &err), 0);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 0, "500", NULL, now, &err), 0); /* already final */
	assert_int_equal(mdm_store_cmd_finish(st, "c2", 0, "405", NULL, now, &err), 0);
	assert_int_equal(mdm_store_stats_session(st, now, &err), 0);
	assert_int_equal(mdm_store_stats_session(st, now - 3600, &err), 0);
	assert_int_equal(mdm_store_stats_session(st, now - 3600, &err), 0);
	json_t *s = mdm_store_stats(st, now, &err);
	assert_non_null(s);
	assert_int_equal(s_stat(s, "by_state", "enrolled"), 2);
	assert_int_equal(s_stat(s, "by_state", "unenrolled"), 1);
	assert_int_equal(s_stat(s, "by_platform", "windows"), 3);
	assert_null(json_object_get(json_object_get(json_object_get(s, "devices"), "by_platform"), "windows-8.1"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "devices"), "total")), 3);
	json_t *eh = json_object_get(json_object_get(s, "enrollments"), "per_hour");
	assert_int_equal(json_array_size(eh), 48);
	json_t *last = json_array_get(eh, 47);
	assert_int_equal(json_integer_value(json_object_get(last, "t")), now - now % 3600);
	assert_int_equal(json_integer_value(json_object_get(last, "n")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(eh, 45), "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(eh, 0), "t")), now - now % 3600 - 47 * 3600);
	json_t *ed = json_object_get(json_object_get(s, "enrollments"), "per_day");
	assert_int_equal(json_array_size(ed), 30);
	/* D1 was enrolled on the day before (now is 24 minutes into a UTC day) */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ed, 29), "n")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ed, 28), "n")), 1);
	json_t *sh = json_object_get(json_object_get(s, "sessions"), "per_hour");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(sh, 47), "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(sh, 46), "n")), 2);
	json_t *c = json_object_get(s, "commands");
	assert_int_equal(json_integer_value(json_object_get(c, "queued")), 3);
	assert_int_equal(json_integer_value(json_object_get(c, "done")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "failed")), 1);
	json_decref(s);
	/* buckets expire just after the window they are shown in */
	char key[64];
	snprintf(key, sizeof key, "mdm:st:enr:h:%ld", now - now % 3600);
	long long ttl = s_raw_int("TTL %s", key);
	assert_true(ttl > 48 * 3600 && ttl <= 50 * 3600);
}

static void test_replaced_device_moves_state(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enroll(st, "OLD", "a@x.y", "windows", "PC", "10.0", S_T0);
	/* the same hardware under another id replaces OLD */
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "device_id", "NEW", "hwdevid", "HW-OLD",
			      "cert_thumbprint", "TNEW", "cert_serial", "S", "cert_not_after", "1900000000",
			      "platform", "windows", "user", "a@x.y");
	assert_int_equal(mdm_store_enroll(st, d, MDM_SPEND_NONE, NULL, NULL, 0, S_T0 + 1, &err), 0);
	json_decref(d);
	assert_string_equal(s_hget("mdm:dev:OLD", "state"), "replaced");
	json_t *s = mdm_store_stats(st, S_T0 + 1, &err);
	assert_int_equal(s_stat(s, "by_state", "enrolled"), 1);
	assert_int_equal(s_stat(s, "by_state", "replaced"), 1);
	json_decref(s);
	char next[256];
	mdm_device_filter_t f = {.state = "replaced"};
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD");
	f.state = "enrolled";
	assert_string_equal(s_find(st, f, next, sizeof next), "NEW");
}

/* ---- device search --------------------------------------------------------------------- */

static void s_fleet(mdm_store_t *st)
{
	s_enroll(st, "DEV-01", "alice@example.com", "windows", "Reception-PC", "10.0.19045", S_T0 + 1);
	s_enroll(st, "DEV-02", "alice@example.com", "windows", "Kiosk-Lobby", "10.0.22631", S_T0 + 2);
	s_enroll(st, "DEV-03", "bob@example.com", "windows-8.1", "Old-Tablet", "6.3.9600", S_T0 + 3);
	s_enroll(st, "DEV-04", "bob@example.com", "windows", "KIOSK-Hall", "10.0.22631", S_T0 + 3);
	s_enroll(st, "DEV-05", "carol@example.com", "windows", "Laptop", "10.0.22631", S_T0 + 5);
	mdm_err_t err = {0};
	json_t *u = json_pack("{s:s}", "last_seen", "1700000100");
	assert_int_equal(mdm_store_device_update(st, "DEV-01", u, &err), 0);
	json_object_set_new(u, "last_seen", json_string("1700000200"));
	assert_int_equal(mdm_store_device_update(st, "DEV-02", u, &err), 0);
	json_object_set_new(u, "last_seen", json_string("1700000300"));
	assert_int_equal(mdm_store_device_update(st, "DEV-04", u, &err), 0);
	json_decref(u);
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-05", "admin", S_T0 + 6, &err), 0);
}

static void test_find_filters(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_fleet(st);
	char next[256];
	mdm_device_filter_t f = {0};
	/* newest enrollment first; equal times by id, descending */
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-05,DEV-04,DEV-03,DEV-02,DEV-01");
	assert_string_equal(next, "");
	f.user = "ALICE@example.com";
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-02,DEV-01");
	f.platform = "windows";
	f.user = "bob@example.com";
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-04");
	f = (mdm_device_filter_t){.state = "unenrolled"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-05");
	f = (mdm_device_filter_t){.state = "enrolled", .os_version = "10.0.22631"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-04,DEV-02");
	f = (mdm_device_filter_t){.q = "kiosk"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-04,DEV-02");
	f = (mdm_device_filter_t){.q = "dev-0"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-05,DEV-04,DEV-03,DEV-02,DEV-01");
	f = (mdm_device_filter_t){.q = "KIOSK", .user = "bob@example.com"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-04");
	/* last_seen: after is inclusive, before exclusive; never seen matches neither */
	f = (mdm_device_filter_t){.seen_after = 1700000200};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-04,DEV-02");
	f = (mdm_device_filter_t){.seen_before = 1700000200};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-01");
	f = (mdm_device_filter_t){.seen_after = 1700000100, .seen_before = 1700000300, .user = "alice@example.com"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-02,DEV-01");
	/* nothing matches */
	f = (mdm_device_filter_t){.user = "nobody@example.com"};
	assert_string_equal(s_find(st, f, next, sizeof next), "");
	f = (mdm_device_filter_t){.platform = "android"};
	assert_string_equal(s_find(st, f, next, sizeof next), "");
	f = (mdm_device_filter_t){.q = "zzz"};
	assert_string_equal(s_find(st, f, next, sizeof next), "");
	assert_string_equal(next, "");
	/* a device's name change (update) moves its search text */
	mdm_err_t err = {0};
	json_t *u = json_pack("{s:s}", "device_name", "Renamed-Box");
	assert_int_equal(mdm_store_device_update(st, "DEV-03", u, &err), 0);
	json_decref(u);
	f = (mdm_device_filter_t){.q = "renamed"};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-03");
	f = (mdm_device_filter_t){.q = "tablet"};
	assert_string_equal(s_find(st, f, next, sizeof next), "");
	/* re-enrollment drops last_seen with the old record */
	s_enroll(st, "DEV-01", "alice@example.com", "windows", "Reception-PC", "10.0.19045", S_T0 + 9);
	f = (mdm_device_filter_t){.seen_before = 1700000200};
	assert_string_equal(s_find(st, f, next, sizeof next), "");
}

static void test_find_pages_with_cursor(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_fleet(st);
	char next[256];
	int pages;
	/* walk path (no equality filter) and small-set path (a user) page alike */
	mdm_device_filter_t f = {.limit = 2};
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-05,DEV-04");
	assert_true(next[0] != '\0');
	assert_string_equal(s_find_all(st, f, &pages), "DEV-05,DEV-04,DEV-03,DEV-02,DEV-01");
	assert_int_equal(pages, 3);
	f.limit = 1;
	assert_string_equal(s_find_all(st, f, &pages), "DEV-05,DEV-04,DEV-03,DEV-02,DEV-01");
	f = (mdm_device_filter_t){.limit = 1, .platform = "windows"};
	assert_string_equal(s_find_all(st, f, &pages), "DEV-05,DEV-04,DEV-02,DEV-01");
	assert_int_equal(pages, 4);
	f = (mdm_device_filter_t){.limit = 1, .q = "kiosk"};
	assert_string_equal(s_find_all(st, f, &pages), "DEV-04,DEV-02");
	/* a device re-enrolled while paging moves to the front: the walk goes on from where the
	 * cursor was and never repeats a device */
	f = (mdm_device_filter_t){.limit = 2};
	s_find(st, f, next, sizeof next);
	s_enroll(st, "DEV-04", "bob@example.com", "windows", "KIOSK-Hall", "10.0.22631", S_T0 + 50);
	f.cursor = next;
	assert_string_equal(s_find(st, f, next, sizeof next), "DEV-03,DEV-02");
	/* cursors this server never gave */
	mdm_err_t err = {0};
	const char *bad[] = {"zz", "3132", "3a41", "41", "313a", "12345"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mdm_device_filter_t b = {.limit = 5, .cursor = bad[i]};
		mdm_err_clear(&err);
		if (mdm_store_device_find(st, &b, &err) != NULL || err.code != MDM_E_BAD_REQUEST)
			fail_msg("cursor %s accepted", bad[i]);
	}
	mdm_device_filter_t b = {.limit = 0};
	mdm_err_clear(&err);
	assert_null(mdm_store_device_find(st, &b, &err));
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
}

/* More candidates than one call may walk: short pages, each with a cursor, still find
 * every match exactly once. */
static void test_find_walk_budget_resumes(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	/* 20000 devices written the way enrollment indexes them (device number i: bitmaps for
	 * state and platform, a sorted set for the user); two match q */
	s_raw_ok("EVAL %s 0", "for i = 1, 20000 do\n"
			      "  local id = string.format('FAKE-%05d', i)\n"
			      "  redis.call('HSET', 'mdm:dev:' .. id, 'device_id', id, 'state', 'enrolled',\n"
			      "    'device_name', (i == 7 or i == 15000) and 'needle' or 'hay')\n"
			      "  redis.call('ZADD', 'mdm:devices', i, id)\n"
			      "  redis.call('SETBIT', 'mdm:ix:s:enrolled', i, 1)\n"
			      "  if i % 2 == 0 then redis.call('SETBIT', 'mdm:ix:p:windows', i, 1) end\n"
			      "  if i % 3 == 0 then redis.call('ZADD', 'mdm:ix:u:u@x.y', i, id) end\n"
			      "end\n"
			      "redis.call('SET', 'mdm:ix:dn', 20000)\n"
			      "return 1");
	int pages;
	mdm_device_filter_t f = {.limit = 10, .q = "needle"};
	assert_string_equal(s_find_all(st, f, &pages), "FAKE-15000,FAKE-00007");
	assert_true(pages >= 2);
	f = (mdm_device_filter_t){.limit = 3, .state = "enrolled"};
	char next[256];
	assert_string_equal(s_find(st, f, next, sizeof next), "FAKE-20000,FAKE-19999,FAKE-19998");
	/* the walked index is the smallest; the others still filter */
	f = (mdm_device_filter_t){.limit = 3, .state = "enrolled", .platform = "windows", .user = "u@x.y"};
	assert_string_equal(s_find(st, f, next, sizeof next), "FAKE-19998,FAKE-19992,FAKE-19986");
	f.cursor = next;
	assert_string_equal(s_find(st, f, next, sizeof next), "FAKE-19980,FAKE-19974,FAKE-19968");
	/* a bitmap walked, another checked bit by bit, across chunk boundaries and pages */
	f = (mdm_device_filter_t){.limit = 3, .state = "enrolled", .platform = "windows"};
	assert_string_equal(s_find(st, f, next, sizeof next), "FAKE-20000,FAKE-19998,FAKE-19996");
	f = (mdm_device_filter_t){.limit = 500, .platform = "windows", .q = "needle"};
	assert_string_equal(s_find_all(st, f, &pages), "FAKE-15000");
	assert_true(pages >= 2); /* 10000 candidates: more than one call may walk */
	char cur[256];
	f = (mdm_device_filter_t){.limit = 2, .platform = "windows"};
	s_find(st, f, next, sizeof next);
	for (int i = 0; i < 5000; i += 2) { /* page 2..: follows on at the cursor, 2 by 2 */
		snprintf(cur, sizeof cur, "%s", next);
		f.cursor = cur;
		if (i == 4998)
			break;
		s_find(st, f, next, sizeof next);
	}
	assert_string_equal(s_find(st, f, next, sizeof next), "FAKE-10000,FAKE-09998");
	/* a number without a device (a stale bit) is skipped */
	s_raw_ok("ZREM mdm:devices FAKE-09996");
	f.cursor = next;
	assert_string_equal(s_find(st, f, next, sizeof next), "FAKE-09994,FAKE-09992");
}

static long long s_zscore(const char *key, const char *member)
{
	redisReply *r = s_raw("ZSCORE %s %s", key, member);
	long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
	freeReplyObject(r);
	return v;
}

static const char *s_get(const char *key)
{
	static char out[64];
	redisReply *r = s_raw("GET %s", key);
	snprintf(out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	freeReplyObject(r);
	return out;
}

static const char *s_type(const char *key)
{
	static char out[32];
	redisReply *r = s_raw("TYPE %s", key);
	snprintf(out, sizeof out, "%s", r->str ? r->str : "?");
	freeReplyObject(r);
	return out;
}

/* Indexes as enrollment, update and unenrollment keep them: a sorted set while small or
 * sparse, a bitmap of device numbers once more than 128 devices share a common value. */
static void test_index_turns_into_a_bitmap_and_back_to_nothing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	char id[32], next[256];
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof id, "BIG-%03d", i);
		s_enroll(st, id, "Big@x.y", "windows", "PC", "10.0.1", S_T0 + i / 10);
		if (i == 127)
			assert_string_equal(s_type("mdm:ix:u:big@x.y"), "zset");
	}
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "W81-%d", i);
		s_enroll(st, id, "old@x.y", "windows-8.1", "Tablet", "6.3", S_T0 + 100);
	}
	/* the device numbers are the listing order */
	assert_int_equal(s_zscore("mdm:devices", "BIG-000"), 1);
	assert_string_equal(s_get("mdm:ix:dn"), "203");
	assert_string_equal(s_type("mdm:ix:u:big@x.y"), "string");
	assert_string_equal(s_type("mdm:ix:s:enrolled"), "string");
	assert_string_equal(s_type("mdm:ix:p:windows"), "string");
	assert_string_equal(s_type("mdm:ix:o:10.0.1"), "string");
	assert_string_equal(s_type("mdm:ix:p:windows-8.1"), "zset");
	assert_int_equal(s_raw_int("BITCOUNT mdm:ix:u:big@x.y"), 200);
	assert_true(s_raw_int("MEMORY USAGE mdm:ix:u:big@x.y") < 200);
	mdm_device_filter_t f = {.user = "big@x.y", .limit = 3};
	assert_string_equal(s_find(st, f, next, sizeof next), "BIG-199,BIG-198,BIG-197");
	f = (mdm_device_filter_t){.platform = "windows-8.1", .state = "enrolled"};
	assert_string_equal(s_find(st, f, next, sizeof next), "W81-2,W81-1,W81-0");
	f = (mdm_device_filter_t){.os_version = "10.0.1", .limit = 200};
	int pages;
	const char *all = s_find_all(st, f, &pages);
	assert_int_equal(strlen(all), 200 * 8 - 1);
	assert_int_equal(pages, 1);
	/* re-enrollment: a new number, so first in the list; the old bits are cleared */
	s_enroll(st, "BIG-000", "big@x.y", "windows", "PC", "10.0.1", S_T0 + 200);
	assert_int_equal(s_zscore("mdm:devices", "BIG-000"), 204);
	assert_int_equal(s_raw_int("GETBIT mdm:ix:u:big@x.y 1"), 0);
	assert_int_equal(s_raw_int("BITCOUNT mdm:ix:u:big@x.y"), 200);
	f = (mdm_device_filter_t){.user = "big@x.y", .limit = 2};
	assert_string_equal(s_find(st, f, next, sizeof next), "BIG-000,BIG-199");
	/* a lost counter starts again above the numbers in use, never on top of one */
	s_raw_ok("DEL mdm:ix:dn");
	s_enroll(st, "BIG-001", "big@x.y", "windows", "PC", "10.0.1", S_T0 + 201);
	assert_int_equal(s_zscore("mdm:devices", "BIG-001"), 205);
	assert_string_equal(s_find(st, f, next, sizeof next), "BIG-001,BIG-000");
	/* unenrollment moves a device from one state index to the other */
	assert_int_equal(mdm_store_device_unenroll(st, "BIG-005", "admin", S_T0 + 300, &err), 0);
	f = (mdm_device_filter_t){.state = "unenrolled"};
	assert_string_equal(s_find(st, f, next, sizeof next), "BIG-005");
	f = (mdm_device_filter_t){.state = "enrolled", .user = "big@x.y", .limit = 200};
	all = s_find_all(st, f, &pages);
	assert_null(strstr(all, "BIG-005"));
	assert_int_equal(strlen(all), 199 * 8 - 1);
	json_t *stats = mdm_store_stats(st, S_T0, &err);
	assert_int_equal(s_stat(stats, "by_state", "enrolled"), 202);
	assert_int_equal(s_stat(stats, "by_state", "unenrolled"), 1);
	assert_int_equal(s_stat(stats, "by_platform", "windows"), 200);
	assert_int_equal(s_stat(stats, "by_platform", "windows-8.1"), 3);
	json_decref(stats);
	/* every device leaves 10.0.1: its bitmap goes with its last bit */
	json_t *u = json_pack("{s:s}", "os_version", "10.0.2");
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof id, "BIG-%03d", i);
		assert_int_equal(mdm_store_device_update(st, id, u, &err), 0);
	}
	json_decref(u);
	assert_int_equal(s_raw_int("EXISTS mdm:ix:o:10.0.1"), 0);
	assert_string_equal(s_type("mdm:ix:o:10.0.2"), "string");
	f = (mdm_device_filter_t){.os_version = "10.0.2", .user = "big@x.y", .limit = 1};
	assert_string_equal(s_find(st, f, next, sizeof next), "BIG-001");
	f = (mdm_device_filter_t){.os_version = "10.0.1"};
	assert_string_equal(s_find(st, f, next, sizeof next), "");
	/* what a device costs in the indexes: bits, not sorted-set entries */
	long long ix = 0;
	const char *keys[] = {"mdm:ix:u:big@x.y", "mdm:ix:s:enrolled", "mdm:ix:p:windows",
			      "mdm:ix:o:10.0.2"};
	for (size_t i = 0; i < 4; i++)
		ix += s_raw_int("MEMORY USAGE %s", keys[i]);
	assert_true(ix < 4 * 200);
}

/* Data of layout 1 (sorted sets by enrollment time, the name hash, sorted-set audit
 * indexes) becomes layout 2 at the registry's start, with enrollments and audit events
 * going on in between: nothing counted twice, nothing lost. */
static void test_index_ensure_migrates_layout_1(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_raw_ok("EVAL %s 0",
		 "local function dev(id, t, state, platform, user, os, name)\n"
		 "  redis.call('HSET', 'mdm:dev:' .. id, 'device_id', id, 'state', state, 'platform', platform,\n"
		 "    'user', user, 'os_version', os, 'device_name', name, 'enrolled_at', t)\n"
		 "  redis.call('ZADD', 'mdm:devices', t, id)\n"
		 "  for _, k in ipairs({'state:' .. state, 'platform:' .. platform, 'user:' .. string.lower(user), 'os:' .. os}) do\n"
		 "    redis.call('ZADD', 'mdm:ix:' .. k, t, id)\n"
		 "  end\n"
		 "  redis.call('HSET', 'mdm:ix:name', id, string.lower(id .. '\\n' .. name))\n"
		 "  redis.call('HINCRBY', 'mdm:st:state', state, 1)\n"
		 "  redis.call('HINCRBY', 'mdm:st:platform', platform, 1)\n"
		 "end\n"
		 "dev('OLD1', 1700000000, 'enrolled', 'windows', 'A@x.y', '10.0', 'Box')\n"
		 "dev('OLD3', 1700000001, 'unenrolled', 'windows', 'b@x.y', '10.0', 'Other')\n"
		 "dev('OLD2', 1700000001, 'unenrolled', 'windows-8.1', 'b@x.y', '6.3', 'Tablet')\n"
		 "redis.call('HSET', 'mdm:dev:OLD1', 'last_seen', 1700000050)\n"
		 "redis.call('ZADD', 'mdm:ix:seen', 1700000050, 'OLD1')\n"
		 "for i, e in ipairs({{'ann', 'user.create', 'u1'}, {'bob', 'user.create', 'u2'}, {'ann', 'group.create', 'g1'}}) do\n"
		 "  local id = redis.call('XADD', 'mdm:audit', (1700000000 + i) * 1000 .. '-0', 'at', 1700000000 + i,\n"
		 "    'actor', e[1], 'role', 'admin', 'action', e[2], 'target', e[3], 'detail', '{}', 'remote_addr', '')\n"
		 "  redis.call('ZADD', 'mdm:audit:actor:' .. e[1], (1700000000 + i) * 1000000, id)\n"
		 "  redis.call('ZADD', 'mdm:audit:action:' .. e[2], (1700000000 + i) * 1000000, id)\n"
		 "end\n"
		 "redis.call('SET', 'mdm:ix:version', 1)\n"
		 "return 1");
	/* before the migration: a new enrollment is numbered after the old devices, an
	 * unenrollment of an old one is counted, an audit index still a sorted set gets its
	 * entry there and is read there */
	s_enroll(st, "NEW1", "a@x.y", "windows", "Laptop", "10.0", S_T0 + 10);
	assert_int_equal(s_zscore("mdm:devices", "NEW1"), 4);
	assert_int_equal(mdm_store_device_unenroll(st, "OLD1", "admin", S_T0 + 11, &err), 0);
	s_audit(st, S_T0 + 12, "ann", "user.create", "u3");
	assert_string_equal(s_type("mdm:audit:actor:ann"), "zset");
	assert_string_equal(s_type("mdm:audit:actor:new"), "none");
	s_audit(st, S_T0 + 13, "new", "user.create", "u4");
	assert_string_equal(s_type("mdm:audit:actor:new"), "stream");
	char next[256];
	mdm_audit_filter_t fa = {.actor = "ann", .limit = 50};
	assert_string_equal(s_audit_page(st, fa, next, sizeof next), "u3,g1,u1");
	json_t *s = mdm_store_stats(st, S_T0, &err);
	assert_int_equal(s_stat(s, "by_state", "enrolled"), 1);
	assert_int_equal(s_stat(s, "by_state", "unenrolled"), 3);
	json_decref(s);

	assert_int_equal(mdm_store_index_ensure(st, &err), 1);
	assert_int_equal(mdm_store_index_ensure(st, &err), 0);
	assert_string_equal(s_get("mdm:ix:version"), "2");
	assert_int_equal(s_raw_int("EXISTS mdm:ix:name mdm:ix:state:enrolled mdm:ix:state:unenrolled "
				   "mdm:ix:platform:windows mdm:ix:user:a@x.y mdm:ix:os:10.0"),
			 0);
	/* oldest first, equal times by id: the order the listing had */
	assert_int_equal(s_zscore("mdm:devices", "OLD1"), 1);
	assert_int_equal(s_zscore("mdm:devices", "OLD2"), 2);
	assert_int_equal(s_zscore("mdm:devices", "OLD3"), 3);
	mdm_device_filter_t f = {0};
	assert_string_equal(s_find(st, f, next, sizeof next), "NEW1,OLD3,OLD2,OLD1");
	f.state = "unenrolled";
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD3,OLD2,OLD1");
	f = (mdm_device_filter_t){.user = "A@x.y"};
	assert_string_equal(s_find(st, f, next, sizeof next), "NEW1,OLD1");
	f = (mdm_device_filter_t){.platform = "windows-8.1", .q = "tab"};
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD2");
	f = (mdm_device_filter_t){.seen_after = 1};
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD1");
	s = mdm_store_stats(st, S_T0, &err);
	assert_int_equal(s_stat(s, "by_state", "enrolled"), 1);
	assert_int_equal(s_stat(s, "by_state", "unenrolled"), 3);
	assert_int_equal(s_stat(s, "by_platform", "windows"), 3);
	assert_int_equal(s_stat(s, "by_platform", "windows-8.1"), 1);
	json_decref(s);
	/* the audit indexes are streams now, with every entry */
	assert_string_equal(s_type("mdm:audit:actor:ann"), "stream");
	assert_string_equal(s_type("mdm:audit:action:user.create"), "stream");
	assert_int_equal(s_raw_int("EXISTS mdm:audit-conv:actor:ann"), 0);
	assert_string_equal(s_audit_page(st, fa, next, sizeof next), "u3,g1,u1");
	mdm_audit_filter_t fb = {.action = "user.create", .limit = 50};
	assert_string_equal(s_audit_page(st, fb, next, sizeof next), "u4,u3,u2,u1");
	s_audit(st, S_T0 + 14, "ann", "user.create", "u5");
	fa.action = "user.create";
	assert_string_equal(s_audit_page(st, fa, next, sizeof next), "u5,u3,u1");
}

/* The log keeps about the newest max_events events; the index entries of dropped events
 * go too, and a listing never shows an event that is gone. */
static void test_audit_log_is_bounded(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	char target[32];
	s_audit(st, S_T0 - 1, "early", "y.create", "e1");
	for (int i = 0; i < 1000; i++) {
		snprintf(target, sizeof target, "t%d", i);
		json_t *ev = json_pack("{s:I,s:s,s:s,s:s,s:s}", "at", (json_int_t)(S_T0 + i), "actor",
				       i % 2 ? "odd" : "even", "role", "admin", "action", "x.create",
				       "target", target);
		assert_int_equal(mdm_store_audit_add(st, ev, 150, &err), 0);
		json_decref(ev);
	}
	long long n = s_raw_int("XLEN mdm:audit");
	assert_true(n >= 150 && n < 300);
	assert_true(s_raw_int("XLEN mdm:audit:action:x.create") < 400);
	assert_true(s_raw_int("XLEN mdm:audit:actor:odd") < 250);
	/* a reference costs a few bytes, not a sorted-set entry */
	assert_true(s_raw_int("MEMORY USAGE mdm:audit:action:x.create") <
		    40 * s_raw_int("XLEN mdm:audit:action:x.create"));
	char next[64];
	mdm_audit_filter_t f = {.action = "x.create", .limit = 500};
	const char *all = s_audit_page(st, f, next, sizeof next);
	assert_true(strncmp(all, "t999,t998,", 10) == 0);
	int listed = 1;
	for (const char *p = all; (p = strchr(p, ',')) != NULL; p++)
		listed++;
	assert_int_equal(listed, n);
	f = (mdm_audit_filter_t){.actor = "odd", .limit = 2};
	assert_string_equal(s_audit_page(st, f, next, sizeof next), "t999,t997");
	/* an actor whose events are all gone: nothing, and no cursor to follow */
	assert_int_equal(s_raw_int("XLEN mdm:audit:actor:early"), 1);
	f = (mdm_audit_filter_t){.actor = "early", .limit = 5};
	assert_string_equal(s_audit_page(st, f, next, sizeof next), "");
	assert_string_equal(next, "");
	/* 0: nothing is dropped */
	json_t *ev = json_pack("{s:I,s:s,s:s}", "at", (json_int_t)(S_T0 + 2000), "actor", "a", "action", "y");
	assert_int_equal(mdm_store_audit_add(st, ev, 0, &err), 0);
	json_decref(ev);
	assert_int_equal(s_raw_int("XLEN mdm:audit"), n + 1);
}

/* ---- groups, users, pre-enrollments ---------------------------------------------------- */

static void test_groups_crud(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enroll(st, "D1", "a@x.y", "windows", "n", "10", S_T0);
	s_enroll(st, "D2", "a@x.y", "windows", "n", "10", S_T0);
	assert_int_equal(mdm_store_group_create(st, "Lobby", &err), 0);
	assert_int_equal(mdm_store_group_create(st, "Lobby", &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_add(st, "Lobby", "D1", &err), 0);
	assert_int_equal(mdm_store_group_add(st, "Lobby", "D2", &err), 0);
	assert_int_equal(mdm_store_group_add(st, "Other", "D1", &err), 0); /* created by adding */
	json_t *l = mdm_store_group_list(st, &err);
	char *text = json_dumps(l, JSON_COMPACT);
	assert_string_equal(text, "[{\"name\":\"Lobby\",\"devices\":2},{\"name\":\"Other\",\"devices\":1}]");
	free(text);
	json_decref(l);
	json_t *g = mdm_store_device_groups(st, "D1", &err);
	text = json_dumps(g, JSON_COMPACT);
	assert_string_equal(text, "[\"Lobby\",\"Other\"]");
	free(text);
	json_decref(g);
	assert_int_equal(mdm_store_group_rename(st, "Lobby", "Other", &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_rename(st, "Nope", "X", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_rename(st, "Lobby", "Front Desk", &err), 0);
	json_t *m = mdm_store_group_members(st, "Front Desk", &err);
	assert_int_equal(json_array_size(m), 2);
	json_decref(m);
	assert_int_equal(s_raw_int("EXISTS mdm:group:Lobby"), 0);
	assert_int_equal(mdm_store_group_remove(st, "Front Desk", "D2", &err), 0);
	assert_int_equal(mdm_store_group_remove(st, "Front Desk", "D2", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_remove(st, "Front Desk", "D1", &err), 0);
	/* an empty group is still a group */
	l = mdm_store_group_list(st, &err);
	text = json_dumps(l, JSON_COMPACT);
	assert_string_equal(text, "[{\"name\":\"Front Desk\",\"devices\":0},{\"name\":\"Other\",\"devices\":1}]");
	free(text);
	json_decref(l);
	assert_int_equal(mdm_store_group_rename(st, "Front Desk", "Empty", &err), 0);
	assert_int_equal(mdm_store_group_delete(st, "Empty", &err), 0);
	assert_int_equal(mdm_store_group_delete(st, "Empty", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_delete(st, "Other", &err), 0);
	g = mdm_store_device_groups(st, "D1", &err);
	assert_int_equal(json_array_size(g), 0);
	json_decref(g);
}

static void test_preenrollment_group_and_listing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_preenroll_create(st, S_H64, "Kim@Example.com", "KIOSK-1", "Lobby", S_T0, 600, &err), 0);
	assert_int_equal(mdm_store_preenroll_create(st, S_H64B, "lee@example.com", NULL, NULL, S_T0 + 1, 600, &err), 0);
	json_t *l = mdm_store_preenroll_list(st, S_T0 + 2, &err);
	char *text = json_dumps(l, JSON_COMPACT);
	assert_string_equal(text, "[{\"id\":\"fedcba9876543210\",\"email\":\"lee@example.com\",\"device_name\":null,\"group\":null,\"created_at\":1700000001,\"expires_at\":1700000601},"
				  "{\"id\":\"0123456789abcdef\",\"email\":\"kim@example.com\",\"device_name\":\"KIOSK-1\",\"group\":\"Lobby\",\"created_at\":1700000000,\"expires_at\":1700000600}]");
	free(text);
	json_decref(l);
	assert_null(strstr(s_hget("mdm:preids", "0123456789abcdef"), "(nil)"));
	/* enrolling with the secret spends it and puts the device in its group */
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s}", "device_id", "KD", "hwdevid", "KH",
			      "cert_thumbprint", "KT", "cert_serial", "S", "cert_not_after", "1900000000");
	assert_int_equal(mdm_store_enroll(st, d, MDM_SPEND_PREENROLL, S_H64, "kim@example.com", 0, S_T0 + 3, &err), 0);
	json_decref(d);
	json_t *m = mdm_store_group_members(st, "Lobby", &err);
	assert_int_equal(json_array_size(m), 1);
	json_decref(m);
	l = mdm_store_group_list(st, &err);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = mdm_store_preenroll_list(st, S_T0 + 4, &err);
	assert_int_equal(json_array_size(l), 1); /* the spent one is pruned */
	json_decref(l);
	assert_int_equal(s_raw_int("ZCARD mdm:pres"), 1);
	/* revoke by id: the secret no longer exists */
	assert_int_equal(mdm_store_preenroll_revoke(st, "fedcba9876543210", &err), 0);
	assert_int_equal(s_raw_int("EXISTS mdm:pre:" S_H64B), 0);
	assert_int_equal(mdm_store_preenroll_revoke(st, "fedcba9876543210", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	/* an expired one is not listed */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_preenroll_create(st, S_H64, "kim@example.com", NULL, NULL, S_T0, 60, &err), 0);
	l = mdm_store_preenroll_list(st, S_T0 + 61, &err);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

static void test_users_list_and_revoke(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_user_create(st, "Zed@example.com", "H", S_T0, &err), 0);
	assert_int_equal(mdm_store_user_create(st, "amy@example.com", "H", S_T0 + 1, &err), 0);
	assert_int_equal(mdm_store_preenroll_create(st, S_H64, "zed@example.com", NULL, NULL, S_T0, 600, &err), 0);
	json_t *l = mdm_store_user_list(st, &err);
	char *text = json_dumps(l, JSON_COMPACT);
	assert_string_equal(text, "[{\"email\":\"amy@example.com\",\"created_at\":1700000001},"
				  "{\"email\":\"zed@example.com\",\"created_at\":1700000000}]");
	free(text);
	json_decref(l);
	assert_int_equal(mdm_store_user_revoke(st, "ZED@example.com", &err), 0);
	char out[64];
	assert_int_equal(mdm_store_user_pwhash(st, "zed@example.com", out, sizeof out, &err), 1);
	assert_int_equal(s_raw_int("EXISTS mdm:pre:" S_H64), 0); /* its pending secret too */
	assert_int_equal(mdm_store_user_revoke(st, "zed@example.com", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	l = mdm_store_user_list(st, &err);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
}

/* ---- rebuild for data written before the indexes -------------------------------------- */

static void test_index_ensure_builds_once(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	/* records as an older version wrote them: no index, no counter */
	s_raw_ok("HSET mdm:dev:OLD1 device_id OLD1 state enrolled platform windows user A@x.y device_name Box last_seen 1700000050");
	s_raw_ok("HSET mdm:dev:OLD2 device_id OLD2 state unenrolled platform windows user b@x.y device_name Other");
	s_raw_ok("ZADD mdm:devices 1700000000 OLD1 1700000001 OLD2");
	s_raw_ok("HSET mdm:user:old@x.y email old@x.y pwhash H created_at 1600000000");
	s_raw_ok("SADD mdm:group:Legacy OLD1");
	s_raw_ok("HSET mdm:pre:" S_H64 " email old@x.y created_at 1700000000 expires_at 1900000000");
	assert_int_equal(mdm_store_index_ensure(st, &err), 1);
	assert_int_equal(mdm_store_index_ensure(st, &err), 0);
	json_t *s = mdm_store_stats(st, S_T0, &err);
	assert_int_equal(s_stat(s, "by_state", "enrolled"), 1);
	assert_int_equal(s_stat(s, "by_state", "unenrolled"), 1);
	assert_int_equal(s_stat(s, "by_platform", "windows"), 2);
	json_decref(s);
	char next[256];
	mdm_device_filter_t f = {.user = "a@x.y"};
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD1");
	f = (mdm_device_filter_t){.seen_after = 1};
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD1");
	f = (mdm_device_filter_t){.q = "other"};
	assert_string_equal(s_find(st, f, next, sizeof next), "OLD2");
	json_t *l = mdm_store_user_list(st, &err);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = mdm_store_group_list(st, &err);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = mdm_store_preenroll_list(st, S_T0, &err);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	/* a second rebuild (version key lost) counts nothing twice */
	s_raw_ok("DEL mdm:ix:version");
	assert_int_equal(mdm_store_index_ensure(st, &err), 1);
	s = mdm_store_stats(st, S_T0, &err);
	assert_int_equal(s_stat(s, "by_platform", "windows"), 2);
	json_decref(s);
}

/* Runs last: the new calls report MDM_E_UNAVAILABLE while Redis is down. */
static void test_redis_down_is_unavailable(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	s_redis_kill();
	long a, b, c, d;
#define S_DOWN(call)                                                                        \
	do {                                                                                \
		mdm_err_t e = {0};                                                          \
		int failed = (call);                                                        \
		if (!failed || e.code != MDM_E_UNAVAILABLE)                                 \
			fail_msg("%s: expected MDM_E_UNAVAILABLE, got %s", #call,           \
				 mdm_code_name(e.code));                                    \
	} while (0)
	mdm_device_filter_t f = {.limit = 5};
	mdm_audit_filter_t af = {.limit = 5};
	json_t *ev = json_pack("{s:i,s:s,s:s}", "at", 1, "actor", "a", "action", "x");
	S_DOWN(mdm_store_admin_create(st, "a@b.c", "H", "admin", S_T0, &e) == -1);
	S_DOWN(mdm_store_admin_get(st, "a@b.c", &e) == NULL);
	S_DOWN(mdm_store_admin_list(st, &e) == NULL);
	S_DOWN(mdm_store_whois(st, S_H64, &e) == NULL);
	S_DOWN(mdm_store_login_failures(st, "a", "b", &a, &b, &c, &d, &e) == -1);
	S_DOWN(mdm_store_audit_add(st, ev, 0, &e) == -1);
	S_DOWN(mdm_store_audit_list(st, &af, &e) == NULL);
	S_DOWN(mdm_store_stats(st, S_T0, &e) == NULL);
	S_DOWN(mdm_store_device_find(st, &f, &e) == NULL);
	S_DOWN(mdm_store_group_list(st, &e) == NULL);
	S_DOWN(mdm_store_user_list(st, &e) == NULL);
	S_DOWN(mdm_store_preenroll_list(st, S_T0, &e) == NULL);
	S_DOWN(mdm_store_index_ensure(st, &e) == -1);
#undef S_DOWN
	json_decref(ev);
	redisFree(s_raw_ctx);
	s_raw_ctx = NULL;
	s_redis.available = 0;
}

int main(void)
{
	mdm_log_init("test_store_admin", MDM_LOG_ERR);
#define S_T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		S_T(test_admin_create_get_list_delete),
		S_T(test_sessions_expire_and_logout),
		S_T(test_api_tokens),
		S_T(test_login_failures_per_account_and_address),
		S_T(test_audit_newest_first_filters_and_pages),
		S_T(test_counters_follow_enrollment_unenrollment_and_commands),
		S_T(test_replaced_device_moves_state),
		S_T(test_find_filters),
		S_T(test_find_pages_with_cursor),
		S_T(test_find_walk_budget_resumes),
		S_T(test_index_turns_into_a_bitmap_and_back_to_nothing),
		S_T(test_index_ensure_migrates_layout_1),
		S_T(test_audit_log_is_bounded),
		S_T(test_groups_crud),
		S_T(test_preenrollment_group_and_listing),
		S_T(test_users_list_and_revoke),
		S_T(test_index_ensure_builds_once),
		S_T(test_redis_down_is_unavailable),
	};
#undef S_T
	return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
