/* mdm_xcep.c -- GetPolicies in, GetPoliciesResponse (one SHA-256/RSA template) out. */
#include "mdm_xcep.h"

#include "mdm_buf.h"

int mdm_xcep_parse(const mdm_soap_req_t *req, mdm_err_t *err)
{
	if (req == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "mdm_xcep_parse: no request");
	char name[48];
	if (!mdm_xml_is(req->body, MDM_NS_XCEP, "GetPolicies"))
		return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "expected a GetPolicies body, got %s",
				   mdm_xml_ascii(req->body ? (const char *)req->body->name : NULL, name, sizeof name));
	return 0;
}

/* Writes <name xsi:nil="true"/>; xsi is declared on GetPoliciesResponse. */
static void s_nil(mdm_buf_t *b, const char *name)
{
	mdm_buf_printf(b, "<%s xsi:nil=\"true\"/>", name);
}

/* The element order below is the XSD's xs:sequence order (Response, CertificateEnrollment-
 * Policy, Attributes, PrivateKeyAttributes, OID); the client parses with that schema, so
 * an element out of place makes it fall back to a 2048-bit SHA-1 request. Attestation
 * elements (EnrollmentVersion >= 5.0) are deliberately not emitted. */
char *mdm_xcep_response(const char *relates_to, const mdm_xcep_policy_t *policy, size_t *len)
{
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_xcep_policy_t p = {MDM_XCEP_DEFAULT_KEY_BITS, MDM_XCEP_DEFAULT_VALIDITY,
			       MDM_XCEP_DEFAULT_RENEWAL, MDM_XCEP_DEFAULT_TEMPLATE, 0};

	if (len)
		*len = 0;
	if (policy) {
		if (policy->min_key_bits < 0 || policy->validity_seconds < 0 || policy->renewal_seconds < 0)
			return NULL;
		if (policy->min_key_bits)
			p.min_key_bits = policy->min_key_bits;
		if (policy->validity_seconds)
			p.validity_seconds = policy->validity_seconds;
		if (policy->renewal_seconds)
			p.renewal_seconds = policy->renewal_seconds;
		if (policy->template_name && policy->template_name[0])
			p.template_name = policy->template_name;
		p.key_usage = policy->key_usage;
	}

	mdm_soap_begin(&b, MDM_ACTION_GETPOLICIES_RESPONSE, relates_to, NULL);
	mdm_soap_body(&b);
	mdm_buf_puts(&b, "<GetPoliciesResponse xmlns=\"" MDM_NS_XCEP "\" xmlns:xsi=\"" MDM_NS_XSI "\">");
	mdm_buf_puts(&b, "<response><policyID/>");
	s_nil(&b, "policyFriendlyName");
	s_nil(&b, "nextUpdateHours");
	s_nil(&b, "policiesNotChanged");
	mdm_buf_puts(&b, "<policies><policy><policyOIDReference>0</policyOIDReference>");
	s_nil(&b, "cAs");
	mdm_buf_puts(&b, "<attributes>");
	mdm_soap_elem(&b, "commonName", p.template_name);
	mdm_buf_puts(&b, "<policySchema>3</policySchema>");
	mdm_buf_printf(&b,
		       "<certificateValidity><validityPeriodSeconds>%ld</validityPeriodSeconds>"
		       "<renewalPeriodSeconds>%ld</renewalPeriodSeconds></certificateValidity>",
		       p.validity_seconds, p.renewal_seconds);
	mdm_buf_puts(&b, "<permission><enroll>true</enroll><autoEnroll>false</autoEnroll></permission>");
	mdm_buf_printf(&b, "<privateKeyAttributes><minimalKeyLength>%d</minimalKeyLength>", p.min_key_bits);
	s_nil(&b, "keySpec");
	if (p.key_usage)
		mdm_buf_printf(&b, "<keyUsageProperty>%u</keyUsageProperty>", p.key_usage);
	else
		s_nil(&b, "keyUsageProperty");
	s_nil(&b, "permissions");
	s_nil(&b, "algorithmOIDReference");
	mdm_buf_puts(&b, "<cryptoProviders><provider>Microsoft Platform Crypto Provider</provider>"
			 "<provider>Microsoft Software Key Storage Provider</provider></cryptoProviders>"
			 "</privateKeyAttributes>");
	mdm_buf_puts(&b, "<revision><majorRevision>101</majorRevision><minorRevision>0</minorRevision></revision>");
	s_nil(&b, "supersededPolicies");
	s_nil(&b, "privateKeyFlags");
	s_nil(&b, "subjectNameFlags");
	s_nil(&b, "enrollmentFlags");
	s_nil(&b, "generalFlags");
	mdm_buf_puts(&b, "<hashAlgorithmOIDReference>0</hashAlgorithmOIDReference>");
	s_nil(&b, "rARequirements");
	s_nil(&b, "keyArchivalAttributes");
	s_nil(&b, "extensions");
	mdm_buf_puts(&b, "</attributes></policy></policies></response>");
	s_nil(&b, "cAs");
	mdm_buf_puts(&b, "<oIDs>"
			 "<oID><value>2.16.840.1.101.3.4.2.1</value><group>4</group>"
			 "<oIDReferenceID>0</oIDReferenceID><defaultName>szOID_NIST_sha256</defaultName></oID>"
			 "<oID><value>1.2.840.113549.1.1.1</value><group>3</group>"
			 "<oIDReferenceID>1</oIDReferenceID><defaultName>szOID_RSA_RSA</defaultName></oID>"
			 "</oIDs></GetPoliciesResponse>");
	mdm_soap_end(&b);
	return mdm_buf_steal(&b, len);
}
