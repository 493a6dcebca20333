/* test_cmd.c -- libs/cmd: every typed command's SyncML specs, every refusal with its exact message (tests/data/cmd), the spec rules and limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdm_cmd.h"
#include "mdm_err.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* Repository root: the working directory when it holds tests/unit, else three levels above
 * the binary (build/tests/test_cmd). */
static const char *s_root(void)
{
	static char root[PATH_MAX];
	if (root[0])
		return root;
	struct stat st;
	if (stat("tests/unit", &st) == 0) {
		snprintf(root, sizeof root, ".");
		return root;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	snprintf(root, sizeof root, ".");
	if (n > 0) {
		exe[n] = '\0';
		for (int i = 0; i < 3; i++) {
			char *slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
		}
		snprintf(root, sizeof root, "%s", exe);
	}
	return root;
}

static const char *s_data(void)
{
	static char path[PATH_MAX + 32];
	const char *env = getenv("MDM_TEST_DATA");
	if (env && *env)
		return env;
	snprintf(path, sizeof path, "%s/tests/data", s_root());
	return path;
}

static char *s_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static json_t *s_json(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);
	if (j == NULL)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	return j;
}

/* Builds `body` and checks the result is exactly `want` (type + syncml). */
static void s_expect_build(const char *body, const char *provider, const char *want)
{
	json_t *req = s_json(body), *exp = s_json(want);
	char *before = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	mdm_err_t err = {0};
	json_t *got = mdm_cmd_build(req, provider, &err);
	if (got == NULL)
		fail_msg("%s refused: %s", body, err.text);
	if (!json_equal(got, exp)) {
		char *g = json_dumps(got, JSON_COMPACT);
		fail_msg("%s\n got: %s\nwant: %s", body, g, want);
	}
	assert_int_equal(err.code, MDM_OK);
	assert_int_equal(mdm_cmd_specs_valid(json_object_get(got, "syncml"), &err), 0);
	/* the request is left as it was, and the result shares nothing with it */
	char *after = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(before, after);
	json_object_clear(req);
	assert_true(json_equal(got, exp));
	free(before);
	free(after);
	json_decref(got);
	json_decref(exp);
	json_decref(req);
}

/* Builds `body` and expects a refusal with exactly `text`, MDM_E_BAD_REQUEST. */
static void s_expect_refusal(const char *body, const char *provider, mdm_code_t code,
			     const char *text)
{
	json_t *req = s_json(body);
	mdm_err_t err = {0};
	json_t *got = mdm_cmd_build(req, provider, &err);
	if (got) {
		char *g = json_dumps(got, JSON_COMPACT);
		fail_msg("%s accepted: %s", body, g);
	}
	assert_string_equal(err.text, text);
	assert_int_equal(err.code, code);
	json_decref(req);
}

static int s_spec_check(const char *spec, int inside_atomic, char *text, size_t cap)
{
	json_t *j = s_json(spec);
	mdm_err_t err = {0};
	int rc = mdm_cmd_spec_valid(j, inside_atomic, &err);
	snprintf(text, cap, "%s", err.text);
	if (rc != 0)
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	else
		assert_int_equal(err.code, MDM_OK);
	json_decref(j);
	return rc;
}

/* ---- typed commands ------------------------------------------------------------------ */

static void test_lock_is_one_exec(void **state)
{
	s_expect_build("{\"type\":\"lock\"}", "OpenMDM",
		       "{\"type\":\"lock\",\"syncml\":[{\"verb\":\"Exec\",\"items\":[{\"target\":"
		       "\"./Device/Vendor/MSFT/RemoteLock/Lock\"}]}]}");
}

static void test_wipe_modes(void **state)
{
	static const char *modes[] = {"doWipe", "doWipeProtected", "doWipePersistUserData"};
	char body[128], want[400];
	s_expect_build("{\"type\":\"wipe\"}", "OpenMDM",
		       "{\"type\":\"wipe\",\"syncml\":[{\"verb\":\"Exec\",\"items\":[{\"target\":"
		       "\"./Device/Vendor/MSFT/RemoteWipe/doWipe\",\"format\":\"chr\",\"type\":"
		       "\"text/plain\",\"data\":\"\"}]}]}");
	for (size_t i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"type\":\"wipe\",\"mode\":\"%s\"}", modes[i]);
		snprintf(want, sizeof want,
			 "{\"type\":\"wipe\",\"syncml\":[{\"verb\":\"Exec\",\"items\":[{\"target\":"
			 "\"./Device/Vendor/MSFT/RemoteWipe/%s\",\"format\":\"chr\",\"type\":"
			 "\"text/plain\",\"data\":\"\"}]}]}",
			 modes[i]);
		s_expect_build(body, "OpenMDM", want);
	}
}

static void test_reboot_is_exec_format_null(void **state)
{
	s_expect_build("{\"type\":\"reboot\"}", NULL,
		       "{\"type\":\"reboot\",\"syncml\":[{\"verb\":\"Exec\",\"items\":[{\"target\":"
		       "\"./Device/Vendor/MSFT/Reboot/RebootNow\",\"format\":\"null\"}]}]}");
}

static void test_inventory_is_one_get_of_devdetail(void **state)
{
	s_expect_build(
		"{\"type\":\"inventory\"}", "OpenMDM",
		"{\"type\":\"inventory\",\"syncml\":[{\"verb\":\"Get\",\"items\":["
		"{\"target\":\"./DevDetail/SwV\"},{\"target\":\"./DevDetail/OEM\"},"
		"{\"target\":\"./DevDetail/HwV\"},{\"target\":\"./DevDetail/FwV\"},"
		"{\"target\":\"./DevDetail/DevTyp\"},"
		"{\"target\":\"./DevDetail/Ext/Microsoft/DeviceName\"},"
		"{\"target\":\"./DevDetail/Ext/Microsoft/SMBIOSSerialNumber\"},"
		"{\"target\":\"./DevDetail/Ext/Microsoft/TotalRAM\"},"
		"{\"target\":\"./DevDetail/Ext/Microsoft/OSPlatform\"},"
		"{\"target\":\"./DevDetail/Ext/Microsoft/ProcessorArchitecture\"},"
		"{\"target\":\"./DevDetail/Ext/Microsoft/LocalTime\"}]}]}");
}

static void test_policy_set_one_setting_is_a_bare_replace(void **state)
{
	s_expect_build("{\"type\":\"policy\",\"action\":\"set\",\"settings\":[{\"area\":\"Camera\","
		       "\"name\":\"AllowCamera\",\"value\":0}]}",
		       "OpenMDM",
		       "{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Replace\",\"items\":[{\"target\":"
		       "\"./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera\",\"format\":\"int\","
		       "\"data\":\"0\"}]}]}");
	/* an integer given as text is accepted for format int */
	s_expect_build("{\"type\":\"policy\",\"action\":\"set\",\"settings\":[{\"area\":\"Camera\","
		       "\"name\":\"AllowCamera\",\"value\":\"-12\",\"format\":\"int\"}]}",
		       "OpenMDM",
		       "{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Replace\",\"items\":[{\"target\":"
		       "\"./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera\",\"format\":\"int\","
		       "\"data\":\"-12\"}]}]}");
	/* the ends of the 32-bit range, signed and unsigned */
	s_expect_build("{\"type\":\"policy\",\"action\":\"set\",\"settings\":[{\"area\":\"A\","
		       "\"name\":\"B\",\"value\":4294967295},{\"area\":\"A\",\"name\":\"C\",\"value\":"
		       "\"-2147483648\"}]}",
		       "OpenMDM",
		       "{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":"
		       "\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/A/B\","
		       "\"format\":\"int\",\"data\":\"4294967295\"}]},{\"verb\":\"Replace\",\"items\":[{"
		       "\"target\":\"./Device/Vendor/MSFT/Policy/Config/A/C\",\"format\":\"int\",\"data\":"
		       "\"-2147483648\"}]}]}]}");
}

static void test_policy_set_several_settings_is_one_atomic(void **state)
{
	s_expect_build(
		"{\"type\":\"policy\",\"action\":\"set\",\"scope\":\"device\",\"settings\":["
		"{\"area\":\"Camera\",\"name\":\"AllowCamera\",\"value\":1},"
		"{\"area\":\"Experience\",\"name\":\"AllowCortana\",\"value\":false,\"format\":\"bool\"},"
		"{\"area\":\"Browser\",\"name\":\"HomePages\",\"value\":\"<https://a.example/>\","
		"\"format\":\"chr\"},"
		"{\"area\":\"Update.v2\",\"name\":\"Active_Hours-Start\",\"value\":\"true\",\"format\":\"bool\"}]}",
		"OpenMDM",
		"{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Atomic\",\"cmds\":["
		"{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/Camera/"
		"AllowCamera\",\"format\":\"int\",\"data\":\"1\"}]},"
		"{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/"
		"Experience/AllowCortana\",\"format\":\"bool\",\"data\":\"false\"}]},"
		"{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/Browser/"
		"HomePages\",\"format\":\"chr\",\"type\":\"text/plain\",\"data\":\"<https://a.example/>\"}]},"
		"{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/"
		"Update.v2/Active_Hours-Start\",\"format\":\"bool\",\"data\":\"true\"}]}]}]}");
}

static void test_policy_user_scope_and_remove(void **state)
{
	s_expect_build("{\"type\":\"policy\",\"action\":\"remove\",\"scope\":\"user\",\"settings\":["
		       "{\"area\":\"Camera\",\"name\":\"AllowCamera\"}]}",
		       "OpenMDM",
		       "{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Delete\",\"items\":[{\"target\":"
		       "\"./User/Vendor/MSFT/Policy/Config/Camera/AllowCamera\"}]}]}");
	s_expect_build("{\"type\":\"policy\",\"action\":\"remove\",\"settings\":["
		       "{\"area\":\"Camera\",\"name\":\"AllowCamera\"},{\"area\":\"Wifi\",\"name\":"
		       "\"AllowWiFi\"}]}",
		       "OpenMDM",
		       "{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Atomic\",\"cmds\":["
		       "{\"verb\":\"Delete\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/"
		       "Camera/AllowCamera\"}]},"
		       "{\"verb\":\"Delete\",\"items\":[{\"target\":\"./Device/Vendor/MSFT/Policy/Config/"
		       "Wifi/AllowWiFi\"}]}]}]}");
	s_expect_build("{\"type\":\"policy\",\"action\":\"set\",\"scope\":\"user\",\"settings\":["
		       "{\"area\":\"A\",\"name\":\"B\",\"value\":7}]}",
		       "OpenMDM",
		       "{\"type\":\"policy\",\"syncml\":[{\"verb\":\"Replace\",\"items\":[{\"target\":"
		       "\"./User/Vendor/MSFT/Policy/Config/A/B\",\"format\":\"int\",\"data\":\"7\"}]}]}");
}

static void test_policy_64_settings_is_the_limit(void **state)
{
	char body[8192] = "{\"type\":\"policy\",\"action\":\"remove\",\"settings\":[";
	for (int i = 0; i < 64; i++)
		snprintf(body + strlen(body), sizeof body - strlen(body),
			 "%s{\"area\":\"A\",\"name\":\"N%d\"}", i ? "," : "", i);
	strcat(body, "]}");
	json_t *req = s_json(body);
	mdm_err_t err = {0};
	json_t *got = mdm_cmd_build(req, "OpenMDM", &err);
	assert_non_null(got);
	json_t *atomic = json_array_get(json_object_get(got, "syncml"), 0);
	assert_string_equal(json_string_value(json_object_get(atomic, "verb")), "Atomic");
	assert_int_equal(json_array_size(json_object_get(atomic, "cmds")), 64);
	json_decref(got);
	json_decref(req);
}

static void test_poll_is_an_atomic_of_two_replaces(void **state)
{
	s_expect_build("{\"type\":\"poll\",\"interval_minutes\":15,\"count\":8}", "OpenMDM",
		       "{\"type\":\"poll\",\"syncml\":[{\"verb\":\"Atomic\",\"cmds\":["
		       "{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Vendor/MSFT/DMClient/Provider/"
		       "OpenMDM/Poll/IntervalForRemainingScheduledRetries\",\"format\":\"int\",\"data\":"
		       "\"15\"}]},"
		       "{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Vendor/MSFT/DMClient/Provider/"
		       "OpenMDM/Poll/NumberOfRemainingScheduledRetries\",\"format\":\"int\",\"data\":"
		       "\"8\"}]}]}]}");
	/* count defaults to 0 (no limit); a provider id with a space is escaped */
	s_expect_build("{\"type\":\"poll\",\"interval_minutes\":1440}", "Open MDM",
		       "{\"type\":\"poll\",\"syncml\":[{\"verb\":\"Atomic\",\"cmds\":["
		       "{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Vendor/MSFT/DMClient/Provider/"
		       "Open%20MDM/Poll/IntervalForRemainingScheduledRetries\",\"format\":\"int\","
		       "\"data\":\"1440\"}]},"
		       "{\"verb\":\"Replace\",\"items\":[{\"target\":\"./Vendor/MSFT/DMClient/Provider/"
		       "Open%20MDM/Poll/NumberOfRemainingScheduledRetries\",\"format\":\"int\",\"data\":"
		       "\"0\"}]}]}]}");
}

static void test_poll_without_provider_id_is_a_server_error(void **state)
{
	s_expect_refusal("{\"type\":\"poll\",\"interval_minutes\":5}", NULL, MDM_E_INTERNAL,
			 "no valid provider id configured (MDM_PROVIDER_ID)");
	s_expect_refusal("{\"type\":\"poll\",\"interval_minutes\":5}", "", MDM_E_INTERNAL,
			 "no valid provider id configured (MDM_PROVIDER_ID)");
}

static void test_raw_commands_are_copied_as_given(void **state)
{
	s_expect_build("{\"type\":\"raw\",\"verb\":\"Get\",\"items\":[{\"target\":\"./DevInfo/Mod\"}]}",
		       NULL,
		       "{\"type\":\"raw\",\"syncml\":[{\"verb\":\"Get\",\"items\":[{\"target\":"
		       "\"./DevInfo/Mod\"}]}]}");
	const char *atomic =
		"{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Add\",\"items\":[{\"target\":"
		"\"./Vendor/MSFT/Node\",\"format\":\"node\"}]},{\"verb\":\"Replace\",\"items\":["
		"{\"target\":\"./Vendor/MSFT/Node/A\",\"format\":\"b64\",\"type\":"
		"\"application/octet-stream\",\"data\":\"AAEC\"},{\"target\":\"./Vendor/MSFT/Node/B\","
		"\"format\":\"xml\",\"data\":\"<x/>\"}]},{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":"
		"\"Exec\",\"items\":[{\"target\":\"./Vendor/MSFT/Node/Go\"}]},{\"verb\":\"Delete\","
		"\"items\":[{\"target\":\"./Vendor/MSFT/Old%20Node\"}]}]}]}";
	char body[1024], want[1200];
	snprintf(body, sizeof body, "{\"type\":\"raw\",%s", atomic + 1);
	snprintf(want, sizeof want, "{\"type\":\"raw\",\"syncml\":[%s]}", atomic);
	s_expect_build(body, NULL, want);
	/* Get and Atomic are fine inside a Sequence that is not inside an Atomic */
	s_expect_build("{\"type\":\"raw\",\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Get\",\"items\":"
		       "[{\"target\":\"./DevInfo/Man\"}]},{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":"
		       "\"Exec\",\"items\":[{\"target\":\"./X\"}]}]}]}",
		       NULL,
		       "{\"type\":\"raw\",\"syncml\":[{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Get\","
		       "\"items\":[{\"target\":\"./DevInfo/Man\"}]},{\"verb\":\"Atomic\",\"cmds\":[{"
		       "\"verb\":\"Exec\",\"items\":[{\"target\":\"./X\"}]}]}]}]}");
}

static void test_unenroll_command(void **state)
{
	json_t *got = mdm_cmd_unenroll("OpenMDM");
	json_t *want = s_json("{\"type\":\"unenroll\",\"syncml\":[{\"verb\":\"Exec\",\"items\":[{"
			      "\"target\":\"./Vendor/MSFT/DMClient/Provider/OpenMDM/Unenroll\","
			      "\"format\":\"chr\",\"type\":\"text/plain\",\"data\":\"OpenMDM\"}]}]}");
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	got = mdm_cmd_unenroll("Contoso MDM/1");
	want = s_json("{\"type\":\"unenroll\",\"syncml\":[{\"verb\":\"Exec\",\"items\":[{"
		      "\"target\":\"./Vendor/MSFT/DMClient/Provider/Contoso%20MDM%2F1/Unenroll\","
		      "\"format\":\"chr\",\"type\":\"text/plain\",\"data\":\"Contoso MDM/1\"}]}]}");
	assert_true(json_equal(got, want));
	mdm_err_t err = {0};
	assert_int_equal(mdm_cmd_specs_valid(json_object_get(got, "syncml"), &err), 0);
	json_decref(got);
	json_decref(want);
	char longid[200];
	memset(longid, 'p', 129);
	longid[129] = '\0';
	assert_null(mdm_cmd_unenroll(longid));
	assert_null(mdm_cmd_unenroll(""));
	assert_null(mdm_cmd_unenroll(NULL));
}

/* ---- refusals: tests/data/cmd/invalid/<case>/{input.json,error} ----------------------- */

static void s_chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void s_run_invalid_case(const char *dir, const char *name)
{
	char p[PATH_MAX + 400];
	snprintf(p, sizeof p, "%.*s/%.255s/input.json", PATH_MAX + 64, dir, name);
	char *input = s_read(p);
	snprintf(p, sizeof p, "%.*s/%.255s/error", PATH_MAX + 64, dir, name);
	char *expect = s_read(p);
	if (input == NULL || expect == NULL)
		fail_msg("%s: needs input.json and error", name);
	char *text = strchr(expect, '\n');
	if (text == NULL)
		fail_msg("%s: error needs two lines", name);
	*text++ = '\0';
	s_chomp(text);
	json_t *req = s_json(input);
	char *before = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	mdm_err_t err = {0};
	json_t *got = mdm_cmd_build(req, "OpenMDM", &err);
	if (got)
		fail_msg("%s: accepted, expected \"%s\"", name, text);
	if (strcmp(mdm_code_name(err.code), expect) != 0 || strcmp(err.text, text) != 0)
		fail_msg("%s: got %s \"%s\", want %s \"%s\"", name, mdm_code_name(err.code), err.text,
			 expect, text);
	char *after = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(before, after);
	free(before);
	free(after);
	json_decref(req);
	free(input);
	free(expect);
}

static void test_invalid_cases(void **state)
{
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof dir, "%.*s/cmd/invalid", PATH_MAX, s_data());
	DIR *d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s (set MDM_TEST_DATA)", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		s_run_invalid_case(dir, e->d_name);
		n++;
	}
	closedir(d);
	print_message("%d invalid cases\n", n);
	assert_true(n >= 70);
}

/* ---- the spec rules on their own (what the codec and session re-check) ---------------- */

static void test_spec_inside_atomic_refuses_get_and_atomic(void **state)
{
	char text[256];
	const char *get = "{\"verb\":\"Get\",\"items\":[{\"target\":\"./X\"}]}";
	assert_int_equal(s_spec_check(get, 0, text, sizeof text), 0);
	assert_int_equal(s_spec_check(get, 1, text, sizeof text), -1);
	assert_string_equal(text, "Get is not allowed inside Atomic");
	const char *atomic = "{\"verb\":\"Atomic\",\"cmds\":[{\"verb\":\"Exec\",\"items\":[{\"target\":"
			     "\"./X\"}]}]}";
	assert_int_equal(s_spec_check(atomic, 0, text, sizeof text), 0);
	assert_int_equal(s_spec_check(atomic, 1, text, sizeof text), -1);
	assert_string_equal(text, "Atomic cannot be nested inside Atomic");
	const char *seq = "{\"verb\":\"Sequence\",\"cmds\":[{\"verb\":\"Get\",\"items\":[{\"target\":"
			  "\"./X\"}]}]}";
	assert_int_equal(s_spec_check(seq, 0, text, sizeof text), 0);
	assert_int_equal(s_spec_check(seq, 1, text, sizeof text), -1);
	assert_string_equal(text, "cmds[0]: Get is not allowed inside Atomic");
}

static void test_spec_shapes(void **state)
{
	char text[256];
	assert_int_equal(s_spec_check("[]", 0, text, sizeof text), -1);
	assert_string_equal(text, "a SyncML command must be an object");
	assert_int_equal(s_spec_check("{\"verb\":\"Exec\",\"items\":[{\"target\":\"./X\"}],\"type\":"
				      "\"raw\"}",
				      0, text, sizeof text),
			 -1);
	assert_string_equal(text, "unknown field \"type\" in a SyncML command");
	assert_int_equal(s_spec_check("{\"verb\":\"Replace\",\"items\":[{\"target\":\"./X\",\"data\":"
				      "\"\"}]}",
				      0, text, sizeof text),
			 0);
	/* non-ASCII is fine in targets (percent-escaping them is the sender's choice) */
	assert_int_equal(s_spec_check("{\"verb\":\"Get\",\"items\":[{\"target\":\"./Vendor/\\u00e9\"}]}",
				      0, text, sizeof text),
			 0);
	assert_int_equal(s_spec_check("{\"verb\":\"Get\",\"items\":[{\"target\":\"./A\\u0000B\"}]}", 0,
				      text, sizeof text),
			 -1);
	assert_string_equal(
		text, "items[0].target contains a space or a control character (escape a space as %20)");
	assert_int_equal(s_spec_check("{\"verb\":\"Get\",\"items\":[{\"target\":\"./A\\tB\"}]}", 0,
				      text, sizeof text),
			 -1);
	assert_int_equal(s_spec_check("{\"verb\":\"Exec\",\"items\":[{\"target\":\"./A\",\"type\":\"\"}]}",
				      0, text, sizeof text),
			 -1);
	assert_string_equal(text, "items[0].type must be a media type (1 to 128 characters, no spaces)");
}

/* Builds a spec with n items of the given data length each. */
static json_t *s_replace(size_t n, size_t data_len)
{
	json_t *items = json_array();
	char *data = malloc(data_len + 1);
	memset(data, 'd', data_len);
	data[data_len] = '\0';
	for (size_t i = 0; i < n; i++) {
		char t[32];
		snprintf(t, sizeof t, "./Node/%zu", i);
		json_array_append_new(items, json_pack("{s:s,s:s}", "target", t, "data", data));
	}
	free(data);
	return json_pack("{s:s,s:o}", "verb", "Replace", "items", items);
}

static void test_spec_limits_are_inclusive(void **state)
{
	mdm_err_t err = {0};
	json_t *s = s_replace(64, 1024); /* 64 items, exactly 64 KiB of data */
	assert_int_equal(mdm_cmd_spec_valid(s, 0, &err), 0);
	json_decref(s);
	s = s_replace(65, 1);
	assert_int_equal(mdm_cmd_spec_valid(s, 0, &err), -1);
	assert_string_equal(err.text, "items has more than 64 entries");
	json_decref(s);
	mdm_err_clear(&err);
	s = s_replace(2, 32769);
	assert_int_equal(mdm_cmd_spec_valid(s, 0, &err), -1);
	assert_string_equal(err.text, "items[1].data: the command carries more than 65536 bytes of data");
	json_decref(s);
	mdm_err_clear(&err);
	/* four levels of nesting are allowed, a fifth is not */
	json_t *inner = json_pack("{s:s,s:[{s:s}]}", "verb", "Exec", "items", "target", "./X");
	for (int i = 0; i < 4; i++)
		inner = json_pack("{s:s,s:[o]}", "verb", "Sequence", "cmds", inner);
	assert_int_equal(mdm_cmd_spec_valid(inner, 0, &err), 0);
	inner = json_pack("{s:s,s:[o]}", "verb", "Sequence", "cmds", inner);
	assert_int_equal(mdm_cmd_spec_valid(inner, 0, &err), -1);
	assert_string_equal(err.text,
			    "cmds[0].cmds[0].cmds[0].cmds[0]: Atomic/Sequence nested more than 4 levels deep");
	json_decref(inner);
}

static void test_specs_array(void **state)
{
	mdm_err_t err = {0};
	json_t *a = json_array();
	assert_int_equal(mdm_cmd_specs_valid(a, &err), -1);
	assert_string_equal(err.text, "syncml must be an array of 1 to 64 commands");
	mdm_err_clear(&err);
	assert_int_equal(mdm_cmd_specs_valid(NULL, &err), -1);
	mdm_err_clear(&err);
	for (int i = 0; i < 64; i++)
		json_array_append_new(a, s_replace(1, 1));
	assert_int_equal(mdm_cmd_specs_valid(a, &err), 0);
	json_array_append_new(a, s_replace(1, 1));
	assert_int_equal(mdm_cmd_specs_valid(a, &err), -1);
	mdm_err_clear(&err);
	json_array_remove(a, 64);
	json_array_set_new(a, 63, json_pack("{s:s,s:[{s:s}]}", "verb", "Get", "items", "target", "X"));
	assert_int_equal(mdm_cmd_specs_valid(a, &err), -1);
	assert_string_equal(err.text, "syncml[63].items[0].target must start with \"./\"");
	json_decref(a);
}

static void test_first_error_wins(void **state)
{
	mdm_err_t err = {0};
	mdm_err_set(&err, MDM_E_CONFLICT, "earlier");
	json_t *req = s_json("{\"type\":\"nope\"}");
	assert_null(mdm_cmd_build(req, "OpenMDM", &err));
	assert_string_equal(err.text, "earlier");
	json_decref(req);
	assert_null(mdm_cmd_build(NULL, "OpenMDM", NULL)); /* err may be NULL */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_is_one_exec),
		cmocka_unit_test(test_wipe_modes),
		cmocka_unit_test(test_reboot_is_exec_format_null),
		cmocka_unit_test(test_inventory_is_one_get_of_devdetail),
		cmocka_unit_test(test_policy_set_one_setting_is_a_bare_replace),
		cmocka_unit_test(test_policy_set_several_settings_is_one_atomic),
		cmocka_unit_test(test_policy_user_scope_and_remove),
		cmocka_unit_test(test_policy_64_settings_is_the_limit),
		cmocka_unit_test(test_poll_is_an_atomic_of_two_replaces),
		cmocka_unit_test(test_poll_without_provider_id_is_a_server_error),
		cmocka_unit_test(test_raw_commands_are_copied_as_given),
		cmocka_unit_test(test_unenroll_command),
		cmocka_unit_test(test_invalid_cases),
		cmocka_unit_test(test_spec_inside_atomic_refuses_get_and_atomic),
		cmocka_unit_test(test_spec_shapes),
		cmocka_unit_test(test_spec_limits_are_inclusive),
		cmocka_unit_test(test_specs_array),
		cmocka_unit_test(test_first_error_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
