/* mdm_fault.h -- SOAP 1.2 faults with the MS-MDE2 subcodes, for refusing discovery, policy and enrollment (checklist §0). */
#ifndef MDM_FAULT_H
#define MDM_FAULT_H

#include <stddef.h>

#include "mdm_err.h"

/* The qualified s:Subcode/s:Value for code: "s:MessageFormat", "s:Authentication",
 * "s:Authorization" (also MDM_E_NOT_ELIGIBLE_RENEW), "s:CertificateRequest",
 * "s:EnrollmentServer", "a:InternalServiceFault" (MDM_E_INTERNAL, MDM_E_UNAVAILABLE and any
 * code without a SOAP meaning). Codes from the JSON side map on their nearest meaning:
 * BAD_REQUEST/TOO_LARGE -> MessageFormat, NOT_FOUND/CONFLICT -> EnrollmentServer. */
const char *mdm_soap_fault_subcode(mdm_code_t code);

/* Builds a whole fault envelope: a:Action = action (NULL: the WS-Addressing soap/fault
 * action), a:RelatesTo when relates_to is non-NULL, s:Code/s:Value s:Receiver with the
 * subcode above, s:Reason/s:Text xml:lang="en-us" = reason (escaped; NULL gives the code's
 * name). MDM_E_NOT_ELIGIBLE_RENEW also gets s:Detail/deviceenrollmentserviceerror with
 * errortype NotEligibleToRenew, message = reason and a fresh traceid. Returns a string the
 * caller frees, length in *len (may be NULL); NULL only when memory ran out. */
char *mdm_soap_fault(const char *relates_to, const char *action, mdm_code_t code, const char *reason,
		     size_t *len);

/* Same, with an explicit deviceenrollmentserviceerror errortype (DeviceCapReached,
 * DeviceNotSupported, NotSupported, NotEligibleToRenew, InMaintenance, UserLicense,
 * InvalidEnrollmentData, CustomServerError -- Windows 10 20H2+ shows reason to the user for
 * the last one). errortype NULL: no s:Detail. */
char *mdm_soap_fault_detail(const char *relates_to, const char *action, mdm_code_t code,
			    const char *errortype, const char *reason, size_t *len);

#endif
