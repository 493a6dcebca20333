/* sim_syncml.c -- SyncML 1.2 helpers of the simulator: WBXML transcoding (libwbxml2), parsing,
 * element access by local name and DTD content-model checks. Independent of libs/syncml on
 * purpose: the simulator is a second implementation that catches the server's mistakes. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <wbxml/wbxml.h>

/* ---- WBXML ------------------------------------------------------------------------- */

int sim_wbxml_encode(const char *xml, size_t len, unsigned char **out, size_t *out_len)
{
	WBXMLConvXML2WBXML *conv = NULL;
	WB_UTINY *wb = NULL;
	WB_ULONG wl = 0;
	*out = NULL;
	*out_len = 0;
	if (wbxml_conv_xml2wbxml_create(&conv) != WBXML_OK) {
		fprintf(stderr, "wbxml: cannot create the encoder\n");
		return -1;
	}
	/* SyncML RepPro 1.2 section 8: WBXML version 1.2, public id -//SYNCML//DTD SyncML 1.2//EN. */
	wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_12);
	wbxml_conv_xml2wbxml_disable_string_table(conv);
	wbxml_conv_xml2wbxml_enable_preserve_whitespaces(conv);
	WBXMLError e = wbxml_conv_xml2wbxml_run(conv, (WB_UTINY *)xml, (WB_ULONG)len, &wb, &wl);
	wbxml_conv_xml2wbxml_destroy(conv);
	if (e != WBXML_OK || wb == NULL) {
		fprintf(stderr, "wbxml: cannot encode our message: %s\n",
			(const char *)wbxml_errors_string(e));
		free(wb);
		return -1;
	}
	*out = wb;
	*out_len = wl;
	return 0;
}

int sim_wbxml_decode(const unsigned char *wbxml, size_t len, char **out, size_t *out_len)
{
	WBXMLConvWBXML2XML *conv = NULL;
	WB_UTINY *x = NULL;
	WB_ULONG xl = 0;
	*out = NULL;
	*out_len = 0;
	if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) {
		fprintf(stderr, "wbxml: cannot create the decoder\n");
		return -1;
	}
	wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
	wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_SYNCML_SYNCML12);
	wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv);
	WBXMLError e = wbxml_conv_wbxml2xml_run(conv, (WB_UTINY *)wbxml, (WB_ULONG)len, &x, &xl);
	wbxml_conv_wbxml2xml_destroy(conv);
	if (e != WBXML_OK || x == NULL) {
		sim_fail("the server's WBXML does not decode: %s", (const char *)wbxml_errors_string(e));
		free(x);
		return -1;
	}
	*out = (char *)x;
	*out_len = xl;
	return 0;
}

/* ---- parsing and access ------------------------------------------------------------ */

xmlDocPtr sim_sml_parse(const char *data, size_t len, int allow_doctype)
{
	if (data == NULL || len == 0 || len > 64u * 1024 * 1024)
		return NULL;
	/* No XML_PARSE_DTDLOAD / NOENT: a DOCTYPE (WBXML decoder output) is never fetched. */
	xmlDocPtr doc = xmlReadMemory(data, (int)len, NULL, NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
					      XML_PARSE_NOCDATA);
	if (doc == NULL)
		return NULL;
	if (xmlDocGetRootElement(doc) == NULL || doc->extSubset ||
	    (doc->intSubset && (!allow_doctype || doc->intSubset->children))) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

int sim_sml_is(xmlNodePtr node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

xmlNodePtr sim_sml_first(xmlNodePtr parent)
{
	if (parent == NULL)
		return NULL;
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNodePtr sim_sml_nextel(xmlNodePtr node)
{
	for (xmlNodePtr n = node ? node->next : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNodePtr sim_sml_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = sim_sml_first(parent); n; n = sim_sml_nextel(n))
		if (sim_sml_is(n, name))
			return n;
	return NULL;
}

char *sim_sml_raw(xmlNodePtr node)
{
	if (node == NULL)
		return NULL;
	xmlChar *c = xmlNodeGetContent(node);
	char *out = strdup(c ? (const char *)c : "");
	xmlFree(c);
	return out;
}

char *sim_sml_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = sim_sml_child(parent, name);
	return n ? sim_xml_text(n) : NULL;
}

static const char *const s_commands[] = {
	"Add", "Alert", "Atomic", "Copy", "Delete", "Exec", "Get", "Map", "Put",
	"Replace", "Results", "Search", "Sequence", "Sync", NULL,
};

int sim_sml_is_command(const char *name)
{
	for (int i = 0; s_commands[i]; i++)
		if (strcmp(s_commands[i], name) == 0)
			return 1;
	return 0;
}

/* Matches one model entry ("Name", "Name?", "Name*", "Name+", "*...") against an element. */
static int s_entry_matches(const char *entry, xmlNodePtr n)
{
	size_t len = strcspn(entry, "?*+");
	if (len == 0) /* "*" / "*+": any command */
		return sim_sml_is_command((const char *)n->name);
	return strlen((const char *)n->name) == len && strncmp(entry, (const char *)n->name, len) == 0;
}

static char s_order_msg[256];

const char *sim_sml_order(xmlNodePtr node, const char *const *model)
{
	size_t i = 0;
	int seen = 0; /* times the current entry matched */
	for (xmlNodePtr n = node->children; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (!xmlIsBlankNode(n)) {
				snprintf(s_order_msg, sizeof s_order_msg, "<%s> holds text outside its elements",
					 (const char *)node->name);
				return s_order_msg;
			}
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (;;) {
			const char *e = model[i];
			if (e == NULL) {
				snprintf(s_order_msg, sizeof s_order_msg,
					 "<%s> is not allowed %s in <%s> (SyncML 1.2 DTD order)",
					 (const char *)n->name, seen || i ? "here" : "first", (const char *)node->name);
				return s_order_msg;
			}
			char q = e[strlen(e) - 1];
			int repeat = q == '*' || q == '+';
			if (s_entry_matches(e, n) && (repeat || seen == 0)) {
				seen++;
				break;
			}
			if (seen == 0 && q != '?' && q != '*' && e[0] != '*') {
				snprintf(s_order_msg, sizeof s_order_msg, "<%s> lacks <%.*s> before <%s>",
					 (const char *)node->name, (int)strcspn(e, "?*+"), e, (const char *)n->name);
				return s_order_msg;
			}
			if (seen == 0 && e[0] == '*' && q == '+') {
				snprintf(s_order_msg, sizeof s_order_msg, "<%s> needs a command before <%s>",
					 (const char *)node->name, (const char *)n->name);
				return s_order_msg;
			}
			i++;
			seen = 0;
		}
	}
	for (; model[i]; i++, seen = 0) {
		const char *e = model[i];
		char q = e[strlen(e) - 1];
		if (seen == 0 && q != '?' && q != '*') {
			if (e[0] == '*')
				snprintf(s_order_msg, sizeof s_order_msg, "<%s> holds no command",
					 (const char *)node->name);
			else
				snprintf(s_order_msg, sizeof s_order_msg, "<%s> lacks <%.*s>",
					 (const char *)node->name, (int)strcspn(e, "?*+"), e);
			return s_order_msg;
		}
	}
	return NULL;
}

void sim_sml_tag(mdm_buf_t *b, const char *name, const char *value)
{
	mdm_buf_printf(b, "<%s>", name);
	mdm_buf_put_escaped(b, value ? value : "");
	mdm_buf_printf(b, "</%s>", name);
}
