/* reg_devices.c -- admin API for device users, pre-enrollments and devices: the device
 * list with filters and cursor paging over Redis indexes, and the device object of
 * docs/api-contract.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_log.h"
#include "mdm_password.h"
#include "reg.h"

#define REG_DETAIL_COMMANDS 50 /* commands shown with a device */

/* ---- device users ----------------------------------------------------------------------- */

int reg_user_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
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
	if (!reg_valid_email(email))
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
			reg_audit_note(self, email, NULL);
			mdm_reply_json(rep, 201, json_pack("{s:s}", "email", email));
		}
		free(hash);
	}
	json_decref(j);
	return 0;
}

int reg_user_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *list = mdm_store_user_list(self->store, &err);
	if (list == NULL)
		mdm_reply_error(rep, &err);
	else
		mdm_reply_json(rep, 200, json_pack("{s:o}", "users", list));
	return 0;
}

int reg_user_revoke(reg_t *self, const mdm_msg_t *req, const char *email, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	if (mdm_store_user_revoke(self->store, email, &err) != 0) {
		if (err.code == MDM_E_BAD_REQUEST)
			reg_error(rep, MDM_E_NOT_FOUND, "no such user");
		else
			mdm_reply_error(rep, &err);
		return 0;
	}
	log_info("user %s revoked by %s", email, self->call.actor);
	reg_no_content(rep);
	return 0;
}

/* ---- pre-enrollments -------------------------------------------------------------------- */

static void s_iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* POST /pre-enrollments: the answer keeps its first form (expires_at as ISO 8601 text),
 * and adds "id", the handle of GET/DELETE /pre-enrollments. */
int reg_preenroll_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
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
	if (!reg_valid_email(email))
		reg_error(rep, MDM_E_BAD_REQUEST, "email is not a valid address");
	else if (name && strlen(name) > 120)
		reg_error(rep, MDM_E_BAD_REQUEST, "device_name is at most 120 characters");
	else if (group && !reg_group_name_ok(group))
		reg_error(rep, MDM_E_BAD_REQUEST, "group must be 1 to 64 of A-Z a-z 0-9 space _ . -");
	else if (ttl < 60 || ttl > 90 * 86400)
		reg_error(rep, MDM_E_BAD_REQUEST, "ttl_seconds must be between 60 and 7776000");
	else {
		/* 128 random bits, shown once; only its hash is stored */
		char secret[33], hash[65], exp[32], id[17];
		mdm_err_t err = {0};
		time_t now = time(NULL);
		if (mdm_random_hex(secret, 16) != 0) {
			reg_error(rep, MDM_E_INTERNAL, "no randomness");
		} else {
			mdm_sha256_hex(secret, strlen(secret), hash);
			snprintf(id, sizeof id, "%.16s", hash);
			if (mdm_store_preenroll_create(self->store, hash, email, name, group, now,
						       (long)ttl, &err) != 0)
				mdm_reply_error(rep, &err);
			else {
				s_iso8601(now + (time_t)ttl, exp, sizeof exp);
				log_info("pre-enrollment %s for %s created (expires %s)", id, email, exp);
				reg_audit_note(self, id, json_pack("{s:s,s:s?,s:s?}", "email", email,
								   "device_name", name, "group", group));
				mdm_reply_json(rep, 201,
					       json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?}", "id", id, "email",
							 email, "secret", secret, "expires_at", exp,
							 "device_name", name, "group", group));
			}
		}
	}
	json_decref(j);
	return 0;
}

int reg_preenroll_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *list = mdm_store_preenroll_list(self->store, time(NULL), &err);
	if (list == NULL)
		mdm_reply_error(rep, &err);
	else
		mdm_reply_json(rep, 200, json_pack("{s:o}", "pre_enrollments", list));
	return 0;
}

int reg_preenroll_revoke(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	if (mdm_store_preenroll_revoke(self->store, id, &err) != 0) {
		mdm_reply_error(rep, &err);
		return 0;
	}
	log_info("pre-enrollment %s revoked by %s", id, self->call.actor);
	reg_no_content(rep);
	return 0;
}

/* ---- devices ---------------------------------------------------------------------------- */

static json_t *s_epoch(json_t *d, const char *name)
{
	const char *v = json_string_value(json_object_get(d, name));
	return v && v[0] ? json_integer(atoll(v)) : json_null();
}

static json_t *s_list(const char *csv)
{
	json_t *arr = json_array();
	char *copy = csv ? strdup(csv) : NULL;
	for (char *save = NULL, *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
	     t = strtok_r(NULL, ",", &save))
		json_array_append_new(arr, json_string(t));
	free(copy);
	return arr;
}

static int s_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The device object of the contract: its fields always present (null when unknown),
 * times as epoch seconds, inventory (inv_*) and DevInfo (devinfo_*) as objects without
 * their prefix; fields the contract does not name (login_status, imeis, unenroll_reason,
 * ...) follow as stored, times again as integers. */
json_t *reg_device_view(json_t *d)
{
	static const char *const strs[] = {"device_id", "hwdevid", "user", "device_name",
					   "platform", "state", "os_version", "os_edition",
					   "device_type", "enrollment_type", "auth"};
	json_t *out = json_object(), *inv = json_object(), *info = json_object();
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		json_t *v = json_object_get(d, strs[i]);
		json_object_set_new(out, strs[i], v ? json_copy(v) : json_null());
	}
	json_object_set_new(out, "enrolled_at", s_epoch(d, "enrolled_at"));
	json_object_set_new(out, "last_seen", s_epoch(d, "last_seen"));
	json_object_set_new(out, "macs",
			    s_list(json_string_value(json_object_get(d, "macs"))));
	json_object_set_new(out, "certificate",
			    json_pack("{s:s?,s:s?,s:o}", "serial",
				      json_string_value(json_object_get(d, "cert_serial")),
				      "thumbprint",
				      json_string_value(json_object_get(d, "cert_thumbprint")),
				      "not_after", s_epoch(d, "cert_not_after")));
	const char *k;
	json_t *v;
	json_object_foreach(d, k, v)
	{
		if (json_object_get(out, k) || !strncmp(k, "cert_", 5))
			continue;
		if (!strncmp(k, "inv_", 4))
			json_object_set(inv, k + 4, v);
		else if (!strncmp(k, "devinfo_", 8))
			json_object_set(info, k + 8, v);
		else if (!strcmp(k, "imeis"))
			json_object_set_new(out, k, s_list(json_string_value(v)));
		else if (s_ends_with(k, "_at"))
			json_object_set_new(out, k, s_epoch(d, k));
		else
			json_object_set(out, k, v);
	}
	json_object_set_new(out, "inventory", inv);
	json_object_set_new(out, "devinfo", info);
	return out;
}

/* A filter value from the query: NULL when absent or empty; -1 with a 400 reply when it
 * is longer than 256 bytes or holds control characters. */
static int s_filter(const mdm_msg_t *req, mdm_reply_t *rep, const char *name, char **out)
{
	*out = reg_query(req, name);
	if (*out == NULL)
		return 0;
	if ((*out)[0] == '\0') {
		free(*out);
		*out = NULL;
		return 0;
	}
	int ok = strlen(*out) <= 256;
	for (const unsigned char *p = (const unsigned char *)*out; ok && *p; p++)
		ok = *p >= 0x20 && *p != 0x7f;
	if (!ok) {
		char text[120];
		snprintf(text, sizeof text, "%s must be at most 256 printable bytes", name);
		reg_error(rep, MDM_E_BAD_REQUEST, text);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* GET /devices?platform=&state=&user=&os_version=&last_seen_before=&last_seen_after=&q=
 * &cursor=&limit= (mdm_store_device_find: indexes, never a scan of every device). */
int reg_device_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_device_filter_t f = {0};
	char *platform = NULL, *state = NULL, *user = NULL, *os = NULL, *q = NULL, *cursor = NULL;
	if (s_filter(req, rep, "platform", &platform) || s_filter(req, rep, "state", &state) ||
	    s_filter(req, rep, "user", &user) || s_filter(req, rep, "os_version", &os) ||
	    s_filter(req, rep, "q", &q) || s_filter(req, rep, "cursor", &cursor) ||
	    reg_query_long(req, rep, "limit", 50, 1, 500, &f.limit) ||
	    reg_query_long(req, rep, "last_seen_before", 0, 0, 99999999999L, &f.seen_before) ||
	    reg_query_long(req, rep, "last_seen_after", 0, 0, 99999999999L, &f.seen_after))
		goto done;
	f.platform = platform;
	f.state = state;
	f.user = user;
	f.os_version = os;
	f.q = q;
	f.cursor = cursor;
	mdm_err_t err = {0};
	json_t *page = mdm_store_device_find(self->store, &f, &err);
	if (page == NULL) {
		mdm_reply_error(rep, &err);
		goto done;
	}
	json_t *list = json_object_get(page, "devices"), *views = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d) json_array_append_new(views, reg_device_view(d));
	json_object_set_new(page, "devices", views);
	mdm_reply_json(rep, 200, page);
done:
	free(platform);
	free(state);
	free(user);
	free(os);
	free(q);
	free(cursor);
	return 0;
}

/* GET /devices/{id}: the device, its latest commands and its groups. */
int reg_device_get(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *d = strlen(id) <= 128 ? mdm_store_device_get(self->store, id, &err) : NULL;
	if (d == NULL) {
		if (err.code == MDM_OK)
			mdm_err_set(&err, MDM_E_NOT_FOUND, "no such device");
		mdm_reply_error(rep, &err);
		return 0;
	}
	json_t *view = reg_device_view(d);
	json_decref(d);
	json_t *hist = mdm_store_cmd_history(self->store, id, 0, REG_DETAIL_COMMANDS, &err);
	json_t *groups = hist ? mdm_store_device_groups(self->store, id, &err) : NULL;
	if (hist == NULL || groups == NULL) {
		json_decref(view);
		json_decref(hist);
		mdm_reply_error(rep, &err);
		return 0;
	}
	json_object_set(view, "commands", json_object_get(hist, "commands"));
	json_object_set_new(view, "groups", groups);
	json_decref(hist);
	mdm_reply_json(rep, 200, view);
	return 0;
}
