/* mdm_syncml.c -- SyncML 1.2 message parsing: XML (libxml2, DTD-free) or WBXML into mdm_sml_msg_t, elements matched by local name. */
#include "mdm_syncml.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "mdm_log.h"
#include "mdm_soap.h" /* mdm_xml_read, mdm_xml_text, mdm_xml_attr, mdm_xml_ascii */
#include "mdm_syncml_int.h"

/* ---- safe XML reading ---------------------------------------------------------------- */

static int s_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Fresh copy of s[0..n) without surrounding XML whitespace; NULL on out of memory. */
static char *s_trim_dup(const char *s, size_t n)
{
	while (n > 0 && s_is_ws(*s)) {
		s++;
		n--;
	}
	while (n > 0 && s_is_ws(s[n - 1]))
		n--;
	char *out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

xmlDocPtr mdm_sml_read_xml_(const char *buf, size_t len, mdm_err_t *err)
{
	return mdm_xml_read(buf, len, "message", err);
}

/* ---- tree helpers: local names, any namespace ---------------------------------------- */

typedef struct {
	mdm_err_t *err;
	size_t n_cmds;  /* commands seen so far, nested ones included */
	size_t n_items; /* items seen so far */
	int oom;        /* an allocation failed: the result is incomplete */
} s_ctx_t;

static int s_is(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr s_child(xmlNodePtr parent, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (s_is(c, name))
			return c;
	return NULL;
}

/* Trimmed text of node, NULL when node is NULL; an allocation failure sets c->oom. */
static char *s_text(s_ctx_t *c, xmlNodePtr node)
{
	if (node == NULL)
		return NULL;
	char *t = mdm_xml_text(node);
	if (t == NULL)
		c->oom = 1;
	return t;
}

static char *s_child_text(s_ctx_t *c, xmlNodePtr parent, const char *name)
{
	return s_text(c, s_child(parent, name));
}

/* parent/<name>/LocURI text, or NULL. */
static char *s_locuri(s_ctx_t *c, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = s_child(parent, name);
	return n ? s_child_text(c, n, "LocURI") : NULL;
}

/* Item Data: plain text normally; when it holds elements (a DevInf or XML blob sent
 * unescaped) their markup, so the value is not silently reduced to its text. */
static char *s_data_text(s_ctx_t *c, xmlNodePtr node)
{
	if (node == NULL)
		return NULL;
	int has_elem = 0;
	for (xmlNodePtr k = node->children; k; k = k->next)
		has_elem |= k->type == XML_ELEMENT_NODE;
	if (!has_elem) {
		/* never trimmed: a chunk of a large object may begin or end with white space,
		 * and values are the device's bytes */
		xmlChar *raw = xmlNodeGetContent(node);
		char *copy = strdup(raw ? (const char *)raw : "");
		xmlFree(raw);
		if (copy == NULL)
			c->oom = 1;
		return copy;
	}
	char *out = NULL;
	xmlBufferPtr b = xmlBufferCreate();
	if (b) {
		for (xmlNodePtr k = node->children; k; k = k->next)
			xmlNodeDump(b, node->doc, k, 0, 0);
		const char *s = (const char *)xmlBufferContent(b);
		out = s_trim_dup(s ? s : "", s ? strlen(s) : 0);
		xmlBufferFree(b);
	}
	if (out == NULL)
		c->oom = 1;
	return out;
}

/* A non-negative decimal number (at most 18 digits), else -1. */
static long s_number(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return -1;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static long s_child_number(s_ctx_t *c, xmlNodePtr parent, const char *name)
{
	char *t = s_child_text(c, parent, name);
	long v = s_number(t);
	free(t);
	return v;
}

/* Element name cut to fit name[16], never inside a UTF-8 sequence. */
static void s_copy_name(char out[16], const char *name)
{
	size_t n = strlen(name);
	if (n > 15) {
		n = 15;
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, name, n);
	out[n] = '\0';
}

/* ---- commands ------------------------------------------------------------------------ */

static void s_item_free(mdm_sml_item_t *it)
{
	free(it->target);
	free(it->source);
	free(it->format);
	free(it->type);
	free(it->data);
}

static void s_cmd_free(mdm_sml_cmd_t *cmd)
{
	free(cmd->cmd_id);
	free(cmd->data);
	free(cmd->msg_ref);
	free(cmd->cmd_ref);
	free(cmd->cmd);
	free(cmd->meta_type);
	free(cmd->meta_format);
	free(cmd->target_ref);
	free(cmd->source_ref);
	free(cmd->original_error);
	free(cmd->chal_type);
	free(cmd->chal_format);
	free(cmd->chal_next_nonce);
	for (size_t i = 0; i < cmd->n_items; i++)
		s_item_free(&cmd->items[i]);
	free(cmd->items);
	for (size_t i = 0; i < cmd->n_children; i++)
		s_cmd_free(&cmd->children[i]);
	free(cmd->children);
}

static void s_parse_item(s_ctx_t *c, xmlNodePtr node, mdm_sml_item_t *it)
{
	it->size = -1;
	it->target = s_locuri(c, node, "Target");
	it->source = s_locuri(c, node, "Source");
	xmlNodePtr meta = s_child(node, "Meta");
	if (meta) {
		it->format = s_child_text(c, meta, "Format");
		it->type = s_child_text(c, meta, "Type");
		it->size = s_child_number(c, meta, "Size");
	}
	it->data = s_data_text(c, s_child(node, "Data"));
	it->more_data = s_child(node, "MoreData") != NULL;
}

/* Element children of an Atomic/Sequence that are commands (DTD: CmdID, NoResp?, Meta?,
 * then commands); anything unknown counts as a command so the caller can refuse it. */
static int s_is_nested_cmd(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE && !s_is(n, "CmdID") && !s_is(n, "NoResp") &&
	       !s_is(n, "Meta");
}

static int s_parse_cmd(s_ctx_t *c, xmlNodePtr node, mdm_sml_cmd_t *cmd, int depth);

/* Allocates and parses the nested commands of an Atomic/Sequence. 0 or -1 (error set). */
static int s_parse_children(s_ctx_t *c, xmlNodePtr node, mdm_sml_cmd_t *cmd, int depth)
{
	size_t n = 0;
	for (xmlNodePtr k = node->children; k; k = k->next)
		n += s_is_nested_cmd(k);
	if (n == 0)
		return 0;
	if (depth + 1 > MDM_SML_MAX_DEPTH)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "commands nested too deeply");
	if (n > MDM_SML_MAX_CMDS)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "too many commands");
	cmd->children = calloc(n, sizeof *cmd->children);
	if (cmd->children == NULL) {
		c->oom = 1;
		return -1;
	}
	cmd->n_children = n;
	size_t i = 0;
	for (xmlNodePtr k = node->children; k; k = k->next)
		if (s_is_nested_cmd(k) && s_parse_cmd(c, k, &cmd->children[i++], depth + 1) != 0)
			return -1;
	return 0;
}

/* Reads one command (any name) and, for Atomic/Sequence, what it holds. depth 1 is a
 * SyncBody child. 0, or -1 with the error set (or c->oom). */
static int s_parse_cmd(s_ctx_t *c, xmlNodePtr node, mdm_sml_cmd_t *cmd, int depth)
{
	if (++c->n_cmds > MDM_SML_MAX_CMDS)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "too many commands");
	s_copy_name(cmd->name, (const char *)node->name);
	cmd->cmd_id = s_child_text(c, node, "CmdID");
	if (c->oom)
		return -1;
	if (cmd->cmd_id == NULL || cmd->cmd_id[0] == '\0')
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "command without CmdID");
	cmd->no_resp = s_child(node, "NoResp") != NULL;
	xmlNodePtr data = s_child(node, "Data");
	if (data) {
		cmd->data = s_data_text(c, data);
		cmd->original_error = mdm_xml_attr(data, "originalerror", MDM_SML_NS_MSFT);
	}
	cmd->msg_ref = s_child_text(c, node, "MsgRef");
	cmd->cmd_ref = s_child_text(c, node, "CmdRef");
	cmd->cmd = s_child_text(c, node, "Cmd");
	cmd->target_ref = s_child_text(c, node, "TargetRef");
	cmd->source_ref = s_child_text(c, node, "SourceRef");
	xmlNodePtr meta = s_child(node, "Meta");
	if (meta) {
		cmd->meta_type = s_child_text(c, meta, "Type");
		cmd->meta_format = s_child_text(c, meta, "Format");
	}
	xmlNodePtr chal_meta = s_child(s_child(node, "Chal"), "Meta");
	if (chal_meta) {
		cmd->chal_type = s_child_text(c, chal_meta, "Type");
		cmd->chal_format = s_child_text(c, chal_meta, "Format");
		cmd->chal_next_nonce = s_child_text(c, chal_meta, "NextNonce");
	}

	size_t n = 0;
	for (xmlNodePtr k = node->children; k; k = k->next)
		n += s_is(k, "Item");
	if (n) {
		if (n > MDM_SML_MAX_ITEMS || c->n_items + n > MDM_SML_MAX_ITEMS)
			return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "too many items");
		c->n_items += n;
		cmd->items = calloc(n, sizeof *cmd->items);
		if (cmd->items == NULL) {
			c->oom = 1;
			return -1;
		}
		cmd->n_items = n;
		size_t i = 0;
		for (xmlNodePtr k = node->children; k; k = k->next)
			if (s_is(k, "Item"))
				s_parse_item(c, k, &cmd->items[i++]);
	}
	if (strcmp(cmd->name, "Atomic") == 0 || strcmp(cmd->name, "Sequence") == 0)
		if (s_parse_children(c, node, cmd, depth) != 0)
			return -1;
	return c->oom ? -1 : 0;
}

/* ---- message ------------------------------------------------------------------------- */

static int s_all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Fills msg from the document. 0, or -1 with the error set (or c->oom). */
static int s_read_msg(s_ctx_t *c, xmlDocPtr doc, mdm_sml_msg_t *msg)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!s_is(root, "SyncML"))
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "not a SyncML message");
	xmlNodePtr hdr = s_child(root, "SyncHdr");
	if (hdr == NULL)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "missing SyncHdr");
	msg->ver_dtd = s_child_text(c, hdr, "VerDTD");
	msg->ver_proto = s_child_text(c, hdr, "VerProto");
	msg->session_id = s_child_text(c, hdr, "SessionID");
	msg->msg_id = s_child_text(c, hdr, "MsgID");
	msg->target = s_locuri(c, hdr, "Target");
	msg->source = s_locuri(c, hdr, "Source");
	if (c->oom)
		return -1;
	if (msg->session_id == NULL || msg->session_id[0] == '\0')
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "missing SessionID");
	if (msg->msg_id == NULL || msg->msg_id[0] == '\0')
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "missing MsgID");
	if (!s_all_digits(msg->msg_id) || strlen(msg->msg_id) > 10)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "MsgID is not a number");
	if (msg->source == NULL || msg->source[0] == '\0')
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "missing Source LocURI");
	xmlNodePtr meta = s_child(hdr, "Meta");
	if (meta) {
		msg->max_msg_size = s_child_number(c, meta, "MaxMsgSize");
		msg->max_obj_size = s_child_number(c, meta, "MaxObjSize");
	}
	xmlNodePtr cred = s_child(hdr, "Cred");
	if (cred) {
		msg->has_cred = 1;
		xmlNodePtr cm = s_child(cred, "Meta");
		msg->cred_type = s_child_text(c, cm, "Type");
		msg->cred_format = s_child_text(c, cm, "Format");
		msg->cred_data = s_child_text(c, cred, "Data");
	}

	xmlNodePtr body = s_child(root, "SyncBody");
	if (body == NULL)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "missing SyncBody");
	size_t n = 0;
	for (xmlNodePtr k = body->children; k; k = k->next) {
		if (s_is(k, "Final"))
			msg->final = 1;
		else if (k->type == XML_ELEMENT_NODE)
			n++;
	}
	if (n > MDM_SML_MAX_CMDS)
		return mdm_err_set(c->err, MDM_E_MESSAGE_FORMAT, "too many commands");
	if (n) {
		msg->cmds = calloc(n, sizeof *msg->cmds);
		if (msg->cmds == NULL) {
			c->oom = 1;
			return -1;
		}
		msg->n_cmds = n;
	}
	size_t i = 0;
	for (xmlNodePtr k = body->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE || s_is(k, "Final"))
			continue;
		if (s_parse_cmd(c, k, &msg->cmds[i++], 1) != 0)
			return -1;
	}
	return c->oom ? -1 : 0;
}

static int s_is_wbxml(const char *buf, size_t len, const char *content_type)
{
	if (content_type)
		return strncasecmp(content_type, MDM_SML_CT_WBXML, strlen(MDM_SML_CT_WBXML)) == 0;
	return len > 0 && buf[0] >= 0x01 && buf[0] <= 0x03;
}

/* Why XML first even for WBXML: libwbxml2 has no public tree API in the Debian package
 * (only the converters), and going through text lets one reader with one set of rules
 * (no DTD, no entities, local names) serve both encodings. */
mdm_sml_msg_t *mdm_sml_parse(const char *buf, size_t len, const char *content_type, mdm_err_t *err)
{
	mdm_sml_msg_t *msg = NULL;
	xmlDocPtr doc = NULL;
	char *xml = NULL;
	s_ctx_t c = {.err = err};

	if (buf == NULL || len == 0) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "empty message");
		goto error;
	}
	int wbxml = s_is_wbxml(buf, len, content_type);
	if (wbxml) {
		size_t xml_len = 0;
		xml = mdm_sml_wbxml_to_xml(buf, len, &xml_len, err);
		check_quiet(xml);
		doc = mdm_sml_read_xml_(xml, xml_len, err);
	} else {
		doc = mdm_sml_read_xml_(buf, len, err);
	}
	check_quiet(doc);
	msg = calloc(1, sizeof *msg);
	if (msg == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	msg->max_msg_size = -1;
	msg->max_obj_size = -1;
	msg->wbxml = wbxml;
	if (s_read_msg(&c, doc, msg) != 0) {
		if (c.oom)
			mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	xmlFreeDoc(doc);
	free(xml);
	return msg;

error:
	mdm_sml_msg_destroy(&msg);
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	return NULL;
}

void mdm_sml_msg_destroy(mdm_sml_msg_t **self)
{
	if (self == NULL || *self == NULL)
		return;
	mdm_sml_msg_t *msg = *self;
	free(msg->ver_dtd);
	free(msg->ver_proto);
	free(msg->session_id);
	free(msg->msg_id);
	free(msg->target);
	free(msg->source);
	free(msg->cred_type);
	free(msg->cred_format);
	free(msg->cred_data);
	for (size_t i = 0; i < msg->n_cmds; i++)
		s_cmd_free(&msg->cmds[i]);
	free(msg->cmds);
	free(msg);
	*self = NULL;
}

/* ---- status codes -------------------------------------------------------------------- */

/* OMA-TS-SyncML-RepPro 1.2 §10 and MS-MDM (checklist §5.4). */
static const struct {
	int code;
	const char *text;
} s_status[] = {
	{101, "In progress"},
	{200, "OK"},
	{201, "Item added"},
	{202, "Accepted for processing"},
	{203, "Non-authoritative response"},
	{204, "No content"},
	{205, "Reset content"},
	{206, "Partial content"},
	{207, "Conflict resolved with merge"},
	{208, "Conflict resolved with client's command winning"},
	{209, "Conflict resolved with duplicate"},
	{210, "Delete without archive"},
	{211, "Item not deleted"},
	{212, "Authentication accepted"},
	{213, "Chunked item accepted and buffered"},
	{214, "Operation cancelled"},
	{215, "Not executed"},
	{216, "Atomic roll back OK"},
	{300, "Multiple choices"},
	{301, "Moved permanently"},
	{302, "Found"},
	{303, "See other URI"},
	{304, "Not modified"},
	{305, "Use proxy"},
	{400, "Bad request"},
	{401, "Invalid credentials"},
	{402, "Payment required"},
	{403, "Forbidden"},
	{404, "Not found"},
	{405, "Command not allowed"},
	{406, "Optional feature not supported"},
	{407, "Missing credentials"},
	{408, "Request timeout"},
	{409, "Conflict"},
	{410, "Gone"},
	{411, "Size required"},
	{412, "Incomplete command"},
	{413, "Request entity too large"},
	{414, "URI too long"},
	{415, "Unsupported media type or format"},
	{416, "Requested size too big"},
	{417, "Retry later"},
	{418, "Already exists"},
	{419, "Conflict resolved with server data"},
	{420, "Device full"},
	{421, "Unknown search grammar"},
	{422, "Bad CGI script"},
	{423, "Soft-delete conflict"},
	{424, "Size mismatch"},
	{425, "Permission denied"},
	{426, "Partial item not accepted"},
	{427, "Item not empty"},
	{428, "Move failed"},
	{500, "Command failed"},
	{501, "Command not implemented"},
	{502, "Bad gateway"},
	{503, "Service unavailable"},
	{504, "Gateway timeout"},
	{505, "DTD version not supported"},
	{506, "Processing error"},
	{507, "Atomic failed"},
	{508, "Refresh required"},
	{509, "Reserved"},
	{510, "Data store failure"},
	{511, "Server failure"},
	{512, "Synchronization failed"},
	{513, "Protocol version not supported"},
	{514, "Operation cancelled"},
	{516, "Atomic roll back failed"},
	{517, "Atomic response too large to fit"},
};

const char *mdm_sml_status_text(int code)
{
	for (size_t i = 0; i < sizeof s_status / sizeof s_status[0]; i++)
		if (s_status[i].code == code)
			return s_status[i].text;
	return "Unknown status";
}
