/* sim_main.c -- mdm-sim entry point: command line, dispatch to enroll/renew/manage/soap, exit codes. */
#include "sim.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "mdm_log.h"

int sim_verbose = 0;

static const char s_usage[] =
	"usage: mdm-sim [enroll] --url URL --email EMAIL [--auth onprem|preenroll|federated]\n"
	"               [--password P | --secret S] [device options] [--out DIR] [common options]\n"
	"       mdm-sim renew --dir DIR [--url RENEW_URL] [--key-bits N] [common options]\n"
	"       mdm-sim manage --dir DIR [--url MGMT_URL] [--wbxml] [--max-msg-size N] [--unenroll]\n"
	"               [--unenroll-alert-only] [--big-node-bytes N] [--max-rounds N]\n"
	"               [common options]\n"
	"       mdm-sim soap --url URL --file FILE [--content-type TYPE] [common options]\n"
	"\n"
	"Simulates a Windows 10/11 device against the MDM server (MS-MDE2: discovery, XCEP\n"
	"GetPolicies, WSTEP RequestSecurityToken; MS-MDM: OMA-DM 1.2 management sessions) and\n"
	"checks every answer.\n"
	"\n"
	"enroll:\n"
	"  --url URL               enrollment listener, e.g. https://localhost:8443\n"
	"                          (discovery at URL/EnrollmentServer/Discovery.svc)\n"
	"  --auth MODE             onprem (default): UsernameToken email/password\n"
	"                          preenroll: UsernameToken email/one-time secret\n"
	"                          federated: WAB login page, then the wresult token\n"
	"  --email EMAIL           EmailAddress, wsse:Username and login_hint\n"
	"  --password P            password (onprem, federated)\n"
	"  --secret S              one-time enrollment secret (preenroll)\n"
	"  --device-id ID          DeviceID (default: 32 random upper-case hex digits)\n"
	"  --hwdevid HEX           HWDevID (default: SHA-256 of the device id, 64 hex digits)\n"
	"  --device-name NAME      DeviceName (default: SIM-<first 8 of the device id>)\n"
	"  --enrollment-type T     Full (default, cert in My/User) | Device (My/System)\n"
	"  --request-version V     Discover RequestVersion (default 4.0; 2.0 with --win81)\n"
	"  --key-bits N            RSA key size (default: max(2048, policy minimalKeyLength))\n"
	"  --win81                 send a Windows Phone 8.1 style Discover (no AuthPolicies)\n"
	"  --out DIR               write device.key (0600), device.pem, root.pem, provdoc.xml and\n"
	"                          enrollment.json to DIR\n"
	"renew (ROBO; TLS client certificate DIR/device.pem + DIR/device.key):\n"
	"  --dir DIR               directory written by enroll --out; updated in place\n"
	"  --url RENEW_URL         default: renew_url, else enroll_url from enrollment.json\n"
	"  --key-bits N            new key size (default: same as the current key)\n"
	"manage (one OMA-DM session over mutual TLS with DIR/device.pem + DIR/device.key):\n"
	"  --dir DIR               directory written by enroll --out; the DM tree is DIR/tree.json,\n"
	"                          every server command is logged to DIR/received.jsonl\n"
	"  --url MGMT_URL          default: mgmt_url from enrollment.json (POSTed to\n"
	"                          MGMT_URL?mode=Maintenance&Platform=WoA)\n"
	"  --wbxml                 application/vnd.syncml.dm+wbxml (SyncML 1.2 WBXML) both ways\n"
	"  --max-msg-size N        our MaxMsgSize (default 65536): answers must not exceed it, and\n"
	"                          our messages stay below min(N, the server's MaxMsgSize)\n"
	"  --unenroll              user-initiated unenrollment: package 1 carries Alert 1226\n"
	"                          (com.microsoft:mdm.unenrollment.userrequest) like fleet_w10_10;\n"
	"                          afterwards enrollment.json says \"state\":\"unenrolled\" (later\n"
	"                          sessions still connect, so the server's refusal can be tested)\n"
	"  --unenroll-alert-only   the unenrollment message carries only the Alert 1226 (also for\n"
	"                          the one sent after a server's Exec .../Unenroll)\n"
	"  --big-node-bytes N      ./Vendor/MSFT/Sim/Big holds N bytes (sent in chunks with\n"
	"                          MoreData when a Results does not fit)\n"
	"  --max-rounds N          at most N messages per session (default 50)\n"

	"soap (replay: POSTs FILE, prints the status line and body to stdout):\n"
	"  --url URL --file FILE   target and message\n"
	"  --content-type TYPE     default application/soap+xml; charset=utf-8\n"
	"common:\n"
	"  --cacert FILE           trust this CA (PEM) for the server's TLS certificate\n"
	"  --insecure              do not verify the server's TLS certificate\n"
	"  --timeout SECONDS       per request (default 30)\n"
	"  --verbose               print requests, responses and progress to stderr\n"
	"  -h, --help              this text\n"
	"\n"
	"Prints \"enrolled <device_id> thumbprint <T> mgmt <ADDR>\" / \"renewed <device_id> thumbprint\n"
	"<T>\" on stdout; diagnostics go to stderr (\"check failed: ...\", \"fault: <subcode> <reason>\",\n"
	"\"http: ...\", \"auth failed: ...\").\n"
	"manage prints \"session <SessionID>: <n> messages, <k> commands applied\" per session (and\n"
	"\"unenrolled <device_id>\") on stdout; \"refused: <status>\" on stderr.\n"
	"exit: 0 ok, 1 a check on the server's answer failed (or a local error), 2 SOAP fault\n"
	"      (manage: refused: HTTP 4xx/5xx, SyncHdr status not 200/212, or Alert 1223),\n"
	"      3 transport/TLS error or HTTP status other than 200, 4 federated login refused,\n"
	"      64 usage error\n";

int sim_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("check failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return SIM_ECHECK;
}

void sim_note(const char *fmt, ...)
{
	if (!sim_verbose)
		return;
	va_list ap;
	fputs("* ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int s_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("mdm-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see mdm-sim --help)\n", stderr);
	return SIM_EUSAGE;
}

static int s_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Replay helper: POST a file as is, print what came back. */
static int s_soap(const char *url, const char *file, const char *ctype, const sim_tls_t *tls)
{
	FILE *f = fopen(file, "rb");
	mdm_buf_t data = MDM_BUF_INIT;
	sim_resp_t resp;
	sim_http_t *http = NULL;
	char chunk[8192];
	size_t n;
	int rc = SIM_ECHECK;

	memset(&resp, 0, sizeof resp);
	if (f == NULL) {
		perror(file);
		return SIM_ECHECK;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		mdm_buf_append(&data, chunk, n);
	check(!ferror(f) && !data.failed, "cannot read %s", file);
	http = sim_http_new(tls, 0);
	check_mem(http);
	rc = sim_http_request(http, "POST", url, ctype, data.data ? data.data : "", data.len, &resp);
	if (rc != SIM_OK)
		goto done;
	printf("%s\n", resp.status_line);
	fwrite(resp.body.data, 1, resp.body.len, stdout);
	if (resp.body.len && resp.body.data[resp.body.len - 1] != '\n')
		putchar('\n');
	fflush(stdout);
	rc = SIM_OK;
	goto done;
error:
	rc = SIM_ECHECK;
done:
	fclose(f);
	mdm_buf_free(&data);
	sim_resp_free(&resp);
	sim_http_destroy(&http);
	return rc;
}

enum {
	O_URL = 256, O_AUTH, O_EMAIL, O_PASSWORD, O_SECRET, O_DEVICE_ID, O_HWDEVID, O_DEVICE_NAME,
	O_ETYPE, O_RV, O_KEY_BITS, O_WIN81, O_OUT, O_DIR, O_FILE, O_CTYPE, O_CACERT, O_INSECURE,
	O_TIMEOUT, O_VERBOSE, O_WBXML, O_MAX_MSG, O_UNENROLL, O_ALERT_ONLY, O_BIG, O_ROUNDS,
};

static const struct option s_options[] = {
	{"url", required_argument, NULL, O_URL},
	{"auth", required_argument, NULL, O_AUTH},
	{"email", required_argument, NULL, O_EMAIL},
	{"password", required_argument, NULL, O_PASSWORD},
	{"secret", required_argument, NULL, O_SECRET},
	{"device-id", required_argument, NULL, O_DEVICE_ID},
	{"hwdevid", required_argument, NULL, O_HWDEVID},
	{"device-name", required_argument, NULL, O_DEVICE_NAME},
	{"enrollment-type", required_argument, NULL, O_ETYPE},
	{"request-version", required_argument, NULL, O_RV},
	{"key-bits", required_argument, NULL, O_KEY_BITS},
	{"win81", no_argument, NULL, O_WIN81},
	{"out", required_argument, NULL, O_OUT},
	{"dir", required_argument, NULL, O_DIR},
	{"file", required_argument, NULL, O_FILE},
	{"content-type", required_argument, NULL, O_CTYPE},
	{"cacert", required_argument, NULL, O_CACERT},
	{"insecure", no_argument, NULL, O_INSECURE},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"verbose", no_argument, NULL, O_VERBOSE},
	{"wbxml", no_argument, NULL, O_WBXML},
	{"max-msg-size", required_argument, NULL, O_MAX_MSG},
	{"unenroll", no_argument, NULL, O_UNENROLL},
	{"unenroll-alert-only", no_argument, NULL, O_ALERT_ONLY},
	{"big-node-bytes", required_argument, NULL, O_BIG},
	{"max-rounds", required_argument, NULL, O_ROUNDS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	sim_enroll_opts_t eo = {0};
	sim_manage_opts_t mo = {0};
	const char *cmd = "enroll", *dir = NULL, *file = NULL;
	const char *ctype = "application/soap+xml; charset=utf-8";
	long v;
	int c, rc;

	mdm_log_init("mdm-sim", MDM_LOG_INFO);
	eo.auth = "onprem";
	eo.enrollment_type = "Full";
	eo.tls.timeout = 30;
	mo.max_msg_size = 65536;
	mo.big_node_bytes = -1;
	mo.max_rounds = 50;
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		if (strcmp(cmd, "help") == 0) {
			fputs(s_usage, stdout);
			return 0;
		}
		if (strcmp(cmd, "enroll") && strcmp(cmd, "renew") && strcmp(cmd, "soap") &&
		    strcmp(cmd, "manage"))
			return s_usage_error("unknown command \"%s\"", cmd);
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	while ((c = getopt_long(argc, argv, "h", s_options, NULL)) != -1) {
		switch (c) {
		case O_URL: eo.url = optarg; break;
		case O_AUTH: eo.auth = optarg; break;
		case O_EMAIL: eo.email = optarg; break;
		case O_PASSWORD: eo.password = optarg; break;
		case O_SECRET: eo.secret = optarg; break;
		case O_DEVICE_ID: eo.device_id = optarg; break;
		case O_HWDEVID: eo.hwdevid = optarg; break;
		case O_DEVICE_NAME: eo.device_name = optarg; break;
		case O_ETYPE: eo.enrollment_type = optarg; break;
		case O_RV: eo.request_version = optarg; break;
		case O_WIN81: eo.win81 = 1; break;
		case O_OUT: eo.out_dir = optarg; break;
		case O_DIR: dir = optarg; break;
		case O_FILE: file = optarg; break;
		case O_CTYPE: ctype = optarg; break;
		case O_CACERT: eo.tls.cacert = optarg; break;
		case O_INSECURE: eo.tls.insecure = 1; break;
		case O_VERBOSE: sim_verbose = 1; break;
		case O_WBXML: mo.wbxml = 1; break;
		case O_UNENROLL: mo.unenroll = 1; break;
		case O_ALERT_ONLY: mo.alert_only = 1; break;
		case O_MAX_MSG:
			if (s_parse_long(optarg, 1024, 64L * 1024 * 1024, &v) != 0)
				return s_usage_error("--max-msg-size wants 1024..67108864, got \"%s\"", optarg);
			mo.max_msg_size = v;
			break;
		case O_BIG:
			if (s_parse_long(optarg, 0, 64L * 1024 * 1024, &v) != 0)
				return s_usage_error("--big-node-bytes wants 0..67108864, got \"%s\"", optarg);
			mo.big_node_bytes = v;
			break;
		case O_ROUNDS:
			if (s_parse_long(optarg, 1, 100000, &v) != 0)
				return s_usage_error("--max-rounds wants 1..100000, got \"%s\"", optarg);
			mo.max_rounds = (int)v;
			break;
		case O_KEY_BITS:
			if (s_parse_long(optarg, 512, 16384, &v) != 0)
				return s_usage_error("--key-bits wants 512..16384, got \"%s\"", optarg);
			eo.key_bits = (int)v;
			break;
		case O_TIMEOUT:
			if (s_parse_long(optarg, 1, 3600, &v) != 0)
				return s_usage_error("--timeout wants 1..3600 seconds, got \"%s\"", optarg);
			eo.tls.timeout = v;
			break;
		case 'h': fputs(s_usage, stdout); return 0;
		default: return s_usage_error("bad option");
		}
	}
	if (optind < argc)
		return s_usage_error("unexpected argument \"%s\"", argv[optind]);

	if (strcmp(cmd, "enroll") == 0) {
		if (eo.url == NULL || eo.email == NULL)
			return s_usage_error("enroll needs --url and --email");
		if (strcmp(eo.auth, "onprem") == 0 || strcmp(eo.auth, "federated") == 0) {
			if (eo.password == NULL)
				return s_usage_error("--auth %s needs --password", eo.auth);
		} else if (strcmp(eo.auth, "preenroll") == 0) {
			if (eo.secret == NULL)
				return s_usage_error("--auth preenroll needs --secret");
		} else {
			return s_usage_error("--auth must be onprem, preenroll or federated");
		}
		if (strcmp(eo.enrollment_type, "Full") && strcmp(eo.enrollment_type, "Device"))
			return s_usage_error("--enrollment-type must be Full or Device");
		if (eo.device_id && (!*eo.device_id || strlen(eo.device_id) > 64))
			return s_usage_error("--device-id must be 1..64 characters");
		if (eo.hwdevid && strlen(eo.hwdevid) > 64)
			return s_usage_error("--hwdevid must be at most 64 characters");
		if (eo.device_name && strlen(eo.device_name) > 64)
			return s_usage_error("--device-name must be at most 64 characters");
	} else if (strcmp(cmd, "renew") == 0) {
		if (dir == NULL)
			return s_usage_error("renew needs --dir");
	} else if (strcmp(cmd, "manage") == 0) {
		if (dir == NULL)
			return s_usage_error("manage needs --dir");
		if (eo.url && !sim_url_is_https(eo.url))
			return s_usage_error("--url must be an https URL");
	} else if (eo.url == NULL || file == NULL) {
		return s_usage_error("soap needs --url and --file");
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	xmlInitParser();
	if (strcmp(cmd, "enroll") == 0) {
		rc = sim_enroll(&eo);
	} else if (strcmp(cmd, "renew") == 0) {
		sim_renew_opts_t ro = {dir, eo.url, eo.key_bits, eo.tls};
		rc = sim_renew(&ro);
	} else if (strcmp(cmd, "manage") == 0) {
		mo.dir = dir;
		mo.url = eo.url;
		mo.tls = eo.tls;
		rc = sim_manage(&mo);
	} else {
		rc = s_soap(eo.url, file, ctype, &eo.tls);
	}
	xmlCleanupParser();
	curl_global_cleanup();
	return rc;
}
