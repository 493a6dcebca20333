/* mdm_csr.h -- PKCS#10 certificate requests from devices (Windows quirks included). */
#ifndef MDM_CSR_H
#define MDM_CSR_H

#include "mdm_err.h"

#include <openssl/x509.h>

#include <stddef.h>

/* Parses exactly one DER PKCS#10 (trailing bytes refused) and verifies its self-signature
 * with the key inside it. Tolerates what real Windows clients send: PrintableString CN
 * with '!' and a trailing NUL, UTF8String CN, the OIW sha1WithRSA OID 1.3.14.3.2.29, and
 * an extensionRequest whose 1.3.6.1.4.1.311.66.1.0 value is raw ASCII. A SHA-1/RSA
 * signature that the library's policy refuses (e.g. RHEL crypto-policies) is checked by
 * mdm_csr_verify_sha1_rsa instead, so no global setting has to be relaxed.
 * Caller frees (X509_REQ_free). NULL with MDM_E_CERT_REQUEST: "CSR is not valid DER
 * PKCS#10" or "CSR signature does not verify". */
X509_REQ *mdm_csr_parse(const unsigned char *der, size_t len, mdm_err_t *err);

/* Key policy: RSA of at least min_rsa_bits, or EC on P-256 / P-384. 0, or -1 with
 * MDM_E_CERT_REQUEST ("key too small: 1024 bits, policy minimum is 2048", "unsupported
 * EC curve ...", "unsupported key type ..."). */
int mdm_csr_check_key(X509_REQ *req, int min_rsa_bits, mdm_err_t *err);

/* 1 if the request and the certificate carry the same public key, else 0. */
int mdm_csr_same_key(X509_REQ *req, X509 *cert);

/* Verifies a sha1WithRSA PKCS#10 signature by hand: SHA-1 over the exact TBS bytes of der,
 * RSA public operation with PKCS#1 v1.5 padding, DigestInfo compared in constant time
 * (with or without the NULL parameters). Independent of any SHA-1 signature policy.
 * 1 if it verifies, 0 otherwise (including non-RSA keys and other digests). Exposed for
 * mdm_csr_parse's fallback and for tests. */
int mdm_csr_verify_sha1_rsa(const unsigned char *der, size_t len, EVP_PKEY *pkey);

#endif
