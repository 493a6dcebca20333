/* reg_api.c -- the admin API (JSON over HTTPS, Bearer token): users, pre-enrollments,
 * devices, and the routes of reg_commands.c. Every route is in s_routes; bodies are strict
 * JSON (unknown fields refused). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_log.h"
#include "mdm_password.h"
#include "reg.h"

void reg_error(mdm_reply_t *rep, mdm_code_t code, const char *text)
{
	mdm_err_t err = {0};
	mdm_err_set(&err, code, "%s", text);
	mdm_reply_error(rep, &err);
}

/* Parses the body as one JSON object. NULL (reply already set to 400) otherwise. */
json_t *reg_body(const mdm_msg_t *req, mdm_reply_t *rep)
{
	json_error_t jerr;
	json_t *j = req->body_len ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr)
				  : NULL;
	if (j == NULL || !json_is_object(j)) {
		char text[240];
		snprintf(text, sizeof text, "body must be a JSON object%s%s", j ? "" : ": ",
			 j ? "" : (req->body_len ? jerr.text : "empty body"));
		reg_error(rep, MDM_E_BAD_REQUEST, text);
		json_decref(j);
		return NULL;
	}
	return j;
}

int reg_bad_fields(mdm_reply_t *rep, const json_error_t *jerr)
{
	char text[240];
	snprintf(text, sizeof text, "invalid request: %s", jerr->text);
	reg_error(rep, MDM_E_BAD_REQUEST, text);
	return 0;
}

static int s_valid_email(const char *e)
{
	size_t n = strlen(e);
	const char *at = strchr(e, '@');
	if (n < 3 || n > 320 || at == NULL || at == e || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (; *e; e++)
		if ((unsigned char)*e <= ' ' || strchr("<>\"'\\,;", *e))
			return 0;
	return 1;
}

static int s_users_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	json_t *j = reg_body(req, rep);
	if (j == NULL)
		return 0;
	const char *email, *pw;
	json_error_t jerr;
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:s}", "email", &email, "password", &pw)) {
		json_decref(j);
		return reg_bad_fields(rep, &jerr);
	}
	if (!s_valid_email(email))
		reg_error(rep, MDM_E_BAD_REQUEST, "email is not a valid address");
	else if (strlen(pw) < 8 || strlen(pw) > 1024)
		reg_error(rep, MDM_E_BAD_REQUEST, "password must be 8 to 1024 characters");
	else {
		char *hash = mdm_password_hash(pw, (unsigned)self->cfg->password_iter);
		mdm_err_t err = {0};
		if (hash == NULL)
			reg_error(rep, MDM_E_INTERNAL, "cannot hash the password");
		else if (mdm_store_user_create(self->store, email, hash, time(NULL), &err) != 0)
			mdm_reply_error(rep, &err);
		else {
			log_info("user %s created", email);
			mdm_reply_json(rep, 201, json_pack("{s:s}", "email", email));
		}
		free(hash);
	}
	json_decref(j);
	return 0;
}

static void s_iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int s_preenroll_create(reg_t *self, const mdm_msg_t *req, const char *arg,
			      mdm_reply_t *rep)
{
	json_t *j = reg_body(req, rep);
	if (j == NULL)
		return 0;
	const char *email, *name = NULL, *group = NULL;
	json_int_t ttl = self->cfg->preenroll_ttl;
	json_error_t jerr;
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s?s, s?s, s?I}", "email", &email,
			   "device_name", &name, "group", &group, "ttl_seconds", &ttl)) {
		json_decref(j);
		return reg_bad_fields(rep, &jerr);
	}
	if (!s_valid_email(email))
		reg_error(rep, MDM_E_BAD_REQUEST, "email is not a valid address");
	else if ((name && strlen(name) > 120) || (group && strlen(group) > 120))
		reg_error(rep, MDM_E_BAD_REQUEST, "device_name and group are at most 120 characters");
	else if (ttl < 60 || ttl > 90 * 86400)
		reg_error(rep, MDM_E_BAD_REQUEST, "ttl_seconds must be between 60 and 7776000");
	else {
		/* 128 random bits, shown once; only its hash is stored */
		char secret[33], hash[65], exp[32];
		mdm_err_t err = {0};
		time_t now = time(NULL);
		if (mdm_random_hex(secret, 16) != 0) {
			reg_error(rep, MDM_E_INTERNAL, "no randomness");
		} else {
			mdm_sha256_hex(secret, strlen(secret), hash);
			if (mdm_store_preenroll_create(self->store, hash, email, name, group, now,
						       (long)ttl, &err) != 0)
				mdm_reply_error(rep, &err);
			else {
				s_iso8601(now + (time_t)ttl, exp, sizeof exp);
				log_info("pre-enrollment for %s created (expires %s)", email, exp);
				mdm_reply_json(rep, 201,
					       json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "email", email,
							 "secret", secret, "expires_at", exp,
							 "device_name", name, "group", group));
			}
		}
	}
	json_decref(j);
	return 0;
}

/* Presents a stored device hash as the API's device object. */
static json_t *s_device_view(json_t *d)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(d, k, v)
	{
		if (!strcmp(k, "macs") || !strcmp(k, "imeis")) {
			json_t *arr = json_array();
			char *copy = strdup(json_string_value(v));
			for (char *save = NULL, *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
			     t = strtok_r(NULL, ",", &save))
				json_array_append_new(arr, json_string(t));
			free(copy);
			json_object_set_new(out, k, arr);
		} else if (!strncmp(k, "cert_", 5)) {
			continue;
		} else {
			json_object_set(out, k, v);
		}
	}
	const char *na = json_string_value(json_object_get(d, "cert_not_after"));
	char exp[32] = "";
	if (na)
		s_iso8601((time_t)atol(na), exp, sizeof exp);
	json_object_set_new(out, "certificate",
			    json_pack("{s:s?,s:s?,s:s?}", "serial",
				      json_string_value(json_object_get(d, "cert_serial")),
				      "thumbprint",
				      json_string_value(json_object_get(d, "cert_thumbprint")),
				      "not_after", na ? exp : NULL));
	return out;
}

int reg_paging(const mdm_msg_t *req, mdm_reply_t *rep, long *offset, long *limit)
{
	const char *q = mdm_req_header(req, "query");
	char *c = q ? reg_form_get(q, strlen(q), "cursor") : NULL;
	char *l = q ? reg_form_get(q, strlen(q), "limit") : NULL;
	*offset = c ? atol(c) : 0;
	*limit = l ? atol(l) : 100;
	free(c);
	free(l);
	if (*offset < 0 || *limit < 1 || *limit > 1000) {
		reg_error(rep, MDM_E_BAD_REQUEST, "cursor must be >= 0 and limit 1..1000");
		return -1;
	}
	return 0;
}

static int s_devices_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	long offset, limit;
	if (reg_paging(req, rep, &offset, &limit) != 0)
		return 0;
	mdm_err_t err = {0};
	json_t *page = mdm_store_device_list(self->store, offset, limit, &err);
	if (page == NULL) {
		mdm_reply_error(rep, &err);
		return 0;
	}
	json_t *list = json_object_get(page, "devices"), *views = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d) json_array_append_new(views, s_device_view(d));
	json_object_set_new(page, "devices", views);
	mdm_reply_json(rep, 200, page);
	return 0;
}

static int s_device_get(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *d = strlen(id) <= 128 ? mdm_store_device_get(self->store, id, &err) : NULL;
	if (d == NULL) {
		if (err.code == MDM_OK)
			mdm_err_set(&err, MDM_E_NOT_FOUND, "no such device");
		mdm_reply_error(rep, &err);
		return 0;
	}
	mdm_reply_json(rep, 200, s_device_view(d));
	json_decref(d);
	return 0;
}

static const struct {
	const char *method;
	const char *path; /* each '*' matches one non-empty path segment */
	reg_route_fn fn;
} s_routes[] = {
	{"POST", "/api/v1/users", s_users_create},
	{"POST", "/api/v1/pre-enrollments", s_preenroll_create},
	{"GET", "/api/v1/devices", s_devices_list},
	{"GET", "/api/v1/devices/*", s_device_get},
	{"DELETE", "/api/v1/devices/*", reg_device_delete},
	{"POST", "/api/v1/devices/*/commands", reg_cmd_device_create},
	{"GET", "/api/v1/devices/*/commands", reg_cmd_device_history},
	{"POST", "/api/v1/commands", reg_cmd_bulk_create},
	{"GET", "/api/v1/commands/*", reg_cmd_get},
	{"POST", "/api/v1/groups/*/devices", reg_group_add},
	{"GET", "/api/v1/groups/*/devices", reg_group_list},
};

/* Matches the first plen bytes of path against pat, where each '*' stands for one
 * non-empty segment shorter than cap; the first such segment is copied into arg ("" if
 * the pattern has none). A longer segment never matches, so an id is never truncated
 * into another one. */
static int s_match(const char *pat, const char *path, size_t plen, char *arg, size_t cap)
{
	const char *p = path, *end = path + plen;
	int have_arg = 0;
	arg[0] = '\0';
	for (; *pat; pat++) {
		if (*pat == '*') {
			const char *seg = p;
			while (p < end && *p != '/')
				p++;
			size_t n = (size_t)(p - seg);
			if (n == 0 || n >= cap)
				return 0;
			if (!have_arg) {
				memcpy(arg, seg, n);
				arg[n] = '\0';
				have_arg = 1;
			}
		} else if (p >= end || *p++ != *pat) {
			return 0;
		}
	}
	return p == end;
}

/* Bearer token check in constant time. */
static int s_authorized(reg_t *self, const mdm_msg_t *req)
{
	const char *h = mdm_req_header(req, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	return mdm_ct_equal(tok, strlen(tok), self->admin_token, strlen(self->admin_token));
}

int reg_api(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	reg_t *self = ctx;
	const char *method = mdm_req_header(req, "method");
	const char *path = mdm_req_header(req, "path");
	if (!method || !path) {
		reg_error(rep, MDM_E_BAD_REQUEST, "request without method or path");
		return 0;
	}
	if (!s_authorized(self, req)) {
		mdm_reply_header(rep, "WWW-Authenticate", "Bearer");
		reg_error(rep, MDM_E_AUTHENTICATION, "missing or wrong bearer token");
		return 0;
	}
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	int path_known = 0;
	for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
		char arg[256];
		if (!s_match(s_routes[i].path, path, plen, arg, sizeof arg))
			continue;
		path_known = 1;
		if (strcmp(method, s_routes[i].method) != 0)
			continue;
		return s_routes[i].fn(self, req, strchr(s_routes[i].path, '*') ? arg : NULL, rep);
	}
	if (path_known) {
		mdm_reply_json(rep, 405,
			       json_pack("{s:{s:s,s:s}}", "error", "code", "method_not_allowed",
					 "message", "method not allowed on this resource"));
		return 0;
	}
	reg_error(rep, MDM_E_NOT_FOUND, "no such resource");
	return 0;
}
