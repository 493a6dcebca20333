/* reg_api.c -- the admin API dispatcher (docs/api-contract.md): one route table with the
 * least role of each route and the audit action of each change; the dispatcher checks the
 * body size, the bearer token and the role before a handler runs, and writes the audit
 * event after it, so no route can forget either. Shared request helpers live here too. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mdm_log.h"
#include "reg.h"

#define REG_MAX_BODY 65536 /* bytes of JSON an API request may carry */

void reg_error(mdm_reply_t *rep, mdm_code_t code, const char *text)
{
	mdm_err_t err = {0};
	mdm_err_set(&err, code, "%s", text);
	mdm_reply_error(rep, &err);
}

void reg_error_as(mdm_reply_t *rep, int status, const char *code, const char *text)
{
	mdm_reply_json(rep, status,
		       json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", text));
}

void reg_no_content(mdm_reply_t *rep)
{
	mdm_reply_set(rep, 204, NULL, NULL, 0);
}

void reg_audit_note(reg_t *self, const char *target, json_t *detail)
{
	if (target)
		snprintf(self->call.target, sizeof self->call.target, "%s", target);
	if (detail) {
		json_decref(self->call.detail);
		self->call.detail = detail;
	}
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

int reg_valid_email(const char *e)
{
	size_t n = strlen(e);
	const char *at = strchr(e, '@');
	if (n < 3 || n > 320 || at == NULL || at == e || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (; *e; e++)
		if ((unsigned char)*e <= ' ' || strchr("<>\"'\\,;/", *e))
			return 0;
	return 1;
}

int reg_group_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n >= 1 && n <= 64 &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _.-") == n;
}

char *reg_query(const mdm_msg_t *req, const char *name)
{
	const char *q = mdm_req_header(req, "query");
	return q && q[0] ? reg_form_get(q, strlen(q), name) : NULL;
}

int reg_query_long(const mdm_msg_t *req, mdm_reply_t *rep, const char *name, long def,
		   long min, long max, long *out)
{
	char *v = reg_query(req, name);
	*out = def;
	if (v == NULL)
		return 0;
	char *end = NULL;
	long n = strtol(v, &end, 10);
	int ok = v[0] && end && *end == '\0' && n >= min && n <= max;
	free(v);
	if (!ok) {
		char text[160];
		snprintf(text, sizeof text, "%s must be an integer from %ld to %ld", name, min, max);
		reg_error(rep, MDM_E_BAD_REQUEST, text);
		return -1;
	}
	*out = n;
	return 0;
}

int reg_paging(const mdm_msg_t *req, mdm_reply_t *rep, long *offset, long *limit)
{
	char *c = reg_query(req, "cursor");
	char *l = reg_query(req, "limit");
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

/* The route table: every admin API route, the least role that may call it, and the audit
 * action of the routes that change something. `read-only` may only read (plus logout and
 * me); reading accounts and tokens is for administrators. */
typedef struct {
	const char *method;
	const char *path; /* each '*' matches one non-empty path segment */
	reg_role_t role;
	const char *action; /* audit action; NULL: not audited (reads) */
	reg_route_fn fn;
} reg_route_t;

static const reg_route_t s_routes[] = {
	{"POST", "/api/v1/login", REG_ROLE_NONE, "login", reg_login},
	{"POST", "/api/v1/logout", REG_ROLE_READ, "logout", reg_logout},
	{"GET", "/api/v1/me", REG_ROLE_READ, NULL, reg_me},
	{"POST", "/api/v1/admins", REG_ROLE_ADMIN, "admin.create", reg_admin_create},
	{"GET", "/api/v1/admins", REG_ROLE_ADMIN, NULL, reg_admin_list},
	{"DELETE", "/api/v1/admins/*", REG_ROLE_ADMIN, "admin.delete", reg_admin_delete},
	{"POST", "/api/v1/tokens", REG_ROLE_ADMIN, "token.create", reg_token_create},
	{"GET", "/api/v1/tokens", REG_ROLE_ADMIN, NULL, reg_token_list},
	{"DELETE", "/api/v1/tokens/*", REG_ROLE_ADMIN, "token.delete", reg_token_delete},
	{"POST", "/api/v1/users", REG_ROLE_ADMIN, "user.create", reg_user_create},
	{"GET", "/api/v1/users", REG_ROLE_READ, NULL, reg_user_list},
	{"DELETE", "/api/v1/users/*", REG_ROLE_ADMIN, "user.revoke", reg_user_revoke},
	{"POST", "/api/v1/pre-enrollments", REG_ROLE_ADMIN, "preenrollment.create",
	 reg_preenroll_create},
	{"GET", "/api/v1/pre-enrollments", REG_ROLE_READ, NULL, reg_preenroll_list},
	{"DELETE", "/api/v1/pre-enrollments/*", REG_ROLE_ADMIN, "preenrollment.revoke",
	 reg_preenroll_revoke},
	{"GET", "/api/v1/devices", REG_ROLE_READ, NULL, reg_device_list},
	{"GET", "/api/v1/devices/*", REG_ROLE_READ, NULL, reg_device_get},
	{"DELETE", "/api/v1/devices/*", REG_ROLE_ADMIN, "device.unenroll", reg_device_delete},
	{"POST", "/api/v1/devices/*/commands", REG_ROLE_ADMIN, "command.create",
	 reg_cmd_device_create},
	{"GET", "/api/v1/devices/*/commands", REG_ROLE_READ, NULL, reg_cmd_device_history},
	{"POST", "/api/v1/commands", REG_ROLE_ADMIN, "command.create", reg_cmd_bulk_create},
	{"GET", "/api/v1/commands/*", REG_ROLE_READ, NULL, reg_cmd_get},
	{"GET", "/api/v1/groups", REG_ROLE_READ, NULL, reg_group_list_all},
	{"POST", "/api/v1/groups", REG_ROLE_ADMIN, "group.create", reg_group_create},
	{"PATCH", "/api/v1/groups/*", REG_ROLE_ADMIN, "group.rename", reg_group_rename},
	{"DELETE", "/api/v1/groups/*", REG_ROLE_ADMIN, "group.delete", reg_group_delete},
	{"POST", "/api/v1/groups/*/devices", REG_ROLE_ADMIN, "group.add", reg_group_add},
	{"GET", "/api/v1/groups/*/devices", REG_ROLE_READ, NULL, reg_group_list},
	{"DELETE", "/api/v1/groups/*/devices/*", REG_ROLE_ADMIN, "group.remove", reg_group_remove},
	{"GET", "/api/v1/audit", REG_ROLE_READ, NULL, reg_audit_list},
	{"GET", "/api/v1/stats", REG_ROLE_READ, NULL, reg_stats},
};

/* Matches the first plen bytes of path against pat, where each '*' stands for one
 * non-empty segment shorter than cap; the first two such segments are copied into arg and
 * arg2 ("" if the pattern has fewer). A longer segment never matches, so an id is never
 * truncated into another one. */
static int s_match(const char *pat, const char *path, size_t plen, char *arg, char *arg2,
		   size_t cap)
{
	const char *p = path, *end = path + plen;
	int nargs = 0;
	arg[0] = arg2[0] = '\0';
	for (; *pat; pat++) {
		if (*pat == '*') {
			const char *seg = p;
			while (p < end && *p != '/')
				p++;
			size_t n = (size_t)(p - seg);
			if (n == 0 || n >= cap)
				return 0;
			if (nargs < 2) {
				char *dst = nargs ? arg2 : arg;
				memcpy(dst, seg, n);
				dst[n] = '\0';
			}
			nargs++;
		} else if (p >= end || *p++ != *pat) {
			return 0;
		}
	}
	return p == end;
}

static void s_call_reset(reg_t *self, const mdm_msg_t *req)
{
	json_decref(self->call.detail);
	memset(&self->call, 0, sizeof self->call);
	self->call.req = req;
}

int reg_api(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	reg_t *self = ctx;
	const char *method = mdm_req_header(req, "method");
	const char *path = mdm_req_header(req, "path");
	s_call_reset(self, req);
	if (!method || !path) {
		reg_error(rep, MDM_E_BAD_REQUEST, "request without method or path");
		return 0;
	}
	if (req->body_len > REG_MAX_BODY) {
		reg_error(rep, MDM_E_TOO_LARGE, "request body larger than 65536 bytes");
		return 0;
	}
	if (!self->indexed) {
		mdm_err_t e = {0};
		if (mdm_store_index_ensure(self->store, &e) >= 0)
			self->indexed = 1;
	}
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	char arg[256], arg2[256];
	const reg_route_t *route = NULL;
	int path_known = 0;
	for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0] && route == NULL; i++) {
		if (!s_match(s_routes[i].path, path, plen, arg, arg2, sizeof arg))
			continue;
		path_known = 1;
		if (strcmp(method, s_routes[i].method) == 0)
			route = &s_routes[i];
	}
	/* who is calling comes before whether the path exists: no probing without a token */
	if ((route == NULL || route->role != REG_ROLE_NONE) && reg_authenticate(self, req, rep) != 0)
		return 0;
	if (route == NULL) {
		if (path_known)
			reg_error_as(rep, 405, "method_not_allowed", "method not allowed on this resource");
		else
			reg_error(rep, MDM_E_NOT_FOUND, "no such resource");
		return 0;
	}
	if (self->call.role < route->role) {
		reg_error_as(rep, 403, "forbidden",
			     self->call.role == REG_ROLE_READ
				     ? "this token is read-only"
				     : "this route is for administrators");
		if (route->action) {
			char what[400];
			snprintf(what, sizeof what, "%s %.*s", method, (int)plen, path);
			reg_audit_note(self, what, json_pack("{s:s}", "denied", route->action));
			reg_audit_write(self, "access.denied", 403);
		}
		return 0;
	}
	snprintf(self->call.arg2, sizeof self->call.arg2, "%s", arg2);
	int rc = route->fn(self, req, strchr(route->path, '*') ? arg : NULL, rep);
	/* a change that happened, and every login attempt the handler judged (it names the
	 * action then): a refused request changed nothing and records nothing */
	if (route->action && (rep->status < 400 || self->call.action[0])) {
		if (self->call.target[0] == '\0' && strchr(route->path, '*'))
			snprintf(self->call.target, sizeof self->call.target, "%s", arg);
		reg_audit_write(self, self->call.action[0] ? self->call.action : route->action,
				rep->status);
	}
	return rc;
}
