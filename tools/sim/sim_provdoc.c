/* sim_provdoc.c -- checks the wap-provisioningdoc the way a Windows client would depend on it. */
#include "sim.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mdm_log.h"

/* A <characteristic type="..."> child of node (types are case-sensitive), or NULL. */
static xmlNodePtr s_char(xmlNodePtr node, const char *type)
{
	for (xmlNodePtr n = sim_xml_child(node, NULL, "characteristic"); n;
	     n = sim_xml_next(n, NULL, "characteristic")) {
		char *t = sim_xml_attr(n, "type");
		int hit = t && strcmp(t, type) == 0;
		free(t);
		if (hit)
			return n;
	}
	return NULL;
}

/* The <parm name="..."> child of node, or NULL. */
static xmlNodePtr s_parm(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr n = sim_xml_child(node, NULL, "parm"); n; n = sim_xml_next(n, NULL, "parm")) {
		char *t = sim_xml_attr(n, "name");
		int hit = t && strcmp(t, name) == 0;
		free(t);
		if (hit)
			return n;
	}
	return NULL;
}

static char *s_parm_value(xmlNodePtr node, const char *name)
{
	return sim_xml_attr(s_parm(node, name), "value");
}

/* Decodes <characteristic type="THUMB"><parm name="EncodedCertificate" value="B64"/> and
 * checks that THUMB is the upper-case SHA-1 of the DER. Returns the certificate (caller frees)
 * or NULL; *bad counts failed checks. */
static X509 *s_thumb_cert(xmlNodePtr node, const char *where, int *bad)
{
	char *type = sim_xml_attr(node, "type");
	char *b64 = s_parm_value(node, "EncodedCertificate");
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *cert = NULL;
	char thumb[41];

	if (b64 == NULL) {
		*bad += sim_fail("%s/%s: no EncodedCertificate parm", where, type);
		goto done;
	}
	if (strpbrk(b64, " \t\r\n"))
		*bad += sim_fail("%s/%s: EncodedCertificate base64 contains line breaks/whitespace", where,
				 type);
	der = sim_b64_decode(b64, &len);
	const unsigned char *p = der;
	if (der)
		cert = d2i_X509(NULL, &p, (long)len);
	if (cert == NULL || p != der + len) {
		*bad += sim_fail("%s/%s: EncodedCertificate is not a base64 DER certificate", where, type);
		X509_free(cert);
		cert = NULL;
		goto done;
	}
	if (sim_thumbprint(cert, thumb) != 0) {
		*bad += sim_fail("%s/%s: cannot hash the certificate", where, type);
	} else if (strcmp(thumb, type) != 0) {
		if (strcasecmp(thumb, type) == 0)
			*bad += sim_fail("%s/%s: thumbprint must be upper-case hex (%s)", where, type, thumb);
		else
			*bad += sim_fail("%s/%s: characteristic type is not the certificate's SHA-1 %s", where,
					 type, thumb);
	}
done:
	free(type);
	free(b64);
	free(der);
	return cert;
}

/* The client certificate chains to root (the only trusted certificate), for TLS client use. */
static int s_verify_chain(X509 *cert, X509 *root, STACK_OF(X509) *untrusted)
{
	int bad = 0;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	check_mem(store && ctx);
	check(X509_STORE_add_cert(store, root) == 1, "X509_STORE_add_cert failed");
	check(X509_STORE_CTX_init(ctx, store, cert, untrusted) == 1, "X509_STORE_CTX_init failed");
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	if (X509_verify_cert(ctx) != 1)
		bad += sim_fail("client certificate does not verify against the Root/System certificate: %s",
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	goto done;
error:
	bad++;
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return bad;
}

/* W7 APPLICATION and DMClient checks. */
static int s_check_application(xmlNodePtr doc_root, const sim_pd_expect_t *exp, sim_pd_result_t *res)
{
	int bad = 0;
	xmlNodePtr app = NULL;
	char *crit = NULL, *dcrit = NULL;

	/* The w7 APPLICATION; a renewal document may carry only PROVIDER-ID without APPID. */
	for (xmlNodePtr n = sim_xml_child(doc_root, NULL, "characteristic"); n;
	     n = sim_xml_next(n, NULL, "characteristic")) {
		char *t = sim_xml_attr(n, "type");
		char *id = t && strcmp(t, "APPLICATION") == 0 ? s_parm_value(n, "APPID") : NULL;
		int hit = t && strcmp(t, "APPLICATION") == 0 &&
			  ((id && strcmp(id, "w7") == 0) || (exp->renew && app == NULL && id == NULL));
		free(t);
		free(id);
		if (hit)
			app = n;
	}
	if (app == NULL) {
		bad += sim_fail("no APPLICATION characteristic with APPID=w7");
		return bad;
	}
	res->provider_id = s_parm_value(app, "PROVIDER-ID");
	res->mgmt_url = s_parm_value(app, "ADDR");
	if (res->provider_id == NULL || !*res->provider_id)
		bad += sim_fail("APPLICATION: no PROVIDER-ID");
	else if (exp->provider_id && strcmp(exp->provider_id, res->provider_id) != 0)
		bad += sim_fail("APPLICATION: PROVIDER-ID \"%s\" differs from the enrollment's \"%s\"",
				res->provider_id, exp->provider_id);
	if (res->mgmt_url == NULL) {
		if (!exp->renew)
			bad += sim_fail("APPLICATION: no ADDR (management URL)");
	} else if (!sim_url_is_https(res->mgmt_url)) {
		bad += sim_fail("APPLICATION: ADDR \"%s\" is not an https URL", res->mgmt_url);
	}
	if (!exp->renew) {
		/* Both APPAUTH blocks (w7 CSP), CLIENT with DIGEST. */
		int client = 0, appsrv = 0;
		for (xmlNodePtr n = sim_xml_child(app, NULL, "characteristic"); n;
		     n = sim_xml_next(n, NULL, "characteristic")) {
			char *t = sim_xml_attr(n, "type");
			if (t && strcmp(t, "APPAUTH") == 0) {
				char *level = s_parm_value(n, "AAUTHLEVEL");
				char *atype = s_parm_value(n, "AAUTHTYPE");
				if (level && strcmp(level, "CLIENT") == 0) {
					client = 1;
					if (atype == NULL || strcmp(atype, "DIGEST") != 0)
						bad += sim_fail("APPLICATION/APPAUTH CLIENT: AAUTHTYPE must be DIGEST");
				} else if (level && strcmp(level, "APPSRV") == 0) {
					appsrv = 1;
				}
				free(level);
				free(atype);
			}
			free(t);
		}
		if (!client || !appsrv)
			bad += sim_fail("APPLICATION: needs both APPAUTH blocks (AAUTHLEVEL CLIENT and APPSRV)");
		xmlNodePtr prov = s_char(s_char(s_char(doc_root, "DMClient"), "Provider"),
					 res->provider_id ? res->provider_id : "");
		if (prov == NULL)
			bad += sim_fail("no DMClient/Provider/%s matching APPLICATION PROVIDER-ID",
					res->provider_id ? res->provider_id : "(none)");
	}
	crit = s_parm_value(app, "SSLCLIENTCERTSEARCHCRITERIA");
	if (crit) {
		dcrit = strdup(crit);
		char *stores = NULL;
		for (char *tok = strtok(dcrit, "&"); tok; tok = strtok(NULL, "&"))
			if (strncmp(tok, "Stores=", 7) == 0)
				stores = sim_url_decode(tok + 7);
		char want[32];
		snprintf(want, sizeof want, "My\\%s", exp->store);
		if (stores == NULL || strcmp(stores, want) != 0)
			bad += sim_fail("SSLCLIENTCERTSEARCHCRITERIA \"%s\": Stores must be %s (URL-escaped)", crit,
					want);
		free(stores);
	}
	free(crit);
	free(dcrit);
	return bad;
}

/* CertificateStore/My/WSTEP/Renew: ServerURL, and the datatype the CSP requires. */
static int s_check_wstep(xmlNodePtr my, sim_pd_result_t *res)
{
	int bad = 0;
	xmlNodePtr renew = s_char(s_char(my, "WSTEP"), "Renew");
	if (renew == NULL)
		return 0;
	res->renew_url = s_parm_value(renew, "ServerURL");
	if (res->renew_url && !sim_url_is_https(res->renew_url))
		bad += sim_fail("WSTEP/Renew/ServerURL \"%s\" is not an https URL", res->renew_url);
	const char *typed[] = {"ROBOSupport", "RenewPeriod", "RetryInterval"};
	long period = -1, retry = -1;
	for (size_t i = 0; i < 3; i++) {
		xmlNodePtr p = s_parm(renew, typed[i]);
		if (p == NULL)
			continue;
		char *dt = sim_xml_attr(p, "datatype");
		char *v = sim_xml_attr(p, "value");
		if (dt == NULL)
			bad += sim_fail("WSTEP/Renew/%s has no datatype attribute", typed[i]);
		if (v && i == 1)
			period = strtol(v, NULL, 10);
		if (v && i == 2)
			retry = strtol(v, NULL, 10);
		free(dt);
		free(v);
	}
	if (period >= 0 && retry > period)
		bad += sim_fail("WSTEP/Renew: RetryInterval %ld > RenewPeriod %ld", retry, period);
	return bad;
}

int sim_provdoc_verify(const char *xml, size_t len, const sim_pd_expect_t *exp, sim_pd_result_t *res)
{
	int bad = 0, pkc = 0;
	xmlDocPtr doc = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *root = NULL;
	memset(res, 0, sizeof *res);
	check_mem(chain);

	doc = sim_xml_parse(xml, len);
	xmlNodePtr top = doc ? xmlDocGetRootElement(doc) : NULL;
	if (top == NULL || strcmp((const char *)top->name, "wap-provisioningdoc") != 0) {
		bad += sim_fail("provisioning document is not a well-formed <wap-provisioningdoc>");
		goto done;
	}
	xmlNodePtr cs = s_char(top, "CertificateStore");
	if (cs == NULL) {
		bad += sim_fail("no CertificateStore characteristic");
		goto done;
	}

	/* Root/System: exactly one root (more than one is not allowed in the enrollment doc). */
	xmlNodePtr rs = s_char(s_char(cs, "Root"), "System");
	int nroots = 0;
	for (xmlNodePtr n = sim_xml_child(rs, NULL, "characteristic"); n;
	     n = sim_xml_next(n, NULL, "characteristic")) {
		X509 *c = s_thumb_cert(n, "CertificateStore/Root/System", &bad);
		nroots++;
		if (c && root == NULL)
			root = c;
		else
			X509_free(c);
	}
	if (nroots > 1)
		bad += sim_fail("CertificateStore/Root/System holds %d certificates, at most one allowed", nroots);
	if (root == NULL && exp->renew && exp->known_root) {
		root = exp->known_root;
		X509_up_ref(root);
	}
	if (root == NULL && nroots == 0)
		bad += sim_fail("no CertificateStore/Root/System/<thumbprint> root certificate");

	/* Optional intermediates in CA/System. */
	xmlNodePtr cas = s_char(s_char(cs, "CA"), "System");
	for (xmlNodePtr n = sim_xml_child(cas, NULL, "characteristic"); n;
	     n = sim_xml_next(n, NULL, "characteristic")) {
		X509 *c = s_thumb_cert(n, "CertificateStore/CA/System", &bad);
		if (c && !sk_X509_push(chain, c))
			X509_free(c);
	}

	/* My/<store>: the client certificate (the one carrying the CSR key) + PrivateKeyContainer,
	 * either as a sibling (enrollment samples) or nested in the thumbprint (renewal sample). */
	xmlNodePtr my = s_char(cs, "My");
	const char *other = strcmp(exp->store, "User") == 0 ? "System" : "User";
	xmlNodePtr st = s_char(my, exp->store);
	xmlNodePtr ost = s_char(my, other);
	if (ost && sim_xml_child(ost, NULL, "characteristic"))
		bad += sim_fail("certificate in CertificateStore/My/%s, but this enrollment type needs My/%s",
				other, exp->store);
	if (st == NULL) {
		bad += sim_fail("no CertificateStore/My/%s characteristic", exp->store);
	} else {
		char where[64];
		snprintf(where, sizeof where, "CertificateStore/My/%s", exp->store);
		for (xmlNodePtr n = sim_xml_child(st, NULL, "characteristic"); n;
		     n = sim_xml_next(n, NULL, "characteristic")) {
			char *t = sim_xml_attr(n, "type");
			int is_pkc = t && strcmp(t, "PrivateKeyContainer") == 0;
			free(t);
			if (is_pkc) {
				pkc = 1;
				continue;
			}
			if (s_char(n, "PrivateKeyContainer"))
				pkc = 1;
			X509 *c = s_thumb_cert(n, where, &bad);
			if (c == NULL)
				continue;
			EVP_PKEY *pub = X509_get0_pubkey(c);
			if (res->cert == NULL && pub && EVP_PKEY_eq(pub, exp->csr_key) == 1) {
				res->cert = c;
			} else if (!sk_X509_push(chain, c)) {
				X509_free(c);
			}
		}
		if (res->cert == NULL && sk_X509_num(chain) > 0) {
			/* Report against the last certificate found, so the other checks still run. */
			res->cert = sk_X509_pop(chain);
			bad += sim_fail("%s: no certificate carries the public key of our CSR", where);
		}
		if (res->cert == NULL)
			bad += sim_fail("%s: no client certificate", where);
		if (!pkc)
			bad += sim_fail("%s: no PrivateKeyContainer characteristic", where);
	}
	bad += s_check_wstep(my, res);

	if (res->cert) {
		X509 *c = res->cert;
		if (sim_thumbprint(c, res->thumb) != 0)
			bad += sim_fail("cannot hash the client certificate");
		res->serial = sim_cert_serial(c);
		res->not_after = sim_cert_not_after(c);
		if (root)
			bad += s_verify_chain(c, root, chain);
		uint32_t xku = X509_get_extended_key_usage(c);
		if (!(X509_get_extension_flags(c) & EXFLAG_XKUSAGE) || !(xku & XKU_SSL_CLIENT))
			bad += sim_fail("client certificate has no extended key usage clientAuth");
		char *cn = sim_cert_cn(c);
		if (cn == NULL || strcmp(cn, exp->device_id) != 0)
			bad += sim_fail("client certificate CN is \"%s\", want the DeviceID \"%s\"",
					cn ? cn : "(none)", exp->device_id);
		free(cn);
		if (exp->old_thumb && strcmp(exp->old_thumb, res->thumb) == 0)
			bad += sim_fail("renewal returned the old certificate %s", res->thumb);
	}
	bad += s_check_application(top, exp, res);
	goto done;
error:
	bad++;
done:
	res->root = root;
	sk_X509_pop_free(chain, X509_free);
	xmlFreeDoc(doc);
	return bad;
}

void sim_pd_result_free(sim_pd_result_t *res)
{
	if (res == NULL)
		return;
	X509_free(res->cert);
	X509_free(res->root);
	free(res->serial);
	free(res->not_after);
	free(res->mgmt_url);
	free(res->provider_id);
	free(res->renew_url);
	memset(res, 0, sizeof *res);
}
