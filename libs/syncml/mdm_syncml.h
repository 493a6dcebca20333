/* mdm_syncml.h -- SyncML 1.2 (OMA-DM) codec: parses device messages (XML or WBXML) and writes server messages. */
#ifndef MDM_SYNCML_H
#define MDM_SYNCML_H

#include <stddef.h>

#include <jansson.h>

#include "mdm_err.h"

/* Namespaces and media types (checklist §5.1, §5.2). Parsing matches elements by local name
 * only, since devices and the docs disagree on namespaces (syncml:metinf vs syncml:metinfo);
 * the writer always emits these. */
#define MDM_SML_NS "SYNCML:SYNCML1.2"
#define MDM_SML_NS_METINF "syncml:metinf"
#define MDM_SML_NS_MSFT "http://schemas.microsoft.com/MobileDevice/MDM"
#define MDM_SML_CT_XML "application/vnd.syncml.dm+xml"
#define MDM_SML_CT_WBXML "application/vnd.syncml.dm+wbxml"
#define MDM_SML_PUBLIC_ID "-//SYNCML//DTD SyncML 1.2//EN" /* WBXML public id 0x1201 */

/* Parser limits: beyond them a message is MDM_E_MESSAGE_FORMAT. Commands count nested ones;
 * depth 1 is a SyncBody command, so Atomic > Sequence > Atomic > Replace is the deepest. */
#define MDM_SML_MAX_CMDS 1000
#define MDM_SML_MAX_ITEMS 10000
#define MDM_SML_MAX_DEPTH 4

/* Command spec limits (docs/management.md), the same as libs/cmd's MDM_CMD_MAX_*: items per
 * command, commands directly inside one Atomic/Sequence, item data bytes per spec (nested
 * ones included), target bytes. Spec nesting uses MDM_SML_MAX_DEPTH as the parser does, so
 * the writer never renders what our own parser would refuse. */
#define MDM_SML_SPEC_MAX_ITEMS 64
#define MDM_SML_SPEC_MAX_CMDS 64
#define MDM_SML_SPEC_MAX_DATA 65536
#define MDM_SML_SPEC_MAX_TARGET 1024

/* Every string below is malloc'ed, trimmed of surrounding XML whitespace, and NULL when the
 * element is absent ("" when present but empty). */
typedef struct {
	char *target, *source; /* Target/LocURI, Source/LocURI */
	char *format, *type;   /* Meta/Format, Meta/Type (item level only) */
	char *data;            /* Data text; Data holding elements gives their XML markup */
	long size;             /* Meta/Size, -1 if absent or not a number */
	int more_data;         /* MoreData present: a large-object chunk (checklist §5.6) */
} mdm_sml_item_t;

typedef struct mdm_sml_cmd {
	char name[16]; /* element local name: Alert, Add, Replace, Delete, Get, Exec, Status,
			* Results, Atomic, Sequence, Copy, ... unknown ones kept (cut to 15
			* bytes on a UTF-8 boundary) so the caller can answer them 406 */
	char *cmd_id;  /* CmdID, never NULL or "" */
	char *data;    /* Data child: Alert code (Alert) or status code (Status) */
	char *msg_ref, *cmd_ref, *cmd; /* Status and Results */
	char *meta_type, *meta_format; /* command-level Meta */
	char *target_ref, *source_ref; /* Status: first TargetRef / SourceRef */
	char *original_error;          /* Status Data msft:originalerror (SyncApplicationVersion 3) */
	char *chal_type, *chal_format, *chal_next_nonce; /* Status Chal/Meta (Type, Format, NextNonce) */
	int no_resp;
	mdm_sml_item_t *items;
	size_t n_items;
	struct mdm_sml_cmd *children; /* Atomic/Sequence: nested commands in order */
	size_t n_children;
} mdm_sml_cmd_t;

typedef struct {
	char *ver_dtd, *ver_proto, *session_id, *msg_id; /* session_id, msg_id never NULL */
	char *target, *source; /* SyncHdr Target/Source LocURI; source never NULL */
	long max_msg_size;     /* SyncHdr/Meta/MaxMsgSize, -1 if absent or not a number */
	long max_obj_size;     /* SyncHdr/Meta/MaxObjSize, -1 if absent or not a number */
	int has_cred;          /* SyncHdr/Cred present */
	char *cred_type, *cred_format, *cred_data; /* its Meta/Type, Meta/Format and Data */
	int final;             /* SyncBody/Final present */
	int wbxml;             /* the message arrived as WBXML */
	mdm_sml_cmd_t *cmds;   /* SyncBody commands in document order (Final excluded) */
	size_t n_cmds;
} mdm_sml_msg_t;

/* Parses one device message. WBXML when content_type starts with
 * application/vnd.syncml.dm+wbxml (case-insensitive), or, with a NULL content_type, when the
 * first byte is a WBXML version (0x01..0x03); anything else is XML in whatever encoding
 * libxml2 detects (UTF-8, UTF-16 with BOM). A DTD or entity declaration, malformed XML or
 * WBXML, a missing SyncHdr/SessionID/MsgID/Source LocURI/SyncBody, a non-numeric MsgID, a
 * command without CmdID or a message over the limits above give NULL with
 * MDM_E_MESSAGE_FORMAT and a short text; out of memory gives MDM_E_INTERNAL. Thread-safe.
 * Caller owns the result (mdm_sml_msg_destroy). */
mdm_sml_msg_t *mdm_sml_parse(const char *buf, size_t len, const char *content_type, mdm_err_t *err);
void mdm_sml_msg_destroy(mdm_sml_msg_t **self);

/* Short English text for a SyncML status code ("OK", "Command not allowed", ...); never
 * NULL ("Unknown status" for codes we do not know). */
const char *mdm_sml_status_text(int code);

/* ---- writer ------------------------------------------------------------------------- */

typedef struct mdm_sml_writer_t mdm_sml_writer_t;

/* Starts a message. session_id and msg_id: this (server) message's header; target = the
 * device id (the client's Source), source = the server URL (the client's Target). The
 * simulator uses it the other way round. All four required (NULL otherwise). Caller owns
 * the writer (mdm_sml_writer_destroy). */
mdm_sml_writer_t *mdm_sml_writer_new(const char *session_id, const char *msg_id, const char *target,
				     const char *source);
void mdm_sml_writer_destroy(mdm_sml_writer_t **self);

/* Every add returns the CmdID it assigned (1, 2, 3... unique in the message, never 0), or -1
 * (missing argument, out of memory, or more than 99999 CmdIDs). Text is XML-escaped. */

/* <Status><CmdID/><MsgRef/><CmdRef/><Cmd/>[<TargetRef/>][<SourceRef/>]<Data>code</Data>.
 * msg_ref, cmd_ref, cmd and code required; target_ref/source_ref may be NULL. */
int mdm_sml_add_status(mdm_sml_writer_t *w, const char *msg_ref, const char *cmd_ref, const char *cmd,
		       const char *code, const char *target_ref, const char *source_ref);
/* <Alert><CmdID/><Data>code</Data>[<Item><Data>item_data</Data></Item>]</Alert>. */
int mdm_sml_add_alert(mdm_sml_writer_t *w, const char *code, const char *item_data);
/* Alert with full items (Meta Type/Format: the device's 1224/1226 alerts, for the simulator). */
int mdm_sml_add_alert_items(mdm_sml_writer_t *w, const char *code, const mdm_sml_item_t *items,
			    size_t n_items);
/* Any item command: <name><CmdID/><Item>...</Item>...</name>, items as
 * Target, Source, Meta (Format, Type, Size when > 0), Data, MoreData, each only when set. name is
 * 1..15 ASCII letters. For the simulator (Replace ./DevInfo) and tests. */
int mdm_sml_add_cmd(mdm_sml_writer_t *w, const char *name, const mdm_sml_item_t *items, size_t n_items);
/* <Results><CmdID/><MsgRef/><CmdRef/><Item>...</Item></Results> (simulator). */
int mdm_sml_add_results(mdm_sml_writer_t *w, const char *msg_ref, const char *cmd_ref,
			const mdm_sml_item_t *items, size_t n_items);

/* Checks one command spec of docs/management.md ({"verb", "items", "cmds"}) and everything
 * nested in it: only those fields (items: target/format/type/data, strings); verb one of
 * Get/Add/Replace/Delete/Exec/Atomic/Sequence; items 1..64 for the item verbs and absent for
 * Atomic/Sequence; cmds 1..64 for those two only; no Get and no Atomic anywhere inside an
 * Atomic; nesting within MDM_SML_MAX_DEPTH; every item has a target starting with "./" (at
 * most 1024 bytes, no space or control character); no data on Get/Delete items; format one
 * of chr/int/bool/b64/xml/null/node; no control character other than tab/CR/LF in
 * type/data; at most 64 KiB of data and MDM_SML_MAX_CMDS commands per spec. 0, or -1 with MDM_E_BAD_REQUEST naming the
 * place (`cmds[0].items[1].target must start with "./"`). */
int mdm_sml_spec_check(json_t *spec, mdm_err_t *err);
/* Renders one spec (checked as above; refused with -1 otherwise) with nested CmdIDs for
 * Atomic/Sequence children, numbered after their parent in document order. Returns the top
 * CmdID. Meta goes inside each Item: <Meta><Format xmlns="syncml:metinf">chr</Format>
 * <Type xmlns="syncml:metinf">text/plain</Type></Meta>. */
int mdm_sml_add_spec(mdm_sml_writer_t *w, json_t *spec, mdm_err_t *err);

/* Exact size in bytes of the XML mdm_sml_writer_finish(w, 1, 0, ...) would return now. */
size_t mdm_sml_writer_size(const mdm_sml_writer_t *w);
/* Bytes the spec would add to any writer: an upper bound, exact but for CmdIDs counted as 5
 * digits (so at most 4 bytes over per command). 0 for an invalid spec. */
size_t mdm_sml_spec_size(json_t *spec);
/* Bytes the spec would add to this writer now: exact. 0 for an invalid spec. */
size_t mdm_sml_writer_spec_size(const mdm_sml_writer_t *w, json_t *spec);

/* Closes the message: <Final/> when final, then </SyncBody></SyncML>. wbxml=0: XML (UTF-8,
 * no declaration, NUL-terminated); wbxml=1: WBXML 1.2, public id 0x1201 (SyncML 1.2),
 * charset UTF-8, inline strings, whitespace kept (libwbxml2 sends Add/Replace item Data as
 * opaque and turns each LF in it into CRLF: its vCard rule). The writer is unchanged and may
 * be finished again. Caller frees the result; NULL (and *len 0) on out of memory or when the
 * WBXML encoder fails. */
char *mdm_sml_writer_finish(mdm_sml_writer_t *w, int final, int wbxml, size_t *len);

/* ---- WBXML <-> XML (libwbxml2) -------------------------------------------------------- */

/* Decodes a WBXML SyncML message to XML text (UTF-8, NUL-terminated, with no XML
 * declaration and no DOCTYPE), always read as SyncML 1.2 whatever public id it names.
 * Refuses (MDM_E_MESSAGE_FORMAT, "invalid WBXML: ...") a truncated or malformed document,
 * elements nested over 64 deep, or one whose XML would exceed 64 MiB (string-table
 * references can multiply a small input). Opaque Data comes back from libwbxml2 as CDATA;
 * a "]]>" inside it is split so the bytes survive, unless the data holds "]]></Data>".
 * Caller frees. */
char *mdm_sml_wbxml_to_xml(const char *buf, size_t len, size_t *out_len, mdm_err_t *err);
/* Encodes a SyncML 1.2 XML message (UTF-8 or UTF-16 with BOM, no DTD) as WBXML with the
 * public id 0x1201, string table on and insignificant whitespace dropped (text is trimmed;
 * mdm_sml_writer_finish keeps it instead). MDM_E_MESSAGE_FORMAT when the XML is refused.
 * For tests and the simulator. Caller frees. */
char *mdm_sml_xml_to_wbxml(const char *xml, size_t len, size_t *out_len, mdm_err_t *err);

#endif
