/* mdm_ca.h -- the issuing CA: create its key and self-signed certificate once, then load them. */
#ifndef MDM_CA_H
#define MDM_CA_H

#include "mdm_err.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct mdm_ca_t mdm_ca_t;

#define MDM_CA_DEFAULT_VALIDITY_DAYS 3650

/* Loads a PEM certificate and an unencrypted PEM private key. Refuses (NULL, err
 * MDM_E_INTERNAL) unreadable files, a key that does not match the certificate, and a
 * certificate that is not a CA (basicConstraints CA:TRUE). Caller destroys. */
mdm_ca_t *mdm_ca_load(const char *cert_pem_path, const char *key_pem_path, mdm_err_t *err);

/* Creates a CA key ("rsa2048" or "p256") and a self-signed v3 CA certificate:
 * CN=common_name (UTF8String), basicConstraints critical CA:TRUE, keyUsage critical
 * keyCertSign+cRLSign, SKI, random positive 128-bit serial, SHA-256 signature, notBefore
 * one hour back. The key file is created 0600 with O_EXCL, the cert 0644; both are written
 * under temp names and renamed into place while holding an flock() on
 * "<key_pem_path>.lock" (left behind on purpose), so concurrent callers create one CA and
 * readers never see half a file. If both files exist already, nothing happens and 0 is
 * returned. If only one exists, -1 (MDM_E_INTERNAL): an operator must look. */
int mdm_ca_create_files(const char *cert_pem_path, const char *key_pem_path,
			const char *key_type, const char *common_name, int validity_days,
			mdm_err_t *err);

/* mdm_ca_create_files (MDM_CA_DEFAULT_VALIDITY_DAYS) then mdm_ca_load. Caller destroys. */
mdm_ca_t *mdm_ca_load_or_create(const char *cert_path, const char *key_path,
				const char *key_type, const char *cn, mdm_err_t *err);

/* Frees the CA and sets *self to NULL; harmless on NULL or a NULL *self. */
void mdm_ca_destroy(mdm_ca_t **self);

/* Borrowed pointers, valid until mdm_ca_destroy. */
X509 *mdm_ca_cert(const mdm_ca_t *self);
EVP_PKEY *mdm_ca_key(const mdm_ca_t *self);
/* Upper-case hex SHA-1 of the CA certificate DER (40 chars): the CertificateStore name. */
const char *mdm_ca_thumbprint(const mdm_ca_t *self);
/* Base64 of the CA certificate DER, no line breaks: the EncodedCertificate value. */
const char *mdm_ca_der_b64(const mdm_ca_t *self);

#endif
