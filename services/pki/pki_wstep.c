/* pki_wstep.c -- MS-WSTEP RequestSecurityToken: issue a device certificate from the
 * device's PKCS#10 (Issue) or from a PKCS#7-wrapped one signed by its current key (Renew,
 * ROBO), record it in Redis atomically, and answer with the wap-provisioningdoc. */
#include <ctype.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdm_b64.h"
#include "mdm_cert.h"
#include "mdm_csr.h"
#include "mdm_log.h"
#include "mdm_provdoc.h"
#include "mdm_renew.h"
#include "mdm_soap_reply.h"
#include "mdm_wstep.h"
#include "pki.h"

#define PKI_BACKDATE_SECONDS 300 /* absorbs device clock skew (checklist §4.4) */

/* DeviceIDs become a certificate CN, a Redis key part and XML text: allow what real
 * clients send (32 hex, GUIDs with dashes/braces, urn:uuid:) and nothing else. */
static int s_valid_device_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64) /* a certificate CN holds at most 64 characters */
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:{}@", *s))
			return 0;
	return 1;
}

/* Windows 8.1 sends no DeviceID context item; its CSR CN is the device id (followed by a
 * NUL; Windows 10 puts "<GUID>!<DeviceID>"). */
static int s_device_id_from_csr(X509_REQ *csr, char *out, size_t cap)
{
	X509_NAME *name = X509_REQ_get_subject_name(csr);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return -1;
	ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	const char *d = (const char *)ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);
	const char *bang = memchr(d, '!', (size_t)len);
	if (bang) {
		len -= (int)(bang + 1 - d);
		d = bang + 1;
	}
	const char *nul = memchr(d, '\0', (size_t)len);
	if (nul)
		len = (int)(nul - d);
	if (len <= 0 || (size_t)len >= cap)
		return -1;
	memcpy(out, d, (size_t)len);
	out[len] = '\0';
	return 0;
}

static void s_put(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

/* Joins every value of a multi-valued context item (MAC, IMEI) with commas. */
static void s_put_all(json_t *o, const char *k, const mdm_rst_t *rst, const char *name)
{
	const char *vals[16];
	size_t n = mdm_rst_get_all(rst, name, vals, 16);
	if (n == 0)
		return;
	char buf[1024] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof buf - 1; i++)
		used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? "," : "", vals[i]);
	s_put(o, k, buf);
}

typedef struct {
	X509 *cert;
	mdm_cert_info_t info;
	char *der_b64;
} s_issued_t;

static void s_issued_free(s_issued_t *is)
{
	X509_free(is->cert);
	free(is->der_b64);
}

static int s_issue(pki_t *self, X509_REQ *csr, const char *device_id, s_issued_t *out,
		   mdm_err_t *err)
{
	memset(out, 0, sizeof *out);
	EVP_PKEY *pub = X509_REQ_get0_pubkey(csr);
	if (pub == NULL)
		return mdm_err_set(err, MDM_E_CERT_REQUEST, "CSR has no usable public key");
	out->cert = mdm_cert_issue(self->ca, pub, device_id, self->cfg->cert_validity_days * 86400,
				   PKI_BACKDATE_SECONDS, time(NULL), err);
	if (out->cert == NULL)
		return -1;
	out->der_b64 = mdm_cert_der_b64(out->cert);
	if (out->der_b64 == NULL || mdm_cert_get_info(out->cert, &out->info) != 0) {
		s_issued_free(out);
		return mdm_err_set(err, MDM_E_INTERNAL, "cannot encode the issued certificate");
	}
	return 0;
}

/* Builds the RSTRC around a provisioning document. NULL on allocation failure. */
static char *s_rstrc(const char *relates_to, const mdm_provdoc_t *doc, size_t *len)
{
	size_t dlen = 0;
	char *xml = mdm_provdoc_build(doc, &dlen);
	if (xml == NULL)
		return NULL;
	char *b64 = mdm_b64_encode((const unsigned char *)xml, dlen);
	free(xml);
	if (b64 == NULL)
		return NULL;
	char *env = mdm_rstrc_response(relates_to, b64, time(NULL), len);
	free(b64);
	return env;
}

static int s_renew_url(pki_t *self, int win81, char *out, size_t cap)
{
	return snprintf(out, cap, "%s/EnrollmentServer/%s", self->cfg->mgmt_url,
			win81 ? "DeviceEnrollmentWebservice.svc" : "Win10DeviceEnrollmentWebservice.svc");
}

static int s_do_issue(pki_t *self, const mdm_msg_t *req, const mdm_soap_req_t *soap,
		      const mdm_rst_t *rst, int win81, mdm_reply_t *rep, mdm_err_t *err)
{
	pki_identity_t id;
	X509_REQ *csr = NULL;
	s_issued_t is = {0};
	json_t *dev = NULL;
	char device_id[129], mgmt[700], renew[700];
	int rc = -1;

	if (pki_authenticate(self, req, soap, &id, err) != 0)
		goto done;
	if (id.kind == PKI_AUTH_CERT) {
		mdm_err_set(err, MDM_E_AUTHENTICATION, "enrollment needs a user credential");
		goto done;
	}
	if (rst->bst_value_type == NULL || strcmp(rst->bst_value_type, MDM_VT_PKCS10) != 0) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "expected a PKCS#10 BinarySecurityToken");
		goto done;
	}
	csr = mdm_csr_parse(rst->bst, rst->bst_len, err);
	if (csr == NULL || mdm_csr_check_key(csr, (int)self->cfg->min_key_bits, err) != 0)
		goto done;

	const char *ctx_id = mdm_rst_get(rst, "DeviceID");
	const char *hw = mdm_rst_get(rst, "HWDevID");
	const char *etype = mdm_rst_get(rst, "EnrollmentType");
	if (ctx_id)
		snprintf(device_id, sizeof device_id, "%s", ctx_id);
	else if (!win81 || s_device_id_from_csr(csr, device_id, sizeof device_id) != 0) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "AdditionalContext has no DeviceID");
		goto done;
	}
	if (!s_valid_device_id(device_id)) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "DeviceID contains characters we do not accept");
		goto done;
	}
	if (hw == NULL && !win81) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "AdditionalContext has no HWDevID");
		goto done;
	}
	if (hw && (strlen(hw) > 128 || !s_valid_device_id(hw))) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "HWDevID is not valid");
		goto done;
	}
	if (etype == NULL)
		etype = "Full";
	if (strcmp(etype, "Full") != 0 && strcmp(etype, "Device") != 0) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "EnrollmentType must be Full or Device");
		goto done;
	}
	if (s_issue(self, csr, device_id, &is, err) != 0)
		goto done;

	snprintf(mgmt, sizeof mgmt, "%s/ManagementServer/MDM.svc", self->cfg->mgmt_url);
	s_renew_url(self, win81, renew, sizeof renew);
	const char *name = mdm_rst_get(rst, "DeviceName");
	if (id.device_name[0])
		name = id.device_name; /* the administrator's name from the pre-enrollment wins */
	mdm_provdoc_t doc = {
		.ca_thumbprint = mdm_ca_thumbprint(self->ca),
		.ca_der_b64 = mdm_ca_der_b64(self->ca),
		.cert_thumbprint = is.info.thumbprint,
		.cert_der_b64 = is.der_b64,
		.cert_subject_cn = device_id,
		.device_store = !strcmp(etype, "Device"),
		.provider_id = self->cfg->provider_id,
		.server_name = self->cfg->server_name,
		.mgmt_url = mgmt,
		.renew_url = renew,
		.renew_period_days = (int)self->cfg->renew_period_days,
		.renew_retry_days = (int)self->cfg->renew_retry_days,
		.ent_dmid = device_id,
		.upn = id.upn[0] ? id.upn : NULL,
		.device_name = name,
	};
	size_t len = 0;
	char *env = s_rstrc(soap->message_id, &doc, &len);
	if (env == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "cannot build the provisioning document");
		goto done;
	}

	/* the record is in Redis before the device hears anything */
	static const char *auth_names[] = {"", "onpremise", "preenrollment", "federated", "cert"};
	char na[32];
	snprintf(na, sizeof na, "%ld", (long)is.info.not_after);
	dev = json_object();
	s_put(dev, "device_id", device_id);
	s_put(dev, "hwdevid", hw ? hw : device_id);
	s_put(dev, "user", id.upn);
	s_put(dev, "auth", auth_names[id.kind]);
	s_put(dev, "enrollment_type", etype);
	s_put(dev, "device_type", mdm_rst_get(rst, "DeviceType"));
	s_put(dev, "os_edition", mdm_rst_get(rst, "OSEdition"));
	s_put(dev, "os_version", mdm_rst_get(rst, "OSVersion"));
	s_put(dev, "application_version", mdm_rst_get(rst, "ApplicationVersion"));
	s_put(dev, "device_name", name);
	s_put(dev, "locale", mdm_rst_get(rst, "Locale"));
	s_put_all(dev, "macs", rst, "MAC");
	s_put_all(dev, "imeis", rst, "IMEI");
	s_put(dev, "platform", win81 ? "windows-8.1" : "windows");
	s_put(dev, "cert_serial", is.info.serial);
	s_put(dev, "cert_thumbprint", is.info.thumbprint);
	s_put(dev, "cert_not_after", na);
	mdm_spend_t spend = id.kind == PKI_AUTH_PREENROLL ? MDM_SPEND_PREENROLL
			    : id.kind == PKI_AUTH_FEDERATED ? MDM_SPEND_TOKEN
							    : MDM_SPEND_NONE;
	if (mdm_store_enroll(self->store, dev, spend, id.spend_key, id.upn, self->cfg->token_ttl,
			     time(NULL), err) != 0) {
		free(env);
		goto done;
	}
	log_info("enrolled %s (%s, %s) certificate %s", device_id, id.upn, auth_names[id.kind],
		 is.info.thumbprint);
	mdm_reply_soap(rep, env, len, soap->message_id);
	rc = 0;
done:
	json_decref(dev);
	s_issued_free(&is);
	X509_REQ_free(csr);
	return rc;
}

/* ROBO renewal: the TLS client certificate must be our active certificate for the device,
 * and the PKCS#7 around the new CSR must be signed by that very certificate. */
static int s_do_renew(pki_t *self, const mdm_msg_t *req, const mdm_soap_req_t *soap,
		      const mdm_rst_t *rst, int win81, mdm_reply_t *rep, mdm_err_t *err)
{
	pki_identity_t id;
	X509 *current = NULL;
	X509_REQ *csr = NULL;
	s_issued_t is = {0};
	int rc = -1;
	memset(&id, 0, sizeof id);
	if (pki_client_cert(self, req, &current, &id, err) != 0)
		goto done;
	if (rst->bst_value_type == NULL || (strcmp(rst->bst_value_type, MDM_VT_PKCS7) != 0 &&
					    strcmp(rst->bst_value_type, MDM_VT_PKCS7_ALT) != 0)) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "expected a PKCS#7 BinarySecurityToken");
		goto done;
	}
	csr = mdm_renew_parse(rst->bst, rst->bst_len, current, err);
	if (csr == NULL || mdm_csr_check_key(csr, (int)self->cfg->min_key_bits, err) != 0)
		goto done;
	const char *ctx_id = mdm_rst_get(rst, "DeviceID");
	if (ctx_id && strcmp(ctx_id, id.device_id) != 0) {
		mdm_err_set(err, MDM_E_NOT_ELIGIBLE_RENEW, "DeviceID does not match the certificate");
		goto done;
	}
	if (s_issue(self, csr, id.device_id, &is, err) != 0)
		goto done;
	json_t *rec = mdm_store_device_get(self->store, id.device_id, err);
	if (rec == NULL)
		goto done;
	const char *etype = json_string_value(json_object_get(rec, "enrollment_type"));
	int device_store = etype && !strcmp(etype, "Device");
	json_decref(rec);
	char renew[700];
	s_renew_url(self, win81, renew, sizeof renew);
	mdm_provdoc_t doc = {
		.ca_thumbprint = mdm_ca_thumbprint(self->ca),
		.ca_der_b64 = mdm_ca_der_b64(self->ca),
		.cert_thumbprint = is.info.thumbprint,
		.cert_der_b64 = is.der_b64,
		.cert_subject_cn = id.device_id,
		.device_store = device_store,
		.provider_id = self->cfg->provider_id,
		.server_name = self->cfg->server_name,
		.renew_url = renew,
		.renew_period_days = (int)self->cfg->renew_period_days,
		.renew_retry_days = (int)self->cfg->renew_retry_days,
		.renewal_only = 1,
	};
	size_t len = 0;
	char *env = s_rstrc(soap->message_id, &doc, &len);
	if (env == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "cannot build the provisioning document");
		goto done;
	}
	if (mdm_store_renew(self->store, id.device_id, id.thumbprint, is.info.thumbprint,
			    is.info.serial, is.info.not_after, time(NULL), err) != 0) {
		free(env);
		goto done;
	}
	log_info("renewed %s: %s supersedes %s", id.device_id, is.info.thumbprint, id.thumbprint);
	mdm_reply_soap(rep, env, len, soap->message_id);
	rc = 0;
done:
	s_issued_free(&is);
	X509_REQ_free(csr);
	X509_free(current);
	return rc;
}

static int s_wstep(const mdm_msg_t *req, mdm_reply_t *rep, pki_t *self, int win81)
{
	mdm_err_t err = {0};
	mdm_rst_t *rst = NULL;
	mdm_soap_req_t *soap = mdm_soap_parse(req->body, req->body_len, &err);
	if (soap == NULL || (rst = mdm_rst_parse(soap, &err)) == NULL)
		goto fault;
	int rc;
	if (rst->request_type && !strcmp(rst->request_type, MDM_REQTYPE_ISSUE))
		rc = s_do_issue(self, req, soap, rst, win81, rep, &err);
	else if (rst->request_type && !strcmp(rst->request_type, MDM_REQTYPE_RENEW))
		rc = s_do_renew(self, req, soap, rst, win81, rep, &err);
	else
		rc = mdm_err_set(&err, MDM_E_ENROLLMENT_SERVER, "RequestType %s is not supported",
				 rst->request_type ? rst->request_type : "(none)");
	if (rc != 0)
		goto fault;
	mdm_rst_destroy(&rst);
	mdm_soap_req_destroy(&soap);
	return 0;
fault:
	mdm_reply_soap_fault(rep, soap ? soap->message_id : NULL, &err);
	mdm_rst_destroy(&rst);
	mdm_soap_req_destroy(&soap);
	return 0;
}

int pki_wstep(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	return s_wstep(req, rep, ctx, 0);
}

int pki_wstep_win81(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	return s_wstep(req, rep, ctx, 1);
}
