/* ctl_out.c -- mdmctl output for people: aligned tables, key/value views, times; argument parsers. */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Device names and inventory come from devices: whatever reaches the terminal is stripped
 * of control characters (C0, DEL, C1), so a device cannot send escape sequences to it. */
void ctl_printable(const char *s, char *out, size_t cap)
{
	size_t k = 0;
	if (cap == 0)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < cap; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			out[k++] = '?';
		} else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
			out[k++] = '?';
			p++;
		} else {
			out[k++] = (char)*p;
		}
	}
	/* never end inside a UTF-8 sequence cut by cap */
	size_t end = k;
	while (end > 0 && ((unsigned char)out[end - 1] & 0xC0) == 0x80)
		end--;
	if (end > 0 && ((unsigned char)out[end - 1] & 0x80)) {
		unsigned char lead = (unsigned char)out[end - 1];
		size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
		if (k - (end - 1) < need)
			k = end - 1;
	}
	out[k] = '\0';
}

const char *ctl_str(const json_t *v, char *out, size_t cap)
{
	if (v == NULL || json_is_null(v)) {
		snprintf(out, cap, "-");
	} else if (json_is_string(v)) {
		ctl_printable(json_string_value(v), out, cap);
	} else if (json_is_integer(v)) {
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(out, cap, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		ctl_printable(s ? s : "?", out, cap);
		free(s);
	}
	return out;
}

const char *ctl_time(const json_t *v, char *out, size_t cap)
{
	long long t = -1;
	if (json_is_integer(v)) {
		t = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = strlen(s);
		if (n > 0 && n < 19 && strspn(s, "0123456789") == n)
			t = atoll(s);
	}
	if (t < 0 && json_is_string(v)) {
		/* the API's ISO 8601 UTC times get the same face as epoch ones */
		struct tm tm = {0};
		const char *end = strptime(json_string_value(v), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end && *end == '\0')
			t = (long long)timegm(&tm);
	}
	if (t < 0)
		return ctl_str(v, out, cap);
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", t);
	return out;
}

void ctl_kv(FILE *out, const char *label, const char *value)
{
	char buf[4096];
	ctl_printable(value ? value : "-", buf, sizeof buf);
	fprintf(out, "%-22s %s\n", label, buf);
}

void ctl_kv_json(FILE *out, const char *label, const json_t *v)
{
	char buf[4096];
	fprintf(out, "%-22s %s\n", label, ctl_str(v, buf, sizeof buf));
}

void ctl_kv_time(FILE *out, const char *label, const json_t *v)
{
	char buf[64];
	fprintf(out, "%-22s %s\n", label, ctl_time(v, buf, sizeof buf));
}

void ctl_print_raw(const ctl_resp_t *resp)
{
	if (resp->body.len == 0)
		return;
	fwrite(resp->body.data, 1, resp->body.len, stdout);
	if (resp->body.data[resp->body.len - 1] != '\n')
		fputc('\n', stdout);
}

/* ---- tables ------------------------------------------------------------------------- */
struct ctl_table {
	int ncols;
	char **head;  /* ncols */
	int *max;     /* ncols; 0: no limit */
	char **cells; /* rows * ncols */
	int rows, cap;
};

ctl_table_t *ctl_table_new(int ncols, const char *const *cols)
{
	ctl_table_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	t->head = calloc((size_t)ncols, sizeof *t->head);
	t->max = calloc((size_t)ncols, sizeof *t->max);
	if (t->head == NULL || t->max == NULL)
		goto error;
	for (int i = 0; i < ncols; i++) {
		const char *colon = strrchr(cols[i], ':');
		size_t n = colon ? (size_t)(colon - cols[i]) : strlen(cols[i]);
		t->head[i] = strndup(cols[i], n);
		if (t->head[i] == NULL)
			goto error;
		t->max[i] = colon ? atoi(colon + 1) : 0;
	}
	return t;
error:
	ctl_table_destroy(&t);
	return NULL;
}

void ctl_table_destroy(ctl_table_t **tp)
{
	ctl_table_t *t = tp ? *tp : NULL;
	if (t == NULL)
		return;
	for (int i = 0; t->head && i < t->ncols; i++)
		free(t->head[i]);
	for (int i = 0; t->cells && i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->head);
	free(t->max);
	free(t->cells);
	free(t);
	*tp = NULL;
}

int ctl_table_rows(const ctl_table_t *t)
{
	return t ? t->rows : 0;
}

void ctl_table_add(ctl_table_t *t, const char *const *cells)
{
	if (t == NULL)
		return;
	if (t->rows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 32;
		char **c = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof *c);
		if (c == NULL)
			return;
		t->cells = c;
		t->cap = cap;
	}
	char buf[1024];
	for (int i = 0; i < t->ncols; i++) {
		ctl_printable(cells[i] && *cells[i] ? cells[i] : "-", buf, sizeof buf);
		t->cells[t->rows * t->ncols + i] = strdup(buf);
	}
	t->rows++;
}

/* Display width: code points (no table cell holds wide characters often enough to pull
 * in wcwidth and a locale). */
static int s_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static int s_utf8_locale(void)
{
	const char *v = getenv("LC_ALL");
	if (v == NULL || *v == '\0')
		v = getenv("LC_CTYPE");
	if (v == NULL || *v == '\0')
		v = getenv("LANG");
	return v && (strstr(v, "UTF-8") || strstr(v, "utf8") || strstr(v, "UTF8") ||
		     strstr(v, "utf-8"));
}

/* Prints s in a column of width w (pad: fill up to w), cut at max code points with an
 * ellipsis when it is longer. */
static void s_cell(FILE *out, const char *s, int w, int max, int pad, const char *ell)
{
	int sw = s_width(s);
	if (max > 0 && sw > max) {
		int keep = max - 1, n = 0;
		const char *p = s;
		while (*p) {
			if (((unsigned char)*p & 0xC0) != 0x80) {
				if (n == keep)
					break;
				n++;
			}
			p++;
		}
		fwrite(s, 1, (size_t)(p - s), out);
		fputs(ell, out);
		sw = max;
	} else {
		fputs(s, out);
	}
	if (pad)
		for (int i = sw; i < w; i++)
			fputc(' ', out);
}

void ctl_table_print(ctl_table_t *t, FILE *out, int wide)
{
	if (t == NULL)
		return;
	int *w = calloc((size_t)t->ncols, sizeof *w);
	if (w == NULL)
		return;
	for (int c = 0; c < t->ncols; c++) {
		w[c] = s_width(t->head[c]);
		for (int r = 0; r < t->rows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			int sw = s ? s_width(s) : 1;
			if (!wide && t->max[c] > 0 && sw > t->max[c])
				sw = t->max[c];
			if (sw > w[c])
				w[c] = sw;
		}
	}
	const char *ell = s_utf8_locale() ? "\xE2\x80\xA6" : "~";
	for (int r = -1; r < t->rows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] : t->cells[r * t->ncols + c];
			int last = c == t->ncols - 1;
			s_cell(out, s ? s : "-", w[c], wide ? 0 : t->max[c], !last, ell);
			if (!last)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	free(w);
}

/* ---- argument parsers --------------------------------------------------------------- */
int ctl_parse_count(const char *s, long long max, long long *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	long long v = atoll(s);
	if (v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

int ctl_parse_time(const char *s, long long *out)
{
	size_t n = strlen(s);
	size_t digits = strspn(s, "0123456789");
	if (n == 0)
		return -1;
	if (digits == n && n < 19) {
		*out = atoll(s);
		return 0;
	}
	/* a duration ago: 90s, 30m, 12h, 7d, 2w */
	if (digits > 0 && digits < 12 && n == digits + 1 && strchr("smhdw", s[digits])) {
		static const long long unit[] = {['s' - 'a'] = 1, ['m' - 'a'] = 60,
						 ['h' - 'a'] = 3600, ['d' - 'a'] = 86400,
						 ['w' - 'a'] = 604800};
		*out = (long long)time(NULL) - atoll(s) * unit[s[digits] - 'a'];
		return 0;
	}
	static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
					   "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		struct tm tm = {0};
		const char *end = strptime(s, fmts[i], &tm);
		if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
			continue;
		*out = (long long)timegm(&tm);
		return 0;
	}
	return -1;
}
