/* mdm_ca.c -- the issuing CA: race-safe first-run creation, loading, thumbprint and DER. */
#include "mdm_ca.h"

#include "mdm_b64.h"
#include "mdm_cert.h"
#include "mdm_log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct mdm_ca_t {
	X509 *cert;
	EVP_PKEY *key;
	char thumbprint[41];
	char *der_b64;
};

/* Never prompt on a terminal for a key passphrase: encrypted keys are refused. */
static int s_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* 1 if path exists, 0 if it does not, -1 (errno set) if we cannot tell. */
static int s_exists(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/*
 * Reads both PEM files and checks they belong together. The first OpenSSL error, if any,
 * is logged; the caller gets a sentence naming the file.
 */
mdm_ca_t *mdm_ca_load(const char *cert_pem_path, const char *key_pem_path, mdm_err_t *err)
{
	mdm_ca_t *self = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	if (cert_pem_path == NULL || key_pem_path == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: certificate and key paths are required");
		return NULL;
	}
	self = calloc(1, sizeof *self);
	if (self == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return NULL;
	}
	bio = BIO_new_file(cert_pem_path, "r");
	if (bio)
		self->cert = PEM_read_bio_X509(bio, NULL, s_no_passphrase, NULL);
	BIO_free(bio);
	if (self->cert == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot read a PEM certificate from %s",
			    cert_pem_path);
		goto error;
	}
	bio = BIO_new_file(key_pem_path, "r");
	if (bio)
		self->key = PEM_read_bio_PrivateKey(bio, NULL, s_no_passphrase, NULL);
	BIO_free(bio);
	if (self->key == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL,
			    "CA: cannot read an unencrypted PEM private key from %s", key_pem_path);
		goto error;
	}
	if (X509_check_private_key(self->cert, self->key) != 1) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: key %s does not match certificate %s",
			    key_pem_path, cert_pem_path);
		goto error;
	}
	if (X509_check_ca(self->cert) != 1) {
		mdm_err_set(err, MDM_E_INTERNAL,
			    "CA: %s is not a CA certificate (basicConstraints CA:TRUE missing)",
			    cert_pem_path);
		goto error;
	}
	int der_len = i2d_X509(self->cert, &der);
	if (der_len <= 0 || mdm_cert_thumbprint(self->cert, self->thumbprint) != 0 ||
	    (self->der_b64 = mdm_b64_encode(der, (size_t)der_len)) == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot encode certificate %s",
			    cert_pem_path);
		goto error;
	}
	OPENSSL_free(der);
	ERR_clear_error();
	return self;
error:
	OPENSSL_free(der);
	ERR_clear_error();
	mdm_ca_destroy(&self);
	return NULL;
}

void mdm_ca_destroy(mdm_ca_t **self)
{
	if (self == NULL || *self == NULL)
		return;
	X509_free((*self)->cert);
	EVP_PKEY_free((*self)->key);
	free((*self)->der_b64);
	free(*self);
	*self = NULL;
}

X509 *mdm_ca_cert(const mdm_ca_t *self)
{
	return self ? self->cert : NULL;
}

EVP_PKEY *mdm_ca_key(const mdm_ca_t *self)
{
	return self ? self->key : NULL;
}

const char *mdm_ca_thumbprint(const mdm_ca_t *self)
{
	return self ? self->thumbprint : NULL;
}

const char *mdm_ca_der_b64(const mdm_ca_t *self)
{
	return self ? self->der_b64 : NULL;
}

static EVP_PKEY *s_keygen(const char *key_type)
{
	if (strcmp(key_type, "rsa2048") == 0)
		return EVP_RSA_gen(2048);
	if (strcmp(key_type, "rsa3072") == 0)
		return EVP_RSA_gen(3072);
	if (strcmp(key_type, "rsa4096") == 0)
		return EVP_RSA_gen(4096);
	if (strcmp(key_type, "p256") == 0)
		return EVP_EC_gen("P-256");
	if (strcmp(key_type, "p384") == 0)
		return EVP_EC_gen("P-384");
	return NULL;
}

/* Builds the self-signed CA certificate for key. Caller frees; NULL on failure. */
static X509 *s_build_ca_cert(EVP_PKEY *key, const char *cn, int validity_days,
			     mdm_err_t *err)
{
	X509 *x = X509_new();
	X509_NAME *name = NULL;
	mdm_err_t name_err = {MDM_OK, ""};
	time_t now = time(NULL);
	check_mem(x);
	name = mdm_cert_name_cn(cn, &name_err);
	if (name == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: %s", name_err.text);
		goto error;
	}
	check(X509_set_version(x, X509_VERSION_3) == 1, "CA: set version");
	check(mdm_cert_set_random_serial(x) == 0, "CA: serial");
	check(X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1,
	      "CA: set names");
	/* one hour back: a freshly started server on a slightly slow clock still works */
	check(X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) != NULL &&
		      X509_time_adj_ex(X509_getm_notAfter(x), validity_days, 0, &now) != NULL,
	      "CA: set validity");
	check(X509_set_pubkey(x, key) == 1, "CA: set public key");
	check(mdm_cert_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
		      mdm_cert_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
		      mdm_cert_add_ext(x, x, NID_subject_key_identifier, "hash") == 0,
	      "CA: add extensions");
	check(X509_sign(x, key, EVP_sha256()) > 0, "CA: sign");
	X509_NAME_free(name);
	return x;
error:
	mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot build the CA certificate");
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

static int s_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes the PEM held in bio to a new file (O_EXCL, so a stale temp name is an error, not
 * something we follow or overwrite) and fsyncs it. 0, or -1 with errno set.
 */
static int s_write_new(const char *path, mode_t mode, BIO *bio)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	if (len <= 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (s_write_all(fd, data, (size_t)len) != 0 || fsync(fd) != 0) {
		int saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* Best effort: make the renames durable. */
static void s_fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/*
 * Decides under the lock: both present -> 0, one present -> -1, none -> generate, write
 * both under temp names, rename key then certificate. Only processes that go through
 * this function are serialised; the temp+rename keeps plain readers safe too.
 */
int mdm_ca_create_files(const char *cert_pem_path, const char *key_pem_path,
			const char *key_type, const char *common_name, int validity_days,
			mdm_err_t *err)
{
	char *lock_path = NULL, *tmp_key = NULL, *tmp_cert = NULL;
	char suffix[17];
	int lock_fd = -1, rc = -1, have_cert, have_key;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *key_pem = NULL, *cert_pem = NULL;

	if (cert_pem_path == NULL || key_pem_path == NULL || key_type == NULL ||
	    common_name == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "CA: missing argument");
	if (validity_days <= 0)
		return mdm_err_set(err, MDM_E_INTERNAL, "CA: validity must be at least one day");
	if (s_exists(cert_pem_path) == 1 && s_exists(key_pem_path) == 1)
		return 0;

	if (asprintf(&lock_path, "%s.lock", key_pem_path) < 0) {
		lock_path = NULL;
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot lock %s: %s", lock_path,
			    strerror(errno));
		goto error;
	}
	have_cert = s_exists(cert_pem_path);
	have_key = s_exists(key_pem_path);
	if (have_cert < 0 || have_key < 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot check %s / %s: %s", cert_pem_path,
			    key_pem_path, strerror(errno));
		goto error;
	}
	if (have_cert && have_key) {
		rc = 0; /* another process created them while we waited */
		goto error;
	}
	if (have_cert || have_key) {
		mdm_err_set(err, MDM_E_INTERNAL,
			    "CA: %s exists but %s does not; refusing to replace half a CA",
			    have_cert ? cert_pem_path : key_pem_path,
			    have_cert ? key_pem_path : cert_pem_path);
		goto error;
	}

	key = s_keygen(key_type);
	if (key == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL,
			    "CA: cannot generate a \"%s\" key (use rsa2048 or p256)", key_type);
		goto error;
	}
	cert = s_build_ca_cert(key, common_name, validity_days, err);
	if (cert == NULL)
		goto error;
	key_pem = BIO_new(BIO_s_mem());
	cert_pem = BIO_new(BIO_s_mem());
	if (key_pem == NULL || cert_pem == NULL ||
	    PEM_write_bio_PrivateKey(key_pem, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cert_pem, cert) != 1) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot encode PEM");
		goto error;
	}
	if (mdm_random_hex(suffix, 8) != 0 ||
	    asprintf(&tmp_key, "%s.tmp.%s", key_pem_path, suffix) < 0 ||
	    asprintf(&tmp_cert, "%s.tmp.%s", cert_pem_path, suffix) < 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	if (s_write_new(tmp_key, 0600, key_pem) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot write %s: %s", tmp_key,
			    strerror(errno));
		free(tmp_key);
		tmp_key = NULL; /* not ours to unlink */
		goto error;
	}
	if (s_write_new(tmp_cert, 0644, cert_pem) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot write %s: %s", tmp_cert,
			    strerror(errno));
		free(tmp_cert);
		tmp_cert = NULL;
		goto error;
	}
	if (rename(tmp_key, key_pem_path) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot install %s: %s", key_pem_path,
			    strerror(errno));
		goto error;
	}
	if (rename(tmp_cert, cert_pem_path) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "CA: cannot install %s: %s", cert_pem_path,
			    strerror(errno));
		unlink(key_pem_path); /* still under the lock: leave no half CA behind */
		goto error;
	}
	s_fsync_dir_of(key_pem_path);
	if (strcmp(key_pem_path, cert_pem_path) != 0)
		s_fsync_dir_of(cert_pem_path);
	log_info("created CA %s (%s, CN=%s)", cert_pem_path, key_type, common_name);
	rc = 0;
error:
	if (tmp_key)
		unlink(tmp_key); /* no-op after a successful rename */
	if (tmp_cert)
		unlink(tmp_cert);
	free(tmp_key);
	free(tmp_cert);
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
	free(lock_path);
	BIO_free(key_pem);
	BIO_free(cert_pem);
	EVP_PKEY_free(key);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

mdm_ca_t *mdm_ca_load_or_create(const char *cert_path, const char *key_path,
				const char *key_type, const char *cn, mdm_err_t *err)
{
	if (mdm_ca_create_files(cert_path, key_path, key_type, cn, MDM_CA_DEFAULT_VALIDITY_DAYS,
				err) != 0)
		return NULL;
	return mdm_ca_load(cert_path, key_path, err);
}
