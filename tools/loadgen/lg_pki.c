/* lg_pki.c -- the simulated devices' crypto, all of it done before a measurement starts:
 * RSA keys (a pool: RSA-2048 generation costs ~50 ms each, which would make 100,000 distinct
 * keys take over an hour; the server's work per CSR is the same whatever key it carries),
 * Windows-shaped PKCS#10 requests (one per device, signed with its pool key), and reading
 * the issued certificate back out of the provisioning document. */
#include "lg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "mdm_b64.h"

#define LG_OID_DEVICE_ID "1.3.6.1.4.1.311.66.1.0"

typedef struct {
	EVP_PKEY **keys;
	int bits;
} s_keygen_t;

static void s_keygen_one(long i, void *arg)
{
	s_keygen_t *k = arg;
	k->keys[i] = EVP_RSA_gen((unsigned)k->bits);
	if (k->keys[i] == NULL)
		lg_die("RSA-%d key generation failed", k->bits);
}

EVP_PKEY **lg_keys_new(int n, int bits, int threads)
{
	s_keygen_t k = {lg_xmalloc((size_t)n * sizeof(EVP_PKEY *)), bits};
	lg_parallel(n, threads, s_keygen_one, &k);
	return k.keys;
}

int lg_keys_write(EVP_PKEY **keys, int n, const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		PEM_write_PrivateKey(f, keys[i], NULL, NULL, 0, NULL, NULL);
	return fclose(f);
}

EVP_PKEY **lg_keys_read(const char *path, int *n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		lg_die("cannot read %s", path);
	int cap = 64;
	EVP_PKEY **keys = lg_xmalloc((size_t)cap * sizeof *keys);
	*n = 0;
	EVP_PKEY *k;
	while ((k = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL) {
		if (*n == cap) {
			cap *= 2;
			keys = realloc(keys, (size_t)cap * sizeof *keys);
			if (keys == NULL)
				lg_die("out of memory");
		}
		keys[(*n)++] = k;
	}
	ERR_clear_error();
	fclose(f);
	if (*n == 0)
		lg_die("no keys in %s", path);
	return keys;
}

/* The request Windows 10/11 sends (tools/sim/sim_pki.c builds the same). */
char *lg_csr_b64(EVP_PKEY *key, const char *device_id)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char g[16];
	char guid[40], cn[160], *out = NULL;
	if (req == NULL || name == NULL || RAND_bytes(g, sizeof g) != 1)
		lg_die("CSR: out of memory");
	snprintf(guid, sizeof guid, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
	size_t dlen = strlen(device_id);
	size_t glen = dlen + 2 < 64 ? 64 - 2 - dlen : 8;
	if (glen > 36)
		glen = 36;
	int cnlen = snprintf(cn, sizeof cn, "%.*s!%s", (int)glen, guid, device_id) + 1;
	X509_REQ_set_version(req, 0);
	X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_PRINTABLESTRING,
				   (const unsigned char *)cn, cnlen, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	ASN1_OBJECT *oid = OBJ_txt2obj(LG_OID_DEVICE_ID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(os, (const unsigned char *)device_id, (int)dlen + 1);
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	sk_X509_EXTENSION_push(exts, ext);
	X509_REQ_add_extensions(req, exts);
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		lg_die("CSR signing failed");
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	if (n <= 0)
		lg_die("CSR encoding failed");
	out = mdm_b64_encode(der, (size_t)n);
	if (out == NULL)
		lg_die("out of memory");
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

/* RSTRC -> BinarySecurityToken (base64 provisioning document) -> characteristic "My" ->
 * parm EncodedCertificate. String search, no XML parser: this runs on our own server's
 * output, after the measurement. */
char *lg_rstrc_cert_b64(const char *body, size_t len)
{
	const char *bst = lg_memstr(body, len, "BinarySecurityToken");
	if (bst == NULL)
		return NULL;
	const char *gt = memchr(bst, '>', len - (size_t)(bst - body));
	if (gt == NULL)
		return NULL;
	gt++;
	const char *lt = memchr(gt, '<', len - (size_t)(gt - body));
	if (lt == NULL)
		return NULL;
	char *b64 = strndup(gt, (size_t)(lt - gt));
	size_t dlen = 0;
	unsigned char *doc = b64 ? mdm_b64_decode(b64, &dlen) : NULL;
	free(b64);
	if (doc == NULL)
		return NULL;
	char *out = NULL;
	const char *my = lg_memstr((const char *)doc, dlen, "\"My\"");
	const char *enc = my ? lg_memstr(my, dlen - (size_t)(my - (const char *)doc),
					 "name=\"EncodedCertificate\" value=\"")
			     : NULL;
	if (enc) {
		enc += strlen("name=\"EncodedCertificate\" value=\"");
		const char *q = strchr(enc, '"');
		if (q)
			out = strndup(enc, (size_t)(q - enc));
	}
	free(doc);
	return out;
}
