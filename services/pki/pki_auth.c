/* pki_auth.c -- who is asking: user password, one-time pre-enrollment secret, federated
 * login token, or (mTLS listener) the device certificate. */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_cert.h"
#include "mdm_log.h"
#include "mdm_token.h"
#include "pki.h"

static int s_auth_federated(pki_t *self, const mdm_soap_req_t *soap, pki_identity_t *id,
			    mdm_err_t *err)
{
	if (!self->allow_federated)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "federated login is not enabled");
	/* the client base64-encodes the wresult string it got from our login page */
	size_t len = 0;
	unsigned char *raw = mdm_b64_decode(soap->bst_text ? soap->bst_text : "", &len);
	if (raw == NULL || len == 0 || len > 4096 || memchr(raw, '\0', len)) {
		free(raw);
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "login token is not valid base64");
	}
	char jti[64];
	int rc = mdm_token_verify(self->token_key, (const char *)raw, time(NULL), id->upn,
				  sizeof id->upn, jti, sizeof jti, err);
	free(raw);
	if (rc != 0)
		return -1;
	int spent = mdm_store_token_spent(self->store, jti, err);
	if (spent < 0)
		return -1;
	if (spent)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "login token already used");
	id->kind = PKI_AUTH_FEDERATED;
	snprintf(id->spend_key, sizeof id->spend_key, "%s", jti);
	return 0;
}

/* OnPremise: the password is either the user's own (salted PBKDF2 in Redis) or a one-time
 * pre-enrollment secret issued for this email (SCMDM's enrollment password). */
static int s_auth_username(pki_t *self, const mdm_soap_req_t *soap, pki_identity_t *id,
			   mdm_err_t *err)
{
	if (!self->allow_onpremise)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "user name login is not enabled");
	const char *user = soap->username, *pw = soap->password ? soap->password : "";
	if (strlen(user) >= sizeof id->upn || strlen(pw) > 1024 || !*user)
		return mdm_err_set(err, MDM_E_AUTHENTICATION, "user name or password is wrong");
	char hash[65], email[321], dn[128];
	mdm_sha256_hex(pw, strlen(pw), hash);
	int rc = mdm_store_preenroll_get(self->store, hash, email, sizeof email, dn, sizeof dn, err);
	if (rc < 0)
		return -1;
	if (rc == 0 && !strcasecmp(email, user)) {
		id->kind = PKI_AUTH_PREENROLL;
		snprintf(id->upn, sizeof id->upn, "%s", email);
		snprintf(id->spend_key, sizeof id->spend_key, "%s", hash);
		snprintf(id->device_name, sizeof id->device_name, "%s", dn);
		return 0;
	}
	if (mdm_userauth_check(self->users, user, pw, id->upn, sizeof id->upn, err) != 0)
		return -1;
	id->kind = PKI_AUTH_USER;
	return 0;
}

int pki_client_cert(pki_t *self, const mdm_msg_t *req, X509 **cert_out, pki_identity_t *id,
		    mdm_err_t *err)
{
	const char *b64 = mdm_req_header(req, "client_cert");
	const char *listener = mdm_req_header(req, "listener");
	if (b64 == NULL || listener == NULL || strcmp(listener, "mgmt") != 0)
		return mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW,
				   "renewal needs the device's current certificate over mutual TLS");
	size_t len = 0;
	unsigned char *der = mdm_b64_decode(b64, &len);
	X509 *cert = der ? mdm_cert_from_der(der, len) : NULL;
	free(der);
	json_t *rec = NULL;
	mdm_cert_info_t info;
	if (cert == NULL || !mdm_cert_issued_by(cert, self->ca) || mdm_cert_get_info(cert, &info)) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW, "client certificate was not issued here");
		goto error;
	}
	if (info.not_after <= time(NULL)) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW, "client certificate has expired");
		goto error;
	}
	mdm_err_t e2 = {0};
	rec = mdm_store_cert_get(self->store, info.thumbprint, &e2);
	if (rec == NULL) {
		if (e2.code == MDM_E_NOT_FOUND)
			mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW, "client certificate is unknown");
		else
			mdm_err_set(err, e2.code, "%s", e2.text);
		goto error;
	}
	const char *state = json_string_value(json_object_get(rec, "state"));
	const char *dev = json_string_value(json_object_get(rec, "device_id"));
	if (state == NULL || strcmp(state, "active") != 0 || dev == NULL) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW, "client certificate is %s",
			    state ? state : "unknown");
		goto error;
	}
	id->kind = PKI_AUTH_CERT;
	snprintf(id->device_id, sizeof id->device_id, "%s", dev);
	snprintf(id->thumbprint, sizeof id->thumbprint, "%s", info.thumbprint);
	json_decref(rec);
	if (cert_out)
		*cert_out = cert;
	else
		X509_free(cert);
	return 0;
error:
	json_decref(rec);
	X509_free(cert);
	return -1;
}

int pki_authenticate(pki_t *self, const mdm_msg_t *req, const mdm_soap_req_t *soap,
		     pki_identity_t *id, mdm_err_t *err)
{
	memset(id, 0, sizeof *id);
	if (soap->bst_value_type && !strcmp(soap->bst_value_type, MDM_VT_USERTOKEN))
		return s_auth_federated(self, soap, id, err);
	if (soap->username && soap->password && soap->password[0])
		return s_auth_username(self, soap, id, err);
	/* renewal clients (ROBO) come with their certificate and no user credential */
	if (mdm_req_header(req, "client_cert")) {
		mdm_err_t e2 = {0};
		if (pki_client_cert(self, req, NULL, id, &e2) == 0)
			return 0;
		return mdm_err_set(err, e2.code == MDM_E_UNAVAILABLE ? e2.code : MDM_E_AUTHENTICATION,
				   "%s", e2.text);
	}
	return mdm_err_set(err, MDM_E_AUTHENTICATION, "no credentials in the request");
}
