/* reg_admin.c -- who may use the admin API: the bootstrap token, console sessions
 * (POST /login) and API tokens, with roles; administrator accounts and API tokens. Only the
 * SHA-256 of a session or API token is stored; failed logins are throttled per account
 * and per remote address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_log.h"
#include "mdm_password.h"
#include "reg.h"

#define REG_LOGIN_WINDOW 900     /* seconds a failed login counts */
#define REG_LOGIN_MAX_ACCOUNT 5  /* failures per account within the window, then 429 */
#define REG_LOGIN_MAX_ADDRESS 20 /* failures per remote address within the window */

const char *reg_role_name(reg_role_t role)
{
	return role == REG_ROLE_ADMIN ? "admin" : role == REG_ROLE_READ ? "read-only" : "none";
}

static reg_role_t s_role(const char *name)
{
	if (name && !strcmp(name, "admin"))
		return REG_ROLE_ADMIN;
	if (name && !strcmp(name, "read-only"))
		return REG_ROLE_READ;
	return REG_ROLE_NONE;
}

static void s_unauthorized(mdm_reply_t *rep, const char *text)
{
	mdm_reply_header(rep, "WWW-Authenticate", "Bearer");
	reg_error(rep, MDM_E_AUTHENTICATION, text);
}

/* The bootstrap token is compared in constant time and needs no Redis (it works while
 * Redis is down, as before); any other token is looked up by its hash. */
int reg_authenticate(reg_t *self, const mdm_msg_t *req, mdm_reply_t *rep)
{
	reg_call_t *c = &self->call;
	const char *h = mdm_req_header(req, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		s_unauthorized(rep, "missing or wrong bearer token");
		return -1;
	}
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	size_t n = strlen(tok);
	if (mdm_ct_equal(tok, n, self->admin_token, strlen(self->admin_token))) {
		snprintf(c->kind, sizeof c->kind, "bootstrap");
		snprintf(c->actor, sizeof c->actor, "bootstrap");
		c->role = REG_ROLE_ADMIN;
		return 0;
	}
	if (n < 16 || n > 512) {
		s_unauthorized(rep, "missing or wrong bearer token");
		return -1;
	}
	mdm_sha256_hex(tok, n, c->token_hash);
	mdm_err_t err = {0};
	json_t *who = mdm_store_whois(self->store, c->token_hash, &err);
	if (who == NULL) {
		if (err.code == MDM_E_UNAVAILABLE || err.code == MDM_E_INTERNAL)
			mdm_reply_error(rep, &err);
		else
			s_unauthorized(rep, "missing, wrong or expired bearer token");
		return -1;
	}
	const char *kind = json_string_value(json_object_get(who, "kind"));
	c->role = s_role(json_string_value(json_object_get(who, "role")));
	snprintf(c->kind, sizeof c->kind, "%s", kind);
	if (!strcmp(kind, "session")) {
		snprintf(c->actor, sizeof c->actor, "%s",
			 json_string_value(json_object_get(who, "email")));
		c->expires_at = (long)json_integer_value(json_object_get(who, "expires_at"));
	} else {
		snprintf(c->actor, sizeof c->actor, "%s",
			 json_string_value(json_object_get(who, "name")));
		snprintf(c->token_id, sizeof c->token_id, "%s",
			 json_string_value(json_object_get(who, "id")));
	}
	json_decref(who);
	if (c->role == REG_ROLE_NONE) {
		s_unauthorized(rep, "token has no usable role");
		return -1;
	}
	return 0;
}

/* POST /login {email, password}: throttled before the password is even checked, so a
 * locked account gives nothing away; unknown accounts cost as much as known ones. */
int reg_login(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
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
	const char *addr = mdm_req_header(req, "remote_addr");
	if (addr == NULL || addr[0] == '\0')
		addr = "unknown";
	mdm_err_t err = {0};
	json_t *admin = NULL;
	if (strlen(email) == 0 || strlen(email) > 320 || strlen(pw) > 1024) {
		reg_error(rep, MDM_E_BAD_REQUEST, "email must be 1 to 320 and password at most 1024 bytes");
		goto done;
	}
	snprintf(self->call.actor, sizeof self->call.actor, "%s", email);
	for (char *p = self->call.actor; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	long acct, acct_ttl, by_addr, addr_ttl;
	if (mdm_store_login_failures(self->store, email, addr, &acct, &acct_ttl, &by_addr,
				     &addr_ttl, &err) != 0) {
		mdm_reply_error(rep, &err);
		goto done;
	}
	if (acct >= REG_LOGIN_MAX_ACCOUNT || by_addr >= REG_LOGIN_MAX_ADDRESS) {
		long wait = 0;
		if (acct >= REG_LOGIN_MAX_ACCOUNT)
			wait = acct_ttl;
		if (by_addr >= REG_LOGIN_MAX_ADDRESS && addr_ttl > wait)
			wait = addr_ttl;
		char ra[32];
		snprintf(ra, sizeof ra, "%ld", wait > 0 ? wait : 1);
		mdm_reply_header(rep, "Retry-After", ra);
		reg_error_as(rep, 429, "too_many_requests",
			     acct >= REG_LOGIN_MAX_ACCOUNT ? "too many failed logins for this account; retry later"
							   : "too many failed logins from this address; retry later");
		snprintf(self->call.action, sizeof self->call.action, "login.failed");
		reg_audit_note(self, self->call.actor,
			       json_pack("{s:s}", "reason", acct >= REG_LOGIN_MAX_ACCOUNT
								    ? "throttled (account)"
								    : "throttled (address)"));
		goto done;
	}
	admin = mdm_store_admin_get(self->store, email, &err);
	if (admin == NULL && err.code != MDM_E_NOT_FOUND) {
		mdm_reply_error(rep, &err);
		goto done;
	}
	const char *hash = admin ? json_string_value(json_object_get(admin, "pwhash")) : NULL;
	int ok = mdm_password_verify(pw, hash ? hash : self->dummy_hash) && hash != NULL;
	if (!ok) {
		mdm_err_t e2 = {0};
		if (mdm_store_login_failure_add(self->store, email, addr, REG_LOGIN_WINDOW, &e2) != 0) {
			mdm_reply_error(rep, &e2);
			goto done;
		}
		log_info("console login failed for %s from %s", self->call.actor, addr);
		reg_error(rep, MDM_E_AUTHENTICATION, "wrong email or password");
		snprintf(self->call.action, sizeof self->call.action, "login.failed");
		reg_audit_note(self, self->call.actor,
			       json_pack("{s:s}", "reason", admin ? "wrong password" : "unknown account"));
		goto done;
	}
	const char *role = json_string_value(json_object_get(admin, "role"));
	const char *lower = json_string_value(json_object_get(admin, "email"));
	char token[65], th[65];
	time_t now = time(NULL);
	long ttl = self->cfg->session_hours * 3600;
	if (mdm_random_hex(token, 32) != 0) {
		reg_error(rep, MDM_E_INTERNAL, "no randomness");
		goto done;
	}
	mdm_sha256_hex(token, strlen(token), th);
	if (mdm_store_asession_create(self->store, th, lower, role, now, ttl, &err) != 0) {
		mdm_reply_error(rep, &err);
		goto done;
	}
	if (acct > 0)
		mdm_store_login_failures_clear(self->store, email);
	log_info("console login for %s from %s", lower, addr);
	snprintf(self->call.action, sizeof self->call.action, "login");
	reg_audit_note(self, lower, json_pack("{s:s}", "role", role));
	self->call.role = s_role(role);
	mdm_reply_json(rep, 200, json_pack("{s:s,s:I,s:s,s:s}", "token", token, "expires_at",
					   (json_int_t)(now + ttl), "role", role, "email", lower));
done:
	json_decref(admin);
	json_decref(j);
	return 0;
}

int reg_logout(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	if (!strcmp(self->call.kind, "session")) {
		mdm_err_t err = {0};
		if (mdm_store_asession_delete(self->store, self->call.token_hash, &err) != 0) {
			mdm_reply_error(rep, &err);
			return 0;
		}
	}
	reg_audit_note(self, self->call.actor, json_pack("{s:s}", "kind", self->call.kind));
	reg_no_content(rep);
	return 0;
}

int reg_me(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	reg_call_t *c = &self->call;
	json_t *o = json_pack("{s:s,s:s}", "kind", c->kind, "role", reg_role_name(c->role));
	if (!strcmp(c->kind, "session")) {
		json_object_set_new(o, "email", json_string(c->actor));
		json_object_set_new(o, "expires_at", json_integer(c->expires_at));
	} else if (!strcmp(c->kind, "api")) {
		json_object_set_new(o, "name", json_string(c->actor));
		json_object_set_new(o, "id", json_string(c->token_id));
	}
	mdm_reply_json(rep, 200, o);
	return 0;
}

static int s_role_ok(const char *role)
{
	return s_role(role) != REG_ROLE_NONE;
}

int reg_admin_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	json_t *j = reg_body(req, rep);
	if (j == NULL)
		return 0;
	const char *email, *pw, *role;
	json_error_t jerr;
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:s, s:s}", "email", &email, "password",
			   &pw, "role", &role)) {
		json_decref(j);
		return reg_bad_fields(rep, &jerr);
	}
	char lower[321];
	if (!reg_valid_email(email))
		reg_error(rep, MDM_E_BAD_REQUEST, "email is not a valid address");
	else if (strlen(pw) < 8 || strlen(pw) > 1024)
		reg_error(rep, MDM_E_BAD_REQUEST, "password must be 8 to 1024 characters");
	else if (!s_role_ok(role))
		reg_error(rep, MDM_E_BAD_REQUEST, "role must be \"admin\" or \"read-only\"");
	else {
		char *hash = mdm_password_hash(pw, (unsigned)self->cfg->password_iter);
		mdm_err_t err = {0};
		time_t now = time(NULL);
		size_t i = 0;
		for (; email[i] && i + 1 < sizeof lower; i++)
			lower[i] = (char)((email[i] >= 'A' && email[i] <= 'Z') ? email[i] + 32 : email[i]);
		lower[i] = '\0';
		if (hash == NULL)
			reg_error(rep, MDM_E_INTERNAL, "cannot hash the password");
		else if (mdm_store_admin_create(self->store, lower, hash, role, now, &err) != 0)
			mdm_reply_error(rep, &err);
		else {
			log_info("administrator %s (%s) created by %s", lower, role, self->call.actor);
			reg_audit_note(self, lower, json_pack("{s:s}", "role", role));
			mdm_reply_json(rep, 201, json_pack("{s:s,s:s,s:I}", "email", lower, "role", role,
							   "created_at", (json_int_t)now));
		}
		free(hash);
	}
	json_decref(j);
	return 0;
}

int reg_admin_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *list = mdm_store_admin_list(self->store, &err);
	if (list == NULL)
		mdm_reply_error(rep, &err);
	else
		mdm_reply_json(rep, 200, json_pack("{s:o}", "admins", list));
	return 0;
}

int reg_admin_delete(reg_t *self, const mdm_msg_t *req, const char *email, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	if (mdm_store_admin_delete(self->store, email, &err) != 0) {
		if (err.code == MDM_E_BAD_REQUEST)
			reg_error(rep, MDM_E_NOT_FOUND, "no such administrator");
		else
			mdm_reply_error(rep, &err);
		return 0;
	}
	log_info("administrator %s deleted by %s", email, self->call.actor);
	reg_no_content(rep);
	return 0;
}

/* A token name: 1 to 64 printable characters. */
static int s_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int reg_token_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	json_t *j = reg_body(req, rep);
	if (j == NULL)
		return 0;
	const char *name, *role = "read-only";
	json_error_t jerr;
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s?s}", "name", &name, "role", &role)) {
		json_decref(j);
		return reg_bad_fields(rep, &jerr);
	}
	if (!s_name_ok(name))
		reg_error(rep, MDM_E_BAD_REQUEST, "name must be 1 to 64 printable characters");
	else if (!s_role_ok(role))
		reg_error(rep, MDM_E_BAD_REQUEST, "role must be \"admin\" or \"read-only\"");
	else {
		/* 256 random bits, shown once; "mdm_" marks it as ours in logs and secret scanners */
		char token[70] = "mdm_", th[65], id[17];
		mdm_err_t err = {0};
		time_t now = time(NULL);
		if (mdm_random_hex(token + 4, 32) != 0) {
			reg_error(rep, MDM_E_INTERNAL, "no randomness");
		} else {
			mdm_sha256_hex(token, strlen(token), th);
			snprintf(id, sizeof id, "%.16s", th);
			if (mdm_store_apitoken_create(self->store, th, name, role, self->call.actor, now,
						      &err) != 0)
				mdm_reply_error(rep, &err);
			else {
				log_info("API token %s (%s, %s) created by %s", id, name, role,
					 self->call.actor);
				reg_audit_note(self, id, json_pack("{s:s,s:s}", "name", name, "role", role));
				mdm_reply_json(rep, 201,
					       json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", id, "name", name,
							 "role", role, "token", token, "created_at",
							 (json_int_t)now));
			}
		}
	}
	json_decref(j);
	return 0;
}

int reg_token_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	json_t *list = mdm_store_apitoken_list(self->store, &err);
	if (list == NULL)
		mdm_reply_error(rep, &err);
	else
		mdm_reply_json(rep, 200, json_pack("{s:o}", "tokens", list));
	return 0;
}

int reg_token_delete(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep)
{
	mdm_err_t err = {0};
	if (mdm_store_apitoken_delete(self->store, id, &err) != 0) {
		mdm_reply_error(rep, &err);
		return 0;
	}
	log_info("API token %s deleted by %s", id, self->call.actor);
	reg_no_content(rep);
	return 0;
}
