/* sim_soap.c -- XML helpers, the device's SOAP message builders and the checked SOAP exchange. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "mdm_log.h"

/* ---- XML helpers ------------------------------------------------------------------- */

xmlDocPtr sim_xml_parse(const char *data, size_t len)
{
	if (data == NULL || len == 0 || len > 64u * 1024 * 1024)
		return NULL;
	xmlDocPtr doc = xmlReadMemory(data, (int)len, NULL, NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc && (doc->intSubset || doc->extSubset || xmlDocGetRootElement(doc) == NULL)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static int s_match(xmlNodePtr n, const char *ns, const char *name)
{
	if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return 0;
	if (ns == NULL)
		return 1;
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr sim_xml_child(xmlNodePtr parent, const char *ns, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (s_match(n, ns, name))
			return n;
	return NULL;
}

xmlNodePtr sim_xml_next(xmlNodePtr after, const char *ns, const char *name)
{
	if (after == NULL)
		return NULL;
	for (xmlNodePtr n = after->next; n; n = n->next)
		if (s_match(n, ns, name))
			return n;
	return NULL;
}

xmlNodePtr sim_xml_path(xmlNodePtr from, const char *ns, const char *path)
{
	char step[128];
	const char *p = path;
	xmlNodePtr n = from;
	while (n && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len >= sizeof step)
			return NULL;
		memcpy(step, p, len);
		step[len] = '\0';
		n = sim_xml_child(n, ns, step);
		p = slash ? slash + 1 : p + len;
	}
	return n;
}

static char *s_trim_dup(const char *s)
{
	const char *ws = " \t\r\n";
	s += strspn(s, ws);
	size_t len = strlen(s);
	while (len > 0 && strchr(ws, s[len - 1]))
		len--;
	char *out = malloc(len + 1);
	if (out) {
		memcpy(out, s, len);
		out[len] = '\0';
	}
	return out;
}

char *sim_xml_text(xmlNodePtr node)
{
	if (node == NULL)
		return NULL;
	xmlChar *c = xmlNodeGetContent(node);
	char *out = s_trim_dup(c ? (const char *)c : "");
	xmlFree(c);
	return out;
}

char *sim_xml_attr(xmlNodePtr node, const char *name)
{
	if (node == NULL)
		return NULL;
	for (xmlAttrPtr a = node->properties; a; a = a->next) {
		if (strcmp((const char *)a->name, name) != 0)
			continue;
		xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
		char *out = strdup(v ? (const char *)v : "");
		xmlFree(v);
		return out;
	}
	return NULL;
}

int sim_xml_is_nil(xmlNodePtr node)
{
	if (node == NULL)
		return 0;
	xmlChar *v = xmlGetNsProp(node, BAD_CAST "nil", BAD_CAST SIM_NS_XSI);
	int nil = v && (strcmp((const char *)v, "true") == 0 || strcmp((const char *)v, "1") == 0);
	xmlFree(v);
	return nil;
}

int sim_msgid(char *out, size_t size)
{
	char guid[37];
	if (size < 46 || sim_guid(guid, 0) != 0)
		return -1;
	snprintf(out, size, "urn:uuid:%s", guid);
	return 0;
}

/* ---- builders ---------------------------------------------------------------------- */

static void s_tag(mdm_buf_t *b, const char *name, const char *value)
{
	mdm_buf_printf(b, "<%s>", name);
	mdm_buf_put_escaped(b, value);
	mdm_buf_printf(b, "</%s>", name);
}

/* The WS-Addressing part every request carries, as the Windows client writes it. */
static void s_addressing(mdm_buf_t *b, const char *action, const char *msgid, const char *to)
{
	mdm_buf_printf(b, "<a:Action s:mustUnderstand=\"1\">%s</a:Action>", action);
	s_tag(b, "a:MessageID", msgid);
	mdm_buf_puts(b, "<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous"
			"</a:Address></a:ReplyTo>");
	mdm_buf_puts(b, "<a:To s:mustUnderstand=\"1\">");
	mdm_buf_put_escaped(b, to);
	mdm_buf_puts(b, "</a:To>");
}

static void s_envelope_open(mdm_buf_t *b, const char *action, const char *msgid, const char *to,
			    const sim_cred_t *cred)
{
	mdm_buf_puts(b, "<s:Envelope xmlns:s=\"" SIM_NS_S "\" xmlns:a=\"" SIM_NS_A "\" xmlns:u=\"" SIM_NS_U
			"\" xmlns:wsse=\"" SIM_NS_WSSE "\" xmlns:wst=\"" SIM_NS_WST "\" xmlns:ac=\"" SIM_NS_AC
			"\"><s:Header>");
	s_addressing(b, action, msgid, to);
	if (cred && cred->kind != SIM_CRED_NONE) {
		mdm_buf_puts(b, "<wsse:Security s:mustUnderstand=\"1\">");
		if (cred->kind == SIM_CRED_RENEW) {
			char created[32], expires[32];
			time_t now = time(NULL), later = now + 300;
			struct tm tm;
			strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S.000Z", gmtime_r(&now, &tm));
			strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%S.000Z", gmtime_r(&later, &tm));
			mdm_buf_printf(b, "<u:Timestamp u:Id=\"_0\"><u:Created>%s</u:Created>"
					  "<u:Expires>%s</u:Expires></u:Timestamp>", created, expires);
		}
		if (cred->kind == SIM_CRED_TOKEN) {
			mdm_buf_puts(b, "<wsse:BinarySecurityToken ValueType=\"" SIM_VT_USER_TOKEN
					"\" EncodingType=\"" SIM_ENC_BASE64 "\">");
			mdm_buf_put_escaped(b, cred->token_b64 ? cred->token_b64 : "");
			mdm_buf_puts(b, "</wsse:BinarySecurityToken>");
		} else {
			/* u:Id is the constant the spec samples and real clients use. */
			mdm_buf_puts(b, "<wsse:UsernameToken u:Id=\"uuid-cc1ccc1f-2fba-4bcf-b063-ffc0cac77917-4\">");
			s_tag(b, "wsse:Username", cred->username ? cred->username : "");
			mdm_buf_puts(b, "<wsse:Password wsse:Type=\"" SIM_PASSWORD_TEXT "\">");
			if (cred->kind == SIM_CRED_PASSWORD)
				mdm_buf_put_escaped(b, cred->password ? cred->password : "");
			mdm_buf_puts(b, "</wsse:Password></wsse:UsernameToken>");
		}
		mdm_buf_puts(b, "</wsse:Security>");
	}
	mdm_buf_puts(b, "</s:Header>");
}

char *sim_soap_discover(const char *msgid, const char *to, const char *email,
			const char *request_version, int win81, const char *auth_policy)
{
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "<s:Envelope xmlns:a=\"" SIM_NS_A "\" xmlns:s=\"" SIM_NS_S "\"><s:Header>");
	s_addressing(&b, SIM_ACT_DISCOVER, msgid, to);
	mdm_buf_puts(&b, "</s:Header><s:Body><Discover xmlns=\"" SIM_NS_DISCO "\">"
			 "<request xmlns:i=\"" SIM_NS_XSI "\">");
	s_tag(&b, "EmailAddress", email ? email : "");
	s_tag(&b, "RequestVersion", request_version);
	if (win81) {
		/* Windows Phone 8.1 (wso2_wp81_01): no ApplicationVersion, OSEdition, AuthPolicies. */
		s_tag(&b, "DeviceType", "WindowsPhone");
	} else {
		s_tag(&b, "DeviceType", "CIMClient_Windows");
		s_tag(&b, "ApplicationVersion", "10.0.22631.1");
		s_tag(&b, "OSEdition", "48");
		mdm_buf_puts(&b, "<AuthPolicies>");
		s_tag(&b, "AuthPolicy", auth_policy);
		mdm_buf_puts(&b, "</AuthPolicies>");
	}
	mdm_buf_puts(&b, "</request></Discover></s:Body></s:Envelope>");
	return mdm_buf_steal(&b, NULL);
}

char *sim_soap_get_policies(const char *msgid, const char *to, const sim_cred_t *cred)
{
	mdm_buf_t b = MDM_BUF_INIT;
	s_envelope_open(&b, SIM_ACT_POLICIES, msgid, to, cred);
	mdm_buf_puts(&b, "<s:Body xmlns:xsi=\"" SIM_NS_XSI "\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">"
			 "<GetPolicies xmlns=\"" SIM_NS_XCEP "\"><client><lastUpdate xsi:nil=\"true\"/>"
			 "<preferredLanguage xsi:nil=\"true\"/></client><requestFilter xsi:nil=\"true\"/>"
			 "</GetPolicies></s:Body></s:Envelope>");
	return mdm_buf_steal(&b, NULL);
}

char *sim_soap_rst(const char *msgid, const char *to, const sim_cred_t *cred,
		   const char *request_type, const char *bst_value_type, const char *bst_b64,
		   const sim_ctx_item_t *items, size_t n_items)
{
	mdm_buf_t b = MDM_BUF_INIT;
	s_envelope_open(&b, SIM_ACT_RST, msgid, to, cred);
	mdm_buf_puts(&b, "<s:Body><wst:RequestSecurityToken>");
	s_tag(&b, "wst:TokenType", SIM_TOKEN_TYPE);
	s_tag(&b, "wst:RequestType", request_type);
	mdm_buf_puts(&b, "<wsse:BinarySecurityToken ValueType=\"");
	mdm_buf_put_escaped(&b, bst_value_type);
	mdm_buf_puts(&b, "\" EncodingType=\"" SIM_ENC_BASE64 "\">");
	mdm_buf_put_escaped(&b, bst_b64);
	mdm_buf_puts(&b, "</wsse:BinarySecurityToken><ac:AdditionalContext xmlns=\"" SIM_NS_AC "\">");
	for (size_t i = 0; i < n_items; i++) {
		mdm_buf_puts(&b, "<ac:ContextItem Name=\"");
		mdm_buf_put_escaped(&b, items[i].name);
		mdm_buf_puts(&b, "\">");
		s_tag(&b, "ac:Value", items[i].value ? items[i].value : "");
		mdm_buf_puts(&b, "</ac:ContextItem>");
	}
	mdm_buf_puts(&b, "</ac:AdditionalContext></wst:RequestSecurityToken></s:Body></s:Envelope>");
	return mdm_buf_steal(&b, NULL);
}

/* ---- the exchange ------------------------------------------------------------------ */

xmlNodePtr sim_soap_body(xmlDocPtr doc)
{
	xmlNodePtr env = doc ? xmlDocGetRootElement(doc) : NULL;
	if (env == NULL || !s_match(env, SIM_NS_S, "Envelope"))
		return NULL;
	return sim_xml_child(env, SIM_NS_S, "Body");
}

/* Prints "fault: <subcode> <reason>" if the envelope's body is an s:Fault; returns 1 then. */
static int s_print_fault(xmlDocPtr doc)
{
	xmlNodePtr fault = sim_xml_child(sim_soap_body(doc), SIM_NS_S, "Fault");
	if (fault == NULL)
		return 0;
	xmlNodePtr code = sim_xml_child(fault, SIM_NS_S, "Code");
	xmlNodePtr sub = sim_xml_path(code, SIM_NS_S, "Subcode/Value");
	char *subcode = sim_xml_text(sub ? sub : sim_xml_child(code, SIM_NS_S, "Value"));
	char *reason = sim_xml_text(sim_xml_path(fault, SIM_NS_S, "Reason/Text"));
	xmlNodePtr detail = sim_xml_child(fault, SIM_NS_S, "Detail");
	char *etype = sim_xml_text(
		sim_xml_child(sim_xml_child(detail, NULL, "deviceenrollmentserviceerror"), NULL, "errortype"));
	fprintf(stderr, "fault: %s %s", subcode && *subcode ? subcode : "(no subcode)",
		reason && *reason ? reason : "(no reason)");
	if (etype && *etype)
		fprintf(stderr, " (errortype %s)", etype);
	fputc('\n', stderr);
	free(subcode);
	free(reason);
	free(etype);
	return 1;
}

int sim_soap_call(sim_http_t *http, const char *url, const char *body, const char *msgid,
		  const char *want_action, xmlDocPtr *out)
{
	sim_resp_t resp;
	xmlDocPtr doc = NULL;
	char *action = NULL, *relates = NULL;
	int rc, bad = 0;

	*out = NULL;
	rc = sim_http_request(http, "POST", url, "application/soap+xml; charset=utf-8", body,
			      strlen(body), &resp);
	if (rc != SIM_OK)
		goto done;
	doc = sim_xml_parse(resp.body.data, resp.body.len);
	/* A fault is a refusal whatever the status: SOAP 1.2 uses 500, Fleet uses 200. */
	if (doc && s_print_fault(doc)) {
		rc = SIM_EFAULT;
		goto done;
	}
	if (resp.status != 200) {
		rc = sim_http_status_fail("POST", url, &resp);
		goto done;
	}
	if (doc == NULL || sim_soap_body(doc) == NULL) {
		rc = sim_fail("POST %s: the answer is not a SOAP 1.2 envelope", url);
		goto done;
	}
	if (!sim_resp_is(&resp, "application/soap+xml"))
		bad += sim_fail("POST %s: Content-Type is \"%s\", want application/soap+xml", url,
				resp.content_type ? resp.content_type : "");
	if (resp.chunked)
		bad += sim_fail("POST %s: answer sent with Transfer-Encoding: chunked", url);
	xmlNodePtr hdr = sim_xml_child(xmlDocGetRootElement(doc), SIM_NS_S, "Header");
	action = sim_xml_text(sim_xml_child(hdr, SIM_NS_A, "Action"));
	relates = sim_xml_text(sim_xml_child(hdr, SIM_NS_A, "RelatesTo"));
	if (action == NULL || strcmp(action, want_action) != 0)
		bad += sim_fail("POST %s: a:Action is \"%s\", want \"%s\"", url, action ? action : "(missing)",
				want_action);
	if (relates == NULL || strcmp(relates, msgid) != 0)
		bad += sim_fail("POST %s: a:RelatesTo is \"%s\", want the request's MessageID \"%s\"", url,
				relates ? relates : "(missing)", msgid);
	rc = bad ? SIM_ECHECK : SIM_OK;
done:
	if (rc == SIM_OK) {
		*out = doc;
		doc = NULL;
	}
	xmlFreeDoc(doc);
	free(action);
	free(relates);
	sim_resp_free(&resp);
	return rc;
}
