/* test_store_cmd.c -- libs/store management calls against a real redis-server started by the test: command create/get/history, the queue with expiry, sent/finish/results, unenrollment, device updates, sessions, groups; every multi-key change atomic. */
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

#define MDM_TEST_NAME "store-cmd"
#include "support/redis_fixture.h"


/* ---- data helpers -------------------------------------------------------------------- */

#define S_T0 1700000000L
#define S_TTL 600L

/* Enrolls a device with certificate `thumb` (the enrollment script is the real one). */
static void s_enrolled(mdm_store_t *st, const char *id, const char *thumb)
{
	char hw[80];
	snprintf(hw, sizeof hw, "HW-%s", id);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s}", "device_id", id, "hwdevid", hw,
			      "cert_thumbprint", thumb, "cert_serial", "SER", "cert_not_after",
			      "1900000000");
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_enroll(st, d, MDM_SPEND_NONE, NULL, NULL, 0, S_T0, &err), 0);
	json_decref(d);
}

static const char *s_lock_syncml =
	"[{\"verb\":\"Exec\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/RemoteLock/Lock\"}]}]";

static int s_create(mdm_store_t *st, const char *dev, const char *id, long now, long ttl,
		    mdm_err_t *err)
{
	return mdm_store_cmd_create(st, dev, id, "lock", "{\"type\":\"lock\"}", s_lock_syncml,
				    (time_t)now, ttl, err);
}

static void s_create_ok(mdm_store_t *st, const char *dev, const char *id, long now)
{
	mdm_err_t err = {0};
	if (s_create(st, dev, id, now, S_TTL, &err) != 0)
		fail_msg("create %s for %s: %s", id, dev, err.text);
}

/* A raw hash field, "(nil)" when absent. */
static const char *s_hget(const char *key, const char *field)
{
	static char out[4096];
	redisReply *r = s_raw("HGET %s %s", key, field);
	snprintf(out, sizeof out, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	freeReplyObject(r);
	return out;
}

/* The queue as "a,b,c". */
static const char *s_queue_ids(const char *dev)
{
	static char out[1024];
	out[0] = '\0';
	redisReply *r = s_raw("LRANGE mdm:q:%s 0 -1", dev);
	for (size_t i = 0; i < r->elements; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "",
			 r->element[i]->str);
	freeReplyObject(r);
	return out;
}

/* What the store's queue call returns, as "id:state,..." */
static const char *s_queue_view(mdm_store_t *st, const char *dev, long now)
{
	static char out[1024];
	mdm_err_t err = {0};
	json_t *q = mdm_store_queue(st, dev, (time_t)now, &err);
	if (q == NULL)
		fail_msg("queue: %s", err.text);
	out[0] = '\0';
	size_t i;
	json_t *c;
	json_array_foreach(q, i, c)
	{
		assert_true(json_is_array(json_object_get(c, "syncml")));
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s:%s", i ? "," : "",
			 json_string_value(json_object_get(c, "id")),
			 json_string_value(json_object_get(c, "state")));
	}
	json_decref(q);
	return out;
}

static long long s_dbsize(void)
{
	return s_raw_int("DBSIZE");
}

/* A digest of every key, its type and its content, to show a refused call changed
 * nothing. Not DUMP: a hash stored as a hash table serialises in iteration order, which
 * Redis's incremental rehashing changes by itself. */
static char *s_digest(void)
{
	static char out[64];
	redisReply *r = s_raw(
		"EVAL %s 0",
		"local o = {}\n"
		"for _, k in ipairs(redis.call('KEYS', '*')) do\n"
		"  local t = redis.call('TYPE', k).ok\n"
		"  local v\n"
		"  if t == 'string' then v = {redis.call('GET', k)}\n"
		"  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)\n"
		"  elseif t == 'set' then v = redis.call('SMEMBERS', k); table.sort(v)\n"
		"  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')\n"
		"  elseif t == 'hash' then\n"
		"    local h = redis.call('HGETALL', k)\n"
		"    v = {}\n"
		"    for i = 1, #h, 2 do v[#v + 1] = h[i] .. '=' .. h[i + 1] end\n"
		"    table.sort(v)\n"
		"  else v = {} end\n"
		"  o[#o + 1] = k .. ':' .. t .. ':' .. redis.sha1hex(table.concat(v, '\\0')) ..\n"
		"    ':' .. tostring(redis.call('TTL', k) > 0)\n"
		"end\n"
		"table.sort(o)\n"
		"return redis.sha1hex(table.concat(o, ','))");
	if (r->type != REDIS_REPLY_STRING)
		fail_msg("digest: %s", r->type == REDIS_REPLY_ERROR ? r->str : "not a string");
	snprintf(out, sizeof out, "%s", r->str);
	freeReplyObject(r);
	return out;
}

/* ---- create / get -------------------------------------------------------------------- */

static void test_cmd_create_writes_record_queue_and_history(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	assert_int_equal(s_create(st, "DEV-1", "c1", S_T0 + 5, 3600, &err), 0);
	assert_string_equal(s_hget("mdm:cmd:c1", "id"), "c1");
	assert_string_equal(s_hget("mdm:cmd:c1", "device_id"), "DEV-1");
	assert_string_equal(s_hget("mdm:cmd:c1", "type"), "lock");
	assert_string_equal(s_hget("mdm:cmd:c1", "state"), "queued");
	assert_string_equal(s_hget("mdm:cmd:c1", "request"), "{\"type\":\"lock\"}");
	assert_string_equal(s_hget("mdm:cmd:c1", "syncml"), s_lock_syncml);
	assert_string_equal(s_hget("mdm:cmd:c1", "created_at"), "1700000005");
	assert_string_equal(s_hget("mdm:cmd:c1", "expires_at"), "1700003605");
	assert_string_equal(s_queue_ids("DEV-1"), "c1");
	redisReply *r = s_raw("ZSCORE mdm:dcmd:DEV-1 c1");
	assert_string_equal(r->str, "1700000005");
	freeReplyObject(r);

	json_t *c = mdm_store_cmd_get(st, "c1", &err);
	assert_non_null(c);
	json_t *want = json_loads(
		"{\"id\":\"c1\",\"device_id\":\"DEV-1\",\"type\":\"lock\",\"state\":\"queued\","
		"\"status\":null,\"request\":{\"type\":\"lock\"},\"syncml\":[{\"verb\":\"Exec\","
		"\"items\":[{\"target\":\"./Device/Vendor/MSFT/RemoteLock/Lock\"}]}],\"results\":[],"
		"\"created_at\":1700000005,\"sent_at\":null,\"done_at\":null,\"expires_at\":1700003605}",
		0, NULL);
	if (!json_equal(c, want))
		fail_msg("got %s", json_dumps(c, JSON_COMPACT));
	json_decref(want);
	json_decref(c);
}

static void test_cmd_create_for_unknown_or_unenrolled_device_writes_nothing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(s_create(st, "NOPE", "c1", S_T0, S_TTL, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_string_equal(err.text, "no such device");
	assert_int_equal(s_dbsize(), 0);

	s_enrolled(st, "DEV-1", "T1");
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-1", "admin", S_T0 + 1, &err), 0);
	char before[64];
	snprintf(before, sizeof before, "%s", s_digest());
	mdm_err_clear(&err);
	assert_int_equal(s_create(st, "DEV-1", "c2", S_T0 + 2, S_TTL, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	assert_string_equal(err.text, "device is not enrolled");
	assert_string_equal(s_digest(), before);
	assert_int_equal(s_raw_int("EXISTS mdm:cmd:c2 mdm:q:DEV-1 mdm:dcmd:DEV-1"), 0);

	/* a device replaced by a re-enrollment of its hardware under another id */
	s_raw_ok("HSET mdm:dev:DEV-1 state replaced");
	mdm_err_clear(&err);
	assert_int_equal(s_create(st, "DEV-1", "c3", S_T0 + 2, S_TTL, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
}

static void test_cmd_create_refuses_a_taken_id(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_enrolled(st, "DEV-2", "T2");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	char before[64];
	snprintf(before, sizeof before, "%s", s_digest());
	assert_int_equal(s_create(st, "DEV-2", "c1", S_T0 + 1, S_TTL, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	assert_string_equal(s_digest(), before);
	assert_string_equal(s_hget("mdm:cmd:c1", "device_id"), "DEV-1");
}

static void test_cmd_get_unknown_and_bad_ids(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_null(mdm_store_cmd_get(st, "nope", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_string_equal(err.text, "no such command");
	char longid[300];
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	mdm_err_clear(&err);
	assert_null(mdm_store_cmd_get(st, longid, &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(s_create(st, longid, "c1", S_T0, S_TTL, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	mdm_err_clear(&err);
	assert_int_equal(s_create(st, "DEV", longid, S_T0, S_TTL, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	assert_int_equal(s_dbsize(), 0);
}

/* ---- queue, sent, finish, results ---------------------------------------------------- */

static void test_queue_in_order_and_sent_commands_stay(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	s_create_ok(st, "DEV-1", "c2", S_T0);
	s_create_ok(st, "DEV-1", "c3", S_T0 + 1);
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 2), "c1:queued,c2:queued,c3:queued");
	assert_int_equal(mdm_store_cmd_sent(st, "c1", S_T0 + 3, &err), 0);
	assert_int_equal(mdm_store_cmd_sent(st, "c2", S_T0 + 3, &err), 0);
	/* the device never answered: the next session sees them again, still in order */
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 100), "c1:sent,c2:sent,c3:queued");
	assert_string_equal(s_hget("mdm:cmd:c1", "sent_at"), "1700000003");
	/* sent again in the next session: stays sent, first delivery time kept */
	assert_int_equal(mdm_store_cmd_sent(st, "c1", S_T0 + 200, &err), 0);
	assert_string_equal(s_hget("mdm:cmd:c1", "state"), "sent");
	assert_string_equal(s_hget("mdm:cmd:c1", "sent_at"), "1700000003");
	/* a queue of an unknown device is empty, not an error */
	json_t *q = mdm_store_queue(st, "NOPE", S_T0, &err);
	assert_non_null(q);
	assert_int_equal(json_array_size(q), 0);
	json_decref(q);
	/* the syncml comes back as JSON */
	q = mdm_store_queue(st, "DEV-1", S_T0, &err);
	json_t *want = json_loads(s_lock_syncml, 0, NULL);
	assert_true(json_equal(json_object_get(json_array_get(q, 2), "syncml"), want));
	assert_string_equal(json_string_value(json_object_get(json_array_get(q, 2), "type")), "lock");
	json_decref(want);
	json_decref(q);
}

static void test_cmd_sent_unknown_and_final(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_cmd_sent(st, "nope", S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_int_equal(s_dbsize(), 0); /* no hash created by the attempt */
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 1, "200", NULL, S_T0 + 1, &err), 0);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_sent(st, "c1", S_T0 + 2, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	assert_string_equal(err.text, "command is done");
	assert_string_equal(s_hget("mdm:cmd:c1", "state"), "done");
	assert_string_equal(s_hget("mdm:cmd:c1", "sent_at"), "(nil)");
}

static void test_cmd_finish_records_status_results_and_leaves_the_queue(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	s_create_ok(st, "DEV-1", "c2", S_T0);
	s_create_ok(st, "DEV-1", "c3", S_T0);
	assert_int_equal(mdm_store_cmd_sent(st, "c2", S_T0 + 1, &err), 0);
	/* Results before the Status */
	json_t *r1 = json_pack("[{s:s,s:s}]", "target", "./DevDetail/SwV", "data", "10.0.19045");
	json_t *r2 = json_pack("[{s:s,s:s,s:s}]", "target", "./DevDetail/OEM", "format", "chr",
			       "data", "Contoso \"Ltd\"");
	assert_int_equal(mdm_store_cmd_add_results(st, "c2", r1, &err), 0);
	assert_string_equal(s_hget("mdm:cmd:c2", "state"), "sent");
	assert_int_equal(mdm_store_cmd_finish(st, "c2", 1, "200", r2, S_T0 + 2, &err), 0);
	assert_string_equal(s_queue_ids("DEV-1"), "c1,c3");
	json_t *c = mdm_store_cmd_get(st, "c2", &err);
	assert_string_equal(json_string_value(json_object_get(c, "state")), "done");
	assert_string_equal(json_string_value(json_object_get(c, "status")), "200");
	assert_int_equal(json_integer_value(json_object_get(c, "done_at")), S_T0 + 2);
	assert_int_equal(json_integer_value(json_object_get(c, "sent_at")), S_T0 + 1);
	json_t *want = json_pack("[o,o]", json_incref(json_array_get(r1, 0)),
				 json_incref(json_array_get(r2, 0)));
	assert_true(json_equal(json_object_get(c, "results"), want));
	json_decref(want);
	json_decref(c);

	/* a failure straight from queued (the status of a command sent and lost) */
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 0, "405", NULL, S_T0 + 3, &err), 0);
	assert_string_equal(s_hget("mdm:cmd:c1", "state"), "failed");
	assert_string_equal(s_hget("mdm:cmd:c1", "status"), "405");
	assert_string_equal(s_hget("mdm:cmd:c1", "results"), "(nil)");
	assert_string_equal(s_queue_ids("DEV-1"), "c3");

	/* finishing again is a no-op: state, status, results and time stay */
	char before[64];
	snprintf(before, sizeof before, "%s", s_digest());
	assert_int_equal(mdm_store_cmd_finish(st, "c2", 0, "500", r1, S_T0 + 9, &err), 0);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 1, "200", NULL, S_T0 + 9, &err), 0);
	assert_string_equal(s_digest(), before);
	json_decref(r1);
	json_decref(r2);

	/* status NULL keeps none; an empty results array adds nothing */
	json_t *empty = json_array();
	assert_int_equal(mdm_store_cmd_finish(st, "c3", 1, NULL, empty, S_T0 + 4, &err), 0);
	json_decref(empty);
	c = mdm_store_cmd_get(st, "c3", &err);
	assert_true(json_is_null(json_object_get(c, "status")));
	assert_int_equal(json_array_size(json_object_get(c, "results")), 0);
	json_decref(c);
	assert_int_equal(s_raw_int("LLEN mdm:q:DEV-1"), 0);
}

static void test_cmd_finish_and_results_refusals(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_cmd_finish(st, "nope", 1, "200", NULL, S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	json_t *r = json_array();
	assert_int_equal(mdm_store_cmd_add_results(st, "nope", r, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_int_equal(s_dbsize(), 0);
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	json_t *obj = json_object();
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_add_results(st, "c1", obj, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 1, "200", obj, S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	assert_string_equal(s_hget("mdm:cmd:c1", "state"), "queued");
	json_decref(obj);
	json_decref(r);
}

static void test_results_are_capped(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	char *big = malloc(600000);
	memset(big, 'b', 599999);
	big[599999] = '\0';
	json_t *r = json_pack("[{s:s,s:s}]", "target", "./X", "data", big);
	free(big);
	assert_int_equal(mdm_store_cmd_add_results(st, "c1", r, &err), 0);
	assert_int_equal(mdm_store_cmd_add_results(st, "c1", r, &err), -1);
	assert_int_equal(err.code, MDM_E_TOO_LARGE);
	/* the status still finishes the command; the extra results are dropped */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 1, "200", r, S_T0 + 1, &err), 0);
	json_t *c = mdm_store_cmd_get(st, "c1", &err);
	assert_string_equal(json_string_value(json_object_get(c, "state")), "done");
	assert_int_equal(json_array_size(json_object_get(c, "results")), 1);
	json_decref(c);
	json_decref(r);
	assert_int_equal(s_raw_int("LLEN mdm:q:DEV-1"), 0);
}

static void test_queue_expires_commands_atomically(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	assert_int_equal(s_create(st, "DEV-1", "old", S_T0, 10, &err), 0);
	assert_int_equal(s_create(st, "DEV-1", "sent", S_T0, 20, &err), 0);
	assert_int_equal(s_create(st, "DEV-1", "new", S_T0 + 5, 3600, &err), 0);
	assert_int_equal(mdm_store_cmd_sent(st, "sent", S_T0 + 1, &err), 0);
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 9), "old:queued,sent:sent,new:queued");
	/* expires_at itself is past */
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 10), "sent:sent,new:queued");
	assert_string_equal(s_hget("mdm:cmd:old", "state"), "expired");
	assert_string_equal(s_hget("mdm:cmd:old", "done_at"), "1700000010");
	assert_string_equal(s_queue_ids("DEV-1"), "sent,new");
	/* a sent command the device never answered expires too */
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 30), "new:queued");
	assert_string_equal(s_hget("mdm:cmd:sent", "state"), "expired");
	/* a late status for an expired command changes nothing */
	assert_int_equal(mdm_store_cmd_finish(st, "sent", 1, "200", NULL, S_T0 + 31, &err), 0);
	assert_string_equal(s_hget("mdm:cmd:sent", "state"), "expired");
	assert_string_equal(s_hget("mdm:cmd:sent", "status"), "(nil)");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_cmd_sent(st, "old", S_T0 + 31, &err), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	assert_string_equal(err.text, "command is expired");
	/* history keeps everything */
	assert_int_equal(s_raw_int("ZCARD mdm:dcmd:DEV-1"), 3);
}

static void test_queue_drops_ids_without_a_live_record(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	s_create_ok(st, "DEV-1", "c2", S_T0);
	s_create_ok(st, "DEV-1", "c3", S_T0);
	s_raw_ok("DEL mdm:cmd:c1");
	s_raw_ok("HSET mdm:cmd:c2 state done");
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 1), "c3:queued");
	assert_string_equal(s_queue_ids("DEV-1"), "c3");
	assert_int_equal(s_raw_int("EXISTS mdm:cmd:c1"), 0); /* not re-created */
	(void)err;
}

/* ---- history ------------------------------------------------------------------------- */

static void test_history_newest_first_with_pages(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_enrolled(st, "DEV-2", "T2");
	char id[16];
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "c%d", i);
		s_create_ok(st, "DEV-1", id, S_T0 + i);
	}
	s_create_ok(st, "DEV-2", "other", S_T0 + 9);
	assert_int_equal(mdm_store_cmd_finish(st, "c1", 1, "200", NULL, S_T0 + 20, &err), 0);
	json_t *page = mdm_store_cmd_history(st, "DEV-1", 0, 2, &err);
	assert_non_null(page);
	json_t *list = json_object_get(page, "commands");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "c4");
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")), "c3");
	assert_int_equal(json_integer_value(json_object_get(page, "next")), 2);
	json_decref(page);
	page = mdm_store_cmd_history(st, "DEV-1", 2, 3, &err);
	list = json_object_get(page, "commands");
	assert_int_equal(json_array_size(list), 3);
	json_t *c1 = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(c1, "id")), "c1");
	assert_string_equal(json_string_value(json_object_get(c1, "state")), "done");
	assert_string_equal(json_string_value(json_object_get(c1, "status")), "200");
	assert_true(json_is_null(json_object_get(page, "next")));
	json_decref(page);
	/* unknown device, bad paging */
	assert_null(mdm_store_cmd_history(st, "NOPE", 0, 10, &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_null(mdm_store_cmd_history(st, "DEV-1", -1, 10, &err));
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	mdm_err_clear(&err);
	assert_null(mdm_store_cmd_history(st, "DEV-1", 0, 1001, &err));
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	mdm_err_clear(&err);
	/* a device without commands */
	s_enrolled(st, "DEV-3", "T3");
	page = mdm_store_cmd_history(st, "DEV-3", 0, 10, &err);
	assert_int_equal(json_array_size(json_object_get(page, "commands")), 0);
	json_decref(page);
}

/* ---- unenrollment -------------------------------------------------------------------- */

static void test_unenroll_cancels_queue_and_revokes_certificate(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_enrolled(st, "DEV-2", "T2");
	s_create_ok(st, "DEV-1", "done", S_T0);
	s_create_ok(st, "DEV-1", "sent", S_T0);
	s_create_ok(st, "DEV-1", "queued", S_T0);
	s_create_ok(st, "DEV-2", "keep", S_T0);
	assert_int_equal(mdm_store_cmd_finish(st, "done", 1, "200", NULL, S_T0 + 1, &err), 0);
	assert_int_equal(mdm_store_cmd_sent(st, "sent", S_T0 + 1, &err), 0);
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-1", "device", S_T0 + 5, &err), 0);
	assert_string_equal(s_hget("mdm:dev:DEV-1", "state"), "unenrolled");
	assert_string_equal(s_hget("mdm:dev:DEV-1", "unenrolled_at"), "1700000005");
	assert_string_equal(s_hget("mdm:dev:DEV-1", "unenroll_reason"), "device");
	assert_string_equal(s_hget("mdm:cert:T1", "state"), "revoked");
	assert_string_equal(s_hget("mdm:cert:T1", "revoked_at"), "1700000005");
	assert_string_equal(s_hget("mdm:cmd:sent", "state"), "cancelled");
	assert_string_equal(s_hget("mdm:cmd:queued", "state"), "cancelled");
	assert_string_equal(s_hget("mdm:cmd:queued", "done_at"), "1700000005");
	assert_string_equal(s_hget("mdm:cmd:done", "state"), "done");
	assert_int_equal(s_raw_int("EXISTS mdm:q:DEV-1"), 0);
	/* the other device is untouched */
	assert_string_equal(s_hget("mdm:dev:DEV-2", "state"), "enrolled");
	assert_string_equal(s_hget("mdm:cert:T2", "state"), "active");
	assert_string_equal(s_queue_ids("DEV-2"), "keep");
	/* still listed, history kept */
	redisReply *r = s_raw("ZSCORE mdm:devices DEV-1");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	freeReplyObject(r);
	assert_int_equal(s_raw_int("ZCARD mdm:dcmd:DEV-1"), 3);
	/* the device can no longer renew its certificate */
	assert_int_equal(mdm_store_renew(st, "DEV-1", "T1", "T9", "S9", 1900000000, S_T0 + 6, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	/* repeating it keeps the first time and reason */
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-1", "admin", S_T0 + 9, &err), 0);
	assert_string_equal(s_hget("mdm:dev:DEV-1", "unenrolled_at"), "1700000005");
	assert_string_equal(s_hget("mdm:dev:DEV-1", "unenroll_reason"), "device");
	assert_string_equal(s_hget("mdm:cert:T1", "revoked_at"), "1700000005");
}

static void test_unenroll_unknown_device_writes_nothing(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	char before[64];
	snprintf(before, sizeof before, "%s", s_digest());
	assert_int_equal(mdm_store_device_unenroll(st, "NOPE", "admin", S_T0, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_string_equal(err.text, "no such device");
	assert_string_equal(s_digest(), before);
}

static void test_unenroll_then_reenroll_accepts_commands_again(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	s_enrolled(st, "DEV-1", "T1");
	s_create_ok(st, "DEV-1", "c1", S_T0);
	assert_int_equal(mdm_store_device_unenroll(st, "DEV-1", "admin", S_T0 + 1, &err), 0);
	s_enrolled(st, "DEV-1", "T2");
	s_create_ok(st, "DEV-1", "c2", S_T0 + 2);
	assert_string_equal(s_queue_view(st, "DEV-1", S_T0 + 3), "c2:queued");
	assert_string_equal(s_hget("mdm:cmd:c1", "state"), "cancelled");
}

/* ---- device updates ------------------------------------------------------------------ */

static void test_device_update_only_existing_devices_and_free_fields(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	json_t *f = json_pack("{s:s,s:s,s:s}", "os_version", "10.0.22631", "oem", "Contoso",
			      "last_seen", "1700000100");
	assert_int_equal(mdm_store_device_update(st, "NOPE", f, &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_int_equal(s_dbsize(), 0);
	s_enrolled(st, "DEV-1", "T1");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_device_update(st, "DEV-1", f, &err), 0);
	assert_string_equal(s_hget("mdm:dev:DEV-1", "os_version"), "10.0.22631");
	assert_string_equal(s_hget("mdm:dev:DEV-1", "oem"), "Contoso");
	assert_string_equal(s_hget("mdm:dev:DEV-1", "last_seen"), "1700000100");
	json_decref(f);
	/* the enrollment's own fields cannot be overwritten, nothing is written */
	static const char *owned[] = {"state", "cert_thumbprint", "device_id", "hwdevid",
				      "unenrolled_at", "cert_anything"};
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
		char before[64];
		snprintf(before, sizeof before, "%s", s_digest());
		f = json_pack("{s:s,s:s}", "oem", "Evil", owned[i], "x");
		mdm_err_clear(&err);
		assert_int_equal(mdm_store_device_update(st, "DEV-1", f, &err), -1);
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
		assert_string_equal(s_digest(), before);
		json_decref(f);
	}
	f = json_pack("{s:i}", "total_ram", 8);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_device_update(st, "DEV-1", f, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	json_decref(f);
	f = json_object();
	assert_int_equal(mdm_store_device_update(st, "DEV-1", f, &err), 0);
	json_decref(f);
	assert_string_equal(s_hget("mdm:dev:DEV-1", "state"), "enrolled");
}

/* ---- sessions and groups ------------------------------------------------------------- */

static void test_session_put_get_delete_with_ttl(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_null(mdm_store_session_get(st, "DEV-1", "1", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_string_equal(err.text, "no such session");
	json_t *s = json_pack("{s:i,s:[s,s]}", "msg_id", 3, "sent", "c1", "c2");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_session_put(st, "DEV-1", "1", s, 600, &err), 0);
	long long ttl = s_raw_int("TTL mdm:sess:DEV-1:1");
	assert_true(ttl > 590 && ttl <= 600);
	json_t *got = mdm_store_session_get(st, "DEV-1", "1", &err);
	assert_true(json_equal(got, s));
	json_decref(got);
	/* another session of the same device is another record */
	mdm_err_clear(&err);
	assert_null(mdm_store_session_get(st, "DEV-1", "2", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_session_put(st, "DEV-1", "1", s, 0, &err), -1);
	json_decref(s);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_session_delete(st, "DEV-1", "1", &err), 0);
	assert_int_equal(mdm_store_session_delete(st, "DEV-1", "1", &err), 0);
	assert_null(mdm_store_session_get(st, "DEV-1", "1", &err));
	s_raw_ok("SET mdm:sess:DEV-1:9 {broken");
	mdm_err_clear(&err);
	assert_null(mdm_store_session_get(st, "DEV-1", "9", &err));
	assert_int_equal(err.code, MDM_E_INTERNAL);
}

static void test_session_expires(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	json_t *s = json_object();
	assert_int_equal(mdm_store_session_put(st, "DEV-1", "1", s, 1, &err), 0);
	json_decref(s);
	s_raw_ok("PEXPIRE mdm:sess:DEV-1:1 1");
	s_sleep_ms(20);
	assert_null(mdm_store_session_get(st, "DEV-1", "1", &err));
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
}

static void test_groups(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_group_add(st, "lobby", "NOPE", &err), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_int_equal(s_dbsize(), 0);
	s_enrolled(st, "DEV-B", "T1");
	s_enrolled(st, "DEV-A", "T2");
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_add(st, "lobby", "DEV-B", &err), 0);
	assert_int_equal(mdm_store_group_add(st, "lobby", "DEV-A", &err), 0);
	assert_int_equal(mdm_store_group_add(st, "lobby", "DEV-A", &err), 0);
	assert_int_equal(mdm_store_group_add(st, "Front Desk", "DEV-A", &err), 0);
	json_t *m = mdm_store_group_members(st, "lobby", &err);
	json_t *want = json_pack("[s,s]", "DEV-A", "DEV-B");
	assert_true(json_equal(m, want));
	json_decref(m);
	json_decref(want);
	m = mdm_store_group_members(st, "Front Desk", &err);
	assert_int_equal(json_array_size(m), 1);
	json_decref(m);
	m = mdm_store_group_members(st, "empty", &err);
	assert_non_null(m);
	assert_int_equal(json_array_size(m), 0);
	json_decref(m);
	mdm_err_clear(&err);
	assert_int_equal(mdm_store_group_add(st, "", "DEV-A", &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
}

/* Runs last: every management call reports MDM_E_UNAVAILABLE while Redis is down. */
static void test_redis_down_is_unavailable(void **state)
{
	S_NEED_REDIS();
	mdm_store_t *st = *state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_store_ping(st, &err), 0);
	s_redis_kill();
	json_t *a = json_array(), *o = json_object();
#define S_DOWN(call)                                                                        \
	do {                                                                                \
		mdm_err_t e = {0};                                                          \
		int failed = (call);                                                        \
		if (!failed || e.code != MDM_E_UNAVAILABLE)                                 \
			fail_msg("%s: expected MDM_E_UNAVAILABLE, got %s", #call,           \
				 mdm_code_name(e.code));                                    \
	} while (0)
	S_DOWN(s_create(st, "D", "c", S_T0, 60, &e) == -1);
	S_DOWN(mdm_store_cmd_get(st, "c", &e) == NULL);
	S_DOWN(mdm_store_cmd_history(st, "D", 0, 10, &e) == NULL);
	S_DOWN(mdm_store_queue(st, "D", S_T0, &e) == NULL);
	S_DOWN(mdm_store_cmd_sent(st, "c", S_T0, &e) == -1);
	S_DOWN(mdm_store_cmd_finish(st, "c", 1, "200", a, S_T0, &e) == -1);
	S_DOWN(mdm_store_cmd_add_results(st, "c", a, &e) == -1);
	S_DOWN(mdm_store_device_unenroll(st, "D", "admin", S_T0, &e) == -1);
	S_DOWN(mdm_store_session_get(st, "D", "1", &e) == NULL);
	S_DOWN(mdm_store_session_put(st, "D", "1", o, 60, &e) == -1);
	S_DOWN(mdm_store_session_delete(st, "D", "1", &e) == -1);
	S_DOWN(mdm_store_group_add(st, "g", "D", &e) == -1);
	S_DOWN(mdm_store_group_members(st, "g", &e) == NULL);
	json_t *f = json_pack("{s:s}", "oem", "x");
	S_DOWN(mdm_store_device_update(st, "D", f, &e) == -1);
	json_decref(f);
#undef S_DOWN
	json_decref(a);
	json_decref(o);
	redisFree(s_raw_ctx);
	s_raw_ctx = NULL;
	s_redis.available = 0; /* nothing runs after this test */
}

int main(void)
{
	mdm_log_init("test_store_cmd", MDM_LOG_ERR);
#define S_T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		S_T(test_cmd_create_writes_record_queue_and_history),
		S_T(test_cmd_create_for_unknown_or_unenrolled_device_writes_nothing),
		S_T(test_cmd_create_refuses_a_taken_id),
		S_T(test_cmd_get_unknown_and_bad_ids),
		S_T(test_queue_in_order_and_sent_commands_stay),
		S_T(test_cmd_sent_unknown_and_final),
		S_T(test_cmd_finish_records_status_results_and_leaves_the_queue),
		S_T(test_cmd_finish_and_results_refusals),
		S_T(test_results_are_capped),
		S_T(test_queue_expires_commands_atomically),
		S_T(test_queue_drops_ids_without_a_live_record),
		S_T(test_history_newest_first_with_pages),
		S_T(test_unenroll_cancels_queue_and_revokes_certificate),
		S_T(test_unenroll_unknown_device_writes_nothing),
		S_T(test_unenroll_then_reenroll_accepts_commands_again),
		S_T(test_device_update_only_existing_devices_and_free_fields),
		S_T(test_session_put_get_delete_with_ttl),
		S_T(test_session_expires),
		S_T(test_groups),
		S_T(test_redis_down_is_unavailable),
	};
#undef S_T
	return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
