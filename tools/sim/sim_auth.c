/* sim_auth.c -- federated login: walks the WAB pages like the broker and keeps the wresult token. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "mdm_log.h"

#define SIM_MAX_FORMS 16
#define SIM_MAX_INPUTS 64

static htmlDocPtr s_html_parse(const sim_resp_t *resp, const char *url)
{
	if (resp->body.len == 0 || resp->body.len > 4u * 1024 * 1024)
		return NULL;
	return htmlReadMemory(resp->body.data, (int)resp->body.len, url, NULL,
			      HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
}

/* Collects elements called `name` under n in document order (the HTML parser lower-cases
 * element and attribute names). */
static void s_collect(xmlNodePtr n, const char *name, xmlNodePtr *out, int *count, int max)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcasecmp((const char *)n->name, name) == 0 && *count < max)
			out[(*count)++] = n;
		s_collect(n->children, name, out, count, max);
	}
}

static int s_attr_is(xmlNodePtr n, const char *attr, const char *want)
{
	char *v = sim_xml_attr(n, attr);
	int eq = v && strcasecmp(v, want) == 0;
	free(v);
	return eq;
}

static void s_form_field(mdm_buf_t *b, const char *name, const char *value)
{
	char *en = sim_url_encode(name), *ev = sim_url_encode(value ? value : "");
	if (en == NULL || ev == NULL)
		b->failed = 1;
	else
		mdm_buf_printf(b, "%s%s=%s", b->len ? "&" : "", en, ev);
	free(en);
	free(ev);
}

/* Fills the login form as a user would: every input keeps its value (hidden appru, and any
 * anti-forgery field the page has), username and password are typed in. */
static char *s_login_body(xmlNodePtr form, const char *email, const char *password)
{
	xmlNodePtr inputs[SIM_MAX_INPUTS];
	int n = 0, have_appru = 0, have_user = 0, have_pass = 0;
	mdm_buf_t b = MDM_BUF_INIT;
	s_collect(form->children, "input", inputs, &n, SIM_MAX_INPUTS);
	for (int i = 0; i < n; i++) {
		char *name = sim_xml_attr(inputs[i], "name");
		char *type = sim_xml_attr(inputs[i], "type");
		char *value = sim_xml_attr(inputs[i], "value");
		int skip = name == NULL || !*name ||
			   (type && (!strcasecmp(type, "submit") || !strcasecmp(type, "button") ||
				     !strcasecmp(type, "image") || !strcasecmp(type, "reset")));
		if (!skip) {
			if (strcmp(name, "username") == 0) {
				have_user = 1;
				s_form_field(&b, name, email);
			} else if (strcmp(name, "password") == 0) {
				have_pass = 1;
				s_form_field(&b, name, password);
			} else {
				have_appru |= strcmp(name, "appru") == 0;
				s_form_field(&b, name, value);
			}
		}
		free(name);
		free(type);
		free(value);
	}
	if (!have_appru)
		s_form_field(&b, "appru", SIM_APPRU);
	if (!have_user)
		s_form_field(&b, "username", email);
	if (!have_pass)
		s_form_field(&b, "password", password);
	return mdm_buf_steal(&b, NULL);
}

int sim_wab_login(const sim_tls_t *tls, const char *auth_url, const char *email,
		  const char *password, char **token)
{
	sim_http_t *http = NULL;
	sim_resp_t resp;
	htmlDocPtr page = NULL;
	char *e_appru = NULL, *e_hint = NULL, *start = NULL, *action = NULL, *post_url = NULL,
	     *body = NULL;
	mdm_buf_t ub = MDM_BUF_INIT;
	xmlNodePtr forms[SIM_MAX_FORMS];
	int nforms = 0, rc = SIM_ECHECK;

	memset(&resp, 0, sizeof resp);
	*token = NULL;
	http = sim_http_new(tls, 1); /* the broker is a browser: it keeps cookies */
	e_appru = sim_url_encode(SIM_APPRU);
	e_hint = sim_url_encode(email);
	check_mem(http && e_appru && e_hint);
	mdm_buf_printf(&ub, "%s%cappru=%s&login_hint=%s", auth_url, strchr(auth_url, '?') ? '&' : '?',
		       e_appru, e_hint);
	start = mdm_buf_steal(&ub, NULL);
	check_mem(start);

	/* 1. The login page. */
	rc = sim_http_request(http, "GET", start, NULL, NULL, 0, &resp);
	if (rc != SIM_OK)
		goto done;
	if (resp.status != 200) {
		rc = sim_http_status_fail("GET", start, &resp);
		goto done;
	}
	page = s_html_parse(&resp, start);
	if (page)
		s_collect(xmlDocGetRootElement(page), "form", forms, &nforms, SIM_MAX_FORMS);
	xmlNodePtr form = NULL;
	for (int i = 0; i < nforms && form == NULL; i++)
		if (s_attr_is(forms[i], "method", "post"))
			form = forms[i];
	if (form == NULL) {
		rc = sim_fail("GET %s: login page has no <form method=\"post\">", start);
		goto done;
	}
	action = sim_xml_attr(form, "action");
	post_url = sim_url_resolve(start, action);
	body = s_login_body(form, email, password);
	check_mem(post_url && body);
	sim_note("wab: login form posts to %s", post_url);
	xmlFreeDoc(page);
	page = NULL;
	sim_resp_free(&resp);

	/* 2. Submit; success is the end page whose form posts wresult to appru. */
	rc = sim_http_request(http, "POST", post_url, "application/x-www-form-urlencoded", body,
			      strlen(body), &resp);
	if (rc != SIM_OK)
		goto done;
	if (resp.status == 401 || resp.status == 403) {
		fprintf(stderr, "auth failed: POST %s: login refused for %s: HTTP %ld (%s)\n", post_url,
			email, resp.status, resp.status_line);
		rc = SIM_EAUTH;
		goto done;
	}
	if (resp.status != 200) {
		rc = sim_http_status_fail("POST", post_url, &resp);
		goto done;
	}
	int bad = 0;
	if (!sim_resp_is(&resp, "text/html"))
		bad += sim_fail("POST %s: end page Content-Type is \"%s\", want text/html", post_url,
				resp.content_type ? resp.content_type : "");
	page = s_html_parse(&resp, post_url);
	nforms = 0;
	if (page)
		s_collect(xmlDocGetRootElement(page), "form", forms, &nforms, SIM_MAX_FORMS);
	form = NULL;
	for (int i = 0; i < nforms && form == NULL; i++) {
		char *a = sim_xml_attr(forms[i], "action");
		if (a && strcmp(a, SIM_APPRU) == 0)
			form = forms[i];
		free(a);
	}
	if (form == NULL) {
		rc = sim_fail("POST %s: end page has no form whose action is exactly the appru \"%s\"",
			      post_url, SIM_APPRU);
		goto done;
	}
	if (!s_attr_is(form, "method", "post"))
		bad += sim_fail("end page: the form to appru must use method=\"post\"");
	xmlNodePtr inputs[SIM_MAX_INPUTS];
	int n = 0;
	s_collect(form->children, "input", inputs, &n, SIM_MAX_INPUTS);
	char *wresult = NULL;
	for (int i = 0; i < n && wresult == NULL; i++) {
		char *name = sim_xml_attr(inputs[i], "name");
		if (name && strcmp(name, "wresult") == 0) {
			wresult = sim_xml_attr(inputs[i], "value"); /* entities already decoded */
			if (!s_attr_is(inputs[i], "type", "hidden"))
				bad += sim_fail("end page: wresult input is not type=\"hidden\"");
		}
		free(name);
	}
	if (wresult == NULL || *wresult == '\0') {
		free(wresult);
		rc = sim_fail("end page: no (or empty) hidden input \"wresult\" in the form to appru");
		goto done;
	}
	if (bad) {
		free(wresult);
		rc = SIM_ECHECK;
		goto done;
	}
	*token = wresult;
	sim_note("wab: got a wresult token of %zu bytes", strlen(wresult));
	rc = SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	mdm_buf_free(&ub);
	xmlFreeDoc(page);
	sim_resp_free(&resp);
	sim_http_destroy(&http);
	free(e_appru);
	free(e_hint);
	free(start);
	free(action);
	free(post_url);
	free(body);
	return rc;
}
