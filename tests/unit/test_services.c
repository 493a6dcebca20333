/* test_services.c -- service-level pure functions: discovery version/config checks, gateway routes and methods, registry form decoding and the admin token file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* services/ is not on the include path */
#include "../../services/discovery/disco.h"
#include "../../services/gateway/gw_routes.h"
#include "../../services/registry/reg.h"

/* ---- discovery: enrollment version --------------------------------------------------- */

static void test_enrollment_version_mapping(void **state)
{
	(void)state;
	static const struct {
		const char *requested;
		const char *want; /* NULL: answered without EnrollmentVersion */
	} t[] = {
		{"", NULL},      {"1.0", NULL},   {"2.0", NULL},   {"2.99", NULL},  {"0", NULL},
		{"3.0", "3.0"},  {"3", "3.0"},    {"3.5", "3.0"},  {"4.0", "4.0"},  {"4", "4.0"},
		{"5.0", "4.0"},  {"6.0", "4.0"},  {"7.0", "4.0"},  {"8.0", "4.0"},  {"9.0", "4.0"},
		{"12.5", "4.0"}, {"3.99", "3.0"}, {"004.0", "4.0"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int bad = 7;
		const char *got = disco_enrollment_version(t[i].requested, &bad);
		if (bad != 0)
			fail_msg("'%s' refused", t[i].requested);
		if (t[i].want == NULL && got != NULL)
			fail_msg("'%s' -> %s, expected no version", t[i].requested, got);
		if (t[i].want && (got == NULL || strcmp(got, t[i].want)))
			fail_msg("'%s' -> %s, expected %s", t[i].requested, got ? got : "NULL",
				 t[i].want);
	}
}

static void test_enrollment_version_not_a_number_is_bad(void **state)
{
	(void)state;
	static const char *bad_in[] = {"abc", "-1", "4.0x", " 4.0", "4.0 ", "+4.0", ".5",
				       "4.0.0", "four", "4,0"};
	for (size_t i = 0; i < sizeof bad_in / sizeof bad_in[0]; i++) {
		int bad = 0;
		const char *got = disco_enrollment_version(bad_in[i], &bad);
		if (bad != 1)
			fail_msg("'%s' accepted (-> %s)", bad_in[i], got ? got : "NULL");
		assert_null(got);
	}
}

/* BUG (services/discovery/disco.c:55-64): the check is "starts with a digit, then strtod
 * consumes everything", but strtod also reads exponents and hex ("1e5", "0x10", "3E0"),
 * which are not xsd:decimal -- they are answered as version 4.0 / 3.0 instead of refused.
 * Fix: require digits [ '.' digits ] with strspn before calling strtod. */
static void test_enrollment_version_exponent_or_hex_is_bad(void **state)
{
	(void)state;
	static const char *bad_in[] = {"1e5", "0x10", "3E0", "4e-0"};
	for (size_t i = 0; i < sizeof bad_in / sizeof bad_in[0]; i++) {
		int bad = 0;
		const char *got = disco_enrollment_version(bad_in[i], &bad);
		if (bad != 1)
			fail_msg("'%s' is not an xsd:decimal but was accepted (-> %s)", bad_in[i],
				 got ? got : "NULL");
	}
}

/* ---- discovery: configuration -------------------------------------------------------- */

static void s_disco_cfg(disco_config_t *cfg, const char *url, long port, const char *policies)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->public_url, sizeof cfg->public_url, "%s", url);
	cfg->https_port = port;
	snprintf(cfg->auth_policies, sizeof cfg->auth_policies, "%s", policies);
}

static void test_disco_config_default_url_from_port(void **state)
{
	(void)state;
	disco_config_t cfg;
	s_disco_cfg(&cfg, "", 9443, "OnPremise");
	assert_int_equal(disco_config_finish(&cfg), 0);
	assert_string_equal(cfg.public_url, "https://localhost:9443");
}

static void test_disco_config_strips_trailing_slashes(void **state)
{
	(void)state;
	static const char *in[][2] = {
		{"https://mdm.example.com/", "https://mdm.example.com"},
		{"https://mdm.example.com///", "https://mdm.example.com"},
		{"https://mdm.example.com:8443/base/", "https://mdm.example.com:8443/base"},
		{"https://mdm.example.com", "https://mdm.example.com"},
		{"HTTPS://MDM.example.com/", "HTTPS://MDM.example.com"},
	};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		disco_config_t cfg;
		s_disco_cfg(&cfg, in[i][0], 8443, "OnPremise,Federated");
		assert_int_equal(disco_config_finish(&cfg), 0);
		assert_string_equal(cfg.public_url, in[i][1]);
	}
}

static void test_disco_config_refuses_non_https_url(void **state)
{
	(void)state;
	static const char *bad[] = {"http://mdm.example.com", "mdm.example.com", "ftp://x/",
				    "https:/x", "//mdm.example.com"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		disco_config_t cfg;
		s_disco_cfg(&cfg, bad[i], 8443, "OnPremise");
		if (disco_config_finish(&cfg) != -1)
			fail_msg("public URL '%s' accepted", bad[i]);
	}
}

static void test_disco_config_auth_policies(void **state)
{
	(void)state;
	static const char *good[] = {"OnPremise", "Federated", "OnPremise,Federated",
				     "federated, onpremise", "  OnPremise ,  Federated  "};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		disco_config_t cfg;
		s_disco_cfg(&cfg, "https://h", 8443, good[i]);
		if (disco_config_finish(&cfg) != 0)
			fail_msg("policies '%s' refused", good[i]);
	}
	static const char *bad[] = {"Certificate", "OnPremise,Certificate", "OnPrem",
				    "OnPremise;Federated"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		disco_config_t cfg;
		s_disco_cfg(&cfg, "https://h", 8443, bad[i]);
		if (disco_config_finish(&cfg) != -1)
			fail_msg("policies '%s' accepted", bad[i]);
	}
}

/* BUG (services/discovery/disco.c:33-45): an empty MDM_AUTH_POLICIES (or only separators)
 * passes the check, so the service starts and then answers every Discover with a fault
 * ("none of the offered authentication policies is enabled"). Fix: count the known
 * policies in the loop and refuse when there are none. */
static void test_disco_config_refuses_empty_policy_list(void **state)
{
	(void)state;
	static const char *bad[] = {"", ",", " , "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		disco_config_t cfg;
		s_disco_cfg(&cfg, "https://h", 8443, bad[i]);
		if (disco_config_finish(&cfg) != -1)
			fail_msg("policies '%s' (none enabled) accepted", bad[i]);
	}
}

/* ---- gateway: routes ----------------------------------------------------------------- */

static void s_want_route(unsigned listener, const char *path, const char *service,
			 const char *command)
{
	const gw_route_t *r = gw_route_find(listener, path);
	if (r == NULL)
		fail_msg("%s on listener %u: no route, expected %s/%s", path, listener, service,
			 command);
	if (strcmp(r->service, service) || strcmp(r->command, command))
		fail_msg("%s on listener %u: %s/%s, expected %s/%s", path, listener, r->service,
			 r->command, service, command);
}

static void s_want_none(unsigned listener, const char *path)
{
	const gw_route_t *r = gw_route_find(listener, path);
	if (r != NULL)
		fail_msg("%s on listener %u: routed to %s/%s, expected 404", path, listener,
			 r->service, r->command);
}

static void test_routes_enrollment_services_on_both_listeners(void **state)
{
	(void)state;
	unsigned both[] = {GW_L_ENROLL, GW_L_MGMT};
	for (int i = 0; i < 2; i++) {
		s_want_route(both[i], "/EnrollmentServer/Discovery.svc", "discovery", "discover");
		s_want_route(both[i], "/EnrollmentServer/PolicyEnrollmentWebservice.svc", "pki",
			     "xcep");
		s_want_route(both[i], "/EnrollmentServer/DeviceEnrollmentWebservice.svc", "pki",
			     "wstep.win81");
		s_want_route(both[i], "/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc", "pki",
			     "wstep");
	}
	const gw_route_t *r = gw_route_find(GW_L_ENROLL, "/EnrollmentServer/Discovery.svc");
	assert_int_equal(r->kind, GW_BODY_SOAP);
	assert_int_equal(r->methods, GW_M_GET | GW_M_POST);
	r = gw_route_find(GW_L_ENROLL, "/EnrollmentServer/PolicyEnrollmentWebservice.svc");
	assert_int_equal(r->methods, GW_M_POST);
	/* only the PKI inspects the client certificate itself (renewal): the others get the
	 * thumbprint alone */
	assert_int_equal(r->cert_der, 1);
	assert_int_equal(gw_route_find(GW_L_MGMT, "/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc")->cert_der, 1);
	assert_int_equal(gw_route_find(GW_L_MGMT, "/EnrollmentServer/DeviceEnrollmentWebservice.svc")->cert_der, 1);
	assert_int_equal(gw_route_find(GW_L_MGMT, "/EnrollmentServer/Discovery.svc")->cert_der, 0);
	assert_int_equal(gw_route_find(GW_L_MGMT, "/ManagementServer/MDM.svc")->cert_der, 0);
}

static void test_routes_are_case_insensitive(void **state)
{
	(void)state;
	s_want_route(GW_L_ENROLL, "/enrollmentserver/discovery.svc", "discovery", "discover");
	s_want_route(GW_L_ENROLL, "/ENROLLMENTSERVER/DISCOVERY.SVC", "discovery", "discover");
	s_want_route(GW_L_MGMT, "/managementserver/mdm.SVC", "syncml", "manage");
	s_want_route(GW_L_ENROLL, "/API/V1/devices", "registry", "api");
	s_want_route(GW_L_ENROLL, "/enrollmentserver/auth", "registry", "webauth");
}

static void test_routes_respect_listener_masks(void **state)
{
	(void)state;
	/* device management only on the mTLS listener */
	s_want_none(GW_L_ENROLL, "/ManagementServer/MDM.svc");
	s_want_route(GW_L_MGMT, "/ManagementServer/MDM.svc", "syncml", "manage");
	const gw_route_t *r = gw_route_find(GW_L_MGMT, "/ManagementServer/MDM.svc");
	assert_int_equal(r->kind, GW_BODY_SYNCML);
	/* the admin API and the login page only on the enrollment listener */
	s_want_none(GW_L_MGMT, "/api/v1/devices");
	s_want_none(GW_L_MGMT, "/EnrollmentServer/Auth");
	s_want_route(GW_L_ENROLL, "/EnrollmentServer/Auth", "registry", "webauth");
	r = gw_route_find(GW_L_ENROLL, "/EnrollmentServer/Auth");
	assert_int_equal(r->kind, GW_BODY_HTML);
	/* no listener, no route; a combined mask finds routes of either */
	s_want_none(0, "/EnrollmentServer/Discovery.svc");
	s_want_route(GW_L_ENROLL | GW_L_MGMT, "/ManagementServer/MDM.svc", "syncml", "manage");
}

static void test_routes_api_prefix(void **state)
{
	(void)state;
	s_want_route(GW_L_ENROLL, "/api/v1/", "registry", "api");
	s_want_route(GW_L_ENROLL, "/api/v1/devices", "registry", "api");
	s_want_route(GW_L_ENROLL, "/api/v1/users/a@b.c/pre-enrollments", "registry", "api");
	const gw_route_t *r = gw_route_find(GW_L_ENROLL, "/api/v1/devices");
	assert_int_equal(r->prefix, 1);
	assert_int_equal(r->kind, GW_BODY_JSON);
	assert_int_equal(r->methods,
			 GW_M_GET | GW_M_POST | GW_M_PUT | GW_M_DELETE | GW_M_PATCH);
	s_want_none(GW_L_ENROLL, "/api/v1");
	s_want_none(GW_L_ENROLL, "/api/v10/devices");
	s_want_none(GW_L_ENROLL, "/api/v2/devices");
	s_want_none(GW_L_ENROLL, "/x/api/v1/devices");
}

static void test_routes_unknown_paths_are_null(void **state)
{
	(void)state;
	static const char *paths[] = {"",
				      "/",
				      "/EnrollmentServer",
				      "/EnrollmentServer/",
				      "/EnrollmentServer/Discovery.svcx",
				      "/EnrollmentServer/Discovery.svc/",
				      "/EnrollmentServer/Discovery.svc/extra",
				      "/EnrollmentServer/Discovery",
				      "EnrollmentServer/Discovery.svc",
				      "/ManagementServer/MDM.svc2",
				      "/healthz-not-a-route"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		s_want_none(GW_L_ENROLL, paths[i]);
		s_want_none(GW_L_MGMT, paths[i]);
	}
}

static void test_method_bits(void **state)
{
	(void)state;
	assert_int_equal(gw_method_bit("GET"), GW_M_GET);
	assert_int_equal(gw_method_bit("POST"), GW_M_POST);
	assert_int_equal(gw_method_bit("PUT"), GW_M_PUT);
	assert_int_equal(gw_method_bit("DELETE"), GW_M_DELETE);
	assert_int_equal(gw_method_bit("PATCH"), GW_M_PATCH);
	/* methods are case-sensitive (RFC 9110); unknown ones have no bit */
	static const char *none[] = {"get", "Post", "HEAD", "OPTIONS", "TRACE", "CONNECT", "",
				     "GETX"};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		if (gw_method_bit(none[i]) != 0)
			fail_msg("method '%s' has bit %u", none[i], gw_method_bit(none[i]));
	/* the bits are distinct */
	unsigned all = GW_M_GET | GW_M_POST | GW_M_PUT | GW_M_DELETE | GW_M_PATCH;
	assert_int_equal(__builtin_popcount(all), 5);
}

/* ---- registry: form decoding --------------------------------------------------------- */

/* reg_form_get on a NUL-terminated form; "(null)" when absent. Caller frees. */
static char *s_form(const char *form, const char *name)
{
	char *v = reg_form_get(form, strlen(form), name);
	return v ? v : strdup("(null)");
}

static void s_want_form(const char *form, const char *name, const char *want)
{
	char *got = s_form(form, name);
	if (strcmp(got, want) != 0) {
		char msg[512];
		snprintf(msg, sizeof msg, "'%s' [%s] -> '%s', expected '%s'", form, name, got, want);
		free(got);
		fail_msg("%s", msg);
	}
	free(got);
}

static void test_form_plain_values(void **state)
{
	(void)state;
	s_want_form("a=1&b=2", "a", "1");
	s_want_form("a=1&b=2", "b", "2");
	s_want_form("a=1&a=2", "a", "1"); /* first one wins */
	s_want_form("t=x=y", "t", "x=y"); /* only the first '=' splits */
	s_want_form("&&a=1&", "a", "1");
	s_want_form("flag&a=1", "a", "1");
	s_want_form("appru=ms-app%3A%2F%2Fs-1-15-2&login_hint=u%40x.y", "appru",
		    "ms-app://s-1-15-2");
}

static void test_form_plus_and_percent_decoding(void **state)
{
	(void)state;
	s_want_form("q=hello+world", "q", "hello world");
	s_want_form("q=a%2Bb", "q", "a+b"); /* an encoded plus stays a plus */
	s_want_form("e=alice%40example.com", "e", "alice@example.com");
	s_want_form("n=caf%C3%A9", "n", "caf\xC3\xA9");
	s_want_form("p=%26%3D%25", "p", "&=%");
	s_want_form("p=%2b%2f", "p", "+/"); /* lower-case hex */
}

static void test_form_missing_and_prefix_keys(void **state)
{
	(void)state;
	s_want_form("a=1&b=2", "c", "(null)");
	s_want_form("", "a", "(null)");
	s_want_form("flag&a=1", "flag", "(null)"); /* a key without '=' has no value */
	s_want_form("ab=1&a=2", "a", "2");
	s_want_form("ab=1&a=2", "ab", "1");
	s_want_form("a=1", "ab", "(null)");
	s_want_form("abc=1", "ab", "(null)");
	s_want_form("xa=1", "a", "(null)");
	s_want_form("A=1", "a", "(null)"); /* names are case-sensitive */
}

static void test_form_embedded_nul_is_refused(void **state)
{
	(void)state;
	s_want_form("x=a%00b", "x", "(null)");
	s_want_form("x=%00", "x", "(null)");
	s_want_form("x=a%00b&y=ok", "y", "ok");
}

static void test_form_empty_value_is_empty_string(void **state)
{
	(void)state;
	s_want_form("a=&b=2", "a", "");
	s_want_form("b=2&a=", "a", "");
	s_want_form("a=", "a", "");
}

static void test_form_respects_length(void **state)
{
	(void)state;
	/* not NUL-terminated where the form ends */
	char form[] = {'a', '=', '1', '2', '3', '&', 'b', '=', '9'};
	char *v = reg_form_get(form, 3, "a");
	assert_non_null(v);
	assert_string_equal(v, "1");
	free(v);
	v = reg_form_get(form, 5, "a");
	assert_string_equal(v, "123");
	free(v);
	assert_null(reg_form_get(form, 5, "b"));
	v = reg_form_get(form, sizeof form, "b");
	assert_string_equal(v, "9");
	free(v);
	assert_null(reg_form_get(form, 0, "a"));
}

/* ---- registry: admin token file ------------------------------------------------------ */

static char s_tmpdir[64];

static int s_tmpdir_setup(void **state)
{
	(void)state;
	snprintf(s_tmpdir, sizeof s_tmpdir, "/tmp/mdm-test-services-XXXXXX");
	return mkdtemp(s_tmpdir) ? 0 : -1;
}

static int s_tmpdir_teardown(void **state)
{
	(void)state;
	DIR *d = opendir(s_tmpdir);
	if (d) {
		struct dirent *e;
		char p[PATH_MAX];
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", s_tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(s_tmpdir);
	return 0;
}

static int s_count_files(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void s_read_text(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void test_admin_token_is_created_0600_and_stable(void **state)
{
	(void)state;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/admin.token", s_tmpdir);
	mode_t old = umask(022);
	char tok[128] = "", again[128] = "";
	int rc = reg_admin_token_load(path, tok, sizeof tok);
	umask(old);
	assert_int_equal(rc, 0);
	assert_true(strlen(tok) >= 32);
	assert_int_equal(strlen(tok), 64);
	assert_int_equal(strspn(tok, "0123456789abcdef"), 64);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char file[256];
	s_read_text(path, file, sizeof file);
	char want[256];
	snprintf(want, sizeof want, "%s\n", tok);
	assert_string_equal(file, want);
	assert_int_equal(s_count_files(s_tmpdir), 1); /* no temporary file left behind */

	assert_int_equal(reg_admin_token_load(path, again, sizeof again), 0);
	assert_string_equal(again, tok);
}

static void test_admin_token_existing_file_is_used_as_is(void **state)
{
	(void)state;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/admin.token", s_tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("operator-chosen-token-0123456789\r\n", f);
	fclose(f);
	chmod(path, 0640);
	char tok[128] = "";
	assert_int_equal(reg_admin_token_load(path, tok, sizeof tok), 0);
	assert_string_equal(tok, "operator-chosen-token-0123456789");
	char file[256];
	s_read_text(path, file, sizeof file);
	assert_string_equal(file, "operator-chosen-token-0123456789\r\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_admin_token_too_short_file_is_not_replaced(void **state)
{
	(void)state;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/admin.token", s_tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("short\n", f);
	fclose(f);
	char tok[128] = "";
	assert_int_equal(reg_admin_token_load(path, tok, sizeof tok), -1);
	char file[64];
	s_read_text(path, file, sizeof file);
	assert_string_equal(file, "short\n");
	assert_int_equal(s_count_files(s_tmpdir), 1);
}

static void test_admin_token_in_missing_directory_fails(void **state)
{
	(void)state;
	char path[PATH_MAX], tok[128];
	snprintf(path, sizeof path, "%s/no/such/dir/admin.token", s_tmpdir);
	assert_int_equal(reg_admin_token_load(path, tok, sizeof tok), -1);
}

static void test_admin_token_concurrent_starts_agree(void **state)
{
	(void)state;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/admin.token", s_tmpdir);
	enum { N = 6 };
	int fds[N][2];
	pid_t pids[N];
	fflush(NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[i][0]);
			char tok[128] = "";
			int rc = reg_admin_token_load(path, tok, sizeof tok);
			dprintf(fds[i][1], "%d %s", rc, tok);
			_exit(0);
		}
		close(fds[i][1]);
	}
	char first[200] = "";
	for (int i = 0; i < N; i++) {
		char buf[200];
		ssize_t n = read(fds[i][0], buf, sizeof buf - 1);
		close(fds[i][0]);
		waitpid(pids[i], NULL, 0);
		buf[n > 0 ? n : 0] = '\0';
		if (strncmp(buf, "0 ", 2) != 0)
			fail_msg("instance %d: '%s'", i, buf);
		if (i == 0)
			snprintf(first, sizeof first, "%s", buf);
		else if (strcmp(buf, first) != 0)
			fail_msg("instances disagree: '%s' vs '%s'", buf, first);
	}
	assert_int_equal(strlen(first), 2 + 64);
	assert_int_equal(s_count_files(s_tmpdir), 1);
}

int main(void)
{
#define S_TMP(fn) cmocka_unit_test_setup_teardown(fn, s_tmpdir_setup, s_tmpdir_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enrollment_version_mapping),
		cmocka_unit_test(test_enrollment_version_not_a_number_is_bad),
		cmocka_unit_test(test_enrollment_version_exponent_or_hex_is_bad),
		cmocka_unit_test(test_disco_config_default_url_from_port),
		cmocka_unit_test(test_disco_config_strips_trailing_slashes),
		cmocka_unit_test(test_disco_config_refuses_non_https_url),
		cmocka_unit_test(test_disco_config_auth_policies),
		cmocka_unit_test(test_disco_config_refuses_empty_policy_list),
		cmocka_unit_test(test_routes_enrollment_services_on_both_listeners),
		cmocka_unit_test(test_routes_are_case_insensitive),
		cmocka_unit_test(test_routes_respect_listener_masks),
		cmocka_unit_test(test_routes_api_prefix),
		cmocka_unit_test(test_routes_unknown_paths_are_null),
		cmocka_unit_test(test_method_bits),
		cmocka_unit_test(test_form_plain_values),
		cmocka_unit_test(test_form_plus_and_percent_decoding),
		cmocka_unit_test(test_form_missing_and_prefix_keys),
		cmocka_unit_test(test_form_embedded_nul_is_refused),
		cmocka_unit_test(test_form_empty_value_is_empty_string),
		cmocka_unit_test(test_form_respects_length),
		S_TMP(test_admin_token_is_created_0600_and_stable),
		S_TMP(test_admin_token_existing_file_is_used_as_is),
		S_TMP(test_admin_token_too_short_file_is_not_replaced),
		S_TMP(test_admin_token_in_missing_directory_fails),
		S_TMP(test_admin_token_concurrent_starts_agree),
	};
#undef S_TMP
	return cmocka_run_group_tests(tests, NULL, NULL);
}
