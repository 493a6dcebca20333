/* ctl_admin.c -- mdmctl administration: users, pre-enrollments, groups, admins, sessions, tokens, audit, stats. */
#include "ctl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Sends a request, taking path and body (either may be NULL: out of memory when path is).
 * With --json a successful answer is printed as is. Returns the exit code; resp is filled
 * and must be freed by the caller. */
static int s_call(ctl_t *ctl, const char *method, char *path, json_t *body, int flags,
		  ctl_resp_t *resp)
{
	int rc;
	memset(resp, 0, sizeof *resp);
	if (path == NULL)
		rc = ctl_fail(CTL_EAPI, "out of memory");
	else
		rc = ctl_api(ctl, method, path, body, flags, resp);
	if (rc == CTL_OK && ctl->json)
		ctl_print_raw(resp);
	free(path);
	json_decref(body);
	return rc;
}

/* A call whose only output on success is one line for people (--json prints the answer):
 * the message is printf-formatted. Takes path and body like s_call. */
static int s_do(ctl_t *ctl, const char *method, char *path, json_t *body, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int s_do(ctl_t *ctl, const char *method, char *path, json_t *body, const char *fmt, ...)
{
	ctl_resp_t resp;
	int rc = s_call(ctl, method, path, body, 0, &resp);
	if (rc == CTL_OK && !ctl->json) {
		va_list ap;
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	ctl_resp_free(&resp);
	return rc;
}

static const char *s_get(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int s_role_ok(const char *role)
{
	return role && (!strcmp(role, "admin") || !strcmp(role, "read-only"));
}

/* A JSON body holding a password: the dump made by ctl_api is wiped there; this wipes the
 * copy jansson keeps in the object before it is freed. */
static void s_wipe_password(json_t *body)
{
	json_t *pw = json_object_get(body, "password");
	if (json_is_string(pw)) {
		size_t n = json_string_length(pw);
		explicit_bzero((char *)json_string_value(pw), n);
	}
}

/* ---- device users and pre-enrollments ----------------------------------------------- */

int ctl_pre_enroll(ctl_t *ctl, const ctl_args_t *a)
{
	const char *ttl = ctl_opt(a, "ttl");
	long long secs = 0;
	if (ttl && ctl_parse_count(ttl, INT_MAX, &secs) != 0)
		return ctl_usage("--ttl must be a number of seconds");
	json_t *body = json_pack("{s:s,s:s*,s:s*}", "email", a->pos[0], "device_name",
				 ctl_opt(a, "device-name"), "group", ctl_opt(a, "group"));
	if (body && ttl)
		json_object_set_new(body, "ttl_seconds", json_integer(secs));
	ctl_resp_t resp;
	int rc = s_call(ctl, "POST", ctl_path("/pre-enrollments"), body, 0, &resp);
	if (rc == CTL_OK && !ctl->json) {
		ctl_kv_json(stdout, "secret", json_object_get(resp.json, "secret"));
		ctl_kv_json(stdout, "email", json_object_get(resp.json, "email"));
		ctl_kv_json(stdout, "device name", json_object_get(resp.json, "device_name"));
		ctl_kv_json(stdout, "group", json_object_get(resp.json, "group"));
		ctl_kv_time(stdout, "expires at", json_object_get(resp.json, "expires_at"));
		if (json_object_get(resp.json, "id"))
			ctl_kv_json(stdout, "id", json_object_get(resp.json, "id"));
		fprintf(stderr, "(the secret is shown only this once: the device enrolls with the "
				"email and the secret as its password)\n");
	}
	ctl_resp_free(&resp);
	return rc;
}

static void s_preenroll_row(ctl_t *ctl, const json_t *p, ctl_table_t *t)
{
	char id[128], created[64], expires[64];
	const char *cells[] = {ctl_str(json_object_get(p, "id"), id, sizeof id),
			       s_get(p, "email"),
			       s_get(p, "device_name"),
			       s_get(p, "group"),
			       ctl_time(json_object_get(p, "created_at"), created, sizeof created),
			       ctl_time(json_object_get(p, "expires_at"), expires, sizeof expires)};
	ctl_table_add(t, cells);
}

int ctl_pre_enrollments_list(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const cols[] = {"ID:36",    "EMAIL:32",  "DEVICE NAME:24",
					   "GROUP:20", "CREATED:0", "EXPIRES:0"};
	ctl_table_t *t = ctl_table_new(6, cols);
	mdm_buf_t q = MDM_BUF_INIT;
	int rc = ctl_list(ctl, a, "/pre-enrollments", &q, "pre_enrollments", t, s_preenroll_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

int ctl_pre_enrollments_revoke(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "DELETE", ctl_path("/pre-enrollments/%s", a->pos[0]), NULL,
		    "revoked pre-enrollment %s: its secret no longer works\n", a->pos[0]);
}

int ctl_users_add(ctl_t *ctl, const ctl_args_t *a)
{
	int rc;
	char *pw = ctl_password_read(ctl_flag(a, "password-stdin"), 1, &rc);
	if (pw == NULL)
		return rc;
	json_t *body = json_pack("{s:s,s:s}", "email", a->pos[0], "password", pw);
	ctl_password_free(&pw);
	ctl_resp_t resp;
	json_incref(body);
	rc = s_call(ctl, "POST", ctl_path("/users"), body, 0, &resp);
	s_wipe_password(body);
	json_decref(body);
	if (rc == CTL_OK && !ctl->json)
		printf("created user %s\n", a->pos[0]);
	ctl_resp_free(&resp);
	return rc;
}

static void s_user_row(ctl_t *ctl, const json_t *u, ctl_table_t *t)
{
	char created[64];
	const char *cells[] = {s_get(u, "email"),
			       ctl_time(json_object_get(u, "created_at"), created, sizeof created)};
	ctl_table_add(t, cells);
}

int ctl_users_list(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const cols[] = {"EMAIL:64", "CREATED:0"};
	ctl_table_t *t = ctl_table_new(2, cols);
	mdm_buf_t q = MDM_BUF_INIT;
	int rc = ctl_list(ctl, a, "/users", &q, "users", t, s_user_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

int ctl_users_revoke(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "DELETE", ctl_path("/users/%s", a->pos[0]), NULL,
		    "revoked user %s: they can no longer enroll (enrolled devices stay)\n", a->pos[0]);
}

/* ---- groups ------------------------------------------------------------------------- */

int ctl_group_create(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "POST", ctl_path("/groups"), json_pack("{s:s}", "name", a->pos[0]),
		    "created group %s\n", a->pos[0]);
}

int ctl_group_rename(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "PATCH", ctl_path("/groups/%s", a->pos[0]),
		    json_pack("{s:s}", "name", a->pos[1]), "renamed group %s to %s\n", a->pos[0],
		    a->pos[1]);
}

int ctl_group_delete(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "DELETE", ctl_path("/groups/%s", a->pos[0]), NULL, "deleted group %s\n",
		    a->pos[0]);
}

int ctl_group_add(ctl_t *ctl, const ctl_args_t *a)
{
	json_t *ids = json_array();
	for (int i = 1; ids && i < a->npos; i++)
		json_array_append_new(ids, json_string(a->pos[i]));
	ctl_resp_t resp;
	int rc = s_call(ctl, "POST", ctl_path("/groups/%s/devices", a->pos[0]),
			ids ? json_pack("{s:o}", "devices", ids) : NULL, 0, &resp);
	if (rc == CTL_OK) {
		json_t *added = json_object_get(resp.json, "added");
		if (!ctl->json)
			printf("added %zu device%s to group %s\n", json_array_size(added),
			       json_array_size(added) == 1 ? "" : "s", a->pos[0]);
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(resp.json, "errors"), i, e)
		{
			char dev[256], msg[512];
			ctl_str(json_object_get(e, "device_id"), dev, sizeof dev);
			ctl_str(json_object_get(e, "error"), msg, sizeof msg);
			fprintf(stderr, "mdmctl: %s: %s\n", dev, msg);
			rc = CTL_EAPI;
		}
	}
	ctl_resp_free(&resp);
	return rc;
}

int ctl_group_remove(ctl_t *ctl, const ctl_args_t *a)
{
	int worst = CTL_OK;
	for (int i = 1; i < a->npos; i++) {
		int rc = s_do(ctl, "DELETE", ctl_path("/groups/%s/devices/%s", a->pos[0], a->pos[i]),
			      NULL, "removed %s from group %s\n", a->pos[i], a->pos[0]);
		if (worst == CTL_OK)
			worst = rc;
	}
	return worst;
}

static void s_group_row(ctl_t *ctl, const json_t *g, ctl_table_t *t)
{
	char n[32];
	const char *cells[] = {s_get(g, "name"), ctl_str(json_object_get(g, "devices"), n, sizeof n)};
	ctl_table_add(t, cells);
}

int ctl_group_list(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const cols[] = {"GROUP:64", "DEVICES:0"};
	ctl_table_t *t = ctl_table_new(2, cols);
	mdm_buf_t q = MDM_BUF_INIT;
	int rc = ctl_list(ctl, a, "/groups", &q, "groups", t, s_group_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

/* Members come as DeviceIDs today and may come as device objects: a one-column table for
 * the first, the device table for the second. */
int ctl_group_show(ctl_t *ctl, const ctl_args_t *a)
{
	ctl_resp_t resp;
	int rc = s_call(ctl, "GET", ctl_path("/groups/%s/devices", a->pos[0]), NULL, 0, &resp);
	if (rc != CTL_OK || ctl->json)
		goto done;
	json_t *devs = json_object_get(resp.json, "devices");
	if (!json_is_array(devs)) {
		rc = ctl_fail(CTL_EUNAVAIL, "the answer has no \"devices\" list");
		goto done;
	}
	if (json_array_size(devs) == 0) {
		fprintf(stderr, "(no devices)\n");
		goto done;
	}
	static const char *const cols[] = {"DEVICE ID:0"};
	int objects = json_is_object(json_array_get(devs, 0));
	ctl_table_t *t = objects ? ctl_device_table() : ctl_table_new(1, cols);
	size_t i;
	json_t *d;
	json_array_foreach(devs, i, d)
	{
		if (objects) {
			ctl_device_row(ctl, d, t);
		} else {
			char id[256];
			const char *cells[] = {ctl_str(d, id, sizeof id)};
			ctl_table_add(t, cells);
		}
	}
	ctl_table_print(t, stdout, ctl->wide);
	ctl_table_destroy(&t);
done:
	ctl_resp_free(&resp);
	return rc;
}

/* ---- administrators, sessions, API tokens ------------------------------------------- */

int ctl_admins_add(ctl_t *ctl, const ctl_args_t *a)
{
	const char *role = ctl_opt(a, "role");
	if (!s_role_ok(role))
		return ctl_usage("--role admin or --role read-only is required");
	int rc;
	char *pw = ctl_password_read(ctl_flag(a, "password-stdin"), 1, &rc);
	if (pw == NULL)
		return rc;
	json_t *body = json_pack("{s:s,s:s,s:s}", "email", a->pos[0], "password", pw, "role", role);
	ctl_password_free(&pw);
	ctl_resp_t resp;
	json_incref(body);
	rc = s_call(ctl, "POST", ctl_path("/admins"), body, 0, &resp);
	s_wipe_password(body);
	json_decref(body);
	if (rc == CTL_OK && !ctl->json)
		printf("created admin %s (role %s)\n", a->pos[0], role);
	ctl_resp_free(&resp);
	return rc;
}

static void s_admin_row(ctl_t *ctl, const json_t *u, ctl_table_t *t)
{
	char created[64];
	const char *cells[] = {s_get(u, "email"), s_get(u, "role"),
			       ctl_time(json_object_get(u, "created_at"), created, sizeof created)};
	ctl_table_add(t, cells);
}

int ctl_admins_list(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const cols[] = {"EMAIL:64", "ROLE:10", "CREATED:0"};
	ctl_table_t *t = ctl_table_new(3, cols);
	mdm_buf_t q = MDM_BUF_INIT;
	int rc = ctl_list(ctl, a, "/admins", &q, "admins", t, s_admin_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

int ctl_admins_delete(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "DELETE", ctl_path("/admins/%s", a->pos[0]), NULL, "deleted admin %s\n",
		    a->pos[0]);
}

/* login --save: the settings this login used, so later commands reach the same server
 * with the new token from any directory. */
static int s_save_login(ctl_t *ctl, const char *token)
{
	static const char *const keys[] = {"url", "token", "ca_file", "insecure"};
	char *ca = NULL;
	if (ctl->cfg.ca_file && (ca = realpath(ctl->cfg.ca_file, NULL)) == NULL)
		ca = strdup(ctl->cfg.ca_file);
	const char *values[] = {ctl->cfg.url, token, ca, ctl->cfg.insecure ? "1" : NULL};
	int rc = ctl_config_write(&ctl->cfg, keys, values, 4);
	free(ca);
	return rc;
}

int ctl_login(ctl_t *ctl, const ctl_args_t *a)
{
	int rc;
	char *pw = ctl_password_read(ctl_flag(a, "password-stdin"), 0, &rc);
	if (pw == NULL)
		return rc;
	json_t *body = json_pack("{s:s,s:s}", "email", a->pos[0], "password", pw);
	ctl_password_free(&pw);
	ctl_resp_t resp = {0};
	int save = ctl_flag(a, "save"), json = ctl->json;
	ctl->json = json && !save; /* with --save the token is never printed */
	json_incref(body);
	rc = s_call(ctl, "POST", ctl_path("/login"), body, CTL_ANON, &resp);
	ctl->json = json;
	s_wipe_password(body);
	json_decref(body);
	if (rc != CTL_OK)
		goto done;
	const char *token = s_get(resp.json, "token");
	char exp[64], role[64];
	ctl_time(json_object_get(resp.json, "expires_at"), exp, sizeof exp);
	ctl_str(json_object_get(resp.json, "role"), role, sizeof role);
	if (token == NULL) {
		rc = ctl_fail(CTL_EUNAVAIL, "the login answer has no token");
		goto done;
	}
	if (save) {
		if (s_save_login(ctl, token) != 0) {
			rc = CTL_EAPI;
			goto done;
		}
		fprintf(stderr, "logged in as %s (role %s) until %s; token saved to %s\n", a->pos[0],
			role, exp, ctl->cfg.path);
		const char *env = getenv("MDM_TOKEN");
		if (env && *env)
			fprintf(stderr, "mdmctl: note: MDM_TOKEN is set and takes precedence over the "
					"saved token\n");
	} else if (!json) {
		printf("%s\n", token);
		fprintf(stderr, "logged in as %s (role %s) until %s\n", a->pos[0], role, exp);
	}
done:
	if (resp.body.data)
		explicit_bzero(resp.body.data, resp.body.len);
	ctl_resp_free(&resp);
	return rc;
}

int ctl_logout(ctl_t *ctl, const ctl_args_t *a)
{
	ctl_resp_t resp;
	int rc = s_call(ctl, "POST", ctl_path("/logout"), NULL, 0, &resp);
	long status = resp.status;
	ctl_resp_free(&resp);
	int from_file = ctl->cfg.token && ctl->cfg.file_token &&
			!strcmp(ctl->cfg.token, ctl->cfg.file_token);
	/* a token the server no longer knows is removed too: it can only fail from now on */
	if ((rc == CTL_OK || status == 401) && from_file) {
		static const char *const keys[] = {"token"};
		const char *values[] = {NULL};
		if (ctl_config_write(&ctl->cfg, keys, values, 1) != 0)
			return CTL_EAPI;
		fprintf(stderr, "removed the token from %s\n", ctl->cfg.path);
	}
	if (rc == CTL_OK && !ctl->json)
		printf("logged out\n");
	if (rc == CTL_OK && !from_file && ctl->cfg.token_from)
		fprintf(stderr, "(the token came from %s: unset it there)\n", ctl->cfg.token_from);
	return rc;
}

int ctl_tokens_create(ctl_t *ctl, const ctl_args_t *a)
{
	const char *role = ctl_opt(a, "role");
	if (role && !s_role_ok(role))
		return ctl_usage("--role must be admin or read-only");
	ctl_resp_t resp;
	int rc = s_call(ctl, "POST", ctl_path("/tokens"),
			json_pack("{s:s,s:s*}", "name", a->pos[0], "role", role), 0, &resp);
	if (rc == CTL_OK && !ctl->json) {
		ctl_kv_json(stdout, "id", json_object_get(resp.json, "id"));
		ctl_kv_json(stdout, "name", json_object_get(resp.json, "name"));
		ctl_kv_json(stdout, "role", json_object_get(resp.json, "role"));
		ctl_kv_time(stdout, "created at", json_object_get(resp.json, "created_at"));
		ctl_kv_json(stdout, "token", json_object_get(resp.json, "token"));
		fprintf(stderr, "(the token is shown only this once)\n");
	}
	if (resp.body.data)
		explicit_bzero(resp.body.data, resp.body.len);
	ctl_resp_free(&resp);
	return rc;
}

static void s_token_row(ctl_t *ctl, const json_t *k, ctl_table_t *t)
{
	char id[128], created[64];
	const char *cells[] = {ctl_str(json_object_get(k, "id"), id, sizeof id), s_get(k, "name"),
			       s_get(k, "role"),
			       ctl_time(json_object_get(k, "created_at"), created, sizeof created)};
	ctl_table_add(t, cells);
}

int ctl_tokens_list(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const cols[] = {"ID:36", "NAME:40", "ROLE:10", "CREATED:0"};
	ctl_table_t *t = ctl_table_new(4, cols);
	mdm_buf_t q = MDM_BUF_INIT;
	int rc = ctl_list(ctl, a, "/tokens", &q, "tokens", t, s_token_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

int ctl_tokens_delete(ctl_t *ctl, const ctl_args_t *a)
{
	return s_do(ctl, "DELETE", ctl_path("/tokens/%s", a->pos[0]), NULL, "deleted token %s\n",
		    a->pos[0]);
}

/* ---- audit, counters, identity ------------------------------------------------------ */

static void s_event_row(ctl_t *ctl, const json_t *e, ctl_table_t *t)
{
	char at[64], detail[512];
	const char *cells[] = {ctl_time(json_object_get(e, "at"), at, sizeof at),
			       s_get(e, "actor"),
			       s_get(e, "role"),
			       s_get(e, "action"),
			       s_get(e, "target"),
			       s_get(e, "remote_addr"),
			       ctl_str(json_object_get(e, "detail"), detail, sizeof detail)};
	ctl_table_add(t, cells);
}

int ctl_audit(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const cols[] = {"TIME:0",      "ACTOR:28", "ROLE:9",  "ACTION:22",
					   "TARGET:36",   "FROM:39",  "DETAIL:40"};
	mdm_buf_t q = MDM_BUF_INIT;
	ctl_query(&q, "actor", ctl_opt(a, "actor"));
	ctl_query(&q, "action", ctl_opt(a, "action"));
	static const char *const times[] = {"since", "until"};
	for (int i = 0; i < 2; i++) {
		const char *v = ctl_opt(a, times[i]);
		long long t;
		char num[32];
		if (v == NULL)
			continue;
		if (ctl_parse_time(v, &t) != 0) {
			mdm_buf_free(&q);
			return ctl_usage("--%s: \"%s\" is not a time (epoch seconds, "
					 "2025-01-31[T12:00[:00]][Z] or 30m, 12h, 7d ago)",
					 times[i], v);
		}
		snprintf(num, sizeof num, "%lld", t);
		ctl_query(&q, times[i], num);
	}
	ctl_table_t *t = ctl_table_new(7, cols);
	int rc = ctl_list(ctl, a, "/audit", &q, "events", t, s_event_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

/* Sum of n over a series given as [{t, n}] or [n]. */
static long long s_sum(const json_t *series)
{
	long long sum = 0;
	size_t i;
	json_t *e;
	json_array_foreach(series, i, e)
	{
		const json_t *n = json_is_object(e) ? json_object_get(e, "n") : e;
		if (json_is_integer(n))
			sum += json_integer_value(n);
	}
	return sum;
}

static void s_counts(const char *title, const json_t *obj)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		char label[80];
		snprintf(label, sizeof label, "  %s %s", title, k);
		ctl_kv_json(stdout, label, v);
	}
}

int ctl_stats(ctl_t *ctl, const ctl_args_t *a)
{
	ctl_resp_t resp;
	int rc = s_call(ctl, "GET", ctl_path("/stats"), NULL, 0, &resp);
	if (rc != CTL_OK || ctl->json)
		goto done;
	const json_t *s = resp.json, *dev = json_object_get(s, "devices");
	const json_t *enr = json_object_get(s, "enrollments"), *ses = json_object_get(s, "sessions");
	const json_t *cmd = json_object_get(s, "commands");
	char buf[64];
	ctl_kv_json(stdout, "devices", json_object_get(dev, "total"));
	s_counts("state", json_object_get(dev, "by_state"));
	s_counts("platform", json_object_get(dev, "by_platform"));
	snprintf(buf, sizeof buf, "%lld", s_sum(json_object_get(enr, "per_hour")));
	ctl_kv(stdout, "enrollments, 48 h", buf);
	snprintf(buf, sizeof buf, "%lld", s_sum(json_object_get(enr, "per_day")));
	ctl_kv(stdout, "enrollments, 30 days", buf);
	snprintf(buf, sizeof buf, "%lld", s_sum(json_object_get(ses, "per_hour")));
	ctl_kv(stdout, "sessions, 48 h", buf);
	ctl_kv_json(stdout, "commands queued", json_object_get(cmd, "queued"));
	ctl_kv_json(stdout, "commands done", json_object_get(cmd, "done"));
	ctl_kv_json(stdout, "commands failed", json_object_get(cmd, "failed"));
done:
	ctl_resp_free(&resp);
	return rc;
}

int ctl_whoami(ctl_t *ctl, const ctl_args_t *a)
{
	ctl_resp_t resp;
	int rc = s_call(ctl, "GET", ctl_path("/me"), NULL, 0, &resp);
	if (rc == CTL_OK && !ctl->json) {
		ctl_kv(stdout, "server", ctl->cfg.url);
		ctl_kv_json(stdout, "kind", json_object_get(resp.json, "kind"));
		if (json_object_get(resp.json, "email"))
			ctl_kv_json(stdout, "email", json_object_get(resp.json, "email"));
		if (json_object_get(resp.json, "name"))
			ctl_kv_json(stdout, "name", json_object_get(resp.json, "name"));
		ctl_kv_json(stdout, "role", json_object_get(resp.json, "role"));
		ctl_kv(stdout, "token from",
		       ctl->cfg.token_from && !strcmp(ctl->cfg.token_from, "config")
			       ? ctl->cfg.path
			       : ctl->cfg.token_from);
	}
	ctl_resp_free(&resp);
	return rc;
}
