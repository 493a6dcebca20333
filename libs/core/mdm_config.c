/* mdm_config.c -- settings loader (defaults < $MDM_CONFIG file < environment). */
#include "mdm_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_set(const mdm_cfg_entry_t *e, void *out, const char *value, const char *origin,
		 mdm_err_t *err)
{
	char *field = (char *)out + e->offset;
	if (e->type == MDM_CFG_STR) {
		size_t len = strlen(value);
		if (len >= e->size)
			return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s (%s): value longer than %zu bytes",
					   e->name, origin, e->size - 1);
		memcpy(field, value, len + 1);
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0')
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s (%s): '%s' is not a number", e->name,
				   origin, value);
	if (v < e->min || v > e->max)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "%s (%s): %ld is outside [%ld, %ld]",
				   e->name, origin, v, e->min, e->max);
	memcpy(field, &v, sizeof v);
	return 0;
}

static const mdm_cfg_entry_t *s_find(const mdm_cfg_entry_t *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

static char *s_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Reads the optional config file; a missing $MDM_CONFIG file is an error (the operator
 * named it), a malformed line too. */
static int s_load_file(const mdm_cfg_entry_t *table, size_t n, void *out, mdm_err_t *err)
{
	const char *path = getenv("MDM_CONFIG");
	if (path == NULL || *path == '\0')
		return 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return mdm_err_set(err, MDM_E_BAD_REQUEST, "MDM_CONFIG: cannot open %s: %s", path,
				   strerror(errno));
	char line[1024];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		size_t got = strlen(line);
		if (got == sizeof line - 1 && line[got - 1] != '\n' && !feof(f)) {
			/* never read the rest of an over-long line as a line of its own */
			rc = mdm_err_set(err, MDM_E_BAD_REQUEST, "%s:%d: line longer than %zu bytes",
					 path, lineno, sizeof line - 2);
			break;
		}
		char *s = s_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			rc = mdm_err_set(err, MDM_E_BAD_REQUEST, "%s:%d: expected NAME=value", path,
					 lineno);
			break;
		}
		*eq = '\0';
		const mdm_cfg_entry_t *e = s_find(table, n, s_trim(s));
		if (e)
			rc = s_set(e, out, s_trim(eq + 1), path, err);
	}
	fclose(f);
	return rc;
}

int mdm_config_load(const mdm_cfg_entry_t *table, size_t n, void *out, mdm_err_t *err)
{
	for (size_t i = 0; i < n; i++)
		if (s_set(&table[i], out, table[i].def, "default", err) != 0)
			return -1;
	if (s_load_file(table, n, out, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *v = getenv(table[i].name);
		if (v && s_set(&table[i], out, v, "environment", err) != 0)
			return -1;
	}
	return 0;
}

void mdm_config_usage(const mdm_cfg_entry_t *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %-24s %s (default: %s)\n", table[i].name, table[i].help,
			*table[i].def ? table[i].def : "none");
}
