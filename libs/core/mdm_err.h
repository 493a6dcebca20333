/* mdm_err.h -- caller-owned error record (code + text); the first error recorded wins. */
#ifndef MDM_ERR_H
#define MDM_ERR_H

/* Error codes. The SOAP ones map 1:1 onto the MS-MDE2 fault subcodes (see mdm_soap.h);
 * the others map onto HTTP statuses at the gateway boundary. */
typedef enum {
	MDM_OK = 0,
	MDM_E_MESSAGE_FORMAT,     /* s:MessageFormat      0x80180001, HTTP 400 */
	MDM_E_AUTHENTICATION,     /* s:Authentication     0x80180002, HTTP 401 */
	MDM_E_AUTHORIZATION,      /* s:Authorization      0x80180003, HTTP 403 */
	MDM_E_CERT_REQUEST,       /* s:CertificateRequest 0x80180004, HTTP 400 */
	MDM_E_ENROLLMENT_SERVER,  /* s:EnrollmentServer   0x80180005, HTTP 500 */
	MDM_E_INTERNAL,           /* a:InternalServiceFault 0x80180006, HTTP 500 */
	MDM_E_UNAVAILABLE,        /* dependency down (Redis, a service): HTTP 503 + Retry-After */
	MDM_E_NOT_ELIGIBLE_RENEW, /* s:Authorization + detail NotEligibleToRenew 0x80180016 */
	MDM_E_NOT_FOUND,          /* HTTP 404 */
	MDM_E_TOO_LARGE,          /* HTTP 413 */
	MDM_E_BAD_REQUEST,        /* HTTP 400 (JSON APIs) */
	MDM_E_CONFLICT,           /* HTTP 409 */
	MDM_E__COUNT
} mdm_code_t;

typedef struct {
	mdm_code_t code;
	char text[256];
} mdm_err_t;

/* Records code and printf-style text unless an error is already recorded. err may be NULL.
 * Always returns -1 so callers can write `return mdm_err_set(...)`. */
int mdm_err_set(mdm_err_t *err, mdm_code_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mdm_err_clear(mdm_err_t *err);
/* Stable lower-case name of a code ("message_format", ...), for JSON errors and logs. */
const char *mdm_code_name(mdm_code_t code);
/* HTTP status a code maps to at the gateway boundary. */
int mdm_code_http_status(mdm_code_t code);

#endif
