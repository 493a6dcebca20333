/* mdm_syncml_writer.c -- builds SyncML 1.2 messages: header, Status/Alert/Results, the command specs of docs/management.md, XML or WBXML. */
#include "mdm_syncml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdm_buf.h"
#include "mdm_soap.h" /* mdm_xml_put */
#include "mdm_syncml_int.h"

#define S_MAX_CMDID 99999 /* 5 digits: what mdm_sml_spec_size assumes */
#define S_FINAL "<Final/>"
#define S_TAIL "</SyncBody></SyncML>"

/* The header is rendered once by _new; commands append to body; finish glues header, body,
 * Final and tail, so the size of the finished message is always known exactly. */
struct mdm_sml_writer_t {
	mdm_buf_t hdr;
	mdm_buf_t body;
	int next_id; /* next CmdID */
};

/* <name>escaped text</name>; nothing when text is NULL. */
static void s_elem(mdm_buf_t *b, const char *name, const char *text)
{
	if (text == NULL)
		return;
	mdm_buf_printf(b, "<%s>", name);
	mdm_xml_put(b, text);
	mdm_buf_printf(b, "</%s>", name);
}

static void s_meta_elem(mdm_buf_t *b, const char *name, const char *text)
{
	if (text == NULL)
		return;
	mdm_buf_printf(b, "<%s xmlns=\"" MDM_SML_NS_METINF "\">", name);
	mdm_xml_put(b, text);
	mdm_buf_printf(b, "</%s>", name);
}

static void s_locuri(mdm_buf_t *b, const char *name, const char *uri)
{
	if (uri == NULL)
		return;
	mdm_buf_printf(b, "<%s><LocURI>", name);
	mdm_xml_put(b, uri);
	mdm_buf_printf(b, "</LocURI></%s>", name);
}

/* Item in DTD order: Target, Source, Meta, Data, MoreData. */
static void s_item(mdm_buf_t *b, const char *target, const char *source, const char *format,
		   const char *type, long size, const char *data, int more_data)
{
	mdm_buf_puts(b, "<Item>");
	s_locuri(b, "Target", target);
	s_locuri(b, "Source", source);
	if (format || type || size > 0) {
		mdm_buf_puts(b, "<Meta>");
		s_meta_elem(b, "Format", format);
		s_meta_elem(b, "Type", type);
		if (size > 0)
			mdm_buf_printf(b, "<Size xmlns=\"" MDM_SML_NS_METINF "\">%ld</Size>", size);
		mdm_buf_puts(b, "</Meta>");
	}
	s_elem(b, "Data", data);
	if (more_data)
		mdm_buf_puts(b, "<MoreData/>");
	mdm_buf_puts(b, "</Item>");
}

static void s_items(mdm_buf_t *b, const mdm_sml_item_t *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s_item(b, items[i].target, items[i].source, items[i].format, items[i].type, items[i].size,
		       items[i].data, items[i].more_data);
}

mdm_sml_writer_t *mdm_sml_writer_new(const char *session_id, const char *msg_id, const char *target,
				     const char *source)
{
	if (session_id == NULL || msg_id == NULL || target == NULL || source == NULL)
		return NULL;
	mdm_sml_writer_t *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->next_id = 1;
	mdm_buf_t *b = &w->hdr;
	mdm_buf_puts(b, "<SyncML xmlns=\"" MDM_SML_NS "\"><SyncHdr><VerDTD>1.2</VerDTD>"
			"<VerProto>DM/1.2</VerProto>");
	s_elem(b, "SessionID", session_id);
	s_elem(b, "MsgID", msg_id);
	s_locuri(b, "Target", target);
	s_locuri(b, "Source", source);
	mdm_buf_puts(b, "</SyncHdr><SyncBody>");
	if (b->failed) {
		mdm_sml_writer_destroy(&w);
		return NULL;
	}
	return w;
}

void mdm_sml_writer_destroy(mdm_sml_writer_t **self)
{
	if (self == NULL || *self == NULL)
		return;
	mdm_buf_free(&(*self)->hdr);
	mdm_buf_free(&(*self)->body);
	free(*self);
	*self = NULL;
}

/* Opens <name><CmdID>n</CmdID> and returns n, or -1 when the message is out of CmdIDs or
 * memory. */
static int s_open(mdm_sml_writer_t *w, const char *name)
{
	if (w == NULL || w->body.failed || w->next_id > S_MAX_CMDID)
		return -1;
	int id = w->next_id++;
	mdm_buf_printf(&w->body, "<%s><CmdID>%d</CmdID>", name, id);
	return id;
}

static int s_close(mdm_sml_writer_t *w, const char *name, int id)
{
	mdm_buf_printf(&w->body, "</%s>", name);
	return w->body.failed ? -1 : id;
}

int mdm_sml_add_status(mdm_sml_writer_t *w, const char *msg_ref, const char *cmd_ref, const char *cmd,
		       const char *code, const char *target_ref, const char *source_ref)
{
	if (msg_ref == NULL || cmd_ref == NULL || cmd == NULL || code == NULL)
		return -1;
	int id = s_open(w, "Status");
	if (id < 0)
		return -1;
	s_elem(&w->body, "MsgRef", msg_ref);
	s_elem(&w->body, "CmdRef", cmd_ref);
	s_elem(&w->body, "Cmd", cmd);
	s_elem(&w->body, "TargetRef", target_ref);
	s_elem(&w->body, "SourceRef", source_ref);
	s_elem(&w->body, "Data", code);
	return s_close(w, "Status", id);
}

int mdm_sml_add_alert(mdm_sml_writer_t *w, const char *code, const char *item_data)
{
	mdm_sml_item_t it = {.data = (char *)item_data, .size = -1};
	return mdm_sml_add_alert_items(w, code, item_data ? &it : NULL, item_data ? 1 : 0);
}

int mdm_sml_add_alert_items(mdm_sml_writer_t *w, const char *code, const mdm_sml_item_t *items,
			    size_t n_items)
{
	if (code == NULL || (n_items && items == NULL))
		return -1;
	int id = s_open(w, "Alert");
	if (id < 0)
		return -1;
	s_elem(&w->body, "Data", code);
	s_items(&w->body, items, n_items);
	return s_close(w, "Alert", id);
}

static int s_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 15)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z')))
			return 0;
	return 1;
}

int mdm_sml_add_cmd(mdm_sml_writer_t *w, const char *name, const mdm_sml_item_t *items, size_t n_items)
{
	if (!s_name_ok(name) || (n_items && items == NULL))
		return -1;
	int id = s_open(w, name);
	if (id < 0)
		return -1;
	s_items(&w->body, items, n_items);
	return s_close(w, name, id);
}

int mdm_sml_add_results(mdm_sml_writer_t *w, const char *msg_ref, const char *cmd_ref,
			const mdm_sml_item_t *items, size_t n_items)
{
	if (msg_ref == NULL || cmd_ref == NULL || (n_items && items == NULL))
		return -1;
	int id = s_open(w, "Results");
	if (id < 0)
		return -1;
	s_elem(&w->body, "MsgRef", msg_ref);
	s_elem(&w->body, "CmdRef", cmd_ref);
	s_items(&w->body, items, n_items);
	return s_close(w, "Results", id);
}

/* ---- command specs ------------------------------------------------------------------- */

static const char *const s_verbs[] = {"Get", "Add", "Replace", "Delete", "Exec", "Atomic", "Sequence"};
static const char *const s_formats[] = {"chr", "int", "bool", "b64", "xml", "null", "node"};

static int s_in(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static int s_is_container(const char *verb)
{
	return strcmp(verb, "Atomic") == 0 || strcmp(verb, "Sequence") == 0;
}

/* A JSON string XML can carry as it is: no NUL inside, no control character but tab, CR
 * and LF (jansson already guarantees valid UTF-8). */
static int s_text_ok(json_t *s)
{
	const char *p = json_string_value(s);
	if (strlen(p) != json_string_length(s))
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

typedef struct {
	mdm_err_t *err;
	size_t data;  /* item data bytes so far */
	size_t cmds;  /* commands so far */
} s_check_t;

/* Error naming a place: "cmds[0].items[1].target must ...", "spec ..." for the top. */
#define S_FAILW(k, path, field, fmt, ...)                                                   \
	do {                                                                                \
		const char *f_ = (field);                                                   \
		mdm_err_set((k)->err, MDM_E_BAD_REQUEST, "%s%s%s " fmt,                     \
			    *(path) ? (path) : (*f_ ? "" : "spec"), *(path) && *f_ ? "." : "", \
			    f_, __VA_ARGS__);                                               \
		return -1;                                                                  \
	} while (0)

static int s_check_item(s_check_t *k, json_t *item, const char *path, const char *verb)
{
	if (!json_is_object(item))
		S_FAILW(k, path, "", "%s", "must be an object");
	const char *key;
	json_t *v;
	json_object_foreach(item, key, v)
	{
		if (strcmp(key, "target") && strcmp(key, "format") && strcmp(key, "type") &&
		    strcmp(key, "data"))
			S_FAILW(k, path, key, "%s", "is not a known field (target, format, type, data)");
		if (!json_is_string(v))
			S_FAILW(k, path, key, "%s", "must be a string");
	}
	json_t *target = json_object_get(item, "target");
	if (target == NULL)
		S_FAILW(k, path, "target", "%s", "is required");
	const char *t = json_string_value(target);
	if (strncmp(t, "./", 2) != 0)
		S_FAILW(k, path, "target", "%s", "must start with \"./\"");
	if (json_string_length(target) > MDM_SML_SPEC_MAX_TARGET)
		S_FAILW(k, path, "target", "is longer than %d bytes", MDM_SML_SPEC_MAX_TARGET);
	if (strlen(t) != json_string_length(target))
		S_FAILW(k, path, "target", "%s", "must not contain NUL");
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			S_FAILW(k, path, "target", "%s",
				"must not contain spaces or control characters (escape a space as %20)");
	json_t *format = json_object_get(item, "format");
	if (format && !s_in(json_string_value(format), s_formats, sizeof s_formats / sizeof s_formats[0]))
		S_FAILW(k, path, "format", "%s", "must be one of chr, int, bool, b64, xml, null, node");
	json_t *type = json_object_get(item, "type");
	if (type && !s_text_ok(type))
		S_FAILW(k, path, "type", "%s", "must not contain control characters");
	json_t *data = json_object_get(item, "data");
	if (data) {
		if (strcmp(verb, "Get") == 0 || strcmp(verb, "Delete") == 0)
			S_FAILW(k, path, "data", "is not allowed on %s", verb);
		if (!s_text_ok(data))
			S_FAILW(k, path, "data", "%s", "must not contain control characters other than tab, CR, LF");
		k->data += json_string_length(data);
		if (k->data > MDM_SML_SPEC_MAX_DATA)
			S_FAILW(k, path, "data", "makes the command exceed %d bytes of data",
				MDM_SML_SPEC_MAX_DATA);
	}
	return 0;
}

/* Checks spec at path ("" for the top); depth 1 is the top; in_atomic: inside an Atomic. */
static int s_check(s_check_t *k, json_t *spec, const char *path, int depth, int in_atomic)
{
	if (!json_is_object(spec))
		S_FAILW(k, path, "", "%s", "must be an object");
	if (++k->cmds > MDM_SML_MAX_CMDS)
		S_FAILW(k, path, "", "holds more than %d commands", MDM_SML_MAX_CMDS);
	const char *key;
	json_t *v;
	json_object_foreach(spec, key, v)
	{
		if (strcmp(key, "verb") && strcmp(key, "items") && strcmp(key, "cmds"))
			S_FAILW(k, path, key, "%s", "is not a known field (verb, items, cmds)");
	}
	const char *verb = json_string_value(json_object_get(spec, "verb"));
	if (verb == NULL || !s_in(verb, s_verbs, sizeof s_verbs / sizeof s_verbs[0]))
		S_FAILW(k, path, "verb", "%s", "must be one of Get, Add, Replace, Delete, Exec, Atomic, Sequence");
	if (in_atomic && (strcmp(verb, "Get") == 0 || strcmp(verb, "Atomic") == 0))
		S_FAILW(k, path, "verb", "%s is not allowed inside an Atomic", verb);
	if (depth > MDM_SML_MAX_DEPTH)
		S_FAILW(k, path, "", "nests commands deeper than %d levels", MDM_SML_MAX_DEPTH);
	json_t *items = json_object_get(spec, "items");
	json_t *cmds = json_object_get(spec, "cmds");
	char sub[200];
	size_t i;
	if (s_is_container(verb)) {
		if (items)
			S_FAILW(k, path, "items", "is not allowed on %s", verb);
		if (!json_is_array(cmds) || json_array_size(cmds) == 0)
			S_FAILW(k, path, "cmds", "must be a non-empty array on %s", verb);
		if (json_array_size(cmds) > MDM_SML_SPEC_MAX_CMDS)
			S_FAILW(k, path, "cmds", "holds more than %d commands", MDM_SML_SPEC_MAX_CMDS);
		json_array_foreach(cmds, i, v)
		{
			snprintf(sub, sizeof sub, "%s%scmds[%zu]", path, *path ? "." : "", i);
			if (s_check(k, v, sub, depth + 1, in_atomic || strcmp(verb, "Atomic") == 0) != 0)
				return -1;
		}
		return 0;
	}
	if (cmds)
		S_FAILW(k, path, "cmds", "is only allowed on Atomic and Sequence, not on %s", verb);
	if (!json_is_array(items) || json_array_size(items) == 0)
		S_FAILW(k, path, "items", "must be a non-empty array on %s", verb);
	if (json_array_size(items) > MDM_SML_SPEC_MAX_ITEMS)
		S_FAILW(k, path, "items", "holds more than %d items", MDM_SML_SPEC_MAX_ITEMS);
	json_array_foreach(items, i, v)
	{
		snprintf(sub, sizeof sub, "%s%sitems[%zu]", path, *path ? "." : "", i);
		if (s_check_item(k, v, sub, verb) != 0)
			return -1;
	}
	return 0;
}

int mdm_sml_spec_check(json_t *spec, mdm_err_t *err)
{
	s_check_t k = {.err = err};
	return s_check(&k, spec, "", 1, 0);
}

/* Checks and counts the commands of spec; 0 when invalid. */
static size_t s_spec_cmds(json_t *spec, mdm_err_t *err)
{
	s_check_t k = {.err = err};
	return s_check(&k, spec, "", 1, 0) == 0 ? k.cmds : 0;
}

/* Renders a checked spec; CmdIDs from *next_id on, parent before children. */
static void s_render(mdm_buf_t *b, json_t *spec, int *next_id)
{
	const char *verb = json_string_value(json_object_get(spec, "verb"));
	mdm_buf_printf(b, "<%s><CmdID>%d</CmdID>", verb, (*next_id)++);
	size_t i;
	json_t *v;
	if (s_is_container(verb)) {
		json_array_foreach(json_object_get(spec, "cmds"), i, v) s_render(b, v, next_id);
	} else {
		json_array_foreach(json_object_get(spec, "items"), i, v)
		{
			s_item(b, json_string_value(json_object_get(v, "target")), NULL,
			       json_string_value(json_object_get(v, "format")),
			       json_string_value(json_object_get(v, "type")), -1,
			       json_string_value(json_object_get(v, "data")), 0);
		}
	}
	mdm_buf_printf(b, "</%s>", verb);
}

int mdm_sml_add_spec(mdm_sml_writer_t *w, json_t *spec, mdm_err_t *err)
{
	if (w == NULL || w->body.failed) {
		mdm_err_set(err, MDM_E_INTERNAL, "SyncML writer unusable (out of memory)");
		return -1;
	}
	size_t n = s_spec_cmds(spec, err);
	if (n == 0)
		return -1;
	if ((size_t)w->next_id + n - 1 > S_MAX_CMDID) {
		mdm_err_set(err, MDM_E_TOO_LARGE, "SyncML message out of CmdIDs");
		return -1;
	}
	int id = w->next_id;
	s_render(&w->body, spec, &w->next_id);
	if (w->body.failed) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return -1;
	}
	return id;
}

/* Size of spec rendered with CmdIDs from first_id on; 0 when invalid. */
static size_t s_spec_size(json_t *spec, int first_id)
{
	if (s_spec_cmds(spec, NULL) == 0)
		return 0;
	mdm_buf_t b = MDM_BUF_INIT;
	int id = first_id;
	s_render(&b, spec, &id);
	size_t n = b.failed ? 0 : b.len;
	mdm_buf_free(&b);
	return n;
}

size_t mdm_sml_spec_size(json_t *spec)
{
	return s_spec_size(spec, 10000); /* 5-digit CmdIDs: the most a message may use */
}

size_t mdm_sml_writer_spec_size(const mdm_sml_writer_t *w, json_t *spec)
{
	return w ? s_spec_size(spec, w->next_id) : 0;
}

size_t mdm_sml_writer_size(const mdm_sml_writer_t *w)
{
	if (w == NULL)
		return 0;
	return w->hdr.len + w->body.len + strlen(S_FINAL) + strlen(S_TAIL);
}

char *mdm_sml_writer_finish(mdm_sml_writer_t *w, int final, int wbxml, size_t *len)
{
	mdm_buf_t b = MDM_BUF_INIT;
	if (len)
		*len = 0;
	if (w == NULL || w->hdr.failed || w->body.failed)
		return NULL;
	mdm_buf_append(&b, w->hdr.data, w->hdr.len);
	mdm_buf_append(&b, w->body.data ? w->body.data : "", w->body.len);
	if (final)
		mdm_buf_puts(&b, S_FINAL);
	mdm_buf_puts(&b, S_TAIL);
	if (!wbxml)
		return mdm_buf_steal(&b, len);
	if (b.failed) {
		mdm_buf_free(&b);
		return NULL;
	}
	/* inline strings (no string table: every element we write has a token) and text kept
	 * byte for byte (libwbxml2 would trim it otherwise) */
	mdm_err_t err = {0};
	char *out = mdm_sml_encode_(b.data, b.len, 0, 1, len, &err);
	mdm_buf_free(&b);
	return out;
}
