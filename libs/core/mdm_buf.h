/* mdm_buf.h -- growable byte buffer with printf and XML/HTML escaping, for building replies. */
#ifndef MDM_BUF_H
#define MDM_BUF_H

#include <stddef.h>

typedef struct {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	int failed; /* set once an allocation failed; later appends are no-ops */
} mdm_buf_t;

#define MDM_BUF_INIT {NULL, 0, 0, 0}

/* Appenders return 0, or -1 after an allocation failure (then buf->failed stays set, so a
 * builder can append freely and check once at the end). */
int mdm_buf_append(mdm_buf_t *buf, const void *data, size_t len);
int mdm_buf_puts(mdm_buf_t *buf, const char *s);
int mdm_buf_printf(mdm_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' escaped, valid for XML/HTML text and attribute values. */
int mdm_buf_put_escaped(mdm_buf_t *buf, const char *s);
/* Gives the caller the data (caller frees; may be NULL if empty or failed) and resets buf. */
char *mdm_buf_steal(mdm_buf_t *buf, size_t *len);
void mdm_buf_free(mdm_buf_t *buf);

#endif
