/* sim_pki.c -- the device's crypto (OpenSSL directly): keys, Windows-shaped CSRs, PKCS#7, files. */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "mdm_log.h"

/* ---- encodings and randomness ------------------------------------------------------ */

char *sim_b64_encode(const unsigned char *data, size_t len)
{
	if (len > (size_t)1 << 30)
		return NULL;
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int s_b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Own decoder because EVP_DecodeBlock neither skips whitespace nor reports the padding:
 * accepts standard base64 with optional '=' padding and any whitespace in between. */
unsigned char *sim_b64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), o = 0;
	unsigned char *out = malloc(n / 4 * 3 + 3);
	unsigned acc = 0;
	int bits = 0, pad = 0;
	if (out == NULL)
		return NULL;
	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		int v = s_b64_val((unsigned char)*p);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6)
		goto bad;
	*len = o;
	return out;
bad:
	free(out);
	return NULL;
}

void sim_hex(const unsigned char *data, size_t len, char *out, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

int sim_rand_hex(char *out, size_t nbytes, int upper)
{
	unsigned char buf[64];
	if (nbytes > sizeof buf || RAND_bytes(buf, (int)nbytes) != 1)
		return -1;
	sim_hex(buf, nbytes, out, upper);
	return 0;
}

int sim_guid(char *out, int upper)
{
	unsigned char b[16];
	char h[33];
	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	sim_hex(b, sizeof b, h, upper);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	return 0;
}

int sim_thumbprint(X509 *cert, char out[41])
{
	unsigned char md[SHA_DIGEST_LENGTH];
	unsigned int n = 0;
	if (X509_digest(cert, EVP_sha1(), md, &n) != 1 || n != SHA_DIGEST_LENGTH)
		return -1;
	sim_hex(md, n, out, 1);
	return 0;
}

void sim_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	sim_hex(md, sizeof md, out, 1);
}

/* ---- keys, CSR, PKCS#7 ------------------------------------------------------------- */

EVP_PKEY *sim_key_new(int bits)
{
	EVP_PKEY *key = EVP_RSA_gen((unsigned int)bits);
	if (key == NULL)
		log_err("RSA-%d key generation failed: %s", bits, ERR_reason_error_string(ERR_get_error()));
	return key;
}

unsigned char *sim_csr_new(EVP_PKEY *key, const char *device_id, int sha256, size_t *len)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_ALGOR *alg = NULL;
	unsigned char *der = NULL, *p;
	char guid[37], cn[160];
	size_t dlen = strlen(device_id);

	check(dlen > 0 && dlen < 100, "device id length %zu out of range", dlen);
	check(sim_guid(guid, 1) == 0, "RAND_bytes failed");
	/* Windows cuts the GUID so that "<GUID>!<DeviceID>" plus its NUL fills the 64-byte CN. */
	size_t glen = dlen + 2 < 64 ? 64 - 2 - dlen : 0;
	if (glen > 36)
		glen = 36;
	if (glen < 8)
		glen = 8;
	int cnlen = snprintf(cn, sizeof cn, "%.*s!%s", (int)glen, guid, device_id) + 1;

	req = X509_REQ_new();
	name = X509_NAME_new();
	check_mem(req && name);
	check(X509_REQ_set_version(req, 0) == 1, "X509_REQ_set_version failed");
	/* Not an MBSTRING type, so OpenSSL stores the bytes (with the NUL, and the '!' that
	 * PrintableString does not allow) as they are, like Windows does. */
	check(X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_PRINTABLESTRING,
					 (const unsigned char *)cn, cnlen, -1, 0) == 1,
	      "cannot set CSR subject");
	check(X509_REQ_set_subject_name(req, name) == 1, "cannot set CSR subject");
	check(X509_REQ_set_pubkey(req, key) == 1, "cannot set CSR key");

	/* extensionRequest 1.3.6.1.4.1.311.66.1.0 = DeviceID ASCII + NUL, not a DER string. */
	oid = OBJ_txt2obj(SIM_OID_DEVICE_ID, 1);
	os = ASN1_OCTET_STRING_new();
	check_mem(oid && os);
	check(ASN1_OCTET_STRING_set(os, (const unsigned char *)device_id, (int)dlen + 1) == 1,
	      "ASN1_OCTET_STRING_set failed");
	ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
	exts = sk_X509_EXTENSION_new_null();
	check_mem(ext && exts);
	check(sk_X509_EXTENSION_push(exts, ext) > 0, "out of memory");
	ext = NULL;
	check(X509_REQ_add_extensions(req, exts) == 1, "cannot add CSR extensions");

	check(X509_REQ_sign(req, key, sha256 ? EVP_sha256() : EVP_sha1()) > 0, "CSR signing failed: %s",
	      ERR_reason_error_string(ERR_get_error()));
	if (!sha256) {
		/* Windows labels SHA-1 CSRs with the OIW OID 1.3.14.3.2.29; the signature value is
		 * the same PKCS#1 v1.5 SHA-1 signature, and the algorithm field is not signed. */
		alg = X509_ALGOR_new();
		check_mem(alg);
		check(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha1WithRSA), V_ASN1_NULL, NULL) == 1,
		      "X509_ALGOR_set0 failed");
		check(X509_REQ_set1_signature_algo(req, alg) == 1, "cannot relabel CSR algorithm");
	}
	int n = i2d_X509_REQ(req, NULL);
	check(n > 0, "CSR encoding failed");
	der = malloc((size_t)n);
	check_mem(der);
	p = der;
	i2d_X509_REQ(req, &p);
	*len = (size_t)n;
	goto done;
error:
	free(der);
	der = NULL;
done:
	X509_ALGOR_free(alg);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

unsigned char *sim_pkcs7_sign(X509 *cert, EVP_PKEY *key, const unsigned char *data, size_t len,
			      size_t *out_len)
{
	unsigned char *der = NULL, *p;
	PKCS7 *p7 = NULL;
	BIO *in = BIO_new_mem_buf(data, (int)len);
	check_mem(in);
	p7 = PKCS7_sign(cert, key, NULL, in, PKCS7_BINARY);
	check(p7, "PKCS7_sign failed: %s", ERR_reason_error_string(ERR_get_error()));
	int n = i2d_PKCS7(p7, NULL);
	check(n > 0, "PKCS#7 encoding failed");
	der = malloc((size_t)n);
	check_mem(der);
	p = der;
	i2d_PKCS7(p7, &p);
	*out_len = (size_t)n;
error:
	PKCS7_free(p7);
	BIO_free(in);
	return der;
}

/* ---- certificate fields ------------------------------------------------------------ */

char *sim_cert_serial(X509 *cert)
{
	char *out = NULL;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex)
		out = strdup(hex);
	OPENSSL_free(hex);
	BN_free(bn);
	return out;
}

char *sim_cert_not_after(X509 *cert)
{
	struct tm tm;
	char buf[32];
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return NULL;
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strdup(buf);
}

char *sim_cert_cn(X509 *cert)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return NULL;
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return NULL;
	char *out = malloc((size_t)n + 1);
	if (out) {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
	}
	OPENSSL_free(utf8);
	return out;
}

/* ---- PEM and files ----------------------------------------------------------------- */

static char *s_bio_string(BIO *bio)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (out) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	return out;
}

char *sim_key_pem(EVP_PKEY *key)
{
	char *out = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
		out = s_bio_string(bio);
	BIO_free(bio);
	return out;
}

char *sim_cert_pem(X509 *cert)
{
	char *out = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio && PEM_write_bio_X509(bio, cert) == 1)
		out = s_bio_string(bio);
	BIO_free(bio);
	return out;
}

EVP_PKEY *sim_key_load(const char *path)
{
	EVP_PKEY *key = NULL;
	BIO *bio = BIO_new_file(path, "r");
	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL)
		fprintf(stderr, "cannot read private key %s\n", path);
	BIO_free(bio);
	return key;
}

X509 *sim_cert_load(const char *path)
{
	X509 *cert = NULL;
	BIO *bio = BIO_new_file(path, "r");
	if (bio)
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (cert == NULL)
		fprintf(stderr, "cannot read certificate %s\n", path);
	BIO_free(bio);
	return cert;
}

int sim_mkdirs(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
		return -1;
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST) {
				fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* Temp file + fsync + rename, so a crash never leaves half a key or a half-written
 * enrollment.json next to the other files. fchmod because open() modes pass the umask. */
int sim_write_file(const char *dir, const char *name, const void *data, size_t len, int mode)
{
	char path[4096], tmp[4200];
	int fd = -1;
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return -1;
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		goto error;
	if (fchmod(fd, (mode_t)mode) != 0)
		goto error;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto error;
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto error;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto error;
	return 0;
error:
	fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}
