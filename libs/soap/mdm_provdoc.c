/* mdm_provdoc.c -- builds the wap-provisioningdoc (CertificateStore, w7 APPLICATION, DMClient) as escaped one-line XML. */
#include "mdm_provdoc.h"

#include <stdio.h>
#include <string.h>

#include "mdm_buf.h"
#include "mdm_soap.h"

/* DMClient Poll schedule: every 15 min for 2 h, hourly for a day, then daily for ever
 * (NumberOfRemainingScheduledRetries 0 = unlimited). No count of the first sets is 0,
 * which would mean "infinite" there, and the long-term interval is the 1440 min floor
 * MS-MDE2 asks for. */
static const struct {
	const char *name;
	const char *value;
	const char *type;
} s_poll[] = {
	{"IntervalForFirstSetOfRetries", "15", "integer"},
	{"NumberOfFirstRetries", "8", "integer"},
	{"IntervalForSecondSetOfRetries", "60", "integer"},
	{"NumberOfSecondRetries", "24", "integer"},
	{"IntervalForRemainingScheduledRetries", "1440", "integer"},
	{"NumberOfRemainingScheduledRetries", "0", "integer"},
	{"PollOnLogin", "true", "boolean"},
};

static int s_empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* <parm name="name" value="value" [datatype="type"]/>; a NULL value writes a valueless parm. */
static void s_parm(mdm_buf_t *b, const char *name, const char *value, const char *type)
{
	mdm_buf_puts(b, "<parm name=\"");
	mdm_xml_put(b, name);
	mdm_buf_puts(b, "\"");
	if (value) {
		mdm_buf_puts(b, " value=\"");
		mdm_xml_put(b, value);
		mdm_buf_puts(b, "\"");
	}
	if (type)
		mdm_buf_printf(b, " datatype=\"%s\"", type);
	mdm_buf_puts(b, "/>");
}

static void s_char_open(mdm_buf_t *b, const char *type)
{
	mdm_buf_puts(b, "<characteristic type=\"");
	mdm_xml_put(b, type);
	mdm_buf_puts(b, "\">");
}

static void s_char_close(mdm_buf_t *b)
{
	mdm_buf_puts(b, "</characteristic>");
}

/* Percent-encodes s into b, keeping only RFC 3986 unreserved characters. */
static void s_url_escape(mdm_buf_t *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			mdm_buf_append(b, p, 1);
		else
			mdm_buf_printf(b, "%%%02X", *p);
	}
}

/* CertificateStore: the root (if any), the client certificate in My/User or My/System,
 * and the renewal schedule. */
static void s_cert_store(mdm_buf_t *b, const mdm_provdoc_t *p)
{
	s_char_open(b, "CertificateStore");
	if (!s_empty(p->ca_thumbprint) && !s_empty(p->ca_der_b64)) {
		s_char_open(b, "Root");
		s_char_open(b, "System");
		s_char_open(b, p->ca_thumbprint);
		s_parm(b, "EncodedCertificate", p->ca_der_b64, NULL);
		s_char_close(b);
		s_char_close(b);
		s_char_close(b);
	}
	s_char_open(b, "My");
	s_char_open(b, p->device_store ? "System" : "User");
	s_char_open(b, p->cert_thumbprint);
	s_parm(b, "EncodedCertificate", p->cert_der_b64, NULL);
	if (p->renewal_only) {
		mdm_buf_puts(b, "<characteristic type=\"PrivateKeyContainer\"/>");
		s_char_close(b);
	} else {
		s_char_close(b);
		mdm_buf_puts(b, "<characteristic type=\"PrivateKeyContainer\"/>");
	}
	s_char_close(b); /* User|System */
	if (!p->renewal_only && !s_empty(p->renew_url)) {
		char period[16], retry[16];
		snprintf(period, sizeof period, "%d", p->renew_period_days > 0 ? p->renew_period_days : 42);
		snprintf(retry, sizeof retry, "%d", p->renew_retry_days > 0 ? p->renew_retry_days : 7);
		s_char_open(b, "WSTEP");
		s_char_open(b, "Renew");
		s_parm(b, "ROBOSupport", "true", "boolean");
		s_parm(b, "RenewPeriod", period, "integer");
		s_parm(b, "RetryInterval", retry, "integer");
		s_parm(b, "ServerURL", p->renew_url, "string");
		s_char_close(b);
		s_char_close(b);
	}
	s_char_close(b); /* My */
	s_char_close(b); /* CertificateStore */
}

/* w7 APPLICATION. The client authenticates with its TLS certificate, so the two APPAUTH
 * blocks the CSP requires carry placeholder DIGEST values (as Fleet's accepted document
 * does); the client then sends no <Cred>. */
static void s_application(mdm_buf_t *b, const mdm_provdoc_t *p)
{
	s_char_open(b, "APPLICATION");
	s_parm(b, "APPID", "w7", NULL);
	s_parm(b, "PROVIDER-ID", p->provider_id, NULL);
	s_parm(b, "NAME", s_empty(p->server_name) ? p->provider_id : p->server_name, NULL);
	s_parm(b, "ADDR", p->mgmt_url, NULL);
	s_parm(b, "CONNRETRYFREQ", "6", NULL);
	s_parm(b, "INITIALBACKOFFTIME", "30000", NULL);
	s_parm(b, "MAXBACKOFFTIME", "120000", NULL);
	s_parm(b, "BACKCOMPATRETRYDISABLED", NULL, NULL);
	s_parm(b, "DEFAULTENCODING", "application/vnd.syncml.dm+xml", NULL);
	if (!s_empty(p->cert_subject_cn)) {
		/* The URL-escaped DN and '&' are one value; s_parm's XML escaping turns '&' into
		 * &amp; exactly once. */
		mdm_buf_t v = MDM_BUF_INIT;
		mdm_buf_puts(&v, "Subject=CN%3D");
		s_url_escape(&v, p->cert_subject_cn);
		mdm_buf_puts(&v, p->device_store ? "&Stores=My%5CSystem" : "&Stores=My%5CUser");
		if (v.failed)
			b->failed = 1;
		else
			s_parm(b, "SSLCLIENTCERTSEARCHCRITERIA", v.data, NULL);
		mdm_buf_free(&v);
	}
	s_char_open(b, "APPAUTH");
	s_parm(b, "AAUTHLEVEL", "CLIENT", NULL);
	s_parm(b, "AAUTHTYPE", "DIGEST", NULL);
	s_parm(b, "AAUTHSECRET", "dummy", NULL);
	s_parm(b, "AAUTHDATA", "bm9uY2U=", NULL);
	s_char_close(b);
	s_char_open(b, "APPAUTH");
	s_parm(b, "AAUTHLEVEL", "APPSRV", NULL);
	s_parm(b, "AAUTHTYPE", "DIGEST", NULL);
	s_parm(b, "AAUTHNAME", "dummy", NULL);
	s_parm(b, "AAUTHSECRET", "dummy", NULL);
	s_parm(b, "AAUTHDATA", "bm9uY2U=", NULL);
	s_char_close(b);
	s_char_close(b);
}

static void s_dmclient(mdm_buf_t *b, const mdm_provdoc_t *p)
{
	s_char_open(b, "DMClient");
	s_char_open(b, "Provider");
	s_char_open(b, p->provider_id);
	if (!s_empty(p->ent_dmid))
		s_parm(b, "EntDMID", p->ent_dmid, "string");
	if (!s_empty(p->upn))
		s_parm(b, "UPN", p->upn, "string");
	if (!s_empty(p->device_name))
		s_parm(b, "EntDeviceName", p->device_name, "string");
	s_char_open(b, "Poll");
	for (size_t i = 0; i < sizeof s_poll / sizeof s_poll[0]; i++)
		s_parm(b, s_poll[i].name, s_poll[i].value, s_poll[i].type);
	s_char_close(b);
	s_char_close(b);
	s_char_close(b);
	s_char_close(b);
}

char *mdm_provdoc_build(const mdm_provdoc_t *p, size_t *len)
{
	mdm_buf_t b = MDM_BUF_INIT;

	if (len)
		*len = 0;
	if (p == NULL || s_empty(p->cert_thumbprint) || s_empty(p->cert_der_b64) || s_empty(p->provider_id))
		return NULL;
	if (!p->renewal_only && s_empty(p->mgmt_url))
		return NULL;
	mdm_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><wap-provisioningdoc version=\"1.1\">");
	s_cert_store(&b, p);
	if (p->renewal_only) {
		s_char_open(&b, "APPLICATION");
		s_parm(&b, "PROVIDER-ID", p->provider_id, NULL);
		s_char_close(&b);
	} else {
		s_application(&b, p);
		s_dmclient(&b, p);
	}
	mdm_buf_puts(&b, "</wap-provisioningdoc>");
	return mdm_buf_steal(&b, len);
}
