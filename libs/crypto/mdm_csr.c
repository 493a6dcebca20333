/* mdm_csr.c -- parse and verify device PKCS#10 requests; key-size policy. */
#include "mdm_csr.h"

#include "mdm_log.h"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include <limits.h>
#include <string.h>

/* DigestInfo prefixes for SHA-1 (RFC 8017 §9.2 note 1), with and without NULL params */
static const unsigned char s_sha1_di[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
					  0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
static const unsigned char s_sha1_di_noparam[] = {0x30, 0x1f, 0x30, 0x07, 0x06, 0x05, 0x2b,
						  0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14};

/* Reads one DER header at *p (max bytes available) expecting a definite-length element
 * of the given universal tag; leaves *p at its contents and returns their length, or -1. */
static long s_der_expect(const unsigned char **p, long max, int want_tag, int constructed)
{
	long len = 0;
	int tag = 0, cls = 0;
	int r = ASN1_get_object(p, &len, &tag, &cls, max);
	if ((r & 0x80) || r == 0x21 || tag != want_tag || cls != V_ASN1_UNIVERSAL)
		return -1;
	if (!!(r & V_ASN1_CONSTRUCTED) != constructed)
		return -1;
	return len;
}

/*
 * Walks CertificationRequest ::= SEQUENCE { info, algorithm, signature BIT STRING } over
 * the original bytes (so the TBS is hashed exactly as the device signed it, even if it is
 * not canonical DER), checks the algorithm is a sha1WithRSA OID, and does the RSA public
 * operation ourselves. EVP_Digest(SHA-1) and a raw PKCS#1 v1.5 recover are not subject to
 * the SHA-1 *signature* restrictions some distributions configure, and nothing global
 * changes.
 */
int mdm_csr_verify_sha1_rsa(const unsigned char *der, size_t len, EVP_PKEY *pkey)
{
	const unsigned char *p = der, *tbs, *alg, *end;
	unsigned char md[EVP_MAX_MD_SIZE], *rec = NULL;
	unsigned int md_len = 0;
	ASN1_OBJECT *oid = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t rec_len = 0;
	int ok = 0;
	long n;

	if (der == NULL || len == 0 || len > LONG_MAX || pkey == NULL ||
	    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return 0;
	n = s_der_expect(&p, (long)len, V_ASN1_SEQUENCE, 1);
	check_quiet(n >= 0);
	end = p + n;
	tbs = p;
	n = s_der_expect(&p, end - p, V_ASN1_SEQUENCE, 1);
	check_quiet(n >= 0);
	p += n;
	size_t tbs_len = (size_t)(p - tbs);
	n = s_der_expect(&p, end - p, V_ASN1_SEQUENCE, 1);
	check_quiet(n >= 0);
	alg = p;
	p += n;
	check_quiet(d2i_ASN1_OBJECT(&oid, &alg, n) != NULL);
	int nid = OBJ_obj2nid(oid);
	check_quiet(nid == NID_sha1WithRSAEncryption || nid == NID_sha1WithRSA);
	n = s_der_expect(&p, end - p, V_ASN1_BIT_STRING, 0);
	check_quiet(n >= 2 && p[0] == 0); /* no unused bits */
	const unsigned char *sig = p + 1;
	size_t sig_len = (size_t)n - 1;
	check_quiet(sig_len <= (size_t)EVP_PKEY_get_size(pkey));

	check_quiet(EVP_Digest(tbs, tbs_len, md, &md_len, EVP_sha1(), NULL) == 1 && md_len == 20);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	check_quiet(ctx != NULL);
	check_quiet(EVP_PKEY_verify_recover_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1);
	rec_len = (size_t)EVP_PKEY_get_size(pkey);
	rec = OPENSSL_malloc(rec_len);
	check_quiet(rec != NULL);
	check_quiet(EVP_PKEY_verify_recover(ctx, rec, &rec_len, sig, sig_len) == 1);
	if (rec_len == sizeof s_sha1_di + 20)
		ok = CRYPTO_memcmp(rec, s_sha1_di, sizeof s_sha1_di) == 0 &&
		     CRYPTO_memcmp(rec + sizeof s_sha1_di, md, 20) == 0;
	else if (rec_len == sizeof s_sha1_di_noparam + 20)
		ok = CRYPTO_memcmp(rec, s_sha1_di_noparam, sizeof s_sha1_di_noparam) == 0 &&
		     CRYPTO_memcmp(rec + sizeof s_sha1_di_noparam, md, 20) == 0;
error:
	OPENSSL_free(rec);
	EVP_PKEY_CTX_free(ctx);
	ASN1_OBJECT_free(oid);
	ERR_clear_error();
	return ok;
}

/*
 * d2i_X509_REQ keeps the original encoding of the request info, so X509_REQ_verify hashes
 * the bytes the device signed even where they break the rules (a PrintableString with '!'
 * and NUL, a raw ASCII extension value): nothing is re-encoded. The attributes are not
 * looked at here. X509_REQ_get_extensions does decode the Windows ones, but the value of
 * 1.3.6.1.4.1.311.66.1.0 is raw ASCII inside the OCTET STRING, not a DER string.
 */
X509_REQ *mdm_csr_parse(const unsigned char *der, size_t len, mdm_err_t *err)
{
	const unsigned char *p = der;
	X509_REQ *req = NULL;
	if (der == NULL || len == 0 || len > LONG_MAX) {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "CSR is not valid DER PKCS#10");
		return NULL;
	}
	req = d2i_X509_REQ(NULL, &p, (long)len);
	if (req == NULL || p != der + len) {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "CSR is not valid DER PKCS#10%s",
			    req ? " (trailing bytes)" : "");
		goto error;
	}
	EVP_PKEY *pkey = X509_REQ_get0_pubkey(req);
	if (pkey == NULL) {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "CSR public key is not usable");
		goto error;
	}
	if (X509_REQ_verify(req, pkey) != 1) {
		unsigned long e = ERR_peek_error();
		int nid = X509_REQ_get_signature_nid(req);
		ERR_clear_error();
		if ((nid != NID_sha1WithRSAEncryption && nid != NID_sha1WithRSA) ||
		    mdm_csr_verify_sha1_rsa(der, len, pkey) != 1) {
			mdm_err_set(err, MDM_E_CERT_REQUEST, "CSR signature does not verify");
			goto error;
		}
		log_info("CSR: SHA-1 signature refused by OpenSSL (%s), verified directly",
			 e ? ERR_reason_error_string(e) : "no reason");
	}
	ERR_clear_error();
	return req;
error:
	X509_REQ_free(req);
	ERR_clear_error();
	return NULL;
}

int mdm_csr_check_key(X509_REQ *req, int min_rsa_bits, mdm_err_t *err)
{
	EVP_PKEY *pkey = req ? X509_REQ_get0_pubkey(req) : NULL;
	if (pkey == NULL)
		return mdm_err_set(err, MDM_E_CERT_REQUEST, "CSR public key is not usable");
	int type = EVP_PKEY_get_base_id(pkey);
	if (type == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(pkey);
		if (bits < min_rsa_bits)
			return mdm_err_set(err, MDM_E_CERT_REQUEST,
					   "key too small: %d bits, policy minimum is %d", bits,
					   min_rsa_bits);
		return 0;
	}
	if (type == EVP_PKEY_EC) {
		char group[80] = "";
		size_t glen = 0;
		int nid = NID_undef;
		if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) == 1) {
			nid = OBJ_sn2nid(group);
			if (nid == NID_undef)
				nid = EC_curve_nist2nid(group);
		}
		ERR_clear_error();
		if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1)
			return 0;
		return mdm_err_set(err, MDM_E_CERT_REQUEST,
				   "unsupported EC curve %s, policy allows P-256 and P-384",
				   group[0] ? group : "(explicit parameters)");
	}
	const char *name = EVP_PKEY_get0_type_name(pkey);
	return mdm_err_set(err, MDM_E_CERT_REQUEST, "unsupported key type %s",
			   name ? name : OBJ_nid2sn(type));
}

int mdm_csr_same_key(X509_REQ *req, X509 *cert)
{
	if (req == NULL || cert == NULL)
		return 0;
	EVP_PKEY *a = X509_REQ_get0_pubkey(req), *b = X509_get0_pubkey(cert);
	int same = a && b && EVP_PKEY_eq(a, b) == 1;
	ERR_clear_error();
	return same;
}
