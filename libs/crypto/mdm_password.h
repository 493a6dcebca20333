/* mdm_password.h -- salted, slow password hashes (PBKDF2-HMAC-SHA256) for stored user passwords. */
#ifndef MDM_PASSWORD_H
#define MDM_PASSWORD_H

#define MDM_PASSWORD_DEFAULT_ITER 100000u
/* verify refuses encodings outside these bounds (too weak, or a CPU-burning DoS); hash
 * refuses to produce them */
#define MDM_PASSWORD_MIN_ITER 1000u
#define MDM_PASSWORD_MAX_ITER 10000000u

/* Returns "pbkdf2-sha256$<iter>$<salt b64>$<hash b64>" (16-byte random salt, 32-byte
 * PBKDF2-HMAC-SHA256 output, standard base64 with padding). iterations 0 means
 * MDM_PASSWORD_DEFAULT_ITER. Caller frees. NULL if password is NULL, iterations is outside
 * [MDM_PASSWORD_MIN_ITER, MDM_PASSWORD_MAX_ITER], or OpenSSL/memory failed. */
char *mdm_password_hash(const char *password, unsigned iterations);

/* 1 if password matches encoded, 0 on mismatch, malformed encoding, an iteration count
 * outside the bounds above, or NULL arguments. The final comparison is constant time. */
int mdm_password_verify(const char *password, const char *encoded);

#endif
