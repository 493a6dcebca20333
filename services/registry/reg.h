/* reg.h -- the registry service: admin API (users, pre-enrollments, devices, commands,
 * groups) and the federated login page (the WSO2-style "web agent"). */
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
} reg_config_t;

typedef struct {
	reg_config_t *cfg;
	mdm_store_t *store;
	unsigned char token_key[32];
	char admin_token[128];
	mdm_userauth_t *users;
	int allow_federated;
} reg_t;

int reg_start(reg_config_t *cfg, reg_t **out);
void reg_stop(reg_t **self);

/* Loads $MDM_DATA_DIR/admin.token, creating it (64 hex chars, mode 0600) if missing; safe
 * when several instances start at once. 0 or -1 (logged). */
int reg_admin_token_load(const char *path, char *out, size_t cap);

int reg_api(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);
int reg_webauth(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx);

/* Admin API helpers shared by reg_api.c and reg_commands.c. A route handler answers one
 * request; `arg` is the path segment matched by the route's first '*' (NULL if none). */
typedef int (*reg_route_fn)(reg_t *self, const mdm_msg_t *req, const char *arg,
			    mdm_reply_t *rep);
/* JSON error reply with code and text. */
void reg_error(mdm_reply_t *rep, mdm_code_t code, const char *text);
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

/* Value of `name` in an application/x-www-form-urlencoded string (also a query string),
 * decoded; caller frees; NULL when absent or undecodable. */
char *reg_form_get(const char *form, size_t len, const char *name);

#endif
