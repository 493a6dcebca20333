/* ctl_main.c -- mdmctl entry point: the command table, help texts, argument parsing, exit codes. */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mdm_log.h"

/* Options every command takes, before or after the command words. */
static const char s_global_spec[] = "url= token= ca-file= insecure config= json wide timeout= help";

/* Options of the commands that queue a device command (one device, or many in bulk). */
#define CTL_TARGET_OPTS "group= devices= wait="
#define CTL_TARGET_HELP                                                                     \
	"  ID                      one device (its DeviceID)\n"                                 \
	"  --devices ID,ID...      several devices (bulk: one command each; exit 1 if any is\n" \
	"                          refused, the others still get theirs)\n"                    \
	"  --group G               every device of group G (bulk)\n"                           \
	"  --wait SECONDS          one device: then wait as `mdmctl command show --wait` does\n"
#define CTL_PW_HELP                                                                         \
	"  --password-stdin        read the password from the first line of stdin (default: a\n" \
	"                          prompt on the terminal, without echo)\n"

typedef struct {
	const char *words;    /* "devices list" */
	ctl_cmd_fn fn;
	const char *spec;     /* its options (ctl.h) */
	int min_pos, max_pos; /* positional arguments; max -1: no limit */
	const char *synopsis; /* after "mdmctl " */
	const char *help;     /* description and options */
} ctl_cmd_t;

/* One table, in the order `mdmctl help` lists them: the dispatcher checks the words, the
 * options and the number of arguments before a handler runs (Redis' processCommand). */
static const ctl_cmd_t s_cmds[] = {
	{"devices list", ctl_devices_list,
	 "platform= state= user= os-version= last-seen-before= last-seen-after= search= limit= "
	 "cursor= all",
	 0, 0,
	 "devices list [--platform P] [--state S] [--user EMAIL] [--os-version V]\n"
	 "        [--last-seen-before T] [--last-seen-after T] [--search Q] [--limit N]\n"
	 "        [--cursor C | --all]",
	 "Lists devices, newest enrollment first, one page at a time.\n"
	 "  --platform P            only this platform (windows)\n"
	 "  --state S               only this state (enrolled, unenrolled)\n"
	 "  --user EMAIL            only devices of this user\n"
	 "  --os-version V          only this OS version\n"
	 "  --last-seen-before T    last contact before T\n"
	 "  --last-seen-after T     last contact after T\n"
	 "                          T: epoch seconds, 2025-01-31, 2025-01-31T12:00Z (UTC) or\n"
	 "                          a time ago: 90s, 30m, 12h, 7d\n"
	 "  --search Q              device name or DeviceID contains Q (any case)\n"
	 "  --limit N               devices per page (server default 50, at most 500)\n"
	 "  --cursor C              the page that starts at C (printed after a partial page)\n"
	 "  --all                   every page (--json: one document with every device)\n"},
	{"device show", ctl_device_show, "", 1, 1, "device show ID",
	 "Shows one device: identity, state, certificate, inventory, DevInfo, groups, recent\n"
	 "commands.\n"},
	{"lock", ctl_lock, CTL_TARGET_OPTS, 0, 1,
	 "lock ID | --devices ID,ID... | --group G  [--wait SECONDS]",
	 "Queues a remote lock (RemoteLock/Lock) for the device's next session.\n" CTL_TARGET_HELP},
	{"wipe", ctl_wipe, "mode= yes " CTL_TARGET_OPTS, 0, 1,
	 "wipe ID | --devices ID,ID... | --group G  [--mode M] --yes [--wait SECONDS]",
	 "Queues a remote wipe: the device erases itself at its next session.\n"
	 "  --mode M                doWipe (default), doWipeProtected, doWipePersistUserData\n"
	 "  --yes                   required: confirms that the data on the device is lost\n" CTL_TARGET_HELP},
	{"reboot", ctl_reboot, CTL_TARGET_OPTS, 0, 1,
	 "reboot ID | --devices ID,ID... | --group G  [--wait SECONDS]",
	 "Queues a reboot (Reboot/RebootNow).\n" CTL_TARGET_HELP},
	{"inventory", ctl_inventory, CTL_TARGET_OPTS, 0, 1,
	 "inventory ID | --devices ID,ID... | --group G  [--wait SECONDS]",
	 "Queues an inventory (DevDetail: OS, OEM, hardware, serial number, RAM); the answers\n"
	 "appear in `mdmctl device show ID` and in the command's results.\n" CTL_TARGET_HELP},
	{"policy set", ctl_policy_set, "area= name= value= format= scope= " CTL_TARGET_OPTS, 0, 1,
	 "policy set ID | --devices ID,ID... | --group G  --area A --name N --value V\n"
	 "        [--format int|chr|bool] [--scope device|user] [--wait SECONDS]",
	 "Sets a Policy CSP setting (./Device or ./User /Vendor/MSFT/Policy/Config/A/N).\n"
	 "  --area A --name N       the policy, e.g. --area Camera --name AllowCamera\n"
	 "  --value V               its value (decimal for int, true/false for bool)\n"
	 "  --format F              int (default), chr (text) or bool\n"
	 "  --scope S               device (default) or user\n" CTL_TARGET_HELP},
	{"policy remove", ctl_policy_remove, "area= name= scope= " CTL_TARGET_OPTS, 0, 1,
	 "policy remove ID | --devices ID,ID... | --group G  --area A --name N\n"
	 "        [--scope device|user] [--wait SECONDS]",
	 "Removes a Policy CSP setting (the device goes back to its default).\n" CTL_TARGET_HELP},
	{"commands list", ctl_commands_list, "limit= cursor= all", 1, 1,
	 "commands list ID [--limit N] [--cursor C | --all]",
	 "Lists the commands of a device, newest first, with their state and device status.\n"},
	{"command show", ctl_command_show, "wait=", 1, 1, "command show CMDID [--wait SECONDS]",
	 "Shows one command: state, device status, times and results.\n"
	 "  --wait SECONDS          poll until the command is done, failed, expired or cancelled;\n"
	 "                          exit 6 unless done, 7 if still pending after SECONDS\n"},
	{"unenroll", ctl_unenroll, "force yes", 1, 1, "unenroll ID [--force] --yes",
	 "Unenrolls a device. Without --force the DMClient Unenroll command is queued and the\n"
	 "device is unenrolled when it receives it; with --force it is unenrolled at once, its\n"
	 "certificate revoked and its queued commands cancelled.\n"
	 "  --force                 do not wait for the device\n"
	 "  --yes                   required: confirms the unenrollment\n"},
	{"pre-enroll", ctl_pre_enroll, "device-name= group= ttl=", 1, 1,
	 "pre-enroll EMAIL [--device-name N] [--group G] [--ttl SECONDS]",
	 "Creates a one-time enrollment secret for EMAIL and prints it: this is the only time\n"
	 "it is shown. The device enrolls with the email and the secret as password.\n"
	 "  --device-name N         name the device gets\n"
	 "  --group G               group the device joins when it enrolls\n"
	 "  --ttl SECONDS           lifetime of the secret (server default 7 days)\n"},
	{"pre-enrollments list", ctl_pre_enrollments_list, "", 0, 0, "pre-enrollments list",
	 "Lists pending pre-enrollments (never their secrets).\n"},
	{"pre-enrollments revoke", ctl_pre_enrollments_revoke, "", 1, 1,
	 "pre-enrollments revoke ID", "Revokes a pending pre-enrollment: its secret no longer works.\n"},
	{"users add", ctl_users_add, "password-stdin", 1, 1, "users add EMAIL [--password-stdin]",
	 "Creates a device user (who may enroll devices with email and password).\n" CTL_PW_HELP},
	{"users list", ctl_users_list, "", 0, 0, "users list", "Lists device users.\n"},
	{"users revoke", ctl_users_revoke, "", 1, 1, "users revoke EMAIL",
	 "Revokes a device user: they can no longer enroll; enrolled devices stay.\n"},
	{"group create", ctl_group_create, "", 1, 1, "group create NAME",
	 "Creates a group. Names: 1 to 64 of A-Z a-z 0-9 space _ . -\n"},
	{"group rename", ctl_group_rename, "", 2, 2, "group rename NAME NEWNAME", "Renames a group.\n"},
	{"group delete", ctl_group_delete, "", 1, 1, "group delete NAME",
	 "Deletes a group (its devices stay enrolled).\n"},
	{"group add", ctl_group_add, "", 2, -1, "group add NAME ID [ID...]",
	 "Adds devices to a group; exit 1 if any of them was refused (the others are added).\n"},
	{"group remove", ctl_group_remove, "", 2, -1, "group remove NAME ID [ID...]",
	 "Removes devices from a group.\n"},
	{"group list", ctl_group_list, "", 0, 0, "group list", "Lists groups with their size.\n"},
	{"group show", ctl_group_show, "", 1, 1, "group show NAME", "Lists the devices of a group.\n"},
	{"admins add", ctl_admins_add, "role= password-stdin", 1, 1,
	 "admins add EMAIL --role admin|read-only [--password-stdin]",
	 "Creates an administrator of the console and API.\n"
	 "  --role R                admin (may change everything) or read-only (may only read)\n" CTL_PW_HELP},
	{"admins list", ctl_admins_list, "", 0, 0, "admins list", "Lists administrators.\n"},
	{"admins delete", ctl_admins_delete, "", 1, 1, "admins delete EMAIL",
	 "Deletes an administrator.\n"},
	{"login", ctl_login, "password-stdin save", 1, 1, "login EMAIL [--password-stdin] [--save]",
	 "Logs in as an administrator and prints the session token (12 h) on stdout, e.g.\n"
	 "  export MDM_TOKEN=$(mdmctl login admin@example.com)\n"
	 "  --save                  write the token (and the URL, CA file) to the config file\n"
	 "                          (mode 0600) instead of printing it\n" CTL_PW_HELP},
	{"logout", ctl_logout, "", 0, 0, "logout",
	 "Ends the session of the current token and removes it from the config file.\n"},
	{"tokens create", ctl_tokens_create, "role=", 1, 1, "tokens create NAME [--role admin|read-only]",
	 "Creates an API token for scripts and prints it: this is the only time it is shown.\n"
	 "  --role R                read-only (server default) or admin\n"},
	{"tokens list", ctl_tokens_list, "", 0, 0, "tokens list", "Lists API tokens (never the tokens).\n"},
	{"tokens delete", ctl_tokens_delete, "", 1, 1, "tokens delete ID", "Deletes an API token.\n"},
	{"audit", ctl_audit, "actor= action= since= until= limit= cursor= all", 0, 0,
	 "audit [--actor A] [--action X] [--since T] [--until T] [--limit N] [--cursor C | --all]",
	 "Lists the audit log, newest first: every change through the API and every login.\n"
	 "  --actor A               only events of this admin, token or bootstrap\n"
	 "  --action X              only this action (login, login.failed, command.create, ...)\n"
	 "  --since T --until T     time range (T as in `devices list`)\n"
	 "  --limit N --cursor C --all   paging as in `devices list`\n"},
	{"stats", ctl_stats, "", 0, 0, "stats",
	 "Shows counters: devices by state and platform, enrollments, sessions, commands.\n"},
	{"whoami", ctl_whoami, "", 0, 0, "whoami",
	 "Shows who the token belongs to (bootstrap, session or API token) and its role.\n"},
};
#define CTL_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static const char s_global_help[] =
	"global options (before or after the command):\n"
	"  --url URL               server, e.g. https://mdm.example.com:8443\n"
	"  --token TOKEN           bearer token (prefer MDM_TOKEN or the config file: argv is\n"
	"                          visible to other users)\n"
	"  --ca-file FILE          trust this CA (PEM) for the server's certificate\n"
	"  --insecure              do not verify the server's certificate\n"
	"  --config FILE           config file (see below)\n"
	"  --json                  print the API's JSON as is, one document (nothing for 204)\n"
	"  --wide                  do not truncate table cells\n"
	"  --timeout SECONDS       per request (default 30)\n"
	"  -h, --help              help of mdmctl or of a command\n"
	"\n"
	"configuration, first found wins, setting by setting:\n"
	"  1. --url, --token, --ca-file, --insecure\n"
	"  2. MDM_URL, MDM_TOKEN, MDM_CA_FILE, MDM_INSECURE=1\n"
	"  3. the config file: --config FILE, else $MDMCTL_CONFIG, else\n"
	"     $XDG_CONFIG_HOME/mdmctl/config, else ~/.config/mdmctl/config;\n"
	"     \"key = value\" lines: url, token, ca_file, insecure; '#' starts a comment.\n"
	"     `mdmctl login --save` writes it with mode 0600.\n"
	"Passwords are read from the terminal without echo, or from the first line of stdin\n"
	"with --password-stdin; never from the command line.\n"
	"\n"
	"exit codes:\n"
	"  0  ok\n"
	"  1  the API refused the request (400, 405, 409, 413, 429, ...), a bulk or group\n"
	"     change refused some devices, or a local failure (cannot write the config file)\n"
	"  2  usage error (bad command line, no server URL, no password source)\n"
	"  3  authentication or authorization: 401, 403, or no token\n"
	"  4  not found: 404\n"
	"  5  server unavailable: 5xx, connection refused, timeout, TLS error, not an API\n"
	"  6  a waited-for command (--wait) ended failed, expired or cancelled\n"
	"  7  --wait ran out while the command was still queued or sent\n";

static const ctl_cmd_t *s_current; /* the command being run, for ctl_usage */

int ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("mdmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int ctl_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("mdmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (s_current)
		fprintf(stderr, "usage: mdmctl %s\n(see mdmctl %s --help)\n", s_current->synopsis,
			s_current->words);
	else
		fputs("(see mdmctl --help)\n", stderr);
	return CTL_EUSAGE;
}

const char *ctl_opt(const ctl_args_t *a, const char *name)
{
	size_t n = strlen(name);
	for (int i = a->nopt - 1; i >= 0; i--)
		if (a->opt[i].len == n && !strncmp(a->opt[i].name, name, n))
			return a->opt[i].value;
	return NULL;
}

int ctl_flag(const ctl_args_t *a, const char *name)
{
	return ctl_opt(a, name) != NULL;
}

/* Finds option name[0..len) in a spec; sets *at to its place in the spec (stable storage
 * for ctl_opt_t.name) and *has_arg. 1 if found. */
static int s_spec_find(const char *spec, const char *name, size_t len, const char **at,
		       int *has_arg)
{
	const char *p = spec;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ' && *p != '=')
			p++;
		size_t n = (size_t)(p - start);
		int arg = *p == '=';
		if (arg)
			p++;
		if (n > 0 && n == len && !strncmp(start, name, len)) {
			*at = start;
			*has_arg = arg;
			return 1;
		}
	}
	return 0;
}

/* Parses argv[*i] (and its value) as an option of spec1 or spec2 into a. Returns 0, or
 * CTL_EUSAGE after printing why. */
static int s_parse_opt(int argc, char **argv, int *i, const char *spec1, const char *spec2,
		       ctl_args_t *a)
{
	const char *arg = argv[*i];
	if (!strcmp(arg, "-h"))
		arg = "--help";
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const char *at;
	int has_arg;
	if (!(spec1 && s_spec_find(spec1, name, len, &at, &has_arg)) &&
	    !(spec2 && s_spec_find(spec2, name, len, &at, &has_arg)))
		return ctl_usage("unknown option --%.*s", (int)len, name);
	if (a->nopt >= CTL_MAX_OPTS)
		return ctl_usage("too many options");
	ctl_opt_t *o = &a->opt[a->nopt++];
	o->name = at;
	o->len = len;
	if (!has_arg) {
		if (eq)
			return ctl_usage("option --%.*s takes no value", (int)len, name);
		o->value = "";
	} else if (eq) {
		o->value = eq + 1;
	} else if (*i + 1 < argc) {
		o->value = argv[++*i];
	} else {
		return ctl_usage("option --%.*s needs a value", (int)len, name);
	}
	return 0;
}

static int s_is_opt(const char *s)
{
	return (s[0] == '-' && s[1] == '-' && s[2] != '\0') || !strcmp(s, "-h");
}

/* Command words match with or without a final 's' ("device list" = "devices list"). */
static int s_word_eq(const char *word, const char *tw, size_t tlen)
{
	size_t wl = strlen(word);
	if (wl > 0 && word[wl - 1] == 's')
		wl--;
	if (tlen > 0 && tw[tlen - 1] == 's')
		tlen--;
	return wl == tlen && !strncmp(word, tw, wl);
}

/* How many leading words of argv[from..] name cmd (0: none). */
static int s_match_cmd(const ctl_cmd_t *cmd, int argc, char **argv, int from)
{
	const char *w = cmd->words;
	int n = 0;
	while (*w) {
		const char *sp = strchr(w, ' ');
		size_t len = sp ? (size_t)(sp - w) : strlen(w);
		if (from + n >= argc || !s_word_eq(argv[from + n], w, len))
			return 0;
		n++;
		w += len;
		while (*w == ' ')
			w++;
	}
	return n;
}

static int s_first_word_eq(const ctl_cmd_t *cmd, const char *word)
{
	const char *sp = strchr(cmd->words, ' ');
	size_t len = sp ? (size_t)(sp - cmd->words) : strlen(cmd->words);
	return s_word_eq(word, cmd->words, len);
}

static void s_help_all(FILE *out)
{
	fputs("usage: mdmctl [global options] COMMAND [arguments] [options]\n"
	      "\n"
	      "Administers the MDM server through its admin API (/api/v1).\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < CTL_NCMDS; i++)
		fprintf(out, "  %s\n", s_cmds[i].synopsis);
	fputs("  help [COMMAND]\n\n", out);
	fputs(s_global_help, out);
	fputs("\n`mdmctl COMMAND --help` describes one command.\n", out);
}

static void s_help_cmd(FILE *out, const ctl_cmd_t *c)
{
	fprintf(out, "usage: mdmctl %s\n\n%s", c->synopsis, c->help);
	fputs("\nglobal options: --url --token --ca-file --insecure --config --json --wide "
	      "--timeout\n(exit codes and configuration: mdmctl --help)\n",
	      out);
}

/* Help of every command whose first word is word (out NULL: only counts them); 0 if there
 * is none. */
static int s_help_family(FILE *out, const char *word)
{
	int n = 0;
	for (size_t i = 0; i < CTL_NCMDS; i++) {
		if (!s_first_word_eq(&s_cmds[i], word))
			continue;
		if (out == NULL) { /* only counting */
			n++;
			continue;
		}
		fprintf(out, "%s  mdmctl %s\n", n ? "" : "usage:\n", s_cmds[i].synopsis);
		n++;
	}
	if (n && out)
		fprintf(out, "\n(see mdmctl %s SUBCOMMAND --help)\n", word);
	return n;
}

/* Finds the command named by argv[from..]; sets *nwords. NULL if none. */
static const ctl_cmd_t *s_find(int argc, char **argv, int from, int *nwords)
{
	const ctl_cmd_t *best = NULL;
	int best_n = 0;
	for (size_t i = 0; i < CTL_NCMDS; i++) {
		int n = s_match_cmd(&s_cmds[i], argc, argv, from);
		if (n > best_n) {
			best = &s_cmds[i];
			best_n = n;
		}
	}
	*nwords = best_n;
	return best;
}

/* `mdmctl help [WORDS...]` */
static int s_help(int argc, char **argv, int from)
{
	if (from >= argc || s_is_opt(argv[from])) {
		s_help_all(stdout);
		return CTL_OK;
	}
	int n;
	const ctl_cmd_t *c = s_find(argc, argv, from, &n);
	if (c) {
		s_help_cmd(stdout, c);
		return CTL_OK;
	}
	if (s_help_family(stdout, argv[from]))
		return CTL_OK;
	return ctl_usage("no command \"%s\"", argv[from]);
}

static int s_run(ctl_t *ctl, int argc, char **argv)
{
	ctl_args_t *a = calloc(1, sizeof *a);
	if (a == NULL)
		return ctl_fail(CTL_EAPI, "out of memory");
	int rc = CTL_OK, i = 1;
	/* global options before the command */
	for (; i < argc && s_is_opt(argv[i]); i++)
		if ((rc = s_parse_opt(argc, argv, &i, s_global_spec, NULL, a)) != 0)
			goto done;
	if (i >= argc) {
		if (ctl_flag(a, "help")) {
			s_help_all(stdout);
		} else {
			fputs("mdmctl: no command given\n"
			      "usage: mdmctl [global options] COMMAND [arguments] [options]\n"
			      "(see mdmctl help)\n",
			      stderr);
			rc = CTL_EUSAGE;
		}
		goto done;
	}
	if (!strcmp(argv[i], "help")) {
		rc = s_help(argc, argv, i + 1);
		goto done;
	}
	int nwords;
	const ctl_cmd_t *c = s_find(argc, argv, i, &nwords);
	if (c == NULL) {
		/* a family word alone ("mdmctl group") or with an unknown subcommand */
		int want_help = ctl_flag(a, "help") ||
				(i + 1 < argc && (!strcmp(argv[i + 1], "--help") ||
						  !strcmp(argv[i + 1], "-h")));
		if (want_help && s_help_family(stdout, argv[i])) {
			rc = CTL_OK;
		} else if (s_help_family(NULL, argv[i])) {
			if (i + 1 < argc && !s_is_opt(argv[i + 1]))
				fprintf(stderr, "mdmctl: no command \"%s %s\"\n", argv[i], argv[i + 1]);
			else
				fprintf(stderr, "mdmctl: \"%s\" needs a subcommand\n", argv[i]);
			s_help_family(stderr, argv[i]);
			rc = CTL_EUSAGE;
		} else {
			rc = ctl_usage("no command \"%s\"", argv[i]);
		}
		goto done;
	}
	s_current = c;
	i += nwords;
	int only_pos = 0;
	for (; i < argc; i++) {
		if (!only_pos && !strcmp(argv[i], "--")) {
			only_pos = 1;
		} else if (!only_pos && s_is_opt(argv[i])) {
			if ((rc = s_parse_opt(argc, argv, &i, c->spec, s_global_spec, a)) != 0)
				goto done;
		} else if (a->npos >= CTL_MAX_POS) {
			rc = ctl_usage("too many arguments");
			goto done;
		} else {
			a->pos[a->npos++] = argv[i];
		}
	}
	if (ctl_flag(a, "help")) {
		s_help_cmd(stdout, c);
		goto done;
	}
	if (a->npos < c->min_pos) {
		rc = ctl_usage("missing argument");
		goto done;
	}
	if (c->max_pos >= 0 && a->npos > c->max_pos) {
		rc = ctl_usage("unexpected argument \"%s\"", a->pos[c->max_pos]);
		goto done;
	}
	for (int k = 0; k < a->npos; k++)
		if (a->pos[k][0] == '\0') {
			rc = ctl_usage("empty argument");
			goto done;
		}
	ctl->json = ctl_flag(a, "json");
	ctl->wide = ctl_flag(a, "wide");
	if ((rc = ctl_config_load(&ctl->cfg, a)) != 0)
		goto done;
	rc = c->fn(ctl, a);
done:
	free(a);
	return rc;
}

int main(int argc, char **argv)
{
	mdm_log_init("mdmctl", MDM_LOG_WARN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ctl_fail(CTL_EUNAVAIL, "cannot initialise libcurl");
	ctl_t ctl = {0};
	int rc = s_run(&ctl, argc, argv);
	ctl_http_cleanup(&ctl);
	ctl_config_free(&ctl.cfg);
	curl_global_cleanup();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mdmctl: cannot write the output\n");
		if (rc == CTL_OK)
			rc = CTL_EAPI;
	}
	return rc;
}
