/* ctl_http.c -- mdmctl's HTTPS client (libcurl): requests to /api/v1, errors mapped to exit codes. */
#include "ctl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define CTL_MAX_BODY (64u * 1024 * 1024)
#define CTL_USER_AGENT "mdmctl/1"

void ctl_resp_free(ctl_resp_t *resp)
{
	if (resp == NULL)
		return;
	json_decref(resp->json);
	mdm_buf_free(&resp->body);
	memset(resp, 0, sizeof *resp);
}

void ctl_http_cleanup(ctl_t *ctl)
{
	if (ctl->curl)
		curl_easy_cleanup(ctl->curl);
	ctl->curl = NULL;
}

static int s_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void s_escape(mdm_buf_t *buf, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (s_unreserved(c))
			mdm_buf_append(buf, s, 1);
		else
			mdm_buf_printf(buf, "%%%02X", c);
	}
}

char *ctl_path(const char *fmt, ...)
{
	mdm_buf_t buf = MDM_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			s_escape(&buf, va_arg(ap, const char *));
			p++;
		} else {
			mdm_buf_append(&buf, p, 1);
		}
	}
	va_end(ap);
	if (buf.failed) {
		mdm_buf_free(&buf);
		return NULL;
	}
	return mdm_buf_steal(&buf, NULL);
}

void ctl_query(mdm_buf_t *buf, const char *key, const char *value)
{
	if (value == NULL)
		return;
	mdm_buf_puts(buf, buf->len ? "&" : "?");
	s_escape(buf, key);
	mdm_buf_puts(buf, "=");
	s_escape(buf, value);
}

typedef struct {
	ctl_resp_t *resp;
	char retry_after[16];
} s_ctx_t;

static size_t s_on_body(char *data, size_t size, size_t n, void *user)
{
	s_ctx_t *ctx = user;
	size_t len = size * n;
	if (ctx->resp->body.len + len > CTL_MAX_BODY)
		return 0;
	if (mdm_buf_append(&ctx->resp->body, data, len) != 0)
		return 0;
	return len;
}

static size_t s_on_header(char *data, size_t size, size_t n, void *user)
{
	s_ctx_t *ctx = user;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(data, "retry-after:", 12)) {
		size_t i = 12, k = 0;
		while (i < len && data[i] == ' ')
			i++;
		while (i < len && isdigit((unsigned char)data[i]) && k < sizeof ctx->retry_after - 1)
			ctx->retry_after[k++] = data[i++];
		ctx->retry_after[k] = '\0';
	}
	return len;
}

/* The printable start of a body that is not the API's JSON error, for messages. */
static void s_snippet(const mdm_buf_t *body, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; body->data && i < body->len && k + 1 < cap && k < 160; i++) {
		unsigned char c = (unsigned char)body->data[i];
		out[k++] = (c == '\n' || c == '\r' || c == '\t') ? ' '
			   : (c < 0x20 || c == 0x7f)              ? '?'
								 : (char)c;
	}
	out[k] = '\0';
}

/* The exit code of an HTTP status that is not 2xx. */
static int s_status_code(long status)
{
	if (status == 401 || status == 403)
		return CTL_EAUTH;
	if (status == 404)
		return CTL_ENOTFOUND;
	if (status >= 500)
		return CTL_EUNAVAIL;
	return CTL_EAPI;
}

/* Prints why a request was refused: the API's {"error":{code,message}} when there is one,
 * with hints for the usual causes. Returns the exit code. */
static int s_report(ctl_t *ctl, const char *method, const char *path, const ctl_resp_t *resp,
		    const char *retry_after)
{
	json_t *j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	char code_buf[64];
	const char *code = json_string_value(json_object_get(e, "code"));
	if (code)
		code = ctl_str(json_object_get(e, "code"), code_buf, sizeof code_buf);
	const char *msg = json_string_value(json_object_get(e, "message"));
	char text[512], snip[200] = "";
	if (msg == NULL)
		s_snippet(&resp->body, snip, sizeof snip);
	ctl_str(json_object_get(e, "message"), text, sizeof text);
	fprintf(stderr, "mdmctl: %s /api/v1%s: %ld %s%s%s\n", method, path, resp->status,
		code ? code : "", code ? ": " : "", msg ? text : snip);
	if (retry_after[0])
		fprintf(stderr, "mdmctl: the server asks to retry after %s s\n", retry_after);
	if (resp->status == 405 || (resp->status == 404 && msg && !strcmp(msg, "no such resource")))
		fprintf(stderr, "mdmctl: this server does not offer %s /api/v1%s (is it older than "
				"mdmctl?)\n",
			method, path);
	else if (resp->status == 401 && ctl->cfg.token_from)
		fprintf(stderr, "mdmctl: the token came from %s\n",
			!strcmp(ctl->cfg.token_from, "config") ? ctl->cfg.path : ctl->cfg.token_from);
	json_decref(j);
	return s_status_code(resp->status);
}

/* Appends a header line; 0, or -1 leaving the list as it was. */
static int s_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

int ctl_api(ctl_t *ctl, const char *method, const char *path, const json_t *body, int flags,
	    ctl_resp_t *resp)
{
	memset(resp, 0, sizeof *resp);
	const ctl_config_t *cfg = &ctl->cfg;
	if (cfg->url == NULL)
		return ctl_fail(CTL_EUSAGE, "no server URL: use --url, MDM_URL or \"url = ...\" in "
					    "the config file (%s)",
				cfg->path ? cfg->path : "none");
	if (!(flags & CTL_ANON) && cfg->token == NULL)
		return ctl_fail(CTL_EAUTH, "no token: use --token, MDM_TOKEN, `mdmctl login --save` "
					   "or \"token = ...\" in the config file (%s)",
				cfg->path ? cfg->path : "none");
	if (ctl->curl == NULL && (ctl->curl = curl_easy_init()) == NULL)
		return ctl_fail(CTL_EUNAVAIL, "cannot initialise libcurl");
	CURL *c = ctl->curl;
	char *url = NULL, *payload = NULL, *auth = NULL;
	struct curl_slist *hdrs = NULL;
	int rc = CTL_EAPI;
	char errbuf[CURL_ERROR_SIZE] = "";
	s_ctx_t ctx = {resp, ""};

	if (asprintf(&url, "%s/api/v1%s", cfg->url, path) < 0) {
		url = NULL;
		goto oom;
	}
	if (body && (payload = json_dumps(body, JSON_COMPACT)) == NULL)
		goto oom;
	if (s_header(&hdrs, "Accept: application/json") != 0 ||
	    (payload && s_header(&hdrs, "Content-Type: application/json") != 0))
		goto oom;
	if (!(flags & CTL_ANON)) {
		if (asprintf(&auth, "Authorization: Bearer %s", cfg->token) < 0) {
			auth = NULL;
			goto oom;
		}
		if (s_header(&hdrs, auth) != 0)
			goto oom;
	}

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, CTL_USER_AGENT);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->timeout < 10 ? cfg->timeout : 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &ctx);
	/* redirects are not followed: the token must never go to another server */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (cfg->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (payload || !strcmp(method, "POST") || !strcmp(method, "PATCH")) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(payload ? strlen(payload) : 0));
		}
	}

	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "mdmctl: cannot reach %s: %s\n", cfg->url,
			errbuf[0] ? errbuf : curl_easy_strerror(cr));
		if (cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_SSL_CACERT_BADFILE)
			fprintf(stderr, "mdmctl: trust the server's CA with --ca-file or MDM_CA_FILE\n");
		rc = CTL_EUNAVAIL;
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->status < 200 || resp->status > 299) {
		rc = s_report(ctl, method, path, resp, ctx.retry_after);
		goto done;
	}
	if (resp->body.len > 0) {
		json_error_t jerr;
		resp->json = json_loadb(resp->body.data, resp->body.len, 0, &jerr);
		if (resp->json == NULL) {
			char snip[200];
			s_snippet(&resp->body, snip, sizeof snip);
			fprintf(stderr, "mdmctl: %s %s: the answer is not the API's JSON (%s): %s\n",
				method, url, jerr.text, snip);
			rc = CTL_EUNAVAIL;
			goto done;
		}
	}
	rc = CTL_OK;
	goto done;
oom:
	rc = ctl_fail(CTL_EAPI, "out of memory");
done:
	if (ctl->curl) {
		/* the handle keeps pointers to these until the next reset */
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	}
	curl_slist_free_all(hdrs);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (payload) {
		/* it may hold a password */
		explicit_bzero(payload, strlen(payload));
		free(payload);
	}
	free(url);
	return rc;
}
