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
/* Prefix the Lua scripts use to build device/cert keys they discover at run time. */
#define MDM_KEY_DEVICE_PREFIX "mdm:dev:"
#define MDM_KEY_CERT_PREFIX "mdm:cert:"

#endif
