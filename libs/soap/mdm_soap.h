/* mdm_soap.h -- SOAP envelope parsing (libxml2, DTD-free) and the small builders every enrollment reply shares. */
#ifndef MDM_SOAP_H
#define MDM_SOAP_H

#include <stddef.h>

#include <libxml/tree.h>

#include "mdm_buf.h"
#include "mdm_err.h"

/* Namespaces (checklist §0). Elements are matched by URI + local name, never by prefix. */
#define MDM_NS_SOAP12 "http://www.w3.org/2003/05/soap-envelope"
#define MDM_NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/" /* accepted, never emitted */
#define MDM_NS_ADDR "http://www.w3.org/2005/08/addressing"
#define MDM_NS_WSSE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define MDM_NS_WSU "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define MDM_NS_WST "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
#define MDM_NS_AC "http://schemas.xmlsoap.org/ws/2006/12/authorization"
/* Real clients send it without the trailing '/', the docs' samples with it: both accepted. */
#define MDM_NS_DISCOVERY "http://schemas.microsoft.com/windows/management/2012/01/enrollment"
#define MDM_NS_XCEP "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"
#define MDM_NS_WSTEP "http://schemas.microsoft.com/windows/pki/2009/01/enrollment"
#define MDM_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define MDM_NS_DIAG "http://schemas.microsoft.com/2004/09/ServiceModel/Diagnostics"

/* Actions (request / response). */
#define MDM_ACTION_DISCOVER MDM_NS_DISCOVERY "/IDiscoveryService/Discover"
#define MDM_ACTION_DISCOVER_RESPONSE MDM_NS_DISCOVERY "/IDiscoveryService/DiscoverResponse"
#define MDM_ACTION_GETPOLICIES MDM_NS_XCEP "/IPolicy/GetPolicies"
#define MDM_ACTION_GETPOLICIES_RESPONSE MDM_NS_XCEP "/IPolicy/GetPoliciesResponse"
#define MDM_ACTION_RST MDM_NS_WSTEP "/RST/wstep"
#define MDM_ACTION_RSTRC MDM_NS_WSTEP "/RSTRC/wstep"
#define MDM_ACTION_FAULT "http://www.w3.org/2005/08/addressing/soap/fault"

/* BinarySecurityToken ValueTypes, TokenType, RequestTypes. */
#define MDM_VT_USERTOKEN \
	"http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken"
#define MDM_VT_PKCS10 MDM_NS_WSTEP "#PKCS10"
#define MDM_VT_PKCS7 MDM_NS_WSSE "#PKCS7"      /* renewal, as documented */
#define MDM_VT_PKCS7_ALT MDM_NS_WSTEP "#PKCS7" /* renewal, also seen (Fleet accepts it) */
#define MDM_VT_PROVDOC \
	"http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc"
#define MDM_ENCODING_BASE64 MDM_NS_WSSE "#base64binary"
#define MDM_TOKENTYPE_ENROLL \
	"http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken"
#define MDM_REQTYPE_ISSUE MDM_NS_WST "/Issue"
#define MDM_REQTYPE_RENEW MDM_NS_WST "/Renew"
#define MDM_REQTYPE_RECOVERY MDM_NS_WST "/Recovery"

/* A parsed SOAP request. Every string is malloc'ed, trimmed of surrounding XML whitespace,
 * and NULL when the element is absent ("" when present but empty). body points into doc. */
typedef struct mdm_soap_req_t {
	xmlDocPtr doc;
	char *message_id;     /* a:MessageID, byte-exact apart from surrounding whitespace */
	char *action;         /* a:Action */
	char *username;       /* wsse:Security/wsse:UsernameToken/wsse:Username */
	char *password;       /* wsse:Security/wsse:UsernameToken/wsse:Password */
	char *bst_value_type; /* wsse:Security/wsse:BinarySecurityToken/@ValueType (header) */
	char *bst_text;       /* its text, still base64 */
	xmlNodePtr body;      /* first element child of s:Body */
} mdm_soap_req_t;

/* Process-wide libxml2 setup; call once from main() before threads start (parse also makes
 * sure it ran, through pthread_once). cleanup only at exit, after every thread is done. */
void mdm_soap_init(void);
void mdm_soap_cleanup(void);

/* Parses XML from memory the one safe way every module uses: no network, no DTD (a DOCTYPE
 * stops the parser at once), no entities but the predefined ones, errors kept in this parse
 * (thread-safe). Caller frees the document (xmlFreeDoc). NULL with MDM_E_MESSAGE_FORMAT
 * ("empty <what>", "XML with a DTD or entities is refused", "malformed XML (line N): ...")
 * or MDM_E_INTERNAL. `what` names the input in messages ("request body", "message"). */
xmlDocPtr mdm_xml_read(const char *buf, size_t len, const char *what, mdm_err_t *err);

/* Parses a SOAP 1.2 (or 1.1) envelope. Returns NULL and MDM_E_MESSAGE_FORMAT for malformed
 * XML, a DTD or any non-predefined entity, a root that is not an Envelope, or a missing or
 * empty Body. Safe to call from several threads at once; libxml2 prints nothing. Caller owns
 * the result (mdm_soap_req_destroy). */
mdm_soap_req_t *mdm_soap_parse(const char *buf, size_t len, mdm_err_t *err);
void mdm_soap_req_destroy(mdm_soap_req_t **self);

/* Node helpers. ns NULL matches an element in no namespace. */
int mdm_xml_is(xmlNodePtr n, const char *ns, const char *name);
/* First element child of parent that matches, or NULL. */
xmlNodePtr mdm_xml_child(xmlNodePtr parent, const char *ns, const char *name);
/* Next element sibling after node that matches, or NULL. */
xmlNodePtr mdm_xml_next(xmlNodePtr node, const char *ns, const char *name);
/* Text content of node (all descendant text and CDATA), trimmed. Caller frees with free().
 * NULL when node is NULL or memory ran out. */
char *mdm_xml_text(xmlNodePtr node);
/* Attribute value, trimmed, looked up without a namespace first and then in ns (so both
 * ValueType= and wsse:ValueType= work). Caller frees with free(); NULL when absent. */
char *mdm_xml_attr(xmlNodePtr node, const char *name, const char *ns);

/* Copies in (NULL: "nothing") into out[size] as printable ASCII, other bytes as '?', cut to
 * fit: for request-derived words inside error texts, which end up in logs, JSON (valid
 * UTF-8 only) and fault reasons, and are truncated at 256 bytes by mdm_err_set. */
const char *mdm_xml_ascii(const char *in, char *out, size_t size);

/* Builders shared by the reply modules. The buffer's sticky failure flag is checked once by
 * the caller (mdm_buf_steal returns NULL). */

/* Writes a fresh random (v4) GUID (mdm_uuid4), lower-case, 36 chars + NUL. Returns 0, or -1
 * when the CSPRNG failed (out is then "00000000-0000-0000-0000-000000000000"). */
int mdm_soap_guid(char out[37]);
/* Opens <s:Envelope xmlns:s xmlns:a><s:Header> with a:Action (mustUnderstand), ActivityId
 * when activity_id is non-NULL, and a:RelatesTo when relates_to is non-NULL. The header
 * stays open so a caller may add more (wsse:Security). */
void mdm_soap_begin(mdm_buf_t *b, const char *action, const char *relates_to, const char *activity_id);
/* Closes the header and opens the body. */
void mdm_soap_body(mdm_buf_t *b);
/* Closes the body and the envelope. */
void mdm_soap_end(mdm_buf_t *b);
/* Appends s for XML text or an attribute value: & < > " ' escaped, and anything XML 1.0
 * cannot carry (invalid UTF-8, control characters other than tab/CR/LF) replaced by '?', so
 * the reply stays well-formed whatever the caller passes (error texts truncated mid
 * character, bytes echoed from a request). NULL appends nothing. */
void mdm_xml_put(mdm_buf_t *b, const char *s);
/* <name>text</name> with text written by mdm_xml_put; a NULL text writes <name/>. */
void mdm_soap_elem(mdm_buf_t *b, const char *name, const char *text);

#endif
