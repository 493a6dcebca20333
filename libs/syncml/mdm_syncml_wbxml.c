/* mdm_syncml_wbxml.c -- WBXML <-> XML for SyncML 1.2 through libwbxml2's converters, with a pre-scan that bounds what decoding a device's WBXML may cost. */
#include "mdm_syncml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <wbxml/wbxml.h>

#include "mdm_buf.h"
#include "mdm_syncml_int.h"

#define S_MAX_DEPTH 64          /* element nesting a decoded document may have */
#define S_MAX_XML (64u << 20)   /* XML bytes a decoded document may produce (estimated) */
#define S_PUBLIC_ID_1201 "\xA4\x01" /* mb_u_int32 0x1201: -//SYNCML//DTD SyncML 1.2//EN */

/* ---- pre-scan ------------------------------------------------------------------------ */

/* Why a scan before libwbxml2: its parser builds the whole tree recursively and its XML
 * generator writes every string-table reference out in full, so a few kilobytes of WBXML
 * can ask for gigabytes (one long string referenced a million times) or blow the stack
 * (elements nested a million deep). The scan walks the tokens once (WBXML 1.3 §5.8),
 * estimates the XML size generously (6x for escaped text, 128 bytes per tag) and counts
 * the nesting, so both are refused before any allocation. It accepts nothing libwbxml2
 * would not; it may refuse processing instructions, which SyncML never uses. */

typedef struct {
	const unsigned char *p;
	size_t len, pos;
	const unsigned char *tbl; /* string table */
	size_t tbl_len;
	uint64_t est; /* estimated XML bytes */
} s_scan_t;

/* Multi-byte unsigned integer (at most 5 bytes, 32 bits). */
static int s_mb(s_scan_t *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 5; i++) {
		if (s->pos >= s->len)
			return -1;
		unsigned char b = s->p[s->pos++];
		if (v > (UINT32_MAX >> 7))
			return -1;
		v = (v << 7) | (b & 0x7f);
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Inline NUL-terminated string: skipped, its length counted. */
static int s_inline(s_scan_t *s)
{
	const unsigned char *z = memchr(s->p + s->pos, 0, s->len - s->pos);
	if (z == NULL)
		return -1;
	size_t n = (size_t)(z - (s->p + s->pos));
	s->pos += n + 1;
	s->est += 6 * (uint64_t)n + 16;
	return 0;
}

/* String-table reference: index checked, the referenced string's length counted. */
static int s_tableref(s_scan_t *s)
{
	uint32_t idx;
	if (s_mb(s, &idx) != 0 || idx >= s->tbl_len)
		return -1;
	const unsigned char *z = memchr(s->tbl + idx, 0, s->tbl_len - idx);
	if (z == NULL)
		return -1;
	s->est += 6 * (uint64_t)(z - (s->tbl + idx)) + 16;
	return 0;
}

static int s_opaque(s_scan_t *s)
{
	uint32_t n;
	if (s_mb(s, &n) != 0 || n > s->len - s->pos)
		return -1;
	s->pos += n;
	s->est += 2 * (uint64_t)n + 32; /* CDATA, or base64 for binary */
	return 0;
}

/* Attribute list after a tag with the 0x80 bit, up to its END. */
static int s_attrs(s_scan_t *s)
{
	while (s->pos < s->len) {
		unsigned char t = s->p[s->pos++];
		int rc = 0;
		uint32_t v;
		s->est += 64;
		switch (t) {
		case 0x01: return 0; /* END */
		case 0x00: /* SWITCH_PAGE */
			if (s->pos >= s->len)
				return -1;
			s->pos++;
			break;
		case 0x02: rc = s_mb(s, &v); break;                 /* ENTITY */
		case 0x03: case 0x40: case 0x41: case 0x42: rc = s_inline(s); break;
		case 0x04: case 0x80: case 0x81: case 0x82: case 0x83: rc = s_tableref(s); break;
		case 0xC3: rc = s_opaque(s); break;
		case 0x43: return -1; /* PI */
		default: break;       /* attribute start/value token, EXT_0..2 */
		}
		if (rc != 0)
			return -1;
	}
	return -1;
}

/* NULL when the document is acceptable, else why not. */
static const char *s_scan(const unsigned char *p, size_t len)
{
	s_scan_t s = {.p = p, .len = len, .est = 256};
	uint32_t v, public_id;
	unsigned char version = p[s.pos++];
	if (version > 0x03)
		return "unknown WBXML version";
	if (s_mb(&s, &public_id) != 0 || (public_id == 0 && s_mb(&s, &v) != 0))
		return "truncated header";
	if (version >= 0x01 && s_mb(&s, &v) != 0) /* charset, from WBXML 1.1 on */
		return "truncated header";
	uint32_t tbl_len;
	if (s_mb(&s, &tbl_len) != 0 || tbl_len > len - s.pos)
		return "bad string table length";
	s.tbl = p + s.pos;
	s.tbl_len = tbl_len;
	s.pos += tbl_len;
	if (s.pos >= len)
		return "no body";

	int depth = 0;
	while (s.pos < len) {
		unsigned char t = p[s.pos++];
		int rc = 0;
		switch (t) {
		case 0x00: /* SWITCH_PAGE */
			if (s.pos >= len)
				return "truncated";
			s.pos++;
			break;
		case 0x01: /* END */
			if (depth == 0)
				return "unbalanced END";
			depth--;
			break;
		case 0x02: rc = s_mb(&s, &v); s.est += 16; break; /* ENTITY */
		case 0x03: case 0x40: case 0x41: case 0x42: rc = s_inline(&s); break;
		case 0x43: return "processing instructions are not supported";
		case 0x80: case 0x81: case 0x82: case 0x83: rc = s_tableref(&s); break;
		case 0xC0: case 0xC1: case 0xC2: s.est += 16; break; /* EXT_0..2 */
		case 0xC3: rc = s_opaque(&s); break;
		case 0x04: case 0x44: case 0x84: case 0xC4: /* LITERAL tags */
		default: /* tag token: bit 0x80 attributes follow, bit 0x40 content follows */
			if ((t & 0x3f) == 0x04)
				rc = s_tableref(&s);
			s.est += 128;
			if (rc == 0 && (t & 0x80))
				rc = s_attrs(&s);
			if (t & 0x40)
				depth++;
			break;
		}
		if (rc != 0)
			return "truncated or bad token";
		if (depth > S_MAX_DEPTH)
			return "elements nested too deeply";
		if (s.est > S_MAX_XML)
			return "too large once decoded";
	}
	if (depth != 0)
		return "truncated";
	return NULL;
}

/* ---- decoding ------------------------------------------------------------------------ */

/* libwbxml2 always writes `<?xml version="1.0"?><!DOCTYPE SyncML PUBLIC "..." "...">`;
 * our reader refuses any DOCTYPE, so the prolog is cut off here. Only a DOCTYPE without an
 * internal subset is cut: anything else stays and is refused by the reader. */
static size_t s_skip_prolog(const char *x, size_t n)
{
	size_t i = 0;
	while (i < n && (x[i] == ' ' || x[i] == '\t' || x[i] == '\r' || x[i] == '\n'))
		i++;
	if (n - i >= 5 && memcmp(x + i, "<?xml", 5) == 0) {
		const char *e = memmem(x + i, n - i, "?>", 2);
		if (e == NULL)
			return 0;
		i = (size_t)(e - x) + 2;
	}
	while (i < n && (x[i] == ' ' || x[i] == '\t' || x[i] == '\r' || x[i] == '\n'))
		i++;
	if (n - i >= 9 && memcmp(x + i, "<!DOCTYPE", 9) == 0) {
		size_t j = i;
		while (j < n && x[j] != '>' && x[j] != '[')
			j++;
		if (j >= n || x[j] != '>')
			return i;
		i = j + 1;
	}
	return i;
}

/* libwbxml2 writes the content of a SyncML Data it treats as opaque (Format xml/b64/bin,
 * Add/Replace data) as `<Data><![CDATA[raw]]></Data>` without splitting a "]]>" inside raw,
 * which is exactly what an XML blob holding its own CDATA section contains. Each CDATA
 * section here runs to the first "]]></Data>"; every earlier "]]>" in it is split into
 * "]]]]><![CDATA[>", so libxml2 reads the raw bytes back. (Data that itself contains
 * "]]></Data>" still cannot be told apart and ends as malformed XML.) Returns a new
 * NUL-terminated buffer, or NULL on out of memory. */
static char *s_fix_cdata(const char *x, size_t n, size_t *out_len)
{
	static const char open[] = "<![CDATA[", close[] = "]]></Data>", split[] = "]]]]><![CDATA[>";
	mdm_buf_t b = MDM_BUF_INIT;
	size_t i = 0;
	for (;;) {
		const char *o = memmem(x + i, n - i, open, sizeof open - 1);
		if (o == NULL)
			break;
		size_t start = (size_t)(o - x) + sizeof open - 1;
		const char *c = memmem(x + start, n - start, close, sizeof close - 1);
		if (c == NULL)
			break;
		size_t end = (size_t)(c - x);
		mdm_buf_append(&b, x + i, start - i);
		for (size_t k = start; k < end;) {
			const char *t = memmem(x + k, end - k, "]]>", 3);
			if (t == NULL) {
				mdm_buf_append(&b, x + k, end - k);
				break;
			}
			mdm_buf_append(&b, x + k, (size_t)(t - (x + k)));
			mdm_buf_puts(&b, split);
			k = (size_t)(t - x) + 3;
		}
		i = end;
		mdm_buf_append(&b, x + i, sizeof close - 1);
		i += sizeof close - 1;
	}
	mdm_buf_append(&b, x + i, n - i);
	return mdm_buf_steal(&b, out_len);
}

char *mdm_sml_wbxml_to_xml(const char *buf, size_t len, size_t *out_len, mdm_err_t *err)
{
	WBXMLConvWBXML2XML *conv = NULL;
	WB_UTINY *in = NULL, *xml = NULL;
	WB_ULONG xml_len = 0;
	char *out = NULL;

	if (out_len)
		*out_len = 0;
	if (buf == NULL || len == 0) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "invalid WBXML: empty");
		goto error;
	}
	if (len > UINT32_MAX / 2) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "invalid WBXML: too large");
		goto error;
	}
	const char *why = s_scan((const unsigned char *)buf, len);
	if (why) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "invalid WBXML: %s", why);
		goto error;
	}
	/* a private copy: the converter takes a non-const buffer */
	in = malloc(len);
	if (in == NULL || wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	memcpy(in, buf, len);
	wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
	/* Forced: a public id other than 0x1201 (0x01 "unknown", or a string-table one a
	 * decoder might not know) would otherwise be refused as WBXML_ERROR_UNKNOWN_PUBLIC_ID. */
	wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_SYNCML_SYNCML12);
	WBXMLError e = wbxml_conv_wbxml2xml_run(conv, in, (WB_ULONG)len, &xml, &xml_len);
	if (e != WBXML_OK || xml == NULL) {
		mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "invalid WBXML: %s",
			    (const char *)wbxml_errors_string(e));
		goto error;
	}
	size_t skip = s_skip_prolog((const char *)xml, xml_len);
	out = s_fix_cdata((const char *)xml + skip, xml_len - skip, out_len);
	if (out == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	free(xml);
	free(in);
	wbxml_conv_wbxml2xml_destroy(conv);
	return out;

error:
	free(xml);
	free(in);
	if (conv)
		wbxml_conv_wbxml2xml_destroy(conv);
	return NULL;
}

/* ---- encoding ------------------------------------------------------------------------ */

/* libwbxml2 picks the language from the root element and its xmlns (SYNCML:SYNCML1.2 gives
 * SyncML 1.2, public id 0x1201, code page 0 SyncML and 1 MetInf for syncml:metinf
 * children); the result is checked rather than trusted. */
char *mdm_sml_encode_(const char *xml, size_t len, int strtbl, int keep_ws, size_t *out_len,
		      mdm_err_t *err)
{
	WBXMLConvXML2WBXML *conv = NULL;
	WB_UTINY *wb = NULL;
	WB_ULONG wb_len = 0;

	if (out_len)
		*out_len = 0;
	if (xml == NULL || len == 0 || len > UINT32_MAX / 2) {
		mdm_err_set(err, MDM_E_INTERNAL, "WBXML encoder: nothing to encode");
		goto error;
	}
	if (wbxml_conv_xml2wbxml_create(&conv) != WBXML_OK) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto error;
	}
	wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_12);
	if (!strtbl)
		wbxml_conv_xml2wbxml_disable_string_table(conv);
	if (keep_ws)
		wbxml_conv_xml2wbxml_enable_preserve_whitespaces(conv);
	WBXMLError e = wbxml_conv_xml2wbxml_run(conv, (WB_UTINY *)xml, (WB_ULONG)len, &wb, &wb_len);
	if (e != WBXML_OK || wb == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "WBXML encoder: %s", (const char *)wbxml_errors_string(e));
		goto error;
	}
	if (wb_len < 4 || wb[0] != WBXML_VERSION_12 || memcmp(wb + 1, S_PUBLIC_ID_1201, 2) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "WBXML encoder did not produce SyncML 1.2");
		goto error;
	}
	wbxml_conv_xml2wbxml_destroy(conv);
	if (out_len)
		*out_len = wb_len;
	return (char *)wb;

error:
	free(wb);
	if (conv)
		wbxml_conv_xml2wbxml_destroy(conv);
	return NULL;
}

/* Re-serialized by libxml2 first: that refuses DTDs (expat, under libwbxml2, would read
 * them) and turns UTF-16 into the UTF-8 expat is given. */
char *mdm_sml_xml_to_wbxml(const char *xml, size_t len, size_t *out_len, mdm_err_t *err)
{
	xmlChar *mem = NULL;
	int mem_len = 0;
	char *out = NULL;

	if (out_len)
		*out_len = 0;
	xmlDocPtr doc = mdm_sml_read_xml_(xml, len, err);
	if (doc == NULL)
		return NULL;
	xmlDocDumpMemoryEnc(doc, &mem, &mem_len, "UTF-8");
	xmlFreeDoc(doc);
	if (mem == NULL || mem_len <= 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		goto done;
	}
	out = mdm_sml_encode_((const char *)mem, (size_t)mem_len, 1, 0, out_len, err);
done:
	xmlFree(mem);
	return out;
}
