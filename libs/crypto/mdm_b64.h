/* mdm_b64.h -- base64/base64url, hex, random bytes/ids, constant-time compare and SHA-256. */
#ifndef MDM_B64_H
#define MDM_B64_H

#include <stddef.h>

/* Standard base64 (RFC 4648 §4) with padding and no line breaks. Caller frees; NULL on
 * out of memory. data may be NULL when len is 0. */
char *mdm_b64_encode(const unsigned char *data, size_t len);

/* Decodes standard base64. Whitespace (space, \t, \r, \n, \v, \f) is ignored anywhere;
 * padding is optional but, when present, must be correct and final. Returns NULL on an
 * invalid character, a bad length or out of memory. The result (caller frees) is
 * NUL-terminated one byte past *out_len. out_len may be NULL. */
unsigned char *mdm_b64_decode(const char *text, size_t *out_len);

/* base64url (RFC 4648 §5: '-' and '_', no padding, no whitespace), for tokens. Caller
 * frees; NULL on out of memory / invalid input. The decoder refuses '=', whitespace and
 * anything outside the url-safe alphabet. */
char *mdm_b64url_encode(const unsigned char *data, size_t len);
unsigned char *mdm_b64url_decode(const char *text, size_t *out_len);

/* Writes 2*len upper-case hex digits and a NUL into out (2*len+1 bytes). */
void mdm_hex_upper(const unsigned char *data, size_t len, char *out);

/* Fills out with len bytes from the OpenSSL CSPRNG. 0, or -1 if the generator failed. */
int mdm_random_bytes(unsigned char *out, size_t len);

/* Writes 2*nbytes lower-case hex digits of fresh random bytes and a NUL into out
 * (2*nbytes+1 bytes). 0, or -1 (out then holds "") if the generator failed. */
int mdm_random_hex(char *out, size_t nbytes);

/* Writes a random RFC 4122 version 4 UUID, lower case, 36 chars + NUL. If the generator
 * fails, out is set to "" (never a predictable id). */
void mdm_uuid4(char out[37]);

/* 1 if the two buffers have the same length and bytes, else 0. The byte comparison takes
 * time independent of where they differ (CRYPTO_memcmp); lengths are not secret. */
int mdm_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Writes lower-case hex SHA-256 of data (64 chars + NUL). "" if the digest failed. */
void mdm_sha256_hex(const void *data, size_t len, char out[65]);

#endif
