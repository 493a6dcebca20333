/* reg_webauth.c -- the federated login page (web authentication broker flow): GET shows a
 * login form for `appru`; a successful POST answers a page that auto-posts a short-lived
 * signed token in the field `wresult` to exactly that `appru` (checklist §2). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mdm_buf.h"
#include "mdm_log.h"
#include "mdm_token.h"
#include "reg.h"

char *reg_form_get(const char *form, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = form, *end = form + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq && (size_t)(eq - p) == nlen && !memcmp(p, name, nlen)) {
			size_t vlen = (size_t)(stop - eq - 1);
			char *raw = malloc(vlen + 1);
			if (raw == NULL)
				return NULL;
			for (size_t i = 0; i < vlen; i++)
				raw[i] = eq[1 + i] == '+' ? ' ' : eq[1 + i];
			raw[vlen] = '\0';
			int outlen = 0;
			char *dec = curl_easy_unescape(NULL, raw, (int)vlen, &outlen);
			free(raw);
			if (dec == NULL)
				return NULL;
			char *copy = NULL;
			if (memchr(dec, '\0', (size_t)outlen) == NULL)
				copy = strdup(dec); /* refuse embedded NULs */
			curl_free(dec);
			return copy;
		}
		p = stop + 1;
	}
	return NULL;
}

/* Only the web authentication broker's own scheme: the token must never be posted to an
 * arbitrary web site someone slipped into a link. */
static int s_valid_appru(const char *appru)
{
	return appru && strncasecmp(appru, "ms-app://", 9) == 0 && strlen(appru) < 512 &&
	       !strpbrk(appru, "<>\"'\r\n");
}

static void s_page(mdm_reply_t *rep, int status, mdm_buf_t *b)
{
	size_t len = 0;
	char *html = mdm_buf_steal(b, &len);
	mdm_reply_set(rep, html ? status : 500, "text/html; charset=UTF-8", html ? html : "",
		      html ? len : 0);
	mdm_reply_header(rep, "X-Frame-Options", "DENY");
	mdm_reply_header(rep, "Content-Security-Policy",
			 "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
			 "form-action ms-app: 'self'");
	free(html);
}

static void s_login_form(mdm_reply_t *rep, int status, const char *appru, const char *hint,
			 const char *message)
{
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<meta name=\"viewport\" content=\"width=device-width\">"
			 "<title>Sign in to enroll this device</title></head><body>"
			 "<h1>Sign in to enroll this device</h1>");
	if (message) {
		mdm_buf_puts(&b, "<p role=\"alert\">");
		mdm_buf_put_escaped(&b, message);
		mdm_buf_puts(&b, "</p>");
	}
	mdm_buf_puts(&b, "<form method=\"post\" action=\"/EnrollmentServer/Auth\">"
			 "<input type=\"hidden\" name=\"appru\" value=\"");
	mdm_buf_put_escaped(&b, appru);
	mdm_buf_puts(&b, "\"><label>Email <input name=\"username\" type=\"email\" "
			 "autocomplete=\"username\" required value=\"");
	mdm_buf_put_escaped(&b, hint ? hint : "");
	mdm_buf_puts(&b, "\"></label><label>Password <input name=\"password\" type=\"password\" "
			 "autocomplete=\"current-password\" required></label>"
			 "<button type=\"submit\">Sign in</button></form></body></html>");
	s_page(rep, status, &b);
}

static void s_plain_error(mdm_reply_t *rep, int status, const char *text)
{
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>Enrollment</title></head><body><p role=\"alert\">");
	mdm_buf_put_escaped(&b, text);
	mdm_buf_puts(&b, "</p></body></html>");
	s_page(rep, status, &b);
}

int reg_webauth(const mdm_msg_t *req, mdm_reply_t *rep, void *ctx)
{
	reg_t *self = ctx;
	const char *method = mdm_req_header(req, "method");
	if (!self->allow_federated) {
		s_plain_error(rep, 404, "Federated enrollment is not enabled on this server.");
		return 0;
	}
	if (method && !strcmp(method, "GET")) {
		const char *q = mdm_req_header(req, "query");
		char *appru = q ? reg_form_get(q, strlen(q), "appru") : NULL;
		char *hint = q ? reg_form_get(q, strlen(q), "login_hint") : NULL;
		if (!s_valid_appru(appru))
			s_plain_error(rep, 400, "This page is opened by Windows during enrollment "
						"(appru must be an ms-app:// address).");
		else
			s_login_form(rep, 200, appru, hint && strlen(hint) < 320 ? hint : NULL, NULL);
		free(appru);
		free(hint);
		return 0;
	}
	const char *ct = mdm_req_header(req, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		s_plain_error(rep, 415, "Expected a form submission.");
		return 0;
	}
	char *appru = reg_form_get(req->body, req->body_len, "appru");
	char *user = reg_form_get(req->body, req->body_len, "username");
	char *pw = reg_form_get(req->body, req->body_len, "password");
	if (!s_valid_appru(appru)) {
		s_plain_error(rep, 400, "appru must be an ms-app:// address.");
		goto done;
	}
	if (!user || !pw || strlen(user) > 320 || strlen(pw) > 1024) {
		s_login_form(rep, 400, appru, NULL, "Enter your email and password.");
		goto done;
	}
	mdm_err_t err = {0};
	char lower[321];
	if (mdm_userauth_check(self->users, user, pw, lower, sizeof lower, &err) != 0) {
		if (err.code == MDM_E_UNAVAILABLE) {
			mdm_reply_header(rep, "Retry-After", "5");
			s_plain_error(rep, 503,
				      "The server cannot check your password right now; retry later.");
		} else {
			s_login_form(rep, 401, appru, user,
				     strstr(err.text, "too many") ? "Too many failed sign-ins; try again later."
								 : "Wrong email or password.");
		}
		goto done;
	}
	char *token = mdm_token_issue(self->token_key, lower, self->cfg->token_ttl, time(NULL));
	if (token == NULL) {
		s_plain_error(rep, 500, "Internal error.");
		goto done;
	}
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>Signed in</title></head><body onload=\"document.forms[0].submit()\">"
			 "<form method=\"post\" action=\"");
	mdm_buf_put_escaped(&b, appru);
	mdm_buf_puts(&b, "\"><input type=\"hidden\" name=\"wresult\" value=\"");
	mdm_buf_put_escaped(&b, token);
	mdm_buf_puts(&b, "\"><noscript><button type=\"submit\">Continue</button></noscript>"
			 "</form></body></html>");
	log_info("federated login for %s", lower);
	s_page(rep, 200, &b);
	free(token);
done:
	free(appru);
	free(user);
	free(pw);
	return 0;
}
