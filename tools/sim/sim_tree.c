/* sim_tree.c -- the simulated device's OMA-DM tree, persisted as DIR/tree.json: DevInfo,
 * DevDetail, DMClient (HWDevID, Provider/<ID>/Poll/..., Unenroll), RemoteLock, RemoteWipe,
 * Reboot, Policy/Config (device and user scope, Policy/Result mirrors it) and the optional
 * large node ./Vendor/MSFT/Sim/Big. Status codes follow the Windows CSPs (checklist 5.4/5.9). */
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libxml/parser.h>

#include "mdm_log.h"

#define SIM_BIG_PATH "./Vendor/MSFT/Sim/Big"
/* ./Vendor/MSFT/Sim/Big: byte i is s_big_alphabet[i % 64] (two XML specials included so a
 * server that counts escaped bytes, or splits an escape, gets a size mismatch). */
static const char s_big_alphabet[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz<&";

struct sim_tree {
	char dir[4096];
	json_t *root;      /* {"version", "device_id", "provider_id", "nodes": {path: node}, state...} */
	char *big;         /* N bytes, or NULL */
	size_t big_len;
};

/* Interior nodes that exist even when empty. */
static const char *const s_interior[] = {
	"./Vendor/MSFT/Policy/Config", "./Vendor/MSFT/Policy/Result",
	"./User/Vendor/MSFT/Policy/Config", "./User/Vendor/MSFT/Policy/Result", NULL,
};

/* DMClient Poll parameters (DMClient CSP) with the values Windows assumes when the
 * provisioning document leaves them out. */
static const struct {
	const char *name, *format, *value;
} s_poll[] = {
	{"IntervalForFirstSetOfRetries", "int", "15"},
	{"NumberOfFirstRetries", "int", "8"},
	{"IntervalForSecondSetOfRetries", "int", "60"},
	{"NumberOfSecondRetries", "int", "24"},
	{"IntervalForRemainingScheduledRetries", "int", "1440"},
	{"NumberOfRemainingScheduledRetries", "int", "0"},
	{"PollOnLogin", "bool", "true"},
	{"AllUsersPollOnFirstLogin", "bool", "false"},
};

static const char *const s_wipes[] = {
	"doWipe", "doWipeProtected", "doWipePersistUserData", "doWipePersistProvisionedData", NULL,
};

/* ---- paths ------------------------------------------------------------------------- */

/* The canonical form of a LocURI: %-escapes decoded, no trailing '/', "./Device/Vendor/..."
 * folded into "./Vendor/..." (device scope is the default). NULL if it is not "./..." or ".". */
static char *s_canon(const char *locuri)
{
	if (locuri == NULL || !(strcmp(locuri, ".") == 0 || strncmp(locuri, "./", 2) == 0))
		return NULL;
	size_t n = strlen(locuri);
	char *out = malloc(n + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (const char *p = locuri; *p; p++) {
		if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char h[3] = {p[1], p[2], 0};
			*o++ = (char)strtol(h, NULL, 16);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	while (o - out > 1 && o[-1] == '/')
		*--o = '\0';
	if (strncmp(out, "./Device/Vendor/", 16) == 0)
		memmove(out + 1, out + 8, strlen(out + 8) + 1);
	return out;
}

static int s_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Policy CSP paths: returns the number of segments after ".../Policy/<which>" (0 = the
 * Config/Result node itself, 1 = an area, 2 = a policy, 3+ = deeper) and sets *user; -1 if
 * the path is not under ./[User/]Vendor/MSFT/Policy/<which>. */
static int s_policy_depth(const char *path, const char *which, int *user)
{
	char prefix[64];
	const char *rest;
	snprintf(prefix, sizeof prefix, "./Vendor/MSFT/Policy/%s", which);
	*user = 0;
	if (s_under(path, prefix)) {
		rest = path + strlen(prefix);
	} else {
		snprintf(prefix, sizeof prefix, "./User/Vendor/MSFT/Policy/%s", which);
		if (!s_under(path, prefix))
			return -1;
		*user = 1;
		rest = path + strlen(prefix);
	}
	int depth = 0;
	for (; *rest; rest++)
		if (*rest == '/')
			depth++;
	return depth;
}

/* ---- nodes ------------------------------------------------------------------------- */

static json_t *s_nodes(sim_tree_t *t)
{
	return json_object_get(t->root, "nodes");
}

static json_t *s_node(sim_tree_t *t, const char *path)
{
	return json_object_get(s_nodes(t), path);
}

static const char *s_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int s_put(json_t *nodes, const char *path, const char *access, const char *format,
		 const char *value)
{
	json_t *n = json_pack("{s:s, s:s}", "access", access, "format", format);
	if (n == NULL)
		return -1;
	if (value && json_object_set_new(n, "value", json_string(value)) != 0) {
		json_decref(n);
		return -1;
	}
	return json_object_set_new(nodes, path, n);
}

static int s_access(json_t *node, const char *access)
{
	const char *a = s_str(node, "access");
	return a && strcmp(a, access) == 0;
}

/* Reads the DMClient Poll parms from provdoc.xml (DMClient/Provider/<ID>/Poll). */
static void s_poll_from_provdoc(const char *dir, json_t *nodes, const char *base)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/provdoc.xml", dir);
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return;
	/* depth-first walk for <characteristic type="Poll"> */
	xmlNodePtr stack[64];
	int sp = 0;
	stack[sp++] = xmlDocGetRootElement(doc);
	while (sp > 0) {
		xmlNodePtr n = stack[--sp];
		if (n == NULL || n->type != XML_ELEMENT_NODE)
			continue;
		char *type = sim_xml_attr(n, "type");
		int poll = type && strcmp((const char *)n->name, "characteristic") == 0 &&
			   strcmp(type, "Poll") == 0;
		free(type);
		if (poll) {
			for (xmlNodePtr p = n->children; p; p = p->next) {
				if (p->type != XML_ELEMENT_NODE || strcmp((const char *)p->name, "parm"))
					continue;
				char *name = sim_xml_attr(p, "name"), *value = sim_xml_attr(p, "value");
				char *dt = sim_xml_attr(p, "datatype");
				if (name && value && !strchr(name, '/')) {
					char key[4400];
					snprintf(key, sizeof key, "%s/%s", base, name);
					s_put(nodes, key, "rw",
					      dt && strcmp(dt, "boolean") == 0 ? "bool"
					      : dt && strcmp(dt, "integer") == 0 ? "int" : "chr",
					      value);
				}
				free(name);
				free(value);
				free(dt);
			}
			continue;
		}
		for (xmlNodePtr c = n->children; c && sp < 64; c = c->next)
			if (c->type == XML_ELEMENT_NODE)
				stack[sp++] = c;
	}
	xmlFreeDoc(doc);
}

static json_t *s_build(const char *dir, const char *device_id, const char *provider_id,
		       const char *hwdevid, const char *device_name)
{
	char serial[32], h[65], base[600];
	sim_sha256_hex(device_id, strlen(device_id), h);
	snprintf(serial, sizeof serial, "SIM%.12s", h);
	json_t *root = json_pack("{s:i, s:s, s:s?, s:{}, s:b, s:i, s:n, s:[], s:i, s:b}", "version", 1,
				 "device_id", device_id, "provider_id", provider_id, "nodes", "locked", 0,
				 "lock_count", 0, "wipe", "wipes", "reboot_count", 0, "unenrolled", 0);
	if (root == NULL)
		return NULL;
	json_t *nodes = json_object_get(root, "nodes");
	const struct {
		const char *path, *format, *value;
	} ro[] = {
		{"./DevInfo/DevId", "chr", device_id},
		{"./DevInfo/Man", "chr", "Contoso"},
		{"./DevInfo/Mod", "chr", "Sim-1"},
		{"./DevInfo/DmV", "chr", "1.3"},
		{"./DevInfo/Lang", "chr", "en-US"},
		{"./DevDetail/SwV", "chr", "10.0.22631.4460"},
		{"./DevDetail/OEM", "chr", "Contoso"},
		{"./DevDetail/HwV", "chr", "1.0"},
		{"./DevDetail/FwV", "chr", "SIM1.0.7"},
		{"./DevDetail/DevTyp", "chr", "Sim-1"},
		{"./DevDetail/LrgObj", "bool", "true"},
		{"./DevDetail/Ext/Microsoft/DeviceName", "chr", device_name},
		{"./DevDetail/Ext/Microsoft/DNSComputerName", "chr", device_name},
		{"./DevDetail/Ext/Microsoft/SMBIOSSerialNumber", "chr", serial},
		{"./DevDetail/Ext/Microsoft/TotalRAM", "int", "8192"},
		{"./DevDetail/Ext/Microsoft/OSPlatform", "chr", "Windows 11 Enterprise"},
		{"./DevDetail/Ext/Microsoft/ProcessorArchitecture", "int", "9"},
		{"./DevDetail/Ext/Microsoft/LocalTime", "chr", ""},
		{"./Vendor/MSFT/DMClient/HWDevID", "chr", hwdevid},
	};
	for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
		if (s_put(nodes, ro[i].path, "ro", ro[i].format, ro[i].value) != 0)
			goto error;
	json_object_set_new(json_object_get(nodes, "./DevDetail/Ext/Microsoft/LocalTime"), "dynamic",
			    json_string("localtime"));
	const char *exec[] = {"./Vendor/MSFT/RemoteLock/Lock", "./Vendor/MSFT/Reboot/RebootNow",
			      "./Vendor/MSFT/DMClient/Unenroll"};
	for (size_t i = 0; i < sizeof exec / sizeof exec[0]; i++)
		if (s_put(nodes, exec[i], "exec", "null", NULL) != 0)
			goto error;
	for (int i = 0; s_wipes[i]; i++) {
		snprintf(base, sizeof base, "./Vendor/MSFT/RemoteWipe/%s", s_wipes[i]);
		if (s_put(nodes, base, "exec", "chr", NULL) != 0)
			goto error;
	}
	if (provider_id && *provider_id && strlen(provider_id) < 256) {
		snprintf(base, sizeof base, "./Vendor/MSFT/DMClient/Provider/%s/Unenroll", provider_id);
		if (s_put(nodes, base, "exec", "chr", NULL) != 0)
			goto error;
		snprintf(base, sizeof base, "./Vendor/MSFT/DMClient/Provider/%s/EnrollmentType", provider_id);
		if (s_put(nodes, base, "ro", "chr", "Full") != 0)
			goto error;
		snprintf(base, sizeof base, "./Vendor/MSFT/DMClient/Provider/%s/Poll", provider_id);
		for (size_t i = 0; i < sizeof s_poll / sizeof s_poll[0]; i++) {
			char key[700];
			snprintf(key, sizeof key, "%s/%s", base, s_poll[i].name);
			if (s_put(nodes, key, "rw", s_poll[i].format, s_poll[i].value) != 0)
				goto error;
		}
		s_poll_from_provdoc(dir, nodes, base);
	}
	return root;
error:
	json_decref(root);
	return NULL;
}

sim_tree_t *sim_tree_open(const char *dir, const char *device_id, const char *provider_id,
			  const char *hwdevid, const char *device_name, long big_bytes)
{
	char path[4200];
	json_error_t jerr;
	sim_tree_t *t = calloc(1, sizeof *t);
	check_mem(t);
	snprintf(t->dir, sizeof t->dir, "%s", dir);
	snprintf(path, sizeof path, "%s/tree.json", dir);
	FILE *f = fopen(path, "r");
	if (f) {
		t->root = json_loadf(f, 0, &jerr);
		fclose(f);
		if (t->root == NULL || !json_is_object(s_nodes(t))) {
			fprintf(stderr, "cannot read %s: %s\n", path, t->root ? "no \"nodes\" object" : jerr.text);
			goto error;
		}
		const char *was = s_str(t->root, "device_id");
		if (was == NULL || strcmp(was, device_id) != 0) { /* re-enrolled as another device */
			sim_note("tree: %s belongs to %s, rebuilding for %s", path, was ? was : "?", device_id);
			json_decref(t->root);
			t->root = NULL;
		}
	}
	if (t->root == NULL) {
		t->root = s_build(dir, device_id, provider_id, hwdevid ? hwdevid : device_id,
				  device_name ? device_name : "SIM");
		check_mem(t->root);
		check_quiet(sim_tree_save(t) == 0);
	}
	if (big_bytes >= 0) {
		t->big_len = (size_t)big_bytes;
		t->big = malloc(t->big_len + 1);
		check_mem(t->big);
		for (size_t i = 0; i < t->big_len; i++)
			t->big[i] = s_big_alphabet[i % 64];
		t->big[t->big_len] = '\0';
	}
	return t;
error:
	sim_tree_free(t);
	return NULL;
}

int sim_tree_save(sim_tree_t *t)
{
	char *text = json_dumps(t->root, JSON_INDENT(2) | JSON_SORT_KEYS);
	mdm_buf_t b = MDM_BUF_INIT;
	int rc = -1;
	if (text == NULL)
		return -1;
	mdm_buf_printf(&b, "%s\n", text);
	if (!b.failed)
		rc = sim_write_file(t->dir, "tree.json", b.data, b.len, 0644);
	mdm_buf_free(&b);
	free(text);
	return rc;
}

void sim_tree_free(sim_tree_t *t)
{
	if (t == NULL)
		return;
	json_decref(t->root);
	free(t->big);
	free(t);
}

const char *sim_tree_value(sim_tree_t *t, const char *path)
{
	return s_str(s_node(t, path), "value");
}

void sim_tree_val_free(sim_tree_val_t *v)
{
	if (v == NULL)
		return;
	free(v->format);
	free(v->data);
	memset(v, 0, sizeof *v);
}

static int s_val(sim_tree_val_t *out, const char *format, const char *data, size_t len)
{
	out->format = strdup(format);
	out->data = malloc(len + 1);
	if (out->format == NULL || out->data == NULL) {
		sim_tree_val_free(out);
		return 500;
	}
	memcpy(out->data, data, len);
	out->data[len] = '\0';
	out->len = len;
	return 200;
}

/* "a/b/c" list of the children of an interior node, URI-escaped (DM spec: node names are
 * '/'-separated in the Data of a Get on an interior node). Returns the number of children. */
static int s_children(sim_tree_t *t, const char *path, mdm_buf_t *out)
{
	size_t plen = strlen(path);
	int n = 0;
	const char *key;
	json_t *v;
	char seen[64][128];
	int nseen = 0;
	(void)v;
	/* jansson iterates in insertion order; collect unique names in order of appearance */
	json_object_foreach(s_nodes(t), key, v) {
		if (strncmp(key, path, plen) != 0 || key[plen] != '/')
			continue;
		const char *name = key + plen + 1;
		size_t nlen = strcspn(name, "/");
		if (nlen == 0 || nlen >= sizeof seen[0])
			continue;
		int dup = 0;
		for (int i = 0; i < nseen && !dup; i++)
			dup = strlen(seen[i]) == nlen && strncmp(seen[i], name, nlen) == 0;
		if (dup || nseen >= 64)
			continue;
		memcpy(seen[nseen], name, nlen);
		seen[nseen][nlen] = '\0';
		char *esc = sim_url_encode(seen[nseen]);
		nseen++;
		if (out) {
			if (n)
				mdm_buf_puts(out, "/");
			mdm_buf_puts(out, esc ? esc : "");
		}
		free(esc);
		n++;
	}
	if (t->big && strcmp(path, "./Vendor/MSFT") == 0) {
		if (out)
			mdm_buf_puts(out, n ? "/Sim" : "Sim");
		n++;
	} else if (t->big && strcmp(path, "./Vendor/MSFT/Sim") == 0) {
		if (out)
			mdm_buf_puts(out, "Big");
		n++;
	}
	return n;
}

static int s_is_interior(sim_tree_t *t, const char *path)
{
	for (int i = 0; s_interior[i]; i++)
		if (strcmp(path, s_interior[i]) == 0)
			return 1;
	return s_children(t, path, NULL) > 0;
}

/* Policy/Result/... mirrors Policy/Config/...: the path of the Config twin (caller frees). */
static char *s_result_to_config(const char *path)
{
	const char *r = strstr(path, "/Policy/Result");
	char *out = malloc(strlen(path) + 1);
	if (r == NULL || out == NULL) {
		free(out);
		return NULL;
	}
	size_t pre = (size_t)(r - path);
	memcpy(out, path, pre);
	strcpy(out + pre, "/Policy/Config");
	strcat(out, r + strlen("/Policy/Result"));
	return out;
}

static int s_get(sim_tree_t *t, const char *p, sim_tree_val_t *out)
{
	int user;
	if (t->big && strcmp(p, SIM_BIG_PATH) == 0)
		return s_val(out, "chr", t->big, t->big_len);
	json_t *n = s_node(t, p);
	if (n) {
		if (s_access(n, "exec"))
			return 405;
		const char *dyn = s_str(n, "dynamic");
		if (dyn && strcmp(dyn, "localtime") == 0) {
			char now[64];
			time_t tt = time(NULL);
			struct tm tm;
			strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S.0000000+00:00", gmtime_r(&tt, &tm));
			return s_val(out, "chr", now, strlen(now));
		}
		const char *v = s_str(n, "value");
		const char *f = s_str(n, "format");
		return s_val(out, f ? f : "chr", v ? v : "", v ? strlen(v) : 0);
	}
	if (s_policy_depth(p, "Result", &user) >= 0) {
		char *cfg = s_result_to_config(p);
		if (cfg == NULL)
			return 500;
		int st = s_get(t, cfg, out);
		free(cfg);
		return st;
	}
	if (s_is_interior(t, p)) {
		mdm_buf_t b = MDM_BUF_INIT;
		s_children(t, p, &b);
		int st = b.failed ? 500 : s_val(out, "node", b.data ? b.data : "", b.len);
		mdm_buf_free(&b);
		return st;
	}
	return 404;
}

int sim_tree_get(sim_tree_t *t, const char *locuri, sim_tree_val_t *out)
{
	memset(out, 0, sizeof *out);
	char *p = s_canon(locuri);
	if (p == NULL)
		return 404;
	int st = s_get(t, p, out);
	free(p);
	return st;
}

static int s_readonly_area(const char *p)
{
	return s_under(p, "./DevInfo") || s_under(p, "./DevDetail") || strcmp(p, SIM_BIG_PATH) == 0 ||
	       s_under(p, "./Vendor/MSFT/Policy/Result") || s_under(p, "./User/Vendor/MSFT/Policy/Result");
}

/* 415 when data does not match format (Policy values are typed in their DDF). */
static int s_check_format(const char *format, const char *data)
{
	if (strcmp(format, "int") == 0) {
		char *end = NULL;
		if (*data == '\0')
			return 415;
		strtoll(data, &end, 10);
		return *end ? 415 : 200;
	}
	if (strcmp(format, "bool") == 0)
		return strcmp(data, "true") == 0 || strcmp(data, "false") == 0 ? 200 : 415;
	return 200;
}

int sim_tree_set(sim_tree_t *t, int add, const char *locuri, const char *format, const char *data)
{
	int user, st;
	char *p = s_canon(locuri);
	if (p == NULL)
		return 404;
	if (format == NULL || *format == '\0')
		format = "chr";
	if (data == NULL)
		data = "";
	json_t *n = s_node(t, p);
	if (s_readonly_area(p)) {
		st = 405;
	} else if (n) {
		if (!s_access(n, "rw")) {
			st = 405;
		} else if ((st = s_check_format(format, data)) == 200) {
			const char *nf = s_str(n, "format");
			st = json_object_set_new(n, "value", json_string(data)) == 0 ? 200 : 500;
			if (st == 200 && (nf == NULL || strcmp(format, "chr") != 0))
				json_object_set_new(n, "format", json_string(format));
		}
	} else {
		int depth = s_policy_depth(p, "Config", &user);
		if (depth == 2) {
			if (strcmp(format, "node") == 0)
				st = 405;
			else if ((st = s_check_format(format, data)) == 200)
				st = s_put(s_nodes(t), p, "rw", format, data) == 0 ? 200 : 500;
		} else if (depth == 1) {
			st = add ? 200 : 405; /* Add of an area (Format node): implicit, nothing to store */
		} else if (depth == 0 || s_is_interior(t, p)) {
			st = 405;
		} else {
			st = 404;
		}
	}
	free(p);
	return st;
}

int sim_tree_delete(sim_tree_t *t, const char *locuri)
{
	int user, st;
	char *p = s_canon(locuri);
	if (p == NULL)
		return 404;
	json_t *n = s_node(t, p);
	int depth = s_policy_depth(p, "Config", &user);
	if (s_readonly_area(p)) {
		st = 405;
	} else if (n) {
		st = depth == 2 ? (json_object_del(s_nodes(t), p) == 0 ? 200 : 500) : 405;
	} else if (depth == 2) {
		st = 404;
	} else if (depth == 1) {
		/* the whole area: every policy under it */
		size_t plen = strlen(p);
		const char *key;
		json_t *v;
		void *tmp;
		int removed = 0;
		json_object_foreach_safe(s_nodes(t), tmp, key, v) {
			if (strncmp(key, p, plen) == 0 && key[plen] == '/') {
				json_object_del(s_nodes(t), key);
				removed++;
			}
		}
		st = removed ? 200 : 404;
	} else if (s_is_interior(t, p)) {
		st = 405;
	} else {
		st = 404;
	}
	free(p);
	return st;
}

int sim_tree_exec(sim_tree_t *t, const char *locuri, const char *data, int *unenroll)
{
	int st = 200;
	char *p = s_canon(locuri);
	*unenroll = 0;
	if (p == NULL)
		return 404;
	json_t *n = s_node(t, p);
	if (n == NULL) {
		st = s_is_interior(t, p) || (t->big && strcmp(p, SIM_BIG_PATH) == 0) ? 405 : 404;
		goto done;
	}
	if (!s_access(n, "exec")) {
		st = 405;
		goto done;
	}
	long long now = (long long)time(NULL);
	if (strcmp(p, "./Vendor/MSFT/RemoteLock/Lock") == 0) {
		json_object_set_new(t->root, "locked", json_true());
		json_object_set_new(t->root, "lock_count",
				    json_integer(json_integer_value(json_object_get(t->root, "lock_count")) + 1));
		json_object_set_new(t->root, "locked_at", json_integer(now));
	} else if (s_under(p, "./Vendor/MSFT/RemoteWipe")) {
		const char *what = p + strlen("./Vendor/MSFT/RemoteWipe/");
		json_t *w = json_pack("{s:s, s:s, s:I}", "node", what, "data", data ? data : "", "at", now);
		json_t *list = json_object_get(t->root, "wipes");
		if (!json_is_array(list)) {
			list = json_array();
			json_object_set_new(t->root, "wipes", list);
		}
		json_array_append_new(list, w);
		json_object_set_new(t->root, "wipe", json_string(what));
	} else if (strcmp(p, "./Vendor/MSFT/Reboot/RebootNow") == 0) {
		json_object_set_new(t->root, "reboot_count",
				    json_integer(json_integer_value(json_object_get(t->root, "reboot_count")) + 1));
		json_object_set_new(t->root, "reboot_at", json_integer(now));
	} else if (s_under(p, "./Vendor/MSFT/DMClient")) {
		*unenroll = 1;
	}
done:
	free(p);
	return st;
}

void *sim_tree_snapshot(sim_tree_t *t)
{
	return json_deep_copy(t->root);
}

void sim_tree_restore(sim_tree_t *t, void *snap)
{
	if (snap == NULL)
		return;
	json_decref(t->root);
	t->root = snap;
}

void sim_tree_drop(void *snap)
{
	json_decref(snap);
}

void sim_tree_mark_unenrolled(sim_tree_t *t, const char *reason)
{
	json_object_set_new(t->root, "unenrolled", json_true());
	json_object_set_new(t->root, "unenrolled_reason", json_string(reason));
	json_object_set_new(t->root, "unenrolled_at", json_integer((json_int_t)time(NULL)));
}
