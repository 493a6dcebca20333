/* disco.c -- Discover: pick an auth policy the device offered, the enrollment version,
 * and hand out the policy/enrollment/authentication URLs built from one public base URL. */
#include "disco.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mdm_discover.h"
#include "mdm_log.h"
#include "mdm_soap.h"
#include "mdm_soap_reply.h"

static const struct {
	const char *name;
	unsigned bit;
} s_policies[] = {{"OnPremise", MDM_AUTH_ONPREMISE}, {"Federated", MDM_AUTH_FEDERATED}};

int disco_config_finish(disco_config_t *cfg)
{
	if (!cfg->public_url[0])
		snprintf(cfg->public_url, sizeof cfg->public_url, "https://localhost:%ld",
			 cfg->https_port);
	size_t n = strlen(cfg->public_url);
	while (n && cfg->public_url[n - 1] == '/')
		cfg->public_url[--n] = '\0';
	if (strncasecmp(cfg->public_url, "https://", 8) != 0) {
		log_err("MDM_PUBLIC_URL must be an https:// URL (got %s)", cfg->public_url);
		return -1;
	}
	char copy[128];
	int n_policies = 0;
	snprintf(copy, sizeof copy, "%s", cfg->auth_policies);
	for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save), n_policies++) {
		int known = 0;
		for (size_t i = 0; i < sizeof s_policies / sizeof s_policies[0]; i++)
			known |= !strcasecmp(tok, s_policies[i].name);
		if (!known) {
			log_err("MDM_AUTH_POLICIES: unknown policy %s (OnPremise, Federated)", tok);
			return -1;
		}
	}
	if (n_policies == 0) {
		log_err("MDM_AUTH_POLICIES is empty: enable OnPremise and/or Federated");
		return -1;
	}
	return 0;
}

const char *disco_enrollment_version(const char *requested, int *bad)
{
	*bad = 0;
	if (requested[0] == '\0')
		return NULL;
	/* xsd:decimal: digits with an optional fraction; compare numerically */
	size_t ip = strspn(requested, "0123456789");
	size_t fp = requested[ip] == '.' ? strspn(requested + ip + 1, "0123456789") : 0;
	size_t total = ip + (requested[ip] == '.' ? 1 + fp : 0);
	if (ip == 0 || requested[total] != '\0' || (requested[ip] == '.' && fp == 0) || ip > 6) {
		*bad = 1; /* not digits[.digits]: no signs, exponents or hex */
		return NULL;
	}
	double v = strtod(requested, NULL);
	/* 5.0 and later switch on attestation fields we do not handle (checklist §1) */
	if (v >= 4.0)
		return "4.0";
	if (v >= 3.0)
		return "3.0";
	return NULL;
}

/* First configured policy the device offered. A request without AuthPolicies comes from
 * an MS-MDE (Windows 8.1 / Phone 8.1) client, which knows OnPremise and Federated. */
static const char *s_choose_policy(const disco_config_t *cfg, unsigned offered)
{
	if (offered == 0)
		offered = MDM_AUTH_ONPREMISE | MDM_AUTH_FEDERATED;
	char copy[128];
	snprintf(copy, sizeof copy, "%s", cfg->auth_policies);
	for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save))
		for (size_t i = 0; i < sizeof s_policies / sizeof s_policies[0]; i++)
			if (!strcasecmp(tok, s_policies[i].name) && (offered & s_policies[i].bit))
				return s_policies[i].name;
	return NULL;
}

int disco_discover(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	const disco_config_t *cfg = ctx;
	const char *method = mdm_req_header(req, "method");
	if (method && !strcmp(method, "GET")) {
		mdm_reply_set(rep, 200, "text/plain; charset=utf-8", "", 0);
		return 0;
	}
	mdm_err_t err = {0};
	mdm_discover_req_t d;
	mdm_soap_req_t *soap = mdm_soap_parse(req->body, req->body_len, &err);
	if (soap == NULL || mdm_discover_parse(soap, &d, &err) != 0)
		goto fault;
	int bad = 0;
	const char *version = disco_enrollment_version(d.request_version, &bad);
	if (bad) {
		mdm_err_set(&err, MDM_E_MESSAGE_FORMAT, "RequestVersion '%s' is not a decimal number",
			    d.request_version);
		goto fault;
	}
	const char *policy = s_choose_policy(cfg, d.auth_policies);
	if (policy == NULL) {
		mdm_err_set(&err, MDM_E_MESSAGE_FORMAT,
			    "none of the offered authentication policies is enabled here (%s)",
			    cfg->auth_policies);
		goto fault;
	}
	/* Windows 8.1 / Phone 8.1 (MS-MDE, no enrollment version) and Windows 10/11 get their
	 * own enrollment endpoints; both on the same host as the policy service. */
	char policy_url[600], enroll_url[600], auth_url[600];
	snprintf(policy_url, sizeof policy_url, "%s/EnrollmentServer/PolicyEnrollmentWebservice.svc",
		 cfg->public_url);
	snprintf(enroll_url, sizeof enroll_url, "%s/EnrollmentServer/%s", cfg->public_url,
		 version ? "Win10DeviceEnrollmentWebservice.svc" : "DeviceEnrollmentWebservice.svc");
	snprintf(auth_url, sizeof auth_url, "%s/EnrollmentServer/Auth", cfg->public_url);
	size_t len = 0;
	char *body = mdm_discover_response(soap->message_id, policy, version, policy_url, enroll_url,
					   !strcmp(policy, "Federated") ? auth_url : NULL, &len);
	log_info("discover %s (RequestVersion %s, %s): %s, EnrollmentVersion %s",
		 d.email[0] ? d.email : "(no email)", d.request_version[0] ? d.request_version : "-",
		 d.device_type[0] ? d.device_type : "-", policy, version ? version : "-");
	mdm_reply_soap(rep, body, len, soap->message_id);
	mdm_soap_req_destroy(&soap);
	return 0;
fault:
	mdm_reply_soap_fault(rep, soap ? soap->message_id : NULL, &err);
	mdm_soap_req_destroy(&soap);
	return 0;
}
