/* mdm_provdoc.h -- the wap-provisioningdoc returned inside the RSTRC: certificates, w7 APPLICATION, DMClient (checklist §4.3). */
#ifndef MDM_PROVDOC_H
#define MDM_PROVDOC_H

#include <stddef.h>

typedef struct {
	const char *ca_thumbprint;   /* upper-case SHA-1 hex of the root; NULL: no Root entry */
	const char *ca_der_b64;      /* its DER, base64 without line breaks */
	const char *cert_thumbprint; /* required: upper-case SHA-1 hex of the issued cert */
	const char *cert_der_b64;    /* required: its DER, base64 without line breaks */
	const char *cert_subject_cn; /* issued cert's CN for SSLCLIENTCERTSEARCHCRITERIA; NULL: omit */
	int device_store;            /* 1: My/System (EnrollmentType Device), 0: My/User (Full) */
	const char *provider_id;     /* required: PROVIDER-ID == DMClient/Provider/<id> */
	const char *server_name;     /* w7 NAME; NULL: provider_id */
	const char *mgmt_url;        /* w7 ADDR; required unless renewal_only */
	const char *renew_url;       /* NULL: no WSTEP/Renew block (server does no ROBO renewal) */
	int renew_period_days;       /* RenewPeriod; <= 0: CSP default 42 */
	int renew_retry_days;        /* RetryInterval; <= 0: CSP default 7 */
	const char *ent_dmid;        /* DMClient EntDMID; NULL ok */
	const char *upn;             /* DMClient UPN; NULL ok */
	const char *device_name;     /* DMClient EntDeviceName; NULL ok */
	int renewal_only;            /* 1: only the new cert (+root) and APPLICATION/PROVIDER-ID */
} mdm_provdoc_t;

/* Builds the document as one line of XML (with an XML declaration), every value
 * XML-escaped once. Contents, in this order: CertificateStore Root/System/<ca> (when
 * given), My/<User|System>/<thumbprint>/EncodedCertificate with PrivateKeyContainer
 * (a sibling of the thumbprint node on enrollment, nested in it on renewal -- each as in
 * Microsoft's sample for that case), My/WSTEP/Renew (when renew_url); then APPLICATION
 * w7 (APPID, PROVIDER-ID, NAME, ADDR, retry/backoff, BACKCOMPATRETRYDISABLED,
 * DEFAULTENCODING xml, SSLCLIENTCERTSEARCHCRITERIA when cert_subject_cn, both APPAUTH
 * blocks with dummy DIGEST values) and DMClient/Provider/<id> with EntDMID, UPN,
 * EntDeviceName and a Poll schedule, every parm with a datatype. With renewal_only, only
 * the certificates and APPLICATION/PROVIDER-ID. Returns a string the caller frees, length
 * in *len (may be NULL); NULL when a required field is missing/empty or memory ran out. */
char *mdm_provdoc_build(const mdm_provdoc_t *p, size_t *len);

#endif
