/* mdm_buf.c -- growable byte buffer (doubling growth, sticky failure flag). */
#include "mdm_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_reserve(mdm_buf_t *buf, size_t extra)
{
	if (buf->failed)
		return -1;
	if (extra > (size_t)-1 - buf->len - 1) { /* len + extra + 1 would wrap */
		buf->failed = 1;
		return -1;
	}
	if (buf->len + extra + 1 <= buf->cap)
		return 0;
	size_t cap = buf->cap ? buf->cap : 256;
	while (cap < buf->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			buf->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	char *p = realloc(buf->data, cap);
	if (p == NULL) {
		buf->failed = 1;
		return -1;
	}
	buf->data = p;
	buf->cap = cap;
	return 0;
}

int mdm_buf_append(mdm_buf_t *buf, const void *data, size_t len)
{
	if (s_reserve(buf, len) != 0)
		return -1;
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int mdm_buf_puts(mdm_buf_t *buf, const char *s)
{
	return mdm_buf_append(buf, s, strlen(s));
}

int mdm_buf_printf(mdm_buf_t *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || s_reserve(buf, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
	return 0;
}

int mdm_buf_put_escaped(mdm_buf_t *buf, const char *s)
{
	const char *start = s;
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		mdm_buf_append(buf, start, (size_t)(s - start));
		mdm_buf_puts(buf, rep);
		start = s + 1;
	}
	return mdm_buf_append(buf, start, (size_t)(s - start));
}

char *mdm_buf_steal(mdm_buf_t *buf, size_t *len)
{
	char *d = buf->failed ? NULL : buf->data;
	if (buf->failed)
		free(buf->data);
	if (len)
		*len = d ? buf->len : 0;
	buf->data = NULL;
	buf->len = buf->cap = 0;
	buf->failed = 0;
	return d;
}

void mdm_buf_free(mdm_buf_t *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
	buf->failed = 0;
}
