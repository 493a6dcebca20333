/* sim_enroll.c -- the device's flows: enroll (discovery, auth, XCEP, WSTEP) and ROBO renewal. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mdm_log.h"

#define SIM_OS_VERSION "10.0.22631.1"
#define SIM_OS_EDITION "48"

/* ---- AdditionalContext ------------------------------------------------------------- */

typedef struct {
	char mac1[18], mac2[18];
	sim_ctx_item_t items[16];
	size_t n;
} s_ctx_t;

static void s_ctx_add(s_ctx_t *c, const char *name, const char *value)
{
	if (c->n < sizeof c->items / sizeof c->items[0])
		c->items[c->n++] = (sim_ctx_item_t){name, value};
}

/* The items a Windows 11 desktop sends (fleet_w10_06 order), MACs derived from the device id
 * so that one simulated device always reports the same adapters. */
static void s_ctx_build(s_ctx_t *c, const char *device_id, const char *hwdevid,
			const char *device_name, const char *enrollment_type)
{
	char seed[160], h[65];
	snprintf(seed, sizeof seed, "mac:%s", device_id);
	sim_sha256_hex(seed, strlen(seed), h);
	snprintf(c->mac1, sizeof c->mac1, "00-15-5D-%.2s-%.2s-%.2s", h, h + 2, h + 4);
	snprintf(c->mac2, sizeof c->mac2, "00-15-5D-%.2s-%.2s-%.2s", h + 6, h + 8, h + 10);
	c->n = 0;
	s_ctx_add(c, "UXInitiated", "true");
	s_ctx_add(c, "HWDevID", hwdevid);
	s_ctx_add(c, "Locale", "en-US");
	s_ctx_add(c, "TargetedUserLoggedIn", "true");
	s_ctx_add(c, "OSEdition", SIM_OS_EDITION);
	s_ctx_add(c, "DeviceName", device_name);
	s_ctx_add(c, "MAC", c->mac1);
	s_ctx_add(c, "MAC", c->mac2);
	s_ctx_add(c, "DeviceID", device_id);
	s_ctx_add(c, "EnrollmentType", enrollment_type);
	s_ctx_add(c, "DeviceType", "CIMClient_Windows");
	s_ctx_add(c, "OSVersion", SIM_OS_VERSION);
	s_ctx_add(c, "ApplicationVersion", SIM_OS_VERSION);
	s_ctx_add(c, "NotInOobe", "false");
}

/* ---- discovery --------------------------------------------------------------------- */

typedef struct {
	char *auth_policy, *version, *policy_url, *enroll_url, *auth_url;
} s_disco_t;

static void s_disco_free(s_disco_t *d)
{
	free(d->auth_policy);
	free(d->version);
	free(d->policy_url);
	free(d->enroll_url);
	free(d->auth_url);
	memset(d, 0, sizeof *d);
}

static int s_same_host(const char *a, const char *b)
{
	char *ha = sim_url_part(a, CURLUPART_HOST), *hb = sim_url_part(b, CURLUPART_HOST);
	int same = ha && hb && strcasecmp(ha, hb) == 0;
	free(ha);
	free(hb);
	return same;
}

/* GET then POST Discover at <base>/EnrollmentServer/Discovery.svc; checks the answer names
 * the policy we asked for and usable URLs. */
static int s_discover(sim_http_t *http, const sim_enroll_opts_t *o, const char *request_version,
		      const char *want_policy, s_disco_t *d)
{
	sim_resp_t resp;
	xmlDocPtr doc = NULL;
	char *url = NULL, *body = NULL, msgid[64];
	mdm_buf_t ub = MDM_BUF_INIT;
	int rc, bad = 0;

	memset(&resp, 0, sizeof resp);
	size_t blen = strlen(o->url);
	while (blen > 0 && o->url[blen - 1] == '/')
		blen--;
	mdm_buf_printf(&ub, "%.*s/EnrollmentServer/Discovery.svc", (int)blen, o->url);
	url = mdm_buf_steal(&ub, NULL);
	check_mem(url);

	rc = sim_http_request(http, "GET", url, NULL, NULL, 0, &resp);
	if (rc != SIM_OK)
		goto done;
	if (resp.status != 200) {
		rc = sim_http_status_fail("GET", url, &resp);
		goto done;
	}
	if (resp.body.len != 0)
		bad += sim_fail("GET %s: body must be empty, got %zu bytes", url, resp.body.len);

	check(sim_msgid(msgid, sizeof msgid) == 0, "RAND_bytes failed");
	body = sim_soap_discover(msgid, url, o->email, request_version, o->win81, want_policy);
	check_mem(body);
	rc = sim_soap_call(http, url, body, msgid, SIM_ACT_DISCOVER_RESP, &doc);
	if (rc != SIM_OK)
		goto done;
	xmlNodePtr res = sim_xml_path(sim_soap_body(doc), SIM_NS_DISCO, "DiscoverResponse/DiscoverResult");
	if (res == NULL) {
		rc = sim_fail("DiscoverResponse/DiscoverResult missing (namespace " SIM_NS_DISCO ")");
		goto done;
	}
	d->auth_policy = sim_xml_text(sim_xml_child(res, SIM_NS_DISCO, "AuthPolicy"));
	d->version = sim_xml_text(sim_xml_child(res, SIM_NS_DISCO, "EnrollmentVersion"));
	d->policy_url = sim_xml_text(sim_xml_child(res, SIM_NS_DISCO, "EnrollmentPolicyServiceUrl"));
	d->enroll_url = sim_xml_text(sim_xml_child(res, SIM_NS_DISCO, "EnrollmentServiceUrl"));
	d->auth_url = sim_xml_text(sim_xml_child(res, SIM_NS_DISCO, "AuthenticationServiceUrl"));
	sim_note("discovery: AuthPolicy=%s EnrollmentVersion=%s policy=%s enrollment=%s auth=%s",
		 d->auth_policy ? d->auth_policy : "-", d->version ? d->version : "-",
		 d->policy_url ? d->policy_url : "-", d->enroll_url ? d->enroll_url : "-",
		 d->auth_url ? d->auth_url : "-");

	if (d->auth_policy == NULL || strcmp(d->auth_policy, want_policy) != 0)
		bad += sim_fail("DiscoverResult: AuthPolicy is \"%s\", want %s",
				d->auth_policy ? d->auth_policy : "(missing)", want_policy);
	if (!sim_url_is_https(d->enroll_url))
		bad += sim_fail("DiscoverResult: EnrollmentServiceUrl \"%s\" is not an https URL",
				d->enroll_url ? d->enroll_url : "(missing)");
	if (d->policy_url && *d->policy_url) {
		if (!sim_url_is_https(d->policy_url))
			bad += sim_fail("DiscoverResult: EnrollmentPolicyServiceUrl \"%s\" is not an https URL",
					d->policy_url);
		else if (d->enroll_url && !s_same_host(d->policy_url, d->enroll_url))
			bad += sim_fail("DiscoverResult: policy URL %s and enrollment URL %s are on different "
					"hosts", d->policy_url, d->enroll_url);
	} else {
		free(d->policy_url);
		d->policy_url = NULL;
		sim_note("discovery: no EnrollmentPolicyServiceUrl");
	}
	if (strcmp(want_policy, "Federated") == 0 && !sim_url_is_https(d->auth_url))
		bad += sim_fail("DiscoverResult: AuthenticationServiceUrl \"%s\" is not an https URL",
				d->auth_url ? d->auth_url : "(missing)");
	if (!o->win81 && d->version && *d->version && *request_version &&
	    strtod(d->version, NULL) > strtod(request_version, NULL))
		bad += sim_fail("DiscoverResult: EnrollmentVersion %s is above our RequestVersion %s",
				d->version, request_version);
	rc = bad ? SIM_ECHECK : SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	sim_resp_free(&resp);
	xmlFreeDoc(doc);
	free(url);
	free(body);
	return rc;
}

/* ---- XCEP GetPolicies -------------------------------------------------------------- */

/* Reads minimalKeyLength and whether hashAlgorithmOIDReference names the SHA-256 oID. */
static int s_get_policies(sim_http_t *http, const char *url, const sim_cred_t *cred, int *min_bits,
			  int *sha256)
{
	xmlDocPtr doc = NULL;
	char *body = NULL, *mkl = NULL, *ref = NULL, msgid[64];
	int rc;

	*min_bits = 0;
	*sha256 = 0;
	check(sim_msgid(msgid, sizeof msgid) == 0, "RAND_bytes failed");
	body = sim_soap_get_policies(msgid, url, cred);
	check_mem(body);
	rc = sim_soap_call(http, url, body, msgid, SIM_ACT_POLICIES_RESP, &doc);
	if (rc != SIM_OK)
		goto done;
	xmlNodePtr gpr = sim_xml_child(sim_soap_body(doc), SIM_NS_XCEP, "GetPoliciesResponse");
	if (gpr == NULL) {
		rc = sim_fail("GetPoliciesResponse missing (namespace " SIM_NS_XCEP ")");
		goto done;
	}
	xmlNodePtr attrs = sim_xml_path(gpr, SIM_NS_XCEP, "response/policies/policy/attributes");
	mkl = sim_xml_text(sim_xml_path(attrs, SIM_NS_XCEP, "privateKeyAttributes/minimalKeyLength"));
	if (mkl && *mkl)
		*min_bits = atoi(mkl);
	xmlNodePtr href = sim_xml_child(attrs, SIM_NS_XCEP, "hashAlgorithmOIDReference");
	if (href && !sim_xml_is_nil(href))
		ref = sim_xml_text(href);
	if (ref && *ref) {
		int found = 0;
		for (xmlNodePtr oid = sim_xml_path(gpr, SIM_NS_XCEP, "oIDs/oID"); oid && !found;
		     oid = sim_xml_next(oid, SIM_NS_XCEP, "oID")) {
			char *id = sim_xml_text(sim_xml_child(oid, SIM_NS_XCEP, "oIDReferenceID"));
			if (id && strcmp(id, ref) == 0) {
				char *value = sim_xml_text(sim_xml_child(oid, SIM_NS_XCEP, "value"));
				found = 1;
				*sha256 = value && strcmp(value, SIM_OID_SHA256) == 0;
				free(value);
			}
			free(id);
		}
		if (!found) {
			rc = sim_fail("GetPolicies: hashAlgorithmOIDReference %s names no oIDs/oID", ref);
			goto done;
		}
	}
	sim_note("policy: minimalKeyLength=%s hash=%s", mkl && *mkl ? mkl : "-", *sha256 ? "SHA-256" : "SHA-1");
	rc = SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	xmlFreeDoc(doc);
	free(body);
	free(mkl);
	free(ref);
	return rc;
}

/* ---- WSTEP RST --------------------------------------------------------------------- */

/* Takes the RSTRC's DeviceEnrollmentProvisionDoc token and base64-decodes it (caller frees). */
static int s_rstrc_provdoc(xmlDocPtr doc, char **xml, size_t *len)
{
	int bad = 0;
	char *tt = NULL, *vt = NULL, *et = NULL, *b64 = NULL;
	*xml = NULL;
	xmlNodePtr rstr = sim_xml_path(sim_soap_body(doc), SIM_NS_WST,
				       "RequestSecurityTokenResponseCollection/RequestSecurityTokenResponse");
	if (rstr == NULL) {
		bad += sim_fail("RequestSecurityTokenResponseCollection/RequestSecurityTokenResponse missing");
		goto done;
	}
	tt = sim_xml_text(sim_xml_child(rstr, SIM_NS_WST, "TokenType"));
	if (tt == NULL || strcmp(tt, SIM_TOKEN_TYPE) != 0)
		bad += sim_fail("RSTR TokenType is \"%s\", want %s", tt ? tt : "(missing)", SIM_TOKEN_TYPE);
	xmlNodePtr bst = sim_xml_child(sim_xml_child(rstr, SIM_NS_WST, "RequestedSecurityToken"),
				       SIM_NS_WSSE, "BinarySecurityToken");
	if (bst == NULL) {
		bad += sim_fail("RSTR: no RequestedSecurityToken/wsse:BinarySecurityToken");
		goto done;
	}
	vt = sim_xml_attr(bst, "ValueType");
	et = sim_xml_attr(bst, "EncodingType");
	if (vt == NULL || strcmp(vt, SIM_VT_PROVDOC) != 0)
		bad += sim_fail("RSTR BinarySecurityToken ValueType is \"%s\", want %s", vt ? vt : "(missing)",
				SIM_VT_PROVDOC);
	if (et && strcmp(et, SIM_ENC_BASE64) != 0)
		bad += sim_fail("RSTR BinarySecurityToken EncodingType is \"%s\", want %s", et, SIM_ENC_BASE64);
	b64 = sim_xml_text(bst);
	unsigned char *raw = b64 ? sim_b64_decode(b64, len) : NULL;
	if (raw == NULL || *len == 0) {
		free(raw);
		bad += sim_fail("RSTR BinarySecurityToken is not base64");
		goto done;
	}
	*xml = (char *)raw;
done:
	free(tt);
	free(vt);
	free(et);
	free(b64);
	return bad ? SIM_ECHECK : SIM_OK;
}

/* Sends one RST and verifies the provisioning document it returns. */
static int s_rst(sim_http_t *http, const char *url, const sim_cred_t *cred, const char *req_type,
		 const char *bst_vt, const char *bst_b64, const s_ctx_t *ctx, const sim_pd_expect_t *exp,
		 sim_pd_result_t *res, char **xml, size_t *xml_len)
{
	xmlDocPtr doc = NULL;
	char *body = NULL, msgid[64];
	int rc;
	*xml = NULL;
	check(sim_msgid(msgid, sizeof msgid) == 0, "RAND_bytes failed");
	body = sim_soap_rst(msgid, url, cred, req_type, bst_vt, bst_b64, ctx->items, ctx->n);
	check_mem(body);
	rc = sim_soap_call(http, url, body, msgid, SIM_ACT_RSTRC, &doc);
	if (rc != SIM_OK)
		goto done;
	rc = s_rstrc_provdoc(doc, xml, xml_len);
	if (rc != SIM_OK)
		goto done;
	if (sim_verbose)
		fprintf(stderr, "provisioning document:\n%.*s\n", (int)*xml_len, *xml);
	rc = sim_provdoc_verify(*xml, *xml_len, exp, res) ? SIM_ECHECK : SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	xmlFreeDoc(doc);
	free(body);
	return rc;
}

/* ---- output ------------------------------------------------------------------------ */

static int s_write_json(const char *dir, json_t *obj)
{
	char *text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	mdm_buf_t b = MDM_BUF_INIT;
	int rc = -1;
	if (text == NULL)
		return -1;
	mdm_buf_printf(&b, "%s\n", text);
	if (!b.failed)
		rc = sim_write_file(dir, "enrollment.json", b.data, b.len, 0644);
	mdm_buf_free(&b);
	free(text);
	return rc;
}

static int s_write_pem(const char *dir, const char *name, char *pem, int mode)
{
	int rc = pem ? sim_write_file(dir, name, pem, strlen(pem), mode) : -1;
	free(pem);
	return rc;
}

/* device.key (0600), device.pem, root.pem (if root), provdoc.xml. */
static int s_write_device(const char *dir, EVP_PKEY *key, X509 *cert, X509 *root, const char *xml,
			  size_t xml_len)
{
	if (s_write_pem(dir, "device.key", sim_key_pem(key), 0600) != 0 ||
	    s_write_pem(dir, "device.pem", sim_cert_pem(cert), 0644) != 0 ||
	    (root && s_write_pem(dir, "root.pem", sim_cert_pem(root), 0644) != 0) ||
	    sim_write_file(dir, "provdoc.xml", xml, xml_len, 0644) != 0)
		return -1;
	return 0;
}

/* ---- enroll ------------------------------------------------------------------------ */

int sim_enroll(const sim_enroll_opts_t *o)
{
	sim_http_t *http = NULL;
	s_disco_t d = {0};
	sim_pd_result_t res;
	s_ctx_t ctx;
	EVP_PKEY *key = NULL;
	json_t *js = NULL;
	char *token = NULL, *token_b64 = NULL, *csr_b64 = NULL, *xml = NULL;
	unsigned char *csr = NULL;
	size_t csr_len = 0, xml_len = 0;
	char device_id[80], hwdevid[80], device_name[80];
	int rc = SIM_ECHECK, min_bits = 0, sha256 = 0;

	memset(&res, 0, sizeof res);
	int federated = strcmp(o->auth, "federated") == 0;
	const char *want_policy = federated ? "Federated" : "OnPremise";
	const char *rv = o->request_version ? o->request_version : (o->win81 ? "2.0" : "4.0");
	const char *store = strcmp(o->enrollment_type, "Device") == 0 ? "System" : "User";

	if (o->device_id)
		snprintf(device_id, sizeof device_id, "%s", o->device_id);
	else
		check(sim_rand_hex(device_id, 16, 1) == 0, "RAND_bytes failed");
	if (o->hwdevid)
		snprintf(hwdevid, sizeof hwdevid, "%s", o->hwdevid);
	else
		sim_sha256_hex(device_id, strlen(device_id), hwdevid);
	if (o->device_name)
		snprintf(device_name, sizeof device_name, "%s", o->device_name);
	else
		snprintf(device_name, sizeof device_name, "SIM-%.8s", device_id);
	s_ctx_build(&ctx, device_id, hwdevid, device_name, o->enrollment_type);

	http = sim_http_new(&o->tls, 0);
	check_mem(http);

	/* 1. Discovery. */
	rc = s_discover(http, o, rv, want_policy, &d);
	if (rc != SIM_OK)
		goto done;

	/* 2. The credential for GetPolicies and RST. */
	sim_cred_t cred = {SIM_CRED_PASSWORD, o->email, o->password, NULL};
	if (strcmp(o->auth, "preenroll") == 0) {
		cred.password = o->secret;
	} else if (federated) {
		rc = sim_wab_login(&o->tls, d.auth_url, o->email, o->password, &token);
		if (rc != SIM_OK)
			goto done;
		token_b64 = sim_b64_encode((const unsigned char *)token, strlen(token));
		check_mem(token_b64);
		cred = (sim_cred_t){SIM_CRED_TOKEN, NULL, NULL, token_b64};
	}

	/* 3. Policy (without one, Windows uses 2048-bit keys and SHA-1). */
	if (d.policy_url) {
		rc = s_get_policies(http, d.policy_url, &cred, &min_bits, &sha256);
		if (rc != SIM_OK)
			goto done;
	}
	int bits = o->key_bits ? o->key_bits : (min_bits > 2048 ? min_bits : 2048);

	/* 4. Fresh key, CSR, RST, and the checks on the provisioning document. */
	sim_note("enroll: device %s, RSA-%d, CSR %s", device_id, bits, sha256 ? "SHA-256" : "SHA-1");
	rc = SIM_ECHECK;
	key = sim_key_new(bits);
	check(key, "cannot generate the device key");
	csr = sim_csr_new(key, device_id, sha256, &csr_len);
	check(csr, "cannot build the CSR");
	csr_b64 = sim_b64_encode(csr, csr_len);
	check_mem(csr_b64);
	sim_pd_expect_t exp = {key, device_id, store, 0, NULL, NULL, NULL};
	rc = s_rst(http, d.enroll_url, &cred, SIM_REQ_ISSUE, SIM_VT_PKCS10, csr_b64, &ctx, &exp, &res,
		   &xml, &xml_len);
	if (rc != SIM_OK) {
		if (xml && o->out_dir && sim_mkdirs(o->out_dir) == 0 &&
		    sim_write_file(o->out_dir, "provdoc.xml", xml, xml_len, 0644) == 0)
			fprintf(stderr, "the rejected provisioning document is in %s/provdoc.xml\n", o->out_dir);
		goto done;
	}

	/* 5. Files. */
	if (o->out_dir) {
		rc = SIM_ECHECK;
		js = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:s?, s:s, s:b}",
			       "device_id", device_id, "hwdevid", hwdevid, "thumbprint", res.thumb,
			       "serial", res.serial, "mgmt_url", res.mgmt_url, "provider_id",
			       res.provider_id, "renew_url", res.renew_url, "not_after", res.not_after,
			       "enroll_url", d.enroll_url, "enrollment_type", o->enrollment_type,
			       "email", o->email, "device_name", device_name, "csr_sha256", sha256);
		check_mem(js);
		check_quiet(sim_mkdirs(o->out_dir) == 0);
		check_quiet(s_write_device(o->out_dir, key, res.cert, res.root, xml, xml_len) == 0);
		check_quiet(s_write_json(o->out_dir, js) == 0);
	}
	printf("enrolled %s thumbprint %s mgmt %s\n", device_id, res.thumb,
	       res.mgmt_url ? res.mgmt_url : "-");
	fflush(stdout);
	rc = SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	sim_pd_result_free(&res);
	s_disco_free(&d);
	sim_http_destroy(&http);
	EVP_PKEY_free(key);
	json_decref(js);
	free(token);
	free(token_b64);
	free(csr);
	free(csr_b64);
	free(xml);
	return rc;
}

/* ---- renew ------------------------------------------------------------------------- */

static const char *s_js(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

/* ROBO: TLS with the current certificate, an RST Renew whose PKCS#7 (signed by the current
 * key) wraps a CSR for a new key; then the new key and certificate replace the old ones. */
int sim_renew(const sim_renew_opts_t *o)
{
	json_t *js = NULL;
	json_error_t jerr;
	X509 *cert = NULL, *root = NULL;
	EVP_PKEY *key = NULL, *new_key = NULL;
	sim_http_t *http = NULL;
	sim_pd_result_t res;
	s_ctx_t ctx;
	unsigned char *csr = NULL, *p7 = NULL;
	char *p7_b64 = NULL, *xml = NULL;
	size_t csr_len = 0, p7_len = 0, xml_len = 0;
	char path_json[4096], path_cert[4096], path_key[4096], path_root[4096], old_thumb[41];
	int rc = SIM_ECHECK;

	memset(&res, 0, sizeof res);
	snprintf(path_json, sizeof path_json, "%s/enrollment.json", o->dir);
	snprintf(path_cert, sizeof path_cert, "%s/device.pem", o->dir);
	snprintf(path_key, sizeof path_key, "%s/device.key", o->dir);
	snprintf(path_root, sizeof path_root, "%s/root.pem", o->dir);
	js = json_load_file(path_json, 0, &jerr);
	if (js == NULL || !json_is_object(js)) {
		fprintf(stderr, "cannot read %s: %s\n", path_json, js ? "not an object" : jerr.text);
		goto done;
	}
	const char *device_id = s_js(js, "device_id"), *hwdevid = s_js(js, "hwdevid");
	const char *etype = s_js(js, "enrollment_type") ? s_js(js, "enrollment_type") : "Full";
	const char *name = s_js(js, "device_name") ? s_js(js, "device_name") : "SIM";
	const char *url = o->url ? o->url : s_js(js, "renew_url") ? s_js(js, "renew_url") : s_js(js, "enroll_url");
	json_t *jsha = json_object_get(js, "csr_sha256");
	int sha256 = jsha ? json_is_true(jsha) : 1;
	if (device_id == NULL || hwdevid == NULL) {
		fprintf(stderr, "%s: device_id or hwdevid missing\n", path_json);
		goto done;
	}
	if (url == NULL) {
		fprintf(stderr, "%s: no renew_url or enroll_url; pass --url\n", path_json);
		goto done;
	}
	cert = sim_cert_load(path_cert);
	key = sim_key_load(path_key);
	root = sim_cert_load(path_root);
	if (cert == NULL || key == NULL || root == NULL)
		goto done;
	check(sim_thumbprint(cert, old_thumb) == 0, "cannot hash %s", path_cert);

	int bits = o->key_bits ? o->key_bits : EVP_PKEY_get_bits(key);
	sim_note("renew: device %s, old thumbprint %s, new RSA-%d key, via %s", device_id, old_thumb, bits, url);
	new_key = sim_key_new(bits);
	check(new_key, "cannot generate the new key");
	csr = sim_csr_new(new_key, device_id, sha256, &csr_len);
	check(csr, "cannot build the CSR");
	p7 = sim_pkcs7_sign(cert, key, csr, csr_len, &p7_len);
	check(p7, "cannot sign the renewal request");
	p7_b64 = sim_b64_encode(p7, p7_len);
	check_mem(p7_b64);

	sim_tls_t tls = o->tls;
	tls.client_cert = path_cert;
	tls.client_key = path_key;
	http = sim_http_new(&tls, 0);
	check_mem(http);
	s_ctx_build(&ctx, device_id, hwdevid, name, etype);
	sim_cred_t cred = {SIM_CRED_RENEW, s_js(js, "email"), NULL, NULL};
	sim_pd_expect_t exp = {new_key, device_id, strcmp(etype, "Device") == 0 ? "System" : "User", 1,
			       root, old_thumb, s_js(js, "provider_id")};
	rc = s_rst(http, url, &cred, SIM_REQ_RENEW, SIM_VT_PKCS7, p7_b64, &ctx, &exp, &res, &xml, &xml_len);
	if (rc != SIM_OK)
		goto done;

	/* Replace the credentials; enrollment.json last, so it never names a missing cert. */
	rc = SIM_ECHECK;
	check_quiet(s_write_device(o->dir, new_key, res.cert, res.root, xml, xml_len) == 0);
	check_mem(json_object_set_new(js, "thumbprint", json_string(res.thumb)) == 0);
	if (res.serial)
		json_object_set_new(js, "serial", json_string(res.serial));
	if (res.not_after)
		json_object_set_new(js, "not_after", json_string(res.not_after));
	if (res.mgmt_url)
		json_object_set_new(js, "mgmt_url", json_string(res.mgmt_url));
	if (res.renew_url)
		json_object_set_new(js, "renew_url", json_string(res.renew_url));
	check_quiet(s_write_json(o->dir, js) == 0);
	printf("renewed %s thumbprint %s\n", device_id, res.thumb);
	fflush(stdout);
	rc = SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	sim_pd_result_free(&res);
	sim_http_destroy(&http);
	json_decref(js);
	X509_free(cert);
	X509_free(root);
	EVP_PKEY_free(key);
	EVP_PKEY_free(new_key);
	free(csr);
	free(p7);
	free(p7_b64);
	free(xml);
	return rc;
}
