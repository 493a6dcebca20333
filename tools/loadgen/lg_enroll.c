/* lg_enroll.c -- `mdm-loadgen enroll`: complete Windows enrollments (Discover POST,
 * XCEP GetPolicies, WSTEP RST with a PKCS#10) over keep-alive HTTPS, with keys, CSRs and the
 * one-time pre-enrollment secrets made before the clock starts. Also `issue`: the in-memory
 * certificate issuing rate with the server's own CA key (libs/crypto mdm_cert_issue). */
#include "lg.h"

#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "mdm_b64.h"
#include "mdm_ca.h"
#include "mdm_cert.h"

#define NS_S "http://www.w3.org/2003/05/soap-envelope"
#define NS_A "http://www.w3.org/2005/08/addressing"
#define NS_U "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define NS_WSSE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define NS_WST "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
#define NS_AC "http://schemas.xmlsoap.org/ws/2006/12/authorization"
#define NS_DISCO "http://schemas.microsoft.com/windows/management/2012/01/enrollment"
#define NS_XCEP "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define PATH_DISCO "/EnrollmentServer/Discovery.svc"
#define PATH_XCEP "/EnrollmentServer/PolicyEnrollmentWebservice.svc"
#define PATH_WSTEP "/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc"

/* ---- shared: URL and option helpers ---------------------------------------------------- */

/* https://127.0.0.1:PORT only: load never leaves the machine. */
int lg_parse_url(const char *url, int *port)
{
	const char *p = NULL;
	if (!strncmp(url, "https://127.0.0.1:", 18))
		p = url + 18;
	else if (!strncmp(url, "https://localhost:", 18))
		p = url + 18;
	if (p == NULL)
		lg_die("--url must be https://127.0.0.1:PORT (load only goes to loopback): %s", url);
	*port = atoi(p);
	if (*port <= 0 || *port > 65535)
		lg_die("bad port in %s", url);
	return 0;
}

static char *s_read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		lg_die("cannot read %s", path);
	char buf[512] = "";
	if (fgets(buf, sizeof buf, f) == NULL)
		lg_die("empty %s", path);
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return lg_xstrdup(buf);
}

/* ---- the workloads --------------------------------------------------------------------- */

typedef struct {
	int port;
	const char *email;
	const char *password;  /* password mode */
	const char *token;     /* admin token (pre-enrollment creation) */
	char **secrets;        /* pre-enrollment secrets, one per device */
	char **devid, **hwid, **csr;
	long n;
	long save_n;           /* keep the RST answers of devices [0, save_n) */
	char **saved;
	size_t *saved_len;
	atomic_int shown;
} s_enroll_t;

typedef struct {
	int step;
	char msgid[64];
	mdm_buf_t body;
} s_job_t;

static s_job_t *s_js(lg_conn_t *c)
{
	if (c->job_state == NULL)
		c->job_state = lg_xmalloc(sizeof(s_job_t));
	return c->job_state;
}

static void s_msgid(char *out)
{
	unsigned char b[16];
	char h[33];
	RAND_bytes(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++)
		sprintf(h + 2 * i, "%02x", b[i]);
	sprintf(out, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static void s_post(mdm_buf_t *out, const char *path, int port, const char *ctype,
		   const char *extra_headers, const mdm_buf_t *body)
{
	mdm_buf_printf(out,
		       "POST %s HTTP/1.1\r\nHost: localhost:%d\r\nContent-Type: %s\r\n"
		       "Content-Length: %zu\r\n%s\r\n",
		       path, port, ctype, body->len, extra_headers);
	mdm_buf_append(out, body->data, body->len);
}

static void s_header(mdm_buf_t *b, const char *action, const char *msgid, int port,
		     const char *path)
{
	mdm_buf_printf(b, "<a:Action s:mustUnderstand=\"1\">%s</a:Action><a:MessageID>%s</a:MessageID>"
			  "<a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous"
			  "</a:Address></a:ReplyTo><a:To s:mustUnderstand=\"1\">https://localhost:%d%s"
			  "</a:To>",
		       action, msgid, port, path);
}

static void s_security(mdm_buf_t *b, const char *user, const char *pw)
{
	mdm_buf_puts(b, "<wsse:Security s:mustUnderstand=\"1\"><wsse:UsernameToken "
			"u:Id=\"uuid-cc1ccc1f-2fba-4bcf-b063-ffc0cac77917-4\"><wsse:Username>");
	mdm_buf_put_escaped(b, user);
	mdm_buf_puts(b, "</wsse:Username><wsse:Password wsse:Type=\"http://docs.oasis-open.org/wss/"
			"2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">");
	mdm_buf_put_escaped(b, pw);
	mdm_buf_puts(b, "</wsse:Password></wsse:UsernameToken></wsse:Security>");
}

static void s_envelope_open(mdm_buf_t *b)
{
	mdm_buf_puts(b, "<s:Envelope xmlns:s=\"" NS_S "\" xmlns:a=\"" NS_A "\" xmlns:u=\"" NS_U
			"\" xmlns:wsse=\"" NS_WSSE "\" xmlns:wst=\"" NS_WST "\" xmlns:ac=\"" NS_AC
			"\"><s:Header>");
}

static void s_ctx_item(mdm_buf_t *b, const char *name, const char *value)
{
	mdm_buf_printf(b, "<ac:ContextItem Name=\"%s\"><ac:Value>", name);
	mdm_buf_put_escaped(b, value);
	mdm_buf_puts(b, "</ac:Value></ac:ContextItem>");
}

static const char s_enroll_headers[] = "User-Agent: ENROLLClient\r\nCache-Control: no-cache\r\n"
				       "Pragma: no-cache\r\n";

static int s_enroll_begin(void *w, lg_conn_t *c, long job)
{
	s_enroll_t *e = w;
	if (job >= e->n)
		return -1;
	s_job_t *js = s_js(c);
	js->step = 0;
	c->want_ident = -1;
	return 0;
}

static int s_enroll_request(void *w, lg_conn_t *c, mdm_buf_t *out)
{
	s_enroll_t *e = w;
	s_job_t *js = s_js(c);
	long d = c->job;
	const char *pw = e->secrets ? e->secrets[d] : e->password;
	mdm_buf_t *b = &js->body;
	b->len = 0;
	s_msgid(js->msgid);
	if (js->step == 0) {
		mdm_buf_puts(b, "<s:Envelope xmlns:a=\"" NS_A "\" xmlns:s=\"" NS_S "\"><s:Header>");
		s_header(b, NS_DISCO "/IDiscoveryService/Discover", js->msgid, e->port, PATH_DISCO);
		mdm_buf_puts(b, "</s:Header><s:Body><Discover xmlns=\"" NS_DISCO "\"><request xmlns:i=\""
				NS_XSI "\"><EmailAddress>");
		mdm_buf_put_escaped(b, e->email);
		mdm_buf_puts(b, "</EmailAddress><RequestVersion>4.0</RequestVersion><DeviceType>"
				"CIMClient_Windows</DeviceType><ApplicationVersion>10.0.22631.1"
				"</ApplicationVersion><OSEdition>48</OSEdition><AuthPolicies><AuthPolicy>"
				"OnPremise</AuthPolicy></AuthPolicies></request></Discover></s:Body>"
				"</s:Envelope>");
		s_post(out, PATH_DISCO, e->port, "application/soap+xml; charset=utf-8",
		       s_enroll_headers, b);
	} else if (js->step == 1) {
		s_envelope_open(b);
		s_header(b, NS_XCEP "/IPolicy/GetPolicies", js->msgid, e->port, PATH_XCEP);
		s_security(b, e->email, pw);
		mdm_buf_puts(b, "</s:Header><s:Body xmlns:xsi=\"" NS_XSI "\" xmlns:xsd=\"http://www.w3.org/"
				"2001/XMLSchema\"><GetPolicies xmlns=\"" NS_XCEP "\"><client><lastUpdate "
				"xsi:nil=\"true\"/><preferredLanguage xsi:nil=\"true\"/></client>"
				"<requestFilter xsi:nil=\"true\"/></GetPolicies></s:Body></s:Envelope>");
		s_post(out, PATH_XCEP, e->port, "application/soap+xml; charset=utf-8", s_enroll_headers,
		       b);
	} else {
		char name[32], mac1[20], mac2[20];
		const char *h = e->hwid[d];
		snprintf(name, sizeof name, "BENCH-%.8s", e->devid[d]);
		snprintf(mac1, sizeof mac1, "00-15-5D-%.2s-%.2s-%.2s", h, h + 2, h + 4);
		snprintf(mac2, sizeof mac2, "00-15-5D-%.2s-%.2s-%.2s", h + 6, h + 8, h + 10);
		s_envelope_open(b);
		s_header(b, "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep",
			 js->msgid, e->port, PATH_WSTEP);
		s_security(b, e->email, pw);
		mdm_buf_puts(b, "</s:Header><s:Body><wst:RequestSecurityToken><wst:TokenType>http://"
				"schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/"
				"DeviceEnrollmentToken</wst:TokenType><wst:RequestType>http://"
				"docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</wst:RequestType>"
				"<wsse:BinarySecurityToken ValueType=\"http://schemas.microsoft.com/windows/"
				"pki/2009/01/enrollment#PKCS10\" EncodingType=\"" NS_WSSE
				"#base64binary\">");
		mdm_buf_puts(b, e->csr[d]);
		mdm_buf_puts(b, "</wsse:BinarySecurityToken><ac:AdditionalContext xmlns=\"" NS_AC "\">");
		s_ctx_item(b, "UXInitiated", "true");
		s_ctx_item(b, "HWDevID", h);
		s_ctx_item(b, "Locale", "en-US");
		s_ctx_item(b, "TargetedUserLoggedIn", "true");
		s_ctx_item(b, "OSEdition", "48");
		s_ctx_item(b, "DeviceName", name);
		s_ctx_item(b, "MAC", mac1);
		s_ctx_item(b, "MAC", mac2);
		s_ctx_item(b, "DeviceID", e->devid[d]);
		s_ctx_item(b, "EnrollmentType", "Full");
		s_ctx_item(b, "DeviceType", "CIMClient_Windows");
		s_ctx_item(b, "OSVersion", "10.0.22631.1");
		s_ctx_item(b, "ApplicationVersion", "10.0.22631.1");
		s_ctx_item(b, "NotInOobe", "false");
		mdm_buf_puts(b, "</ac:AdditionalContext></wst:RequestSecurityToken></s:Body></s:Envelope>");
		s_post(out, PATH_WSTEP, e->port, "application/soap+xml; charset=utf-8",
		       s_enroll_headers, b);
	}
	return b->failed ? -1 : 0;
}

static int s_bad(s_enroll_t *e, long job, const char *what, int status, const char *body,
		 size_t len)
{
	if (atomic_fetch_add(&e->shown, 1) < 5)
		fprintf(stderr, "mdm-loadgen: job %ld: %s: HTTP %d: %.*s\n", job, what, status,
			(int)(len > 600 ? 600 : len), body);
	return -1;
}

static int s_enroll_response(void *w, lg_conn_t *c, int status, const char *body, size_t len)
{
	s_enroll_t *e = w;
	s_job_t *js = s_js(c);
	static const char *const want[] = {"DiscoverResponse", "GetPoliciesResponse",
					   "RequestSecurityTokenResponseCollection"};
	static const char *const what[] = {"Discover", "GetPolicies", "RST"};
	if (status != 200 || !lg_memstr(body, len, want[js->step]) || !lg_memstr(body, len, js->msgid))
		return s_bad(e, c->job, what[js->step], status, body, len);
	if (js->step < 2) {
		js->step++;
		return 0;
	}
	if (c->job < e->save_n) {
		e->saved[c->job] = lg_xmalloc(len + 1);
		memcpy(e->saved[c->job], body, len);
		e->saved_len[c->job] = len;
	}
	return 1;
}

static int s_conn_none(void *w, int g)
{
	return -1; /* connect every connection (no client certificate) before the clock */
}

/* Admin API: POST /api/v1/pre-enrollments, keep the one-time secret. */
static int s_pre_request(void *w, lg_conn_t *c, mdm_buf_t *out)
{
	s_enroll_t *e = w;
	s_job_t *js = s_js(c);
	mdm_buf_t *b = &js->body;
	b->len = 0;
	mdm_buf_puts(b, "{\"email\":\"");
	mdm_buf_puts(b, e->email);
	mdm_buf_puts(b, "\"}");
	char hdr[600];
	snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", e->token);
	s_post(out, "/api/v1/pre-enrollments", e->port, "application/json", hdr, b);
	return b->failed ? -1 : 0;
}

static int s_pre_response(void *w, lg_conn_t *c, int status, const char *body, size_t len)
{
	s_enroll_t *e = w;
	if (status != 201)
		return s_bad(e, c->job, "pre-enrollment", status, body, len);
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *s = json_string_value(json_object_get(j, "secret"));
	if (s)
		e->secrets[c->job] = lg_xstrdup(s);
	json_decref(j);
	return s ? 1 : s_bad(e, c->job, "pre-enrollment answer", status, body, len);
}

typedef struct {
	s_enroll_t *e;
	EVP_PKEY **keys;
	int nkeys;
} s_prep_t;

static void s_prep_one(long i, void *arg)
{
	s_prep_t *p = arg;
	unsigned char r[16];
	char hex[33], h[65];
	RAND_bytes(r, sizeof r);
	mdm_hex_upper(r, sizeof r, hex);
	mdm_sha256_hex(hex, strlen(hex), h);
	p->e->devid[i] = lg_xstrdup(hex);
	p->e->hwid[i] = lg_xstrdup(h);
	p->e->csr[i] = lg_csr_b64(p->keys[i % p->nkeys], hex);
}

static const char s_enroll_usage[] =
	"usage: mdm-loadgen enroll --url https://127.0.0.1:PORT --cacert CA.pem --count N\n"
	"         [--auth preenroll --admin-token-file F | --auth password --password P]\n"
	"         [--email E] [--conns C] [--threads T] [--rate R] [--seconds S] [--keys K]\n"
	"         [--keys-file F] [--save N --save-dir DIR] [--cdf FILE] [--name NAME]\n"
	"         [--prep-threads T] [--quickack]\n"
	"Enrolls N simulated Windows devices (Discover, GetPolicies, RST); prints one JSON line.\n"
	"Closed loop on C keep-alive connections, or open loop at R enrollments/s (--rate).\n";

int lg_cmd_enroll(int argc, char **argv)
{
	const char *url = NULL, *cacert = NULL, *auth = "preenroll", *token_file = NULL;
	const char *email = "bench@example.com", *password = NULL, *keys_file = NULL;
	const char *save_dir = NULL, *cdf = NULL, *name = "enroll";
	long count = 0, save_n = 0;
	int conns = 16, threads = 1, nkeys = 32, prep_threads = 2;
	double rate = 0, seconds = 0;
	int quickack = 0;
	static const struct option opts[] = {
		{"url", 1, 0, 'u'},	 {"cacert", 1, 0, 'c'},	   {"count", 1, 0, 'n'},
		{"auth", 1, 0, 'a'},	 {"admin-token-file", 1, 0, 't'}, {"email", 1, 0, 'e'},
		{"password", 1, 0, 'p'}, {"conns", 1, 0, 'C'},	   {"threads", 1, 0, 'T'},
		{"rate", 1, 0, 'r'},	 {"seconds", 1, 0, 's'},   {"keys", 1, 0, 'k'},
		{"keys-file", 1, 0, 'K'}, {"save", 1, 0, 'S'},	   {"save-dir", 1, 0, 'D'},
		{"cdf", 1, 0, 'f'},	 {"name", 1, 0, 'N'},	   {"prep-threads", 1, 0, 'P'},
		{"quickack", 0, 0, 'Q'}, {"help", 0, 0, 'h'},	 {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'u': url = optarg; break;
		case 'c': cacert = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'a': auth = optarg; break;
		case 't': token_file = optarg; break;
		case 'e': email = optarg; break;
		case 'p': password = optarg; break;
		case 'C': conns = atoi(optarg); break;
		case 'T': threads = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'k': nkeys = atoi(optarg); break;
		case 'K': keys_file = optarg; break;
		case 'S': save_n = atol(optarg); break;
		case 'D': save_dir = optarg; break;
		case 'f': cdf = optarg; break;
		case 'N': name = optarg; break;
		case 'Q': quickack = 1; break;
		case 'P': prep_threads = atoi(optarg); break;
		default: fputs(s_enroll_usage, stderr); return o == 'h' ? 0 : 64;
		}
	}
	if (!url || !cacert || count <= 0 || count > 10000000 || conns < 1 || conns > 1000 ||
	    threads < 1 || threads > 16) {
		fputs(s_enroll_usage, stderr);
		return 64;
	}
	int preenroll = !strcmp(auth, "preenroll");
	if (preenroll && !token_file)
		lg_die("--auth preenroll needs --admin-token-file");
	if (!preenroll && (strcmp(auth, "password") || !password))
		lg_die("--auth must be preenroll or password (with --password)");
	if (save_n > count)
		save_n = count;
	if (save_n && !save_dir)
		lg_die("--save needs --save-dir");

	s_enroll_t e = {.email = email, .password = password, .n = count, .save_n = save_n};
	atomic_init(&e.shown, 0);
	lg_parse_url(url, &e.port);
	e.devid = lg_xmalloc((size_t)count * sizeof(char *));
	e.hwid = lg_xmalloc((size_t)count * sizeof(char *));
	e.csr = lg_xmalloc((size_t)count * sizeof(char *));
	if (save_n) {
		e.saved = lg_xmalloc((size_t)save_n * sizeof(char *));
		e.saved_len = lg_xmalloc((size_t)save_n * sizeof(size_t));
	}

	/* 1. keys and CSRs (not timed) */
	double t = lg_now();
	EVP_PKEY **keys;
	if (keys_file && access(keys_file, R_OK) == 0) {
		keys = lg_keys_read(keys_file, &nkeys);
	} else {
		keys = lg_keys_new(nkeys, 2048, prep_threads);
		if (keys_file)
			lg_keys_write(keys, nkeys, keys_file);
	}
	double t_keys = lg_now() - t;
	t = lg_now();
	s_prep_t prep = {&e, keys, nkeys};
	lg_parallel(count, prep_threads, s_prep_one, &prep);
	double t_csr = lg_now() - t;

	/* 2. one-time secrets through the admin API (not timed) */
	lg_result_t res;
	double t_pre = 0;
	if (preenroll) {
		e.token = s_read_token(token_file);
		e.secrets = lg_xmalloc((size_t)count * sizeof(char *));
		lg_work_t pw = {s_enroll_begin, s_pre_request, s_pre_response, NULL, s_conn_none, &e};
		lg_run_cfg_t pc = {"127.0.0.1", e.port, cacert, conns, 1, count, 0, 0, 0, quickack, &pw, 1};
		t = lg_now();
		lg_run(&pc, &res);
		t_pre = lg_now() - t;
		if (res.jobs_ok != count)
			lg_die("only %ld of %ld pre-enrollments created", res.jobs_ok, count);
		lg_lat_free(&res.lat);
	}

	/* 3. the measurement */
	lg_work_t ew = {s_enroll_begin, s_enroll_request, s_enroll_response, NULL, s_conn_none, &e};
	lg_run_cfg_t rc = {"127.0.0.1", e.port, cacert, conns, threads, count, seconds, rate, 0, quickack, &ew, 0};
	lg_run(&rc, &res);
	if (cdf)
		lg_lat_write_cdf(&res.lat, cdf);
	char extra[512];
	snprintf(extra, sizeof extra,
		 "\"workload\":\"enroll\",\"quickack\":%s,\"auth\":\"%s\",\"conns\":%d,\"threads\":%d,\"rate\":%.1f,"
		 "\"key_pool\":%d,\"prep_keys_s\":%.2f,\"prep_csr_s\":%.2f,\"prep_secrets_s\":%.2f",
		 quickack ? "true" : "false", auth, conns * threads, threads, rate, nkeys, t_keys, t_csr, t_pre);
	lg_result_print(name, &res, extra);

	/* 4. devices for the management runs: id, key index, certificate */
	if (save_n) {
		mkdir(save_dir, 0700);
		char path[4096];
		snprintf(path, sizeof path, "%s/keys.pem", save_dir);
		lg_keys_write(keys, nkeys, path);
		snprintf(path, sizeof path, "%s/devices.txt", save_dir);
		FILE *f = fopen(path, "w");
		if (f == NULL)
			lg_die("cannot write %s", path);
		long kept = 0;
		for (long i = 0; i < save_n; i++) {
			char *cert = e.saved[i] ? lg_rstrc_cert_b64(e.saved[i], e.saved_len[i]) : NULL;
			if (cert) {
				fprintf(f, "%s %ld %s\n", e.devid[i], i % nkeys, cert);
				kept++;
			}
			free(cert);
			free(e.saved[i]);
		}
		fclose(f);
		fprintf(stderr, "mdm-loadgen: %ld devices saved to %s\n", kept, path);
	}
	int ok = res.jobs_failed == 0 && res.jobs_ok > 0;
	lg_lat_free(&res.lat);
	return ok ? 0 : 1;
}

/* ---- issue: the physical limit --------------------------------------------------------- */

typedef struct {
	mdm_ca_t *ca;
	EVP_PKEY **keys;
	int nkeys;
	double seconds;
	int encode;
	long done;
	long cpu_us; /* CPU time of the issuing threads: the rate per CPU second does not depend
		      * on what else runs on the machine */
} s_issue_t;

static void s_issue_thread(long i, void *arg)
{
	s_issue_t *is = arg;
	char cn[64];
	long n = 0;
	double stop = lg_now() + is->seconds;
	while (lg_now() < stop) {
		for (int k = 0; k < 16; k++, n++) {
			mdm_err_t err = {0};
			snprintf(cn, sizeof cn, "%08lX%08lXBENCH%011ld", (unsigned long)i, (unsigned long)n, n);
			X509 *x = mdm_cert_issue(is->ca, is->keys[n % is->nkeys], cn, 365L * 86400, 300,
						 time(NULL), &err);
			if (x == NULL)
				lg_die("mdm_cert_issue: %s", err.text);
			if (is->encode) { /* what the PKI service does next with it */
				mdm_cert_info_t info;
				char *b64 = mdm_cert_der_b64(x);
				mdm_cert_get_info(x, &info);
				free(b64);
			}
			X509_free(x);
		}
	}
	__atomic_add_fetch(&is->done, n, __ATOMIC_RELAXED);
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	long us = (long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	__atomic_add_fetch(&is->cpu_us, us, __ATOMIC_RELAXED);
}

int lg_cmd_issue(int argc, char **argv)
{
	const char *ca_cert = NULL, *ca_key = NULL, *keys_file = NULL, *name = "issue";
	double seconds = 5;
	int threads = 1, encode = 0, nkeys = 32;
	static const struct option opts[] = {{"ca-cert", 1, 0, 'c'}, {"ca-key", 1, 0, 'k'},
					     {"seconds", 1, 0, 's'}, {"threads", 1, 0, 'T'},
					     {"encode", 0, 0, 'e'},  {"keys-file", 1, 0, 'K'},
					     {"name", 1, 0, 'N'},    {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': ca_cert = optarg; break;
		case 'k': ca_key = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'T': threads = atoi(optarg); break;
		case 'e': encode = 1; break;
		case 'K': keys_file = optarg; break;
		case 'N': name = optarg; break;
		default: return 64;
		}
	}
	if (!ca_cert || !ca_key || seconds <= 0 || seconds > 600 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: mdm-loadgen issue --ca-cert CA.pem --ca-key CA.key [--seconds S]\n"
				"         [--threads T] [--encode] [--keys-file F]\n"
				"Issues device certificates in memory with mdm_cert_issue in a loop "
				"(one thread each).\n");
		return 64;
	}
	mdm_err_t err = {0};
	mdm_ca_t *ca = mdm_ca_load(ca_cert, ca_key, &err);
	if (ca == NULL)
		lg_die("CA: %s", err.text);
	EVP_PKEY **keys;
	if (keys_file && access(keys_file, R_OK) == 0) {
		keys = lg_keys_read(keys_file, &nkeys);
	} else {
		keys = lg_keys_new(nkeys, 2048, 2);
		if (keys_file)
			lg_keys_write(keys, nkeys, keys_file);
	}
	s_issue_t is = {ca, keys, nkeys, seconds, encode, 0, 0};
	double t = lg_now();
	lg_parallel(threads, threads, s_issue_thread, &is);
	double el = lg_now() - t;
	double cpu = (double)is.cpu_us / 1e6;
	printf("{\"name\":\"%s\",\"threads\":%d,\"encode\":%s,\"certs\":%ld,\"seconds\":%.3f,"
	       "\"per_s\":%.1f,\"cpu_s\":%.3f,\"per_cpu_s\":%.1f}\n",
	       name, threads, encode ? "true" : "false", is.done, el, (double)is.done / el, cpu,
	       cpu > 0 ? (double)is.done / cpu : 0.0);
	mdm_ca_destroy(&ca);
	return 0;
}
