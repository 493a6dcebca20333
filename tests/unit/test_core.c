/* test_core.c -- libs/core: mdm_buf growth/escaping/failure flag, mdm_err recording and code tables, mdm_config layering and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdm_buf.h"
#include "mdm_config.h"
#include "mdm_err.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* 1 if s[0..len) is well-formed UTF-8 (no truncated or stray continuation bytes). */
static int s_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
					: (c & 0xF8) == 0xF0 ? 4 : 0;
		if (w == 0 || i + w > len)
			return 0;
		for (size_t k = 1; k < w; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
		i += w;
	}
	return 1;
}

/* Runs fn in a child process (so a crash is a test failure, not the end of the suite).
 * Returns the child's exit code, or 128 + signal if it died, or -1 if fork failed. */
static int s_in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* cmocka's crash handlers belong to the parent's test runner */
		int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		_exit(fn());
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- mdm_buf ------------------------------------------------------------------------- */

static void test_buf_append_grows_across_many_kb_and_keeps_content(void **state)
{
	(void)state;
	mdm_buf_t b = MDM_BUF_INIT;
	size_t expect = 0;
	char chunk[97];
	for (int i = 0; i < 3000; i++) { /* ~ 290 KB in odd-sized pieces */
		size_t n = (size_t)(i % 97) + 1;
		for (size_t k = 0; k < n; k++)
			chunk[k] = (char)('A' + (expect + k) % 26);
		assert_int_equal(mdm_buf_append(&b, chunk, n), 0);
		expect += n;
		assert_int_equal(b.len, expect);
		assert_true(b.cap >= b.len + 1);
		assert_int_equal(b.data[b.len], '\0');
	}
	assert_true(expect > 100 * 1024);
	for (size_t k = 0; k < expect; k++)
		if (b.data[k] != (char)('A' + k % 26))
			fail_msg("byte %zu is %c", k, b.data[k]);
	assert_int_equal(b.failed, 0);
	mdm_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_buf_append_binary_with_nul_bytes(void **state)
{
	(void)state;
	mdm_buf_t b = MDM_BUF_INIT;
	assert_int_equal(mdm_buf_append(&b, "a\0b\0c", 5), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "a\0b\0c", 5);
	assert_int_equal(b.data[5], '\0');
	/* a zero-length append on an empty buffer still gives a terminated string */
	mdm_buf_t e = MDM_BUF_INIT;
	assert_int_equal(mdm_buf_append(&e, "", 0), 0);
	assert_non_null(e.data);
	assert_string_equal(e.data, "");
	mdm_buf_free(&e);
	mdm_buf_free(&b);
}

static void test_buf_printf_appends_formatted_text_beyond_initial_capacity(void **state)
{
	(void)state;
	mdm_buf_t b = MDM_BUF_INIT;
	assert_int_equal(mdm_buf_puts(&b, "start:"), 0);
	assert_int_equal(mdm_buf_printf(&b, "%d-%s-%c", 42, "x", 'z'), 0);
	assert_string_equal(b.data, "start:42-x-z");
	assert_int_equal(b.len, strlen("start:42-x-z"));
	/* one printf larger than the first allocation (256) */
	assert_int_equal(mdm_buf_printf(&b, "[%0600d]", 7), 0);
	assert_int_equal(b.len, strlen("start:42-x-z") + 602);
	assert_int_equal(b.data[b.len - 2], '7');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), b.len);
	/* an empty format is fine */
	assert_int_equal(mdm_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, strlen("start:42-x-z") + 602);
	mdm_buf_free(&b);
}

static void test_buf_put_escaped_escapes_the_five_xml_specials(void **state)
{
	(void)state;
	mdm_buf_t b = MDM_BUF_INIT;
	assert_int_equal(mdm_buf_put_escaped(&b, "a&b<c>d\"e'f"), 0);
	assert_string_equal(b.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
	mdm_buf_free(&b);

	assert_int_equal(mdm_buf_put_escaped(&b, "&<>\"'"), 0);
	assert_string_equal(b.data, "&amp;&lt;&gt;&quot;&#39;");
	mdm_buf_free(&b);

	assert_int_equal(mdm_buf_put_escaped(&b, "plain text, ünïcode €"), 0);
	assert_string_equal(b.data, "plain text, ünïcode €");
	mdm_buf_free(&b);

	assert_int_equal(mdm_buf_put_escaped(&b, ""), 0);
	assert_int_equal(b.len, 0);
	/* escaping appends to what is there */
	mdm_buf_puts(&b, "<p>");
	mdm_buf_put_escaped(&b, "&amp;");
	mdm_buf_puts(&b, "</p>");
	assert_string_equal(b.data, "<p>&amp;amp;</p>");
	mdm_buf_free(&b);
}

static void test_buf_steal_hands_over_data_and_resets(void **state)
{
	(void)state;
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "hello");
	size_t len = 99;
	char *d = mdm_buf_steal(&b, &len);
	assert_non_null(d);
	assert_int_equal(len, 5);
	assert_string_equal(d, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(d);
	/* reusable after steal */
	mdm_buf_puts(&b, "again");
	d = mdm_buf_steal(&b, NULL);
	assert_string_equal(d, "again");
	free(d);
	/* empty buffer: NULL and length 0 */
	len = 99;
	assert_null(mdm_buf_steal(&b, &len));
	assert_int_equal(len, 0);
	mdm_buf_free(&b); /* free on an empty buffer is harmless */
	mdm_buf_free(&b);
}

static void test_buf_failure_flag_is_sticky_until_steal_or_free(void **state)
{
	(void)state;
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "ok");
	/* a size no allocator can satisfy trips the guard without allocating */
	assert_int_equal(mdm_buf_append(&b, "x", SIZE_MAX / 2 + 16), -1);
	assert_int_equal(b.failed, 1);
	/* every later append is a no-op returning -1 */
	assert_int_equal(mdm_buf_puts(&b, "more"), -1);
	assert_int_equal(mdm_buf_append(&b, "y", 1), -1);
	assert_int_equal(mdm_buf_printf(&b, "%d", 5), -1);
	assert_int_equal(mdm_buf_put_escaped(&b, "a<b"), -1);
	assert_int_equal(mdm_buf_put_escaped(&b, "plain"), -1);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ok");
	/* steal reports the failure as NULL (and frees), then the buffer is usable again */
	size_t len = 99;
	assert_null(mdm_buf_steal(&b, &len));
	assert_int_equal(len, 0);
	assert_int_equal(b.failed, 0);
	assert_null(b.data);
	assert_int_equal(mdm_buf_puts(&b, "fresh"), 0);
	assert_string_equal(b.data, "fresh");
	mdm_buf_free(&b);

	/* free also clears the flag */
	assert_int_equal(mdm_buf_append(&b, "x", SIZE_MAX - 64), -1);
	assert_int_equal(b.failed, 1);
	mdm_buf_free(&b);
	assert_int_equal(b.failed, 0);
	assert_int_equal(mdm_buf_puts(&b, "ok"), 0);
	mdm_buf_free(&b);
}

static int s_append_wrapping_size(void)
{
	mdm_buf_t b = MDM_BUF_INIT;
	mdm_buf_puts(&b, "abc");
	/* len + extra + 1 wraps around to 3: must be refused, not memcpy'd */
	int rc = mdm_buf_append(&b, "x", SIZE_MAX - 1);
	int failed = b.failed;
	mdm_buf_free(&b);
	return rc == -1 && failed ? 0 : 3;
}

/* Regression (was a bug in libs/core/mdm_buf.c s_reserve, fixed in 85d0852): without an
 * overflow check on buf->len + extra + 1, an append whose length is close to SIZE_MAX
 * wrapped around, passed the capacity test and memcpy()'d far past the buffer. Run in a
 * child: a crash fails this test only. */
static void test_buf_append_with_wrapping_length_fails_cleanly(void **state)
{
	(void)state;
	int rc = s_in_child(s_append_wrapping_size);
	if (rc != 0)
		fail_msg("append of SIZE_MAX-1 bytes to a 3-byte buffer: child %s %d (expected -1 "
			 "and the failure flag)",
			 rc >= 128 ? "died with signal" : "exited", rc >= 128 ? rc - 128 : rc);
}

/* ---- mdm_err ------------------------------------------------------------------------- */

static void test_err_first_error_wins(void **state)
{
	(void)state;
	mdm_err_t err = {0};
	assert_int_equal(mdm_err_set(&err, MDM_E_NOT_FOUND, "no %s %d", "device", 7), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_string_equal(err.text, "no device 7");
	assert_int_equal(mdm_err_set(&err, MDM_E_INTERNAL, "later"), -1);
	assert_int_equal(err.code, MDM_E_NOT_FOUND);
	assert_string_equal(err.text, "no device 7");
	mdm_err_clear(&err);
	assert_int_equal(err.code, MDM_OK);
	assert_string_equal(err.text, "");
	assert_int_equal(mdm_err_set(&err, MDM_E_CONFLICT, "second"), -1);
	assert_int_equal(err.code, MDM_E_CONFLICT);
	assert_string_equal(err.text, "second");
}

static void test_err_null_record_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(mdm_err_set(NULL, MDM_E_INTERNAL, "ignored %d", 1), -1);
	mdm_err_clear(NULL);
}

static void test_err_exactly_255_bytes_is_kept_whole(void **state)
{
	(void)state;
	char text[256];
	memset(text, 'a', 253);
	memcpy(text + 253, "\xC3\xA9", 2); /* ends in a complete é at byte 255 */
	text[255] = '\0';
	mdm_err_t err = {0};
	mdm_err_set(&err, MDM_E_INTERNAL, "%s", text);
	assert_string_equal(err.text, text);
}

static void test_err_truncation_never_splits_utf8(void **state)
{
	(void)state;
	static const char *chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
	for (size_t c = 0; c < 3; c++) {
		size_t w = strlen(chars[c]);
		for (size_t pad = 0; pad < w; pad++) {
			char full[600];
			size_t n = 0;
			for (size_t i = 0; i < pad; i++)
				full[n++] = 'a';
			while (n + w < 500) {
				memcpy(full + n, chars[c], w);
				n += w;
			}
			full[n] = '\0';
			mdm_err_t err = {0};
			mdm_err_set(&err, MDM_E_MESSAGE_FORMAT, "%s", full);
			size_t len = strlen(err.text);
			if (!s_valid_utf8(err.text, len))
				fail_msg("width %zu pad %zu: truncated text is not valid UTF-8", w, pad);
			assert_memory_equal(err.text, full, len);
			assert_true(len <= 255);
			assert_true(len >= 255 - w);
			assert_int_equal(err.code, MDM_E_MESSAGE_FORMAT);
		}
	}
	/* plain ASCII is cut at exactly 255 bytes */
	char ascii[400];
	memset(ascii, 'q', sizeof ascii - 1);
	ascii[sizeof ascii - 1] = '\0';
	mdm_err_t err = {0};
	mdm_err_set(&err, MDM_E_INTERNAL, "%s", ascii);
	assert_int_equal(strlen(err.text), 255);
}

static void test_code_names_and_http_statuses(void **state)
{
	(void)state;
	static const struct {
		mdm_code_t code;
		const char *name;
		int http;
	} t[] = {
		{MDM_OK, "ok", 200},
		{MDM_E_MESSAGE_FORMAT, "message_format", 400},
		{MDM_E_AUTHENTICATION, "authentication", 401},
		{MDM_E_AUTHORIZATION, "authorization", 403},
		{MDM_E_CERT_REQUEST, "certificate_request", 400},
		{MDM_E_ENROLLMENT_SERVER, "enrollment_server", 500},
		{MDM_E_INTERNAL, "internal", 500},
		{MDM_E_UNAVAILABLE, "unavailable", 503},
		{MDM_E_NOT_ELIGIBLE_RENEW, "not_eligible_to_renew", 403},
		{MDM_E_NOT_FOUND, "not_found", 404},
		{MDM_E_TOO_LARGE, "too_large", 413},
		{MDM_E_BAD_REQUEST, "bad_request", 400},
		{MDM_E_CONFLICT, "conflict", 409},
	};
	assert_int_equal(sizeof t / sizeof t[0], MDM_E__COUNT);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_non_null(mdm_code_name(t[i].code));
		assert_string_equal(mdm_code_name(t[i].code), t[i].name);
		assert_int_equal(mdm_code_http_status(t[i].code), t[i].http);
	}
}

static void test_code_out_of_range_maps_to_internal_500(void **state)
{
	(void)state;
	mdm_code_t bad[] = {MDM_E__COUNT, (mdm_code_t)(MDM_E__COUNT + 1), (mdm_code_t)1000,
			    (mdm_code_t)-1};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_string_equal(mdm_code_name(bad[i]), "internal");
		assert_int_equal(mdm_code_http_status(bad[i]), 500);
	}
}

/* ---- mdm_config ---------------------------------------------------------------------- */

typedef struct {
	char name[8];
	long port;
	char url[64];
	long level;
} s_cfg_t;

static const mdm_cfg_entry_t s_table[] = {
	MDM_CFG_S("MDMT_NAME", "abc", s_cfg_t, name, "a short name"),
	MDM_CFG_I("MDMT_PORT", "8443", 1, 65535, s_cfg_t, port, "a port"),
	MDM_CFG_S("MDMT_URL", "", s_cfg_t, url, "a url"),
	MDM_CFG_I("MDMT_LEVEL", "-3", -10, 10, s_cfg_t, level, "a signed number"),
};
#define S_NTABLE (sizeof s_table / sizeof s_table[0])

static char s_cfg_path[64];

static void s_clear_env(void)
{
	unsetenv("MDM_CONFIG");
	for (size_t i = 0; i < S_NTABLE; i++)
		unsetenv(s_table[i].name);
}

static int s_cfg_setup(void **state)
{
	(void)state;
	s_clear_env();
	snprintf(s_cfg_path, sizeof s_cfg_path, "/tmp/mdm-test-core-%ld.conf", (long)getpid());
	return 0;
}

static int s_cfg_teardown(void **state)
{
	(void)state;
	s_clear_env();
	unlink(s_cfg_path);
	return 0;
}

/* Writes the config file and points MDM_CONFIG at it. */
static void s_write_config(const char *text)
{
	FILE *f = fopen(s_cfg_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	setenv("MDM_CONFIG", s_cfg_path, 1);
}

static int s_load(s_cfg_t *cfg, mdm_err_t *err)
{
	memset(cfg, 0x5A, sizeof *cfg);
	mdm_err_clear(err);
	return mdm_config_load(s_table, S_NTABLE, cfg, err);
}

static void test_config_defaults(void **state)
{
	(void)state;
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), 0);
	assert_int_equal(err.code, MDM_OK);
	assert_string_equal(cfg.name, "abc");
	assert_int_equal(cfg.port, 8443);
	assert_string_equal(cfg.url, "");
	assert_int_equal(cfg.level, -3);
}

static void test_config_environment_overrides_defaults(void **state)
{
	(void)state;
	setenv("MDMT_NAME", "envname", 1); /* 7 chars: exactly fits char[8] */
	setenv("MDMT_PORT", "65535", 1);
	setenv("MDMT_LEVEL", "-10", 1);
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), 0);
	assert_string_equal(cfg.name, "envname");
	assert_int_equal(cfg.port, 65535);
	assert_int_equal(cfg.level, -10);
	assert_string_equal(cfg.url, "");
}

static void test_config_file_with_comments_and_whitespace(void **state)
{
	(void)state;
	s_write_config("# a comment\n"
		       "\n"
		       "   # an indented comment with MDMT_PORT=1\n"
		       "  MDMT_PORT =  9000  \n"
		       "\tMDMT_URL=https://h.example/a=b#frag\t\n"
		       "MDMT_UNKNOWN_KEY=whatever\n"
		       "OTHER_SERVICE_SETTING = 12\n"
		       "MDMT_NAME=\n");
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), 0);
	assert_int_equal(cfg.port, 9000);
	/* only the first '=' splits; '#' inside a value is kept */
	assert_string_equal(cfg.url, "https://h.example/a=b#frag");
	assert_string_equal(cfg.name, "");
	assert_int_equal(cfg.level, -3);
}

static void test_config_environment_overrides_file(void **state)
{
	(void)state;
	s_write_config("MDMT_PORT=9000\nMDMT_NAME=file\n");
	setenv("MDMT_PORT", "9001", 1);
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), 0);
	assert_int_equal(cfg.port, 9001);
	assert_string_equal(cfg.name, "file");
}

static void test_config_bad_number_is_refused(void **state)
{
	(void)state;
	static const char *bad[] = {"abc", "12abc", "", " ", "1.5", "0x10", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s_clear_env();
		setenv("MDMT_PORT", bad[i], 1);
		s_cfg_t cfg;
		mdm_err_t err = {0};
		if (s_load(&cfg, &err) != -1)
			fail_msg("MDMT_PORT='%s' was accepted (%ld)", bad[i], cfg.port);
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
		assert_non_null(strstr(err.text, "MDMT_PORT"));
	}
	/* from the file too, naming the file */
	s_clear_env();
	s_write_config("MDMT_LEVEL = seven\n");
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), -1);
	assert_non_null(strstr(err.text, "MDMT_LEVEL"));
	assert_non_null(strstr(err.text, s_cfg_path));
}

static void test_config_out_of_bounds_is_refused(void **state)
{
	(void)state;
	static const char *bad[] = {"0", "65536", "-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s_clear_env();
		setenv("MDMT_PORT", bad[i], 1);
		s_cfg_t cfg;
		mdm_err_t err = {0};
		assert_int_equal(s_load(&cfg, &err), -1);
		assert_int_equal(err.code, MDM_E_BAD_REQUEST);
		assert_non_null(strstr(err.text, "outside"));
	}
	s_clear_env();
	setenv("MDMT_LEVEL", "11", 1);
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), -1);
	s_clear_env();
	setenv("MDMT_LEVEL", "-11", 1);
	assert_int_equal(s_load(&cfg, &err), -1);
	/* the bounds themselves are allowed */
	s_clear_env();
	setenv("MDMT_PORT", "1", 1);
	setenv("MDMT_LEVEL", "10", 1);
	assert_int_equal(s_load(&cfg, &err), 0);
	assert_int_equal(cfg.port, 1);
	assert_int_equal(cfg.level, 10);
}

static void test_config_too_long_string_is_refused(void **state)
{
	(void)state;
	setenv("MDMT_NAME", "12345678", 1); /* 8 chars need char[9] */
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	assert_non_null(strstr(err.text, "MDMT_NAME"));
	assert_non_null(strstr(err.text, "longer than 7"));

	s_clear_env();
	s_write_config("MDMT_NAME = 123456789\n");
	assert_int_equal(s_load(&cfg, &err), -1);
	assert_non_null(strstr(err.text, "MDMT_NAME"));
}

static void test_config_missing_file_is_an_error(void **state)
{
	(void)state;
	setenv("MDM_CONFIG", "/nonexistent/dir/mdm.conf", 1);
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	assert_non_null(strstr(err.text, "/nonexistent/dir/mdm.conf"));
	/* an empty MDM_CONFIG means "no file" */
	setenv("MDM_CONFIG", "", 1);
	assert_int_equal(s_load(&cfg, &err), 0);
	assert_int_equal(cfg.port, 8443);
}

static void test_config_line_without_equals_is_an_error(void **state)
{
	(void)state;
	s_write_config("MDMT_PORT=9000\njust some words\n");
	s_cfg_t cfg;
	mdm_err_t err = {0};
	assert_int_equal(s_load(&cfg, &err), -1);
	assert_int_equal(err.code, MDM_E_BAD_REQUEST);
	assert_non_null(strstr(err.text, ":2:")); /* names the line */
}

/* Regression (was a bug in libs/core/mdm_config.c s_load_file, fixed in 85d0852): lines
 * are read with fgets() into a 1024-byte buffer, and the rest of a longer line was parsed
 * as a line of its own, so text at the end of a long comment became a setting. An error
 * ("line longer than") or ignoring the comment are both fine; setting MDMT_PORT is not. */
static void test_config_long_comment_line_sets_nothing(void **state)
{
	(void)state;
	char text[1200];
	size_t n = 0;
	text[n++] = '#';
	while (n < 1023)
		text[n++] = '-';
	snprintf(text + n, sizeof text - n, "MDMT_PORT=9\n");
	s_write_config(text);
	s_cfg_t cfg;
	mdm_err_t err = {0};
	int rc = s_load(&cfg, &err);
	if (rc == 0 && cfg.port != 8443)
		fail_msg("the tail of a 1035-byte comment line set MDMT_PORT=%ld", cfg.port);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_grows_across_many_kb_and_keeps_content),
		cmocka_unit_test(test_buf_append_binary_with_nul_bytes),
		cmocka_unit_test(test_buf_printf_appends_formatted_text_beyond_initial_capacity),
		cmocka_unit_test(test_buf_put_escaped_escapes_the_five_xml_specials),
		cmocka_unit_test(test_buf_steal_hands_over_data_and_resets),
		cmocka_unit_test(test_buf_failure_flag_is_sticky_until_steal_or_free),
		cmocka_unit_test(test_buf_append_with_wrapping_length_fails_cleanly),
		cmocka_unit_test(test_err_first_error_wins),
		cmocka_unit_test(test_err_null_record_is_accepted),
		cmocka_unit_test(test_err_exactly_255_bytes_is_kept_whole),
		cmocka_unit_test(test_err_truncation_never_splits_utf8),
		cmocka_unit_test(test_code_names_and_http_statuses),
		cmocka_unit_test(test_code_out_of_range_maps_to_internal_500),
		cmocka_unit_test_setup_teardown(test_config_defaults, s_cfg_setup, s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_environment_overrides_defaults,
						s_cfg_setup, s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_file_with_comments_and_whitespace,
						s_cfg_setup, s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_environment_overrides_file, s_cfg_setup,
						s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_bad_number_is_refused, s_cfg_setup,
						s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_out_of_bounds_is_refused, s_cfg_setup,
						s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_too_long_string_is_refused, s_cfg_setup,
						s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_missing_file_is_an_error, s_cfg_setup,
						s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_line_without_equals_is_an_error,
						s_cfg_setup, s_cfg_teardown),
		cmocka_unit_test_setup_teardown(test_config_long_comment_line_sets_nothing,
						s_cfg_setup, s_cfg_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
