/* mdm_discover.c -- Discover request fields in, DiscoverResponse envelope out. */
#include "mdm_discover.h"

#include <stdlib.h>
#include <string.h>

#include "mdm_buf.h"

#define S_NS_SLASH MDM_NS_DISCOVERY "/"

/* The docs' samples use the namespace with a trailing '/', real clients without. */
static int s_is(xmlNodePtr n, const char *name)
{
	return mdm_xml_is(n, MDM_NS_DISCOVERY, name) || mdm_xml_is(n, S_NS_SLASH, name);
}

static xmlNodePtr s_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = mdm_xml_child(parent, MDM_NS_DISCOVERY, name);
	return n ? n : mdm_xml_child(parent, S_NS_SLASH, name);
}

/* Copies the trimmed text of request/<name> into out[size]. Absent, empty and xsi:nil all
 * give "". Returns 0, or -1 with an error when the value does not fit. */
static int s_copy(xmlNodePtr request, const char *name, char *out, size_t size, mdm_err_t *err)
{
	out[0] = '\0';
	xmlNodePtr n = s_child(request, name);
	if (n == NULL)
		return 0;
	char *text = mdm_xml_text(n);
	if (text == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
	size_t len = strlen(text);
	if (len >= size) {
		free(text);
		return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "Discover %s is too long (%zu bytes)", name, len);
	}
	memcpy(out, text, len + 1);
	free(text);
	return 0;
}

/* Lenient on purpose: the XSD makes every field mandatory, but Windows 8.1 sends three and
 * programmatic enrollments an empty EmailAddress; the discovery handler decides what it
 * needs. Only the shape (Discover/request) and the field sizes are enforced here. */
int mdm_discover_parse(const mdm_soap_req_t *req, mdm_discover_req_t *out, mdm_err_t *err)
{
	if (req == NULL || out == NULL)
		return mdm_err_set(err, MDM_E_INTERNAL, "mdm_discover_parse: no request");
	memset(out, 0, sizeof *out);
	char name[48];
	if (!s_is(req->body, "Discover"))
		return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "expected a Discover body, got %s",
				   mdm_xml_ascii(req->body ? (const char *)req->body->name : NULL, name, sizeof name));
	xmlNodePtr request = s_child(req->body, "request");
	if (request == NULL)
		return mdm_err_set(err, MDM_E_MESSAGE_FORMAT, "Discover without a request element");

	if (s_copy(request, "EmailAddress", out->email, sizeof out->email, err) != 0 ||
	    s_copy(request, "RequestVersion", out->request_version, sizeof out->request_version, err) != 0 ||
	    s_copy(request, "DeviceType", out->device_type, sizeof out->device_type, err) != 0 ||
	    s_copy(request, "ApplicationVersion", out->application_version, sizeof out->application_version, err) != 0 ||
	    s_copy(request, "OSEdition", out->os_edition, sizeof out->os_edition, err) != 0 ||
	    s_copy(request, "OSVersion", out->os_version, sizeof out->os_version, err) != 0)
		return -1;

	xmlNodePtr policies = s_child(request, "AuthPolicies");
	for (xmlNodePtr p = policies ? policies->children : NULL; p; p = p->next) {
		if (!s_is(p, "AuthPolicy"))
			continue;
		char *v = mdm_xml_text(p);
		if (v == NULL)
			return mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		if (strcmp(v, "OnPremise") == 0)
			out->auth_policies |= MDM_AUTH_ONPREMISE;
		else if (strcmp(v, "Federated") == 0)
			out->auth_policies |= MDM_AUTH_FEDERATED;
		else if (strcmp(v, "Certificate") == 0)
			out->auth_policies |= MDM_AUTH_CERTIFICATE;
		free(v);
	}
	return 0;
}

/* Built as text rather than with libxml2's tree API: the reply is small and fixed, and a
 * string builder keeps every byte (no pretty-printing, no whitespace in values) visible. */
char *mdm_discover_response(const char *relates_to, const char *auth_policy,
			    const char *enrollment_version, const char *policy_url,
			    const char *enrollment_url, const char *auth_url, size_t *len)
{
	mdm_buf_t b = MDM_BUF_INIT;
	char activity[37];

	if (len)
		*len = 0;
	if (auth_policy == NULL || enrollment_url == NULL)
		return NULL;
	/* ActivityId is optional: without randomness, leave it out rather than fail. */
	int have_activity = mdm_soap_guid(activity) == 0;
	mdm_soap_begin(&b, MDM_ACTION_DISCOVER_RESPONSE, relates_to, have_activity ? activity : NULL);
	mdm_soap_body(&b);
	mdm_buf_puts(&b, "<DiscoverResponse xmlns=\"" MDM_NS_DISCOVERY "\"><DiscoverResult>");
	mdm_soap_elem(&b, "AuthPolicy", auth_policy);
	if (enrollment_version)
		mdm_soap_elem(&b, "EnrollmentVersion", enrollment_version);
	if (policy_url)
		mdm_soap_elem(&b, "EnrollmentPolicyServiceUrl", policy_url);
	mdm_soap_elem(&b, "EnrollmentServiceUrl", enrollment_url);
	if (auth_url)
		mdm_soap_elem(&b, "AuthenticationServiceUrl", auth_url);
	mdm_buf_puts(&b, "</DiscoverResult></DiscoverResponse>");
	mdm_soap_end(&b);
	return mdm_buf_steal(&b, len);
}
