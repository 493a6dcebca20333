/* lg_main.c -- mdm-loadgen entry point: `issue`, `enroll`, `manage` (see bench/run.sh and
 * docs/performance.md). Load only goes to 127.0.0.1. */
#include "lg.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "mdm_log.h"

static const char s_usage[] =
	"usage: mdm-loadgen issue  --ca-cert CA.pem --ca-key CA.key [--seconds S] [--threads T]\n"
	"       mdm-loadgen enroll --url https://127.0.0.1:PORT --cacert CA.pem --count N ...\n"
	"       mdm-loadgen manage --url https://127.0.0.1:PORT --cacert CA.pem --devices DIR ...\n"
	"`mdm-loadgen COMMAND --help` lists a command's options. Every command prints one JSON\n"
	"object per measurement on stdout; progress and errors go to stderr.\n";

int main(int argc, char **argv)
{
	mdm_log_init("loadgen", MDM_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	xmlInitParser();
	if (argc < 2) {
		fputs(s_usage, stderr);
		return 64;
	}
	const char *cmd = argv[1];
	argv[1] = argv[0];
	if (!strcmp(cmd, "issue"))
		return lg_cmd_issue(argc - 1, argv + 1);
	if (!strcmp(cmd, "enroll"))
		return lg_cmd_enroll(argc - 1, argv + 1);
	if (!strcmp(cmd, "manage"))
		return lg_cmd_manage(argc - 1, argv + 1);
	fputs(s_usage, stderr);
	return !strcmp(cmd, "--help") || !strcmp(cmd, "-h") ? 0 : 64;
}
