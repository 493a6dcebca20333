/* mdm_cmd.c -- administrator command bodies -> SyncML command specs, and the spec rules. */
#include "mdm_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers ------------------------------------------------------------------- */

/* "path.name" (or "name" at the top level) into buf, for messages. */
static const char *s_at(char *buf, size_t cap, const char *path, const char *name)
{
	snprintf(buf, cap, "%.100s%s%.40s", path, path[0] ? "." : "", name);
	return buf;
}

/* "path: " (or "" at the top level), for messages about a whole spec. */
static const char *s_where(char *buf, size_t cap, const char *path)
{
	snprintf(buf, cap, "%.100s%s", path, path[0] ? ": " : "");
	return buf;
}

static int s_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

/* Refuses any member of obj not listed in `allowed` (NULL-terminated): the first unknown
 * one is named, so a typo ("intervall_minutes") is reported rather than ignored. */
static int s_known_fields(json_t *obj, const char *const *allowed, const char *where,
			  mdm_err_t *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		if (!s_in(key, allowed))
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "unknown field \"%.60s\" in %s", key,
					   where);
	}
	return 0;
}

/* 1 if s holds a byte that cannot appear in a target: space, control characters, DEL. */
static int s_has_space_or_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static json_t *s_item(const char *target, const char *format, const char *type, const char *data)
{
	json_t *it = json_pack("{s:s}", "target", target);
	if (it && format)
		json_object_set_new(it, "format", json_string(format));
	if (it && type)
		json_object_set_new(it, "type", json_string(type));
	if (it && data)
		json_object_set_new(it, "data", json_string(data));
	return it;
}

/* {"verb": verb, "items": [item]}; item reference stolen. */
static json_t *s_spec1(const char *verb, json_t *item)
{
	return item ? json_pack("{s:s,s:[o]}", "verb", verb, "items", item) : NULL;
}

static json_t *s_result(const char *type, json_t *specs)
{
	return specs ? json_pack("{s:s,s:o}", "type", type, "syncml", specs) : NULL;
}

/* Percent-escapes everything but RFC 3986 unreserved characters (a space becomes %20), so
 * a provider id is one clean URI segment. 0, or -1 if it does not fit. */
static int s_escape_segment(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || strchr("-._~", *p);
		if (n + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* ---- spec rules ---------------------------------------------------------------------- */

static const char *const s_verbs[] = {"Get",  "Add",    "Replace",  "Delete",
				      "Exec", "Atomic", "Sequence", NULL};
static const char *const s_formats[] = {"chr", "int", "bool", "b64", "xml", "null", "node", NULL};
static const char *const s_spec_fields[] = {"verb", "items", "cmds", NULL};
static const char *const s_item_fields[] = {"target", "format", "type", "data", NULL};

static int s_item_valid(json_t *item, const char *verb, const char *path, size_t *data_total,
			mdm_err_t *err)
{
	char f[160];
	if (!json_is_object(item))
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s must be an object", path);
	if (s_known_fields(item, s_item_fields, path, err) != 0)
		return -1;
	json_t *t = json_object_get(item, "target");
	const char *target = json_string_value(t);
	if (target == NULL)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s is required and must be a string",
				   s_at(f, sizeof f, path, "target"));
	if (strncmp(target, "./", 2) != 0 || target[2] == '\0')
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s must start with \"./\"",
				   s_at(f, sizeof f, path, "target"));
	if (json_string_length(t) > MDM_CMD_MAX_TARGET)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s is longer than %d bytes",
				   s_at(f, sizeof f, path, "target"), MDM_CMD_MAX_TARGET);
	if (strlen(target) != json_string_length(t) || s_has_space_or_ctl(target))
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "%s contains a space or a control character (escape a space as %%20)",
				   s_at(f, sizeof f, path, "target"));
	json_t *v = json_object_get(item, "format");
	if (v && (!json_is_string(v) || !s_in(json_string_value(v), s_formats)))
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "%s must be one of chr, int, bool, b64, xml, null, node",
				   s_at(f, sizeof f, path, "format"));
	v = json_object_get(item, "type");
	if (v && (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 128 ||
		  strlen(json_string_value(v)) != json_string_length(v) ||
		  s_has_space_or_ctl(json_string_value(v))))
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "%s must be a media type (1 to 128 characters, no spaces)",
				   s_at(f, sizeof f, path, "type"));
	v = json_object_get(item, "data");
	if (v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%s must be a string (without NUL characters)",
					   s_at(f, sizeof f, path, "data"));
		if (!strcmp(verb, "Get") || !strcmp(verb, "Delete"))
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s is not allowed for %s",
					   s_at(f, sizeof f, path, "data"), verb);
		*data_total += json_string_length(v);
		if (*data_total > MDM_CMD_MAX_DATA)
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%s: the command carries more than %d bytes of data",
					   s_at(f, sizeof f, path, "data"), MDM_CMD_MAX_DATA);
	}
	return 0;
}

/* One spec, recursively. path names it in messages ("" at the top, "cmds[1]" below);
 * data_total accumulates item data over the whole top-level spec. Depth is bounded so a
 * hostile body cannot recurse deeply (jansson itself allows 2048 levels). */
static int s_spec_valid(json_t *spec, int inside_atomic, int depth, const char *path,
			size_t *data_total, mdm_err_t *err)
{
	char f[160], w[160];
	if (!json_is_object(spec))
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s must be an object",
				   path[0] ? path : "a SyncML command");
	if (s_known_fields(spec, s_spec_fields, path[0] ? path : "a SyncML command", err) != 0)
		return -1;
	const char *verb = json_string_value(json_object_get(spec, "verb"));
	if (verb == NULL || !s_in(verb, s_verbs))
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "%s must be one of Get, Add, Replace, Delete, Exec, Atomic, Sequence",
				   s_at(f, sizeof f, path, "verb"));
	int container = !strcmp(verb, "Atomic") || !strcmp(verb, "Sequence");
	if (inside_atomic && !strcmp(verb, "Get"))
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%sGet is not allowed inside Atomic",
				   s_where(w, sizeof w, path));
	if (inside_atomic && !strcmp(verb, "Atomic"))
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%sAtomic cannot be nested inside Atomic",
				   s_where(w, sizeof w, path));
	json_t *items = json_object_get(spec, "items");
	json_t *cmds = json_object_get(spec, "cmds");
	if (container) {
		if (items)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s is not allowed for %s",
					   s_at(f, sizeof f, path, "items"), verb);
		if (!json_is_array(cmds) || json_array_size(cmds) == 0)
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%s must be a non-empty array for %s",
					   s_at(f, sizeof f, path, "cmds"), verb);
		if (json_array_size(cmds) > MDM_CMD_MAX_CMDS)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s has more than %d commands",
					   s_at(f, sizeof f, path, "cmds"), MDM_CMD_MAX_CMDS);
		if (depth >= MDM_CMD_MAX_DEPTH)
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%sAtomic/Sequence nested more than %d levels deep",
					   s_where(w, sizeof w, path), MDM_CMD_MAX_DEPTH);
		size_t i;
		json_t *c;
		json_array_foreach(cmds, i, c)
		{
			char sub[160];
			snprintf(sub, sizeof sub, "%.100s%scmds[%zu]", path, path[0] ? "." : "", i);
			if (s_spec_valid(c, inside_atomic || !strcmp(verb, "Atomic"), depth + 1, sub,
					 data_total, err) != 0)
				return -1;
		}
		return 0;
	}
	if (cmds)
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "%s is only allowed for Atomic and Sequence",
				   s_at(f, sizeof f, path, "cmds"));
	if (!json_is_array(items) || json_array_size(items) == 0)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s must be a non-empty array for %s",
				   s_at(f, sizeof f, path, "items"), verb);
	if (json_array_size(items) > MDM_CMD_MAX_ITEMS)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s has more than %d entries",
				   s_at(f, sizeof f, path, "items"), MDM_CMD_MAX_ITEMS);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		char sub[160];
		snprintf(sub, sizeof sub, "%.100s%sitems[%zu]", path, path[0] ? "." : "", i);
		if (s_item_valid(it, verb, sub, data_total, err) != 0)
			return -1;
	}
	return 0;
}

int mdm_cmd_spec_valid(json_t *spec, int inside_atomic, mdm_err_t *err)
{
	size_t data = 0;
	return s_spec_valid(spec, inside_atomic, 0, "", &data, err);
}

int mdm_cmd_specs_valid(json_t *specs, mdm_err_t *err)
{
	if (!json_is_array(specs) || json_array_size(specs) == 0 ||
	    json_array_size(specs) > MDM_CMD_MAX_CMDS)
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "syncml must be an array of 1 to %d commands", MDM_CMD_MAX_CMDS);
	size_t i;
	json_t *s;
	json_array_foreach(specs, i, s)
	{
		char path[32];
		size_t data = 0;
		snprintf(path, sizeof path, "syncml[%zu]", i);
		if (s_spec_valid(s, 0, 0, path, &data, err) != 0)
			return -1;
	}
	return 0;
}

/* ---- the typed commands -------------------------------------------------------------- */

typedef json_t *(*s_build_fn)(json_t *req, const char *provider_id, mdm_err_t *err);

static json_t *s_lock(json_t *req, const char *provider_id, mdm_err_t *err)
{
	return json_pack("[o]", s_spec1("Exec", s_item("./Device/Vendor/MSFT/RemoteLock/Lock", NULL,
						       NULL, NULL)));
}

static json_t *s_wipe(json_t *req, const char *provider_id, mdm_err_t *err)
{
	static const char *const modes[] = {"doWipe", "doWipeProtected", "doWipePersistUserData",
					    NULL};
	json_t *m = json_object_get(req, "mode");
	const char *mode = m ? json_string_value(m) : "doWipe";
	if (mode == NULL || !s_in(mode, modes)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST,
			    "\"mode\" must be one of doWipe, doWipeProtected, doWipePersistUserData");
		return NULL;
	}
	char target[96];
	snprintf(target, sizeof target, "./Device/Vendor/MSFT/RemoteWipe/%s", mode);
	return json_pack("[o]", s_spec1("Exec", s_item(target, "chr", "text/plain", "")));
}

static json_t *s_reboot(json_t *req, const char *provider_id, mdm_err_t *err)
{
	return json_pack("[o]", s_spec1("Exec", s_item("./Device/Vendor/MSFT/Reboot/RebootNow",
						       "null", NULL, NULL)));
}

static json_t *s_inventory(json_t *req, const char *provider_id, mdm_err_t *err)
{
	static const char *const nodes[] = {
		"./DevDetail/SwV",
		"./DevDetail/OEM",
		"./DevDetail/HwV",
		"./DevDetail/FwV",
		"./DevDetail/DevTyp",
		"./DevDetail/Ext/Microsoft/DeviceName",
		"./DevDetail/Ext/Microsoft/SMBIOSSerialNumber",
		"./DevDetail/Ext/Microsoft/TotalRAM",
		"./DevDetail/Ext/Microsoft/OSPlatform",
		"./DevDetail/Ext/Microsoft/ProcessorArchitecture",
		"./DevDetail/Ext/Microsoft/LocalTime",
	};
	json_t *items = json_array();
	for (size_t i = 0; items && i < sizeof nodes / sizeof nodes[0]; i++)
		json_array_append_new(items, s_item(nodes[i], NULL, NULL, NULL));
	return items ? json_pack("[{s:s,s:o}]", "verb", "Get", "items", items) : NULL;
}

/* Area and Name of a Policy CSP node: [A-Za-z0-9_.-], 1 to 128 characters, and not only
 * dots (".." would climb out of Policy/Config). */
static int s_policy_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || strspn(s, ".") == n)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.-", *s)))
			return 0;
	return 1;
}

/* A setting's value as the item's data text, in its format. 0, or -1 with err. */
static int s_policy_value(json_t *v, const char *format, const char *where, char *num,
			  size_t cap, const char **out, mdm_err_t *err)
{
	if (!strcmp(format, "int")) {
		/* a JSON integer, or its decimal text; normalised to plain decimal */
		long long n = 0;
		int ok = json_is_integer(v);
		if (ok) {
			n = (long long)json_integer_value(v);
		} else if (json_is_string(v)) {
			const char *s = json_string_value(v);
			size_t skip = s[0] == '-' ? 1 : 0;
			size_t digits = strspn(s + skip, "0123456789");
			ok = digits > 0 && digits <= 12 && s[skip + digits] == '\0';
			n = ok ? strtoll(s, NULL, 10) : 0;
		}
		if (!ok)
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%s.value must be an integer for format int (use \"format\": "
					   "\"chr\" for text)",
					   where);
		/* SyncML int is 32 bits; policies use both signed and unsigned values */
		if (n < -2147483648LL || n > 4294967295LL)
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%s.value is out of range for format int (-2147483648 to "
					   "4294967295)",
					   where);
		snprintf(num, cap, "%lld", n);
		*out = num;
		return 0;
	}
	if (!strcmp(format, "bool")) {
		const char *s = json_string_value(v);
		if (json_is_boolean(v))
			*out = json_is_true(v) ? "true" : "false";
		else if (s && (!strcmp(s, "true") || !strcmp(s, "false")))
			*out = s;
		else
			return mdm_err_set(err, MDM_E_BAD_REQUEST,
					   "%s.value must be true or false for format bool", where);
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return mdm_err_set(err, MDM_E_BAD_REQUEST,
				   "%s.value must be a string (without NUL characters) for format chr",
				   where);
	*out = json_string_value(v);
	return 0;
}

static json_t *s_policy(json_t *req, const char *provider_id, mdm_err_t *err)
{
	static const char *const setting_fields[] = {"area", "name", "value", "format", NULL};
	static const char *const formats[] = {"int", "chr", "bool", NULL};
	json_t *specs = NULL, *seen = NULL;
	const char *action = json_string_value(json_object_get(req, "action"));
	if (action == NULL || (strcmp(action, "set") != 0 && strcmp(action, "remove") != 0)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "\"action\" is required: \"set\" or \"remove\"");
		return NULL;
	}
	int set = !strcmp(action, "set");
	json_t *sc = json_object_get(req, "scope");
	const char *scope = sc ? json_string_value(sc) : "device";
	if (scope == NULL || (strcmp(scope, "device") != 0 && strcmp(scope, "user") != 0)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "\"scope\" must be \"device\" or \"user\"");
		return NULL;
	}
	json_t *settings = json_object_get(req, "settings");
	if (!json_is_array(settings) || json_array_size(settings) == 0 ||
	    json_array_size(settings) > MDM_CMD_MAX_SETTINGS) {
		mdm_err_set(err, MDM_E_BAD_REQUEST,
			    "\"settings\" is required: an array of 1 to %d settings",
			    MDM_CMD_MAX_SETTINGS);
		return NULL;
	}
	specs = json_array();
	seen = json_object();
	if (specs == NULL || seen == NULL)
		goto oom;
	size_t i;
	json_t *s;
	json_array_foreach(settings, i, s)
	{
		char where[32], target[320], num[32], key[260];
		snprintf(where, sizeof where, "settings[%zu]", i);
		if (!json_is_object(s)) {
			mdm_err_set(err, MDM_E_BAD_REQUEST, "%s must be an object", where);
			goto error;
		}
		if (s_known_fields(s, setting_fields, where, err) != 0)
			goto error;
		const char *area = json_string_value(json_object_get(s, "area"));
		const char *name = json_string_value(json_object_get(s, "name"));
		if (area == NULL || !s_policy_name_ok(area)) {
			mdm_err_set(err, MDM_E_BAD_REQUEST,
				    "%s.area is required: 1 to 128 of A-Z a-z 0-9 _ . -", where);
			goto error;
		}
		if (name == NULL || !s_policy_name_ok(name)) {
			mdm_err_set(err, MDM_E_BAD_REQUEST,
				    "%s.name is required: 1 to 128 of A-Z a-z 0-9 _ . -", where);
			goto error;
		}
		/* Policy CSP node names are matched without regard to case by Windows */
		snprintf(key, sizeof key, "%s/%s", area, name);
		for (char *p = key; *p; p++)
			*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
		if (json_object_get(seen, key)) {
			mdm_err_set(err, MDM_E_BAD_REQUEST, "%s repeats %s/%s", where, area, name);
			goto error;
		}
		json_object_set_new(seen, key, json_true());
		snprintf(target, sizeof target, "./%s/Vendor/MSFT/Policy/Config/%s/%s",
			 !strcmp(scope, "user") ? "User" : "Device", area, name);
		json_t *value = json_object_get(s, "value");
		json_t *fmt = json_object_get(s, "format");
		json_t *spec;
		if (!set) {
			if (value || fmt) {
				mdm_err_set(err, MDM_E_BAD_REQUEST, "%s.%s is not allowed when removing",
					    where, value ? "value" : "format");
				goto error;
			}
			spec = s_spec1("Delete", s_item(target, NULL, NULL, NULL));
		} else {
			const char *format = fmt ? json_string_value(fmt) : "int", *data = NULL;
			if (format == NULL || !s_in(format, formats)) {
				mdm_err_set(err, MDM_E_BAD_REQUEST,
					    "%s.format must be \"int\", \"chr\" or \"bool\"", where);
				goto error;
			}
			if (value == NULL) {
				mdm_err_set(err, MDM_E_BAD_REQUEST, "%s.value is required to set a policy",
					    where);
				goto error;
			}
			if (s_policy_value(value, format, where, num, sizeof num, &data, err) != 0)
				goto error;
			spec = s_spec1("Replace",
				       s_item(target, format,
					      !strcmp(format, "chr") ? "text/plain" : NULL, data));
		}
		if (spec == NULL || json_array_append_new(specs, spec) != 0)
			goto oom;
	}
	json_decref(seen);
	if (json_array_size(specs) == 1)
		return specs;
	return json_pack("[{s:s,s:o}]", "verb", "Atomic", "cmds", specs);
oom:
	mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
error:
	json_decref(specs);
	json_decref(seen);
	return NULL;
}

static json_t *s_poll(json_t *req, const char *provider_id, mdm_err_t *err)
{
	json_t *iv = json_object_get(req, "interval_minutes");
	json_t *cn = json_object_get(req, "count");
	if (!json_is_integer(iv) || json_integer_value(iv) < 1 || json_integer_value(iv) > 1440) {
		mdm_err_set(err, MDM_E_BAD_REQUEST,
			    "\"interval_minutes\" is required: an integer from 1 to 1440");
		return NULL;
	}
	if (cn && (!json_is_integer(cn) || json_integer_value(cn) < 0 ||
		   json_integer_value(cn) > 2147483647)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST,
			    "\"count\" must be an integer from 0 to 2147483647 (0: no limit)");
		return NULL;
	}
	char esc[400], base[480], t1[560], t2[560], v1[32], v2[32];
	if (provider_id == NULL || provider_id[0] == '\0' || strlen(provider_id) > 128 ||
	    s_escape_segment(provider_id, esc, sizeof esc) != 0) {
		mdm_err_set(err, MDM_E_INTERNAL, "no valid provider id configured (MDM_PROVIDER_ID)");
		return NULL;
	}
	snprintf(base, sizeof base, "./Vendor/MSFT/DMClient/Provider/%s/Poll", esc);
	snprintf(t1, sizeof t1, "%s/IntervalForRemainingScheduledRetries", base);
	snprintf(t2, sizeof t2, "%s/NumberOfRemainingScheduledRetries", base);
	snprintf(v1, sizeof v1, "%" JSON_INTEGER_FORMAT, json_integer_value(iv));
	snprintf(v2, sizeof v2, "%" JSON_INTEGER_FORMAT, cn ? json_integer_value(cn) : 0);
	return json_pack("[{s:s,s:[o,o]}]", "verb", "Atomic", "cmds",
			 s_spec1("Replace", s_item(t1, "int", NULL, v1)),
			 s_spec1("Replace", s_item(t2, "int", NULL, v2)));
}

/* A raw command is one spec given in the body itself (verb/items/cmds beside "type"). */
static json_t *s_raw(json_t *req, const char *provider_id, mdm_err_t *err)
{
	json_t *spec = json_deep_copy(req);
	if (spec == NULL) {
		mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return NULL;
	}
	json_object_del(spec, "type");
	if (mdm_cmd_spec_valid(spec, 0, err) != 0) {
		json_decref(spec);
		return NULL;
	}
	return json_pack("[o]", spec);
}

/* The command table: a type, the fields its body may carry, its builder. */
static const struct {
	const char *type;
	const char *const fields[6];
	s_build_fn fn;
} s_types[] = {
	{"lock", {"type", NULL}, s_lock},
	{"wipe", {"type", "mode", NULL}, s_wipe},
	{"reboot", {"type", NULL}, s_reboot},
	{"inventory", {"type", NULL}, s_inventory},
	{"policy", {"type", "action", "scope", "settings", NULL}, s_policy},
	{"poll", {"type", "interval_minutes", "count", NULL}, s_poll},
	{"raw", {"type", "verb", "items", "cmds", NULL}, s_raw},
};

json_t *mdm_cmd_build(json_t *request, const char *provider_id, mdm_err_t *err)
{
	if (!json_is_object(request)) {
		mdm_err_set(err, MDM_E_BAD_REQUEST, "a command must be a JSON object");
		return NULL;
	}
	const char *type = json_string_value(json_object_get(request, "type"));
	if (type == NULL) {
		mdm_err_set(err, MDM_E_BAD_REQUEST,
			    "\"type\" is required: lock, wipe, reboot, inventory, policy, poll or raw");
		return NULL;
	}
	for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++) {
		if (strcmp(type, s_types[i].type) != 0)
			continue;
		char where[40];
		snprintf(where, sizeof where, "a command of type \"%s\"", type);
		if (s_known_fields(request, s_types[i].fields, where, err) != 0)
			return NULL;
		mdm_err_t e = {0};
		json_t *specs = s_types[i].fn(request, provider_id, &e);
		/* what the builders made obeys the same rules as a raw command */
		if (specs && mdm_cmd_specs_valid(specs, &e) != 0) {
			json_decref(specs);
			specs = NULL;
		}
		if (specs == NULL) {
			if (e.code == MDM_OK)
				mdm_err_set(&e, MDM_E_INTERNAL, "out of memory");
			mdm_err_set(err, e.code, "%s", e.text);
			return NULL;
		}
		json_t *out = s_result(type, specs);
		if (out == NULL)
			mdm_err_set(err, MDM_E_INTERNAL, "out of memory");
		return out;
	}
	mdm_err_set(err, MDM_E_BAD_REQUEST,
		    "unknown command type \"%.40s\" (lock, wipe, reboot, inventory, policy, poll, raw)",
		    type);
	return NULL;
}

json_t *mdm_cmd_unenroll(const char *provider_id)
{
	char esc[400], target[480];
	if (provider_id == NULL || provider_id[0] == '\0' || strlen(provider_id) > 128 ||
	    s_escape_segment(provider_id, esc, sizeof esc) != 0)
		return NULL;
	snprintf(target, sizeof target, "./Vendor/MSFT/DMClient/Provider/%s/Unenroll", esc);
	return s_result("unenroll",
			json_pack("[o]", s_spec1("Exec", s_item(target, "chr", "text/plain",
								 provider_id))));
}
