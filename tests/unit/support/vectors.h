/* vectors.h -- where the unit tests find their fixtures: the shared captures of real devices
 * (../shared/vectors next to the repository, or $MDM_VECTORS), the repository's own
 * tests/data (or $MDM_TEST_DATA), and NEED_VECTORS() (skip when the vectors are missing,
 * fail under CI=true). Include it after cmocka.h. */
#ifndef MDM_TEST_VECTORS_H
#define MDM_TEST_VECTORS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MDM_TEST_UNUSED __attribute__((unused))

/* Repository root: the working directory when it holds tests/unit, else three levels above
 * the binary (build/tests/test_<name>). */
static MDM_TEST_UNUSED const char *s_root(void)
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
	if (n > 0) {
		exe[n] = '\0';
		for (int i = 0; i < 3; i++) {
			char *slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
		}
		snprintf(root, sizeof root, "%s", exe);
	} else {
		snprintf(root, sizeof root, ".");
	}
	return root;
}

static MDM_TEST_UNUSED const char *s_vectors(void)
{
	static char path[PATH_MAX + 32];
	const char *env = getenv("MDM_VECTORS");
	if (env && *env)
		return env;
	snprintf(path, sizeof path, "%s/../shared/vectors", s_root());
	return path;
}

static MDM_TEST_UNUSED const char *s_data(void)
{
	static char path[PATH_MAX + 32];
	const char *env = getenv("MDM_TEST_DATA");
	if (env && *env)
		return env;
	snprintf(path, sizeof path, "%s/tests/data", s_root());
	return path;
}

static MDM_TEST_UNUSED int s_have_vectors(void)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/windows/SOURCES.md", s_vectors());
	return access(p, R_OK) == 0;
}

/* Missing vectors skip the test, except under CI=true where they are a failure. */
#define NEED_VECTORS()                                                                        \
	do {                                                                                  \
		if (!s_have_vectors()) {                                                      \
			const char *ci_ = getenv("CI");                                       \
			if (ci_ && strcmp(ci_, "true") == 0)                                  \
				fail_msg("vectors missing at %s (CI=true)", s_vectors());   \
			print_message("skipped: no vectors at %s (set MDM_VECTORS)\n", s_vectors()); \
			skip();                                                               \
		}                                                                             \
	} while (0)

/* Reads a whole file, NUL-terminated. NULL when it cannot be read. */
static MDM_TEST_UNUSED char *s_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static MDM_TEST_UNUSED char *s_vec(const char *name, size_t *len)
{
	char p[PATH_MAX + 128];
	snprintf(p, sizeof p, "%s/windows/%s", s_vectors(), name);
	char *buf = s_read(p, len);
	if (buf == NULL)
		fail_msg("cannot read vector %s", p);
	return buf;
}

#endif
