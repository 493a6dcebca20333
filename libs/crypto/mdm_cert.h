/* mdm_cert.h -- issuing device (client) certificates, and reading certificates back. */
#ifndef MDM_CERT_H
#define MDM_CERT_H

#include "mdm_ca.h"
#include "mdm_err.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stddef.h>
#include <time.h>

/* Issues a client certificate for pubkey (not taken; the caller keeps it): subject
 * CN=common_name as UTF8String (1..64 characters, valid UTF-8), issuer = the CA subject,
 * v3, random positive 128-bit serial, notBefore = now - backdate_seconds, notAfter = now +
 * validity_seconds, basicConstraints critical CA:FALSE, keyUsage critical digitalSignature
 * + keyEncipherment, extendedKeyUsage clientAuth, SKI, AKI keyid; SHA-256 signature
 * (sha256WithRSA or ecdsa-with-SHA256 according to the CA key). Caller frees (X509_free).
 * NULL with MDM_E_CERT_REQUEST for a bad name or arguments, MDM_E_INTERNAL if OpenSSL
 * failed. */
X509 *mdm_cert_issue(const mdm_ca_t *ca, EVP_PKEY *pubkey, const char *common_name,
		     long validity_seconds, long backdate_seconds, time_t now, mdm_err_t *err);

typedef struct {
	char serial[80];      /* upper-case hex, no separators */
	char thumbprint[41];  /* upper-case hex SHA-1 of the DER */
	time_t not_before;
	time_t not_after;
	char subject_cn[256]; /* UTF-8, "" if none; cut at the first NUL or 255 bytes */
	char issuer_cn[256];
} mdm_cert_info_t;

/* Fills out. 0, or -1 if cert is NULL or a field cannot be read (e.g. serial too long). */
int mdm_cert_get_info(X509 *cert, mdm_cert_info_t *out);

/* Base64 of the DER, no line breaks. Caller frees; NULL on error. */
char *mdm_cert_der_b64(X509 *cert);

/* Parse one certificate. DER must be exactly one certificate with no trailing bytes.
 * Caller frees (X509_free); NULL if it does not parse. */
X509 *mdm_cert_from_der(const unsigned char *der, size_t len);
X509 *mdm_cert_from_pem(const char *pem);

/* 1 if cert names the CA's subject as issuer and its signature verifies with the CA
 * public key, else 0. Validity dates are not checked here. */
int mdm_cert_issued_by(X509 *cert, const mdm_ca_t *ca);

/* Helpers shared by mdm_ca and mdm_cert. */

/* Sets a random positive serial of exactly 128 bits (top bit set). 0/-1. */
int mdm_cert_set_random_serial(X509 *cert);

/* Returns a new name holding one CN as UTF8String, or NULL (MDM_E_CERT_REQUEST) if cn is
 * empty, longer than 64 characters (RFC 5280 ub-common-name) or not UTF-8. Caller frees
 * (X509_NAME_free). */
X509_NAME *mdm_cert_name_cn(const char *cn, mdm_err_t *err);

/* Adds one extension given in openssl.cnf syntax ("critical,CA:FALSE") with issuer and
 * subject set as for X509V3_set_ctx. 0/-1. */
int mdm_cert_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/* Upper-case hex SHA-1 of the DER into out (41 bytes). 0/-1. */
int mdm_cert_thumbprint(X509 *cert, char out[41]);

#endif
