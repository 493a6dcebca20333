/* mdm_userauth.h -- checking a user's password (OnPremise enrollment, federated login page)
 * with throttling of repeated failures, in one place for every service. */
#ifndef MDM_USERAUTH_H
#define MDM_USERAUTH_H

#include "mdm_err.h"
#include "mdm_store.h"

#define MDM_AUTH_MAX_FAILURES 10   /* failed sign-ins per account ... */
#define MDM_AUTH_FAILURE_WINDOW 900 /* ... within this many seconds, then refused */

typedef struct mdm_userauth_t mdm_userauth_t;

/* Prepares a dummy hash (same cost as real ones) so unknown users take as long as known
 * ones. NULL on allocation failure. */
mdm_userauth_t *mdm_userauth_new(mdm_store_t *store, unsigned iterations);
void mdm_userauth_destroy(mdm_userauth_t **self);

/* 0 if `password` is the user's, with the lower-cased user name copied to `upn`.
 * -1 with MDM_E_AUTHENTICATION ("user name or password is wrong", or "too many failed
 * sign-ins" once an account failed MDM_AUTH_MAX_FAILURES times in the window) or
 * MDM_E_UNAVAILABLE. Failures are counted per account; a success clears the count. */
int mdm_userauth_check(mdm_userauth_t *self, const char *user, const char *password,
		       char *upn, size_t upn_cap, mdm_err_t *err);

#endif
