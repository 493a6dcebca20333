/* reg.c -- registry start/stop and the bootstrap admin token. */
#include "reg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdm_b64.h"
#include "mdm_log.h"
#include "mdm_password.h"
#include "mdm_token.h"

static int s_read_token(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char *ok = fgets(out, (int)cap, f);
	fclose(f);
	if (ok == NULL)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return strlen(out) >= 16 ? 0 : -1;
}

int reg_admin_token_load(const char *path, char *out, size_t cap)
{
	if (s_read_token(path, out, cap) == 0)
		return 0;
	/* write a temp file, then link() it into place: link fails if another instance won
	 * the race, and a reader never sees a half-written token */
	char tmp[700], token[65];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	check(mdm_random_hex(token, 32) == 0, "admin token: no randomness");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0, "admin token: cannot create %s: %s", tmp, strerror(errno));
	int w = dprintf(fd, "%s\n", token);
	close(fd);
	check(w > 0, "admin token: cannot write %s", tmp);
	if (link(tmp, path) != 0 && errno != EEXIST) {
		unlink(tmp);
		check(0, "admin token: cannot create %s: %s", path, strerror(errno));
	}
	unlink(tmp);
	check(s_read_token(path, out, cap) == 0, "admin token: cannot read %s", path);
	return 0;
error:
	return -1;
}

int reg_start(reg_config_t *cfg, reg_t **out)
{
	mdm_err_t err = {0};
	reg_t *self = calloc(1, sizeof *self);
	check_mem(self);
	self->cfg = cfg;
	mkdir(cfg->data_dir, 0700);
	if (cfg->admin_token[0]) {
		check(strlen(cfg->admin_token) >= 16, "MDM_ADMIN_TOKEN must be at least 16 characters");
		snprintf(self->admin_token, sizeof self->admin_token, "%s", cfg->admin_token);
	} else {
		char path[600];
		snprintf(path, sizeof path, "%s/admin.token", cfg->data_dir);
		check(reg_admin_token_load(path, self->admin_token, sizeof self->admin_token) == 0,
		      "no admin token");
	}
	char keyfile[600];
	snprintf(keyfile, sizeof keyfile, "%s/token.key", cfg->data_dir);
	check(mdm_secret_load_or_create(keyfile, self->token_key, &err) == 0, "token key: %s",
	      err.text);
	self->allow_federated = strcasestr(cfg->auth_policies, "Federated") != NULL;
	self->store = mdm_store_new(cfg->redis_url, &err);
	check(self->store, "MDM_REDIS_URL: %s", err.text);
	self->users = mdm_userauth_new(self->store, (unsigned)cfg->password_iter);
	check_mem(self->users);
	self->dummy_hash = mdm_password_hash("not a password", (unsigned)cfg->password_iter);
	check_mem(self->dummy_hash);
	/* indexes of data written before they existed; retried at the first request if Redis
	 * is not there yet */
	if (mdm_store_index_ensure(self->store, &err) >= 0)
		self->indexed = 1;
	*out = self;
	return 0;
error:
	reg_stop(&self);
	return -1;
}

void reg_stop(reg_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	mdm_userauth_destroy(&(*self_p)->users);
	free((*self_p)->dummy_hash);
	json_decref((*self_p)->call.detail);
	mdm_store_destroy(&(*self_p)->store);
	free(*self_p);
	*self_p = NULL;
}
