/* https_baseline.c -- the "physical limit" of the management benchmark: a bare civetweb
 * HTTPS server with the gateway's management-listener TLS settings (mutual TLS against the
 * device CA, keep-alive, the same thread count), whose only handler reads the request body
 * and answers a fixed SyncML message (the size of a real answer to package 1: four Statuses
 * and Final). No bus, no service, no Redis. Built by bench/run.sh against the gateway's own
 * civetweb object (build/obj/civetweb.o).
 *
 * usage: https-baseline PORT SERVER_PEM CA_PEM [THREADS] [TCP_NODELAY 0|1]
 * Runs until SIGTERM/SIGINT, or for at most 30 minutes (bench runs must end by themselves). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civetweb.h"

static const char s_body[] =
	"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
	"<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>00000000000000000000000000000000"
	"</LocURI></Target><Source><LocURI>https://localhost/ManagementServer/MDM.svc</LocURI>"
	"</Source></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef>"
	"<Cmd>SyncHdr</Cmd><TargetRef>https://localhost/ManagementServer/MDM.svc</TargetRef>"
	"<SourceRef>00000000000000000000000000000000</SourceRef><Data>200</Data></Status><Status>"
	"<CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Alert</Cmd><Data>200</Data>"
	"</Status><Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Cmd>Alert</Cmd>"
	"<Data>200</Data></Status><Status><CmdID>4</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
	"<Cmd>Replace</Cmd><Data>200</Data></Status><Final/></SyncBody></SyncML>";

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

static int s_handle(struct mg_connection *conn, void *cbdata)
{
	(void)cbdata;
	char buf[16384];
	while (mg_read(conn, buf, sizeof buf) > 0)
		;
	/* the way the gateway answers (gw_http.c s_send): status line, headers and body
	 * formatted into one buffer and sent with one mg_write, i.e. one TLS record */
	char out[4096], date[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
	int n = snprintf(out, sizeof out,
			 "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.syncml.dm+xml\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-store\r\nDate: %s\r\n"
			 "Connection: keep-alive\r\n\r\n%s",
			 sizeof s_body - 1, date, s_body);
	if (n > 0 && (size_t)n < sizeof out)
		mg_write(conn, out, (size_t)n);
	return 200;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s PORT SERVER_PEM CA_PEM [THREADS] [TCP_NODELAY]\n", argv[0]);
		return 64;
	}
	char ports[64];
	snprintf(ports, sizeof ports, "127.0.0.1:%ss", argv[1]);
	const char *threads = argc > 4 ? argv[4] : "32";
	const char *nodelay = argc > 5 ? argv[5] : "0";
	const char *opts[] = {"listening_ports", ports,
			      "num_threads", threads,
			      "ssl_certificate", argv[2],
			      "enable_keep_alive", "yes",
			      "keep_alive_timeout_ms", "30000",
			      "request_timeout_ms", "30000",
			      "ssl_verify_peer", "yes",
			      "ssl_ca_file", argv[3],
			      "ssl_default_verify_paths", "no",
			      "ssl_verify_depth", "2",
			      "ssl_protocol_version", "4",
			      "tcp_nodelay", nodelay,
			      NULL};
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	mg_init_library(MG_FEATURES_TLS);
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	struct mg_context *ctx = mg_start(&cb, NULL, opts);
	if (ctx == NULL) {
		fprintf(stderr, "https-baseline: cannot listen on %s\n", ports);
		return 1;
	}
	mg_set_request_handler(ctx, "/", s_handle, NULL);
	fprintf(stderr, "https-baseline: listening on https://%s (threads %s, tcp_nodelay %s)\n",
		ports, threads, nodelay);
	time_t end = time(NULL) + 1800;
	while (!s_stop && time(NULL) < end)
		usleep(100000);
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
