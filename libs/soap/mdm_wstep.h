/* mdm_wstep.h -- MS-WSTEP RequestSecurityToken parsing and RequestSecurityTokenResponseCollection building (checklist §4.1-4.2). */
#ifndef MDM_WSTEP_H
#define MDM_WSTEP_H

#include <stddef.h>
#include <time.h>

#include "mdm_err.h"
#include "mdm_soap.h"

/* One ac:AdditionalContext/ac:ContextItem. Names repeat (MAC, IMEI), duplicates are kept. */
typedef struct {
	char name[64];
	char *value; /* trimmed; "" when the item has no Value */
} mdm_ctx_item_t;

typedef struct mdm_rst_t {
	char *token_type;     /* wst:TokenType (MDM_TOKENTYPE_ENROLL expected; not checked here) */
	char *request_type;   /* wst:RequestType (MDM_REQTYPE_ISSUE / _RENEW / _RECOVERY) */
	char *bst_value_type; /* body wsse:BinarySecurityToken/@ValueType (MDM_VT_PKCS10 / _PKCS7) */
	unsigned char *bst;   /* its base64-decoded content (DER PKCS#10 or PKCS#7) */
	size_t bst_len;
	mdm_ctx_item_t *items; /* in document order */
	size_t n_items;
} mdm_rst_t;

/* Most ContextItems accepted in one request (Windows sends about 20). */
#define MDM_RST_MAX_ITEMS 256

/* Reads a wst:RequestSecurityToken body. TokenType, RequestType and the body
 * BinarySecurityToken (with a ValueType, prefixed or not) are required:
 * MDM_E_MESSAGE_FORMAT when one is missing or the body is something else;
 * MDM_E_CERT_REQUEST when the token is empty or not base64. Their values are not compared
 * with the expected URIs here; the enrollment handler decides. Caller owns the result. */
mdm_rst_t *mdm_rst_parse(const mdm_soap_req_t *req, mdm_err_t *err);
void mdm_rst_destroy(mdm_rst_t **self);

/* First value of the ContextItem called name (exact, case-sensitive), or NULL. Borrowed. */
const char *mdm_rst_get(const mdm_rst_t *rst, const char *name);
/* Stores up to max borrowed values of name, in document order, into out (out may be NULL
 * when max is 0). Returns how many items have that name, which may exceed max. */
size_t mdm_rst_get_all(const mdm_rst_t *rst, const char *name, const char **out, size_t max);

/* Builds the RSTRC envelope of checklist §4.2: a:Action RSTRC (mustUnderstand),
 * a:RelatesTo (omitted when NULL), wsse:Security with a u:Timestamp from now-5min to
 * now+5min (RFC 3339 UTC with milliseconds), TokenType DeviceEnrollmentToken, an empty
 * DispositionMessage, the provisioning document as a DeviceEnrollmentProvisionDoc
 * BinarySecurityToken (provdoc_b64 must be base64 without line breaks), RequestID 0.
 * Returns a string the caller frees, length in *len (may be NULL); NULL when provdoc_b64 is
 * NULL or memory ran out. */
char *mdm_rstrc_response(const char *relates_to, const char *provdoc_b64, time_t now, size_t *len);

#endif
