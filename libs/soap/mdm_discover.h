/* mdm_discover.h -- MS-MDE2 Discover request parsing and DiscoverResponse building (checklist §1). */
#ifndef MDM_DISCOVER_H
#define MDM_DISCOVER_H

#include <stddef.h>

#include "mdm_err.h"
#include "mdm_soap.h"

/* Bits of mdm_discover_req_t.auth_policies (what the client offers). */
#define MDM_AUTH_ONPREMISE 1u
#define MDM_AUTH_FEDERATED 2u
#define MDM_AUTH_CERTIFICATE 4u

/* Every field is trimmed and "" when absent, empty or xsi:nil. */
typedef struct {
	char email[321];              /* e-mail/UPN, "domain\user", or "" (programmatic) */
	char request_version[16];     /* "4.0", "5.0", ...; "" from Windows 8.1 */
	char device_type[64];         /* CIMClient_Windows, WindowsPhone, ... */
	char application_version[64]; /* dotted quad */
	char os_edition[16];          /* decimal PRODUCT_* value */
	char os_version[64];          /* certificate-auth requests only */
	unsigned auth_policies;       /* MDM_AUTH_* bits; unknown policies are ignored */
} mdm_discover_req_t;

/* Reads Discover/request from a parsed request. The body must be Discover in the
 * discovery namespace (with or without trailing '/') with a request child. Returns 0, or
 * -1 with MDM_E_MESSAGE_FORMAT (wrong body, no request, a value longer than its field). */
int mdm_discover_parse(const mdm_soap_req_t *req, mdm_discover_req_t *out, mdm_err_t *err);

/* Builds the whole DiscoverResponse envelope: a:Action DiscoverResponse (mustUnderstand),
 * a fresh ActivityId, a:RelatesTo = relates_to (omitted when NULL), then DiscoverResult
 * with AuthPolicy, EnrollmentVersion (omitted when NULL: Windows 8.1),
 * EnrollmentPolicyServiceUrl (omitted when NULL), EnrollmentServiceUrl and
 * AuthenticationServiceUrl (only when non-NULL, i.e. Federated). Every value is
 * XML-escaped and written without surrounding whitespace. Returns a NUL-terminated string
 * the caller frees, its length in *len (len may be NULL); NULL when auth_policy or
 * enrollment_url is NULL or memory ran out. */
char *mdm_discover_response(const char *relates_to, const char *auth_policy,
			    const char *enrollment_version, const char *policy_url,
			    const char *enrollment_url, const char *auth_url, size_t *len);

#endif
