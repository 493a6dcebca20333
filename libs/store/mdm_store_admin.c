/* mdm_store_admin.c -- the console's data (docs/api-contract.md): administrators, their
 * sessions and API tokens, failed-login counters, the audit log, counters for /stats, the
 * device search indexes, groups, device users and pending pre-enrollments. Every change
 * that touches more than one key is one Lua script, as in mdm_store.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdm_keys.h"
#include "mdm_log.h"
#include "mdm_store_int.h"

#define S_MAX_ARGS 64
#define S_MAX_ID 256       /* emails, names, device ids, groups: longer is refused */
#define S_SMALL_SET 5000   /* a last_seen window this small is read whole (device search) */
#define S_SCAN_BUDGET 8000 /* candidates one device search call may walk */
#define S_AUDIT_BUDGET 5000

/* ---- helpers ---------------------------------------------------------------------------- */

/* One command from NULL-terminated string arguments (values never need quoting). */
static redisReply *s_call(mdm_store_t *self, mdm_err_t *err, ...)
{
	const char *argv[S_MAX_ARGS];
	size_t lens[S_MAX_ARGS];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && argc < S_MAX_ARGS) {
		argv[argc] = a;
		lens[argc++] = strlen(a);
	}
	va_end(ap);
	return mdm_store__cmdv(self, err, argc, argv, lens);
}

/* Formats a key; refuses (MDM_E_BAD_REQUEST) rather than truncating an identifier into
 * what could be another record's key. */
static int s_key(char *out, size_t cap, mdm_err_t *err, const char *fmt, const char *arg)
{
	if (arg == NULL || arg[0] == '\0' || strlen(arg) > S_MAX_ID)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "identifier must be 1 to %d bytes",
				   S_MAX_ID);
	int n = snprintf(out, cap, fmt, arg);
	if (n < 0 || (size_t)n >= cap)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "identifier too long");
	return 0;
}

/* 0 for a normal reply, -1 for none (err already set) or an error reply (mapped onto our
 * codes: NOTFOUND, CONFLICT...). Frees the reply. */
static int s_done(redisReply *r, mdm_err_t *err)
{
	if (r == NULL)
		return -1;
	int rc = r->type == REDIS_REPLY_ERROR ? mdm_store__script_error(r, err) : 0;
	freeReplyObject(r);
	return rc;
}

/* An array reply from a script, or NULL with err set (and the reply freed). */
static redisReply *s_array(redisReply *r, mdm_err_t *err)
{
	if (r == NULL)
		return NULL;
	if (r->type == REDIS_REPLY_ERROR) {
		mdm_store__script_error(r, err);
		freeReplyObject(r);
		return NULL;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		mdm_err_set(err, MDM_E_INTERNAL, "storage error");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static const char *s_str(redisReply *r)
{
	return r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static json_t *s_epoch(const char *text)
{
	return text && text[0] ? json_integer(atoll(text)) : json_null();
}

static json_t *s_oom(json_t *j, mdm_err_t *err)
{
	if (j == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	return j;
}

/* ---- administrators --------------------------------------------------------------------- */

static const char s_admin_create_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  return redis.error_reply('CONFLICT administrator ' .. ARGV[1] .. ' already exists') end\n"
	"redis.call('HSET', KEYS[1], 'email', ARGV[1], 'pwhash', ARGV[2], 'role', ARGV[3],\n"
	"  'created_at', ARGV[4])\n"
	"redis.call('ZADD', '" MDM_KEY_ADMINS "', ARGV[4], ARGV[1])\n"
	"return 1\n";

int mdm_store_admin_create(mdm_store_t *self, const char *email, const char *pwhash,
			   const char *role, time_t now, mdm_err_t *err)
{
	char lower[S_MAX_ID + 1], key[S_MAX_ID + 32], ts[32];
	if (s_key(key, sizeof key, err, MDM_KEY_ADMIN, email) != 0)
		return -1;
	mdm_store__lower(lower, sizeof lower, email);
	snprintf(key, sizeof key, MDM_KEY_ADMIN, lower);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	return s_done(s_call(self, err, "EVAL", s_admin_create_lua, "1", key, lower, pwhash, role,
			     ts, NULL),
		      err);
}

json_t *mdm_store_admin_get(mdm_store_t *self, const char *email, mdm_err_t *err)
{
	char lower[S_MAX_ID + 1], key[S_MAX_ID + 32];
	if (s_key(key, sizeof key, err, MDM_KEY_ADMIN, email) != 0)
		return NULL;
	mdm_store__lower(lower, sizeof lower, email);
	snprintf(key, sizeof key, MDM_KEY_ADMIN, lower);
	redisReply *r = s_call(self, err, "HGETALL", key, NULL);
	if (r == NULL)
		return NULL;
	json_t *o = NULL;
	if (mdm_store__is_error(r, err))
		;
	else if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		mdm_err_set(err, MDM_E_NOT_FOUND, "no such administrator");
	else
		o = s_oom(mdm_store__hash_to_json(r), err);
	freeReplyObject(r);
	return o;
}

static const char s_admin_list_lua[] =
	"local out = {}\n"
	"for _, e in ipairs(redis.call('ZRANGE', '" MDM_KEY_ADMINS "', 0, -1)) do\n"
	"  local a = redis.call('HMGET', ARGV[1] .. e, 'role', 'created_at')\n"
	"  if a[1] then out[#out + 1] = {e, a[1], a[2] or ''} end\n"
	"end\n"
	"return out\n";

json_t *mdm_store_admin_list(mdm_store_t *self, mdm_err_t *err)
{
	redisReply *r = s_array(s_call(self, err, "EVAL", s_admin_list_lua, "0", MDM_KEY_ADMIN_PREFIX, NULL),
				err);
	if (r == NULL)
		return NULL;
	json_t *out = json_array();
	for (size_t i = 0; out && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 3)
			continue;
		json_array_append_new(out, json_pack("{s:s,s:s,s:o}", "email", e->element[0]->str,
						     "role", e->element[1]->str, "created_at",
						     s_epoch(s_str(e->element[2]))));
	}
	freeReplyObject(r);
	return s_oom(out, err);
}

/* KEYS: admin, its sessions set. ARGV: email, session key prefix. */
static const char s_admin_delete_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOTFOUND no such administrator') end\n"
	"for _, h in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', ARGV[2] .. h) end\n"
	"redis.call('DEL', KEYS[1], KEYS[2])\n"
	"redis.call('ZREM', '" MDM_KEY_ADMINS "', ARGV[1])\n"
	"return 1\n";

int mdm_store_admin_delete(mdm_store_t *self, const char *email, mdm_err_t *err)
{
	char lower[S_MAX_ID + 1], key[S_MAX_ID + 32], sess[S_MAX_ID + 32];
	if (s_key(key, sizeof key, err, MDM_KEY_ADMIN, email) != 0)
		return -1;
	mdm_store__lower(lower, sizeof lower, email);
	snprintf(key, sizeof key, MDM_KEY_ADMIN, lower);
	snprintf(sess, sizeof sess, MDM_KEY_ADMIN_SESSIONS, lower);
	return s_done(s_call(self, err, "EVAL", s_admin_delete_lua, "2", key, sess, lower,
			     MDM_KEY_ASESSION_PREFIX, NULL),
		      err);
}

/* ---- sessions and API tokens ------------------------------------------------------------ */

/* KEYS: session, admin, admin's session set. ARGV: email, role, now, expires_at, ttl,
 * token hash, session key prefix. Stale members of the set are pruned on the way. */
static const char s_asession_create_lua[] =
	"if redis.call('EXISTS', KEYS[2]) == 0 then return redis.error_reply('NOTFOUND no such administrator') end\n"
	"for _, h in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
	"  if redis.call('EXISTS', ARGV[7] .. h) == 0 then redis.call('SREM', KEYS[3], h) end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'email', ARGV[1], 'role', ARGV[2], 'created_at', ARGV[3],\n"
	"  'expires_at', ARGV[4])\n"
	"redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
	"redis.call('SADD', KEYS[3], ARGV[6])\n"
	"return 1\n";

static int s_hash_ok(const char *h, mdm_err_t *err)
{
	if (h == NULL || strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return mdm_err_set(err, MDM_E_INTERNAL, "token hash must be 64 lower-case hex");
	return 0;
}

int mdm_store_asession_create(mdm_store_t *self, const char *token_hash, const char *email,
			      const char *role, time_t now, long ttl_seconds, mdm_err_t *err)
{
	char lower[S_MAX_ID + 1], k_s[96], k_a[S_MAX_ID + 32], k_set[S_MAX_ID + 32];
	char ts[32], exp[32], ttl[32];
	if (s_hash_ok(token_hash, err) != 0 || s_key(k_a, sizeof k_a, err, MDM_KEY_ADMIN, email))
		return -1;
	if (ttl_seconds <= 0)
		return mdm_err_set(err, MDM_E_INTERNAL, "a session needs a lifetime");
	mdm_store__lower(lower, sizeof lower, email);
	snprintf(k_s, sizeof k_s, MDM_KEY_ASESSION, token_hash);
	snprintf(k_a, sizeof k_a, MDM_KEY_ADMIN, lower);
	snprintf(k_set, sizeof k_set, MDM_KEY_ADMIN_SESSIONS, lower);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(exp, sizeof exp, "%ld", (long)now + ttl_seconds);
	snprintf(ttl, sizeof ttl, "%ld", ttl_seconds);
	return s_done(s_call(self, err, "EVAL", s_asession_create_lua, "3", k_s, k_a, k_set, lower,
			     role, ts, exp, ttl, token_hash, MDM_KEY_ASESSION_PREFIX, NULL),
		      err);
}

static const char s_asession_delete_lua[] =
	"local e = redis.call('HGET', KEYS[1], 'email')\n"
	"redis.call('DEL', KEYS[1])\n"
	"if e then redis.call('SREM', ARGV[1] .. e, ARGV[2]) end\n"
	"return 1\n";

int mdm_store_asession_delete(mdm_store_t *self, const char *token_hash, mdm_err_t *err)
{
	char k_s[96];
	if (s_hash_ok(token_hash, err) != 0)
		return -1;
	snprintf(k_s, sizeof k_s, MDM_KEY_ASESSION, token_hash);
	return s_done(s_call(self, err, "EVAL", s_asession_delete_lua, "1", k_s, MDM_KEY_ADMIN_SESSIONS_PREFIX,
			     token_hash, NULL),
		      err);
}

/* KEYS: token record. ARGV: id, name, role, now, created_by, hash. */
static const char s_apitoken_create_lua[] =
	"if redis.call('HEXISTS', '" MDM_KEY_APITOKENS "', ARGV[1]) == 1 then\n"
	"  return redis.error_reply('CONFLICT token id already exists') end\n"
	"redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'role', ARGV[3],\n"
	"  'created_at', ARGV[4], 'created_by', ARGV[5])\n"
	"redis.call('HSET', '" MDM_KEY_APITOKENS "', ARGV[1], ARGV[6])\n"
	"return 1\n";

int mdm_store_apitoken_create(mdm_store_t *self, const char *token_hash, const char *name,
			      const char *role, const char *created_by, time_t now,
			      mdm_err_t *err)
{
	char key[96], id[17], ts[32];
	if (s_hash_ok(token_hash, err) != 0)
		return -1;
	snprintf(key, sizeof key, MDM_KEY_APITOKEN, token_hash);
	snprintf(id, sizeof id, "%s", token_hash);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	return s_done(s_call(self, err, "EVAL", s_apitoken_create_lua, "1", key, id, name, role, ts,
			     created_by ? created_by : "", token_hash, NULL),
		      err);
}

static const char s_apitoken_list_lua[] =
	"local out = {}\n"
	"local idx = redis.call('HGETALL', '" MDM_KEY_APITOKENS "')\n"
	"for i = 1, #idx, 2 do\n"
	"  local t = redis.call('HMGET', ARGV[1] .. idx[i + 1], 'name', 'role', 'created_at')\n"
	"  if t[1] then out[#out + 1] = {idx[i], t[1], t[2] or '', t[3] or ''}\n"
	"  else redis.call('HDEL', '" MDM_KEY_APITOKENS "', idx[i]) end\n"
	"end\n"
	"return out\n";

static int s_by_created(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t cx = json_integer_value(json_object_get(x, "created_at"));
	json_int_t cy = json_integer_value(json_object_get(y, "created_at"));
	if (cx != cy)
		return cx < cy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "id")),
		      json_string_value(json_object_get(y, "id")));
}

json_t *mdm_store_apitoken_list(mdm_store_t *self, mdm_err_t *err)
{
	redisReply *r = s_array(
		s_call(self, err, "EVAL", s_apitoken_list_lua, "0", MDM_KEY_APITOKEN_PREFIX, NULL), err);
	if (r == NULL)
		return NULL;
	json_t **items = calloc(r->elements + 1, sizeof *items);
	size_t n = 0;
	for (size_t i = 0; items && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 4)
			continue;
		json_t *t = json_pack("{s:s,s:s,s:s,s:o}", "id", e->element[0]->str, "name",
				      e->element[1]->str, "role", e->element[2]->str, "created_at",
				      s_epoch(s_str(e->element[3])));
		if (t)
			items[n++] = t;
	}
	freeReplyObject(r);
	json_t *out = items ? json_array() : NULL;
	if (items)
		qsort(items, n, sizeof *items, s_by_created);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, items[i]);
	free(items);
	return s_oom(out, err);
}

static const char s_apitoken_delete_lua[] =
	"local h = redis.call('HGET', '" MDM_KEY_APITOKENS "', ARGV[1])\n"
	"if not h then return redis.error_reply('NOTFOUND no such token') end\n"
	"redis.call('DEL', ARGV[2] .. h)\n"
	"redis.call('HDEL', '" MDM_KEY_APITOKENS "', ARGV[1])\n"
	"return 1\n";

int mdm_store_apitoken_delete(mdm_store_t *self, const char *id, mdm_err_t *err)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > 64)
		return mdm_err_set(err, MDM_E_NOT_FOUND, "no such token");
	return s_done(s_call(self, err, "EVAL", s_apitoken_delete_lua, "0", id, MDM_KEY_APITOKEN_PREFIX, NULL),
		      err);
}

/* ARGV: token hash. A session's role is its administrator's current one. */
static const char s_whois_lua[] =
	"local s = redis.call('HMGET', '" MDM_KEY_ASESSION_PREFIX "' .. ARGV[1], 'email', 'expires_at')\n"
	"if s[1] then\n"
	"  local role = redis.call('HGET', '" MDM_KEY_ADMIN_PREFIX "' .. s[1], 'role')\n"
	"  if not role then return false end\n"
	"  return {'session', s[1], role, s[2] or ''}\n"
	"end\n"
	"local t = redis.call('HMGET', '" MDM_KEY_APITOKEN_PREFIX "' .. ARGV[1], 'id', 'name', 'role')\n"
	"if t[1] then return {'api', t[1], t[2] or '', t[3] or ''} end\n"
	"return false\n";

json_t *mdm_store_whois(mdm_store_t *self, const char *token_hash, mdm_err_t *err)
{
	if (s_hash_ok(token_hash, err) != 0)
		return NULL;
	redisReply *r = s_call(self, err, "EVAL", s_whois_lua, "0", token_hash, NULL);
	if (r == NULL)
		return NULL;
	json_t *out = NULL;
	if (r->type == REDIS_REPLY_ERROR)
		mdm_store__script_error(r, err);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
		mdm_err_set(err, MDM_E_NOT_FOUND, "unknown token");
	else if (!strcmp(r->element[0]->str, "session"))
		out = json_pack("{s:s,s:s,s:s,s:o}", "kind", "session", "email", r->element[1]->str,
				"role", r->element[2]->str, "expires_at",
				s_epoch(s_str(r->element[3])));
	else
		out = json_pack("{s:s,s:s,s:s,s:s}", "kind", "api", "id", r->element[1]->str, "name",
				r->element[2]->str, "role", r->element[3]->str);
	freeReplyObject(r);
	return out;
}

/* ---- failed logins ---------------------------------------------------------------------- */

static int s_fail_keys(const char *email, const char *addr, char *ka, size_t ca, char *kr,
		       size_t cr, mdm_err_t *err)
{
	char lower[S_MAX_ID + 1];
	if (s_key(ka, ca, err, MDM_KEY_LOGIN_FAIL_ACCT, email) != 0 ||
	    s_key(kr, cr, err, MDM_KEY_LOGIN_FAIL_ADDR, addr && addr[0] ? addr : "unknown") != 0)
		return -1;
	mdm_store__lower(lower, sizeof lower, email);
	snprintf(ka, ca, MDM_KEY_LOGIN_FAIL_ACCT, lower);
	return 0;
}

static const char s_fail_get_lua[] =
	"return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('TTL', KEYS[1]),\n"
	"        tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('TTL', KEYS[2])}\n";

int mdm_store_login_failures(mdm_store_t *self, const char *email, const char *addr,
			     long *acct, long *acct_ttl, long *by_addr, long *addr_ttl,
			     mdm_err_t *err)
{
	char ka[S_MAX_ID + 32], kr[S_MAX_ID + 32];
	if (s_fail_keys(email, addr, ka, sizeof ka, kr, sizeof kr, err) != 0)
		return -1;
	redisReply *r = s_array(s_call(self, err, "EVAL", s_fail_get_lua, "2", ka, kr, NULL), err);
	if (r == NULL)
		return -1;
	long v[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < 4 && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_INTEGER)
			v[i] = (long)r->element[i]->integer;
	freeReplyObject(r);
	*acct = v[0];
	*acct_ttl = v[1] > 0 ? v[1] : 0;
	*by_addr = v[2];
	*addr_ttl = v[3] > 0 ? v[3] : 0;
	return 0;
}

static const char s_fail_add_lua[] =
	"for _, k in ipairs(KEYS) do\n"
	"  redis.call('INCR', k)\n"
	"  if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ARGV[1]) end\n"
	"end\n"
	"return 1\n";

int mdm_store_login_failure_add(mdm_store_t *self, const char *email, const char *addr,
				long window_seconds, mdm_err_t *err)
{
	char ka[S_MAX_ID + 32], kr[S_MAX_ID + 32], win[32];
	if (s_fail_keys(email, addr, ka, sizeof ka, kr, sizeof kr, err) != 0)
		return -1;
	snprintf(win, sizeof win, "%ld", window_seconds);
	return s_done(s_call(self, err, "EVAL", s_fail_add_lua, "2", ka, kr, win, NULL), err);
}

void mdm_store_login_failures_clear(mdm_store_t *self, const char *email)
{
	char ka[S_MAX_ID + 32], kr[S_MAX_ID + 32];
	if (s_fail_keys(email, "x", ka, sizeof ka, kr, sizeof kr, NULL) != 0)
		return;
	redisReply *r = s_call(self, NULL, "DEL", ka, NULL);
	if (r)
		freeReplyObject(r);
}

/* ---- audit log -------------------------------------------------------------------------- */

/* Lua: the index score of a stream id (layout-1 sorted-set indexes), exact in a double. */
#define S_AUDIT_SCORE_LUA                                                                    \
	"local function score(id)\n"                                                         \
	"  local ms, seq = string.match(id, '^(%d+)-(%d+)$')\n"                              \
	"  return tonumber(ms) * 1000 + tonumber(seq)\n"                                     \
	"end\n"

/* KEYS: stream. ARGV: at, actor, role, action, target, detail, remote_addr, max events (0:
 * no limit). The entry id carries `at` (at * 1000 ms) unless the stream already holds a
 * later one (clocks of two instances apart): ids must grow, so it then takes the next one;
 * since/until filter on ids. The stream keeps about the newest `max` entries (MAXLEN ~
 * drops whole nodes, so a few more); the actor and action index streams get an entry with
 * the same id and drop what is older than the oldest event left (MINID ~). An index still
 * in layout 1 (a sorted set) gets its entry as before, scored ms * 1000 + sequence. */
static const char s_audit_add_lua[] =
	S_AUDIT_SCORE_LUA
	"local want = tonumber(ARGV[1]) * 1000\n"
	"local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]\n"
	"local lms = last and tonumber(string.match(last[1], '^(%d+)-')) or 0\n"
	"local new = want > lms and string.format('%.0f-*', want) or '*'\n"
	"local a = {KEYS[1]}\n"
	"if tonumber(ARGV[8]) > 0 then a = {KEYS[1], 'MAXLEN', '~', ARGV[8]} end\n"
	"for _, v in ipairs({new, 'at', ARGV[1], 'actor', ARGV[2], 'role', ARGV[3], 'action', ARGV[4],\n"
	"  'target', ARGV[5], 'detail', ARGV[6], 'remote_addr', ARGV[7]}) do a[#a + 1] = v end\n"
	"local id = redis.call('XADD', unpack(a))\n"
	"local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]\n"
	"for _, k in ipairs({'" MDM_KEY_AUDIT_PREFIX "actor:' .. ARGV[2], '" MDM_KEY_AUDIT_PREFIX "action:' .. ARGV[4]}) do\n"
	"  if redis.call('TYPE', k).ok == 'zset' then\n"
	"    redis.call('ZADD', k, string.format('%.0f', score(id)), id)\n"
	"  else\n"
	/* an index holding a later id (the log was deleted and begun again) skips the entry */
	"    redis.pcall('XADD', k, 'MINID', '~', first, id, '', '')\n"
	"  end\n"
	"end\n"
	"return id\n";

int mdm_store_audit_add(mdm_store_t *self, json_t *event, long max_events, mdm_err_t *err)
{
	char at[32], max[32];
	snprintf(at, sizeof at, "%lld", (long long)json_integer_value(json_object_get(event, "at")));
	snprintf(max, sizeof max, "%ld", max_events > 0 ? max_events : 0L);
	const char *f[] = {"actor", "role", "action", "target", "remote_addr"};
	const char *v[5];
	for (size_t i = 0; i < 5; i++) {
		v[i] = json_string_value(json_object_get(event, f[i]));
		if (v[i] == NULL)
			v[i] = "";
		if (strlen(v[i]) > 1024)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "audit %s too long", f[i]);
	}
	if (v[0][0] == '\0' || v[2][0] == '\0')
		return mdm_err_set(err, MDM_E_INTERNAL, "an audit event needs an actor and an action");
	json_t *d = json_object_get(event, "detail");
	char *detail = d ? json_dumps(d, JSON_COMPACT) : strdup("{}");
	if (detail == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	int rc = s_done(s_call(self, err, "EVAL", s_audit_add_lua, "1", MDM_KEY_AUDIT, at, v[0],
			       v[1], v[2], v[3], detail, v[4], max, NULL),
			err);
	free(detail);
	return rc;
}

/* ARGV: actor, action, lo ms, hi ms ('' unbounded), cursor id, limit, budget. Without an
 * actor or action filter the stream is read directly; otherwise one index is walked (a
 * stream of ids, or a layout-1 sorted set) and the other filter checked per entry; ids
 * whose event was trimmed away are skipped. Returns {next id or '', {id, fields...}...}. */
static const char s_audit_list_lua[] =
	S_AUDIT_SCORE_LUA
	"local actor, action, lo, hi, cur = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]\n"
	"local limit, budget = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
	"local S = '" MDM_KEY_AUDIT "'\n"
	"local out = {''}\n"
	"local top = hi ~= '' and hi or '+'\n"
	"if cur ~= '' and (hi == '' or score(cur) <= tonumber(hi) * 1000 + 999) then top = '(' .. cur end\n"
	"if actor == '' and action == '' then\n"
	"  local e = redis.call('XREVRANGE', S, top, lo ~= '' and lo or '-', 'COUNT', limit + 1)\n"
	"  for i = 1, math.min(#e, limit) do out[#out + 1] = {e[i][1], e[i][2]} end\n"
	"  if #e > limit then out[1] = e[limit][1] end\n"
	"  return out\n"
	"end\n"
	"local idx = '" MDM_KEY_AUDIT_PREFIX "' .. (actor ~= '' and ('actor:' .. actor) or ('action:' .. action))\n"
	"local check = actor ~= '' and action ~= ''\n"
	"local zset = redis.call('TYPE', idx).ok == 'zset'\n"
	"local ztop = hi ~= '' and tonumber(hi) * 1000 + 999 or 9e15\n"
	"if cur ~= '' then ztop = math.min(ztop, score(cur) - 1) end\n"
	"local zbottom = lo ~= '' and tonumber(lo) * 1000 or 0\n"
	/* index entries older than the oldest event left are not even looked at */
	"local bottom = lo ~= '' and lo or '-'\n"
	"local first = redis.call('XRANGE', S, '-', '+', 'COUNT', 1)[1]\n"
	"if not first then return out end\n"
	"if score(first[1]) > zbottom then zbottom, bottom = score(first[1]), first[1] end\n"
	"local function page()\n"
	"  if zset then\n"
	"    return redis.call('ZREVRANGEBYSCORE', idx, string.format('%.0f', ztop),\n"
	"      string.format('%.0f', zbottom), 'LIMIT', 0, 200)\n"
	"  end\n"
	"  local ids = {}\n"
	"  for i, e in ipairs(redis.call('XREVRANGE', idx, top, bottom, 'COUNT', 200)) do\n"
	"    ids[i] = e[1]\n"
	"  end\n"
	"  return ids\n"
	"end\n"
	"local scanned, n = 0, 0\n"
	"while true do\n"
	"  local ids = page()\n"
	"  if #ids == 0 then return out end\n"
	"  for _, id in ipairs(ids) do\n"
	"    scanned = scanned + 1\n"
	"    local e = redis.call('XRANGE', S, id, id)\n"
	"    local ok = #e == 1\n"
	"    if ok and check then\n"
	"      ok = false\n"
	"      local f = e[1][2]\n"
	"      for j = 1, #f, 2 do if f[j] == 'action' and f[j + 1] == action then ok = true end end\n"
	"    end\n"
	"    if ok then\n"
	"      if n == limit then out[1] = out[#out][1]; return out end\n"
	"      n = n + 1\n"
	"      out[#out + 1] = {id, e[1][2]}\n"
	"    end\n"
	"    if scanned >= budget then out[1] = id; return out end\n"
	"    ztop, top = score(id) - 1, '(' .. id\n"
	"  end\n"
	"end\n";

static int s_stream_id_ok(const char *id)
{
	size_t n = strlen(id);
	const char *dash = strchr(id, '-');
	return n > 2 && n < 48 && dash && dash != id && dash[1] &&
	       strspn(id, "0123456789") == (size_t)(dash - id) &&
	       strspn(dash + 1, "0123456789") == strlen(dash + 1);
}

json_t *mdm_store_audit_list(mdm_store_t *self, const mdm_audit_filter_t *f, mdm_err_t *err)
{
	char lo[32] = "", hi[32] = "", limit[16], budget[16];
	if (f->limit < 1 || f->limit > 500) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "limit must be 1..500");
		return NULL;
	}
	if (f->cursor && f->cursor[0] && !s_stream_id_ok(f->cursor)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "cursor is not one this server gave");
		return NULL;
	}
	if ((f->actor && strlen(f->actor) > 1024) || (f->action && strlen(f->action) > 128)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "actor or action too long");
		return NULL;
	}
	if (f->since > 0)
		snprintf(lo, sizeof lo, "%lld", (long long)f->since * 1000);
	if (f->until > 0)
		snprintf(hi, sizeof hi, "%lld", (long long)f->until * 1000 + 999);
	snprintf(limit, sizeof limit, "%ld", f->limit);
	snprintf(budget, sizeof budget, "%d", S_AUDIT_BUDGET);
	redisReply *r = s_array(s_call(self, err, "EVAL", s_audit_list_lua, "0",
				       f->actor ? f->actor : "", f->action ? f->action : "", lo,
				       hi[0] ? hi : "", f->cursor ? f->cursor : "", limit, budget,
				       NULL),
				err);
	if (r == NULL)
		return NULL;
	json_t *events = json_array();
	for (size_t i = 1; events && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		json_t *h = mdm_store__hash_to_json(e->element[1]);
		if (h == NULL)
			continue;
		const char *dt = json_string_value(json_object_get(h, "detail"));
		json_t *detail = dt ? json_loads(dt, 0, NULL) : NULL;
		json_t *ev = json_pack(
			"{s:s,s:o,s:s,s:s,s:s,s:s,s:o,s:s}", "id", e->element[0]->str, "at",
			s_epoch(json_string_value(json_object_get(h, "at"))), "actor",
			json_string_value(json_object_get(h, "actor")) ?: "", "role",
			json_string_value(json_object_get(h, "role")) ?: "", "action",
			json_string_value(json_object_get(h, "action")) ?: "", "target",
			json_string_value(json_object_get(h, "target")) ?: "", "detail",
			detail ? detail : json_object(), "remote_addr",
			json_string_value(json_object_get(h, "remote_addr")) ?: "");
		json_decref(h);
		if (ev)
			json_array_append_new(events, ev);
	}
	const char *next = s_str(r->element[0]);
	json_t *out = events ? json_pack("{s:o,s:o}", "events", events, "next",
					 next && next[0] ? json_string(next) : json_null())
			     : NULL;
	freeReplyObject(r);
	return s_oom(out, err);
}

/* ---- counters --------------------------------------------------------------------------- */

static const char s_session_lua[] = MDM_STORE_STATS_LUA "st_bump('sess', ARGV[1], false)\n"
							"return 1\n";

int mdm_store_stats_session(mdm_store_t *self, time_t now, mdm_err_t *err)
{
	char ts[32];
	snprintf(ts, sizeof ts, "%ld", (long)now);
	return s_done(s_call(self, err, "EVAL", s_session_lua, "0", ts, NULL), err);
}

/* ARGV: now. Returns {state hash, platform hash, cmd hash, total, enr hours (48),
 * enr days (30), sess hours (48)}, buckets oldest first. */
static const char s_stats_lua[] =
	"local P = '" MDM_KEY_STATS_PREFIX "'\n"
	"local now = tonumber(ARGV[1])\n"
	"local function series(what, step, n)\n"
	"  local t0 = now - now % step - (n - 1) * step\n"
	"  local keys = {}\n"
	"  for i = 0, n - 1 do keys[#keys + 1] = P .. what .. (step == 3600 and ':h:' or ':d:') ..\n"
	"    string.format('%.0f', t0 + i * step) end\n"
	"  local v = redis.call('MGET', unpack(keys))\n"
	"  local out = {}\n"
	"  for i = 1, n do out[i] = tonumber(v[i] or '0') end\n"
	"  return out\n"
	"end\n"
	"return {redis.call('HGETALL', P .. 'state'), redis.call('HGETALL', P .. 'platform'),\n"
	"  redis.call('HGETALL', P .. 'cmd'), redis.call('ZCARD', '" MDM_KEY_DEVICES "'),\n"
	"  series('enr', 3600, 48), series('enr', 86400, 30), series('sess', 3600, 48)}\n";

static json_t *s_counts(redisReply *h)
{
	json_t *o = json_object();
	for (size_t i = 0; o && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
		json_object_set_new(o, h->element[i]->str, json_integer(atoll(h->element[i + 1]->str)));
	return o;
}

static json_t *s_series(redisReply *v, time_t start, long step)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v->type == REDIS_REPLY_ARRAY && i < v->elements; i++)
		json_array_append_new(a, json_pack("{s:I,s:I}", "t", (json_int_t)(start + (long)i * step),
						   "n", (json_int_t)v->element[i]->integer));
	return a;
}

json_t *mdm_store_stats(mdm_store_t *self, time_t now, mdm_err_t *err)
{
	char ts[32];
	snprintf(ts, sizeof ts, "%ld", (long)now);
	redisReply *r = s_array(s_call(self, err, "EVAL", s_stats_lua, "0", ts, NULL), err);
	if (r == NULL)
		return NULL;
	if (r->elements != 7) {
		freeReplyObject(r);
		mdm_err_set(err, MDM_E_INTERNAL, "storage error");
		return NULL;
	}
	time_t h0 = now - now % 3600 - 47 * 3600, d0 = now - now % 86400 - 29 * 86400;
	json_t *cmd = s_counts(r->element[2]);
	static const char *const cf[] = {"queued", "done", "failed"};
	for (size_t i = 0; cmd && i < 3; i++)
		if (!json_object_get(cmd, cf[i]))
			json_object_set_new(cmd, cf[i], json_integer(0));
	json_t *out = json_pack(
		"{s:{s:o,s:o,s:I},s:{s:o,s:o},s:{s:o},s:o}", "devices", "by_state",
		s_counts(r->element[0]), "by_platform", s_counts(r->element[1]), "total",
		(json_int_t)r->element[3]->integer, "enrollments", "per_hour",
		s_series(r->element[4], h0, 3600), "per_day", s_series(r->element[5], d0, 86400),
		"sessions", "per_hour", s_series(r->element[6], h0, 3600), "commands", cmd);
	freeReplyObject(r);
	return s_oom(out, err);
}

/* ---- device search ---------------------------------------------------------------------- */

/* ARGV: limit, cursor score ('' none), cursor id, platform, state, user, os, seen min,
 * seen max (exclusive), q, small-set size, scan budget. Returns {next score, next id,
 * hgetall...} ('' when no next page). Order: (score desc, id desc) of mdm:devices, i.e.
 * newest enrollment first (the score is the device number; ids only break ties between
 * layout-1 enrollment times not migrated yet). With an equality filter the smallest of
 * their indexes (a sorted set scored by device number, or a bitmap of device numbers, see
 * mdm_keys.h) is walked in that order and each candidate checked against the other
 * filters; with only a last_seen window a small enough window is read whole and sorted;
 * otherwise mdm:devices is walked. A walk stops after `budget` candidates and the cursor
 * resumes it. q is checked against the id and the device hash's device_name. */
static const char s_find_lua[] =
	"local limit = tonumber(ARGV[1])\n"
	"local cs, cid = tonumber(ARGV[2]), ARGV[3]\n"
	"local D, IX, DEV = '" MDM_KEY_DEVICES "', '" MDM_KEY_IDX_PREFIX "', '" MDM_KEY_DEVICE_PREFIX "'\n"
	"local SEEN, OLD = '" MDM_KEY_IDX_SEEN "', 1e9\n"
	"local sets, src = {}, nil\n"
	"for i, f in ipairs({'p', 's', 'u', 'o'}) do\n"
	"  if ARGV[3 + i] ~= '' then\n"
	"    local k = IX .. f .. ':' .. ARGV[3 + i]\n"
	"    local t = redis.call('TYPE', k).ok\n"
	"    local n = 0\n"
	"    if t == 'string' then n = redis.call('BITCOUNT', k)\n"
	"    elseif t == 'zset' then n = redis.call('ZCARD', k) end\n"
	"    if n == 0 then return {'', ''} end\n"
	"    sets[#sets + 1] = {k = k, bits = t == 'string', n = n}\n"
	"    if not src or n < src.n then src = sets[#sets] end\n"
	"  end\n"
	"end\n"
	"local smin, smax = tonumber(ARGV[8]), tonumber(ARGV[9])\n"
	"local seen = smin or smax\n"
	"local zmin, zmax = smin and ARGV[8] or '-inf', smax and ('(' .. ARGV[9]) or '+inf'\n"
	"local q, small, budget = ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])\n"
	"local function match(id, dn, skip_seen)\n"
	"  for _, x in ipairs(sets) do\n"
	"    if x ~= src then\n"
	"      if x.bits then\n"
	"        if dn >= OLD or redis.call('GETBIT', x.k, dn) == 0 then return false end\n"
	"      elseif not redis.call('ZSCORE', x.k, id) then return false end\n"
	"    end\n"
	"  end\n"
	"  if seen and not skip_seen then\n"
	"    local s = redis.call('ZSCORE', SEEN, id)\n"
	"    s = s and tonumber(s)\n"
	"    if not s or (smin and s < smin) or (smax and s >= smax) then return false end\n"
	"  end\n"
	"  if q ~= '' then\n"
	"    local name = redis.call('HGET', DEV .. id, 'device_name')\n"
	"    if not string.find(string.lower(id .. '\\n' .. (name or '')), q, 1, true) then return false end\n"
	"  end\n"
	"  return true\n"
	"end\n"
	"local function after(s, id)\n"
	"  return not cs or s < cs or (s == cs and id < cid)\n"
	"end\n"
	"local found, ns, nid = {}, '', ''\n"
	"local scanned = 0\n"
	/* one candidate of a walk in listing order; true when the page is complete */
	"local function visit(s, id)\n"
	"  scanned = scanned + 1\n"
	"  if match(id, s, false) then\n"
	"    if #found == limit then ns, nid = found[limit][1], found[limit][2]; return true end\n"
	"    found[#found + 1] = {s, id}\n"
	"  end\n"
	"  if scanned >= budget then ns, nid = s, id; return true end\n"
	"  return false\n"
	"end\n"
	"local nseen = (not src and seen) and redis.call('ZCOUNT', SEEN, zmin, zmax) or nil\n"
	"if nseen == 0 then return {'', ''} end\n"
	"if nseen and nseen <= small then\n"
	"  local cand = {}\n"
	"  for _, id in ipairs(redis.call('ZRANGEBYSCORE', SEEN, zmin, zmax)) do\n"
	"    local s = redis.call('ZSCORE', D, id)\n"
	"    s = s and tonumber(s)\n"
	"    if s and after(s, id) and match(id, s, true) then cand[#cand + 1] = {s, id} end\n"
	"  end\n"
	"  table.sort(cand, function(a, b) if a[1] ~= b[1] then return a[1] > b[1] end return a[2] > b[2] end)\n"
	"  for i = 1, math.min(#cand, limit) do found[i] = cand[i] end\n"
	"  if #cand > limit then ns, nid = cand[limit][1], cand[limit][2] end\n"
	"elseif src and src.bits then\n"
	/* a bitmap, from its highest number (or the cursor's) down, 8192 numbers a read; a
	 * number's device is the mdm:devices member with that score */
	"  local hi = redis.call('STRLEN', src.k) * 8 - 1\n"
	"  if cs and cs < hi then hi = cs end\n"
	"  local done = false\n"
	"  while hi >= 0 and not done do\n"
	"    local hb = math.floor(hi / 8)\n"
	"    local lb = math.max(0, hb - 1023)\n"
	"    local chunk = redis.call('GETRANGE', src.k, lb, hb)\n"
	"    if string.find(chunk, '[^%z]') then\n"
	"      for b = #chunk, 1, -1 do\n"
	"        local v = string.byte(chunk, b)\n"
	"        local base = (lb + b - 1) * 8\n"
	"        for j = 7, 0, -1 do\n"
	"          if v == 0 then break end\n"
	"          local m = 2 ^ (7 - j)\n"
	"          if v >= m and v % (2 * m) >= m then\n"
	"            v = v - m\n"
	"            local dn = base + j\n"
	"            if dn <= hi then\n"
	"              local id = redis.call('ZRANGEBYSCORE', D, dn, dn, 'LIMIT', 0, 1)[1]\n"
	"              if id and after(dn, id) and visit(dn, id) then done = true; break end\n"
	"            end\n"
	"          end\n"
	"        end\n"
	"        if done then break end\n"
	"      end\n"
	"    end\n"
	"    hi = lb * 8 - 1\n"
	"  end\n"
	"else\n"
	"  local W = src and src.k or D\n"
	"  local start = 0\n"
	"  if cs then\n"
	"    local r, rs = redis.call('ZREVRANK', W, cid), redis.call('ZSCORE', W, cid)\n"
	"    if r and rs and tonumber(rs) == cs then start = r + 1\n"
	"    else start = redis.call('ZCOUNT', W, '(' .. ARGV[2], '+inf') end\n"
	"  end\n"
	"  local done = false\n"
	"  while not done do\n"
	"    local page = redis.call('ZREVRANGE', W, start, start + 499, 'WITHSCORES')\n"
	"    if #page == 0 then break end\n"
	"    for i = 1, #page, 2 do\n"
	"      local id, s = page[i], tonumber(page[i + 1])\n"
	"      if after(s, id) and visit(s, id) then done = true; break end\n"
	"    end\n"
	"    start = start + 500\n"
	"  end\n"
	"end\n"
	"local out = {ns == '' and '' or string.format('%.0f', ns), nid}\n"
	"for _, f in ipairs(found) do out[#out + 1] = redis.call('HGETALL', DEV .. f[2]) end\n"
	"return out\n";

/* The cursor is the hex of "<score>:<device id>" of the last device a page covered. */
static char *s_cursor_encode(const char *score, const char *id)
{
	size_t n = strlen(score) + 1 + strlen(id);
	char *out = malloc(2 * n + 1);
	if (out == NULL)
		return NULL;
	char *p = out;
	const char *parts[] = {score, ":", id};
	for (size_t i = 0; i < 3; i++)
		for (const unsigned char *s = (const unsigned char *)parts[i]; *s; s++, p += 2)
			sprintf(p, "%02x", *s);
	*p = '\0';
	return out;
}

static int s_cursor_decode(const char *cur, char *score, size_t scap, char *id, size_t icap)
{
	size_t n = strlen(cur);
	char raw[600];
	if (n == 0 || n % 2 || n / 2 >= sizeof raw)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)cur[2 * i]) || !isxdigit((unsigned char)cur[2 * i + 1]) ||
		    sscanf(cur + 2 * i, "%2x", &v) != 1 || v == 0)
			return -1;
		raw[i] = (char)v;
	}
	raw[n / 2] = '\0';
	char *colon = strchr(raw, ':');
	if (colon == NULL || colon == raw || (size_t)(colon - raw) >= scap ||
	    strspn(raw, "0123456789") != (size_t)(colon - raw) || colon[1] == '\0' ||
	    strlen(colon + 1) >= icap || strlen(colon + 1) > S_MAX_ID)
		return -1;
	snprintf(score, scap, "%.*s", (int)(colon - raw), raw);
	snprintf(id, icap, "%s", colon + 1);
	return 0;
}

json_t *mdm_store_device_find(mdm_store_t *self, const mdm_device_filter_t *f, mdm_err_t *err)
{
	char limit[16], cs[32] = "", cid[S_MAX_ID + 1] = "", smin[32] = "", smax[32] = "";
	char small[16], budget[16], q[S_MAX_ID + 1] = "", user[S_MAX_ID + 1] = "";
	if (f->limit < 1 || f->limit > 500) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "limit must be 1..500");
		return NULL;
	}
	if (f->cursor && f->cursor[0] &&
	    s_cursor_decode(f->cursor, cs, sizeof cs, cid, sizeof cid) != 0) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "cursor is not one this server gave");
		return NULL;
	}
	const char *eq[] = {f->platform, f->state, f->user, f->os_version, f->q};
	for (size_t i = 0; i < 5; i++)
		if (eq[i] && strlen(eq[i]) > S_MAX_ID) {
			mdm_err_set(err, MDM_E_BAD_REQUEST, "filter values are at most %d bytes", S_MAX_ID);
			return NULL;
		}
	if (f->q)
		mdm_store__lower(q, sizeof q, f->q);
	if (f->user)
		mdm_store__lower(user, sizeof user, f->user);
	if (f->seen_after > 0)
		snprintf(smin, sizeof smin, "%ld", f->seen_after);
	if (f->seen_before > 0)
		snprintf(smax, sizeof smax, "%ld", f->seen_before);
	snprintf(limit, sizeof limit, "%ld", f->limit);
	snprintf(small, sizeof small, "%d", S_SMALL_SET);
	snprintf(budget, sizeof budget, "%d", S_SCAN_BUDGET);
	redisReply *r = s_array(
		s_call(self, err, "EVAL", s_find_lua, "0", limit, cs, cid,
		       f->platform ? f->platform : "", f->state ? f->state : "", user,
		       f->os_version ? f->os_version : "", smin, smax, q, small, budget, NULL),
		err);
	if (r == NULL)
		return NULL;
	json_t *list = json_array();
	for (size_t i = 2; list && i < r->elements; i++) {
		redisReply *h = r->element[i];
		if (h->type != REDIS_REPLY_ARRAY || h->elements == 0)
			continue; /* a listed id whose record is gone */
		json_t *d = mdm_store__hash_to_json(h);
		if (d)
			json_array_append_new(list, d);
	}
	const char *ns = r->elements >= 2 ? s_str(r->element[0]) : NULL;
	const char *nid = r->elements >= 2 ? s_str(r->element[1]) : NULL;
	char *next = ns && ns[0] && nid && nid[0] ? s_cursor_encode(ns, nid) : NULL;
	freeReplyObject(r);
	json_t *out = list ? json_pack("{s:o,s:o}", "devices", list, "next",
				       next ? json_string(next) : json_null())
			   : NULL;
	free(next);
	return s_oom(out, err);
}

static const char s_device_groups_lua[] =
	"local out = {}\n"
	"for _, g in ipairs(redis.call('SMEMBERS', '" MDM_KEY_GROUPS "')) do\n"
	"  if redis.call('SISMEMBER', '" MDM_KEY_GROUP_PREFIX "' .. g, ARGV[1]) == 1 then out[#out + 1] = g end\n"
	"end\n"
	"return out\n";

static int s_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A reply array of strings as a sorted JSON array (caller owns). */
static json_t *s_sorted(redisReply *r)
{
	const char **v = calloc(r->elements + 1, sizeof *v);
	json_t *out = v ? json_array() : NULL;
	size_t n = 0;
	for (size_t i = 0; out && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			v[n++] = r->element[i]->str;
	if (out) {
		qsort(v, n, sizeof *v, s_strcmp_p);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, json_string(v[i]));
	}
	free(v);
	return out;
}

json_t *mdm_store_device_groups(mdm_store_t *self, const char *device_id, mdm_err_t *err)
{
	redisReply *r = s_array(s_call(self, err, "EVAL", s_device_groups_lua, "0", device_id, NULL),
				err);
	if (r == NULL)
		return NULL;
	json_t *out = s_sorted(r);
	freeReplyObject(r);
	return s_oom(out, err);
}

/* ---- groups ----------------------------------------------------------------------------- */

#define S_GROUP_EXISTS_LUA                                                                   \
	"local function exists(name, key)\n"                                                 \
	"  return redis.call('SISMEMBER', '" MDM_KEY_GROUPS "', name) == 1 or\n"             \
	"    redis.call('EXISTS', key) == 1\n"                                               \
	"end\n"

static const char s_group_create_lua[] =
	S_GROUP_EXISTS_LUA
	"if exists(ARGV[1], KEYS[1]) then return redis.error_reply('CONFLICT group already exists') end\n"
	"redis.call('SADD', '" MDM_KEY_GROUPS "', ARGV[1])\n"
	"return 1\n";

int mdm_store_group_create(mdm_store_t *self, const char *group, mdm_err_t *err)
{
	char key[S_MAX_ID + 32];
	if (s_key(key, sizeof key, err, MDM_KEY_GROUP, group) != 0)
		return -1;
	return s_done(s_call(self, err, "EVAL", s_group_create_lua, "1", key, group, NULL), err);
}

static const char s_group_rename_lua[] =
	S_GROUP_EXISTS_LUA
	"if not exists(ARGV[1], KEYS[1]) then return redis.error_reply('NOTFOUND no such group') end\n"
	"if ARGV[1] == ARGV[2] then return 1 end\n"
	"if exists(ARGV[2], KEYS[2]) then return redis.error_reply('CONFLICT a group with that name exists') end\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end\n"
	"redis.call('SREM', '" MDM_KEY_GROUPS "', ARGV[1])\n"
	"redis.call('SADD', '" MDM_KEY_GROUPS "', ARGV[2])\n"
	"return 1\n";

int mdm_store_group_rename(mdm_store_t *self, const char *group, const char *new_name,
			   mdm_err_t *err)
{
	char k_old[S_MAX_ID + 32], k_new[S_MAX_ID + 32];
	if (s_key(k_old, sizeof k_old, err, MDM_KEY_GROUP, group) != 0 ||
	    s_key(k_new, sizeof k_new, err, MDM_KEY_GROUP, new_name) != 0)
		return -1;
	return s_done(s_call(self, err, "EVAL", s_group_rename_lua, "2", k_old, k_new, group,
			     new_name, NULL),
		      err);
}

static const char s_group_delete_lua[] =
	S_GROUP_EXISTS_LUA
	"if not exists(ARGV[1], KEYS[1]) then return redis.error_reply('NOTFOUND no such group') end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('SREM', '" MDM_KEY_GROUPS "', ARGV[1])\n"
	"return 1\n";

int mdm_store_group_delete(mdm_store_t *self, const char *group, mdm_err_t *err)
{
	char key[S_MAX_ID + 32];
	if (s_key(key, sizeof key, err, MDM_KEY_GROUP, group) != 0)
		return -1;
	return s_done(s_call(self, err, "EVAL", s_group_delete_lua, "1", key, group, NULL), err);
}

static const char s_group_remove_lua[] =
	S_GROUP_EXISTS_LUA
	"if not exists(ARGV[1], KEYS[1]) then return redis.error_reply('NOTFOUND no such group') end\n"
	"if redis.call('SREM', KEYS[1], ARGV[2]) == 0 then\n"
	"  return redis.error_reply('NOTFOUND the device is not in this group') end\n"
	"return 1\n";

int mdm_store_group_remove(mdm_store_t *self, const char *group, const char *device_id,
			   mdm_err_t *err)
{
	char key[S_MAX_ID + 32];
	if (s_key(key, sizeof key, err, MDM_KEY_GROUP, group) != 0)
		return -1;
	if (device_id == NULL || device_id[0] == '\0' || strlen(device_id) > S_MAX_ID)
		return mdm_err_set(err, MDM_E_NOT_FOUND, "the device is not in this group");
	return s_done(s_call(self, err, "EVAL", s_group_remove_lua, "1", key, group, device_id, NULL),
		      err);
}

static const char s_group_list_lua[] =
	"local out = {}\n"
	"for _, g in ipairs(redis.call('SMEMBERS', '" MDM_KEY_GROUPS "')) do\n"
	"  out[#out + 1] = {g, redis.call('SCARD', '" MDM_KEY_GROUP_PREFIX "' .. g)}\n"
	"end\n"
	"return out\n";

static int s_by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* An array of objects sorted by cmp (consumes items). */
static json_t *s_sorted_objects(json_t **items, size_t n, int (*cmp)(const void *, const void *))
{
	qsort(items, n, sizeof *items, cmp);
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		if (out)
			json_array_append_new(out, items[i]);
		else
			json_decref(items[i]);
	return out;
}

json_t *mdm_store_group_list(mdm_store_t *self, mdm_err_t *err)
{
	redisReply *r = s_array(s_call(self, err, "EVAL", s_group_list_lua, "0", NULL), err);
	if (r == NULL)
		return NULL;
	json_t **items = calloc(r->elements + 1, sizeof *items);
	size_t n = 0;
	for (size_t i = 0; items && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		json_t *g = json_pack("{s:s,s:I}", "name", e->element[0]->str, "devices",
				      (json_int_t)e->element[1]->integer);
		if (g)
			items[n++] = g;
	}
	freeReplyObject(r);
	json_t *out = items ? s_sorted_objects(items, n, s_by_name) : NULL;
	free(items);
	return s_oom(out, err);
}

/* ---- device users ----------------------------------------------------------------------- */

static const char s_user_list_lua[] =
	"local out = {}\n"
	"for _, e in ipairs(redis.call('ZRANGE', '" MDM_KEY_USERS "', 0, -1)) do\n"
	"  local c = redis.call('HGET', ARGV[1] .. e, 'created_at')\n"
	"  if c then out[#out + 1] = {e, c}\n"
	"  else redis.call('ZREM', '" MDM_KEY_USERS "', e) end\n"
	"end\n"
	"return out\n";

static int s_by_email(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "email")),
		      json_string_value(json_object_get(*(json_t *const *)b, "email")));
}

json_t *mdm_store_user_list(mdm_store_t *self, mdm_err_t *err)
{
	redisReply *r = s_array(s_call(self, err, "EVAL", s_user_list_lua, "0", MDM_KEY_USER_PREFIX, NULL),
				err);
	if (r == NULL)
		return NULL;
	json_t **items = calloc(r->elements + 1, sizeof *items);
	size_t n = 0;
	for (size_t i = 0; items && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		json_t *u = json_pack("{s:s,s:o}", "email", e->element[0]->str, "created_at",
				      s_epoch(s_str(e->element[1])));
		if (u)
			items[n++] = u;
	}
	freeReplyObject(r);
	json_t *out = items ? s_sorted_objects(items, n, s_by_email) : NULL;
	free(items);
	return s_oom(out, err);
}

/* KEYS: user. ARGV: email (lower-cased), pre-enrollment key prefix. The user's pending
 * pre-enrollments go too: a revoked user cannot enroll by any credential we issued. */
static const char s_user_revoke_lua[] =
	"local n = redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', '" MDM_KEY_USERS "', ARGV[1])\n"
	"for _, id in ipairs(redis.call('ZRANGE', '" MDM_KEY_PREENROLLS "', 0, -1)) do\n"
	"  local h = redis.call('HGET', '" MDM_KEY_PREENROLL_IDS "', id)\n"
	"  if h and redis.call('HGET', ARGV[2] .. h, 'email') == ARGV[1] then\n"
	"    redis.call('DEL', ARGV[2] .. h)\n"
	"    redis.call('ZREM', '" MDM_KEY_PREENROLLS "', id)\n"
	"    redis.call('HDEL', '" MDM_KEY_PREENROLL_IDS "', id)\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"if n == 0 then return redis.error_reply('NOTFOUND no such user') end\n"
	"return n\n";

int mdm_store_user_revoke(mdm_store_t *self, const char *email, mdm_err_t *err)
{
	char lower[S_MAX_ID + 1], key[S_MAX_ID + 32];
	if (s_key(key, sizeof key, err, MDM_KEY_USER, email) != 0)
		return -1;
	mdm_store__lower(lower, sizeof lower, email);
	snprintf(key, sizeof key, MDM_KEY_USER, lower);
	return s_done(s_call(self, err, "EVAL", s_user_revoke_lua, "1", key, lower, MDM_KEY_PREENROLL_PREFIX, NULL),
		      err);
}

/* ---- pre-enrollments -------------------------------------------------------------------- */

static const char s_pre_list_lua[] =
	"local now = tonumber(ARGV[1])\n"
	"local out = {}\n"
	"for _, id in ipairs(redis.call('ZREVRANGE', '" MDM_KEY_PREENROLLS "', 0, -1)) do\n"
	"  local h = redis.call('HGET', '" MDM_KEY_PREENROLL_IDS "', id)\n"
	"  local p = h and redis.call('HMGET', ARGV[2] .. h, 'email', 'device_name', 'group',\n"
	"    'created_at', 'expires_at')\n"
	"  if p and p[1] then\n"
	"    if tonumber(p[5] or '0') > now then\n"
	"      out[#out + 1] = {id, p[1], p[2] or '', p[3] or '', p[4] or '', p[5] or ''}\n"
	"    end\n"
	"  else\n"
	"    redis.call('ZREM', '" MDM_KEY_PREENROLLS "', id)\n"
	"    redis.call('HDEL', '" MDM_KEY_PREENROLL_IDS "', id)\n"
	"  end\n"
	"end\n"
	"return out\n";

json_t *mdm_store_preenroll_list(mdm_store_t *self, time_t now, mdm_err_t *err)
{
	char ts[32];
	snprintf(ts, sizeof ts, "%ld", (long)now);
	redisReply *r = s_array(s_call(self, err, "EVAL", s_pre_list_lua, "0", ts, MDM_KEY_PREENROLL_PREFIX, NULL),
				err);
	if (r == NULL)
		return NULL;
	json_t *out = json_array();
	for (size_t i = 0; out && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 6)
			continue;
		const char *dn = s_str(e->element[2]), *g = s_str(e->element[3]);
		json_array_append_new(
			out, json_pack("{s:s,s:s,s:s?,s:s?,s:o,s:o}", "id", e->element[0]->str, "email",
				       e->element[1]->str, "device_name", dn && dn[0] ? dn : NULL,
				       "group", g && g[0] ? g : NULL, "created_at",
				       s_epoch(s_str(e->element[4])), "expires_at",
				       s_epoch(s_str(e->element[5]))));
	}
	freeReplyObject(r);
	return s_oom(out, err);
}

static const char s_pre_revoke_lua[] =
	"local h = redis.call('HGET', '" MDM_KEY_PREENROLL_IDS "', ARGV[1])\n"
	"redis.call('ZREM', '" MDM_KEY_PREENROLLS "', ARGV[1])\n"
	"redis.call('HDEL', '" MDM_KEY_PREENROLL_IDS "', ARGV[1])\n"
	"if not h or redis.call('DEL', ARGV[2] .. h) == 0 then\n"
	"  return redis.error_reply('NOTFOUND no such pre-enrollment') end\n"
	"return 1\n";

int mdm_store_preenroll_revoke(mdm_store_t *self, const char *id, mdm_err_t *err)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > 64)
		return mdm_err_set(err, MDM_E_NOT_FOUND, "no such pre-enrollment");
	return s_done(s_call(self, err, "EVAL", s_pre_revoke_lua, "0", id, MDM_KEY_PREENROLL_PREFIX, NULL), err);
}

/* ---- index rebuild and migration (upgrade) --------------------------------------------- */

/* ARGV: batch size. Numbers up to `batch` devices of layout 1 (an mdm:devices score of 1e9
 * or more is their enrollment time), oldest first, from the numbers reserved for them when
 * the device number counter was created (beyond those, if an older instance went on
 * enrolling, the next free numbers), then indexes them, and counts those layout 1 had not
 * counted (data older than the console, version key absent). Returns how many it
 * numbered. */
static const char s_migrate_devices_lua[] =
	MDM_STORE_IX_LUA
	"ix_reserve()\n"
	"local ids = redis.call('ZRANGEBYSCORE', IX_D, IX_OLD, '+inf', 'LIMIT', 0, tonumber(ARGV[1]))\n"
	"local res = tonumber(redis.call('GET', '" MDM_KEY_DEVICE_NUMBER_RES "') or '0')\n"
	"for _, id in ipairs(ids) do\n"
	"  local dn = redis.call('INCR', '" MDM_KEY_DEVICE_NUMBER_OLD "')\n"
	"  if dn > res then dn = ix_number() end\n"
	"  local k = '" MDM_KEY_DEVICE_PREFIX "' .. id\n"
	"  local a = ix_get(k)\n"
	"  redis.call('ZADD', IX_D, dn, id)\n"
	"  a.seen = nil\n" /* data older than the console has no last_seen index either */
	"  if redis.call('EXISTS', k) == 1 then ix_move(id, a, ix_get(k)) end\n"
	"end\n"
	"return #ids\n";

/* ARGV: keys found by SCAN. Adds users, groups and pre-enrollments to their indexes. */
static const char s_rebuild_keys_lua[] =
	"for _, k in ipairs(ARGV) do\n"
	"  local t = redis.call('TYPE', k).ok\n"
	"  if string.sub(k, 1, #'" MDM_KEY_USER_PREFIX "') == '" MDM_KEY_USER_PREFIX "' and t == 'hash' then\n"
	"    local e = redis.call('HMGET', k, 'email', 'created_at')\n"
	"    if e[1] then redis.call('ZADD', '" MDM_KEY_USERS "', 'NX', tonumber(e[2] or '0') or 0, e[1]) end\n"
	"  elseif string.sub(k, 1, #'" MDM_KEY_GROUP_PREFIX "') == '" MDM_KEY_GROUP_PREFIX "' and t == 'set' then\n"
	"    redis.call('SADD', '" MDM_KEY_GROUPS "', string.sub(k, #'" MDM_KEY_GROUP_PREFIX "' + 1))\n"
	"  elseif string.sub(k, 1, #'" MDM_KEY_PREENROLL_PREFIX "') == '" MDM_KEY_PREENROLL_PREFIX "' and t == 'hash' then\n"
	"    local h = string.sub(k, #'" MDM_KEY_PREENROLL_PREFIX "' + 1)\n"
	"    local id = string.sub(h, 1, 16)\n"
	"    local c = redis.call('HGET', k, 'created_at')\n"
	"    redis.call('ZADD', '" MDM_KEY_PREENROLLS "', 'NX', tonumber(c or '0') or 0, id)\n"
	"    redis.call('HSETNX', '" MDM_KEY_PREENROLL_IDS "', id, h)\n"
	"  end\n"
	"end\n"
	"return 1\n";

/* ARGV: keys found by SCAN: deleted (layout-1 indexes and counters). */
static const char s_unlink_lua[] = "for _, k in ipairs(ARGV) do redis.call('UNLINK', k) end\n"
				   "return 1\n";

/* KEYS: a layout-1 audit index (sorted set of ids), the stream it becomes. ARGV: chunk
 * size, the score to go on after ('-inf' first). Copies the next chunk of ids (the set's
 * order is theirs) into the stream; with the last one, in the same step, the set is
 * replaced by the stream, so an entry added meanwhile (to the set) is never lost. Returns
 * {1 and the next start, or 0 when done or not a sorted set}. */
static const char s_audit_convert_lua[] =
	S_AUDIT_SCORE_LUA
	"if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return {0, ''} end\n"
	"local n = tonumber(ARGV[1])\n"
	"local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf', 'LIMIT', 0, n)\n"
	"for _, id in ipairs(ids) do redis.pcall('XADD', KEYS[2], id, '', '') end\n"
	"if #ids < n then\n"
	"  redis.call('UNLINK', KEYS[1])\n" /* freed in the background: it may be large */
	"  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[1]) end\n"
	"  return {0, ''}\n"
	"end\n"
	"return {1, '(' .. string.format('%.0f', score(ids[#ids]))}\n";

/* Every key SCAN finds for pattern, in batches: to a script (keys as ARGV), or one by one
 * to fn. */
static int s_scan(mdm_store_t *self, const char *pattern, const char *script,
		  int (*fn)(mdm_store_t *, const char *, mdm_err_t *), long *count, mdm_err_t *err)
{
	char cursor[32] = "0";
	do {
		redisReply *r = s_call(self, err, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000",
				       NULL);
		if (r == NULL || mdm_store__is_error(r, err) || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2) {
			if (r)
				freeReplyObject(r);
			return mdm_err_set(err, MDM_E_INTERNAL, "index rebuild: SCAN failed");
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		redisReply *keys = r->element[1];
		for (size_t i = 0; fn && i < keys->elements; i++) {
			if (fn(self, keys->element[i]->str, err) != 0) {
				freeReplyObject(r);
				return -1;
			}
		}
		if (count)
			*count += (long)keys->elements;
		size_t i = 0;
		while (script && i < keys->elements) {
			const char *argv[S_MAX_ARGS];
			size_t lens[S_MAX_ARGS];
			int argc = 0;
			argv[argc++] = "EVAL";
			argv[argc++] = script;
			argv[argc++] = "0";
			for (; i < keys->elements && argc < S_MAX_ARGS; i++)
				argv[argc++] = keys->element[i]->str;
			for (int j = 0; j < argc; j++)
				lens[j] = strlen(argv[j]);
			if (s_done(mdm_store__cmdv(self, err, argc, argv, lens), err) != 0) {
				freeReplyObject(r);
				return -1;
			}
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

/* One audit index key: a layout-1 sorted set becomes a stream (else nothing to do). */
static int s_audit_convert(mdm_store_t *self, const char *key, mdm_err_t *err)
{
	char tmp[2200], from[64] = "-inf";
	snprintf(tmp, sizeof tmp, MDM_KEY_AUDIT_CONV_PREFIX "%s", key + strlen(MDM_KEY_AUDIT_PREFIX));
	for (;;) {
		redisReply *r = s_array(s_call(self, err, "EVAL", s_audit_convert_lua, "2", key, tmp,
					       "1000", from, NULL),
					err);
		if (r == NULL)
			return -1;
		int more = r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
			   r->element[0]->integer == 1 && r->element[1]->type == REDIS_REPLY_STRING;
		if (more)
			snprintf(from, sizeof from, "%s", r->element[1]->str);
		freeReplyObject(r);
		if (!more)
			return 0;
	}
}

int mdm_store_index_ensure(mdm_store_t *self, mdm_err_t *err)
{
	redisReply *r = s_call(self, err, "GET", MDM_KEY_IDX_VERSION, NULL);
	if (r == NULL || mdm_store__is_error(r, err)) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	long version = r->type == REDIS_REPLY_STRING ? atol(r->str) : 0;
	freeReplyObject(r);
	if (version >= MDM_IDX_VERSION)
		return 0;
	/* data older than the console: users, groups and pre-enrollments get their lists */
	if (version < 1 &&
	    (s_scan(self, MDM_KEY_USER_PREFIX "*", s_rebuild_keys_lua, NULL, NULL, err) != 0 ||
	     s_scan(self, MDM_KEY_GROUP_PREFIX "*", s_rebuild_keys_lua, NULL, NULL, err) != 0 ||
	     s_scan(self, MDM_KEY_PREENROLL_PREFIX "*", s_rebuild_keys_lua, NULL, NULL, err) != 0))
		return -1;
	/* devices get numbers, indexes and counters (layout 2), a batch per script */
	long total = 0;
	for (;;) {
		r = s_call(self, err, "EVAL", s_migrate_devices_lua, "0", "200", NULL);
		if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
			s_done(r, err);
			return mdm_err_set(err, MDM_E_INTERNAL, "index migration failed");
		}
		long n = (long)r->integer;
		freeReplyObject(r);
		total += n;
		if (n == 0)
			break;
	}
	/* then layout 1's indexes and counters go, and its audit indexes become streams */
	static const char *const old[] = {MDM_KEY_IDX_PREFIX "state:*", MDM_KEY_IDX_PREFIX "platform:*",
					  MDM_KEY_IDX_PREFIX "user:*", MDM_KEY_IDX_PREFIX "os:*"};
	for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
		if (s_scan(self, old[i], s_unlink_lua, NULL, NULL, err) != 0)
			return -1;
	long audit = 0;
	if (s_done(s_call(self, err, "UNLINK", MDM_KEY_IDX_PREFIX "name", MDM_KEY_DEVICE_NUMBER_OLD,
			  MDM_KEY_DEVICE_NUMBER_RES, NULL),
		   err) != 0 ||
	    s_scan(self, MDM_KEY_AUDIT_PREFIX "*", NULL, s_audit_convert, &audit, err) != 0)
		return -1;
	char v[16];
	snprintf(v, sizeof v, "%d", MDM_IDX_VERSION);
	if (s_done(s_call(self, err, "SET", MDM_KEY_IDX_VERSION, v, NULL), err) != 0)
		return -1;
	log_info("indexes in layout %d: %ld device record(s) numbered and indexed, %ld audit "
		 "index key(s) checked", MDM_IDX_VERSION, total, audit);
	return 1;
}
