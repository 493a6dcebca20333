/* test_crypto_pki.c -- libs/crypto PKI tests: CA files, real device CSRs, issuing, renewal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mdm_b64.h"
#include "mdm_ca.h"
#include "mdm_cert.h"
#include "mdm_csr.h"
#include "mdm_err.h"
#include "mdm_renew.h"
#include "support/vectors.h"

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- fixtures --------------------------------------------------------------------- */

/* Shared by every test: generating RSA keys is the slow part, so do it once. */
static struct {
	char *dir;
	mdm_ca_t *rsa_ca;
	mdm_ca_t *ec_ca;
	EVP_PKEY *dev_key;   /* RSA 2048: the device's current key */
	EVP_PKEY *dev_key2;  /* RSA 2048: the key of the renewal request */
	EVP_PKEY *other_key; /* RSA 2048: somebody else */
} g;

static char *s_path(const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", g.dir, name) > 0);
	return p;
}

static void s_rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = NULL;
		struct stat st;
		if (asprintf(&p, "%s/%s", dir, e->d_name) > 0) {
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				s_rm_rf(p);
			else
				unlink(p);
			free(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

/* Counts directory entries whose name contains needle. */
static int s_count_matching(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, needle))
			n++;
	closedir(d);
	return n;
}

static int group_setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	if (asprintf(&g.dir, "%s/test_crypto_pki.XXXXXX", base ? base : "/tmp") < 0 ||
	    mkdtemp(g.dir) == NULL)
		return -1;
	char *c = NULL, *k = NULL;
	mdm_err_t err = {MDM_OK, ""};
	if (asprintf(&c, "%s/rsa_ca.pem", g.dir) < 0 || asprintf(&k, "%s/rsa_ca.key", g.dir) < 0)
		return -1;
	g.rsa_ca = mdm_ca_load_or_create(c, k, "rsa2048", "Test MDM RSA CA", &err);
	free(c);
	free(k);
	if (asprintf(&c, "%s/ec_ca.pem", g.dir) < 0 || asprintf(&k, "%s/ec_ca.key", g.dir) < 0)
		return -1;
	g.ec_ca = mdm_ca_load_or_create(c, k, "p256", "Test MDM EC CA", &err);
	free(c);
	free(k);
	g.dev_key = EVP_RSA_gen(2048);
	g.dev_key2 = EVP_RSA_gen(2048);
	g.other_key = EVP_RSA_gen(2048);
	if (!g.rsa_ca || !g.ec_ca || !g.dev_key || !g.dev_key2 || !g.other_key) {
		fprintf(stderr, "group setup failed: %s\n", err.text);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mdm_ca_destroy(&g.rsa_ca);
	mdm_ca_destroy(&g.ec_ca);
	EVP_PKEY_free(g.dev_key);
	EVP_PKEY_free(g.dev_key2);
	EVP_PKEY_free(g.other_key);
	s_rm_rf(g.dir);
	free(g.dir);
	return 0;
}

/* A DER CSR for key with the given CN, signed with md (NULL for Ed25519). Caller frees. */
static unsigned char *s_make_csr(EVP_PKEY *key, const char *cn, const EVP_MD *md, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL, *out;
	assert_non_null(req);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_true(X509_REQ_sign(req, key, md) > 0);
	int n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	out = malloc((size_t)n);
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

/* A shared Windows vector (support/vectors.h: skipped without them, a failure under CI=true). */
static unsigned char *s_vector(const char *name, size_t *len)
{
	NEED_VECTORS();
	return (unsigned char *)s_vec(name, len);
}

static void s_thumbprint_of(X509 *x, char out[41])
{
	unsigned char *der = NULL, md[20];
	unsigned int mdlen = 0;
	int n = i2d_X509(x, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha1(), NULL), 1);
	mdm_hex_upper(md, 20, out);
	OPENSSL_free(der);
}

static X509_EXTENSION *s_ext(X509 *x, int nid, int *critical)
{
	int idx = X509_get_ext_by_NID(x, nid, -1);
	if (idx < 0)
		return NULL;
	assert_int_equal(X509_get_ext_by_NID(x, nid, idx), -1); /* exactly once */
	X509_EXTENSION *e = X509_get_ext(x, idx);
	*critical = X509_EXTENSION_get_critical(e);
	return e;
}

static int s_serial_bits(X509 *x, int *negative)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_non_null(bn);
	int bits = BN_num_bits(bn);
	*negative = BN_is_negative(bn);
	BN_free(bn);
	return bits;
}

/* ---- CA --------------------------------------------------------------------------- */

static void s_check_ca(mdm_ca_t *ca, const char *key_path, int key_type, int sig_nid,
		       const char *cn)
{
	X509 *x = mdm_ca_cert(ca);
	assert_non_null(x);
	assert_non_null(mdm_ca_key(ca));
	assert_int_equal(EVP_PKEY_get_base_id(mdm_ca_key(ca)), key_type);

	struct stat st;
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), sig_nid);
	assert_int_equal(X509_check_ca(x), 1);
	int crit = -1;
	X509_EXTENSION *e = s_ext(x, NID_basic_constraints, &crit);
	assert_non_null(e);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_non_null(s_ext(x, NID_key_usage, &crit));
	assert_int_equal(crit, 1);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(s_ext(x, NID_subject_key_identifier, &crit));
	assert_int_equal(crit, 0);
	assert_non_null(X509_get0_subject_key_id(x));

	int neg = 1;
	assert_true(s_serial_bits(x, &neg) >= 64);
	assert_false(neg);

	/* self-signed, CN as UTF8String */
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	X509_NAME_ENTRY *ne = X509_NAME_get_entry(X509_get_subject_name(x), 0);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)), NID_commonName);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(ne)), V_ASN1_UTF8STRING);
	mdm_cert_info_t info;
	assert_int_equal(mdm_cert_get_info(x, &info), 0);
	assert_string_equal(info.subject_cn, cn);
	assert_true(info.not_before <= time(NULL));
	assert_true(info.not_after > time(NULL) + 3000L * 86400);

	/* thumbprint and DER base64 */
	char tp[41];
	s_thumbprint_of(x, tp);
	assert_string_equal(mdm_ca_thumbprint(ca), tp);
	size_t n = 0;
	unsigned char *der = mdm_b64_decode(mdm_ca_der_b64(ca), &n);
	assert_non_null(der);
	assert_null(strchr(mdm_ca_der_b64(ca), '\n'));
	X509 *back = mdm_cert_from_der(der, n);
	assert_non_null(back);
	assert_int_equal(X509_cmp(back, x), 0);
	X509_free(back);
	free(der);
}

static void test_ca_create_rsa(void **state)
{
	(void)state;
	char *k = s_path("rsa_ca.key");
	s_check_ca(g.rsa_ca, k, EVP_PKEY_RSA, NID_sha256WithRSAEncryption, "Test MDM RSA CA");
	assert_int_equal(EVP_PKEY_get_bits(mdm_ca_key(g.rsa_ca)), 2048);
	free(k);
}

static void test_ca_create_p256(void **state)
{
	(void)state;
	char *k = s_path("ec_ca.key");
	s_check_ca(g.ec_ca, k, EVP_PKEY_EC, NID_ecdsa_with_SHA256, "Test MDM EC CA");
	char group[32];
	assert_int_equal(EVP_PKEY_get_group_name(mdm_ca_key(g.ec_ca), group, sizeof group, NULL),
			 1);
	assert_string_equal(group, "prime256v1");
	free(k);
}

/* Existing files are kept: a second create is a no-op and load gives the same CA. */
static void test_ca_create_is_idempotent(void **state)
{
	(void)state;
	char *c = s_path("rsa_ca.pem"), *k = s_path("rsa_ca.key");
	mdm_err_t err = {MDM_OK, ""};
	assert_int_equal(mdm_ca_create_files(c, k, "p256", "Other", 30, &err), 0);
	mdm_ca_t *again = mdm_ca_load(c, k, &err);
	assert_non_null(again);
	assert_string_equal(mdm_ca_thumbprint(again), mdm_ca_thumbprint(g.rsa_ca));
	assert_int_equal(EVP_PKEY_get_base_id(mdm_ca_key(again)), EVP_PKEY_RSA);
	mdm_ca_destroy(&again);
	assert_null(again);
	mdm_ca_destroy(&again); /* harmless */
	mdm_ca_destroy(NULL);
	free(c);
	free(k);
}

static void test_ca_mismatched_key_refused(void **state)
{
	(void)state;
	char *c = s_path("rsa_ca.pem"), *k = s_path("ec_ca.key");
	mdm_err_t err = {MDM_OK, ""};
	assert_null(mdm_ca_load(c, k, &err));
	assert_int_equal(err.code, MDM_E_INTERNAL);
	assert_non_null(strstr(err.text, "does not match"));
	free(c);
	free(k);

	/* same key type, different key */
	char *c2 = s_path("rsa2_ca.pem"), *k2 = s_path("rsa2_ca.key");
	assert_int_equal(mdm_ca_create_files(c2, k2, "rsa2048", "Second", 30, &err), 0);
	k = s_path("rsa_ca.key");
	mdm_err_clear(&err);
	assert_null(mdm_ca_load(c2, k, &err));
	assert_non_null(strstr(err.text, "does not match"));
	free(c2);
	free(k2);
	free(k);
}

static void test_ca_bad_inputs(void **state)
{
	(void)state;
	mdm_err_t err = {MDM_OK, ""};
	char *c = s_path("x.pem"), *k = s_path("x.key");
	assert_int_equal(mdm_ca_create_files(c, k, "dsa1024", "X", 30, &err), -1);
	assert_int_equal(err.code, MDM_E_INTERNAL);
	assert_non_null(strstr(err.text, "dsa1024"));
	assert_int_equal(access(c, F_OK), -1);
	assert_int_equal(access(k, F_OK), -1);
	assert_int_equal(s_count_matching(g.dir, ".tmp."), 0);
	mdm_err_clear(&err);
	assert_int_equal(mdm_ca_create_files(c, k, "p256", "", 30, &err), -1);
	assert_int_equal(access(k, F_OK), -1);
	mdm_err_clear(&err);
	assert_int_equal(mdm_ca_create_files(c, k, "p256", "X", 0, &err), -1);
	mdm_err_clear(&err);
	assert_null(mdm_ca_load(c, k, &err));
	assert_non_null(strstr(err.text, "x.pem"));

	/* a leaf certificate is not a CA even with its key */
	char *leaf_pem = s_path("leaf.pem"), *leaf_key = s_path("leaf.key");
	X509 *leaf = mdm_cert_issue(g.rsa_ca, g.dev_key, "leaf", 3600, 0, time(NULL), NULL);
	assert_non_null(leaf);
	FILE *f = fopen(leaf_pem, "w");
	PEM_write_X509(f, leaf);
	fclose(f);
	f = fopen(leaf_key, "w");
	PEM_write_PrivateKey(f, g.dev_key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	mdm_err_clear(&err);
	assert_null(mdm_ca_load(leaf_pem, leaf_key, &err));
	assert_non_null(strstr(err.text, "not a CA"));
	X509_free(leaf);
	free(leaf_pem);
	free(leaf_key);
	free(c);
	free(k);
}

/* Only one of the two files present: never silently generate a new key next to it. */
static void test_ca_half_present_refused(void **state)
{
	(void)state;
	char *c = s_path("half.pem"), *k = s_path("half.key");
	mdm_err_t err = {MDM_OK, ""};
	assert_int_equal(mdm_ca_create_files(c, k, "p256", "Half", 30, &err), 0);
	assert_int_equal(unlink(c), 0);
	struct stat before;
	assert_int_equal(stat(k, &before), 0);
	assert_int_equal(mdm_ca_create_files(c, k, "p256", "Half", 30, &err), -1);
	assert_int_equal(err.code, MDM_E_INTERNAL);
	assert_null(mdm_ca_load_or_create(c, k, "p256", "Half", NULL));
	assert_int_equal(access(c, F_OK), -1);
	struct stat after;
	assert_int_equal(stat(k, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino); /* key untouched */
	free(c);
	free(k);
}

/* Four processes create the same CA at once: one CA results, all load it. */
static void test_ca_concurrent_create(void **state)
{
	(void)state;
	enum { N = 4 };
	char *c = s_path("race.pem"), *k = s_path("race.key");
	int fds[N][2];
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[i][0]);
			mdm_ca_t *ca = mdm_ca_load_or_create(c, k, "p256", "Race CA", NULL);
			if (ca == NULL || write(fds[i][1], mdm_ca_thumbprint(ca), 40) != 40)
				_exit(1);
			mdm_ca_destroy(&ca);
			_exit(0);
		}
		close(fds[i][1]);
	}
	char tps[N][41];
	for (int i = 0; i < N; i++) {
		int status = 0;
		assert_int_equal(read(fds[i][0], tps[i], 40), 40);
		tps[i][40] = '\0';
		close(fds[i][0]);
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	mdm_ca_t *ca = mdm_ca_load(c, k, NULL);
	assert_non_null(ca);
	for (int i = 0; i < N; i++)
		assert_string_equal(tps[i], mdm_ca_thumbprint(ca));
	assert_int_equal(s_count_matching(g.dir, "race.") , 3); /* pem, key, key.lock */
	assert_int_equal(s_count_matching(g.dir, ".tmp."), 0);
	mdm_ca_destroy(&ca);
	free(c);
	free(k);
}

/* ---- CSR -------------------------------------------------------------------------- */

static const char *s_csr_vectors[] = {
	"fleet_w10_06_rst_csr_pkcs10.der",
	"fleet_w11_mdmtest_csr_pkcs10.der",
	"wso2_wp81_04_rst_csr_pkcs10.der",
};

static void test_csr_real_windows_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof s_csr_vectors / sizeof s_csr_vectors[0]; i++) {
		size_t len = 0;
		unsigned char *der = s_vector(s_csr_vectors[i], &len);
		mdm_err_t err = {MDM_OK, ""};
		X509_REQ *req = mdm_csr_parse(der, len, &err);
		if (req == NULL)
			fail_msg("%s refused: %s", s_csr_vectors[i], err.text);
		assert_int_equal(mdm_csr_check_key(req, 2048, &err), 0);
		EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
		assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_RSA);
		assert_int_equal(EVP_PKEY_get_bits(pk), 2048);

		X509_NAME_ENTRY *ne = X509_NAME_get_entry(X509_REQ_get_subject_name(req), 0);
		ASN1_STRING *cn = X509_NAME_ENTRY_get_data(ne);
		const unsigned char *cnb = ASN1_STRING_get0_data(cn);
		int cnl = ASN1_STRING_length(cn);
		int nid = X509_REQ_get_signature_nid(req);
		if (i == 0) { /* Windows 10: PrintableString with '!' and a NUL, OIW sha1WithRSA */
			assert_int_equal(nid, NID_sha1WithRSA);
			assert_int_equal(ASN1_STRING_type(cn), V_ASN1_PRINTABLESTRING);
			assert_non_null(memchr(cnb, '!', (size_t)cnl));
			assert_int_equal(cnb[cnl - 1], '\0');
			assert_int_equal(X509_REQ_get_attr_count(req), 1);
		} else if (i == 1) { /* Windows 11 simulator: UTF8String, SHA-256 */
			assert_int_equal(nid, NID_sha256WithRSAEncryption);
			assert_int_equal(ASN1_STRING_type(cn), V_ASN1_UTF8STRING);
			assert_non_null(memchr(cnb, '!', (size_t)cnl));
		} else { /* Windows Phone 8.1 */
			assert_int_equal(nid, NID_sha1WithRSA);
			assert_int_equal(cnb[cnl - 1], '\0');
		}
		/* the hand-made SHA-1 path agrees with OpenSSL on the SHA-1 vectors, and does
		 * not claim to verify anything else */
		assert_int_equal(mdm_csr_verify_sha1_rsa(der, len, pk),
				 nid == NID_sha1WithRSA ? 1 : 0);

		/* issuing from it keeps the key and drops the device's subject */
		X509 *x = mdm_cert_issue(g.rsa_ca, pk, "B5B954E81FBCB94EB79BD08BE625F4EE", 86400,
					 0, time(NULL), &err);
		assert_non_null(x);
		assert_int_equal(mdm_csr_same_key(req, x), 1);
		mdm_cert_info_t info;
		assert_int_equal(mdm_cert_get_info(x, &info), 0);
		assert_string_equal(info.subject_cn, "B5B954E81FBCB94EB79BD08BE625F4EE");
		X509_free(x);
		X509_REQ_free(req);
		free(der);
	}
}

static void test_csr_flipped_signature_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof s_csr_vectors / sizeof s_csr_vectors[0]; i++) {
		size_t len = 0;
		unsigned char *der = s_vector(s_csr_vectors[i], &len);
		X509_REQ *good = mdm_csr_parse(der, len, NULL);
		assert_non_null(good);
		EVP_PKEY *pk = X509_REQ_get0_pubkey(good);

		/* the signature is the last element: flip its last byte */
		der[len - 1] ^= 0x01;
		mdm_err_t err = {MDM_OK, ""};
		assert_null(mdm_csr_parse(der, len, &err));
		assert_int_equal(err.code, MDM_E_CERT_REQUEST);
		assert_string_equal(err.text, "CSR signature does not verify");
		assert_int_equal(mdm_csr_verify_sha1_rsa(der, len, pk), 0);
		der[len - 1] ^= 0x01;

		/* a changed byte in the signed part (inside the subject) */
		const unsigned char *bang = memchr(der, '!', len);
		unsigned char *target = bang ? (unsigned char *)bang : der + 40;
		*target ^= 0x02;
		mdm_err_clear(&err);
		assert_null(mdm_csr_parse(der, len, &err));
		assert_int_equal(err.code, MDM_E_CERT_REQUEST);
		assert_int_equal(mdm_csr_verify_sha1_rsa(der, len, pk), 0);
		*target ^= 0x02;

		/* and back to the original, it verifies again */
		X509_REQ *again = mdm_csr_parse(der, len, NULL);
		assert_non_null(again);
		X509_REQ_free(again);
		X509_REQ_free(good);
		free(der);
	}
}

static void test_csr_not_der(void **state)
{
	(void)state;
	size_t len = 0;
	unsigned char *der = s_make_csr(g.dev_key, "x", EVP_sha256(), &len);
	mdm_err_t err = {MDM_OK, ""};
	X509_REQ *req = mdm_csr_parse(der, len, &err);
	assert_non_null(req);
	X509_REQ_free(req);

	/* trailing garbage */
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0x00;
	assert_null(mdm_csr_parse(longer, len + 1, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	assert_non_null(strstr(err.text, "CSR is not valid DER PKCS#10"));
	free(longer);

	/* truncated, empty, garbage, a certificate instead of a CSR */
	mdm_err_clear(&err);
	assert_null(mdm_csr_parse(der, len - 1, &err));
	assert_string_equal(err.text, "CSR is not valid DER PKCS#10");
	mdm_err_clear(&err);
	assert_null(mdm_csr_parse(der, 0, &err));
	assert_string_equal(err.text, "CSR is not valid DER PKCS#10");
	assert_null(mdm_csr_parse(NULL, 10, NULL));
	assert_null(mdm_csr_parse((const unsigned char *)"hello world", 11, NULL));
	unsigned char *cder = NULL;
	int clen = i2d_X509(mdm_ca_cert(g.rsa_ca), &cder);
	mdm_err_clear(&err);
	assert_null(mdm_csr_parse(cder, (size_t)clen, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	OPENSSL_free(cder);
	/* a SHA-256 CSR is not something the SHA-1 helper accepts */
	assert_int_equal(mdm_csr_verify_sha1_rsa(der, len, g.dev_key), 0);
	free(der);
}

static void test_csr_key_policy(void **state)
{
	(void)state;
	mdm_err_t err = {MDM_OK, ""};
	size_t len = 0;
	unsigned char *der;
	X509_REQ *req;

	EVP_PKEY *small = EVP_RSA_gen(1024);
	der = s_make_csr(small, "small", EVP_sha256(), &len);
	req = mdm_csr_parse(der, len, &err);
	assert_non_null(req); /* a valid request ... */
	assert_int_equal(mdm_csr_check_key(req, 2048, &err), -1); /* ... refused by policy */
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	assert_string_equal(err.text, "key too small: 1024 bits, policy minimum is 2048");
	mdm_err_clear(&err);
	assert_int_equal(mdm_csr_check_key(req, 1024, &err), 0);
	X509_REQ_free(req);
	free(der);
	EVP_PKEY_free(small);

	static const struct {
		const char *curve;
		int ok;
	} curves[] = {{"P-256", 1}, {"P-384", 1}, {"P-521", 0}, {"secp256k1", 0}};
	for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++) {
		EVP_PKEY *ec = EVP_EC_gen(curves[i].curve);
		assert_non_null(ec);
		der = s_make_csr(ec, "ec", EVP_sha256(), &len);
		req = mdm_csr_parse(der, len, NULL);
		assert_non_null(req);
		mdm_err_clear(&err);
		int rc = mdm_csr_check_key(req, 2048, &err);
		if (curves[i].ok) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(err.code, MDM_E_CERT_REQUEST);
			assert_non_null(strstr(err.text, "unsupported EC curve"));
		}
		X509_REQ_free(req);
		free(der);
		EVP_PKEY_free(ec);
	}

	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ed);
	der = s_make_csr(ed, "ed", NULL, &len);
	req = mdm_csr_parse(der, len, NULL);
	assert_non_null(req);
	mdm_err_clear(&err);
	assert_int_equal(mdm_csr_check_key(req, 2048, &err), -1);
	assert_non_null(strstr(err.text, "unsupported key type"));
	X509_REQ_free(req);
	free(der);
	EVP_PKEY_free(ed);
	assert_int_equal(mdm_csr_check_key(NULL, 2048, NULL), -1);
}

/* ---- issuing ---------------------------------------------------------------------- */

static void test_cert_issue_extensions(void **state)
{
	(void)state;
	size_t len = 0;
	unsigned char *der = s_make_csr(g.dev_key, "Device Chosen Subject", EVP_sha256(), &len);
	mdm_err_t err = {MDM_OK, ""};
	X509_REQ *req = mdm_csr_parse(der, len, &err);
	assert_non_null(req);
	time_t now = time(NULL);
	long validity = 365L * 86400, backdate = 3600;
	X509 *x = mdm_cert_issue(g.rsa_ca, X509_REQ_get0_pubkey(req), "device-0001", validity,
				 backdate, now, &err);
	assert_non_null(x);
	assert_int_equal(err.code, MDM_OK);

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);

	/* subject: exactly CN=device-0001 as UTF8String, nothing from the CSR */
	X509_NAME *subj = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_entry_count(subj), 1);
	X509_NAME_ENTRY *ne = X509_NAME_get_entry(subj, 0);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)), NID_commonName);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(ne)), V_ASN1_UTF8STRING);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
				       X509_get_subject_name(mdm_ca_cert(g.rsa_ca))),
			 0);

	/* basicConstraints critical CA:FALSE */
	int crit = -1;
	assert_non_null(s_ext(x, NID_basic_constraints, &crit));
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(x), 0);

	/* keyUsage critical digitalSignature + keyEncipherment, nothing else */
	assert_non_null(s_ext(x, NID_key_usage, &crit));
	assert_int_equal(crit, 1);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);

	/* EKU: exactly clientAuth */
	assert_non_null(s_ext(x, NID_ext_key_usage, &crit));
	assert_int_equal(crit, 0);
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);

	/* SKI = SHA-1 of the subject key; AKI keyid = the CA's SKI */
	assert_non_null(s_ext(x, NID_subject_key_identifier, &crit));
	assert_non_null(s_ext(x, NID_authority_key_identifier, &crit));
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	assert_non_null(ski);
	unsigned char kh[20];
	unsigned int khl = 0;
	assert_int_equal(X509_pubkey_digest(x, EVP_sha1(), kh, &khl), 1);
	assert_int_equal(ASN1_STRING_length(ski), 20);
	assert_memory_equal(ASN1_STRING_get0_data(ski), kh, 20);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(mdm_ca_cert(g.rsa_ca))),
			 0);

	/* serial: positive, >= 64 bits, different on every issue */
	int neg = 1;
	assert_true(s_serial_bits(x, &neg) >= 64);
	assert_false(neg);
	X509 *x2 = mdm_cert_issue(g.rsa_ca, X509_REQ_get0_pubkey(req), "device-0001", validity,
				  backdate, now, NULL);
	assert_non_null(x2);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
					      X509_get0_serialNumber(x2)),
			     0);

	/* validity window */
	mdm_cert_info_t info, info2;
	assert_int_equal(mdm_cert_get_info(x, &info), 0);
	assert_int_equal(info.not_before, now - backdate);
	assert_int_equal(info.not_after, now + validity);
	assert_string_equal(info.subject_cn, "device-0001");
	assert_string_equal(info.issuer_cn, "Test MDM RSA CA");
	assert_int_equal(mdm_cert_get_info(x2, &info2), 0);
	assert_string_not_equal(info.serial, info2.serial);
	assert_true(strlen(info.serial) >= 16);
	assert_int_equal(strspn(info.serial, "0123456789ABCDEF"), strlen(info.serial));

	/* thumbprint = upper-case SHA-1 of the DER */
	char tp[41];
	s_thumbprint_of(x, tp);
	assert_string_equal(info.thumbprint, tp);
	assert_string_not_equal(info.thumbprint, info2.thumbprint);

	/* key: the CSR's own */
	assert_int_equal(mdm_csr_same_key(req, x), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), g.dev_key), 1);
	X509 *foreign = mdm_cert_issue(g.rsa_ca, g.other_key, "other", 3600, 0, now, NULL);
	assert_int_equal(mdm_csr_same_key(req, foreign), 0);

	/* verifies against our CA, not another one; and chains as a TLS client cert */
	assert_int_equal(mdm_cert_issued_by(x, g.rsa_ca), 1);
	assert_int_equal(mdm_cert_issued_by(x, g.ec_ca), 0);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_add_cert(store, mdm_ca_cert(g.rsa_ca));
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, x, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	int v = X509_verify_cert(ctx);
	if (v != 1)
		fail_msg("chain verification: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);

	/* DER base64 and PEM round trips */
	char *b64 = mdm_cert_der_b64(x);
	assert_non_null(b64);
	assert_null(strchr(b64, '\n'));
	size_t dlen = 0;
	unsigned char *d = mdm_b64_decode(b64, &dlen);
	X509 *back = mdm_cert_from_der(d, dlen);
	assert_non_null(back);
	assert_int_equal(X509_cmp(back, x), 0);
	X509_free(back);
	unsigned char *d2 = malloc(dlen + 1);
	memcpy(d2, d, dlen);
	d2[dlen] = 0;
	assert_null(mdm_cert_from_der(d2, dlen + 1)); /* trailing byte */
	assert_null(mdm_cert_from_der(d2, dlen - 1));
	free(d2);
	BIO *mem = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(mem, x);
	char *pem = NULL;
	long pl = BIO_get_mem_data(mem, &pem);
	char *pemz = strndup(pem, (size_t)pl);
	back = mdm_cert_from_pem(pemz);
	assert_non_null(back);
	assert_int_equal(X509_cmp(back, x), 0);
	X509_free(back);
	assert_null(mdm_cert_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
	assert_null(mdm_cert_from_pem(NULL));
	free(pemz);
	BIO_free(mem);
	free(d);
	free(b64);

	X509_free(foreign);
	X509_free(x2);
	X509_free(x);
	X509_REQ_free(req);
	free(der);
}

static void test_cert_issue_ec_ca(void **state)
{
	(void)state;
	time_t now = time(NULL);
	X509 *x = mdm_cert_issue(g.ec_ca, g.dev_key, "ec-issued", 3600, 60, now, NULL);
	assert_non_null(x);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(mdm_cert_issued_by(x, g.ec_ca), 1);
	assert_int_equal(mdm_cert_issued_by(x, g.rsa_ca), 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(mdm_ca_cert(g.ec_ca))),
			 0);
	mdm_cert_info_t info;
	assert_int_equal(mdm_cert_get_info(x, &info), 0);
	assert_int_equal(info.not_before, now - 60);
	assert_string_equal(info.issuer_cn, "Test MDM EC CA");
	X509_free(x);
}

/* A CA made elsewhere without a subjectKeyIdentifier: AKI falls back to issuer+serial. */
static void test_cert_issue_ca_without_ski(void **state)
{
	(void)state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *ca = X509_new();
	X509_NAME *name = mdm_cert_name_cn("External CA", NULL);
	assert_non_null(name);
	assert_int_equal(X509_set_version(ca, X509_VERSION_3), 1);
	assert_int_equal(mdm_cert_set_random_serial(ca), 0);
	X509_set_subject_name(ca, name);
	X509_set_issuer_name(ca, name);
	X509_gmtime_adj(X509_getm_notBefore(ca), 0);
	X509_gmtime_adj(X509_getm_notAfter(ca), 86400);
	X509_set_pubkey(ca, key);
	assert_int_equal(mdm_cert_add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE"), 0);
	assert_true(X509_sign(ca, key, EVP_sha256()) > 0);
	assert_null(X509_get0_subject_key_id(ca));

	char *c = s_path("ext_ca.pem"), *k = s_path("ext_ca.key");
	FILE *f = fopen(c, "w");
	PEM_write_X509(f, ca);
	fclose(f);
	f = fopen(k, "w");
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	mdm_err_t err = {MDM_OK, ""};
	mdm_ca_t *ext = mdm_ca_load(c, k, &err);
	assert_non_null(ext);
	X509 *x = mdm_cert_issue(ext, g.dev_key, "dev", 3600, 0, time(NULL), &err);
	if (x == NULL)
		fail_msg("issue with SKI-less CA: %s", err.text);
	assert_int_equal(mdm_cert_issued_by(x, ext), 1);
	assert_null(X509_get0_authority_key_id(x));
	assert_non_null(X509_get0_authority_issuer(x));
	assert_non_null(X509_get0_authority_serial(x));
	X509_free(x);
	mdm_ca_destroy(&ext);
	free(c);
	free(k);
	X509_NAME_free(name);
	X509_free(ca);
	EVP_PKEY_free(key);
}

static void test_cert_issue_bad_names(void **state)
{
	(void)state;
	time_t now = time(NULL);
	mdm_err_t err = {MDM_OK, ""};
	char cn64[65], cn65[66];
	memset(cn64, 'a', 64);
	cn64[64] = '\0';
	memset(cn65, 'a', 65);
	cn65[65] = '\0';
	static const char *bad[] = {"", "\xff\xfe", "abc\xc3", NULL};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mdm_err_clear(&err);
		assert_null(mdm_cert_issue(g.rsa_ca, g.dev_key, bad[i], 3600, 0, now, &err));
		assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	}
	mdm_err_clear(&err);
	assert_null(mdm_cert_issue(g.rsa_ca, g.dev_key, cn65, 3600, 0, now, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	X509 *x = mdm_cert_issue(g.rsa_ca, g.dev_key, cn64, 3600, 0, now, NULL);
	assert_non_null(x);
	X509_free(x);
	/* 64 characters of non-ASCII UTF-8 are fine too (the bound counts characters) */
	char umlauts[129];
	for (int i = 0; i < 64; i++)
		memcpy(umlauts + 2 * i, "\xc3\xa4", 2);
	umlauts[128] = '\0';
	x = mdm_cert_issue(g.rsa_ca, g.dev_key, umlauts, 3600, 0, now, NULL);
	assert_non_null(x);
	mdm_cert_info_t info;
	assert_int_equal(mdm_cert_get_info(x, &info), 0);
	assert_string_equal(info.subject_cn, umlauts);
	X509_free(x);
	/* bad arguments */
	mdm_err_clear(&err);
	assert_null(mdm_cert_issue(g.rsa_ca, g.dev_key, "x", 0, 0, now, &err));
	assert_int_equal(err.code, MDM_E_INTERNAL);
	assert_null(mdm_cert_issue(g.rsa_ca, g.dev_key, "x", 10, -1, now, NULL));
	assert_null(mdm_cert_issue(NULL, g.dev_key, "x", 10, 0, now, NULL));
	assert_null(mdm_cert_issue(g.rsa_ca, NULL, "x", 10, 0, now, NULL));
	assert_int_equal(mdm_cert_get_info(NULL, &info), -1);
	assert_int_equal(mdm_cert_issued_by(NULL, g.rsa_ca), 0);
}

/* ---- renewal ---------------------------------------------------------------------- */

/* The device's current certificate (for dev_key) and a new CSR (for dev_key2). */
static X509 *s_device_cert(void)
{
	X509 *x = mdm_cert_issue(g.rsa_ca, g.dev_key, "device-renew", 86400, 0, time(NULL), NULL);
	assert_non_null(x);
	return x;
}

static void test_renew_roundtrip(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	size_t csr_len = 0, p7_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	unsigned char *p7 = mdm_renew_build(cur, g.dev_key, csr, csr_len, &p7_len);
	assert_non_null(p7);
	assert_true(p7_len > csr_len);

	/* it really is PKCS#7 SignedData with the signer cert embedded */
	const unsigned char *p = p7;
	PKCS7 *pk = d2i_PKCS7(NULL, &p, (long)p7_len);
	assert_non_null(pk);
	assert_true(PKCS7_type_is_signed(pk));
	assert_int_equal(sk_X509_num(pk->d.sign->cert), 1);
	PKCS7_free(pk);

	mdm_err_t err = {MDM_OK, ""};
	X509_REQ *req = mdm_renew_parse(p7, p7_len, cur, &err);
	if (req == NULL)
		fail_msg("renewal refused: %s", err.text);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), g.dev_key2), 1);
	X509_REQ_free(req);

	/* without an expected signer, the embedded one is used */
	req = mdm_renew_parse(p7, p7_len, NULL, &err);
	assert_non_null(req);
	X509_REQ_free(req);

	free(p7);
	free(csr);
	X509_free(cur);
}

static void test_renew_wrong_signer(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	size_t csr_len = 0, p7_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	unsigned char *p7 = mdm_renew_build(cur, g.dev_key, csr, csr_len, &p7_len);
	assert_non_null(p7);

	/* another device's certificate from the same CA */
	X509 *other = mdm_cert_issue(g.rsa_ca, g.other_key, "other", 86400, 0, time(NULL), NULL);
	mdm_err_t err = {MDM_OK, ""};
	assert_null(mdm_renew_parse(p7, p7_len, other, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);

	/* a second certificate for the same key is still not "that exact certificate" */
	X509 *same_key = s_device_cert();
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(p7, p7_len, same_key, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);

	X509_free(same_key);
	X509_free(other);
	free(p7);
	free(csr);
	X509_free(cur);
}

/* The real Windows 10 CSR (SHA-1, OIW OID, NUL in the CN) survives the PKCS#7 wrapper. */
static void test_renew_real_csr(void **state)
{
	(void)state;
	size_t vlen = 0, p7_len = 0;
	unsigned char *v = s_vector("fleet_w10_06_rst_csr_pkcs10.der", &vlen);
	X509 *cur = s_device_cert();
	unsigned char *p7 = mdm_renew_build(cur, g.dev_key, v, vlen, &p7_len);
	assert_non_null(p7);
	mdm_err_t err = {MDM_OK, ""};
	X509_REQ *req = mdm_renew_parse(p7, p7_len, cur, &err);
	if (req == NULL)
		fail_msg("renewal refused: %s", err.text);
	assert_int_equal(X509_REQ_get_signature_nid(req), NID_sha1WithRSA);
	X509_REQ_free(req);
	free(p7);
	X509_free(cur);
	free(v);
}

/*
 * A look-alike: a certificate with the same issuer and serial as the device's real one but
 * another key (the test holds the CA key, an attacker would not -- but the parser must
 * not depend on that). Signed with the look-alike and embedding it, the request must still
 * be refused when the caller names the real certificate.
 */
static void test_renew_lookalike_signer(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	X509 *fake = mdm_cert_issue(g.rsa_ca, g.other_key, "device-renew", 86400, 0, time(NULL),
				    NULL);
	assert_non_null(fake);
	ASN1_INTEGER *serial = ASN1_INTEGER_dup(X509_get0_serialNumber(cur));
	assert_int_equal(X509_set_serialNumber(fake, serial), 1);
	ASN1_INTEGER_free(serial);
	assert_true(X509_sign(fake, mdm_ca_key(g.rsa_ca), EVP_sha256()) > 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(fake), X509_get_issuer_name(cur)), 0);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(fake),
					  X509_get0_serialNumber(cur)),
			 0);

	size_t csr_len = 0, p7_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	unsigned char *p7 = mdm_renew_build(fake, g.other_key, csr, csr_len, &p7_len);
	assert_non_null(p7);
	mdm_err_t err = {MDM_OK, ""};
	assert_null(mdm_renew_parse(p7, p7_len, cur, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	assert_string_equal(err.text, "renewal PKCS#7 signature does not verify");
	/* without an expectation the embedded certificate is taken at its word: chain and
	 * identity checks are the caller's job, as documented */
	X509_REQ *req = mdm_renew_parse(p7, p7_len, NULL, NULL);
	assert_non_null(req);
	X509_REQ_free(req);
	/* and the look-alike itself, named explicitly, is accepted */
	req = mdm_renew_parse(p7, p7_len, fake, NULL);
	assert_non_null(req);
	X509_REQ_free(req);

	free(p7);
	free(csr);
	X509_free(fake);
	X509_free(cur);
}

static void test_renew_tampered(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	size_t csr_len = 0, p7_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	unsigned char *p7 = mdm_renew_build(cur, g.dev_key, csr, csr_len, &p7_len);
	assert_non_null(p7);
	unsigned char *at = memmem(p7, p7_len, csr, csr_len);
	assert_non_null(at);

	/* one byte of the wrapped CSR's subject changed */
	unsigned char *cn = memmem(at, csr_len, "renew me", 8);
	assert_non_null(cn);
	cn[0] ^= 0x20;
	mdm_err_t err = {MDM_OK, ""};
	assert_null(mdm_renew_parse(p7, p7_len, cur, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	assert_non_null(strstr(err.text, "does not verify"));
	cn[0] ^= 0x20;

	/* last byte of the PKCS#7 signature */
	p7[p7_len - 1] ^= 0x01;
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(p7, p7_len, cur, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	p7[p7_len - 1] ^= 0x01;

	/* restored: accepted again (so the refusals above were about the tampering) */
	X509_REQ *req = mdm_renew_parse(p7, p7_len, cur, &err);
	assert_non_null(req);
	X509_REQ_free(req);

	free(p7);
	free(csr);
	X509_free(cur);
}

static void test_renew_malformed(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	mdm_err_t err = {MDM_OK, ""};
	assert_null(mdm_renew_parse((const unsigned char *)"garbage", 7, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(NULL, 0, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);

	/* a bare CSR is not a renewal request */
	size_t csr_len = 0, p7_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(csr, csr_len, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);

	/* validly signed, but the content is not a CSR */
	unsigned char *p7 = mdm_renew_build(cur, g.dev_key, (const unsigned char *)"hello", 5,
					    &p7_len);
	assert_non_null(p7);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(p7, p7_len, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	assert_string_equal(err.text, "CSR is not valid DER PKCS#10");
	free(p7);

	/* trailing garbage after the PKCS#7 */
	p7 = mdm_renew_build(cur, g.dev_key, csr, csr_len, &p7_len);
	unsigned char *longer = malloc(p7_len + 2);
	memcpy(longer, p7, p7_len);
	longer[p7_len] = longer[p7_len + 1] = 0;
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(longer, p7_len + 2, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	free(longer);
	free(p7);

	/* detached content */
	BIO *in = BIO_new_mem_buf(csr, (int)csr_len);
	PKCS7 *det = PKCS7_sign(cur, g.dev_key, NULL, in, PKCS7_BINARY | PKCS7_DETACHED);
	assert_non_null(det);
	unsigned char *dd = NULL;
	int dl = i2d_PKCS7(det, &dd);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(dd, (size_t)dl, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	assert_non_null(strstr(err.text, "no content"));
	OPENSSL_free(dd);
	PKCS7_free(det);
	BIO_free(in);

	/* inner CSR with a broken self-signature */
	csr[csr_len - 1] ^= 1;
	p7 = mdm_renew_build(cur, g.dev_key, csr, csr_len, &p7_len);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(p7, p7_len, cur, &err));
	assert_int_equal(err.code, MDM_E_CERT_REQUEST);
	assert_string_equal(err.text, "CSR signature does not verify");
	free(p7);

	assert_null(mdm_renew_build(NULL, g.dev_key, csr, csr_len, &p7_len));
	assert_null(mdm_renew_build(cur, g.dev_key, csr, 0, &p7_len));
	free(csr);
	X509_free(cur);
}

/* No certificate inside: only works when the caller names the signer. */
static void test_renew_without_embedded_cert(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	size_t csr_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	BIO *in = BIO_new_mem_buf(csr, (int)csr_len);
	PKCS7 *p7 = PKCS7_sign(cur, g.dev_key, NULL, in, PKCS7_BINARY | PKCS7_NOCERTS);
	assert_non_null(p7);
	unsigned char *der = NULL;
	int len = i2d_PKCS7(p7, &der);
	assert_true(len > 0);

	mdm_err_t err = {MDM_OK, ""};
	X509_REQ *req = mdm_renew_parse(der, (size_t)len, cur, &err);
	assert_non_null(req);
	X509_REQ_free(req);
	assert_null(mdm_renew_parse(der, (size_t)len, NULL, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);
	X509 *other = mdm_cert_issue(g.rsa_ca, g.other_key, "other", 86400, 0, time(NULL), NULL);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(der, (size_t)len, other, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);

	X509_free(other);
	OPENSSL_free(der);
	PKCS7_free(p7);
	BIO_free(in);
	free(csr);
	X509_free(cur);
}

/* CMS naming its signer by subject key identifier: d2i_PKCS7 cannot read it, CMS can. */
static void test_renew_cms_keyid(void **state)
{
	(void)state;
	X509 *cur = s_device_cert();
	size_t csr_len = 0;
	unsigned char *csr = s_make_csr(g.dev_key2, "renew me", EVP_sha256(), &csr_len);
	BIO *in = BIO_new_mem_buf(csr, (int)csr_len);
	CMS_ContentInfo *cms = CMS_sign(cur, g.dev_key, NULL, in, CMS_BINARY | CMS_USE_KEYID);
	assert_non_null(cms);
	unsigned char *der = NULL;
	int len = i2d_CMS_ContentInfo(cms, &der);
	assert_true(len > 0);
	const unsigned char *p = der;
	PKCS7 *as_p7 = d2i_PKCS7(NULL, &p, len);
	assert_true(as_p7 == NULL || p != der + len); /* so the CMS path is what we test */
	PKCS7_free(as_p7);
	ERR_clear_error();

	mdm_err_t err = {MDM_OK, ""};
	X509_REQ *req = mdm_renew_parse(der, (size_t)len, cur, &err);
	if (req == NULL)
		fail_msg("CMS renewal refused: %s", err.text);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), g.dev_key2), 1);
	X509_REQ_free(req);

	X509 *other = mdm_cert_issue(g.rsa_ca, g.other_key, "other", 86400, 0, time(NULL), NULL);
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(der, (size_t)len, other, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);

	unsigned char *at = memmem(der, (size_t)len, "renew me", 8);
	assert_non_null(at);
	at[0] ^= 0x20;
	mdm_err_clear(&err);
	assert_null(mdm_renew_parse(der, (size_t)len, cur, &err));
	assert_int_equal(err.code, MDM_E_NOT_ELIGIBLE_RENEW);

	X509_free(other);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	free(csr);
	X509_free(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_create_rsa),
		cmocka_unit_test(test_ca_create_p256),
		cmocka_unit_test(test_ca_create_is_idempotent),
		cmocka_unit_test(test_ca_mismatched_key_refused),
		cmocka_unit_test(test_ca_bad_inputs),
		cmocka_unit_test(test_ca_half_present_refused),
		cmocka_unit_test(test_ca_concurrent_create),
		cmocka_unit_test(test_csr_real_windows_vectors),
		cmocka_unit_test(test_csr_flipped_signature_refused),
		cmocka_unit_test(test_csr_not_der),
		cmocka_unit_test(test_csr_key_policy),
		cmocka_unit_test(test_cert_issue_extensions),
		cmocka_unit_test(test_cert_issue_ec_ca),
		cmocka_unit_test(test_cert_issue_ca_without_ski),
		cmocka_unit_test(test_cert_issue_bad_names),
		cmocka_unit_test(test_renew_roundtrip),
		cmocka_unit_test(test_renew_real_csr),
		cmocka_unit_test(test_renew_wrong_signer),
		cmocka_unit_test(test_renew_lookalike_signer),
		cmocka_unit_test(test_renew_tampered),
		cmocka_unit_test(test_renew_malformed),
		cmocka_unit_test(test_renew_without_embedded_cert),
		cmocka_unit_test(test_renew_cms_keyid),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
