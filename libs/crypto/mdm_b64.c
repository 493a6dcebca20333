/* mdm_b64.c -- base64 codecs and small random/hash helpers, all on top of OpenSSL. */
#include "mdm_b64.h"

#include "mdm_log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* EVP_EncodeBlock/EVP_DecodeBlock take an int length: work in chunks well below INT_MAX.
 * The chunks are multiples of 3 (encode) and 4 (decode) so they join seamlessly. */
#define S_ENC_CHUNK ((size_t)3 << 20)
#define S_DEC_CHUNK ((size_t)4 << 20)

static int s_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int s_is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

char *mdm_b64_encode(const unsigned char *data, size_t len)
{
	if (len > (SIZE_MAX / 4 - 1) * 3)
		return NULL;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < len; i += S_ENC_CHUNK) {
		size_t n = len - i < S_ENC_CHUNK ? len - i : S_ENC_CHUNK;
		o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, data + i, (int)n);
	}
	out[o] = '\0';
	return out;
}

/*
 * Decodes base64 after the caller has reduced it to `n` alphabet characters with no
 * whitespace and no padding (the padding is re-added here, so input with and without
 * '=' decodes identically). Returns a malloc'ed, NUL-terminated buffer or NULL if the
 * length cannot be base64 (n % 4 == 1) or memory ran out.
 */
static unsigned char *s_decode_clean(const char *clean, size_t n, size_t *out_len)
{
	if (n % 4 == 1)
		return NULL;
	size_t pad = (4 - n % 4) % 4;
	size_t padded = n + pad;
	unsigned char *out = malloc(padded / 4 * 3 + 1);
	char quad[4];
	if (out == NULL)
		return NULL;
	size_t o = 0;
	/* all complete quads, chunked */
	size_t full = n - n % 4;
	for (size_t i = 0; i < full; i += S_DEC_CHUNK) {
		size_t len = full - i < S_DEC_CHUNK ? full - i : S_DEC_CHUNK;
		int r = EVP_DecodeBlock(out + o, (const unsigned char *)clean + i, (int)len);
		if (r < 0)
			goto error;
		o += (size_t)r;
	}
	/* the final partial quad, padded back to four characters */
	if (pad) {
		memcpy(quad, clean + full, 4 - pad);
		memset(quad + 4 - pad, '=', pad);
		int r = EVP_DecodeBlock(out + o, (const unsigned char *)quad, 4);
		if (r != 3)
			goto error;
		o += 3 - pad;
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
error:
	free(out);
	return NULL;
}

/*
 * Whitespace is dropped first (Windows wraps base64 in XML at arbitrary places), then the
 * remaining text must be alphabet characters followed by at most two '=' that make the
 * total a multiple of four. Anything else returns NULL.
 */
unsigned char *mdm_b64_decode(const char *text, size_t *out_len)
{
	if (text == NULL)
		return NULL;
	size_t tlen = strlen(text);
	char *clean = malloc(tlen + 1);
	unsigned char *out = NULL;
	if (clean == NULL)
		return NULL;
	size_t n = 0, pad = 0;
	for (size_t i = 0; i < tlen; i++) {
		char c = text[i];
		if (s_is_space(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (!s_is_b64(c) || pad > 0) /* data after padding is invalid */
			goto done;
		clean[n++] = c;
	}
	if (pad > 2 || (pad > 0 && (n + pad) % 4 != 0))
		goto done;
	out = s_decode_clean(clean, n, out_len);
done:
	free(clean);
	return out;
}

char *mdm_b64url_encode(const unsigned char *data, size_t len)
{
	char *out = mdm_b64_encode(data, len);
	if (out == NULL)
		return NULL;
	char *w = out;
	for (char *r = out; *r; r++) {
		if (*r == '=')
			break;
		*w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
	}
	*w = '\0';
	return out;
}

unsigned char *mdm_b64url_decode(const char *text, size_t *out_len)
{
	if (text == NULL)
		return NULL;
	size_t n = strlen(text);
	char *clean = malloc(n + 1);
	unsigned char *out = NULL;
	if (clean == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || !s_is_b64(c))
			goto done;
		clean[i] = c;
	}
	out = s_decode_clean(clean, n, out_len);
done:
	free(clean);
	return out;
}

void mdm_hex_upper(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static void s_hex_lower(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int mdm_random_bytes(unsigned char *out, size_t len)
{
	/* RAND_bytes takes an int: feed it in slices */
	while (len > 0) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;
		if (RAND_bytes(out, n) != 1) {
			log_err("RAND_bytes failed");
			return -1;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

int mdm_random_hex(char *out, size_t nbytes)
{
	unsigned char chunk[32];
	size_t done = 0;
	while (done < nbytes) {
		size_t n = nbytes - done < sizeof chunk ? nbytes - done : sizeof chunk;
		if (mdm_random_bytes(chunk, n) != 0) {
			out[0] = '\0';
			OPENSSL_cleanse(chunk, sizeof chunk);
			return -1;
		}
		s_hex_lower(chunk, n, out + 2 * done);
		done += n;
	}
	out[2 * nbytes] = '\0';
	OPENSSL_cleanse(chunk, sizeof chunk);
	return 0;
}

void mdm_uuid4(char out[37])
{
	unsigned char b[16];
	char hex[33];
	if (mdm_random_bytes(b, sizeof b) != 0) {
		out[0] = '\0';
		return;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
	s_hex_lower(b, sizeof b, hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

int mdm_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

void mdm_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		log_err("SHA-256 digest failed");
		out[0] = '\0';
		return;
	}
	s_hex_lower(md, mdlen, out);
}
