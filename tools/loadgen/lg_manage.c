/* lg_manage.c -- `mdm-loadgen manage`: OMA-DM sessions over mutual TLS as Windows opens
 * them: package 1 (Alert 1201, Alert 1224 LoginStatus, Replace ./DevInfo, Final); whatever
 * the server sends back (the first-contact inventory Get, queued commands) is answered with
 * Status 200 and Results, until the server's message carries no command. A job is one
 * session; throughput is also reported per message. Devices (certificate + key) come from
 * `mdm-loadgen enroll --save`. The same client measures the bare civetweb baseline
 * (bench/https_baseline.c), which answers every message with a fixed final message. */
#include "lg.h"

#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "mdm_b64.h"
#include "mdm_syncml.h"

#define LG_MAX_MSGS 10 /* a session longer than this is a failure */


typedef struct {
	char *id;
	X509 *cert;
	int key;
} s_dev_t;

typedef struct {
	int port;
	char target[256];    /* SyncHdr Target: the management URL */
	s_dev_t *devs;
	long ndev;
	EVP_PKEY **keys;
	int nkeys;
	int new_conn;        /* device = job % ndev on a fresh connection */
	unsigned sid_base;
	atomic_int shown;
	atomic_long msgs_with_cmds;
} s_mgmt_t;

typedef struct {
	long dev;
	int msg;             /* our last MsgID */
	char sid[24];
	char *next;          /* the next message body, built from the server's answer */
	size_t next_len;
} s_sess_t;

static s_sess_t *s_ss(lg_conn_t *c)
{
	if (c->job_state == NULL)
		c->job_state = lg_xmalloc(sizeof(s_sess_t));
	return c->job_state;
}

static int s_client_cert(void *w, SSL *ssl, int ident)
{
	s_mgmt_t *m = w;
	if (ident < 0 || ident >= m->ndev)
		return -1;
	if (SSL_use_certificate(ssl, m->devs[ident].cert) != 1 ||
	    SSL_use_PrivateKey(ssl, m->keys[m->devs[ident].key]) != 1)
		return -1;
	return 0;
}

static int s_conn_ident(void *w, int g)
{
	s_mgmt_t *m = w;
	return (int)(g % m->ndev);
}

static int s_begin(void *w, lg_conn_t *c, long job)
{
	s_mgmt_t *m = w;
	s_sess_t *s = s_ss(c);
	s->dev = m->new_conn ? job % m->ndev : c->global_index % m->ndev;
	c->want_ident = (int)s->dev;
	s->msg = 0;
	free(s->next);
	s->next = NULL;
	snprintf(s->sid, sizeof s->sid, "%X%lX", m->sid_base, (unsigned long)job);
	return 0;
}

static void s_tag(mdm_buf_t *b, const char *name, const char *v)
{
	mdm_buf_printf(b, "<%s>", name);
	mdm_buf_put_escaped(b, v);
	mdm_buf_printf(b, "</%s>", name);
}

/* Package 1, as a Windows 10/11 DM client sends it (fleet captures; tools/sim). */
static void s_package1(s_mgmt_t *m, s_sess_t *s, mdm_buf_t *b)
{
	const char *dev = m->devs[s->dev].id;
	mdm_buf_puts(b, "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
			"<VerProto>DM/1.2</VerProto>");
	s_tag(b, "SessionID", s->sid);
	mdm_buf_printf(b, "<MsgID>%d</MsgID><Target>", s->msg);
	s_tag(b, "LocURI", m->target);
	mdm_buf_puts(b, "</Target><Source>");
	s_tag(b, "LocURI", dev);
	mdm_buf_puts(b, "</Source><Meta><MaxMsgSize xmlns=\"syncml:metinf\">65536</MaxMsgSize></Meta>"
			"</SyncHdr><SyncBody>"
			"<Alert><CmdID>2</CmdID><Data>1201</Data></Alert>"
			"<Alert><CmdID>3</CmdID><Data>1224</Data><Item><Meta><Type xmlns=\"syncml:metinf\">"
			"com.microsoft/MDM/LoginStatus</Type></Meta><Data>user</Data></Item></Alert>"
			"<Replace><CmdID>4</CmdID>");
	static const char *const names[] = {"DevId", "Man", "Mod", "DmV", "Lang"};
	const char *vals[] = {dev, "Contoso", "Bench Device", "1.3", "en-US"};
	for (int i = 0; i < 5; i++) {
		mdm_buf_printf(b, "<Item><Source><LocURI>./DevInfo/%s</LocURI></Source><Data>", names[i]);
		mdm_buf_put_escaped(b, vals[i]);
		mdm_buf_puts(b, "</Data></Item>");
	}
	mdm_buf_puts(b, "</Replace><Final/></SyncBody></SyncML>");
}

static int s_request(void *w, lg_conn_t *c, mdm_buf_t *out)
{
	s_mgmt_t *m = w;
	s_sess_t *s = s_ss(c);
	mdm_buf_t body = MDM_BUF_INIT;
	const char *data;
	size_t len;
	s->msg++;
	if (s->next == NULL) {
		s_package1(m, s, &body);
		data = body.data;
		len = body.len;
	} else {
		data = s->next;
		len = s->next_len;
	}
	mdm_buf_printf(out,
		       "POST /ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA HTTP/1.1\r\n"
		       "Host: localhost:%d\r\nUser-Agent: MSFT OMA DM Client/1.2.0.1\r\n"
		       "Content-Type: application/vnd.syncml.dm+xml\r\n"
		       "Accept: application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml, "
		       "application/octet-stream\r\nAccept-Charset: UTF-8\r\nContent-Length: %zu\r\n\r\n",
		       m->port, len);
	mdm_buf_append(out, data, len);
	mdm_buf_free(&body);
	return 0;
}

static int s_bad(s_mgmt_t *m, long job, const char *what, int status, const char *body, size_t len)
{
	if (atomic_fetch_add(&m->shown, 1) < 5)
		fprintf(stderr, "mdm-loadgen: session %ld: %s: HTTP %d: %.*s\n", job, what, status,
			(int)(len > 600 ? 600 : len), body);
	return -1;
}

/* Answers every command of the server's message: Status 200, and Results for a Get. */
static int s_answer(s_mgmt_t *m, s_sess_t *s, const char *body, size_t len)
{
	mdm_err_t err = {0};
	mdm_sml_msg_t *in = mdm_sml_parse(body, len, MDM_SML_CT_XML, &err);
	if (in == NULL)
		return -1;
	char msgid[16];
	snprintf(msgid, sizeof msgid, "%d", s->msg + 1);
	mdm_sml_writer_t *wr = mdm_sml_writer_new(s->sid, msgid, m->target, m->devs[s->dev].id);
	int rc = wr ? 0 : -1;
	if (wr)
		mdm_sml_add_status(wr, in->msg_id, "0", "SyncHdr", "200", NULL, NULL);
	for (size_t i = 0; wr && i < in->n_cmds; i++) {
		const mdm_sml_cmd_t *cmd = &in->cmds[i];
		if (!strcmp(cmd->name, "Status"))
			continue;
		const char *t = cmd->n_items ? cmd->items[0].target : NULL;
		mdm_sml_add_status(wr, in->msg_id, cmd->cmd_id, cmd->name, "200", t, NULL);
		if (!strcmp(cmd->name, "Get") && cmd->n_items) {
			mdm_sml_item_t *items = lg_xmalloc(cmd->n_items * sizeof *items);
			for (size_t k = 0; k < cmd->n_items; k++) {
				items[k].source = cmd->items[k].target;
				items[k].format = "chr";
				items[k].data = "bench-value";
				items[k].size = -1;
			}
			mdm_sml_add_results(wr, in->msg_id, cmd->cmd_id, items, cmd->n_items);
			free(items);
		}
	}
	free(s->next);
	s->next = wr ? mdm_sml_writer_finish(wr, 1, 0, &s->next_len) : NULL;
	if (s->next == NULL)
		rc = -1;
	mdm_sml_writer_destroy(&wr);
	mdm_sml_msg_destroy(&in);
	return rc;
}

static int s_has_cmds(const char *body, size_t len)
{
	static const char *const tags[] = {"<Get>", "<Exec>", "<Add>", "<Replace>", "<Delete>",
					   "<Atomic>", "<Sequence>", "<Alert>", "<Copy>"};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (lg_memstr(body, len, tags[i]))
			return 1;
	return 0;
}

static int s_response(void *w, lg_conn_t *c, int status, const char *body, size_t len)
{
	s_mgmt_t *m = w;
	s_sess_t *s = s_ss(c);
	if (status != 200 || !lg_memstr(body, len, "<SyncML"))
		return s_bad(m, c->job, "answer", status, body, len);
	/* the Status for our SyncHdr comes first and must be 200 (212: authenticated) */
	const char *h = lg_memstr(body, len, "<Cmd>SyncHdr</Cmd>");
	const char *d = h ? lg_memstr(h, len - (size_t)(h - body), "<Data>") : NULL;
	if (d == NULL || (strncmp(d + 6, "200<", 4) && strncmp(d + 6, "212<", 4)))
		return s_bad(m, c->job, "SyncHdr status", status, body, len);
	if (!s_has_cmds(body, len))
		return lg_memstr(body, len, "<Final/>") ? 1 : s_bad(m, c->job, "no Final", status, body, len);
	atomic_fetch_add(&m->msgs_with_cmds, 1);
	if (s->msg >= LG_MAX_MSGS)
		return s_bad(m, c->job, "session does not end", status, body, len);
	if (s_answer(m, s, body, len) != 0)
		return s_bad(m, c->job, "cannot answer", status, body, len);
	return 0;
}

static void s_load(s_mgmt_t *m, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/keys.pem", dir);
	m->keys = lg_keys_read(path, &m->nkeys);
	snprintf(path, sizeof path, "%s/devices.txt", dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		lg_die("cannot read %s", path);
	long cap = 1024;
	m->devs = lg_xmalloc((size_t)cap * sizeof *m->devs);
	char *line = NULL;
	size_t lcap = 0;
	while (getline(&line, &lcap, f) > 0) {
		char id[128], cert[8192];
		int key;
		if (sscanf(line, "%127s %d %8191s", id, &key, cert) != 3 || key < 0 || key >= m->nkeys)
			continue;
		size_t dlen = 0;
		unsigned char *der = mdm_b64_decode(cert, &dlen);
		const unsigned char *p = der;
		X509 *x = der ? d2i_X509(NULL, &p, (long)dlen) : NULL;
		free(der);
		if (x == NULL)
			continue;
		if (m->ndev == cap) {
			cap *= 2;
			m->devs = realloc(m->devs, (size_t)cap * sizeof *m->devs);
			if (m->devs == NULL)
				lg_die("out of memory");
		}
		m->devs[m->ndev++] = (s_dev_t){lg_xstrdup(id), x, key};
	}
	free(line);
	fclose(f);
	if (m->ndev == 0)
		lg_die("no devices in %s", path);
}

static const char s_usage[] =
	"usage: mdm-loadgen manage --url https://127.0.0.1:PORT --cacert CA.pem --devices DIR\n"
	"         [--sessions N] [--seconds S] [--conns C] [--threads T] [--rate R]\n"
	"         [--new-conn] [--cdf FILE] [--name NAME] [--quickack]\n"
	"Runs OMA-DM sessions over mutual TLS with the devices of DIR (written by enroll --save):\n"
	"keep-alive, connection i is device i (default), or --new-conn: session j on a fresh TLS\n"
	"connection as device j. Prints one JSON line (jobs = sessions, requests = messages).\n";

int lg_cmd_manage(int argc, char **argv)
{
	const char *url = NULL, *cacert = NULL, *dir = NULL, *cdf = NULL, *name = "manage";
	long sessions = 0;
	int conns = 16, threads = 1, new_conn = 0;
	double rate = 0, seconds = 0;
	int quickack = 0;
	static const struct option opts[] = {
		{"url", 1, 0, 'u'},	{"cacert", 1, 0, 'c'},	{"devices", 1, 0, 'd'},
		{"sessions", 1, 0, 'n'}, {"seconds", 1, 0, 's'}, {"conns", 1, 0, 'C'},
		{"threads", 1, 0, 'T'}, {"rate", 1, 0, 'r'},	{"new-conn", 0, 0, 'x'},
		{"cdf", 1, 0, 'f'},	{"name", 1, 0, 'N'},	{"quickack", 0, 0, 'Q'}, {"help", 0, 0, 'h'},
		{0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'u': url = optarg; break;
		case 'c': cacert = optarg; break;
		case 'd': dir = optarg; break;
		case 'n': sessions = atol(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'C': conns = atoi(optarg); break;
		case 'T': threads = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'x': new_conn = 1; break;
		case 'f': cdf = optarg; break;
		case 'N': name = optarg; break;
		case 'Q': quickack = 1; break;
		default: fputs(s_usage, stderr); return o == 'h' ? 0 : 64;
		}
	}
	if (!url || !cacert || !dir || (sessions <= 0 && seconds <= 0) || seconds > 3600 ||
	    conns < 1 || conns > 1000 || threads < 1 || threads > 16) {
		fputs(s_usage, stderr);
		return 64;
	}
	s_mgmt_t m = {.new_conn = new_conn};
	atomic_init(&m.shown, 0);
	atomic_init(&m.msgs_with_cmds, 0);
	lg_parse_url(url, &m.port);
	snprintf(m.target, sizeof m.target, "https://localhost:%d/ManagementServer/MDM.svc", m.port);
	unsigned char r[2];
	RAND_bytes(r, sizeof r);
	m.sid_base = (unsigned)(r[0] << 8 | r[1]) | 0x10000u;
	s_load(&m, dir);

	lg_work_t w = {s_begin, s_request, s_response, s_client_cert, new_conn ? NULL : s_conn_ident, &m};
	lg_run_cfg_t rc = {"127.0.0.1", m.port, cacert, conns, threads, sessions, seconds, rate,
			   new_conn, quickack, &w, 0};
	lg_result_t res;
	lg_run(&rc, &res);
	if (cdf)
		lg_lat_write_cdf(&res.lat, cdf);
	char extra[400];
	snprintf(extra, sizeof extra,
		 "\"workload\":\"manage\",\"quickack\":%s,\"conns\":%d,\"threads\":%d,\"rate\":%.1f,\"devices\":%ld,"
		 "\"new_conn\":%s,\"answers_with_commands\":%ld",
		 quickack ? "true" : "false", conns * threads, threads, rate, m.ndev, new_conn ? "true" : "false",
		 atomic_load(&m.msgs_with_cmds));
	lg_result_print(name, &res, extra);
	int ok = res.jobs_failed == 0 && res.jobs_ok > 0;
	lg_lat_free(&res.lat);
	return ok ? 0 : 1;
}
