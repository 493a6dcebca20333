/* mdm_xcep.h -- MS-XCEP GetPolicies request check and GetPoliciesResponse building (checklist §3). */
#ifndef MDM_XCEP_H
#define MDM_XCEP_H

#include <stddef.h>

#include "mdm_err.h"
#include "mdm_soap.h"

/* The one certificate template we advertise. Zero/NULL fields take the defaults below. */
typedef struct {
	int min_key_bits;          /* minimalKeyLength */
	long validity_seconds;     /* certificateValidity/validityPeriodSeconds */
	long renewal_seconds;      /* certificateValidity/renewalPeriodSeconds */
	const char *template_name; /* attributes/commonName */
	unsigned key_usage;        /* privateKeyAttributes/keyUsageProperty (CNG NCRYPT_ALLOW_*
				    * flags: 1 decrypt, 2 sign, 4 key agreement); 0 = nil */
} mdm_xcep_policy_t;

#define MDM_XCEP_KEY_DECRYPT 0x1u
#define MDM_XCEP_KEY_SIGN 0x2u

#define MDM_XCEP_DEFAULT_KEY_BITS 2048
#define MDM_XCEP_DEFAULT_VALIDITY (365L * 86400L)
#define MDM_XCEP_DEFAULT_RENEWAL (42L * 86400L)
#define MDM_XCEP_DEFAULT_TEMPLATE "MDMClientAuth"

/* Checks that the body is GetPolicies in the XCEP namespace. client/lastUpdate and
 * requestFilter are ignored on purpose: we always answer the full policy. Returns 0, or -1
 * with MDM_E_MESSAGE_FORMAT. */
int mdm_xcep_parse(const mdm_soap_req_t *req, mdm_err_t *err);

/* Builds the GetPoliciesResponse envelope (a:Action GetPoliciesResponse, a:RelatesTo when
 * relates_to is non-NULL). One policy, schema 3, enroll=true autoEnroll=false, SHA-256
 * (2.16.840.1.101.3.4.2.1, group 4, oIDReferenceID 0, also the policyOIDReference as in
 * MS-MDE2 4.2.2) and RSA (1.2.840.113549.1.1.1, group 3, oIDReferenceID 1); crypto
 * providers TPM then software KSP. Children follow the XSD's sequences, so the body
 * validates against ms-xcep.xsd. policy may be NULL (all defaults). Returns a string the
 * caller frees and its length in *len (len may be NULL); NULL on negative sizes or when
 * memory ran out. */
char *mdm_xcep_response(const char *relates_to, const mdm_xcep_policy_t *policy, size_t *len);

#endif
