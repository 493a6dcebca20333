/* mdm_userauth.c -- password check against the salted PBKDF2 hash stored in Redis. */
#include "mdm_userauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdm_log.h"
#include "mdm_password.h"

struct mdm_userauth_t {
	mdm_store_t *store;
	char *dummy_hash;
};

mdm_userauth_t *mdm_userauth_new(mdm_store_t *store, unsigned iterations)
{
	mdm_userauth_t *self = calloc(1, sizeof *self);
	if (self == NULL)
		return NULL;
	self->store = store;
	self->dummy_hash = mdm_password_hash("not a password", iterations);
	if (self->dummy_hash == NULL) {
		free(self);
		return NULL;
	}
	return self;
}

void mdm_userauth_destroy(mdm_userauth_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	free((*self_p)->dummy_hash);
	free(*self_p);
	*self_p = NULL;
}

int mdm_userauth_check(mdm_userauth_t *self, const char *user, const char *password,
		       char *upn, size_t upn_cap, mdm_err_t *err)
{
	if (user == NULL || password == NULL || *user == '\0' || strlen(user) >= upn_cap ||
	    strlen(user) > 320 || strlen(password) > 1024)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "user name or password is wrong");
	long fails = mdm_store_auth_failures(self->store, user, err);
	if (fails < 0)
		return -1;
	if (fails >= MDM_AUTH_MAX_FAILURES) {
		log_warn("sign-in for %s refused: %ld failures in the last %d s", user, fails,
			 MDM_AUTH_FAILURE_WINDOW);
		return mdm_err_set(err, MDM_E_AUTHENTICATION,
				   "too many failed sign-ins for this account; try again later");
	}
	char stored[256];
	int rc = mdm_store_user_pwhash(self->store, user, stored, sizeof stored, err);
	if (rc < 0)
		return -1;
	/* verify against a dummy for unknown users: the answer takes as long either way */
	int ok = mdm_password_verify(password, rc == 0 ? stored : self->dummy_hash);
	if (rc != 0 || !ok) {
		log_info("sign-in failed for %s", user);
		if (mdm_store_auth_failure_add(self->store, user, MDM_AUTH_FAILURE_WINDOW, err) < 0)
			return -1;
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "user name or password is wrong");
	}
	if (fails > 0)
		mdm_store_auth_failures_clear(self->store, user);
	size_t i = 0;
	for (; user[i] && i + 1 < upn_cap; i++)
		upn[i] = (char)((user[i] >= 'A' && user[i] <= 'Z') ? user[i] + 32 : user[i]);
	upn[i] = '\0';
	return 0;
}
