/* mdm_soap_reply.c -- SOAP envelopes and faults as bus replies. */
#include "mdm_soap_reply.h"

#include <stdlib.h>

#include "mdm_fault.h"
#include "mdm_log.h"

void mdm_reply_soap(mdm_reply_t *rep, char *envelope, size_t len, const char *relates_to)
{
	if (envelope == NULL) {
		mdm_err_t err = {0};
		mdm_err_set(&err, MDM_E_INTERNAL, "internal error while building the answer");
		mdm_reply_soap_fault(rep, relates_to, &err);
		return;
	}
	mdm_reply_set(rep, 200, MDM_SOAP_CONTENT_TYPE, envelope, len);
	free(envelope);
}

void mdm_reply_soap_fault(mdm_reply_t *rep, const char *relates_to, const mdm_err_t *err)
{
	mdm_code_t code = err->code != MDM_OK ? err->code : MDM_E_INTERNAL;
	const char *text = err->text[0] ? err->text : "internal error";
	size_t len = 0;
	char *body = code == MDM_E_NOT_ELIGIBLE_RENEW
			     ? mdm_soap_fault_detail(relates_to, NULL, code, "NotEligibleToRenew",
						     text, &len)
			     : mdm_soap_fault(relates_to, NULL, code, text, &len);
	int status = code == MDM_E_UNAVAILABLE ? 503 : code == MDM_E_TOO_LARGE ? 413 : 500;
	if (code == MDM_E_UNAVAILABLE)
		mdm_reply_header(rep, "Retry-After", "5");
	log_info("soap fault %s: %s", mdm_code_name(code), text);
	mdm_reply_set(rep, status, MDM_SOAP_CONTENT_TYPE, body ? body : "", body ? len : 0);
	free(body);
}
