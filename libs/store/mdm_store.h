/* mdm_store.h -- all Redis access (only libs/store includes hiredis). One store per thread;
 * every call reconnects once on a broken connection, then reports MDM_E_UNAVAILABLE. */
#ifndef MDM_STORE_H
#define MDM_STORE_H

#include <jansson.h>
#include <time.h>

#include "mdm_err.h"

typedef struct mdm_store_t mdm_store_t;

/* url: redis://[:password@]host[:port][/db] or unix:///path. Does not connect yet. */
mdm_store_t *mdm_store_new(const char *url, mdm_err_t *err);
void mdm_store_destroy(mdm_store_t **self);
/* PING; 0 if Redis answers. */
int mdm_store_ping(mdm_store_t *self, mdm_err_t *err);

/* Users. create: MDM_E_CONFLICT if the email exists. get_pwhash: 0 found, 1 unknown
 * user, -1 error. Emails are compared lower-cased. */
int mdm_store_user_create(mdm_store_t *self, const char *email, const char *pwhash, time_t now,
			  mdm_err_t *err);
int mdm_store_user_pwhash(mdm_store_t *self, const char *email, char *out, size_t cap,
			  mdm_err_t *err);

/* Pre-enrollments, keyed by the SHA-256 hex of the secret. get: 0 found (email copied),
 * 1 unknown/expired/used, -1 error. */
int mdm_store_preenroll_create(mdm_store_t *self, const char *secret_hash, const char *email,
			       const char *device_name, const char *group, time_t now,
			       long ttl_seconds, mdm_err_t *err);
int mdm_store_preenroll_get(mdm_store_t *self, const char *secret_hash, char *email,
			    size_t cap, char *device_name, size_t dn_cap, mdm_err_t *err);

/* Failed sign-in throttling per account. get: current count (0 if none), -1 on error.
 * incr: counts one failure; the window starts at the first failure. clear: after success. */
long mdm_store_auth_failures(mdm_store_t *self, const char *user, mdm_err_t *err);
long mdm_store_auth_failure_add(mdm_store_t *self, const char *user, long window_seconds,
				mdm_err_t *err);
void mdm_store_auth_failures_clear(mdm_store_t *self, const char *user);

/* 1 if a federated token id has been spent, 0 if not, -1 on error. */
int mdm_store_token_spent(mdm_store_t *self, const char *jti, mdm_err_t *err);

/* What spends the credential that allowed an enrollment, atomically with it. */
typedef enum { MDM_SPEND_NONE, MDM_SPEND_PREENROLL, MDM_SPEND_TOKEN } mdm_spend_t;

/* Writes an enrollment in one atomic step (a Lua script): the device hash (`device` is a
 * flat JSON object of strings, with at least device_id, hwdevid, cert_thumbprint,
 * cert_serial, cert_not_after), its certificate record, the device list and hardware index;
 * a re-enrollment of the same DeviceID replaces the record and revokes the old certificate;
 * the same HWDevID under another DeviceID marks that record replaced and revokes its
 * certificate. With MDM_SPEND_PREENROLL the secret (spend_key = its hash) must still exist
 * and belong to spend_arg (the email) and is deleted; with MDM_SPEND_TOKEN the jti
 * (spend_key) must not be spent and is marked spent for spend_ttl seconds. If anything fails
 * nothing is written: MDM_E_AUTHENTICATION for a spent credential, MDM_E_UNAVAILABLE when
 * Redis is down. */
int mdm_store_enroll(mdm_store_t *self, json_t *device, mdm_spend_t spend, const char *spend_key,
		     const char *spend_arg, long spend_ttl, time_t now, mdm_err_t *err);

/* Certificate renewal: the old certificate must be active and belong to device_id, whose
 * record must be enrolled; it becomes superseded and the new one active, atomically.
 * MDM_E_NOT_ELIGIBLE_RENEW otherwise. */
int mdm_store_renew(mdm_store_t *self, const char *device_id, const char *old_thumbprint,
		    const char *new_thumbprint, const char *new_serial, time_t new_not_after,
		    time_t now, mdm_err_t *err);

/* Records as JSON objects (caller owns). NULL with MDM_E_NOT_FOUND when absent. */
json_t *mdm_store_device_get(mdm_store_t *self, const char *device_id, mdm_err_t *err);
json_t *mdm_store_cert_get(mdm_store_t *self, const char *thumbprint, mdm_err_t *err);
/* Devices, newest enrollment first: {"devices":[...], "next": cursor or null}. */
json_t *mdm_store_device_list(mdm_store_t *self, long offset, long limit, mdm_err_t *err);

#endif
