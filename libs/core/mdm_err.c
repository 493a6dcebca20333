/* mdm_err.c -- the error record, and the code -> name / HTTP status tables. */
#include "mdm_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int http;
} s_codes[MDM_E__COUNT] = {
	[MDM_OK] = {"ok", 200},
	[MDM_E_MESSAGE_FORMAT] = {"message_format", 400},
	[MDM_E_AUTHENTICATION] = {"authentication", 401},
	[MDM_E_AUTHORIZATION] = {"authorization", 403},
	[MDM_E_CERT_REQUEST] = {"certificate_request", 400},
	[MDM_E_ENROLLMENT_SERVER] = {"enrollment_server", 500},
	[MDM_E_INTERNAL] = {"internal", 500},
	[MDM_E_UNAVAILABLE] = {"unavailable", 503},
	[MDM_E_NOT_ELIGIBLE_RENEW] = {"not_eligible_to_renew", 403},
	[MDM_E_NOT_FOUND] = {"not_found", 404},
	[MDM_E_TOO_LARGE] = {"too_large", 413},
	[MDM_E_BAD_REQUEST] = {"bad_request", 400},
	[MDM_E_CONFLICT] = {"conflict", 409},
};

int mdm_err_set(mdm_err_t *err, mdm_code_t code, const char *fmt, ...)
{
	if (err == NULL || err->code != MDM_OK)
		return -1;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->text, sizeof err->text, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof err->text) {
		/* truncated: do not leave half a UTF-8 sequence (JSON encoders refuse it) */
		size_t len = sizeof err->text - 1;
		while (len > 0 && ((unsigned char)err->text[len - 1] & 0xC0) == 0x80)
			len--;
		if (len > 0 && ((unsigned char)err->text[len - 1] & 0x80))
			len--;
		err->text[len] = '\0';
	}
	return -1;
}

void mdm_err_clear(mdm_err_t *err)
{
	if (err) {
		err->code = MDM_OK;
		err->text[0] = '\0';
	}
}

const char *mdm_code_name(mdm_code_t code)
{
	if ((int)code < 0 || code >= MDM_E__COUNT)
		return "internal";
	return s_codes[code].name;
}

int mdm_code_http_status(mdm_code_t code)
{
	if ((int)code < 0 || code >= MDM_E__COUNT)
		return 500;
	return s_codes[code].http;
}
