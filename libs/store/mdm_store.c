/* mdm_store.c -- hiredis wrapper with reconnect, and the project's Redis operations. */
#include "mdm_store.h"

#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdm_keys.h"
#include "mdm_log.h"

struct mdm_store_t {
	redisContext *rc;
	char host[256];
	int port;
	char unix_path[256];
	char password[256];
	int db;
};

/* Parses redis://[:password@]host[:port][/db] and unix:///path. */
static int s_parse_url(mdm_store_t *self, const char *url, mdm_err_t *err)
{
	self->port = 6379;
	snprintf(self->host, sizeof self->host, "127.0.0.1");
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
	free(*self_p);
	*self_p = NULL;
}

static int s_connect(mdm_store_t *self)
{
	struct timeval ct = {1, 0}, rt = {2, 0};
	redisReply *r = NULL;
	if (self->rc)
		redisFree(self->rc);
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
	}
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
	return -1;
}

/* Runs one command (argv form, so values never need quoting). A broken connection is
 * re-opened and the command retried once; then MDM_E_UNAVAILABLE. An error reply is
 * returned as is for the caller to interpret. */
static redisReply *s_cmdv(mdm_store_t *self, mdm_err_t *err, int argc, const char **argv,
			  const size_t *lens)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (self->rc == NULL && s_connect(self) != 0)
			continue;
		redisReply *r = redisCommandArgv(self->rc, argc, argv, lens);
		if (r)
			return r;
		log_warn("redis: %s", self->rc->errstr);
		redisFree(self->rc);
		self->rc = NULL;
	}
	mdm_err_set(err, MDM_E_UNAVAILABLE, "storage unavailable, retry later");
	return NULL;
}

#define S_MAX_ARGS 128
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
	r = s_cmd(self, err, "HSET", key, "pwhash", pwhash, "created_at", ts, NULL);
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
	/* one script, so the record never exists without its expiry and a failure leaves the
	 * connection in no transaction state */
	redisReply *r = s_cmd(self, err, "EVAL",
			      "redis.call('HSET', KEYS[1], 'email', ARGV[1], 'device_name', ARGV[2], "
			      "'group', ARGV[3], 'created_at', ARGV[4], 'expires_at', ARGV[5]) "
			      "redis.call('EXPIRE', KEYS[1], ARGV[6]) return 1",
			      "1", key, lower, device_name ? device_name : "", group ? group : "", ts, exp,
			      ttl, NULL);
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
static const char s_enroll_lua[] =
	"local kind, now = ARGV[1], ARGV[3]\n"
	"if kind == 'pre' then\n"
	"  local email = redis.call('HGET', KEYS[5], 'email')\n"
	"  if not email then return redis.error_reply('SPENT enrollment secret already used or expired') end\n"
	"  if email ~= ARGV[2] then return redis.error_reply('SPENT enrollment secret issued for another user') end\n"
	"  redis.call('DEL', KEYS[5])\n"
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
	"  if redis.call('EXISTS', pk) == 1 then redis.call('HSET', pk, 'state', 'replaced', 'replaced_by', id) end\n"
	"end\n"
	"local first = redis.call('HGET', KEYS[1], 'first_enrolled_at')\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
	"redis.call('HSET', KEYS[1], 'first_enrolled_at', first or now, 'enrolled_at', now, 'state', 'enrolled')\n"
	"redis.call('ZADD', KEYS[2], now, id)\n"
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
