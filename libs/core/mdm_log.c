/* mdm_log.c -- one-line logs to stderr: time, process name, level, file:line, message. */
#include "mdm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

static char s_name[32] = "mdm";
static int s_level = MDM_LOG_INFO;

void mdm_log_init(const char *name, int level)
{
	if (name)
		snprintf(s_name, sizeof s_name, "%s", name);
	s_level = level;
	const char *env = getenv("MDM_LOG_LEVEL");
	if (env) {
		if (!strcasecmp(env, "debug"))
			s_level = MDM_LOG_DEBUG;
		else if (!strcasecmp(env, "info"))
			s_level = MDM_LOG_INFO;
		else if (!strcasecmp(env, "warn"))
			s_level = MDM_LOG_WARN;
		else if (!strcasecmp(env, "error"))
			s_level = MDM_LOG_ERR;
	}
}

void mdm_log_(int level, const char *file, int line, const char *fmt, ...)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	if (level < s_level)
		return;
	char ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *base = strrchr(file, '/');
	fprintf(stderr, "%s.%03ldZ %s %s %s:%d %s\n", ts, now.tv_nsec / 1000000, s_name,
		names[level & 3], base ? base + 1 : file, line, msg);
}
