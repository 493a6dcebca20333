/* mdm_config.h -- table-driven settings: defaults, then a key=value file, then environment. */
#ifndef MDM_CONFIG_H
#define MDM_CONFIG_H

#include <stddef.h>

#include "mdm_err.h"

typedef enum { MDM_CFG_STR, MDM_CFG_INT } mdm_cfg_type_t;

/* One setting. `name` is the environment variable and the config-file key (MDM_HTTPS_PORT).
 * `offset` locates the field inside the service's config struct: a char[size] for strings,
 * a long for integers, which must lie within [min, max]. */
typedef struct {
	const char *name;
	mdm_cfg_type_t type;
	const char *def;
	long min, max;
	size_t offset;
	size_t size;
	const char *help;
} mdm_cfg_entry_t;

#define MDM_CFG_S(name, def, type, field, help)                                           \
	{name, MDM_CFG_STR, def, 0, 0, offsetof(type, field), sizeof(((type *)0)->field), help}
#define MDM_CFG_I(name, def, min, max, type, field, help)                                 \
	{name, MDM_CFG_INT, def, min, max, offsetof(type, field), sizeof(long), help}

/* Fills `out` from the table: defaults first, then the file named by $MDM_CONFIG (lines
 * "NAME=value", '#' comments; unknown names are ignored so services can share one file),
 * then the environment. Returns 0, or -1 with err set naming the bad setting (bad number,
 * out of bounds, string too long). */
int mdm_config_load(const mdm_cfg_entry_t *table, size_t n, void *out, mdm_err_t *err);

/* Prints the table as "NAME (default X): help" lines, for --help. */
void mdm_config_usage(const mdm_cfg_entry_t *table, size_t n);

#endif
