/* pki_xcep.c -- MS-XCEP GetPolicies: the certificate policy the device builds its CSR by. */
#include <stdlib.h>

#include "mdm_log.h"
#include "mdm_soap_reply.h"
#include "mdm_xcep.h"
#include "pki.h"

int pki_xcep(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	pki_t *self = ctx;
	mdm_err_t err = {0};
	pki_identity_t id;
	mdm_soap_req_t *soap = mdm_soap_parse(req->body, req->body_len, &err);
	if (soap == NULL || mdm_xcep_parse(soap, &err) != 0 ||
	    pki_authenticate(self, req, soap, &id, &err) != 0) {
		mdm_reply_soap_fault(rep, soap ? soap->message_id : NULL, &err);
		mdm_soap_req_destroy(&soap);
		return 0;
	}
	mdm_xcep_policy_t policy = {
		.min_key_bits = (int)self->cfg->min_key_bits,
		.validity_seconds = self->cfg->cert_validity_days * 86400,
		.renewal_seconds = self->cfg->renew_period_days * 86400,
		.template_name = "MDMDeviceEnrollment",
		/* what the issued certificate allows: digitalSignature + keyEncipherment */
		.key_usage = MDM_XCEP_KEY_SIGN | MDM_XCEP_KEY_DECRYPT,
	};
	size_t len = 0;
	char *body = mdm_xcep_response(soap->message_id, &policy, &len);
	mdm_reply_soap(rep, body, len, soap->message_id);
	mdm_soap_req_destroy(&soap);
	return 0;
}
