/* gw_http.c -- turns each HTTPS request into one bus request and the reply into one
 * complete HTTP response (always Content-Length, never chunked). */
#include "gw_http.h"

#include <ctype.h>
#include <fcntl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "civetweb.h"
#include "gw_client.h"
#include "gw_routes.h"
#include "mdm_b64.h"
#include "mdm_err.h"
#include "mdm_fault.h"
#include "mdm_log.h"
#include "mdm_soap.h"

typedef struct {
	struct gw_http_t *http;
	unsigned listener;
} gw_listener_t;

struct gw_http_t {
	const gw_config_t *cfg;
	void *zctx;
	gw_broker_t *broker;
	struct mg_context *enroll, *mgmt;
	gw_listener_t l_enroll, l_mgmt;
};

/* The response goes out in one mg_write: status line, headers and body in one buffer, so
 * one TLS record and one write(2) (civetweb's mg_response_header_send prints every header
 * line with its own SSL_write: 7-8 records and system calls per response, a quarter of
 * the gateway's CPU under load). Keep-alive as civetweb decides it (should_keep_alive:
 * the client's Connection header, else HTTP/1.1); values holding CR or LF are dropped. */
static void s_send(struct mg_connection *conn, int status, json_t *headers, const char *body,
		   size_t len)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *ver = ri->http_version ? ri->http_version : "1.0";
	const char *c = mg_get_header(conn, "Connection");
	int keep = c ? strcasestr(c, "keep-alive") != NULL : !strcmp(ver, "1.1");
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
	mdm_buf_t out = MDM_BUF_INIT;
	mdm_buf_printf(&out, "HTTP/%s %d %s\r\n", ver, status, mg_get_response_code_text(conn, status));
	const char *name;
	json_t *value;
	json_object_foreach(headers, name, value)
	{
		const char *v = json_string_value(value);
		/* framing headers are ours to set */
		if (v && !strpbrk(v, "\r\n") && !strpbrk(name, "\r\n: ") &&
		    strcasecmp(name, "Content-Length") && strcasecmp(name, "Transfer-Encoding") &&
		    strcasecmp(name, "Connection") && strcasecmp(name, "Date"))
			mdm_buf_printf(&out, "%s: %s\r\n", name, v);
	}
	mdm_buf_printf(&out,
		       "Content-Length: %zu\r\nCache-Control: no-store\r\nDate: %s\r\n"
		       "Connection: %s\r\n\r\n",
		       len, date, keep ? "keep-alive" : "close");
	if (len)
		mdm_buf_append(&out, body, len);
	if (!out.failed) {
		mg_write(conn, out.data, out.len);
	} else {
		/* out of memory: a bare 500 that needs no allocation, telling the client to close
		 * (it must not wait for an answer that never comes) */
		static const char oom[] = "HTTP/1.1 500 Internal Server Error\r\n"
					  "Content-Length: 0\r\nConnection: close\r\n\r\n";
		mg_write(conn, oom, sizeof oom - 1);
	}
	mdm_buf_free(&out);
}

/* An error produced by the gateway itself, phrased as the client's protocol expects:
 * a SOAP 1.2 fault (RelatesTo from the request when it can be read), JSON, or plain. */
static int s_error(struct mg_connection *conn, const gw_route_t *route, mdm_code_t code,
		   const char *text, const char *req_body, size_t req_len)
{
	int status = mdm_code_http_status(code);
	json_t *h = json_object();
	if (code == MDM_E_UNAVAILABLE)
		json_object_set_new(h, "Retry-After", json_string("5"));
	char *body = NULL;
	size_t len = 0;
	if (route && route->kind == GW_BODY_SOAP) {
		char *relates = NULL;
		if (req_body && req_len) {
			mdm_soap_req_t *req = mdm_soap_parse(req_body, req_len, NULL);
			if (req && req->message_id)
				relates = strdup(req->message_id);
			mdm_soap_req_destroy(&req);
		}
		body = mdm_soap_fault(relates, NULL, code, text, &len);
		free(relates);
		json_object_set_new(h, "Content-Type",
				    json_string("application/soap+xml; charset=utf-8"));
	} else {
		json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", mdm_code_name(code),
				      "message", text);
		body = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		len = body ? strlen(body) : 0;
		json_object_set_new(h, "Content-Type", json_string("application/json"));
	}
	s_send(conn, status, h, body ? body : "", body ? len : 0);
	json_decref(h);
	free(body);
	return status;
}

/* Reads the whole request body, refusing more than max bytes whether or not the client
 * announced a Content-Length. Returns 0, or 413/400 as the status to answer. */
static int s_read_body(struct mg_connection *conn, long max, char **out, size_t *out_len)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	*out = NULL;
	*out_len = 0;
	if (ri->content_length > max)
		return 413;
	size_t cap = ri->content_length >= 0 ? (size_t)ri->content_length : 4096;
	char *buf = malloc(cap + 1);
	if (buf == NULL)
		return 500;
	size_t len = 0;
	for (;;) {
		if (len == cap) {
			if (ri->content_length >= 0)
				break;
			if ((long)cap >= max + 1) {
				free(buf);
				return 413;
			}
			cap = cap * 2 > (size_t)max + 1 ? (size_t)max + 1 : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				return 500;
			}
			buf = nb;
		}
		int n = mg_read(conn, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if ((long)len > max) {
		free(buf);
		return 413;
	}
	if (ri->content_length >= 0 && (long long)len != ri->content_length) {
		free(buf);
		return 400;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* civetweb's fingerprint of the client certificate ("ab cd ..." lowercase, SHA-1 of the
 * DER, computed once per TLS connection) in our thumbprint form: 40 upper-case hex digits.
 * 0, or -1 if it is not a SHA-1 fingerprint. */
static int s_thumbprint(const char *finger, char out[41])
{
	size_t n = 0;
	for (const char *p = finger; p && *p; p++) {
		if (*p == ' ' || *p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 40)
			return -1;
		out[n++] = (char)toupper((unsigned char)*p);
	}
	out[n] = '\0';
	return n == 40 ? 0 : -1;
}

/* with_der: also the certificate itself (base64 DER), for the routes whose service inspects
 * it (gw_route_t.cert_der); the others get its thumbprint only, which costs nothing. */
static json_t *s_headers(struct mg_connection *conn, unsigned listener, int with_der)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	json_t *h = json_object();
	json_object_set_new(h, "method", json_string(ri->request_method));
	json_object_set_new(h, "path", json_string(ri->local_uri ? ri->local_uri : "/"));
	json_object_set_new(h, "query", json_string(ri->query_string ? ri->query_string : ""));
	json_object_set_new(h, "remote_addr", json_string(ri->remote_addr));
	json_object_set_new(h, "listener", json_string(listener == GW_L_MGMT ? "mgmt" : "enroll"));
	static const char *fwd[] = {"Content-Type", "Authorization", "User-Agent", "Host",
				    "Accept", "Cookie"};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
		const char *v = mg_get_header(conn, fwd[i]);
		if (v) {
			json_t *s = json_string(v);
			if (s)
				json_object_set_new(h, fwd[i], s);
		}
	}
	char thumb[41];
	if (ri->client_cert && ri->client_cert->peer_cert &&
	    s_thumbprint(ri->client_cert->finger, thumb) == 0)
		json_object_set_new(h, "client_cert_sha1", json_string(thumb));
	if (with_der && ri->client_cert && ri->client_cert->peer_cert) {
		/* civetweb verified it against our CA (ssl_verify_peer=yes); the service
		 * decides whether it still belongs to an enrolled device */
		unsigned char *der = NULL;
		int n = i2d_X509((X509 *)ri->client_cert->peer_cert, &der);
		if (n > 0) {
			char *b64 = mdm_b64_encode(der, (size_t)n);
			if (b64)
				json_object_set_new(h, "client_cert", json_string(b64));
			free(b64);
		}
		OPENSSL_free(der);
	}
	return h;
}

#define GW_STATIC_MAX (4 * 1024 * 1024)

static const char *s_mime(const char *path)
{
	static const struct {
		const char *ext, *type;
	} t[] = {{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		 {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		 {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"},
		 {".json", "application/json"}, {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"}};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(dot, t[i].ext))
			return t[i].type;
	return NULL;
}

/* The web console: files under MDM_ADMIN_DIR at /admin/, read-only, with a strict CSP.
 * Names are limited to [A-Za-z0-9._-/] without ".." so nothing outside the folder can be
 * named; unknown extensions are not served. */
static int s_static(struct mg_connection *conn, const gw_config_t *cfg, const char *path)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	json_t *h = json_object();
	int status = 200;
	char *body = NULL;
	size_t len = 0;
	if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
		status = 405;
		goto out;
	}
	if (!strcmp(path, "/admin")) {
		json_object_set_new(h, "Location", json_string("/admin/"));
		status = 301;
		goto out;
	}
	const char *rel = path + 7; /* after "/admin/" */
	if (*rel == '\0')
		rel = "index.html";
	int ok = strspn(rel, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") ==
			 strlen(rel) &&
		 !strstr(rel, "..") && !strstr(rel, "//") && rel[0] != '/' && strlen(rel) < 200 &&
		 s_mime(rel) != NULL;
	char file[800];
	struct stat st;
	int fd = -1;
	if (ok) {
		snprintf(file, sizeof file, "%s/%s", cfg->admin_dir, rel);
		fd = open(file, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > GW_STATIC_MAX) {
		if (fd >= 0)
			close(fd);
		status = 404;
		goto out;
	}
	body = malloc((size_t)st.st_size + 1);
	ssize_t n = body ? read(fd, body, (size_t)st.st_size) : -1;
	close(fd);
	if (n != (ssize_t)st.st_size) {
		status = 500;
		goto out;
	}
	len = (size_t)n;
	json_object_set_new(h, "Content-Type", json_string(s_mime(rel)));
out:
	if (status != 200) {
		free(body);
		body = NULL;
		len = 0;
		json_object_set_new(h, "Content-Type", json_string("text/plain; charset=utf-8"));
	}
	json_object_set_new(h, "Content-Security-Policy",
			    json_string("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
					"base-uri 'none'; form-action 'self'"));
	json_object_set_new(h, "X-Content-Type-Options", json_string("nosniff"));
	json_object_set_new(h, "X-Frame-Options", json_string("DENY"));
	json_object_set_new(h, "Referrer-Policy", json_string("no-referrer"));
	s_send(conn, status, h, body ? body : "", strcmp(ri->request_method, "HEAD") ? len : 0);
	json_decref(h);
	free(body);
	return status;
}

static int s_handle(struct mg_connection *conn, void *cbdata)
{
	gw_listener_t *l = cbdata;
	const gw_config_t *cfg = l->http->cfg;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri ? ri->local_uri : "/";

	if (!strcmp(path, "/healthz") && !strcmp(ri->request_method, "GET")) {
		static const char *svcs[] = {"discovery", "pki", "registry", "syncml"};
		json_t *j = json_object(), *w = json_object();
		for (size_t i = 0; i < 4; i++) {
			json_object_set_new(j, svcs[i],
					    json_integer(gw_broker_instances(l->http->broker, svcs[i])));
			json_object_set_new(w, svcs[i],
					    json_integer(gw_broker_workers(l->http->broker, svcs[i])));
		}
		json_object_set_new(j, "workers", w);
		char *body = json_dumps(j, JSON_COMPACT);
		json_t *h = json_pack("{s:s}", "Content-Type", "application/json");
		s_send(conn, 200, h, body, strlen(body));
		json_decref(h);
		json_decref(j);
		free(body);
		return 200;
	}
	if (l->listener == GW_L_ENROLL && (!strcmp(path, "/admin") || !strncmp(path, "/admin/", 7)))
		return s_static(conn, cfg, path);
	const gw_route_t *route = gw_route_find(l->listener, path);
	if (route == NULL)
		return s_error(conn, NULL, MDM_E_NOT_FOUND, "no such resource", NULL, 0);
	if (!(route->methods & gw_method_bit(ri->request_method))) {
		json_t *h = json_pack("{s:s}", "Content-Type", "text/plain");
		s_send(conn, 405, h, "method not allowed\n", 19);
		json_decref(h);
		return 405;
	}
	gw_client_t *client = mg_get_thread_pointer(conn);
	char *body = NULL;
	size_t len = 0;
	int rc = s_read_body(conn, cfg->max_body, &body, &len);
	if (rc == 413) {
		char text[96];
		snprintf(text, sizeof text, "request body larger than %ld bytes", cfg->max_body);
		return s_error(conn, route, MDM_E_TOO_LARGE, text, NULL, 0);
	}
	if (rc != 0)
		return s_error(conn, route, rc == 400 ? MDM_E_MESSAGE_FORMAT : MDM_E_INTERNAL,
			       rc == 400 ? "incomplete request body" : "out of memory", NULL, 0);
	if (client == NULL) {
		rc = s_error(conn, route, MDM_E_UNAVAILABLE, "gateway bus not ready", body, len);
		free(body);
		return rc;
	}
	mdm_msg_t *rep = gw_client_call(client, route->service, route->command,
					s_headers(conn, l->listener, route->cert_der), body, len,
					(int)cfg->bus_timeout_ms);
	if (rep == NULL) {
		log_warn("%s %s: %s did not answer within %ld ms", ri->request_method, path,
			 route->service, cfg->bus_timeout_ms);
		char text[128];
		snprintf(text, sizeof text, "the %s service is unavailable, retry later",
			 route->service);
		rc = s_error(conn, route, MDM_E_UNAVAILABLE, text, body, len);
		free(body);
		return rc;
	}
	free(body);
	s_send(conn, rep->status, rep->headers, rep->body ? rep->body : "", rep->body_len);
	rc = rep->status;
	mdm_msg_destroy(&rep);
	return rc;
}

static void *s_init_thread(const struct mg_context *ctx, int thread_type)
{
	if (thread_type != 1) /* only request worker threads talk to the bus */
		return NULL;
	gw_http_t *self = mg_get_user_data(ctx);
	return gw_client_new(self->zctx);
}

static void s_exit_thread(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
	gw_client_t *c = thread_pointer;
	if (thread_type == 1)
		gw_client_destroy(&c);
}

static int s_log_message(const struct mg_connection *conn, const char *message)
{
	log_warn("civetweb: %s", message);
	return 1;
}

static struct mg_context *s_start(gw_http_t *self, gw_listener_t *l, long port, int mtls)
{
	char ports[96], threads[16];
	snprintf(ports, sizeof ports, "%s:%lds", self->cfg->listen_addr, port);
	snprintf(threads, sizeof threads, "%ld", self->cfg->threads);
	const char *opts_enroll[] = {"listening_ports", ports,
				     "num_threads", threads,
				     "ssl_certificate", self->cfg->tls_cert,
				     "enable_keep_alive", "yes",
				     "keep_alive_timeout_ms", "30000",
				     "request_timeout_ms", "30000",
				     "ssl_verify_peer", "no",
				     "ssl_protocol_version", "4",
				     "tcp_nodelay", "1", /* headers and body are two writes: no Nagle stall */
				     NULL};
	const char *opts_mgmt[] = {"listening_ports", ports,
				   "num_threads", threads,
				   "ssl_certificate", self->cfg->tls_cert,
				   "enable_keep_alive", "yes",
				   "keep_alive_timeout_ms", "30000",
				   "request_timeout_ms", "30000",
				   "ssl_verify_peer", "yes",
				   "ssl_ca_file", self->cfg->ca_file,
				   "ssl_default_verify_paths", "no",
				   "ssl_verify_depth", "2",
				   "ssl_protocol_version", "4",
				     "tcp_nodelay", "1", /* headers and body are two writes: no Nagle stall */
				   NULL};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.init_thread = s_init_thread;
	cb.exit_thread = s_exit_thread;
	cb.log_message = s_log_message;
	struct mg_context *ctx = mg_start(&cb, self, mtls ? opts_mgmt : opts_enroll);
	if (ctx == NULL) {
		log_err("cannot start HTTPS listener on %s (port taken, or bad certificate %s)",
			ports, self->cfg->tls_cert);
		return NULL;
	}
	mg_set_request_handler(ctx, "/", s_handle, l);
	return ctx;
}

gw_http_t *gw_http_start(const gw_config_t *cfg, void *zctx, gw_broker_t *broker)
{
	gw_http_t *self = calloc(1, sizeof *self);
	if (self == NULL)
		return NULL;
	self->cfg = cfg;
	self->zctx = zctx;
	self->broker = broker;
	mg_init_library(MG_FEATURES_TLS);
	self->l_enroll = (gw_listener_t){self, GW_L_ENROLL};
	self->l_mgmt = (gw_listener_t){self, GW_L_MGMT};
	self->enroll = s_start(self, &self->l_enroll, cfg->https_port, 0);
	if (self->enroll)
		self->mgmt = s_start(self, &self->l_mgmt, cfg->mgmt_port, 1);
	if (self->enroll == NULL || self->mgmt == NULL) {
		gw_http_stop(&self);
		return NULL;
	}
	return self;
}

void gw_http_stop(gw_http_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	gw_http_t *self = *self_p;
	if (self->enroll)
		mg_stop(self->enroll);
	if (self->mgmt)
		mg_stop(self->mgmt);
	mg_exit_library();
	free(self);
	*self_p = NULL;
}
