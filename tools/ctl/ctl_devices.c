/* ctl_devices.c -- mdmctl device commands: list/show, typed commands (one device or bulk), waits, unenroll. */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CTL_MAX_WAIT 86400

/* ---- lists -------------------------------------------------------------------------- */

/* A "next" cursor as text: the API gives a number today and an opaque string tomorrow. */
static char *s_cursor(const json_t *next)
{
	char buf[64];
	if (json_is_string(next))
		return strdup(json_string_value(next));
	if (json_is_integer(next)) {
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(next));
		return strdup(buf);
	}
	return NULL;
}

int ctl_list(ctl_t *ctl, const ctl_args_t *a, const char *path, mdm_buf_t *q, const char *key,
	     ctl_table_t *t, ctl_row_fn row)
{
	const char *limit = ctl_opt(a, "limit"), *cursor0 = ctl_opt(a, "cursor");
	int all = ctl_flag(a, "all"), rc = CTL_OK;
	long long n;
	if (limit && ctl_parse_count(limit, 100000, &n) != 0)
		return ctl_usage("--limit must be a positive number");
	if (cursor0 && all)
		return ctl_usage("--cursor and --all exclude each other");
	if (t == NULL)
		return ctl_fail(CTL_EAPI, "out of memory");
	ctl_query(q, "limit", limit);
	char *cursor = cursor0 ? strdup(cursor0) : NULL;
	json_t *merged = all && ctl->json ? json_array() : NULL;
	for (int page = 0;; page++) {
		mdm_buf_t query = MDM_BUF_INIT, url = MDM_BUF_INIT;
		if (q->len)
			mdm_buf_append(&query, q->data, q->len);
		ctl_query(&query, "cursor", cursor);
		mdm_buf_printf(&url, "%s%s", path, query.data ? query.data : "");
		int failed = url.failed || query.failed;
		mdm_buf_free(&query);
		if (failed) {
			mdm_buf_free(&url);
			rc = ctl_fail(CTL_EAPI, "out of memory");
			break;
		}
		ctl_resp_t resp;
		rc = ctl_api(ctl, "GET", url.data, NULL, 0, &resp);
		mdm_buf_free(&url);
		if (rc != CTL_OK) {
			ctl_resp_free(&resp);
			break;
		}
		json_t *arr = json_object_get(resp.json, key);
		if (!json_is_array(arr)) {
			ctl_resp_free(&resp);
			rc = ctl_fail(CTL_EUNAVAIL, "GET /api/v1%s: the answer has no \"%s\" list", path,
				      key);
			break;
		}
		size_t i;
		json_t *item;
		if (ctl->json && !all)
			ctl_print_raw(&resp);
		else if (merged)
			json_array_extend(merged, arr);
		else
			json_array_foreach(arr, i, item) row(ctl, item, t);
		char *next = s_cursor(json_object_get(resp.json, "next"));
		ctl_resp_free(&resp);
		if (next && !all && !ctl->json)
			fprintf(stderr, "(more: --cursor %s, or --all)\n", next);
		if (next == NULL || !all) {
			free(next);
			break;
		}
		if ((cursor && !strcmp(next, cursor)) || page > 100000) {
			free(next);
			rc = ctl_fail(CTL_EUNAVAIL, "the server repeats the cursor %s", cursor);
			break;
		}
		free(cursor);
		cursor = next;
	}
	free(cursor);
	if (rc == CTL_OK) {
		if (merged) {
			json_t *doc = json_pack("{s:O,s:n}", key, merged, "next");
			if (doc)
				json_dumpf(doc, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(doc);
		} else if (!ctl->json && ctl_table_rows(t) == 0) {
			fprintf(stderr, "(no %s)\n", key);
		} else if (!ctl->json) {
			ctl_table_print(t, stdout, ctl->wide);
		}
	}
	json_decref(merged);
	return rc;
}

static const char *s_get(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

ctl_table_t *ctl_device_table(void)
{
	static const char *const cols[] = {"DEVICE ID:40", "NAME:24",  "USER:28",     "PLATFORM:10",
					   "STATE:12",     "OS:18",    "LAST SEEN:0"};
	return ctl_table_new(7, cols);
}

void ctl_device_row(ctl_t *ctl, const json_t *d, ctl_table_t *t)
{
	char seen[64];
	if (json_is_string(d)) { /* group members may come as bare ids */
		const char *cells[7] = {json_string_value(d)};
		ctl_table_add(t, cells);
		return;
	}
	const char *cells[] = {s_get(d, "device_id"),  s_get(d, "device_name"), s_get(d, "user"),
			       s_get(d, "platform"),   s_get(d, "state"),       s_get(d, "os_version"),
			       ctl_time(json_object_get(d, "last_seen"), seen, sizeof seen)};
	ctl_table_add(t, cells);
}

int ctl_devices_list(ctl_t *ctl, const ctl_args_t *a)
{
	static const struct {
		const char *opt, *param;
		int is_time;
	} filters[] = {{"platform", "platform", 0},
		       {"state", "state", 0},
		       {"user", "user", 0},
		       {"os-version", "os_version", 0},
		       {"last-seen-before", "last_seen_before", 1},
		       {"last-seen-after", "last_seen_after", 1},
		       {"search", "q", 0}};
	mdm_buf_t q = MDM_BUF_INIT;
	int rc;
	for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
		const char *v = ctl_opt(a, filters[i].opt);
		char num[32];
		long long t;
		if (v && filters[i].is_time) {
			if (ctl_parse_time(v, &t) != 0) {
				mdm_buf_free(&q);
				return ctl_usage("--%s: \"%s\" is not a time (epoch seconds, "
						 "2025-01-31[T12:00[:00]][Z] or 30m, 12h, 7d ago)",
						 filters[i].opt, v);
			}
			snprintf(num, sizeof num, "%lld", t);
			v = num;
		}
		ctl_query(&q, filters[i].param, v);
	}
	ctl_table_t *t = ctl_device_table();
	rc = ctl_list(ctl, a, "/devices", &q, "devices", t, ctl_device_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	return rc;
}

/* Fields of a device shown first, in this order; every other one follows. */
static const struct {
	const char *key, *label;
} s_device_fields[] = {
	{"device_id", "device id"},
	{"device_name", "name"},
	{"user", "user"},
	{"platform", "platform"},
	{"state", "state"},
	{"os_version", "os version"},
	{"os_edition", "os edition"},
	{"device_type", "device type"},
	{"enrollment_type", "enrollment type"},
	{"auth", "authentication"},
	{"enrolled_at", "enrolled at"},
	{"first_enrolled_at", "first enrolled at"},
	{"last_seen", "last seen"},
	{"hwdevid", "hwdevid"},
	{"macs", "macs"},
};

static int s_is_time_key(const char *k)
{
	size_t n = strlen(k);
	return (n > 3 && !strcmp(k + n - 3, "_at")) || !strcmp(k, "last_seen");
}

static void s_kv_any(const char *label, const json_t *v, int is_time)
{
	if (json_is_array(v)) {
		mdm_buf_t b = MDM_BUF_INIT;
		size_t i;
		json_t *e;
		char s[512];
		json_array_foreach(v, i, e) mdm_buf_printf(&b, "%s%s", i ? ", " : "",
							   ctl_str(e, s, sizeof s));
		ctl_kv(stdout, label, b.data ? b.data : "-");
		mdm_buf_free(&b);
	} else if (is_time) {
		ctl_kv_time(stdout, label, v);
	} else {
		ctl_kv_json(stdout, label, v);
	}
}

/* A section of name/value pairs: the object at key, or the flat prefix_* fields, with the
 * names in a column as wide as the longest. */
static void s_section(const json_t *d, const char *title, const char *key, const char *prefix)
{
	const json_t *obj = json_object_get(d, key);
	size_t plen = json_is_object(obj) ? 0 : strlen(prefix);
	const json_t *src = json_is_object(obj) ? obj : d;
	int width = 0, n = 0;
	const char *k;
	json_t *v;
	for (int pass = 0; pass < 2; pass++)
		json_object_foreach((json_t *)src, k, v)
		{
			if (plen && (strncmp(k, prefix, plen) != 0 || k[plen] == '\0'))
				continue;
			char label[80], val[1024];
			ctl_printable(k + plen, label, sizeof label);
			if (pass == 0) {
				if ((int)strlen(label) > width)
					width = (int)strlen(label);
				continue;
			}
			if (n++ == 0)
				printf("%s:\n", title);
			if (s_is_time_key(k))
				ctl_time(v, val, sizeof val);
			else
				ctl_str(v, val, sizeof val);
			printf("  %-*s  %s\n", width, label, val);
		}
}

static ctl_table_t *s_cmd_table(void)
{
	static const char *const cols[] = {"COMMAND ID:36", "TYPE:10", "STATE:10", "STATUS:6",
					   "CREATED:0", "DONE:0"};
	return ctl_table_new(6, cols);
}

static void s_cmd_row(ctl_t *ctl, const json_t *c, ctl_table_t *t)
{
	char created[64], done[64], status[32];
	const char *cells[] = {s_get(c, "id"), s_get(c, "type"), s_get(c, "state"),
			       ctl_str(json_object_get(c, "status"), status, sizeof status),
			       ctl_time(json_object_get(c, "created_at"), created, sizeof created),
			       ctl_time(json_object_get(c, "done_at"), done, sizeof done)};
	ctl_table_add(t, cells);
}

int ctl_device_show(ctl_t *ctl, const ctl_args_t *a)
{
	char *path = ctl_path("/devices/%s", a->pos[0]);
	if (path == NULL)
		return ctl_fail(CTL_EAPI, "out of memory");
	ctl_resp_t resp;
	int rc = ctl_api(ctl, "GET", path, NULL, 0, &resp);
	free(path);
	if (rc != CTL_OK)
		goto done;
	if (ctl->json) {
		ctl_print_raw(&resp);
		goto done;
	}
	const json_t *d = resp.json;
	for (size_t i = 0; i < sizeof s_device_fields / sizeof s_device_fields[0]; i++) {
		json_t *v = json_object_get(d, s_device_fields[i].key);
		if (v)
			s_kv_any(s_device_fields[i].label, v, s_is_time_key(s_device_fields[i].key));
	}
	const json_t *cert = json_object_get(d, "certificate");
	ctl_kv_json(stdout, "certificate serial", json_object_get(cert, "serial"));
	ctl_kv_json(stdout, "certificate thumbprint", json_object_get(cert, "thumbprint"));
	ctl_kv_time(stdout, "certificate expires", json_object_get(cert, "not_after"));
	/* the rest, as the server sends it, so new fields show without a new mdmctl */
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)d, k, v)
	{
		int known = !strcmp(k, "certificate") || !strcmp(k, "inventory") ||
			    !strcmp(k, "devinfo") || !strcmp(k, "commands") || !strcmp(k, "groups") ||
			    !strncmp(k, "inv_", 4) || !strncmp(k, "devinfo_", 8);
		for (size_t i = 0; !known && i < sizeof s_device_fields / sizeof s_device_fields[0];
		     i++)
			known = !strcmp(k, s_device_fields[i].key);
		if (!known) {
			char label[64];
			ctl_printable(k, label, sizeof label);
			for (char *p = label; *p; p++)
				if (*p == '_')
					*p = ' ';
			s_kv_any(label, v, s_is_time_key(k));
		}
	}
	json_t *groups = json_object_get(d, "groups");
	if (json_is_array(groups))
		s_kv_any("groups", groups, 0);
	s_section(d, "inventory", "inventory", "inv_");
	s_section(d, "devinfo", "devinfo", "devinfo_");
	json_t *cmds = json_object_get(d, "commands");
	if (json_is_array(cmds) && json_array_size(cmds) > 0) {
		ctl_table_t *t = s_cmd_table();
		size_t i;
		json_t *c;
		json_array_foreach(cmds, i, c) s_cmd_row(ctl, c, t);
		printf("recent commands:\n");
		ctl_table_print(t, stdout, ctl->wide);
		ctl_table_destroy(&t);
	}
done:
	ctl_resp_free(&resp);
	return rc;
}

/* ---- commands ----------------------------------------------------------------------- */

static void s_cmd_view(ctl_t *ctl, const json_t *c)
{
	ctl_kv_json(stdout, "command id", json_object_get(c, "id"));
	ctl_kv_json(stdout, "type", json_object_get(c, "type"));
	ctl_kv_json(stdout, "device id", json_object_get(c, "device_id"));
	ctl_kv_json(stdout, "state", json_object_get(c, "state"));
	ctl_kv_json(stdout, "device status", json_object_get(c, "status"));
	ctl_kv_json(stdout, "request", json_object_get(c, "request"));
	ctl_kv_time(stdout, "created at", json_object_get(c, "created_at"));
	ctl_kv_time(stdout, "sent at", json_object_get(c, "sent_at"));
	ctl_kv_time(stdout, "done at", json_object_get(c, "done_at"));
	ctl_kv_time(stdout, "expires at", json_object_get(c, "expires_at"));
	json_t *results = json_object_get(c, "results");
	if (json_is_array(results) && json_array_size(results) > 0) {
		static const char *const cols[] = {"TARGET:64", "FORMAT:6", "DATA:60"};
		ctl_table_t *t = ctl_table_new(3, cols);
		size_t i;
		json_t *r;
		json_array_foreach(results, i, r)
		{
			char data[1024];
			const char *cells[] = {s_get(r, "target"), s_get(r, "format"),
					       ctl_str(json_object_get(r, "data"), data, sizeof data)};
			ctl_table_add(t, cells);
		}
		printf("results:\n");
		ctl_table_print(t, stdout, ctl->wide);
		ctl_table_destroy(&t);
	}
}

static double s_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Shows command id; with wait > 0 first polls it until it reaches a final state or wait
 * seconds pass. Returns CTL_OK (done, or not waited for), CTL_ECMDFAIL (failed, expired,
 * cancelled), CTL_EWAIT (still pending), or the request's exit code. */
static int s_show_command(ctl_t *ctl, const char *id, long long wait)
{
	char *path = ctl_path("/commands/%s", id);
	if (path == NULL)
		return ctl_fail(CTL_EAPI, "out of memory");
	double deadline = s_now() + (double)wait, pause = 0.25;
	ctl_resp_t resp;
	const char *state = NULL;
	int rc;
	for (;;) {
		rc = ctl_api(ctl, "GET", path, NULL, 0, &resp);
		if (rc != CTL_OK)
			break;
		state = s_get(resp.json, "state");
		int pending = state && (!strcmp(state, "queued") || !strcmp(state, "sent"));
		if (wait <= 0 || !pending)
			break;
		double left = deadline - s_now();
		if (left <= 0)
			break;
		ctl_resp_free(&resp);
		usleep((useconds_t)((pause < left ? pause : left) * 1e6));
		pause = pause * 1.5 < 2 ? pause * 1.5 : 2;
	}
	free(path);
	if (rc != CTL_OK) {
		ctl_resp_free(&resp);
		return rc;
	}
	if (ctl->json)
		ctl_print_raw(&resp);
	else
		s_cmd_view(ctl, resp.json);
	if (wait > 0 && state) {
		char status[32];
		ctl_str(json_object_get(resp.json, "status"), status, sizeof status);
		if (!strcmp(state, "queued") || !strcmp(state, "sent")) {
			rc = ctl_fail(CTL_EWAIT, "command %s is still %s after %lld s", id, state, wait);
		} else if (strcmp(state, "done") != 0) {
			rc = ctl_fail(CTL_ECMDFAIL, "command %s ended %s (device status %s)", id,
				      state, status);
		}
	}
	ctl_resp_free(&resp);
	return rc;
}

int ctl_command_show(ctl_t *ctl, const ctl_args_t *a)
{
	const char *w = ctl_opt(a, "wait");
	long long wait = 0;
	if (w && ctl_parse_count(w, CTL_MAX_WAIT, &wait) != 0)
		return ctl_usage("--wait must be a number of seconds from 1 to %d", CTL_MAX_WAIT);
	return s_show_command(ctl, a->pos[0], wait);
}

int ctl_commands_list(ctl_t *ctl, const ctl_args_t *a)
{
	char *path = ctl_path("/devices/%s/commands", a->pos[0]);
	if (path == NULL)
		return ctl_fail(CTL_EAPI, "out of memory");
	mdm_buf_t q = MDM_BUF_INIT;
	ctl_table_t *t = s_cmd_table();
	int rc = ctl_list(ctl, a, path, &q, "commands", t, s_cmd_row);
	ctl_table_destroy(&t);
	mdm_buf_free(&q);
	free(path);
	return rc;
}

/* Splits "a,b,c" into a JSON array of ids; NULL after a usage error (empty element). */
static json_t *s_id_list(const char *list)
{
	json_t *arr = json_array();
	const char *p = list;
	while (arr) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0) {
			json_decref(arr);
			ctl_usage("--devices: an empty device id in \"%s\"", list);
			return NULL;
		}
		json_array_append_new(arr, json_stringn(p, n));
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return arr;
}

/* Queues cmd (taken) for the target the arguments name: one device (ID), several
 * (--devices) or a group (--group). Prints the command(s); waits with --wait. */
static int s_queue(ctl_t *ctl, const ctl_args_t *a, json_t *cmd)
{
	const char *devs = ctl_opt(a, "devices"), *group = ctl_opt(a, "group");
	const char *w = ctl_opt(a, "wait");
	const char *id = a->npos ? a->pos[0] : NULL;
	json_t *body = NULL, *ids = NULL;
	ctl_resp_t resp = {0};
	char *path = NULL;
	long long wait = 0;
	int rc;
	if (cmd == NULL) {
		rc = ctl_fail(CTL_EAPI, "out of memory");
		goto done;
	}
	if ((id != NULL) + (devs != NULL) + (group != NULL) != 1) {
		rc = ctl_usage("name the target: a device ID, --devices ID,ID... or --group G");
		goto done;
	}
	if (w && (id == NULL || ctl_parse_count(w, CTL_MAX_WAIT, &wait) != 0)) {
		rc = ctl_usage(id ? "--wait must be a number of seconds from 1 to %d"
				  : "--wait works for one device (then `mdmctl command show "
				    "CMDID --wait %d`)",
			       CTL_MAX_WAIT);
		goto done;
	}
	if (group && *group == '\0') {
		rc = ctl_usage("--group: empty group name");
		goto done;
	}
	if (devs && (ids = s_id_list(devs)) == NULL) {
		rc = CTL_EUSAGE;
		goto done;
	}
	if (id) {
		path = ctl_path("/devices/%s/commands", id);
		body = json_incref(cmd);
	} else {
		path = ctl_path("/commands");
		body = ids ? json_pack("{s:O,s:O}", "devices", ids, "command", cmd)
			   : json_pack("{s:s,s:O}", "group", group, "command", cmd);
	}
	if (path == NULL || body == NULL) {
		rc = ctl_fail(CTL_EAPI, "out of memory");
		goto done;
	}
	rc = ctl_api(ctl, "POST", path, body, 0, &resp);
	if (rc != CTL_OK)
		goto done;
	if (id) {
		const char *cid = s_get(resp.json, "id");
		if (wait > 0 && cid) {
			if (isatty(STDERR_FILENO))
				fprintf(stderr, "queued command %s; waiting up to %lld s\n", cid, wait);
			char *copy = strdup(cid);
			ctl_resp_free(&resp);
			rc = copy ? s_show_command(ctl, copy, wait) : ctl_fail(CTL_EAPI, "out of memory");
			free(copy);
		} else if (ctl->json) {
			ctl_print_raw(&resp);
		} else {
			s_cmd_view(ctl, resp.json);
		}
		goto done;
	}
	/* bulk: {commands:[…], errors:[{device_id, code, error}]} */
	json_t *cmds = json_object_get(resp.json, "commands");
	json_t *errs = json_object_get(resp.json, "errors");
	if (ctl->json) {
		ctl_print_raw(&resp);
	} else {
		static const char *const cols[] = {"DEVICE ID:40", "COMMAND ID:36", "STATE:10"};
		ctl_table_t *t = ctl_table_new(3, cols);
		size_t i;
		json_t *c;
		json_array_foreach(cmds, i, c)
		{
			const char *cells[] = {s_get(c, "device_id"), s_get(c, "id"), s_get(c, "state")};
			ctl_table_add(t, cells);
		}
		if (ctl_table_rows(t))
			ctl_table_print(t, stdout, ctl->wide);
		else
			fprintf(stderr, "(no command queued)\n");
		ctl_table_destroy(&t);
	}
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e)
	{
		char dev[256], code[64], msg[512];
		ctl_str(json_object_get(e, "device_id"), dev, sizeof dev);
		ctl_str(json_object_get(e, "code"), code, sizeof code);
		ctl_str(json_object_get(e, "error"), msg, sizeof msg);
		fprintf(stderr, "mdmctl: %s: %s: %s\n", dev, code, msg);
		rc = CTL_EAPI;
	}
done:
	ctl_resp_free(&resp);
	json_decref(cmd);
	json_decref(body);
	json_decref(ids);
	free(path);
	return rc;
}

int ctl_lock(ctl_t *ctl, const ctl_args_t *a)
{
	return s_queue(ctl, a, json_pack("{s:s}", "type", "lock"));
}

int ctl_reboot(ctl_t *ctl, const ctl_args_t *a)
{
	return s_queue(ctl, a, json_pack("{s:s}", "type", "reboot"));
}

int ctl_inventory(ctl_t *ctl, const ctl_args_t *a)
{
	return s_queue(ctl, a, json_pack("{s:s}", "type", "inventory"));
}

static int s_one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(v, *set))
			return 1;
	return 0;
}

int ctl_wipe(ctl_t *ctl, const ctl_args_t *a)
{
	static const char *const modes[] = {"doWipe", "doWipeProtected", "doWipePersistUserData",
					    NULL};
	const char *mode = ctl_opt(a, "mode");
	if (mode && !s_one_of(mode, modes))
		return ctl_usage("--mode must be doWipe, doWipeProtected or doWipePersistUserData");
	if (!ctl_flag(a, "yes"))
		return ctl_usage("wipe erases the device: add --yes to confirm");
	return s_queue(ctl, a, json_pack("{s:s,s:s*}", "type", "wipe", "mode", mode));
}

/* policy set/remove: one setting, checked here as far as the words go (the server checks
 * names and values). */
static int s_policy(ctl_t *ctl, const ctl_args_t *a, int set)
{
	static const char *const formats[] = {"int", "chr", "bool", NULL};
	static const char *const scopes[] = {"device", "user", NULL};
	const char *area = ctl_opt(a, "area"), *name = ctl_opt(a, "name");
	const char *value = set ? ctl_opt(a, "value") : NULL;
	const char *format = set ? ctl_opt(a, "format") : NULL, *scope = ctl_opt(a, "scope");
	if (area == NULL || *area == '\0' || name == NULL || *name == '\0')
		return ctl_usage("--area and --name are required");
	if (set && value == NULL)
		return ctl_usage("--value is required");
	if (format && !s_one_of(format, formats))
		return ctl_usage("--format must be int, chr or bool");
	if (scope && !s_one_of(scope, scopes))
		return ctl_usage("--scope must be device or user");
	json_t *setting = json_pack("{s:s,s:s,s:s*,s:s*}", "area", area, "name", name, "value",
				    value, "format", format);
	return s_queue(ctl, a,
		       json_pack("{s:s,s:s,s:[o],s:s*}", "type", "policy", "action",
				 set ? "set" : "remove", "settings", setting, "scope", scope));
}

int ctl_policy_set(ctl_t *ctl, const ctl_args_t *a)
{
	return s_policy(ctl, a, 1);
}

int ctl_policy_remove(ctl_t *ctl, const ctl_args_t *a)
{
	return s_policy(ctl, a, 0);
}

int ctl_unenroll(ctl_t *ctl, const ctl_args_t *a)
{
	if (!ctl_flag(a, "yes"))
		return ctl_usage("unenroll removes the device from management: add --yes to confirm");
	int force = ctl_flag(a, "force");
	char *path = ctl_path(force ? "/devices/%s?force=1" : "/devices/%s", a->pos[0]);
	if (path == NULL)
		return ctl_fail(CTL_EAPI, "out of memory");
	ctl_resp_t resp;
	int rc = ctl_api(ctl, "DELETE", path, NULL, 0, &resp);
	free(path);
	if (rc == CTL_OK) {
		if (ctl->json) {
			ctl_print_raw(&resp);
		} else if (resp.status == 202) {
			char id[128];
			ctl_str(json_object_get(json_object_get(resp.json, "command"), "id"), id,
				sizeof id);
			printf("unenroll queued for %s: command %s (the device is unenrolled when "
			       "it receives it; --force does it now)\n",
			       a->pos[0], id);
		} else {
			printf("unenrolled %s: certificate revoked, queued commands cancelled\n",
			       a->pos[0]);
		}
	}
	ctl_resp_free(&resp);
	return rc;
}
