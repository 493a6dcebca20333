/* reg.h -- the registry service: the admin API of docs/api-contract.md (accounts, sessions
 * and tokens with roles, users, pre-enrollments, devices, commands, groups, audit, stats)
 * and the federated login page (the WSO2-style "web agent"). */
#ifndef REG_H
#define REG_H

#include "mdm_store.h"
#include "mdm_userauth.h"
#include "mdm_worker.h"

typedef struct {
	char data_dir[512];
	char redis_url[512];
	char admin_token[128];
	char auth_policies[128];
	long token_ttl;
	long preenroll_ttl;
	long password_iter;
	char provider_id[64]; /* DMClient provider id: targets of poll and unenroll commands */
	long command_ttl;     /* seconds a queued command waits for its device before expiring */
	long session_hours;   /* console session lifetime */
	long audit_maxlen;    /* audit events kept (about; 0: all) */
} reg_config_t;

/* Roles, weakest first: a route names the least one that may call it. */
typedef enum { REG_ROLE_NONE = 0, REG_ROLE_READ = 1, REG_ROLE_ADMIN = 2 } reg_role_t;

/* What the dispatcher knows about the request being served (a service instance serves one
 * at a time), and what a handler tells the audit log about it. */
typedef struct {
	const mdm_msg_t *req;
	char kind[16];        /* "bootstrap", "session", "api"; "" before authentication */
	char actor[336];      /* administrator's email, token name, "bootstrap" */
	reg_role_t role;
	char token_hash[65];  /* session and API tokens */
	char token_id[24];    /* API tokens */
	long expires_at;      /* sessions */
	char arg2[256];       /* the route's second '*' segment ("" if none) */
	char action[64];      /* audit: replaces the route's action ("login.failed") */
	char target[400];     /* audit: what the call changed (default: the first '*') */
	json_t *detail;       /* audit: facts about the change (owned; NULL: none) */
} reg_call_t;

typedef struct {
	reg_config_t *cfg;
	mdm_store_t *store;
	unsigned char token_key[32];
	char admin_token[128];
	mdm_userauth_t *users;
	int allow_federated;
	char *dummy_hash;     /* verified for unknown administrators: same cost either way */
	int indexed;          /* mdm_store_index_ensure done */
	reg_call_t call;      /* the request being served */
} reg_t;

int reg_start(reg_config_t *cfg, reg_t **out);
void reg_stop(reg_t **self);

/* Loads $MDM_DATA_DIR/admin.token, creating it (64 hex chars, mode 0600) if missing; safe
 * when several instances start at once. 0 or -1 (logged). */
int reg_admin_token_load(const char *path, char *out, size_t cap);

int reg_api(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);
int reg_webauth(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);

/* Admin API helpers shared by the reg_*.c files. A route handler answers one request;
 * `arg` is the path segment matched by the route's first '*' (NULL if none), the second
 * one is self->call.arg2. */
typedef int (*reg_route_fn)(reg_t *self, const mdm_msg_t *req, const char *arg,
			    mdm_reply_t *rep);
/* JSON error reply with code and text. */
void reg_error(mdm_reply_t *rep, mdm_code_t code, const char *text);
/* JSON error reply with an HTTP status and a contract code the core codes lack
 * ("forbidden", "too_many_requests"). */
void reg_error_as(mdm_reply_t *rep, int status, const char *code, const char *text);
/* 204, no body. */
void reg_no_content(mdm_reply_t *rep);
/* Records what a change touched for the audit log; detail is stolen (may be NULL). */
void reg_audit_note(reg_t *self, const char *target, json_t *detail);
/* 1 if e looks like an email address (one '@', no spaces or quotes, 3..320 bytes). */
int reg_valid_email(const char *e);
/* 1 for a group name of the contract: [A-Za-z0-9 _.-]{1,64}. */
int reg_group_name_ok(const char *name);
/* A query parameter, decoded (caller frees), NULL when absent. */
char *reg_query(const mdm_msg_t *req, const char *name);
/* An integer query parameter in [min, max] (def when absent). 0, or -1 with a 400 reply. */
int reg_query_long(const mdm_msg_t *req, mdm_reply_t *rep, const char *name, long def,
		   long min, long max, long *out);
/* The body as one JSON object (caller owns); NULL with a 400 reply already set otherwise. */
json_t *reg_body(const mdm_msg_t *req, mdm_reply_t *rep);
/* A 400 reply for a failed json_unpack_ex (JSON_STRICT names the unknown field). Returns 0. */
int reg_bad_fields(mdm_reply_t *rep, const json_error_t *jerr);
/* ?cursor=&limit= of a listing (defaults 0 and 100). 0, or -1 with a 400 reply set. */
int reg_paging(const mdm_msg_t *req, mdm_reply_t *rep, long *offset, long *limit);

/* Commands and groups (reg_commands.c). */
int reg_cmd_device_create(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
int reg_cmd_device_history(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
int reg_cmd_bulk_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_cmd_get(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
int reg_device_delete(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
int reg_group_add(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep);
int reg_group_list(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep);
int reg_group_list_all(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_group_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_group_rename(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep);
int reg_group_delete(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep);
int reg_group_remove(reg_t *self, const mdm_msg_t *req, const char *name, mdm_reply_t *rep);

/* Accounts, sessions and tokens (reg_admin.c). */
int reg_login(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_logout(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_me(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_admin_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_admin_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_admin_delete(reg_t *self, const mdm_msg_t *req, const char *email, mdm_reply_t *rep);
int reg_token_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_token_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_token_delete(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
/* Who holds the request's bearer token: fills self->call (kind, actor, role...). 0, or -1
 * with a 401 (unknown token) or 503 reply set. */
int reg_authenticate(reg_t *self, const mdm_msg_t *req, mdm_reply_t *rep);
const char *reg_role_name(reg_role_t role);

/* Users, pre-enrollments, devices (reg_devices.c). */
int reg_user_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_user_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_user_revoke(reg_t *self, const mdm_msg_t *req, const char *email, mdm_reply_t *rep);
int reg_preenroll_create(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_preenroll_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_preenroll_revoke(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
int reg_device_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_device_get(reg_t *self, const mdm_msg_t *req, const char *id, mdm_reply_t *rep);
/* A stored device hash as the API's device object (caller owns). */
json_t *reg_device_view(json_t *d);

/* Audit log and counters (reg_audit.c). write: one event for the request just served
 * (action, target and detail from self->call), logged if it cannot be stored. */
void reg_audit_write(reg_t *self, const char *action, int status);
int reg_audit_list(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);
int reg_stats(reg_t *self, const mdm_msg_t *req, const char *arg, mdm_reply_t *rep);

/* Value of `name` in an application/x-www-form-urlencoded string (also a query string),
 * decoded; caller frees; NULL when absent or undecodable. */
char *reg_form_get(const char *form, size_t len, const char *name);

#endif
