/* mdm_renew.h -- ROBO renewal: PKCS#7 SignedData (signed by the current key) around a new CSR. */
#ifndef MDM_RENEW_H
#define MDM_RENEW_H

#include "mdm_err.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stddef.h>

/* Parses a DER PKCS#7 SignedData (or, if that fails, a CMS SignedData, e.g. one that names
 * its signer by subject key identifier) with exactly one signer and embedded content.
 * The signer certificate is the embedded one or, if none is embedded, expected_signer.
 * If expected_signer is non-NULL the signer must be exactly that certificate
 * (X509_cmp). The signature is checked over the content; the signer's chain is NOT
 * (the caller checks the signer was issued by us, is in its renewal window, etc.). The
 * content is then parsed and verified with mdm_csr_parse. Caller frees (X509_REQ_free).
 * NULL with MDM_E_CERT_REQUEST (not a SignedData, no content, several signers, bad inner
 * CSR) or MDM_E_NOT_ELIGIBLE_RENEW (signer unknown or not the expected certificate,
 * signature does not verify). */
X509_REQ *mdm_renew_parse(const unsigned char *der, size_t len, X509 *expected_signer,
			  mdm_err_t *err);

/* Builds such a PKCS#7 (PKCS7_sign, PKCS7_BINARY, signer certificate included, content
 * attached) around csr_der; for the device simulator and tests. Returns malloc'ed DER
 * (caller frees with free()) and its length in *out_len, or NULL on failure. */
unsigned char *mdm_renew_build(X509 *signer_cert, EVP_PKEY *signer_key,
			       const unsigned char *csr_der, size_t csr_len, size_t *out_len);

#endif
