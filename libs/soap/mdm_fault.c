/* mdm_fault.c -- error code -> SOAP 1.2 Fault envelope with the MS-MDE2 subcode. */
#include "mdm_fault.h"

#include "mdm_buf.h"
#include "mdm_soap.h"

const char *mdm_soap_fault_subcode(mdm_code_t code)
{
	switch (code) {
	case MDM_E_MESSAGE_FORMAT:
	case MDM_E_BAD_REQUEST:
	case MDM_E_TOO_LARGE:
		return "s:MessageFormat";
	case MDM_E_AUTHENTICATION:
		return "s:Authentication";
	case MDM_E_AUTHORIZATION:
	case MDM_E_NOT_ELIGIBLE_RENEW:
		return "s:Authorization";
	case MDM_E_CERT_REQUEST:
		return "s:CertificateRequest";
	case MDM_E_ENROLLMENT_SERVER:
	case MDM_E_NOT_FOUND:
	case MDM_E_CONFLICT:
		return "s:EnrollmentServer";
	default:
		return "a:InternalServiceFault";
	}
}

char *mdm_soap_fault(const char *relates_to, const char *action, mdm_code_t code, const char *reason,
		     size_t *len)
{
	return mdm_soap_fault_detail(relates_to, action, code,
				     code == MDM_E_NOT_ELIGIBLE_RENEW ? "NotEligibleToRenew" : NULL, reason, len);
}

/* Standard SOAP 1.2 case (s:Fault, s:Code ...), not the all-lower-case of the docs'
 * samples: SOAP element names are case-sensitive. Both prefixes used in subcode values
 * (s, a) are declared on the Envelope by mdm_soap_begin. */
char *mdm_soap_fault_detail(const char *relates_to, const char *action, mdm_code_t code,
			    const char *errortype, const char *reason, size_t *len)
{
	mdm_buf_t b = MDM_BUF_INIT;

	if (len)
		*len = 0;
	if (reason == NULL)
		reason = mdm_code_name(code);
	mdm_soap_begin(&b, action ? action : MDM_ACTION_FAULT, relates_to, NULL);
	mdm_soap_body(&b);
	mdm_buf_puts(&b, "<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>");
	mdm_buf_puts(&b, mdm_soap_fault_subcode(code));
	mdm_buf_puts(&b, "</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-us\">");
	mdm_xml_put(&b, reason);
	mdm_buf_puts(&b, "</s:Text></s:Reason>");
	if (errortype) {
		char trace[37];
		mdm_soap_guid(trace); /* a zero GUID on RNG failure is still a valid traceid */
		mdm_buf_puts(&b, "<s:Detail><deviceenrollmentserviceerror xmlns=\"" MDM_NS_WSTEP "\">");
		mdm_soap_elem(&b, "errortype", errortype);
		mdm_soap_elem(&b, "message", reason);
		mdm_soap_elem(&b, "traceid", trace);
		mdm_buf_puts(&b, "</deviceenrollmentserviceerror></s:Detail>");
	}
	mdm_buf_puts(&b, "</s:Fault>");
	mdm_soap_end(&b);
	return mdm_buf_steal(&b, len);
}
