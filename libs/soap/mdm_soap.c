/* mdm_soap.c -- SOAP envelope parsing with libxml2 (no DTDs, no entities, no network, no stderr noise) and shared reply builders. */
#include "mdm_soap.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "mdm_b64.h"

static pthread_once_t s_init_once = PTHREAD_ONCE_INIT;

static void s_init(void)
{
	xmlInitParser();
}

void mdm_soap_init(void)
{
	pthread_once(&s_init_once, s_init);
}

void mdm_soap_cleanup(void)
{
	xmlCleanupParser();
}

/* ---- text helpers ------------------------------------------------------------------- */

static int s_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copies s without leading/trailing XML whitespace into a fresh malloc'ed string. */
static char *s_trim_dup(const char *s)
{
	while (*s && s_is_ws(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && s_is_ws(s[n - 1]))
		n--;
	char *out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

int mdm_xml_is(xmlNodePtr n, const char *ns, const char *name)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || n->name == NULL)
		return 0;
	if (strcmp((const char *)n->name, name) != 0)
		return 0;
	if (ns == NULL)
		return n->ns == NULL || n->ns->href == NULL;
	return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr mdm_xml_next(xmlNodePtr node, const char *ns, const char *name)
{
	if (node == NULL)
		return NULL;
	for (xmlNodePtr c = node->next; c; c = c->next)
		if (mdm_xml_is(c, ns, name))
			return c;
	return NULL;
}

xmlNodePtr mdm_xml_child(xmlNodePtr parent, const char *ns, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (mdm_xml_is(c, ns, name))
			return c;
	return NULL;
}

char *mdm_xml_text(xmlNodePtr node)
{
	if (node == NULL)
		return NULL;
	xmlChar *content = xmlNodeGetContent(node);
	if (content == NULL)
		return NULL;
	char *out = s_trim_dup((const char *)content);
	xmlFree(content);
	return out;
}

char *mdm_xml_attr(xmlNodePtr node, const char *name, const char *ns)
{
	if (node == NULL || node->type != XML_ELEMENT_NODE)
		return NULL;
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	if (v == NULL && ns != NULL)
		v = xmlGetNsProp(node, (const xmlChar *)name, (const xmlChar *)ns);
	if (v == NULL)
		return NULL;
	char *out = s_trim_dup((const char *)v);
	xmlFree(v);
	return out;
}

const char *mdm_xml_ascii(const char *in, char *out, size_t size)
{
	if (size == 0)
		return out;
	if (in == NULL)
		in = "nothing";
	size_t i = 0;
	for (; in[i] && i + 1 < size; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
	return out;
}

/* ---- parsing ------------------------------------------------------------------------ */

/* Per-parse state, reached from SAX callbacks through ctxt->_private. */
typedef struct {
	int refused; /* a DTD or an entity was seen: the parse was stopped */
} s_guard_t;

/* SAX callbacks receive ctxt->userData, which libxml2 sets to the parser context itself. */
static void s_refuse(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;
	if (ctxt && ctxt->_private)
		((s_guard_t *)ctxt->_private)->refused = 1;
	xmlStopParser(ctxt);
}

/* Called on any <!DOCTYPE ...>, before its internal subset is read, so no entity
 * declaration is ever parsed (billion laughs, external SYSTEM entities). */
static void s_on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			 const xmlChar *system_id)
{
	s_refuse(ctx);
}

/* Called for every &name; that is not one of the five predefined entities. */
static xmlEntityPtr s_on_entity(void *ctx, const xmlChar *name)
{
	s_refuse(ctx);
	return NULL;
}

static void s_on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			     const xmlChar *system_id, xmlChar *content)
{
	s_refuse(ctx);
}

/* Swallows every parser diagnostic; the last one stays in ctxt->lastError for our text. */
static void s_on_error(void *data, xmlErrorPtr error)
{
}

/* Copies the first element child named name of parent (text, trimmed) into *out. Returns
 * 0, or -1 when memory ran out. An absent element leaves *out NULL. */
static int s_take_text(xmlNodePtr parent, const char *ns, const char *name, char **out)
{
	xmlNodePtr n = mdm_xml_child(parent, ns, name);
	if (n == NULL)
		return 0;
	*out = mdm_xml_text(n);
	return *out ? 0 : -1;
}

/* Reads the header fields we use: WS-Addressing MessageID and Action, and the
 * WS-Security UsernameToken or BinarySecurityToken. Unknown headers are ignored, even
 * with mustUnderstand, as every working server does. */
static int s_read_header(mdm_soap_req_t *req, xmlNodePtr header)
{
	if (s_take_text(header, MDM_NS_ADDR, "MessageID", &req->message_id) != 0 ||
	    s_take_text(header, MDM_NS_ADDR, "Action", &req->action) != 0)
		return -1;
	xmlNodePtr sec = mdm_xml_child(header, MDM_NS_WSSE, "Security");
	if (sec == NULL)
		return 0;
	xmlNodePtr ut = mdm_xml_child(sec, MDM_NS_WSSE, "UsernameToken");
	if (ut && (s_take_text(ut, MDM_NS_WSSE, "Username", &req->username) != 0 ||
		   s_take_text(ut, MDM_NS_WSSE, "Password", &req->password) != 0))
		return -1;
	xmlNodePtr bst = mdm_xml_child(sec, MDM_NS_WSSE, "BinarySecurityToken");
	if (bst) {
		req->bst_value_type = mdm_xml_attr(bst, "ValueType", MDM_NS_WSSE);
		req->bst_text = mdm_xml_text(bst);
		if (req->bst_text == NULL)
			return -1;
	}
	return 0;
}

/* Parses buf into a document with libxml2 under the rules in the header comment.
 *
 * Why a private parser context and SAX overrides instead of options alone: without
 * XML_PARSE_NOENT libxml2 still parses an internal subset and builds entity content on
 * first reference, which is where entity-expansion attacks live; stopping the parser in the
 * DOCTYPE callback means no declaration is ever read. The error callback is set on this
 * context only (never the process-global handlers), so concurrent parses in other threads
 * and other libraries' libxml2 use are not affected. */
xmlDocPtr mdm_xml_read(const char *buf, size_t len, const char *what, mdm_err_t *err)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	s_guard_t guard = {0};

	mdm_soap_init();
	if (buf == NULL || len == 0) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "empty %s", what);
		goto error;
	}
	if (len > INT_MAX) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "%s too large", what);
		goto error;
	}
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	ctxt->_private = &guard;
	ctxt->sax->internalSubset = s_on_doctype;
	ctxt->sax->externalSubset = s_on_doctype;
	ctxt->sax->getEntity = s_on_entity;
	ctxt->sax->getParameterEntity = s_on_entity;
	ctxt->sax->entityDecl = s_on_entity_decl;
	ctxt->sax->serror = s_on_error;
	ctxt->vctxt.error = NULL;
	ctxt->vctxt.warning = NULL;

	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (guard.refused || (doc && (doc->intSubset || doc->extSubset))) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "XML with a DTD or entities is refused");
		goto error;
	}
	if (doc == NULL) {
		xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "not well-formed";
		if (e && e->message) {
			char *t = s_trim_dup(e->message);
			if (t) {
				mdm_xml_ascii(t, msg, sizeof msg);
				free(t);
			}
		}
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "malformed XML (line %d): %s", e ? e->line : 0, msg);
		goto error;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;

error:
	if (doc)
		xmlFreeDoc(doc);
	if (ctxt)
		xmlFreeParserCtxt(ctxt);
	return NULL;
}

mdm_soap_req_t *mdm_soap_parse(const char *buf, size_t len, mdm_err_t *err)
{
	mdm_soap_req_t *req = NULL;
	xmlDocPtr doc = mdm_xml_read(buf, len, "request body", err);
	if (doc == NULL)
		return NULL;

	xmlNodePtr env = xmlDocGetRootElement(doc);
	const char *env_ns = NULL;
	if (mdm_xml_is(env, MDM_NS_SOAP12, "Envelope"))
		env_ns = MDM_NS_SOAP12;
	else if (mdm_xml_is(env, MDM_NS_SOAP11, "Envelope"))
		env_ns = MDM_NS_SOAP11;
	if (env_ns == NULL) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "root element is not a SOAP Envelope");
		goto error;
	}
	xmlNodePtr body = mdm_xml_child(env, env_ns, "Body");
	if (body == NULL) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "SOAP Envelope without a Body");
		goto error;
	}
	xmlNodePtr first = body->children;
	while (first && first->type != XML_ELEMENT_NODE)
		first = first->next;
	if (first == NULL) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "empty SOAP Body");
		goto error;
	}

	req = calloc(1, sizeof *req);
	if (req == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	req->doc = doc;
	doc = NULL;
	req->body = first;
	xmlNodePtr header = mdm_xml_child(env, env_ns, "Header");
	if (header && s_read_header(req, header) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	return req;

error:
	mdm_soap_req_destroy(&req);
	if (doc)
		xmlFreeDoc(doc);
	return NULL;
}

void mdm_soap_req_destroy(mdm_soap_req_t **self)
{
	if (self == NULL || *self == NULL)
		return;
	mdm_soap_req_t *req = *self;
	if (req->doc)
		xmlFreeDoc(req->doc);
	free(req->message_id);
	free(req->action);
	free(req->username);
	free(req->password);
	free(req->bst_value_type);
	free(req->bst_text);
	free(req);
	*self = NULL;
}

/* ---- building ----------------------------------------------------------------------- */

int mdm_soap_guid(char out[37])
{
	mdm_uuid4(out);
	if (out[0] == '\0') {
		snprintf(out, 37, "00000000-0000-0000-0000-000000000000");
		return -1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p that XML 1.0 allows, or 0. Rejects overlong
 * forms, surrogates, U+FFFE/U+FFFF and C0 controls other than tab, CR, LF. */
static size_t s_xml_char(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
	if (n == 0 || c > 0xf4)
		return 0;
	unsigned cp = c & (0x3f >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

void mdm_xml_put(mdm_buf_t *b, const char *s)
{
	if (s == NULL)
		return;
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p; /* start of bytes not yet appended */
	while (*p) {
		const char *rep = NULL;
		size_t n = 1;
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			n = s_xml_char(p);
			if (n == 0) {
				rep = "?";
				n = 1;
			}
		}
		if (rep) {
			mdm_buf_append(b, run, (size_t)(p - run));
			mdm_buf_puts(b, rep);
			run = p + n;
		}
		p += n;
	}
	mdm_buf_append(b, run, (size_t)(p - run));
}

void mdm_soap_begin(mdm_buf_t *b, const char *action, const char *relates_to, const char *activity_id)
{
	mdm_buf_puts(b, "<s:Envelope xmlns:s=\"" MDM_NS_SOAP12 "\" xmlns:a=\"" MDM_NS_ADDR "\">"
			"<s:Header><a:Action s:mustUnderstand=\"1\">");
	mdm_xml_put(b, action);
	mdm_buf_puts(b, "</a:Action>");
	if (activity_id) {
		mdm_buf_puts(b, "<ActivityId CorrelationId=\"");
		mdm_xml_put(b, activity_id);
		mdm_buf_puts(b, "\" xmlns=\"" MDM_NS_DIAG "\">");
		mdm_xml_put(b, activity_id);
		mdm_buf_puts(b, "</ActivityId>");
	}
	if (relates_to) {
		mdm_buf_puts(b, "<a:RelatesTo>");
		mdm_xml_put(b, relates_to);
		mdm_buf_puts(b, "</a:RelatesTo>");
	}
}

void mdm_soap_body(mdm_buf_t *b)
{
	mdm_buf_puts(b, "</s:Header><s:Body>");
}

void mdm_soap_end(mdm_buf_t *b)
{
	mdm_buf_puts(b, "</s:Body></s:Envelope>");
}

void mdm_soap_elem(mdm_buf_t *b, const char *name, const char *text)
{
	if (text == NULL) {
		mdm_buf_printf(b, "<%s/>", name);
		return;
	}
	mdm_buf_printf(b, "<%s>", name);
	mdm_xml_put(b, text);
	mdm_buf_printf(b, "</%s>", name);
}
