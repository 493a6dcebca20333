/* mdm_password.c -- PBKDF2-HMAC-SHA256 password hashes in a self-describing text format. */
#include "mdm_password.h"

#include "mdm_b64.h"
#include "mdm_log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PREFIX "pbkdf2-sha256$"
#define S_SALT_LEN 16
#define S_HASH_LEN 32
/* accepted salt sizes when verifying (we write 16; leave room for other writers) */
#define S_SALT_MIN 8
#define S_SALT_MAX 64

static const char s_b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

static int s_pbkdf2(const char *password, const unsigned char *salt, size_t salt_len,
		    unsigned iterations, unsigned char out[S_HASH_LEN])
{
	size_t plen = strlen(password);
	if (plen > INT_MAX || salt_len > INT_MAX || iterations > INT_MAX)
		return -1;
	if (PKCS5_PBKDF2_HMAC(password, (int)plen, salt, (int)salt_len, (int)iterations,
			      EVP_sha256(), S_HASH_LEN, out) != 1)
		return -1;
	return 0;
}

/*
 * Salt and iteration count travel inside the string, so the default can be raised later
 * without invalidating stored hashes. Returns NULL (nothing allocated) on bad arguments or
 * a failed RNG/KDF.
 */
char *mdm_password_hash(const char *password, unsigned iterations)
{
	unsigned char salt[S_SALT_LEN], hash[S_HASH_LEN];
	char *salt_b64 = NULL, *hash_b64 = NULL, *out = NULL;
	if (iterations == 0)
		iterations = MDM_PASSWORD_DEFAULT_ITER;
	check_quiet(password != NULL);
	check(iterations >= MDM_PASSWORD_MIN_ITER && iterations <= MDM_PASSWORD_MAX_ITER,
	      "password hash: %u iterations is outside [%u, %u]", iterations,
	      MDM_PASSWORD_MIN_ITER, MDM_PASSWORD_MAX_ITER);
	check_quiet(mdm_random_bytes(salt, sizeof salt) == 0);
	check(s_pbkdf2(password, salt, sizeof salt, iterations, hash) == 0, "PBKDF2 failed");
	salt_b64 = mdm_b64_encode(salt, sizeof salt);
	hash_b64 = mdm_b64_encode(hash, sizeof hash);
	check_mem(salt_b64 && hash_b64);
	size_t need = strlen(S_PREFIX) + 10 + 1 + strlen(salt_b64) + 1 + strlen(hash_b64) + 1;
	out = malloc(need);
	check_mem(out);
	snprintf(out, need, S_PREFIX "%u$%s$%s", iterations, salt_b64, hash_b64);
error:
	OPENSSL_cleanse(hash, sizeof hash);
	free(salt_b64);
	free(hash_b64);
	return out;
}

/* Parses a decimal without sign or leading zero, ending at '$'. 0 and *end on success. */
static int s_parse_iter(const char *s, unsigned long *value, const char **end)
{
	unsigned long v = 0;
	const char *p = s;
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (p - s >= 9) /* more than 9 digits is far beyond the maximum */
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (*p != '$')
		return -1;
	*value = v;
	*end = p;
	return 0;
}

/* Decodes one base64 field of exactly `len` characters (no whitespace allowed). */
static unsigned char *s_field(const char *s, size_t len, size_t *out_len)
{
	if (len == 0 || strspn(s, s_b64_chars) < len)
		return NULL;
	char *copy = strndup(s, len);
	if (copy == NULL)
		return NULL;
	unsigned char *out = mdm_b64_decode(copy, out_len);
	free(copy);
	return out;
}

/*
 * Anything that does not parse exactly as mdm_password_hash writes it counts as a
 * mismatch, so a corrupted record can never log anybody in. The iteration bounds stop a
 * planted record from pinning a CPU for minutes.
 */
int mdm_password_verify(const char *password, const char *encoded)
{
	unsigned char *salt = NULL, *stored = NULL;
	unsigned char computed[S_HASH_LEN];
	size_t salt_len = 0, stored_len = 0;
	unsigned long iter = 0;
	const char *p, *dollar;
	int ok = 0;
	if (password == NULL || encoded == NULL)
		return 0;
	if (strncmp(encoded, S_PREFIX, strlen(S_PREFIX)) != 0)
		return 0;
	p = encoded + strlen(S_PREFIX);
	check_quiet(s_parse_iter(p, &iter, &p) == 0);
	check_quiet(iter >= MDM_PASSWORD_MIN_ITER && iter <= MDM_PASSWORD_MAX_ITER);
	p++; /* past '$' */
	dollar = strchr(p, '$');
	check_quiet(dollar != NULL);
	salt = s_field(p, (size_t)(dollar - p), &salt_len);
	check_quiet(salt && salt_len >= S_SALT_MIN && salt_len <= S_SALT_MAX);
	p = dollar + 1;
	stored = s_field(p, strlen(p), &stored_len);
	check_quiet(stored && stored_len == S_HASH_LEN);
	check(s_pbkdf2(password, salt, salt_len, (unsigned)iter, computed) == 0, "PBKDF2 failed");
	ok = mdm_ct_equal(computed, sizeof computed, stored, stored_len);
	OPENSSL_cleanse(computed, sizeof computed);
error:
	free(salt);
	free(stored);
	return ok;
}
