/* mdm_renew.c -- ROBO renewal requests: verify the PKCS#7/CMS wrapper, return the inner CSR. */
#include "mdm_renew.h"

#include "mdm_csr.h"
#include "mdm_log.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/*
 * PKCS#7 flavour. The signer is looked up in `certs` (the expected certificate, if any)
 * before the embedded ones, so an embedded look-alike (same issuer and serial) cannot
 * stand in for the expected certificate; X509_cmp then insists on the very same one.
 * On success the signed content is left in out. 0, or -1 with err set.
 */
static int s_verify_pkcs7(PKCS7 *p7, STACK_OF(X509) *certs, X509 *expected, BIO *out,
			  mdm_err_t *err)
{
	STACK_OF(X509) *signers = NULL;
	int rc = -1;
	if (!PKCS7_type_is_signed(p7))
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "renewal request is not a PKCS#7 SignedData");
	if (PKCS7_get_detached(p7))
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "renewal PKCS#7 carries no content (detached)");
	if (sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)) != 1)
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "renewal PKCS#7 must have exactly one signer");
	signers = PKCS7_get0_signers(p7, certs, 0);
	if (signers == NULL || sk_X509_num(signers) != 1) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
			    "renewal signer certificate not found");
		goto error;
	}
	if (expected && X509_cmp(sk_X509_value(signers, 0), expected) != 0) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
			    "renewal is signed by a different certificate");
		goto error;
	}
	if (PKCS7_verify(p7, certs, NULL, NULL, out, PKCS7_NOVERIFY | PKCS7_BINARY) != 1) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
			    "renewal PKCS#7 signature does not verify");
		goto error;
	}
	rc = 0;
error:
	sk_X509_free(signers);
	return rc;
}

/* CMS flavour of the above, same rules. */
static int s_verify_cms(CMS_ContentInfo *cms, STACK_OF(X509) *certs, X509 *expected, BIO *out,
			mdm_err_t *err)
{
	X509 *signer = NULL;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "renewal request is not a PKCS#7 SignedData");
	ASN1_OCTET_STRING **content = CMS_get0_content(cms);
	if (content == NULL || *content == NULL)
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "renewal PKCS#7 carries no content (detached)");
	STACK_OF(CMS_SignerInfo) *infos = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(infos) != 1)
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "renewal PKCS#7 must have exactly one signer");
	if (CMS_set1_signers_certs(cms, certs, 0) < 0)
		return mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
				   "renewal signer certificate not found");
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(infos, 0), NULL, &signer, NULL, NULL);
	if (signer == NULL)
		return mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
				   "renewal signer certificate not found");
	if (expected && X509_cmp(signer, expected) != 0)
		return mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
				   "renewal is signed by a different certificate");
	if (CMS_verify(cms, certs, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
		return mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
				   "renewal PKCS#7 signature does not verify");
	return 0;
}

X509_REQ *mdm_renew_parse(const unsigned char *der, size_t len, X509 *expected_signer,
			  mdm_err_t *err)
{
	const unsigned char *p = der;
	PKCS7 *p7 = NULL;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	BIO *out = NULL;
	X509_REQ *req = NULL;
	char *content = NULL;

	if (der == NULL || len == 0 || len > LONG_MAX) {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "renewal request is empty");
		return NULL;
	}
	certs = sk_X509_new_null();
	out = BIO_new(BIO_s_mem());
	if (certs == NULL || out == NULL ||
	    (expected_signer && sk_X509_push(certs, expected_signer) <= 0)) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (p7 && p == der + len) {
		if (s_verify_pkcs7(p7, certs, expected_signer, out, err) != 0)
			goto error;
	} else {
		p = der;
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
		if (cms == NULL || p != der + len) {
			mdm_err_set(err, MDM_E_CERT_REQUEST,
				    "renewal request is not DER PKCS#7 SignedData");
			goto error;
		}
		if (s_verify_cms(cms, certs, expected_signer, out, err) != 0)
			goto error;
	}
	long clen = BIO_get_mem_data(out, &content);
	if (clen <= 0) {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "renewal PKCS#7 content is empty");
		goto error;
	}
	req = mdm_csr_parse((const unsigned char *)content, (size_t)clen, err);
error:
	PKCS7_free(p7);
	CMS_ContentInfo_free(cms);
	sk_X509_free(certs); /* the stack only; expected_signer stays the caller's */
	BIO_free(out);
	ERR_clear_error();
	return req;
}

unsigned char *mdm_renew_build(X509 *signer_cert, EVP_PKEY *signer_key,
			       const unsigned char *csr_der, size_t csr_len, size_t *out_len)
{
	BIO *in = NULL;
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL, *out = NULL;
	if (signer_cert == NULL || signer_key == NULL || csr_der == NULL || csr_len == 0 ||
	    csr_len > INT_MAX || out_len == NULL)
		return NULL;
	in = BIO_new_mem_buf(csr_der, (int)csr_len);
	check_mem(in);
	p7 = PKCS7_sign(signer_cert, signer_key, NULL, in, PKCS7_BINARY | PKCS7_NOSMIMECAP);
	check(p7 != NULL, "renew: PKCS7_sign failed");
	int len = i2d_PKCS7(p7, &der);
	check(len > 0, "renew: i2d_PKCS7 failed");
	out = malloc((size_t)len);
	check_mem(out);
	memcpy(out, der, (size_t)len);
	*out_len = (size_t)len;
error:
	OPENSSL_free(der);
	PKCS7_free(p7);
	BIO_free(in);
	ERR_clear_error();
	return out;
}
