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
/* All devices, scored by last enrollment time (listing). */
#define MDM_KEY_DEVICES "mdm:devices"
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
/* Prefix the Lua scripts use to build device/cert keys they discover at run time. */
#define MDM_KEY_DEVICE_PREFIX "mdm:dev:"
#define MDM_KEY_CERT_PREFIX "mdm:cert:"
#define MDM_KEY_CMD_PREFIX "mdm:cmd:"
#define MDM_KEY_QUEUE_PREFIX "mdm:q:"

#endif
