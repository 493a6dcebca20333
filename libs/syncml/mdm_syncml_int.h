/* mdm_syncml_int.h -- what the libs/syncml files share with each other and nobody else. */
#ifndef MDM_SYNCML_INT_H
#define MDM_SYNCML_INT_H

#include <stddef.h>

#include <libxml/tree.h>

#include "mdm_err.h"

/* Reads buf into a libxml2 document: no network, no DTD, no entity, no stderr output,
 * encodings detected by libxml2. NULL with MDM_E_MESSAGE_FORMAT ("malformed XML ...", "XML
 * with a DTD or entities is refused") or MDM_E_INTERNAL. Caller frees with xmlFreeDoc. */
xmlDocPtr mdm_sml_read_xml_(const char *buf, size_t len, mdm_err_t *err);

/* Encodes UTF-8 SyncML 1.2 XML (trusted: our writer's output or re-serialized by libxml2)
 * to WBXML. strtbl: let libwbxml build a string table (needed for unknown elements);
 * keep_ws: keep text exactly (else libwbxml trims it). NULL with MDM_E_INTERNAL when the
 * encoder fails or did not produce SyncML 1.2. Caller frees. */
char *mdm_sml_encode_(const char *xml, size_t len, int strtbl, int keep_ws, size_t *out_len,
		      mdm_err_t *err);

#endif
