/* ctl.h -- mdmctl, the admin API client: exit codes, arguments, config, HTTP, output. */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "mdm_buf.h"

/* Exit codes: the contract with scripts (printed by `mdmctl --help`, docs/mdmctl.md). */
enum {
	CTL_OK = 0,
	CTL_EAPI = 1,      /* the API refused the request (4xx other than below); local failure */
	CTL_EUSAGE = 2,    /* bad command line, no server URL, no password source */
	CTL_EAUTH = 3,     /* 401/403, or no token configured */
	CTL_ENOTFOUND = 4, /* 404 */
	CTL_EUNAVAIL = 5,  /* 5xx, connection refused, timeout, TLS, an answer that is not JSON */
	CTL_ECMDFAIL = 6,  /* a waited-for command ended failed, expired or cancelled */
	CTL_EWAIT = 7,     /* --wait ran out with the command still queued or sent */
};

/* ---- arguments (ctl_main.c) ------------------------------------------------------------
 * An option spec is a space-separated list of long option names; a trailing '=' means the
 * option takes a value ("limit= all"). Parsed values point into argv; nothing is copied. */
#define CTL_MAX_OPTS 32
#define CTL_MAX_POS 256

typedef struct {
	const char *name; /* into the spec string, len bytes, not NUL-terminated there */
	size_t len;
	const char *value; /* "" for a flag */
} ctl_opt_t;

typedef struct {
	ctl_opt_t opt[CTL_MAX_OPTS];
	int nopt;
	const char *pos[CTL_MAX_POS];
	int npos;
} ctl_args_t;

/* Value of --name (the last one given), "" for a flag that is set, NULL if absent. */
const char *ctl_opt(const ctl_args_t *a, const char *name);
int ctl_flag(const ctl_args_t *a, const char *name);

/* ---- configuration (ctl_config.c) ------------------------------------------------------ */
typedef struct {
	char *url;         /* base URL without trailing '/', owned */
	char *token;       /* owned; wiped when freed */
	char *ca_file;     /* owned */
	int insecure;      /* 1: do not verify the server's certificate */
	long timeout;      /* seconds per request */
	char *path;        /* the config file in effect (may not exist), owned */
	int path_explicit; /* 1: named by --config or $MDMCTL_CONFIG (must exist to be read) */
	const char *token_from; /* "--token", "MDM_TOKEN", "config" or NULL: for messages */
	char *file_token;  /* the token the config file holds (to know what logout removes) */
} ctl_config_t;

/* Resolves every setting: flag > environment > config file. Returns CTL_OK, or an exit code
 * after printing why (unreadable explicit config file: CTL_EUSAGE). */
int ctl_config_load(ctl_config_t *cfg, const ctl_args_t *a);
void ctl_config_free(ctl_config_t *cfg);
/* Sets (value non-NULL) or removes (value NULL) key in the config file, keeping every other
 * line; the file is replaced atomically with mode 0600, its directory created 0700. Returns
 * 0, or -1 after printing why. */
int ctl_config_write(const ctl_config_t *cfg, const char *const *keys, const char *const *values,
		     int n);

/* ---- HTTP (ctl_http.c) ---------------------------------------------------------------- */
typedef struct {
	long status;     /* HTTP status, 0 before an answer */
	json_t *json;    /* parsed body of a 2xx answer with a body, else NULL; owned */
	mdm_buf_t body;  /* raw body */
} ctl_resp_t;

void ctl_resp_free(ctl_resp_t *resp);

typedef struct ctl ctl_t;

enum { CTL_ANON = 1 }; /* ctl_api flags: send no Authorization header */

/* Sends METHOD <url>/api/v1<path> with body (JSON, may be NULL) and the bearer token. Returns
 * CTL_OK with resp filled for a 2xx answer whose body is empty or JSON; otherwise prints what
 * went wrong on stderr and returns the exit code of its class. resp is always ready for
 * ctl_resp_free. path must already be escaped (ctl_path). */
int ctl_api(ctl_t *ctl, const char *method, const char *path, const json_t *body, int flags,
	    ctl_resp_t *resp);
/* "/devices/%s/commands" with every %s replaced by its argument percent-encoded as one
 * path segment (only A-Z a-z 0-9 - . _ ~ stay). Caller frees; NULL when out of memory. */
char *ctl_path(const char *fmt, ...);
/* Appends "?k=v" or "&k=v" to buf, v percent-encoded; nothing when v is NULL. */
void ctl_query(mdm_buf_t *buf, const char *key, const char *value);
void ctl_http_cleanup(ctl_t *ctl);

/* ---- the run ------------------------------------------------------------------------- */
struct ctl {
	ctl_config_t cfg;
	int json;  /* --json: print the API's JSON */
	int wide;  /* --wide: do not truncate table cells */
	void *curl; /* CURL *, created on first use */
};

/* Prints "mdmctl: <msg>" on stderr; returns code (for `return ctl_fail(...)`). */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error for the current command: message, synopsis, pointer to --help. Returns 2. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- output (ctl_out.c) -------------------------------------------------------------- */
typedef struct ctl_table ctl_table_t;

/* Columns are given as "HEADER:maxwidth" (maxwidth 0: never truncated). Caller destroys. */
ctl_table_t *ctl_table_new(int ncols, const char *const *cols);
/* Adds a row of ncols cells (NULL prints "-"); cells are copied and made printable. */
void ctl_table_add(ctl_table_t *t, const char *const *cells);
/* Prints the header and rows, columns two spaces apart; wide: no truncation. */
void ctl_table_print(ctl_table_t *t, FILE *out, int wide);
int ctl_table_rows(const ctl_table_t *t);
void ctl_table_destroy(ctl_table_t **t);

/* Copies s into out (cap bytes) with control characters (C0, DEL, C1) replaced by '?', so
 * text from devices cannot drive the terminal; never cuts a UTF-8 sequence. */
void ctl_printable(const char *s, char *out, size_t cap);
/* A JSON value as display text in out: strings as they are, numbers, true/false, "-" for
 * null/absent, objects and arrays as compact JSON. Control characters become '?'. */
const char *ctl_str(const json_t *v, char *out, size_t cap);
/* A time (epoch seconds as a number or a decimal string; ISO 8601 text is kept) as
 * "YYYY-MM-DD HH:MM:SSZ"; "-" when absent. */
const char *ctl_time(const json_t *v, char *out, size_t cap);
/* "label   value" line for key/value views; value made printable. */
void ctl_kv(FILE *out, const char *label, const char *value);
void ctl_kv_json(FILE *out, const char *label, const json_t *v);
void ctl_kv_time(FILE *out, const char *label, const json_t *v);
/* Prints resp's raw body (the API's JSON as is) with a final newline. */
void ctl_print_raw(const ctl_resp_t *resp);
/* Parses a time argument: epoch seconds, YYYY-MM-DD[THH:MM[:SS]][Z] (UTC) or a duration
 * ago (30s, 15m, 2h, 7d). 0, or -1 if it is none of these. */
int ctl_parse_time(const char *s, long long *out);
/* Parses a positive decimal integer up to max. 0 or -1. */
int ctl_parse_count(const char *s, long long max, long long *out);

/* ---- passwords (ctl_password.c) ------------------------------------------------------- */
/* Reads a password from stdin (first line; from_stdin) or from a prompt on the terminal
 * without echo (twice when confirm). Returns a malloc'd string the caller wipes and frees
 * with ctl_password_free, or NULL after printing why (*code is set to the exit code). */
char *ctl_password_read(int from_stdin, int confirm, int *code);
void ctl_password_free(char **pw);

/* ---- commands (ctl_devices.c, ctl_admin.c) ------------------------------------------- */
typedef int (*ctl_cmd_fn)(ctl_t *ctl, const ctl_args_t *a);

int ctl_devices_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_device_show(ctl_t *ctl, const ctl_args_t *a);
int ctl_lock(ctl_t *ctl, const ctl_args_t *a);
int ctl_wipe(ctl_t *ctl, const ctl_args_t *a);
int ctl_reboot(ctl_t *ctl, const ctl_args_t *a);
int ctl_inventory(ctl_t *ctl, const ctl_args_t *a);
int ctl_policy_set(ctl_t *ctl, const ctl_args_t *a);
int ctl_policy_remove(ctl_t *ctl, const ctl_args_t *a);
int ctl_commands_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_command_show(ctl_t *ctl, const ctl_args_t *a);
int ctl_unenroll(ctl_t *ctl, const ctl_args_t *a);

int ctl_pre_enroll(ctl_t *ctl, const ctl_args_t *a);
int ctl_pre_enrollments_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_pre_enrollments_revoke(ctl_t *ctl, const ctl_args_t *a);
int ctl_users_add(ctl_t *ctl, const ctl_args_t *a);
int ctl_users_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_users_revoke(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_create(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_rename(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_delete(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_add(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_remove(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_group_show(ctl_t *ctl, const ctl_args_t *a);
int ctl_admins_add(ctl_t *ctl, const ctl_args_t *a);
int ctl_admins_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_admins_delete(ctl_t *ctl, const ctl_args_t *a);
int ctl_login(ctl_t *ctl, const ctl_args_t *a);
int ctl_logout(ctl_t *ctl, const ctl_args_t *a);
int ctl_tokens_create(ctl_t *ctl, const ctl_args_t *a);
int ctl_tokens_list(ctl_t *ctl, const ctl_args_t *a);
int ctl_tokens_delete(ctl_t *ctl, const ctl_args_t *a);
int ctl_audit(ctl_t *ctl, const ctl_args_t *a);
int ctl_stats(ctl_t *ctl, const ctl_args_t *a);
int ctl_whoami(ctl_t *ctl, const ctl_args_t *a);

/* Shared by list commands: GETs path (with its query in q) page after page while --all is
 * given, printing the merged document with --json; calls row(ctl, item, table) for every
 * element of the array named key. Returns an exit code. */
typedef void (*ctl_row_fn)(ctl_t *ctl, const json_t *item, ctl_table_t *t);
int ctl_list(ctl_t *ctl, const ctl_args_t *a, const char *path, mdm_buf_t *q, const char *key,
	     ctl_table_t *t, ctl_row_fn row);
/* Device table columns and row (devices list, group show). */
ctl_table_t *ctl_device_table(void);
void ctl_device_row(ctl_t *ctl, const json_t *d, ctl_table_t *t);

#endif
