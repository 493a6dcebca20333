/* mdm_log.h -- logging and the check() error-jump macros used by every module. */
#ifndef MDM_LOG_H
#define MDM_LOG_H

#include <errno.h>
#include <string.h>

enum { MDM_LOG_DEBUG = 0, MDM_LOG_INFO = 1, MDM_LOG_WARN = 2, MDM_LOG_ERR = 3 };

/* Sets the process name shown in every line and the minimum level (MDM_LOG_LEVEL env:
 * debug|info|warn|error overrides it). Safe to skip: defaults are "mdm" and info. */
void mdm_log_init(const char *name, int level);
void mdm_log_(int level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_debug(...) mdm_log_(MDM_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) mdm_log_(MDM_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) mdm_log_(MDM_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_err(...) mdm_log_(MDM_LOG_ERR, __FILE__, __LINE__, __VA_ARGS__)

/* check(cond, fmt, ...): if cond is false, log at error level and jump to the function's
 * single `error:` label. Never compiled out. check_quiet() jumps without logging (for
 * input errors already reported through an mdm_err_t). */
#define check(A, ...)                                                                   \
	do {                                                                            \
		if (!(A)) {                                                             \
			log_err(__VA_ARGS__);                                           \
			goto error;                                                     \
		}                                                                       \
	} while (0)
#define check_quiet(A)                                                                  \
	do {                                                                            \
		if (!(A))                                                               \
			goto error;                                                     \
	} while (0)
#define check_mem(A) check((A), "out of memory")

#endif
