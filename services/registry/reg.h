/* reg.h -- the registry service: admin API (users, pre-enrollments, devices) and the
 * federated login page (the WSO2-style "web agent"). */
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

/* Value of `name` in an application/x-www-form-urlencoded string (also a query string),
 * decoded; caller frees; NULL when absent or undecodable. */
char *reg_form_get(const char *form, size_t len, const char *name);

#endif
