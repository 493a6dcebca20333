/* mdm_token.c -- server secret file and compact HMAC-SHA256 tokens carrying a UPN. */
#include "mdm_token.h"

#include "mdm_b64.h"
#include "mdm_log.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_VERSION "v1."

/*
 * Reads exactly MDM_SECRET_LEN bytes from a regular file of exactly that size.
 * Returns 0, 1 if the file does not exist (err untouched), or -1 with err set.
 */
static int s_secret_read(const char *path, unsigned char key[MDM_SECRET_LEN], mdm_err_t *err)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return mdm_err_set(err, MDM_E_INTERNAL, "cannot open secret %s: %s", path,
				   strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != MDM_SECRET_LEN) {
		close(fd);
		return mdm_err_set(err, MDM_E_INTERNAL,
				   "secret %s is not a regular file of %d bytes", path,
				   MDM_SECRET_LEN);
	}
	if (st.st_mode & 077)
		log_warn("secret %s is readable by group/others (mode %03o)", path,
			 (unsigned)(st.st_mode & 0777));
	while (got < MDM_SECRET_LEN) {
		ssize_t n = read(fd, key + got, MDM_SECRET_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			OPENSSL_cleanse(key, MDM_SECRET_LEN);
			return mdm_err_set(err, MDM_E_INTERNAL, "cannot read secret %s: %s", path,
					   n < 0 ? strerror(errno) : "short file");
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static int s_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The file is never visible half-written: the random bytes go to a private temp file
 * (mkstemp: 0600) that is fsync'ed and then hard-linked to the final name. link() fails
 * with EEXIST instead of replacing, so when several processes start together exactly one
 * secret wins and everybody reads that one back.
 */
int mdm_secret_load_or_create(const char *path, unsigned char key[32], mdm_err_t *err)
{
	unsigned char fresh[MDM_SECRET_LEN];
	char *tmp = NULL;
	int fd = -1, rc = -1;
	if (path == NULL || key == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "secret: no path given");
	int r = s_secret_read(path, key, err);
	if (r <= 0)
		return r;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "cannot create secret %s: %s", path,
			    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto error;
	}
	if (fchmod(fd, 0600) != 0 || mdm_random_bytes(fresh, sizeof fresh) != 0 ||
	    s_write_all(fd, fresh, sizeof fresh) != 0 || fsync(fd) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "cannot write secret %s: %s", tmp,
			    strerror(errno));
		goto error;
	}
	close(fd);
	fd = -1;
	if (link(tmp, path) != 0 && errno != EEXIST) {
		mdm_err_set(err, MDM_E_INTERNAL, "cannot install secret %s: %s", path,
			    strerror(errno));
		goto error;
	}
	/* ours or the race winner's: read back whatever is in place now */
	r = s_secret_read(path, key, err);
	if (r == 1)
		mdm_err_set(err, MDM_E_INTERNAL, "secret %s vanished after creation", path);
	rc = r == 0 ? 0 : -1;
error:
	OPENSSL_cleanse(fresh, sizeof fresh);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}

/* HMAC-SHA256 over `len` bytes of `data`, base64url-encoded. Caller frees; NULL on error. */
static char *s_mac_b64(const unsigned char key[32], const char *data, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (HMAC(EVP_sha256(), key, MDM_SECRET_LEN, (const unsigned char *)data, len, mac,
		 &mac_len) == NULL)
		return NULL;
	return mdm_b64url_encode(mac, mac_len);
}

/*
 * Keys are sorted and output compact so a token is a pure function of its claims. The jti
 * is 128 random bits: the caller stores it to make the token single-use.
 */
char *mdm_token_issue(const unsigned char key[32], const char *upn, long ttl_seconds,
		      time_t now)
{
	char jti[33];
	json_t *claims = NULL;
	char *json = NULL, *payload = NULL, *mac = NULL, *signing = NULL, *out = NULL;
	check_quiet(key != NULL && upn != NULL && ttl_seconds > 0);
	check_quiet(mdm_random_hex(jti, 16) == 0);
	claims = json_pack("{s:s, s:I, s:I, s:s}", "upn", upn, "exp",
			   (json_int_t)now + ttl_seconds, "iat", (json_int_t)now, "jti", jti);
	check(claims != NULL, "token: cannot build claims (UPN not UTF-8?)");
	json = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	check_mem(json);
	payload = mdm_b64url_encode((const unsigned char *)json, strlen(json));
	check_mem(payload);
	check_mem(asprintf(&signing, S_VERSION "%s", payload) >= 0);
	mac = s_mac_b64(key, signing, strlen(signing));
	check(mac != NULL, "token: HMAC failed");
	check_mem(asprintf(&out, "%s.%s", signing, mac) >= 0);
	if (strlen(out) > MDM_TOKEN_MAX_LEN) { /* verify would refuse it: fail here instead */
		log_warn("token: UPN too long (%zu bytes)", strlen(upn));
		free(out);
		out = NULL;
	}
error:
	json_decref(claims);
	free(json);
	free(payload);
	free(mac);
	free(signing);
	return out;
}

static int s_copy_out(char *dst, size_t dst_len, const char *src)
{
	if (dst == NULL)
		return 0;
	size_t n = strlen(src);
	if (n >= dst_len)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/*
 * Order matters: nothing in the payload is looked at before the MAC checks out, so a
 * forged token learns nothing beyond "signature invalid". The MAC is compared as its
 * base64url text, which also rejects non-canonical encodings of a valid MAC.
 */
int mdm_token_verify(const unsigned char key[32], const char *token, time_t now, char *upn,
		     size_t upn_len, char *jti, size_t jti_len, mdm_err_t *err)
{
	char *mac = NULL;
	unsigned char *json = NULL;
	json_t *claims = NULL;
	const char *c_upn = NULL, *c_jti = NULL;
	json_int_t exp = 0, iat = 0;
	size_t json_len = 0;
	int rc = -1;

	if (key == NULL || token == NULL)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "token malformed");
	size_t len = strnlen(token, MDM_TOKEN_MAX_LEN + 1);
	if (len > MDM_TOKEN_MAX_LEN || strncmp(token, S_VERSION, strlen(S_VERSION)) != 0)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "token malformed");
	const char *payload = token + strlen(S_VERSION);
	const char *dot = strchr(payload, '.');
	if (dot == NULL || dot == payload || dot[1] == '\0' || strchr(dot + 1, '.'))
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "token malformed");

	mac = s_mac_b64(key, token, (size_t)(dot - token));
	if (mac == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "token: HMAC failed");
		goto error;
	}
	if (!mdm_ct_equal(mac, strlen(mac), dot + 1, strlen(dot + 1))) {
		mdm_err_set(err, MDM_E_AUTHENTICATION, "token signature invalid");
		goto error;
	}

	char *payload_b64 = strndup(payload, (size_t)(dot - payload));
	if (payload_b64)
		json = mdm_b64url_decode(payload_b64, &json_len);
	free(payload_b64);
	if (json)
		claims = json_loadb((const char *)json, json_len, JSON_REJECT_DUPLICATES, NULL);
	if (claims == NULL ||
	    json_unpack(claims, "{s:s, s:I, s:I, s:s !}", "upn", &c_upn, "exp", &exp, "iat",
			&iat, "jti", &c_jti) != 0) {
		mdm_err_set(err, MDM_E_AUTHENTICATION, "token malformed");
		goto error;
	}
	if (exp <= (json_int_t)now) {
		mdm_err_set(err, MDM_E_AUTHENTICATION, "token expired");
		goto error;
	}
	if (s_copy_out(upn, upn_len, c_upn) != 0 || s_copy_out(jti, jti_len, c_jti) != 0) {
		mdm_err_set(err, MDM_E_AUTHENTICATION, "token malformed");
		goto error;
	}
	rc = 0;
error:
	free(mac);
	free(json);
	json_decref(claims);
	return rc;
}
