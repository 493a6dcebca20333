/* mdm_store.c -- hiredis wrapper with reconnect, and the project's Redis operations. */
#include "mdm_store.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdm_keys.h"
#include "mdm_log.h"
#include "mdm_store_int.h"
#include "mdm_sentinel.h"

struct mdm_store_t {
	redisContext *rc;
	char host[256];
	int port;
	char unix_path[256];
	char password[256];
	int db;
	mdm_sentinel_t *sentinel; /* redis-sentinel:// URL: host/port is the current master */
	struct {
		const char *text; /* a script (static text: the pointer identifies it) */
		size_t len;
		char sha[41];
	} sha_cache[64];
	int n_sha;
};

/* Parses redis://[:password@]host[:port][/db], unix:///path and
 * redis-sentinel://[:password@]host1:port1,host2:port2/<master-name>[/db] (mdm_sentinel.h). */
static int s_parse_url(mdm_store_t *self, const char *url, mdm_err_t *err)
{
	self->port = 6379;
	snprintf(self->host, sizeof self->host, "127.0.0.1");
	if (!strncmp(url, "redis-sentinel://", 17)) {
		self->sentinel = mdm_sentinel_new(url, self->password, sizeof self->password, &self->db, err);
		return self->sentinel ? 0 : -1;
	}
	if (!strncmp(url, "unix://", 7)) {
		snprintf(self->unix_path, sizeof self->unix_path, "%s", url + 7);
		return self->unix_path[0] ? 0
					  : mdm_err_set(err, MDM_E_BAD_REQUEST, "bad Redis URL %s", url);
	}
	if (strncmp(url, "redis://", 8) != 0)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "Redis URL must start with redis://: %s",
				   url);
	const char *p = url + 8;
	const char *at = strrchr(p, '@'); /* a password may contain '@' */
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *pw = colon ? colon + 1 : p;
		snprintf(self->password, sizeof self->password, "%.*s", (int)(at - pw), pw);
		p = at + 1;
	}
	const char *end = p + strcspn(p, ":/");
	if (end > p)
		snprintf(self->host, sizeof self->host, "%.*s", (int)(end - p), p);
	char *stop;
	if (*end == ':') {
		long port = strtol(end + 1, &stop, 10);
		if (stop == end + 1 || port <= 0 || port > 65535)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "bad Redis port in %s", url);
		self->port = (int)port;
		end = stop;
	}
	if (*end == '/' && end[1]) {
		long db = strtol(end + 1, &stop, 10);
		if (stop == end + 1 || *stop != '\0' || db < 0 || db > 1000)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "bad Redis database in %s", url);
		self->db = (int)db;
		end = stop;
	} else if (*end == '/') {
		end++;
	}
	if (*end != '\0')
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "unexpected text after the port in %s", url);
	return 0;
}

mdm_store_t *mdm_store_new(const char *url, mdm_err_t *err)
{
	mdm_store_t *self = calloc(1, sizeof *self);
	if (self == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return NULL;
	}
	if (s_parse_url(self, url, err) != 0) {
		free(self);
		return NULL;
	}
	return self;
}

void mdm_store_destroy(mdm_store_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	if ((*self_p)->rc)
		redisFree((*self_p)->rc);
	mdm_sentinel_destroy(&(*self_p)->sentinel);
	free(*self_p);
	*self_p = NULL;
}

static int s_connect(mdm_store_t *self)
{
	struct timeval ct = {1, 0}, rt = {2, 0};
	redisReply *r = NULL;
	if (self->rc)
		redisFree(self->rc);
	self->rc = NULL;
	/* sentinel mode: host/port become the current master's (cached, or asked) */
	if (self->sentinel &&
	    mdm_sentinel_master(self->sentinel, self->host, sizeof self->host, &self->port) != 0)
		return -1;
	self->rc = self->unix_path[0] ? redisConnectUnixWithTimeout(self->unix_path, ct)
				      : redisConnectWithTimeout(self->host, self->port, ct);
	if (self->rc == NULL || self->rc->err)
		goto error;
	redisSetTimeout(self->rc, rt);
	if (self->password[0]) {
		r = redisCommand(self->rc, "AUTH %s", self->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			goto error;
		freeReplyObject(r);
		r = NULL;
	}
	if (self->sentinel && mdm_sentinel_verify(self->sentinel, self->rc) != 0)
		goto error;
	if (self->db) {
		r = redisCommand(self->rc, "SELECT %d", self->db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR)
			goto error;
		freeReplyObject(r);
	}
	return 0;
error:
	if (r)
		freeReplyObject(r);
	log_warn("redis: cannot connect to %s:%d: %s", self->unix_path[0] ? self->unix_path : self->host,
		 self->port, self->rc ? self->rc->errstr : "out of memory");
	if (self->rc)
		redisFree(self->rc);
	self->rc = NULL;
	if (self->sentinel)
		mdm_sentinel_forget(self->sentinel);
	return -1;
}

/* Runs one command (argv form, so values never need quoting). A broken connection is
 * re-opened and the command retried once; then MDM_E_UNAVAILABLE. An error reply is
 * returned as is for the caller to interpret. Sentinel mode: a READONLY reply (the master
 * was demoted) counts as a broken connection, and a write not confirmed by a replica
 * (WAIT, mdm_sentinel.h) is MDM_E_UNAVAILABLE without a retry. */
/* EVAL of a script Redis already has is sent as EVALSHA: the script text (up to a few KB,
 * with the shared index helpers) is then neither sent nor hashed by Redis on each call.
 * A NOSCRIPT answer (first use, a restarted or failed-over Redis, SCRIPT FLUSH) sends the
 * EVAL itself, which also loads the script for the next call. Every script text passed to
 * EVAL in libs/store is a static string: its address keys the SHA-1 cache. */
static redisReply *s_command(mdm_store_t *self, int argc, const char **argv, const size_t *lens)
{
	enum { MAX = 256 };
	if (argc < 2 || argc > MAX || lens[0] != 4 || strncasecmp(argv[0], "EVAL", 4) != 0)
		return redisCommandArgv(self->rc, argc, argv, lens);
	/* the scripts are static strings: their SHA-1 is computed once per connection
	 * object (hashing 2-5 KB per call through EVP showed up in profiles) */
	const char *hex = NULL;
	for (int i = 0; i < self->n_sha && !hex; i++)
		if (self->sha_cache[i].text == argv[1] && self->sha_cache[i].len == lens[1])
			hex = self->sha_cache[i].sha;
	char tmp[2 * SHA_DIGEST_LENGTH + 1];
	if (hex == NULL) {
		unsigned char md[SHA_DIGEST_LENGTH];
		SHA1((const unsigned char *)argv[1], lens[1], md);
		for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
			snprintf(tmp + 2 * i, 3, "%02x", md[i]);
		hex = tmp;
		if (self->n_sha < (int)(sizeof self->sha_cache / sizeof self->sha_cache[0])) {
			self->sha_cache[self->n_sha].text = argv[1];
			self->sha_cache[self->n_sha].len = lens[1];
			memcpy(self->sha_cache[self->n_sha++].sha, tmp, sizeof tmp);
		}
	}
	const char *av[MAX];
	size_t ln[MAX];
	memcpy(av, argv, (size_t)argc * sizeof *av);
	memcpy(ln, lens, (size_t)argc * sizeof *ln);
	av[0] = "EVALSHA", ln[0] = 7;
	av[1] = hex, ln[1] = 2 * SHA_DIGEST_LENGTH;
	redisReply *r = redisCommandArgv(self->rc, argc, av, ln);
	if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
		freeReplyObject(r);
		r = redisCommandArgv(self->rc, argc, argv, lens);
	}
	return r;
}

static redisReply *s_cmdv(mdm_store_t *self, mdm_err_t *err, int argc, const char **argv,
			  const size_t *lens)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (self->rc == NULL && s_connect(self) != 0)
			continue;
		redisReply *r = s_command(self, argc, argv, lens);
		if (r && self->sentinel && mdm_sentinel_is_readonly(r)) {
			log_warn("redis: %s", r->str);
			freeReplyObject(r);
		} else if (r && self->sentinel && r->type != REDIS_REPLY_ERROR &&
			   mdm_sentinel_wait(self->sentinel, self->rc, argc, argv, lens) != 0) {
			/* it ran, but only the master has it: not acknowledged, not retried; the
			 * master may have been replaced, so ask the sentinels again next time */
			freeReplyObject(r);
			redisFree(self->rc);
			self->rc = NULL;
			mdm_sentinel_forget(self->sentinel);
			break;
		} else if (r && r->type == REDIS_REPLY_ERROR &&
			   (!strncmp(r->str, "LOADING", 7) || !strncmp(r->str, "MASTERDOWN", 10) ||
			    !strncmp(r->str, "BUSY", 4))) {
			/* Redis is up but cannot serve yet (loading its data, no master, a long
			 * script): the same as down for our callers, 503 and retry later */
			log_warn("redis: %s", r->str);
			freeReplyObject(r);
			break;
		} else if (r) {
			return r;
		} else {
			log_warn("redis: %s", self->rc->errstr);
		}
		redisFree(self->rc);
		self->rc = NULL;
		if (self->sentinel)
			mdm_sentinel_forget(self->sentinel);
	}
	mdm_err_set(err, MDM_E_UNAVAILABLE, "storage unavailable, retry later");
	return NULL;
}

#define S_MAX_ARGS 128
#define S_SESSION_PREFIX "mdm:sess:" /* MDM_KEY_SESSION up to the device id */
/* Convenience: NULL-terminated string arguments. */
static redisReply *s_cmd(mdm_store_t *self, mdm_err_t *err, ...)
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
	return s_cmdv(self, err, argc, argv, lens);
}

static int s_is_error(redisReply *r, mdm_err_t *err)
{
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	log_err("redis: %s", r->str);
	mdm_err_set(err, MDM_E_INTERNAL, "storage error");
	return 1;
}

static void s_lower(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

int mdm_store_ping(mdm_store_t *self, mdm_err_t *err)
{
	redisReply *r = s_cmd(self, err, "PING", NULL);
	if (r == NULL)
		return -1;
	int rc = s_is_error(r, err) ? -1 : 0;
	freeReplyObject(r);
	return rc;
}

int mdm_store_user_create(mdm_store_t *self, const char *email, const char *pwhash, time_t now,
			  mdm_err_t *err)
{
	char lower[321], key[400], ts[32];
	s_lower(lower, sizeof lower, email);
	snprintf(key, sizeof key, MDM_KEY_USER, lower);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	/* HSETNX on the hash's email field makes creation atomic against a concurrent one */
	redisReply *r = s_cmd(self, err, "HSETNX", key, "email", lower, NULL);
	if (r == NULL || s_is_error(r, err)) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	int created = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (!created)
		return mdm_err_set(err, MDM_E_CONFLICT, "user %s already exists", lower);
	r = s_cmd(self, err, "EVAL",
		  "redis.call('HSET', KEYS[1], 'pwhash', ARGV[1], 'created_at', ARGV[2]) "
		  "redis.call('ZADD', '" MDM_KEY_USERS "', ARGV[2], ARGV[3]) return 1",
		  "1", key, pwhash, ts, lower, NULL);
	if (r == NULL || s_is_error(r, err)) {
		if (r)
			freeReplyObject(r);
		/* do not leave a user without a password hash behind */
		redisReply *d = s_cmd(self, NULL, "DEL", key, NULL);
		if (d)
			freeReplyObject(d);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static int s_copy_reply_str(redisReply *r, char *out, size_t cap)
{
	if (r->type != REDIS_REPLY_STRING)
		return 1;
	snprintf(out, cap, "%s", r->str);
	return 0;
}

int mdm_store_user_pwhash(mdm_store_t *self, const char *email, char *out, size_t cap,
			  mdm_err_t *err)
{
	char lower[321], key[400];
	s_lower(lower, sizeof lower, email);
	snprintf(key, sizeof key, MDM_KEY_USER, lower);
	redisReply *r = s_cmd(self, err, "HGET", key, "pwhash", NULL);
	if (r == NULL)
		return -1;
	int rc = s_is_error(r, err) ? -1 : s_copy_reply_str(r, out, cap);
	freeReplyObject(r);
	return rc;
}

int mdm_store_preenroll_create(mdm_store_t *self, const char *secret_hash, const char *email,
			       const char *device_name, const char *group, time_t now,
			       long ttl_seconds, mdm_err_t *err)
{
	char key[128], lower[321], ts[32], exp[32], ttl[32];
	snprintf(key, sizeof key, MDM_KEY_PREENROLL, secret_hash);
	s_lower(lower, sizeof lower, email);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(exp, sizeof exp, "%ld", (long)now + ttl_seconds);
	snprintf(ttl, sizeof ttl, "%ld", ttl_seconds);
	char pre_id[17]; /* the listing's id: the first 16 hex of the hash */
	snprintf(pre_id, sizeof pre_id, "%s", secret_hash);
	/* one script, so the record never exists without its expiry and a failure leaves the
	 * connection in no transaction state */
	redisReply *r = s_cmd(self, err, "EVAL",
			      "redis.call('HSET', KEYS[1], 'email', ARGV[1], 'device_name', ARGV[2], "
			      "'group', ARGV[3], 'created_at', ARGV[4], 'expires_at', ARGV[5]) "
			      "redis.call('EXPIRE', KEYS[1], ARGV[6]) "
			      "redis.call('ZADD', '" MDM_KEY_PREENROLLS "', ARGV[4], ARGV[7]) "
			      "redis.call('HSET', '" MDM_KEY_PREENROLL_IDS "', ARGV[7], ARGV[8]) return 1",
			      "1", key, lower, device_name ? device_name : "", group ? group : "", ts, exp,
			      ttl, pre_id, secret_hash, NULL);
	if (r == NULL)
		return -1;
	int rc = s_is_error(r, err) ? -1 : 0;
	freeReplyObject(r);
	return rc;
}

int mdm_store_preenroll_get(mdm_store_t *self, const char *secret_hash, char *email,
			    size_t cap, char *device_name, size_t dn_cap, mdm_err_t *err)
{
	char key[128];
	snprintf(key, sizeof key, MDM_KEY_PREENROLL, secret_hash);
	redisReply *r = s_cmd(self, err, "HMGET", key, "email", "device_name", NULL);
	if (r == NULL)
		return -1;
	int rc = 1;
	if (s_is_error(r, err))
		rc = -1;
	else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		 r->element[0]->type == REDIS_REPLY_STRING) {
		snprintf(email, cap, "%s", r->element[0]->str);
		if (device_name)
			snprintf(device_name, dn_cap, "%s",
				 r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : "");
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

static void s_fail_key(char *key, size_t cap, const char *user)
{
	char lower[321];
	s_lower(lower, sizeof lower, user);
	snprintf(key, cap, MDM_KEY_AUTH_FAILURES, lower);
}

long mdm_store_auth_failures(mdm_store_t *self, const char *user, mdm_err_t *err)
{
	char key[400];
	s_fail_key(key, sizeof key, user);
	redisReply *r = s_cmd(self, err, "GET", key, NULL);
	if (r == NULL)
		return -1;
	long n = s_is_error(r, err) ? -1 : r->type == REDIS_REPLY_STRING ? atol(r->str) : 0;
	freeReplyObject(r);
	return n;
}

long mdm_store_auth_failure_add(mdm_store_t *self, const char *user, long window_seconds,
				mdm_err_t *err)
{
	char key[400], win[32];
	s_fail_key(key, sizeof key, user);
	snprintf(win, sizeof win, "%ld", window_seconds);
	/* INCR and the expiry in one step: a counter never outlives its window */
	redisReply *r = s_cmd(self, err, "EVAL",
			      "local n = redis.call('INCR', KEYS[1]) "
			      "if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
			      "return n",
			      "1", key, win, NULL);
	if (r == NULL)
		return -1;
	long n = s_is_error(r, err) ? -1 : (long)r->integer;
	freeReplyObject(r);
	return n;
}

void mdm_store_auth_failures_clear(mdm_store_t *self, const char *user)
{
	char key[400];
	s_fail_key(key, sizeof key, user);
	redisReply *r = s_cmd(self, NULL, "DEL", key, NULL);
	if (r)
		freeReplyObject(r);
}

int mdm_store_token_spent(mdm_store_t *self, const char *jti, mdm_err_t *err)
{
	char key[128];
	snprintf(key, sizeof key, MDM_KEY_TOKEN_USED, jti);
	redisReply *r = s_cmd(self, err, "EXISTS", key, NULL);
	if (r == NULL)
		return -1;
	int rc = s_is_error(r, err) ? -1 : (r->type == REDIS_REPLY_INTEGER && r->integer > 0);
	freeReplyObject(r);
	return rc;
}

/* KEYS: device, device list, hw index, new cert, spend key ("" when none).
 * ARGV: spend kind, spend arg (email | ttl), now, then field/value pairs. */
#define S_PRE_PREFIX_LEN "8" /* strlen(MDM_KEY_PREENROLL_PREFIX): "mdm:pre:" */
static const char s_enroll_lua[] =
	MDM_STORE_IX_LUA MDM_STORE_STATS_LUA
	"local kind, now = ARGV[1], ARGV[3]\n"
	"local grp\n"
	"if kind == 'pre' then\n"
	"  local email = redis.call('HGET', KEYS[5], 'email')\n"
	"  if not email then return redis.error_reply('SPENT enrollment secret already used or expired') end\n"
	"  if email ~= ARGV[2] then return redis.error_reply('SPENT enrollment secret issued for another user') end\n"
	"  grp = redis.call('HGET', KEYS[5], 'group')\n"
	"  redis.call('DEL', KEYS[5])\n"
	/* a spent secret leaves the pending list at once (no scan of spent entries later) */
	"  local pid = string.sub(KEYS[5], " S_PRE_PREFIX_LEN " + 1, " S_PRE_PREFIX_LEN " + 16)\n"
	"  redis.call('ZREM', '" MDM_KEY_PREENROLLS "', pid)\n"
	"  redis.call('HDEL', '" MDM_KEY_PREENROLL_IDS "', pid)\n"
	"elseif kind == 'tok' then\n"
	"  if not redis.call('SET', KEYS[5], now, 'NX', 'EX', ARGV[2]) then\n"
	"    return redis.error_reply('SPENT login token already used') end\n"
	"end\n"
	"local dev = {}\n"
	"for i = 4, #ARGV, 2 do dev[ARGV[i]] = ARGV[i + 1] end\n"
	"local id = dev['device_id']\n"
	"local old = redis.call('HGET', KEYS[1], 'cert_thumbprint')\n"
	"if old and old ~= dev['cert_thumbprint'] then\n"
	"  redis.call('HSET', '" MDM_KEY_CERT_PREFIX "' .. old, 'state', 'revoked', 'revoked_at', now)\n"
	"end\n"
	"local prev = redis.call('GET', KEYS[3])\n"
	"if prev and prev ~= id then\n"
	"  local pk = '" MDM_KEY_DEVICE_PREFIX "' .. prev\n"
	"  local pt = redis.call('HGET', pk, 'cert_thumbprint')\n"
	"  if pt then redis.call('HSET', '" MDM_KEY_CERT_PREFIX "' .. pt, 'state', 'revoked', 'revoked_at', now) end\n"
	"  if redis.call('EXISTS', pk) == 1 then\n"
	"    local po = ix_get(pk)\n"
	"    redis.call('HSET', pk, 'state', 'replaced', 'replaced_by', id)\n"
	"    ix_move(prev, po, ix_get(pk))\n"
	"  end\n"
	"end\n"
	"local first = redis.call('HGET', KEYS[1], 'first_enrolled_at')\n"
	"local ix_old = ix_get(KEYS[1])\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
	"redis.call('HSET', KEYS[1], 'first_enrolled_at', first or now, 'enrolled_at', now, 'state', 'enrolled')\n"
	/* every enrollment takes the next device number: the listing order, and the bit the
	 * filter bitmaps keep for it (mdm_keys.h) */
	"ix_reserve()\n"
	"redis.call('ZADD', KEYS[2], ix_number(), id)\n"
	"ix_move(id, ix_old, ix_get(KEYS[1]))\n"
	"st_bump('enr', now, true)\n"
	"if grp and grp ~= '' then\n"
	"  redis.call('SADD', '" MDM_KEY_GROUP_PREFIX "' .. grp, id)\n"
	"  redis.call('SADD', '" MDM_KEY_GROUPS "', grp)\n"
	"end\n"
	"redis.call('SET', KEYS[3], id)\n"
	"redis.call('HSET', KEYS[4], 'device_id', id, 'serial', dev['cert_serial'], 'not_after',\n"
	"  dev['cert_not_after'], 'state', 'active', 'issued_at', now)\n"
	"return 1\n";

static const char s_renew_lua[] =
	"local now = ARGV[1]\n"
	"if redis.call('HGET', KEYS[2], 'state') ~= 'active' then\n"
	"  return redis.error_reply('NOTELIGIBLE certificate is not the active one') end\n"
	"if redis.call('HGET', KEYS[2], 'device_id') ~= ARGV[5] then\n"
	"  return redis.error_reply('NOTELIGIBLE certificate belongs to another device') end\n"
	"if redis.call('HGET', KEYS[1], 'state') ~= 'enrolled' then\n"
	"  return redis.error_reply('NOTELIGIBLE device is not enrolled') end\n"
	"redis.call('HSET', KEYS[2], 'state', 'superseded', 'superseded_at', now, 'superseded_by', ARGV[2])\n"
	"redis.call('HSET', KEYS[3], 'device_id', ARGV[5], 'serial', ARGV[3], 'not_after', ARGV[4],\n"
	"  'state', 'active', 'issued_at', now, 'renewed_from', ARGV[6])\n"
	"redis.call('HSET', KEYS[1], 'cert_thumbprint', ARGV[2], 'cert_serial', ARGV[3],\n"
	"  'cert_not_after', ARGV[4], 'renewed_at', now)\n"
	"return 1\n";

/* Maps a script's error reply (prefix word) onto our codes. */
static int s_script_error(redisReply *r, mdm_err_t *err)
{
	const char *msg = strchr(r->str, ' ');
	msg = msg ? msg + 1 : r->str;
	if (!strncmp(r->str, "SPENT", 5))
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "%s", msg);
	if (!strncmp(r->str, "NOTELIGIBLE", 11))
		return mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW, "%s", msg);
	if (!strncmp(r->str, "NOTFOUND ", 9))
		return mdm_err_set(err, MDM_E_NOT_FOUND, "%s", msg);
	if (!strncmp(r->str, "CONFLICT ", 9))
		return mdm_err_set(err, MDM_E_CONFLICT, "%s", msg);
	if (!strncmp(r->str, "TOOLARGE ", 9))
		return mdm_err_set(err, MDM_E_TOO_LARGE, "%s", msg);
	log_err("redis script: %s", r->str);
	return mdm_err_set(err, MDM_E_INTERNAL, "storage error");
}

int mdm_store_enroll(mdm_store_t *self, json_t *device, mdm_spend_t spend, const char *spend_key,
		     const char *spend_arg, long spend_ttl, time_t now, mdm_err_t *err)
{
	const char *id = json_string_value(json_object_get(device, "device_id"));
	const char *hw = json_string_value(json_object_get(device, "hwdevid"));
	const char *thumb = json_string_value(json_object_get(device, "cert_thumbprint"));
	const char *serial = json_string_value(json_object_get(device, "cert_serial"));
	const char *not_after = json_string_value(json_object_get(device, "cert_not_after"));
	/* the script must not fail half-way (Redis does not roll a script back) */
	if (!id || !hw || !thumb || !serial || !not_after || json_object_size(device) > 40)
		return mdm_err_set(err, MDM_E_INTERNAL, "incomplete device record");
	char k_dev[400], k_hw[200], k_cert[128], k_spend[160] = "", ts[32], ttl[32], lower[321];
	snprintf(k_dev, sizeof k_dev, MDM_KEY_DEVICE, id);
	snprintf(k_hw, sizeof k_hw, MDM_KEY_HWDEV, hw);
	snprintf(k_cert, sizeof k_cert, MDM_KEY_CERT, thumb);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(ttl, sizeof ttl, "%ld", spend_ttl > 0 ? spend_ttl : 3600);
	const char *kind = "", *arg = "";
	if (spend == MDM_SPEND_PREENROLL) {
		snprintf(k_spend, sizeof k_spend, MDM_KEY_PREENROLL, spend_key);
		s_lower(lower, sizeof lower, spend_arg ? spend_arg : "");
		kind = "pre", arg = lower;
	} else if (spend == MDM_SPEND_TOKEN) {
		snprintf(k_spend, sizeof k_spend, MDM_KEY_TOKEN_USED, spend_key);
		kind = "tok", arg = ttl;
	}
	const char *argv[S_MAX_ARGS];
	size_t lens[S_MAX_ARGS];
	int argc = 0;
	const char *fixed[] = {"EVAL", s_enroll_lua, "5", k_dev, MDM_KEY_DEVICES, k_hw, k_cert,
			       k_spend[0] ? k_spend : "mdm:none", kind, arg, ts};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		argv[argc++] = fixed[i];
	const char *name;
	json_t *value;
	json_object_foreach(device, name, value)
	{
		if (!json_is_string(value) || argc + 2 > S_MAX_ARGS)
			continue;
		argv[argc++] = name;
		argv[argc++] = json_string_value(value);
	}
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *r = s_cmdv(self, err, argc, argv, lens);
	if (r == NULL)
		return -1;
	int rc = r->type == REDIS_REPLY_ERROR ? s_script_error(r, err) : 0;
	freeReplyObject(r);
	return rc;
}

int mdm_store_renew(mdm_store_t *self, const char *device_id, const char *old_thumbprint,
		    const char *new_thumbprint, const char *new_serial, time_t new_not_after,
		    time_t now, mdm_err_t *err)
{
	char k_dev[400], k_old[128], k_new[128], ts[32], na[32];
	snprintf(k_dev, sizeof k_dev, MDM_KEY_DEVICE, device_id);
	snprintf(k_old, sizeof k_old, MDM_KEY_CERT, old_thumbprint);
	snprintf(k_new, sizeof k_new, MDM_KEY_CERT, new_thumbprint);
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(na, sizeof na, "%ld", (long)new_not_after);
	redisReply *r = s_cmd(self, err, "EVAL", s_renew_lua, "3", k_dev, k_old, k_new, ts,
			      new_thumbprint, new_serial, na, device_id, old_thumbprint, NULL);
	if (r == NULL)
		return -1;
	int rc = r->type == REDIS_REPLY_ERROR ? s_script_error(r, err) : 0;
	freeReplyObject(r);
	return rc;
}

static json_t *s_hash_to_json(redisReply *r)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_set_new(o, r->element[i]->str,
					    json_stringn(r->element[i + 1]->str, r->element[i + 1]->len));
	return o;
}

static json_t *s_hgetall(mdm_store_t *self, const char *key, const char *what, mdm_err_t *err)
{
	redisReply *r = s_cmd(self, err, "HGETALL", key, NULL);
	if (r == NULL)
		return NULL;
	json_t *o = NULL;
	if (s_is_error(r, err))
		;
	else if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		mdm_err_set(err, MDM_E_NOT_FOUND, "no such %s", what);
	else
		o = s_hash_to_json(r);
	freeReplyObject(r);
	return o;
}

json_t *mdm_store_device_get(mdm_store_t *self, const char *device_id, mdm_err_t *err)
{
	char key[400];
	snprintf(key, sizeof key, MDM_KEY_DEVICE, device_id);
	return s_hgetall(self, key, "device", err);
}

json_t *mdm_store_cert_get(mdm_store_t *self, const char *thumbprint, mdm_err_t *err)
{
	char key[128];
	snprintf(key, sizeof key, MDM_KEY_CERT, thumbprint);
	return s_hgetall(self, key, "certificate", err);
}

json_t *mdm_store_device_list(mdm_store_t *self, long offset, long limit, mdm_err_t *err)
{
	char start[32], stop[32];
	snprintf(start, sizeof start, "%ld", offset);
	snprintf(stop, sizeof stop, "%ld", offset + limit); /* one extra: is there a next page? */
	redisReply *r = s_cmd(self, err, "ZREVRANGE", MDM_KEY_DEVICES, start, stop, NULL);
	if (r == NULL)
		return NULL;
	json_t *out = NULL;
	if (s_is_error(r, err) || r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return NULL;
	}
	json_t *list = json_array();
	size_t n = r->elements > (size_t)limit ? (size_t)limit : r->elements;
	for (size_t i = 0; i < n; i++) {
		mdm_err_t e2 = {0};
		json_t *d = mdm_store_device_get(self, r->element[i]->str, &e2);
		if (d)
			json_array_append_new(list, d);
		else if (e2.code != MDM_E_NOT_FOUND) {
			mdm_err_set(err, e2.code, "%s", e2.text);
			json_decref(list);
			freeReplyObject(r);
			return NULL;
		}
	}
	out = json_pack("{s:o,s:o}", "devices", list, "next",
			r->elements > (size_t)limit ? json_integer(offset + limit) : json_null());
	freeReplyObject(r);
	return out;
}

/* ---- management: commands, queues, sessions, groups ---------------------------------- */

#define S_MAX_DEVICE_ID 256
#define S_MAX_CMD_ID 128
#define S_MAX_RESULTS 1048576 /* bytes of results JSON kept per command */

/* Formats a key; refuses (MDM_E_BAD_REQUEST) rather than truncate an over-long identifier
 * into what could be another record's key. */
static int s_key(char *out, size_t cap, mdm_err_t *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int s_key(char *out, size_t cap, mdm_err_t *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "identifier too long");
	return 0;
}

static int s_id_ok(const char *id, size_t max, const char *what, mdm_err_t *err)
{
	if (id == NULL || id[0] == '\0' || strlen(id) > max)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s must be 1 to %zu bytes", what, max);
	return 0;
}

/* 0 for a script's normal reply, -1 for none (err already set) or an error reply, which
 * becomes our code (NOTFOUND, CONFLICT, TOOLARGE... see s_script_error). */
static int s_script_rc(redisReply *r, mdm_err_t *err)
{
	if (r == NULL)
		return -1;
	return r->type == REDIS_REPLY_ERROR ? s_script_error(r, err) : 0;
}

static const char s_cmd_create_lua[] =
	"local st = redis.call('HGET', KEYS[1], 'state')\n"
	"if not st then return redis.error_reply('NOTFOUND no such device') end\n"
	"if st ~= 'enrolled' then return redis.error_reply('CONFLICT device is not enrolled') end\n"
	"if redis.call('EXISTS', KEYS[2]) == 1 then\n"
	"  return redis.error_reply('CONFLICT command id already exists') end\n"
	"redis.call('HSET', KEYS[2], 'id', ARGV[1], 'device_id', ARGV[2], 'type', ARGV[3],\n"
	"  'state', 'queued', 'request', ARGV[4], 'syncml', ARGV[5], 'created_at', ARGV[6],\n"
	"  'expires_at', ARGV[7])\n"
	"redis.call('RPUSH', KEYS[3], ARGV[1])\n"
	"redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])\n"
	"redis.call('HINCRBY', '" MDM_KEY_STATS_CMD "', 'queued', 1)\n"
	"return 1\n";

int mdm_store_cmd_create(mdm_store_t *self, const char *device_id, const char *id,
			 const char *type, const char *request_json, const char *syncml_json,
			 time_t now, long ttl_seconds, mdm_err_t *err)
{
	char k_dev[300], k_cmd[160], k_q[300], k_h[300], ts[32], exp[32];
	if (s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_id_ok(id, S_MAX_CMD_ID, "command id", err) != 0 ||
	    s_id_ok(type, 32, "command type", err) != 0)
		return -1;
	if (request_json == NULL || syncml_json == NULL || ttl_seconds <= 0)
		return mdm_err_set(err, MDM_E_INTERNAL, "incomplete command record");
	if (s_key(k_dev, sizeof k_dev, err, MDM_KEY_DEVICE, device_id) ||
	    s_key(k_cmd, sizeof k_cmd, err, MDM_KEY_CMD, id) ||
	    s_key(k_q, sizeof k_q, err, MDM_KEY_QUEUE, device_id) ||
	    s_key(k_h, sizeof k_h, err, MDM_KEY_DEVICE_CMDS, device_id))
		return -1;
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(exp, sizeof exp, "%ld", (long)now + ttl_seconds);
	redisReply *r = s_cmd(self, err, "EVAL", s_cmd_create_lua, "4", k_dev, k_cmd, k_q, k_h, id,
			      device_id, type, request_json, syncml_json, ts, exp, NULL);
	int rc = s_script_rc(r, err);
	if (r)
		freeReplyObject(r);
	return rc;
}

static json_t *s_parsed(json_t *hash, const char *name, json_t *fallback)
{
	const char *text = json_string_value(json_object_get(hash, name));
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (j == NULL)
		return fallback;
	json_decref(fallback);
	return j;
}

static json_t *s_epoch(json_t *hash, const char *name)
{
	const char *text = json_string_value(json_object_get(hash, name));
	return text && text[0] ? json_integer(atoll(text)) : json_null();
}

/* A command hash (as s_hash_to_json reads it) as the API object; caller owns. */
static json_t *s_cmd_view(json_t *h)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	static const char *const strs[] = {"id", "device_id", "type", "state"};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		json_t *v = json_object_get(h, strs[i]);
		json_object_set_new(o, strs[i], v ? json_copy(v) : json_null());
	}
	json_t *st = json_object_get(h, "status");
	json_object_set_new(o, "status", st ? json_copy(st) : json_null());
	json_object_set_new(o, "request", s_parsed(h, "request", json_null()));
	json_object_set_new(o, "syncml", s_parsed(h, "syncml", json_array()));
	json_object_set_new(o, "results", s_parsed(h, "results", json_array()));
	static const char *const times[] = {"created_at", "sent_at", "done_at", "expires_at"};
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
		json_object_set_new(o, times[i], s_epoch(h, times[i]));
	return o;
}

json_t *mdm_store_cmd_get(mdm_store_t *self, const char *id, mdm_err_t *err)
{
	char key[160];
	if (id == NULL || id[0] == '\0' || strlen(id) > S_MAX_CMD_ID) {
		mdm_err_set(err, MDM_E_NOT_FOUND, "no such command");
		return NULL;
	}
	if (s_key(key, sizeof key, err, MDM_KEY_CMD, id) != 0)
		return NULL;
	json_t *h = s_hgetall(self, key, "command", err);
	if (h == NULL)
		return NULL;
	json_t *o = s_cmd_view(h);
	json_decref(h);
	if (o == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	return o;
}

/* ids = ZREVRANGE history; every command's HGETALL in the same script, so a page is one
 * round trip and one consistent snapshot. */
static const char s_history_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOTFOUND no such device') end\n"
	"local ids = redis.call('ZREVRANGE', KEYS[2], ARGV[1], ARGV[2])\n"
	"local out = {}\n"
	"for i, id in ipairs(ids) do out[i] = redis.call('HGETALL', ARGV[3] .. id) end\n"
	"return out\n";

json_t *mdm_store_cmd_history(mdm_store_t *self, const char *device_id, long offset,
			      long limit, mdm_err_t *err)
{
	char k_dev[300], k_h[300], start[32], stop[32];
	if (offset < 0 || limit < 1 || limit > 1000) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "cursor must be >= 0 and limit 1..1000");
		return NULL;
	}
	if (device_id == NULL || device_id[0] == '\0' || strlen(device_id) > S_MAX_DEVICE_ID) {
		mdm_err_set(err, MDM_E_NOT_FOUND, "no such device");
		return NULL;
	}
	if (s_key(k_dev, sizeof k_dev, err, MDM_KEY_DEVICE, device_id) ||
	    s_key(k_h, sizeof k_h, err, MDM_KEY_DEVICE_CMDS, device_id))
		return NULL;
	snprintf(start, sizeof start, "%ld", offset);
	snprintf(stop, sizeof stop, "%ld", offset + limit); /* one extra: is there a next page? */
	redisReply *r = s_cmd(self, err, "EVAL", s_history_lua, "2", k_dev, k_h, start, stop,
			      MDM_KEY_CMD_PREFIX, NULL);
	if (r == NULL || s_script_rc(r, err) != 0 || r->type != REDIS_REPLY_ARRAY) {
		if (r && r->type != REDIS_REPLY_ERROR)
			mdm_err_set(err, MDM_E_INTERNAL, "storage error");
		if (r)
			freeReplyObject(r);
		return NULL;
	}
	json_t *list = json_array();
	size_t n = r->elements > (size_t)limit ? (size_t)limit : r->elements;
	for (size_t i = 0; list && i < n; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements == 0)
			continue; /* a history entry whose record is gone */
		json_t *h = s_hash_to_json(e);
		json_t *v = h ? s_cmd_view(h) : NULL;
		json_decref(h);
		if (v == NULL || json_array_append_new(list, v) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	json_t *out = list ? json_pack("{s:o,s:o}", "commands", list, "next",
				       r->elements > (size_t)limit ? json_integer(offset + limit)
								   : json_null())
			   : NULL;
	freeReplyObject(r);
	if (out == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	return out;
}

static const char s_queue_lua[] =
	"local now = tonumber(ARGV[1])\n"
	"local out = {}\n"
	"for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do\n"
	"  local k = ARGV[2] .. id\n"
	"  local c = redis.call('HMGET', k, 'state', 'expires_at', 'type', 'syncml')\n"
	"  local st, exp = c[1], tonumber(c[2] or '')\n"
	"  if st ~= 'queued' and st ~= 'sent' then\n"
	"    redis.call('LREM', KEYS[1], 0, id)\n"
	"  elseif exp and now >= exp then\n"
	"    redis.call('HSET', k, 'state', 'expired', 'done_at', ARGV[1])\n"
	"    redis.call('LREM', KEYS[1], 0, id)\n"
	"  else\n"
	"    out[#out + 1] = {id, c[3] or '', st, c[4] or '[]'}\n"
	"  end\n"
	"end\n"
	"return out\n";

json_t *mdm_store_queue(mdm_store_t *self, const char *device_id, time_t now, mdm_err_t *err)
{
	char k_q[300], ts[32];
	if (s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_key(k_q, sizeof k_q, err, MDM_KEY_QUEUE, device_id) != 0)
		return NULL;
	snprintf(ts, sizeof ts, "%ld", (long)now);
	redisReply *r = s_cmd(self, err, "EVAL", s_queue_lua, "1", k_q, ts, MDM_KEY_CMD_PREFIX, NULL);
	if (r == NULL || s_script_rc(r, err) != 0 || r->type != REDIS_REPLY_ARRAY) {
		if (r && r->type != REDIS_REPLY_ERROR)
			mdm_err_set(err, MDM_E_INTERNAL, "storage error");
		if (r)
			freeReplyObject(r);
		return NULL;
	}
	json_t *out = json_array();
	for (size_t i = 0; out && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 4)
			continue;
		json_t *syncml = json_loadb(e->element[3]->str, e->element[3]->len, 0, NULL);
		json_t *c = json_pack("{s:s,s:s,s:s,s:o}", "id", e->element[0]->str, "type",
				      e->element[1]->str, "state", e->element[2]->str, "syncml",
				      syncml ? syncml : json_array());
		if (c == NULL || json_array_append_new(out, c) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	freeReplyObject(r);
	if (out == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	return out;
}

static const char s_cmd_sent_lua[] =
	"local st = redis.call('HGET', KEYS[1], 'state')\n"
	"if not st then return redis.error_reply('NOTFOUND no such command') end\n"
	"if st == 'queued' then\n"
	"  redis.call('HSET', KEYS[1], 'state', 'sent', 'sent_at', ARGV[1])\n"
	"  return 1\n"
	"end\n"
	"if st == 'sent' then return 0 end\n"
	"return redis.error_reply('CONFLICT command is ' .. st)\n";

int mdm_store_cmd_sent(mdm_store_t *self, const char *id, time_t now, mdm_err_t *err)
{
	char key[160], ts[32];
	if (s_id_ok(id, S_MAX_CMD_ID, "command id", err) != 0 ||
	    s_key(key, sizeof key, err, MDM_KEY_CMD, id) != 0)
		return -1;
	snprintf(ts, sizeof ts, "%ld", (long)now);
	redisReply *r = s_cmd(self, err, "EVAL", s_cmd_sent_lua, "1", key, ts, NULL);
	int rc = s_script_rc(r, err);
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Lua: appends the JSON array text `new` to `old` (both written compact by us, so "[...]"),
 * as text: cjson would turn [] into {}. Returns the combined text and whether `new` had
 * to be dropped because the total would exceed max bytes. */
#define S_APPEND_LUA                                                                         \
	"local function append(old, new, max)\n"                                             \
	"  if new == '' or new == '[]' then return old, false end\n"                         \
	"  if not old or old == '' or old == '[]' then\n"                                    \
	"    if #new > max then return old, true end\n"                                      \
	"    return new, false\n"                                                            \
	"  end\n"                                                                            \
	"  if #old + #new > max then return old, true end\n"                                 \
	"  return string.sub(old, 1, -2) .. ',' .. string.sub(new, 2), false\n"              \
	"end\n"

/* KEYS: command. ARGV: state, status ('' keep), results ('' none), now, queue prefix,
 * id, max results bytes. */
static const char s_cmd_finish_lua[] =
	S_APPEND_LUA
	"local c = redis.call('HMGET', KEYS[1], 'state', 'device_id', 'results')\n"
	"if not c[1] then return redis.error_reply('NOTFOUND no such command') end\n"
	"if c[1] ~= 'queued' and c[1] ~= 'sent' then return 0 end\n"
	"local res, dropped = append(c[3], ARGV[3], tonumber(ARGV[7]))\n"
	"local f = {'state', ARGV[1], 'done_at', ARGV[4]}\n"
	"if ARGV[2] ~= '' then f[#f + 1] = 'status'; f[#f + 1] = ARGV[2] end\n"
	"if res then f[#f + 1] = 'results'; f[#f + 1] = res end\n"
	"redis.call('HSET', KEYS[1], unpack(f))\n"
	"redis.call('HINCRBY', '" MDM_KEY_STATS_CMD "', ARGV[1], 1)\n"
	"if c[2] then redis.call('LREM', ARGV[5] .. c[2], 0, ARGV[6]) end\n"
	"if dropped then return 2 end\n"
	"return 1\n";

static const char s_cmd_results_lua[] =
	S_APPEND_LUA
	"local c = redis.call('HMGET', KEYS[1], 'state', 'results')\n"
	"if not c[1] then return redis.error_reply('NOTFOUND no such command') end\n"
	"local res, dropped = append(c[2], ARGV[1], tonumber(ARGV[2]))\n"
	"if dropped then return redis.error_reply('TOOLARGE results exceed ' .. ARGV[2] .. ' bytes') end\n"
	"if res then redis.call('HSET', KEYS[1], 'results', res) end\n"
	"return 1\n";

/* Compact JSON text of a results array ("" for NULL). NULL with err when not an array. */
static char *s_results_text(json_t *results, mdm_err_t *err)
{
	if (results == NULL)
		return strdup("");
	if (!json_is_array(results)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "results must be a JSON array");
		return NULL;
	}
	char *t = json_dumps(results, JSON_COMPACT);
	if (t == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	return t;
}

int mdm_store_cmd_finish(mdm_store_t *self, const char *id, int ok, const char *status,
			 json_t *results, time_t now, mdm_err_t *err)
{
	char key[160], ts[32], max[32];
	if (s_id_ok(id, S_MAX_CMD_ID, "command id", err) != 0 ||
	    s_key(key, sizeof key, err, MDM_KEY_CMD, id) != 0)
		return -1;
	char *res = s_results_text(results, err);
	if (res == NULL)
		return -1;
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(max, sizeof max, "%d", S_MAX_RESULTS);
	redisReply *r = s_cmd(self, err, "EVAL", s_cmd_finish_lua, "1", key, ok ? "done" : "failed",
			      status ? status : "", res, ts, MDM_KEY_QUEUE_PREFIX, id, max, NULL);
	free(res);
	int rc = s_script_rc(r, err);
	if (rc == 0 && r->type == REDIS_REPLY_INTEGER && r->integer == 2)
		log_warn("command %s: results beyond %d bytes dropped", id, S_MAX_RESULTS);
	if (r)
		freeReplyObject(r);
	return rc;
}

int mdm_store_cmd_add_results(mdm_store_t *self, const char *id, json_t *results,
			      mdm_err_t *err)
{
	char key[160], max[32];
	if (s_id_ok(id, S_MAX_CMD_ID, "command id", err) != 0 ||
	    s_key(key, sizeof key, err, MDM_KEY_CMD, id) != 0)
		return -1;
	char *res = s_results_text(results, err);
	if (res == NULL)
		return -1;
	snprintf(max, sizeof max, "%d", S_MAX_RESULTS);
	redisReply *r = s_cmd(self, err, "EVAL", s_cmd_results_lua, "1", key, res, max, NULL);
	free(res);
	int rc = s_script_rc(r, err);
	if (r)
		freeReplyObject(r);
	return rc;
}

/* KEYS: device, queue. ARGV: now, reason, command prefix, certificate prefix. */
static const char s_unenroll_lua[] =
	MDM_STORE_IX_LUA
	"local now = ARGV[1]\n"
	"local st = redis.call('HGET', KEYS[1], 'state')\n"
	"if not st then return redis.error_reply('NOTFOUND no such device') end\n"
	"if st ~= 'unenrolled' then\n"
	"  local o = ix_get(KEYS[1])\n"
	"  redis.call('HSET', KEYS[1], 'state', 'unenrolled', 'unenrolled_at', now,\n"
	"    'unenroll_reason', ARGV[2])\n"
	"  ix_move(ix_id(KEYS[1]), o, ix_get(KEYS[1]))\n"
	"end\n"
	"local t = redis.call('HGET', KEYS[1], 'cert_thumbprint')\n"
	"if t then\n"
	"  local ck = ARGV[4] .. t\n"
	"  local cs = redis.call('HGET', ck, 'state')\n"
	"  if cs and cs ~= 'revoked' then redis.call('HSET', ck, 'state', 'revoked', 'revoked_at', now) end\n"
	"end\n"
	"local n = 0\n"
	"for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do\n"
	"  local k = ARGV[3] .. id\n"
	"  local s = redis.call('HGET', k, 'state')\n"
	"  if s == 'queued' or s == 'sent' then\n"
	"    redis.call('HSET', k, 'state', 'cancelled', 'done_at', now)\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"redis.call('DEL', KEYS[2])\n"
	"return n\n";

int mdm_store_device_unenroll(mdm_store_t *self, const char *device_id, const char *reason,
			      time_t now, mdm_err_t *err)
{
	char k_dev[300], k_q[300], ts[32];
	if (s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_key(k_dev, sizeof k_dev, err, MDM_KEY_DEVICE, device_id) ||
	    s_key(k_q, sizeof k_q, err, MDM_KEY_QUEUE, device_id))
		return -1;
	snprintf(ts, sizeof ts, "%ld", (long)now);
	redisReply *r = s_cmd(self, err, "EVAL", s_unenroll_lua, "2", k_dev, k_q, ts,
			      reason && reason[0] ? reason : "unknown", MDM_KEY_CMD_PREFIX,
			      MDM_KEY_CERT_PREFIX, NULL);
	int rc = s_script_rc(r, err);
	if (rc == 0)
		log_info("device %s unenrolled (%s), %lld queued command(s) cancelled", device_id,
			 reason && reason[0] ? reason : "unknown",
			 r->type == REDIS_REPLY_INTEGER ? r->integer : 0LL);
	if (r)
		freeReplyObject(r);
	return rc;
}

static const char s_device_update_lua[] =
	MDM_STORE_IX_LUA
	"if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOTFOUND no such device') end\n"
	"local o = ix_get(KEYS[1])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV))\n"
	"ix_move(ix_id(KEYS[1]), o, ix_get(KEYS[1]))\n"
	"return 1\n";

/* Appends the name/value pairs of `fields` to argv/lens (at most 64 strings, none of the
 * names only enrollment, renewal and unenrollment may write). 0 or -1 with err. */
static int s_device_fields(json_t *fields, const char **argv, size_t *lens, int *argc,
			   mdm_err_t *err)
{
	/* what only enrollment, renewal and unenrollment may write */
	static const char *const owned[] = {"device_id",   "hwdevid",         "state",
					    "enrolled_at", "first_enrolled_at", "renewed_at",
					    "unenrolled_at", "unenroll_reason", "replaced_by",
					    "auth"};
	if (!json_is_object(fields) || json_object_size(fields) > 64)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "fields must be an object of at most 64 strings");
	const char *name;
	json_t *value;
	json_object_foreach(fields, name, value)
	{
		size_t nl = strlen(name);
		if (nl == 0 || nl > 64)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "field names are 1 to 64 bytes");
		if (!json_is_string(value))
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "field %s must be a string", name);
		if (!strncmp(name, "cert_", 5))
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "field %s belongs to the enrollment record", name);
		for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
			if (!strcmp(name, owned[i]))
				return mdm_err_set(err, MDM_E_BAD_REQUEST,
						   "field %s belongs to the enrollment record", name);
		lens[*argc] = nl;
		argv[(*argc)++] = name;
		lens[*argc] = json_string_length(value);
		argv[(*argc)++] = json_string_value(value);
	}
	return 0;
}

int mdm_store_device_update(mdm_store_t *self, const char *device_id, json_t *fields,
			    mdm_err_t *err)
{
	char k_dev[300];
	if (s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_key(k_dev, sizeof k_dev, err, MDM_KEY_DEVICE, device_id) != 0)
		return -1;
	const char *argv[4 + 2 * 64]; /* EVAL script 1 key, then name/value pairs */
	size_t lens[4 + 2 * 64];
	int argc = 0;
	argv[argc++] = "EVAL";
	argv[argc++] = s_device_update_lua;
	argv[argc++] = "1";
	argv[argc++] = k_dev;
	if (s_device_fields(fields, argv, lens, &argc, err) != 0)
		return -1;
	if (argc == 4)
		return 0; /* nothing to write */
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	redisReply *r = s_cmdv(self, err, argc, argv, lens);
	int rc = s_script_rc(r, err);
	if (r)
		freeReplyObject(r);
	return rc;
}

static int s_session_key(char *key, size_t cap, const char *device_id, const char *session_id,
			 mdm_err_t *err)
{
	if (s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_id_ok(session_id, S_MAX_CMD_ID, "session id", err) != 0)
		return -1;
	return s_key(key, cap, err, MDM_KEY_SESSION, device_id, session_id);
}

json_t *mdm_store_session_get(mdm_store_t *self, const char *device_id, const char *session_id,
			      mdm_err_t *err)
{
	char key[420];
	if (s_session_key(key, sizeof key, device_id, session_id, err) != 0)
		return NULL;
	redisReply *r = s_cmd(self, err, "GET", key, NULL);
	if (r == NULL)
		return NULL;
	json_t *out = NULL;
	if (s_is_error(r, err))
		;
	else if (r->type != REDIS_REPLY_STRING)
		mdm_err_set(err, MDM_E_NOT_FOUND, "no such session");
	else if ((out = json_loadb(r->str, r->len, JSON_DECODE_ANY, NULL)) == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "unreadable session state");
	freeReplyObject(r);
	return out;
}

int mdm_store_session_put(mdm_store_t *self, const char *device_id, const char *session_id,
			  json_t *state, long ttl_seconds, mdm_err_t *err)
{
	char key[420], ttl[32];
	if (s_session_key(key, sizeof key, device_id, session_id, err) != 0)
		return -1;
	if (state == NULL || ttl_seconds <= 0)
		return mdm_err_set(err, MDM_E_INTERNAL, "session state needs a value and a TTL");
	char *text = json_dumps(state, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	snprintf(ttl, sizeof ttl, "%ld", ttl_seconds);
	redisReply *r = s_cmd(self, err, "SET", key, text, "EX", ttl, NULL);
	free(text);
	if (r == NULL)
		return -1;
	int rc = s_is_error(r, err) ? -1 : 0;
	freeReplyObject(r);
	return rc;
}

int mdm_store_session_delete(mdm_store_t *self, const char *device_id, const char *session_id,
			     mdm_err_t *err)
{
	char key[420];
	if (s_session_key(key, sizeof key, device_id, session_id, err) != 0)
		return -1;
	redisReply *r = s_cmd(self, err, "DEL", key, NULL);
	if (r == NULL)
		return -1;
	int rc = s_is_error(r, err) ? -1 : 0;
	freeReplyObject(r);
	return rc;
}

/* ---- a management message in two round trips ---------------------------------------- */

/* KEYS: cert. ARGV: device prefix, session prefix, session id, queue prefix.
 * {cert hash} or {cert hash, device hash, session state or nil, queue length}. */
static const char s_mgmt_load_lua[] =
	"local c = redis.call('HGETALL', KEYS[1])\n"
	"local id\n"
	"for i = 1, #c, 2 do if c[i] == 'device_id' then id = c[i + 1] break end end\n"
	"if not id then return {c} end\n"
	"return {c, redis.call('HGETALL', ARGV[1] .. id),\n"
	"  redis.call('GET', ARGV[2] .. id .. ':' .. ARGV[3]), redis.call('LLEN', ARGV[4] .. id)}\n";

int mdm_store_mgmt_load(mdm_store_t *self, const char *thumbprint, const char *session_id,
			mdm_mgmt_load_t *out, mdm_err_t *err)
{
	memset(out, 0, sizeof *out);
	char k_cert[128];
	if (s_id_ok(thumbprint, 64, "thumbprint", err) != 0 ||
	    s_id_ok(session_id, S_MAX_CMD_ID, "session id", err) != 0 ||
	    s_key(k_cert, sizeof k_cert, err, MDM_KEY_CERT, thumbprint) != 0)
		return -1;
	redisReply *r = s_cmd(self, err, "EVAL", s_mgmt_load_lua, "1", k_cert, MDM_KEY_DEVICE_PREFIX,
			      S_SESSION_PREFIX, session_id, MDM_KEY_QUEUE_PREFIX, NULL);
	if (r == NULL)
		return -1;
	int rc = -1;
	if (s_is_error(r, err))
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		mdm_err_set(err, MDM_E_INTERNAL, "storage error");
		goto out;
	}
	if (r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements)
		out->cert = s_hash_to_json(r->element[0]);
	if (r->elements == 4) {
		if (r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements)
			out->device = s_hash_to_json(r->element[1]);
		redisReply *st = r->element[2];
		if (st->type == REDIS_REPLY_STRING &&
		    (out->session = json_loadb(st->str, st->len, JSON_DECODE_ANY, NULL)) == NULL)
			log_warn("redis: unreadable session state ignored");
		out->queued = r->element[3]->type == REDIS_REPLY_INTEGER ? (long)r->element[3]->integer : 0;
	}
	rc = 0;
out:
	freeReplyObject(r);
	if (rc != 0)
		mdm_mgmt_load_free(out);
	return rc;
}

void mdm_mgmt_load_free(mdm_mgmt_load_t *l)
{
	json_decref(l->cert);
	json_decref(l->device);
	json_decref(l->session);
	memset(l, 0, sizeof *l);
}

/* KEYS: device, session. ARGV: now, count the session (1|0), session ttl (0: delete the
 * state), state, then device field name/value pairs. */
static const char s_mgmt_save_lua[] =
	MDM_STORE_IX_LUA MDM_STORE_STATS_LUA
	"if #ARGV > 4 and redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  local o = ix_get(KEYS[1])\n"
	"  redis.call('HSET', KEYS[1], unpack(ARGV, 5))\n"
	"  ix_move(ix_id(KEYS[1]), o, ix_get(KEYS[1]))\n"
	"end\n"
	"if ARGV[3] == '0' then redis.call('DEL', KEYS[2])\n"
	"else redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[3]) end\n"
	"if ARGV[2] == '1' then st_bump('sess', ARGV[1], false) end\n"
	"return 1\n";

int mdm_store_mgmt_save(mdm_store_t *self, const char *device_id, json_t *fields,
			const char *session_id, json_t *state, long ttl_seconds, int count_session,
			time_t now, mdm_err_t *err)
{
	char k_dev[300], k_sess[420], ts[32], ttl[32];
	if (s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_key(k_dev, sizeof k_dev, err, MDM_KEY_DEVICE, device_id) != 0 ||
	    s_session_key(k_sess, sizeof k_sess, device_id, session_id, err) != 0)
		return -1;
	if (state && ttl_seconds <= 0)
		return mdm_err_set(err, MDM_E_INTERNAL, "session state needs a TTL");
	char *text = state ? json_dumps(state, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (state && text == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	snprintf(ts, sizeof ts, "%ld", (long)now);
	snprintf(ttl, sizeof ttl, "%ld", state ? ttl_seconds : 0L);
	const char *argv[9 + 2 * 64];
	size_t lens[9 + 2 * 64];
	int argc = 0;
	const char *fixed[] = {"EVAL", s_mgmt_save_lua, "2", k_dev, k_sess, ts,
			       count_session ? "1" : "0", ttl, text ? text : ""};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		lens[argc] = strlen(fixed[i]);
		argv[argc++] = fixed[i];
	}
	int rc = -1;
	if (fields && s_device_fields(fields, argv, lens, &argc, err) != 0)
		goto out;
	redisReply *r = s_cmdv(self, err, argc, argv, lens);
	rc = s_script_rc(r, err);
	if (r)
		freeReplyObject(r);
out:
	free(text);
	return rc;
}

static const char s_group_add_lua[] =
	"if redis.call('EXISTS', KEYS[2]) == 0 then return redis.error_reply('NOTFOUND no such device') end\n"
	"redis.call('SADD', KEYS[1], ARGV[1])\n"
	"redis.call('SADD', '" MDM_KEY_GROUPS "', ARGV[2])\n"
	"return 1\n";

int mdm_store_group_add(mdm_store_t *self, const char *group, const char *device_id,
			mdm_err_t *err)
{
	char k_group[300], k_dev[300];
	if (s_id_ok(group, S_MAX_DEVICE_ID, "group name", err) != 0 ||
	    s_id_ok(device_id, S_MAX_DEVICE_ID, "device id", err) != 0 ||
	    s_key(k_group, sizeof k_group, err, MDM_KEY_GROUP, group) ||
	    s_key(k_dev, sizeof k_dev, err, MDM_KEY_DEVICE, device_id))
		return -1;
	redisReply *r = s_cmd(self, err, "EVAL", s_group_add_lua, "2", k_group, k_dev, device_id,
			      group, NULL);
	int rc = s_script_rc(r, err);
	if (r)
		freeReplyObject(r);
	return rc;
}

static int s_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *mdm_store_group_members(mdm_store_t *self, const char *group, mdm_err_t *err)
{
	char key[300];
	if (s_id_ok(group, S_MAX_DEVICE_ID, "group name", err) != 0 ||
	    s_key(key, sizeof key, err, MDM_KEY_GROUP, group) != 0)
		return NULL;
	redisReply *r = s_cmd(self, err, "SMEMBERS", key, NULL);
	if (r == NULL)
		return NULL;
	if (s_is_error(r, err) || r->type != REDIS_REPLY_ARRAY) {
		if (r->type != REDIS_REPLY_ERROR)
			mdm_err_set(err, MDM_E_INTERNAL, "storage error");
		freeReplyObject(r);
		return NULL;
	}
	const char **ids = calloc(r->elements + 1, sizeof *ids);
	json_t *out = ids ? json_array() : NULL;
	size_t n = 0;
	for (size_t i = 0; out && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			ids[n++] = r->element[i]->str;
	if (out) {
		qsort(ids, n, sizeof *ids, s_strcmp_p);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, json_string(ids[i]));
	}
	free(ids);
	freeReplyObject(r);
	if (out == NULL)
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	return out;
}

/* Internal API for the other files of libs/store (mdm_store_int.h): the same helpers,
 * so every file gets the reconnect-once and error mapping rules from one place. */
redisReply *mdm_store__cmdv(mdm_store_t *self, mdm_err_t *err, int argc, const char **argv,
			    const size_t *lens)
{
	return s_cmdv(self, err, argc, argv, lens);
}

int mdm_store__is_error(redisReply *r, mdm_err_t *err)
{
	return s_is_error(r, err);
}

int mdm_store__script_error(redisReply *r, mdm_err_t *err)
{
	return s_script_error(r, err);
}

void mdm_store__lower(char *dst, size_t cap, const char *src)
{
	s_lower(dst, cap, src);
}

json_t *mdm_store__hash_to_json(redisReply *r)
{
	return s_hash_to_json(r);
}
