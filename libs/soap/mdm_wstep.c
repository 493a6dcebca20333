/* mdm_wstep.c -- RequestSecurityToken (CSR + AdditionalContext) in, RequestSecurityTokenResponseCollection out. */
#include "mdm_wstep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdm_b64.h" /* libs/crypto: whitespace-tolerant decode, NULL on invalid */
#include "mdm_buf.h"
#include "mdm_log.h"

void mdm_rst_destroy(mdm_rst_t **self)
{
	if (self == NULL || *self == NULL)
		return;
	mdm_rst_t *rst = *self;
	free(rst->token_type);
	free(rst->request_type);
	free(rst->bst_value_type);
	free(rst->bst);
	for (size_t i = 0; i < rst->n_items; i++)
		free(rst->items[i].value);
	free(rst->items);
	free(rst);
	*self = NULL;
}

/* Reads ac:AdditionalContext/ac:ContextItem[@Name]/ac:Value into rst->items. The
 * AdditionalContext itself is optional (Windows 8.1 sends only two items, a bare request
 * none); an item without a Name is a format error, an item without a Value gets "". */
static int s_read_context(mdm_rst_t *rst, xmlNodePtr ac, mdm_err_t *err)
{
	size_t cap = 0;
	for (xmlNodePtr it = mdm_xml_child(ac, MDM_NS_AC, "ContextItem"); it;
	     it = mdm_xml_next(it, MDM_NS_AC, "ContextItem")) {
		if (rst->n_items >= MDM_RST_MAX_ITEMS)
			return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "more than %d ContextItems",
					   MDM_RST_MAX_ITEMS);
		char *name = mdm_xml_attr(it, "Name", MDM_NS_AC);
		if (name == NULL || name[0] == '\0') {
			free(name);
			return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "ContextItem without a Name");
		}
		size_t nlen = strlen(name);
		if (nlen >= sizeof rst->items[0].name) {
			free(name);
			return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "ContextItem Name too long (%zu bytes)", nlen);
		}
		xmlNodePtr v = mdm_xml_child(it, MDM_NS_AC, "Value");
		char *value = v ? mdm_xml_text(v) : strdup("");
		if (value == NULL) {
			free(name);
			return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		}
		if (rst->n_items == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			mdm_ctx_item_t *p = realloc(rst->items, ncap * sizeof *p);
			if (p == NULL) {
				free(name);
				free(value);
				return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
			}
			rst->items = p;
			cap = ncap;
		}
		mdm_ctx_item_t *item = &rst->items[rst->n_items++];
		memcpy(item->name, name, nlen + 1);
		item->value = value;
		free(name);
	}
	return 0;
}

/* Copies the trimmed text of the required element parent/ns:name into *out. */
static int s_required(xmlNodePtr parent, const char *ns, const char *name, char **out, mdm_err_t *err)
{
	xmlNodePtr n = mdm_xml_child(parent, ns, name);
	if (n == NULL)
		return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "RequestSecurityToken without %s", name);
	*out = mdm_xml_text(n);
	if (*out == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	if ((*out)[0] == '\0')
		return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "empty %s", name);
	return 0;
}

/* Builds the mdm_rst_t field by field; any failure frees the partial result through the
 * one error label. Only presence is checked here, not the URI values: the enrollment
 * handler knows whether it accepts Renew or Recovery, and answers with the right fault. */
mdm_rst_t *mdm_rst_parse(const mdm_soap_req_t *req, mdm_err_t *err)
{
	mdm_rst_t *rst = NULL;
	char *b64 = NULL;
	char name[48];

	if (req == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "mdm_rst_parse: no request");
		return NULL;
	}
	xmlNodePtr body = req->body;
	if (!mdm_xml_is(body, MDM_NS_WST, "RequestSecurityToken")) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "expected a RequestSecurityToken body, got %s",
			    mdm_xml_ascii(body ? (const char *)body->name : NULL, name, sizeof name));
		return NULL;
	}
	rst = calloc(1, sizeof *rst);
	if (rst == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return NULL;
	}
	check_quiet(s_required(body, MDM_NS_WST, "TokenType", &rst->token_type, err) == 0);
	check_quiet(s_required(body, MDM_NS_WST, "RequestType", &rst->request_type, err) == 0);

	xmlNodePtr bst = mdm_xml_child(body, MDM_NS_WSSE, "BinarySecurityToken");
	if (bst == NULL) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "missing BinarySecurityToken");
		goto error;
	}
	rst->bst_value_type = mdm_xml_attr(bst, "ValueType", MDM_NS_WSSE);
	if (rst->bst_value_type == NULL || rst->bst_value_type[0] == '\0') {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "BinarySecurityToken without a ValueType");
		goto error;
	}
	b64 = mdm_xml_text(bst);
	if (b64 == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	if (b64[0] == '\0') {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "empty BinarySecurityToken");
		goto error;
	}
	rst->bst = mdm_b64_decode(b64, &rst->bst_len);
	if (rst->bst == NULL || rst->bst_len == 0) {
		mdm_err_set(err, MDM_E_CERT_REQUEST, "BinarySecurityToken is not valid base64");
		goto error;
	}
	free(b64);
	b64 = NULL;

	xmlNodePtr ac = mdm_xml_child(body, MDM_NS_AC, "AdditionalContext");
	if (ac)
		check_quiet(s_read_context(rst, ac, err) == 0);
	return rst;

error:
	free(b64);
	mdm_rst_destroy(&rst);
	return NULL;
}

const char *mdm_rst_get(const mdm_rst_t *rst, const char *name)
{
	if (rst == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < rst->n_items; i++)
		if (strcmp(rst->items[i].name, name) == 0)
			return rst->items[i].value;
	return NULL;
}

size_t mdm_rst_get_all(const mdm_rst_t *rst, const char *name, const char **out, size_t max)
{
	size_t n = 0;
	if (rst == NULL || name == NULL)
		return 0;
	for (size_t i = 0; i < rst->n_items; i++) {
		if (strcmp(rst->items[i].name, name) != 0)
			continue;
		if (out && n < max)
			out[n] = rst->items[i].value;
		n++;
	}
	return n;
}

/* Formats t as 2024-01-02T03:04:05.000Z (the form WCF writes). */
static int s_rfc3339(time_t t, char out[32])
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm) > 0 ? 0 : -1;
}

/* The Timestamp window straddles now so a device whose clock is a little behind still sees
 * a Created in its past. */
char *mdm_rstrc_response(const char *relates_to, const char *provdoc_b64, time_t now, size_t *len)
{
	mdm_buf_t b = MDM_BUF_INIT;
	char created[32], expires[32];

	if (len)
		*len = 0;
	if (provdoc_b64 == NULL)
		return NULL;
	if (s_rfc3339(now - 300, created) != 0 || s_rfc3339(now + 300, expires) != 0)
		return NULL;
	mdm_soap_begin(&b, MDM_ACTION_RSTRC, relates_to, NULL);
	mdm_buf_printf(&b,
		       "<o:Security s:mustUnderstand=\"1\" xmlns:o=\"" MDM_NS_WSSE "\" xmlns:u=\"" MDM_NS_WSU "\">"
		       "<u:Timestamp u:Id=\"_0\"><u:Created>%s</u:Created><u:Expires>%s</u:Expires></u:Timestamp>"
		       "</o:Security>",
		       created, expires);
	mdm_soap_body(&b);
	mdm_buf_puts(&b, "<RequestSecurityTokenResponseCollection xmlns=\"" MDM_NS_WST "\">"
			 "<RequestSecurityTokenResponse>"
			 "<TokenType>" MDM_TOKENTYPE_ENROLL "</TokenType>"
			 "<DispositionMessage xmlns=\"" MDM_NS_WSTEP "\"/>"
			 "<RequestedSecurityToken>"
			 "<BinarySecurityToken xmlns=\"" MDM_NS_WSSE "\" ValueType=\"" MDM_VT_PROVDOC
			 "\" EncodingType=\"" MDM_ENCODING_BASE64 "\">");
	mdm_xml_put(&b, provdoc_b64);
	mdm_buf_puts(&b, "</BinarySecurityToken></RequestedSecurityToken>"
			 "<RequestID xmlns=\"" MDM_NS_WSTEP "\">0</RequestID>"
			 "</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection>");
	mdm_soap_end(&b);
	return mdm_buf_steal(&b, len);
}
