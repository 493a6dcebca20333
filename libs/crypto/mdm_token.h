/* mdm_token.h -- the server secret, and short-lived HMAC-signed tokens (federated "wresult"). */
#ifndef MDM_TOKEN_H
#define MDM_TOKEN_H

#include "mdm_err.h"

#include <stddef.h>
#include <time.h>

#define MDM_SECRET_LEN 32
/* tokens longer than this are refused unread */
#define MDM_TOKEN_MAX_LEN 4096

/* Reads the 32-byte secret at path, creating it first if missing: 32 random bytes written
 * to a 0600 temp file in the same directory, then link()ed into place, which never
 * overwrites. If another process won the race, its secret is read instead, so every
 * process sharing the file ends up with the same key. 0, or -1 with MDM_E_INTERNAL in err
 * (unwritable directory, file of the wrong size, ...). */
int mdm_secret_load_or_create(const char *path, unsigned char key[32], mdm_err_t *err);

/* Returns "v1.<b64url(payload)>.<b64url(HMAC-SHA256(key, "v1." + b64url(payload)))>"
 * where payload is the compact JSON {"exp":now+ttl,"iat":now,"jti":"<32 hex>","upn":upn}.
 * Caller frees. NULL if upn is NULL or not UTF-8, ttl_seconds <= 0, the token would exceed
 * MDM_TOKEN_MAX_LEN, or on RNG/memory failure. */
char *mdm_token_issue(const unsigned char key[32], const char *upn, long ttl_seconds,
		      time_t now);

/* Checks format, then the HMAC (constant time), then exp > now. On success copies the
 * UPN and jti (either output may be NULL) and returns 0. Otherwise -1 with
 * MDM_E_AUTHENTICATION and "token malformed", "token signature invalid" or "token
 * expired" (also when an output buffer is too small: "token malformed"). Single use is
 * the caller's job (remember the jti until exp). */
int mdm_token_verify(const unsigned char key[32], const char *token, time_t now, char *upn,
		     size_t upn_len, char *jti, size_t jti_len, mdm_err_t *err);

#endif
