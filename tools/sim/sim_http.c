/* sim_http.c -- libcurl wrapper for the simulator: HTTPS requests that look like ENROLLClient's. */
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mdm_log.h"

#define SIM_MAX_BODY (16u * 1024 * 1024)
#define SIM_MAX_COOKIES 32

struct sim_http {
	CURL *curl;
	sim_tls_t tls;
	int cookies;                  /* 1: keep a cookie jar (the WAB browser) */
	char *jar[SIM_MAX_COOKIES];   /* "name=value", owned */
	const char *user_agent;       /* NULL: ENROLLClient */
	const char *const *headers;   /* NULL: ENROLLClient's fixed headers */
	int binary_body;              /* 1: --verbose does not dump bodies */
};

void sim_http_set_agent(sim_http_t *self, const char *user_agent, const char *const *headers,
			int binary_body)
{
	self->user_agent = user_agent;
	self->headers = headers;
	self->binary_body = binary_body;
}

sim_http_t *sim_http_new(const sim_tls_t *tls, int cookies)
{
	sim_http_t *self = calloc(1, sizeof *self);
	check_mem(self);
	self->curl = curl_easy_init();
	check(self->curl, "curl_easy_init failed");
	self->tls = *tls;
	self->cookies = cookies;
	return self;
error:
	sim_http_destroy(&self);
	return NULL;
}

void sim_http_destroy(sim_http_t **self)
{
	if (self == NULL || *self == NULL)
		return;
	if ((*self)->curl)
		curl_easy_cleanup((*self)->curl);
	for (int i = 0; i < SIM_MAX_COOKIES; i++)
		free((*self)->jar[i]);
	free(*self);
	*self = NULL;
}

void sim_resp_free(sim_resp_t *resp)
{
	if (resp == NULL)
		return;
	free(resp->content_type);
	mdm_buf_free(&resp->headers);
	mdm_buf_free(&resp->body);
	memset(resp, 0, sizeof *resp);
}

static size_t s_on_body(char *data, size_t size, size_t n, void *user)
{
	sim_resp_t *resp = user;
	size_t len = size * n;
	if (resp->body.len + len > SIM_MAX_BODY)
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	if (mdm_buf_append(&resp->body, data, len) != 0)
		return 0;
	return len;
}

/* Keeps only the last response's headers (a 100 Continue or a proxy CONNECT answer comes
 * first) and notes the status line and chunked transfer encoding. */
static size_t s_on_header(char *data, size_t size, size_t n, void *user)
{
	sim_resp_t *resp = user;
	size_t len = size * n;
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		mdm_buf_free(&resp->headers);
		resp->chunked = 0;
		size_t l = len;
		while (l > 0 && (data[l - 1] == '\r' || data[l - 1] == '\n'))
			l--;
		if (l >= sizeof resp->status_line)
			l = sizeof resp->status_line - 1;
		memcpy(resp->status_line, data, l);
		resp->status_line[l] = '\0';
	} else if (len > 18 && strncasecmp(data, "transfer-encoding:", 18) == 0) {
		char v[128];
		size_t l = len - 18 < sizeof v - 1 ? len - 18 : sizeof v - 1;
		memcpy(v, data + 18, l);
		v[l] = '\0';
		for (char *p = v; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strstr(v, "chunked"))
			resp->chunked = 1;
	}
	if (mdm_buf_append(&resp->headers, data, len) != 0)
		return 0;
	return len;
}

/* A session-cookie jar just big enough for the WAB pages (one host, a few requests): keeps
 * name=value of every Set-Cookie, replacing by name, ignoring attributes. libcurl's own
 * engine needs CURLOPT_COOKIEFILE, which leaks a list entry per handle in libcurl 7.88. */
static void s_jar_store(sim_http_t *self, const sim_resp_t *resp)
{
	const char *p = resp->headers.data;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > 11 && strncasecmp(p, "set-cookie:", 11) == 0) {
			const char *v = p + 11, *end = p + len;
			while (v < end && *v == ' ')
				v++;
			const char *stop = v;
			while (stop < end && *stop != ';' && *stop != '\r')
				stop++;
			const char *eq = memchr(v, '=', (size_t)(stop - v));
			if (eq && eq > v) {
				char *c = strndup(v, (size_t)(stop - v));
				size_t nlen = (size_t)(eq - v) + 1; /* name plus '=' */
				int slot = -1;
				for (int i = 0; i < SIM_MAX_COOKIES && c; i++) {
					if (self->jar[i] && strncmp(self->jar[i], c, nlen) == 0) {
						slot = i;
						break;
					}
					if (self->jar[i] == NULL && slot < 0)
						slot = i;
				}
				if (c && slot >= 0) {
					free(self->jar[slot]);
					self->jar[slot] = c;
				} else {
					free(c);
				}
			}
		}
		p = eol ? eol + 1 : NULL;
	}
}

static void s_dump(const char *dir, const char *text, size_t len)
{
	fprintf(stderr, "%s", dir);
	fwrite(text, 1, len, stderr);
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', stderr);
}

int sim_http_request(sim_http_t *self, const char *method, const char *url, const char *ctype,
		     const char *body, size_t len, sim_resp_t *resp)
{
	struct curl_slist *hdrs = NULL, *tmp = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char ct[256];
	CURL *c = self->curl;
	int rc = SIM_ECHECK;

	memset(resp, 0, sizeof *resp);
	curl_easy_reset(c); /* keeps the connection cache and TLS sessions */

	/* The headers a Windows 10 ENROLLClient sends (fleet_w10_01); no Expect: 100-continue. */
	static const char *const fixed[] = {"Cache-Control: no-cache", "Pragma: no-cache", NULL};
	const char *const *list = self->headers ? self->headers : fixed;
	for (int i = 0; list[i]; i++) {
		tmp = curl_slist_append(hdrs, list[i]);
		check_mem(tmp);
		hdrs = tmp;
	}
	tmp = curl_slist_append(hdrs, "Expect:");
	check_mem(tmp);
	hdrs = tmp;
	if (ctype) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		tmp = curl_slist_append(hdrs, ct);
		check_mem(tmp);
		hdrs = tmp;
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, self->user_agent ? self->user_agent : "ENROLLClient");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, self->tls.timeout > 0 ? self->tls.timeout : 30L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	if (self->cookies) {
		mdm_buf_t cb = MDM_BUF_INIT;
		for (int i = 0; i < SIM_MAX_COOKIES; i++)
			if (self->jar[i])
				mdm_buf_printf(&cb, "%s%s", cb.len ? "; " : "Cookie: ", self->jar[i]);
		tmp = cb.len ? curl_slist_append(hdrs, cb.data) : hdrs;
		int oom = cb.failed || tmp == NULL;
		mdm_buf_free(&cb);
		check_mem(!oom);
		hdrs = tmp;
	}
	if (self->tls.cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, self->tls.cacert);
	if (self->tls.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (self->tls.client_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, self->tls.client_cert);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEY, self->tls.client_key);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}

	if (sim_verbose) {
		fprintf(stderr, "> %s %s\n", method, url);
		for (struct curl_slist *h = hdrs; h; h = h->next)
			if (strcmp(h->data, "Expect:") != 0)
				fprintf(stderr, "> %s\n", h->data);
		if (body && len && !self->binary_body)
			s_dump("", body, len);
	}

	CURLcode res = curl_easy_perform(c);
	if (res != CURLE_OK) {
		fprintf(stderr, "http: %s %s: %s\n", method, url,
			errbuf[0] ? errbuf : curl_easy_strerror(res));
		rc = SIM_EHTTP;
		goto error;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	char *rct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &rct);
	if (rct) {
		resp->content_type = strdup(rct);
		check_mem(resp->content_type);
	}
	if (resp->body.data == NULL) /* empty body: keep body.data a valid string */
		mdm_buf_append(&resp->body, "", 0);
	check_mem(!resp->headers.failed && !resp->body.failed);
	if (self->cookies)
		s_jar_store(self, resp);
	if (sim_verbose) {
		s_dump("< ", resp->headers.data ? resp->headers.data : "", resp->headers.len);
		if (resp->body.len && !self->binary_body)
			s_dump("", resp->body.data, resp->body.len);
	}
	rc = SIM_OK;
error:
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

int sim_http_status_fail(const char *method, const char *url, const sim_resp_t *resp)
{
	fprintf(stderr, "http: %s %s: HTTP %ld (%s)\n", method, url, resp->status,
		resp->status_line[0] ? resp->status_line : "no status line");
	return SIM_EHTTP;
}

int sim_resp_is(const sim_resp_t *resp, const char *mime)
{
	if (resp->content_type == NULL)
		return 0;
	const char *p = resp->content_type;
	while (*p == ' ')
		p++;
	size_t n = strlen(mime);
	if (strncasecmp(p, mime, n) != 0)
		return 0;
	p += n;
	while (*p == ' ')
		p++;
	return *p == '\0' || *p == ';';
}

char *sim_url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

char *sim_url_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char h[3] = {p[1], p[2], 0};
			*o++ = (char)strtol(h, NULL, 16);
			p += 2;
		} else if (*p == '+') {
			*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* The curl URL API resolves a relative reference against the URL already set (it is what
 * curl uses for Location:), which is what a browser does with a form's action. */
char *sim_url_resolve(const char *base, const char *ref)
{
	char *out = NULL, *tmp = NULL;
	CURLU *u = curl_url();
	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto done;
	if (ref && *ref && curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_URL, &tmp, 0) != CURLUE_OK)
		goto done;
	out = strdup(tmp);
done:
	curl_free(tmp);
	curl_url_cleanup(u);
	return out;
}

char *sim_url_part(const char *url, int part)
{
	char *out = NULL, *tmp = NULL;
	CURLU *u = curl_url();
	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, (CURLUPart)part, &tmp, 0) == CURLUE_OK)
		out = strdup(tmp);
	curl_free(tmp);
	curl_url_cleanup(u);
	return out;
}

int sim_url_is_https(const char *url)
{
	if (url == NULL || strncasecmp(url, "https://", 8) != 0)
		return 0;
	char *host = sim_url_part(url, CURLUPART_HOST);
	int ok = host && *host;
	free(host);
	return ok;
}
