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
 * cert_serial, cert_not_after), its certificate record, the device list (under a new device
 * number, mdm_keys.h), the filter indexes and counters, and the hardware index;
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

/* ---- management: commands, queues, sessions, groups (docs/management.md) ------------ */

/* Identifiers these functions take are bounded (device ids and groups 256 bytes, command
 * and session ids 128); longer ones are refused with MDM_E_BAD_REQUEST, never truncated
 * into another record's key. */

/* Queues a command for an enrolled device in one atomic step (a Lua script): the record
 * mdm:cmd:<id> (state queued, created_at = now, expires_at = now + ttl_seconds), appended
 * to the device's queue and added to its history. request_json and syncml_json are stored
 * as given (JSON text). Nothing is written if the device is unknown (MDM_E_NOT_FOUND "no
 * such device"), not in state "enrolled" (MDM_E_CONFLICT "device is not enrolled") or the
 * id is taken (MDM_E_CONFLICT). */
int mdm_store_cmd_create(mdm_store_t *self, const char *device_id, const char *id,
			 const char *type, const char *request_json, const char *syncml_json,
			 time_t now, long ttl_seconds, mdm_err_t *err);

/* A command as the API shows it (caller owns): {"id", "device_id", "type", "state",
 * "status": "200" or null, "request": JSON, "syncml": JSON, "results": [...] (empty when
 * none), "created_at", "sent_at", "done_at", "expires_at": epoch seconds or null}. done_at
 * is when the command reached a final state (done, failed, expired, cancelled). NULL with
 * MDM_E_NOT_FOUND "no such command" when absent. */
json_t *mdm_store_cmd_get(mdm_store_t *self, const char *id, mdm_err_t *err);

/* A device's commands, newest first: {"commands": [command objects], "next": offset of the
 * next page or null}. One consistent read (Lua). MDM_E_NOT_FOUND for an unknown device;
 * MDM_E_BAD_REQUEST unless offset >= 0 and limit is 1..1000. */
json_t *mdm_store_cmd_history(mdm_store_t *self, const char *device_id, long offset,
			      long limit, mdm_err_t *err);

/* What a session should send: the device's queue in order, as an array of {"id", "type",
 * "state" (queued or sent), "syncml": JSON} (caller owns; [] for an unknown device).
 * In the same atomic step, commands with now >= expires_at become "expired" (done_at = now)
 * and leave the queue, and ids whose record is gone or already final are dropped from it;
 * neither is returned. Sent commands stay: a device that never answered gets them again. */
json_t *mdm_store_queue(mdm_store_t *self, const char *device_id, time_t now, mdm_err_t *err);

/* Records delivery: queued -> sent with sent_at = now (the first delivery; a re-send leaves
 * both unchanged and returns 0). MDM_E_NOT_FOUND for an unknown command, MDM_E_CONFLICT
 * "command is <state>" when it is already final (expired, cancelled...): do not send it. */
int mdm_store_cmd_sent(mdm_store_t *self, const char *id, time_t now, mdm_err_t *err);

/* The device's status arrived, atomically: state done (ok) or failed, status (may be NULL:
 * kept as is), results (a JSON array, may be NULL) appended to those already stored,
 * done_at = now, and the command leaves its device's queue. A command already final
 * (done, failed, expired, cancelled) is left as it is and 0 returned: a late or repeated
 * status is harmless. MDM_E_NOT_FOUND for an unknown command. Results are capped at 1 MiB
 * per command: beyond that the new results are dropped (logged) but the command still
 * finishes. */
int mdm_store_cmd_finish(mdm_store_t *self, const char *id, int ok, const char *status,
			 json_t *results, time_t now, mdm_err_t *err);

/* Appends results (a JSON array) without changing the state: Results may come before the
 * Status. MDM_E_NOT_FOUND for an unknown command, MDM_E_TOO_LARGE beyond 1 MiB. */
int mdm_store_cmd_add_results(mdm_store_t *self, const char *id, json_t *results,
			      mdm_err_t *err);

/* Unenrolls a device in one atomic step: state "unenrolled" with unenrolled_at = now and
 * unenroll_reason (kept from the first call when repeated), its current certificate
 * (cert_thumbprint) "revoked", every command still in its queue "cancelled" (done_at =
 * now) and the queue deleted. MDM_E_NOT_FOUND for an unknown device. When the device
 * acknowledges a queued "unenroll" command, finish that command first, or it is recorded
 * as cancelled. Reasons used: "admin" (forced or delivered), "device" (Alert 1226). */
int mdm_store_device_unenroll(mdm_store_t *self, const char *device_id, const char *reason,
			      time_t now, mdm_err_t *err);

/* Sets fields of an existing device record (inventory, last_seen): `fields` is a flat
 * object of strings (at most 64, names 1..64 bytes). Fields of the enrollment itself
 * (device_id, hwdevid, state, cert_*, enrolled_at, first_enrolled_at, renewed_at,
 * unenrolled_at, unenroll_reason, replaced_by, auth) are refused with MDM_E_BAD_REQUEST,
 * as are non-string values. MDM_E_NOT_FOUND, writing nothing, when the device is unknown. */
int mdm_store_device_update(mdm_store_t *self, const char *device_id, json_t *fields,
			    mdm_err_t *err);

/* Management session state, JSON text in mdm:sess:<device>:<session> with a TTL.
 * get: caller owns; NULL with MDM_E_NOT_FOUND "no such session" when absent or expired.
 * put: replaces the state and restarts its TTL (ttl_seconds > 0). delete: 0 even if absent. */
json_t *mdm_store_session_get(mdm_store_t *self, const char *device_id, const char *session_id,
			      mdm_err_t *err);
int mdm_store_session_put(mdm_store_t *self, const char *device_id, const char *session_id,
			  json_t *state, long ttl_seconds, mdm_err_t *err);
int mdm_store_session_delete(mdm_store_t *self, const char *device_id, const char *session_id,
			     mdm_err_t *err);

/* A management message in two round trips. load: the certificate record of `thumbprint`
 * (cert NULL when unknown), the device it names (device NULL when it names none or the
 * record is gone), that device's session state `session_id` (session NULL when none or
 * unreadable) and the length of its command queue; 0, or -1 with err. Free with
 * mdm_mgmt_load_free (also after -1). save, one atomic step: device fields as
 * mdm_store_device_update (fields may be NULL; skipped when the device is gone), the
 * session state (replaced with ttl_seconds; state NULL deletes it), and when
 * count_session one more session in the hourly statistics. */
typedef struct {
	json_t *cert, *device, *session;
	long queued;
} mdm_mgmt_load_t;
int mdm_store_mgmt_load(mdm_store_t *self, const char *thumbprint, const char *session_id,
			mdm_mgmt_load_t *out, mdm_err_t *err);
void mdm_mgmt_load_free(mdm_mgmt_load_t *l);
int mdm_store_mgmt_save(mdm_store_t *self, const char *device_id, json_t *fields,
			const char *session_id, json_t *state, long ttl_seconds, int count_session,
			time_t now, mdm_err_t *err);

/* Groups (set mdm:group:<name>). add: the device must exist (MDM_E_NOT_FOUND otherwise);
 * adding twice is harmless. members: sorted array of device ids (caller owns); [] for an
 * unknown or empty group. */
int mdm_store_group_add(mdm_store_t *self, const char *group, const char *device_id,
			mdm_err_t *err);
json_t *mdm_store_group_members(mdm_store_t *self, const char *group, mdm_err_t *err);

/* ---- console: administrators, sessions, API tokens, audit, counters, device search ----
 * (libs/store/mdm_store_admin.c; docs/api-contract.md). Roles are "admin" and
 * "read-only"; token hashes are the SHA-256 hex of a token (the token is never stored). */

/* Administrators. create: MDM_E_CONFLICT if the email exists (compared lower-cased).
 * get: {email, pwhash, role, created_at} (caller owns), NULL with MDM_E_NOT_FOUND.
 * list: [{email, role, created_at (integer)}] oldest first (caller owns).
 * delete: the account and every session it holds, atomically; MDM_E_NOT_FOUND. */
int mdm_store_admin_create(mdm_store_t *self, const char *email, const char *pwhash,
			   const char *role, time_t now, mdm_err_t *err);
json_t *mdm_store_admin_get(mdm_store_t *self, const char *email, mdm_err_t *err);
json_t *mdm_store_admin_list(mdm_store_t *self, mdm_err_t *err);
int mdm_store_admin_delete(mdm_store_t *self, const char *email, mdm_err_t *err);

/* Console sessions (TTL = ttl_seconds; the administrator must exist). delete: 0 even if
 * absent. */
int mdm_store_asession_create(mdm_store_t *self, const char *token_hash, const char *email,
			      const char *role, time_t now, long ttl_seconds, mdm_err_t *err);
int mdm_store_asession_delete(mdm_store_t *self, const char *token_hash, mdm_err_t *err);

/* API tokens. id is the first 16 hex of token_hash. list: [{id, name, role, created_at}]
 * oldest first. delete: MDM_E_NOT_FOUND for an unknown id. */
int mdm_store_apitoken_create(mdm_store_t *self, const char *token_hash, const char *name,
			      const char *role, const char *created_by, time_t now,
			      mdm_err_t *err);
json_t *mdm_store_apitoken_list(mdm_store_t *self, mdm_err_t *err);
int mdm_store_apitoken_delete(mdm_store_t *self, const char *id, mdm_err_t *err);

/* Who holds a token (one round trip): {"kind": "session", "email", "role" (the
 * administrator's current role), "expires_at"} or {"kind": "api", "id", "name", "role"};
 * caller owns. NULL with MDM_E_NOT_FOUND for an unknown or expired token, or a session of
 * a deleted administrator. */
json_t *mdm_store_whois(mdm_store_t *self, const char *token_hash, mdm_err_t *err);

/* Failed console logins per account (lower-cased) and per remote address. check: fills
 * the counts and the seconds left in their windows (0 when none); 0 or -1. add: counts one
 * failure for both (each window starts at its first failure). clear: the account's count,
 * after a success (the address's stays). */
int mdm_store_login_failures(mdm_store_t *self, const char *email, const char *addr,
			     long *acct, long *acct_ttl, long *by_addr, long *addr_ttl,
			     mdm_err_t *err);
int mdm_store_login_failure_add(mdm_store_t *self, const char *email, const char *addr,
				long window_seconds, mdm_err_t *err);
void mdm_store_login_failures_clear(mdm_store_t *self, const char *email);

/* Audit log. add: event is a flat object {at (integer), actor, role, action, target,
 * detail (object), remote_addr}; appended to the stream with its actor and action indexes
 * in one script; the log then keeps about the newest max_events events (0: all of them;
 * the registry passes MDM_AUDIT_MAXLEN): older ones and their index entries are dropped.
 * list: {"events": [{id, at, actor, role, action, target, detail, remote_addr}], "next":
 * cursor or null}, newest first; filters may be NULL / 0; since and until are epoch
 * seconds (inclusive). A page may hold fewer than limit events and still have a next
 * cursor when a combined actor + action filter had to skip many events. */
int mdm_store_audit_add(mdm_store_t *self, json_t *event, long max_events, mdm_err_t *err);
typedef struct {
	const char *actor, *action, *cursor; /* NULL: any / from the newest */
	long since, until;                   /* 0: unbounded */
	long limit;                          /* 1..500 */
} mdm_audit_filter_t;
json_t *mdm_store_audit_list(mdm_store_t *self, const mdm_audit_filter_t *f, mdm_err_t *err);

/* Counters. session_started: one OMA-DM session began now (sessions per hour). stats: the
 * GET /stats object (docs/api-contract.md), buckets aligned on UTC hours and days, oldest
 * first, ending with the one holding now. */
int mdm_store_stats_session(mdm_store_t *self, time_t now, mdm_err_t *err);
json_t *mdm_store_stats(mdm_store_t *self, time_t now, mdm_err_t *err);

/* Device search over the indexes (never a scan of every device). Equality filters use
 * the index of each field value (a sorted set, or a bitmap of device numbers for values
 * many devices share; mdm_keys.h): the smallest is walked newest first and each candidate
 * checked against the other filters; last_seen uses a sorted set; q (lower-cased
 * substring of DeviceID or device name) is checked on the candidates only, against the
 * device record. Order: newest enrollment first. Returns {"devices": [device hashes as
 * mdm_store_device_get gives them], "next": opaque cursor or null} (caller owns). One call
 * walks a bounded number of candidates, so a page may be short yet have a next cursor
 * (sparse intersections, or q alone); the cursor resumes the walk. MDM_E_BAD_REQUEST for a
 * malformed cursor. */
typedef struct {
	const char *platform, *state, *user, *os_version, *q; /* NULL: any */
	long seen_after;  /* last_seen >= this when > 0 */
	long seen_before; /* last_seen < this when > 0 */
	const char *cursor;
	long limit; /* 1..500 */
} mdm_device_filter_t;
json_t *mdm_store_device_find(mdm_store_t *self, const mdm_device_filter_t *f, mdm_err_t *err);
/* Sorted names of the groups a device is in (caller owns). */
json_t *mdm_store_device_groups(mdm_store_t *self, const char *device_id, mdm_err_t *err);

/* Groups (names checked by the caller). create: MDM_E_CONFLICT if it exists. rename:
 * members move with it; MDM_E_NOT_FOUND / MDM_E_CONFLICT (new name taken). delete:
 * MDM_E_NOT_FOUND. remove: MDM_E_NOT_FOUND unless the device is a member. list:
 * [{name, devices: n}] sorted by name. */
int mdm_store_group_create(mdm_store_t *self, const char *group, mdm_err_t *err);
int mdm_store_group_rename(mdm_store_t *self, const char *group, const char *new_name,
			   mdm_err_t *err);
int mdm_store_group_delete(mdm_store_t *self, const char *group, mdm_err_t *err);
int mdm_store_group_remove(mdm_store_t *self, const char *group, const char *device_id,
			   mdm_err_t *err);
json_t *mdm_store_group_list(mdm_store_t *self, mdm_err_t *err);

/* Device users: list [{email, created_at}] sorted by email. revoke: the user's password
 * and pending pre-enrollments are deleted (enrolled devices stay); MDM_E_NOT_FOUND. */
json_t *mdm_store_user_list(mdm_store_t *self, mdm_err_t *err);
int mdm_store_user_revoke(mdm_store_t *self, const char *email, mdm_err_t *err);

/* Pending pre-enrollments: [{id, email, device_name, group, created_at, expires_at}]
 * newest first (never the secret); spent or expired ones are pruned from the index.
 * revoke: by id; MDM_E_NOT_FOUND. */
json_t *mdm_store_preenroll_list(mdm_store_t *self, time_t now, mdm_err_t *err);
int mdm_store_preenroll_revoke(mdm_store_t *self, const char *id, mdm_err_t *err);

/* Brings data written by older versions to the current key layout (MDM_IDX_VERSION,
 * mdm_keys.h), once: a no-op when MDM_KEY_IDX_VERSION says it is done. Data older than the
 * console gets its user, group and pre-enrollment lists; devices of layout 1 (listed by
 * enrollment time) get device numbers in their listing order, filter indexes and, if they
 * were not counted yet, counters, 200 per script; layout 1's index keys are deleted and
 * its sorted-set audit indexes become streams (1000 ids per script). Safe while
 * enrollments, audit events and other instances doing the same go on: nothing is counted
 * twice or lost. 1 if it changed something, 0 if nothing to do, -1 on error. */
int mdm_store_index_ensure(mdm_store_t *self, mdm_err_t *err);

#endif
