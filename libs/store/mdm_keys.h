/* mdm_keys.h -- every Redis key the project uses, in one place. */
#ifndef MDM_KEYS_H
#define MDM_KEYS_H

/* Device users (OnPremise): hash {email, pwhash, created_at}. */
#define MDM_KEY_USER "mdm:user:%s"                /* email, lower-cased */
/* Pre-enrollments: hash {email, device_name, group, created_at, expires_at}, with a TTL;
 * keyed by SHA-256 of the one-time secret so the secret itself is never stored. */
#define MDM_KEY_PREENROLL "mdm:pre:%s"            /* sha256 hex of the secret */
/* Federated login tokens already spent at enrollment: string, TTL = token lifetime. */
#define MDM_KEY_TOKEN_USED "mdm:tok:%s"           /* token jti */
/* Devices: hash of the enrollment record (see mdm_store.h), keyed by DeviceID. */
#define MDM_KEY_DEVICE "mdm:dev:%s"
/* All devices, scored by their device number (listing order = enrollment order). Every
 * enrollment, first or again, takes the next number from MDM_KEY_DEVICE_NUMBER, so a number
 * names one enrollment of one device; the filter bitmaps address devices by it. A score of
 * 1e9 or more is an enrollment time written before device numbers existed (layout 1):
 * mdm_store_index_ensure gives such devices numbers below every newer one, oldest first
 * (counting on from MDM_KEY_DEVICE_NUMBER_OLD up to MDM_KEY_DEVICE_NUMBER_RES, the range
 * reserved for them when the counter was created; a counter created again, if it was
 * lost, starts above the highest number in use). */
#define MDM_KEY_DEVICES "mdm:devices"
#define MDM_KEY_DEVICE_NUMBER "mdm:ix:dn"
#define MDM_KEY_DEVICE_NUMBER_RES "mdm:ix:dnres"
#define MDM_KEY_DEVICE_NUMBER_OLD "mdm:ix:dnold"
/* Hardware id -> DeviceID of its current enrollment (re-enrollment detection). */
#define MDM_KEY_HWDEV "mdm:hw:%s"
/* Issued certificates: hash {device_id, serial, not_after, state, issued_at, ...}, keyed
 * by the upper-case SHA-1 thumbprint. state: active | superseded | revoked. */
#define MDM_KEY_CERT "mdm:cert:%s"
/* Failed sign-ins per account (lower-cased user name), counter with a TTL = the window. */
#define MDM_KEY_AUTH_FAILURES "mdm:fail:%s"
/* Commands: hash of the command record (docs/management.md: id, device_id, type, state,
 * request, syncml, status, results, created_at, sent_at, done_at, expires_at), by UUID. */
#define MDM_KEY_CMD "mdm:cmd:%s"
/* A device's queue: list of the ids of its commands still waiting for the device's status,
 * in queue order. A command leaves it only when its status arrives (or it expires, or the
 * device is unenrolled). */
#define MDM_KEY_QUEUE "mdm:q:%s"
/* A device's command history: sorted set of all its command ids, scored by created_at. */
#define MDM_KEY_DEVICE_CMDS "mdm:dcmd:%s"
/* Management session state (JSON text) with a TTL: device id, session id. */
#define MDM_KEY_SESSION "mdm:sess:%s:%s"
/* Device groups: set of device ids per group name. */
#define MDM_KEY_GROUP "mdm:group:%s"
/* Device users index: sorted set of lower-cased emails by created_at (GET /users). */
#define MDM_KEY_USERS "mdm:users"
/* Pending pre-enrollments: sorted set of ids (first 16 hex of the secret hash) by
 * created_at, and a hash id -> full secret hash. Entries whose secret was spent or has
 * expired are pruned when the list is read. */
#define MDM_KEY_PREENROLLS "mdm:pres"
#define MDM_KEY_PREENROLL_IDS "mdm:preids"
/* Group names (set): every group created or given a member. */
#define MDM_KEY_GROUPS "mdm:groups"
/* Console administrators: hash {email, pwhash, role, created_at}; all of them in a sorted
 * set by created_at; per administrator the set of its session token hashes. */
#define MDM_KEY_ADMIN "mdm:admin:%s"              /* email, lower-cased */
#define MDM_KEY_ADMINS "mdm:admins"
#define MDM_KEY_ADMIN_SESSIONS "mdm:asessions:%s" /* email */
/* Console sessions: hash {email, role, created_at, expires_at}, TTL = lifetime, keyed by
 * the SHA-256 hex of the token (the token itself is never stored). */
#define MDM_KEY_ASESSION "mdm:asess:%s"
/* API tokens: hash {id, name, role, created_at, created_by} keyed by the SHA-256 hex of the
 * token; index hash id (first 16 hex of that hash) -> token hash. */
#define MDM_KEY_APITOKEN "mdm:apitok:%s"
#define MDM_KEY_APITOKENS "mdm:apitoks"
/* Failed console logins, counters with TTL = the window: per account, per remote address. */
#define MDM_KEY_LOGIN_FAIL_ACCT "mdm:lfail:a:%s"
#define MDM_KEY_LOGIN_FAIL_ADDR "mdm:lfail:r:%s"
/* Audit log: a stream of {at, actor, role, action, target, detail, remote_addr}, trimmed
 * to about the newest MDM_AUDIT_MAXLEN entries (XADD MAXLEN ~). Per actor and per action an
 * index stream "actor:<actor>" / "action:<action>" whose entries carry the same ids as the
 * events they point to and one empty field (~13 bytes each), trimmed (MINID ~) to the oldest
 * event still in the log whenever it gets a new entry; an id whose event is gone is skipped.
 * Layout 1 kept these indexes as sorted sets of ids scored ms * 1000 + sequence: they are
 * read as they are and written to until mdm_store_index_ensure turns them into streams
 * (built under MDM_KEY_AUDIT_CONV_PREFIX, then renamed). */
#define MDM_KEY_AUDIT "mdm:audit"
#define MDM_KEY_AUDIT_PREFIX "mdm:audit:"     /* + "actor:<actor>" / "action:<action>" */
#define MDM_KEY_AUDIT_CONV_PREFIX "mdm:audit-conv:"
/* Device filter indexes, kept by the scripts that write device records (enroll,
 * unenroll, update, management save; see MDM_STORE_IX_LUA), one key per field and value:
 * "s:<state>", "p:<platform>", "u:<lower-cased user>", "o:<os_version>". Each is either a
 * sorted set (member device id, score device number), while it is small or sparse, or a
 * bitmap (bit <device number> set), once it has more than 128 members and at least one
 * device number in 256 has it (then it costs at most 32 bytes per member instead of ~130,
 * and 1 bit when most devices share the value). A bitmap never turns back; it is deleted
 * when its last bit is cleared. Only devices with a device number are indexed and counted.
 * Sorted set "seen" (device id by last_seen); string "version": the layout the indexes are
 * in (2; 1 = sorted sets by enrollment time "state:", "platform:", "user:", "os:" and the
 * hash "name", removed by mdm_store_index_ensure). `q` reads device_name from the device
 * hash itself. */
#define MDM_KEY_IDX_PREFIX "mdm:ix:"
#define MDM_KEY_IDX_SEEN "mdm:ix:seen"
#define MDM_KEY_IDX_VERSION "mdm:ix:version"
#define MDM_IDX_VERSION 2
/* Counters (GET /stats), kept as things happen: hashes "state" and "platform" (device
 * records per value: those with a device number, and layout-1 records when layout 1 was
 * complete; data older than the console is counted when mdm_store_index_ensure numbers
 * it), "cmd" {queued, done, failed} (commands ever queued / finished); strings
 * "enr:h:<hour start>", "enr:d:<day start>", "sess:h:<hour start>" with a TTL just beyond
 * what /stats shows. */
#define MDM_KEY_STATS_PREFIX "mdm:st:"
#define MDM_KEY_STATS_CMD "mdm:st:cmd"
/* Prefix the Lua scripts use to build device/cert keys they discover at run time. */
#define MDM_KEY_DEVICE_PREFIX "mdm:dev:"
#define MDM_KEY_CERT_PREFIX "mdm:cert:"
#define MDM_KEY_CMD_PREFIX "mdm:cmd:"
#define MDM_KEY_QUEUE_PREFIX "mdm:q:"
#define MDM_KEY_GROUP_PREFIX "mdm:group:"
#define MDM_KEY_USER_PREFIX "mdm:user:"
#define MDM_KEY_PREENROLL_PREFIX "mdm:pre:"
#define MDM_KEY_ADMIN_PREFIX "mdm:admin:"
#define MDM_KEY_ADMIN_SESSIONS_PREFIX "mdm:asessions:"
#define MDM_KEY_ASESSION_PREFIX "mdm:asess:"
#define MDM_KEY_APITOKEN_PREFIX "mdm:apitok:"

#endif
