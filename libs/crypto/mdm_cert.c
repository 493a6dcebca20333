/* mdm_cert.c -- issuing device client certificates from a CSR's key, and reading certs back. */
#include "mdm_cert.h"

#include "mdm_b64.h"
#include "mdm_log.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int mdm_cert_set_random_serial(X509 *cert)
{
	int rc = -1;
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	check_mem(bn);
	/* 128 bits with the top one set: always positive (the DER gets a leading 00 byte)
	 * and always 16 significant bytes, well above the CA/B Forum minimum of 64 bits */
	check(BN_rand(bn, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1, "serial: BN_rand");
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	check_mem(serial);
	check(X509_set_serialNumber(cert, serial) == 1, "serial: set");
	rc = 0;
error:
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return rc;
}

/*
 * ASN1_mbstring_ncopy both validates the UTF-8 and enforces the 1..64 character bound; the
 * entry is then added as an explicit UTF8String so the global string mask (which someone
 * could change with ASN1_STRING_set_default_mask) cannot turn it into a PrintableString.
 */
X509_NAME *mdm_cert_name_cn(const char *cn, mdm_err_t *err)
{
	ASN1_STRING *str = NULL;
	X509_NAME *name = NULL;
	if (cn == NULL ||
	    ASN1_mbstring_ncopy(&str, (const unsigned char *)cn, -1, MBSTRING_UTF8,
				B_ASN1_UTF8STRING, 1, 64) < 0) {
		ERR_clear_error();
		mdm_err_set(err, MDM_E_CERT_REQUEST,
			    "certificate common name must be 1 to 64 characters of UTF-8");
		return NULL;
	}
	name = X509_NAME_new();
	if (name == NULL || X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING,
						       str->data, str->length, -1, 0) != 1) {
		mdm_err_set(err, MDM_E_INTERNAL, "cannot build certificate name");
		X509_NAME_free(name);
		name = NULL;
	}
	ASN1_STRING_free(str);
	return name;
}

int mdm_cert_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (ext == NULL) {
		log_err("cannot build extension %s = %s", OBJ_nid2sn(nid), value);
		return -1;
	}
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

int mdm_cert_thumbprint(X509 *cert, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	out[0] = '\0';
	if (cert == NULL || X509_digest(cert, EVP_sha1(), md, &len) != 1 || len != 20)
		return -1;
	mdm_hex_upper(md, len, out);
	return 0;
}

/*
 * Nothing from the CSR but its key goes into the certificate: the device-chosen subject
 * (which on Windows holds '!' and a NUL) is replaced by common_name. Ed25519/Ed448 CA keys
 * sign without a separate digest; every other key type signs with SHA-256. Validity and
 * backdate are the caller's policy (config), not checked beyond sign.
 */
X509 *mdm_cert_issue(const mdm_ca_t *ca, EVP_PKEY *pubkey, const char *common_name,
		     long validity_seconds, long backdate_seconds, time_t now, mdm_err_t *err)
{
	X509 *x = NULL, *ca_cert = mdm_ca_cert(ca);
	EVP_PKEY *ca_key = mdm_ca_key(ca);
	X509_NAME *name = NULL;
	const EVP_MD *md = EVP_sha256();

	if (ca_cert == NULL || ca_key == NULL || pubkey == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "issue: CA and public key are required");
		return NULL;
	}
	if (validity_seconds <= 0 || backdate_seconds < 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "issue: validity must be > 0, backdate >= 0");
		return NULL;
	}
	name = mdm_cert_name_cn(common_name, err);
	if (name == NULL)
		return NULL;
	int ca_type = EVP_PKEY_get_base_id(ca_key);
	if (ca_type == EVP_PKEY_ED25519 || ca_type == EVP_PKEY_ED448)
		md = NULL;

	x = X509_new();
	check_mem(x);
	check(X509_set_version(x, X509_VERSION_3) == 1, "issue: version");
	check(mdm_cert_set_random_serial(x) == 0, "issue: serial");
	check(X509_set_subject_name(x, name) == 1, "issue: subject");
	check(X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) == 1, "issue: issuer");
	check(ASN1_TIME_set(X509_getm_notBefore(x), now - (time_t)backdate_seconds) != NULL &&
		      ASN1_TIME_set(X509_getm_notAfter(x), now + (time_t)validity_seconds) != NULL,
	      "issue: validity");
	check(X509_set_pubkey(x, pubkey) == 1, "issue: public key");
	/* AKI by key id; a CA certificate without an SKI (made elsewhere) gets issuer+serial */
	const char *aki = X509_get0_subject_key_id(ca_cert) ? "keyid:always" : "issuer:always";
	check(mdm_cert_add_ext(x, ca_cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		      mdm_cert_add_ext(x, ca_cert, NID_key_usage,
				       "critical,digitalSignature,keyEncipherment") == 0 &&
		      mdm_cert_add_ext(x, ca_cert, NID_ext_key_usage, "clientAuth") == 0 &&
		      mdm_cert_add_ext(x, ca_cert, NID_subject_key_identifier, "hash") == 0 &&
		      mdm_cert_add_ext(x, ca_cert, NID_authority_key_identifier, aki) == 0,
	      "issue: extensions");
	check(X509_sign(x, ca_key, md) > 0, "issue: sign");
	X509_NAME_free(name);
	ERR_clear_error();
	return x;
error:
	mdm_err_set(err, MDM_E_INTERNAL, "cannot issue the certificate");
	X509_NAME_free(name);
	X509_free(x);
	ERR_clear_error();
	return NULL;
}

static int s_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* First CN of name as UTF-8 into out, cut at a character boundary if it does not fit. */
static int s_cn(const X509_NAME *name, char *out, size_t size)
{
	unsigned char *utf8 = NULL;
	out[0] = '\0';
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		return 0;
	ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	int n = ASN1_STRING_to_UTF8(&utf8, data);
	if (n < 0)
		return -1;
	size_t len = (size_t)n;
	if (len >= size) {
		len = size - 1;
		while (len > 0 && (utf8[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(out, utf8, len);
	out[len] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

int mdm_cert_get_info(X509 *cert, mdm_cert_info_t *out)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int rc = -1;
	if (cert == NULL || out == NULL)
		return -1;
	memset(out, 0, sizeof *out);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	check_quiet(bn != NULL);
	hex = BN_bn2hex(bn);
	check_quiet(hex != NULL && strlen(hex) < sizeof out->serial);
	strcpy(out->serial, hex);
	check_quiet(mdm_cert_thumbprint(cert, out->thumbprint) == 0);
	check_quiet(s_asn1_time(X509_get0_notBefore(cert), &out->not_before) == 0);
	check_quiet(s_asn1_time(X509_get0_notAfter(cert), &out->not_after) == 0);
	check_quiet(s_cn(X509_get_subject_name(cert), out->subject_cn, sizeof out->subject_cn) ==
		    0);
	check_quiet(s_cn(X509_get_issuer_name(cert), out->issuer_cn, sizeof out->issuer_cn) == 0);
	rc = 0;
error:
	BN_free(bn);
	OPENSSL_free(hex);
	ERR_clear_error();
	return rc;
}

char *mdm_cert_der_b64(X509 *cert)
{
	unsigned char *der = NULL;
	if (cert == NULL)
		return NULL;
	int len = i2d_X509(cert, &der);
	if (len <= 0)
		return NULL;
	char *out = mdm_b64_encode(der, (size_t)len);
	OPENSSL_free(der);
	return out;
}

X509 *mdm_cert_from_der(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	if (der == NULL || len == 0 || len > LONG_MAX)
		return NULL;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) { /* trailing bytes: not exactly one certificate */
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

static int s_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

X509 *mdm_cert_from_pem(const char *pem)
{
	if (pem == NULL)
		return NULL;
	BIO *bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		return NULL;
	X509 *x = PEM_read_bio_X509(bio, NULL, s_no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return x;
}

int mdm_cert_issued_by(X509 *cert, const mdm_ca_t *ca)
{
	X509 *ca_cert = mdm_ca_cert(ca);
	if (cert == NULL || ca_cert == NULL)
		return 0;
	if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca_cert)) != 0)
		return 0;
	int ok = X509_verify(cert, X509_get0_pubkey(ca_cert)) == 1;
	ERR_clear_error();
	return ok;
}
