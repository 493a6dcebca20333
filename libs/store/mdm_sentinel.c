/* mdm_sentinel.c -- master discovery through Redis Sentinel, failover following, WAIT. */
#include "mdm_sentinel.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mdm_log.h"

typedef struct {
	char host[256];
	int port;
} s_addr_t;

struct mdm_sentinel_t {
	s_addr_t sentinels[MDM_SENTINEL_MAX];
	size_t count;
	char name[129];
	char password[256];
	int wait_replicas;
	int wait_ms;
	int cached;      /* master below is valid */
	s_addr_t master; /* the current master, as the sentinels said and ROLE confirmed */
	s_addr_t last;   /* the last master we used, to log changes only */
};

/* ---- URL ---------------------------------------------------------------------------- */

static int s_bad(mdm_err_t *err, const char *url, const char *what)
{
	return mdm_err_set(err, MDM_E_BAD_REQUEST, "bad Redis Sentinel URL (%s): %s", what, url);
}

/* host[:port] or [v6]:port, between p and end. */
static int s_parse_addr(s_addr_t *a, const char *p, const char *end)
{
	const char *h = p, *hend;
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(end - p));
		if (hend == NULL)
			return -1;
		h = p + 1;
		p = hend + 1;
	} else {
		hend = memchr(p, ':', (size_t)(end - p));
		if (hend == NULL)
			hend = end;
		p = hend;
	}
	if (hend == h || (size_t)(hend - h) >= sizeof a->host)
		return -1;
	snprintf(a->host, sizeof a->host, "%.*s", (int)(hend - h), h);
	a->port = MDM_SENTINEL_DEFAULT_PORT;
	if (p == end)
		return 0;
	if (*p != ':' || p + 1 == end)
		return -1;
	long port = 0;
	for (p++; p < end; p++) {
		if (*p < '0' || *p > '9' || (port = port * 10 + (*p - '0')) > 65535)
			return -1;
	}
	if (port == 0)
		return -1;
	a->port = (int)port;
	return 0;
}

static int s_parse_int(const char *v, size_t n, long lo, long hi, long *out)
{
	long x = 0;
	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

mdm_sentinel_t *mdm_sentinel_new(const char *url, char *password, size_t pw_cap, int *db,
				 mdm_err_t *err)
{
	static const char prefix[] = "redis-sentinel://";
	if (url == NULL || strncmp(url, prefix, sizeof prefix - 1) != 0) {
		s_bad(err, url ? url : "(null)", "must start with redis-sentinel://");
		return NULL;
	}
	mdm_sentinel_t *self = calloc(1, sizeof *self);
	if (self == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return NULL;
	}
	self->wait_replicas = 1;
	self->wait_ms = 1000;
	const char *p = url + sizeof prefix - 1;
	const char *at = strrchr(p, '@'); /* a password may contain '@' */
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *pw = colon ? colon + 1 : p;
		if ((size_t)(at - pw) >= sizeof self->password) {
			s_bad(err, url, "password too long");
			goto fail;
		}
		snprintf(self->password, sizeof self->password, "%.*s", (int)(at - pw), pw);
		p = at + 1;
	}
	/* sentinel addresses, up to the '/' before the master name */
	const char *slash = strchr(p, '/');
	if (slash == NULL || slash == p) {
		s_bad(err, url, slash ? "no sentinel address" : "no master name");
		goto fail;
	}
	while (p < slash) {
		const char *comma = memchr(p, ',', (size_t)(slash - p));
		const char *end = comma ? comma : slash;
		if (self->count == MDM_SENTINEL_MAX) {
			s_bad(err, url, "too many sentinels");
			goto fail;
		}
		if (s_parse_addr(&self->sentinels[self->count], p, end) != 0) {
			s_bad(err, url, "bad sentinel address");
			goto fail;
		}
		self->count++;
		p = comma ? comma + 1 : slash;
		if (comma && p == slash) {
			s_bad(err, url, "empty sentinel address");
			goto fail;
		}
	}
	/* master name */
	p = slash + 1;
	size_t n = strcspn(p, "/?");
	if (n == 0 || n >= sizeof self->name) {
		s_bad(err, url, "bad master name");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.')) {
			s_bad(err, url, "bad master name");
			goto fail;
		}
	}
	snprintf(self->name, sizeof self->name, "%.*s", (int)n, p);
	p += n;
	/* [/db] */
	long v;
	if (*p == '/') {
		p++;
		n = strcspn(p, "?");
		if (n > 0) {
			if (s_parse_int(p, n, 0, 1000, &v) != 0) {
				s_bad(err, url, "bad database number");
				goto fail;
			}
			if (db)
				*db = (int)v;
		}
		p += n;
	}
	/* [?wait_replicas=N&wait_ms=T] */
	if (*p == '?') {
		p++;
		while (*p) {
			size_t len = strcspn(p, "&");
			const char *eq = memchr(p, '=', len);
			if (eq == NULL) {
				s_bad(err, url, "bad option");
				goto fail;
			}
			size_t kl = (size_t)(eq - p), vl = len - kl - 1;
			if (kl == 13 && !strncmp(p, "wait_replicas", kl) &&
			    s_parse_int(eq + 1, vl, 0, 100, &v) == 0)
				self->wait_replicas = (int)v;
			else if (kl == 7 && !strncmp(p, "wait_ms", kl) &&
				 s_parse_int(eq + 1, vl, 1, 1500, &v) == 0)
				self->wait_ms = (int)v;
			else {
				s_bad(err, url, "unknown option or bad value (wait_replicas 0..100, wait_ms 1..1500)");
				goto fail;
			}
			p += len;
			if (*p == '&')
				p++;
		}
	} else if (*p != '\0') {
		s_bad(err, url, "unexpected text after the master name");
		goto fail;
	}
	if (password && pw_cap)
		snprintf(password, pw_cap, "%s", self->password);
	return self;
fail:
	free(self);
	return NULL;
}

void mdm_sentinel_destroy(mdm_sentinel_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	free(*self_p);
	*self_p = NULL;
}

size_t mdm_sentinel_count(const mdm_sentinel_t *self) { return self->count; }
const char *mdm_sentinel_host(const mdm_sentinel_t *self, size_t i) { return self->sentinels[i].host; }
int mdm_sentinel_port(const mdm_sentinel_t *self, size_t i) { return self->sentinels[i].port; }
const char *mdm_sentinel_master_name(const mdm_sentinel_t *self) { return self->name; }
int mdm_sentinel_wait_replicas(const mdm_sentinel_t *self) { return self->wait_replicas; }
int mdm_sentinel_wait_ms(const mdm_sentinel_t *self) { return self->wait_ms; }

/* ---- discovery ---------------------------------------------------------------------- */

/* Asks one sentinel; 0 and *out set if it knows the master. */
static int s_ask(mdm_sentinel_t *self, const s_addr_t *s, s_addr_t *out)
{
	struct timeval ct = {0, 300000}, rt = {0, 500000};
	redisContext *c = redisConnectWithTimeout(s->host, s->port, ct);
	redisReply *r = NULL;
	int rc = -1;
	if (c == NULL || c->err) {
		log_debug("redis sentinel %s:%d: %s", s->host, s->port, c ? c->errstr : "out of memory");
		goto done;
	}
	redisSetTimeout(c, rt);
	for (int attempt = 0; attempt < 2; attempt++) {
		r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", self->name);
		if (r == NULL)
			break;
		if (attempt == 0 && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOAUTH", 6) &&
		    self->password[0]) {
			freeReplyObject(r);
			r = redisCommand(c, "AUTH %s", self->password);
			if (r == NULL)
				break;
			freeReplyObject(r);
			r = NULL;
			continue;
		}
		break;
	}
	if (r == NULL) {
		log_debug("redis sentinel %s:%d: %s", s->host, s->port, c->errstr);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		   r->element[0]->type == REDIS_REPLY_STRING &&
		   r->element[1]->type == REDIS_REPLY_STRING && r->element[0]->len > 0 &&
		   r->element[0]->len < sizeof out->host) {
		long port = strtol(r->element[1]->str, NULL, 10);
		if (port > 0 && port <= 65535) {
			snprintf(out->host, sizeof out->host, "%s", r->element[0]->str);
			out->port = (int)port;
			rc = 0;
		}
	} else if (r->type == REDIS_REPLY_ERROR) {
		log_warn("redis sentinel %s:%d: %s", s->host, s->port, r->str);
	} else {
		log_debug("redis sentinel %s:%d does not know master %s", s->host, s->port, self->name);
	}
done:
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return rc;
}

int mdm_sentinel_master(mdm_sentinel_t *self, char *host, size_t cap, int *port)
{
	if (!self->cached) {
		size_t i;
		for (i = 0; i < self->count; i++)
			if (s_ask(self, &self->sentinels[i], &self->master) == 0)
				break;
		if (i == self->count) {
			log_warn("redis sentinel: no sentinel of %zu names a master for %s", self->count,
				 self->name);
			return -1;
		}
		if (i > 0) { /* the sentinel that answered is asked first from now on */
			s_addr_t s = self->sentinels[i];
			memmove(&self->sentinels[1], &self->sentinels[0], i * sizeof s);
			self->sentinels[0] = s;
		}
		self->cached = 1;
	}
	snprintf(host, cap, "%s", self->master.host);
	*port = self->master.port;
	return 0;
}

int mdm_sentinel_verify(mdm_sentinel_t *self, struct redisContext *c)
{
	redisReply *r = redisCommand(c, "ROLE");
	int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		 r->element[0]->type == REDIS_REPLY_STRING && !strcmp(r->element[0]->str, "master");
	if (!ok) {
		log_warn("redis sentinel: %s:%d is not the master of %s (%s), asking again",
			 self->master.host, self->master.port, self->name,
			 r == NULL ? c->errstr
			 : r->type == REDIS_REPLY_ERROR ? r->str
			 : r->type == REDIS_REPLY_ARRAY && r->elements && r->element[0]->type == REDIS_REPLY_STRING
				 ? r->element[0]->str
				 : "unexpected ROLE reply");
		mdm_sentinel_forget(self);
	} else if (strcmp(self->last.host, self->master.host) != 0 || self->last.port != self->master.port) {
		if (self->last.port)
			log_warn("redis sentinel: master %s moved from %s:%d to %s:%d", self->name,
				 self->last.host, self->last.port, self->master.host, self->master.port);
		else
			log_info("redis sentinel: master %s is %s:%d", self->name, self->master.host,
				 self->master.port);
		self->last = self->master;
	}
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

void mdm_sentinel_forget(mdm_sentinel_t *self) { self->cached = 0; }

int mdm_sentinel_is_readonly(const struct redisReply *r)
{
	/* direct: "READONLY You can't write against a read only replica."; from a script
	 * (Redis 7 keeps the code): the same text + " script: ..."; older Redis wrapped it
	 * as "ERR Error running script ... -READONLY ..." */
	return r && r->type == REDIS_REPLY_ERROR &&
	       (!strncmp(r->str, "READONLY", 8) || (!strncmp(r->str, "ERR", 3) && strstr(r->str, "-READONLY")));
}

/* ---- WAIT after writes -------------------------------------------------------------- */

/* Commands the store sends that never write; everything else is waited for. */
static const char *const s_reads[] = {
	"GET", "MGET", "HGET", "HMGET", "HGETALL", "HEXISTS", "HLEN", "HKEYS", "HVALS", "EXISTS",
	"TTL", "PTTL", "TYPE", "STRLEN", "SMEMBERS", "SISMEMBER", "SCARD", "ZRANGE", "ZREVRANGE",
	"ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZSCORE", "ZCARD", "ZRANK", "ZREVRANK", "LRANGE",
	"LLEN", "LINDEX", "SCAN", "HSCAN", "SSCAN", "ZSCAN", "PING", "ECHO", "INFO", "ROLE",
	"EVAL_RO", "EVALSHA_RO", "WAIT", "AUTH", "SELECT",
};

static int s_is_read(const char *cmd, size_t len)
{
	for (size_t i = 0; i < sizeof s_reads / sizeof s_reads[0]; i++)
		if (strlen(s_reads[i]) == len && !strncasecmp(cmd, s_reads[i], len))
			return 1;
	return 0;
}

int mdm_sentinel_wait(mdm_sentinel_t *self, struct redisContext *c, int argc, const char **argv,
		      const size_t *lens)
{
	if (self->wait_replicas <= 0 || argc < 1 || s_is_read(argv[0], lens ? lens[0] : strlen(argv[0])))
		return 0;
	redisReply *r = redisCommand(c, "WAIT %d %d", self->wait_replicas, self->wait_ms);
	if (r == NULL) {
		log_warn("redis: WAIT after %.*s: %s", (int)(lens ? lens[0] : strlen(argv[0])), argv[0],
			 c->errstr);
		return -1;
	}
	int rc = 0;
	if (r->type != REDIS_REPLY_INTEGER) {
		log_warn("redis: WAIT: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		rc = -1;
	} else if (r->integer < self->wait_replicas) {
		log_warn("redis: a write was confirmed by %lld of %d replicas within %d ms; "
			 "reporting it as failed",
			 r->integer, self->wait_replicas, self->wait_ms);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}
