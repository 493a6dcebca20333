/* ctl_config.c -- mdmctl settings: flag > environment > config file; login --save writes the file. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTL_DEFAULT_TIMEOUT 30
#define CTL_MAX_CONFIG (64 * 1024)

/* One table of settings, as the services declare theirs: the flag, the environment variable
 * and the config file key of each. */
enum { S_URL, S_TOKEN, S_CA_FILE, S_INSECURE, S__COUNT };
static const struct {
	const char *flag, *env, *key;
} s_settings[S__COUNT] = {
	[S_URL] = {"url", "MDM_URL", "url"},
	[S_TOKEN] = {"token", "MDM_TOKEN", "token"},
	[S_CA_FILE] = {"ca-file", "MDM_CA_FILE", "ca_file"},
	[S_INSECURE] = {"insecure", "MDM_INSECURE", "insecure"},
};

static void s_wipe_free(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void ctl_config_free(ctl_config_t *cfg)
{
	free(cfg->url);
	s_wipe_free(&cfg->token);
	s_wipe_free(&cfg->file_token);
	free(cfg->ca_file);
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}

/* The config file's path: --config, $MDMCTL_CONFIG, $XDG_CONFIG_HOME/mdmctl/config,
 * ~/.config/mdmctl/config. Caller frees; NULL when there is no home to put it in. */
static char *s_config_path(const ctl_args_t *a, int *explicit_)
{
	const char *p = ctl_opt(a, "config");
	char *out = NULL;
	*explicit_ = 1;
	if (p && *p)
		return strdup(p);
	p = getenv("MDMCTL_CONFIG");
	if (p && *p)
		return strdup(p);
	*explicit_ = 0;
	p = getenv("XDG_CONFIG_HOME");
	if (p && p[0] == '/') {
		if (asprintf(&out, "%s/mdmctl/config", p) < 0)
			return NULL;
		return out;
	}
	p = getenv("HOME");
	if (p == NULL || p[0] != '/') {
		struct passwd *pw = getpwuid(getuid());
		p = pw ? pw->pw_dir : NULL;
	}
	if (p == NULL)
		return NULL;
	if (asprintf(&out, "%s/.config/mdmctl/config", p) < 0)
		return NULL;
	return out;
}

/* Cuts the next line (without its '\n') off *p; NULL at the end. Empty lines are lines. */
static char *s_next_line(char **p)
{
	char *line = *p;
	if (line == NULL || *line == '\0')
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

static char *s_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Splits a "key = value" line in place. 1 if it is one, 0 for blank/comment lines, -1 if
 * malformed. A value in double quotes loses them. */
static int s_split(char *line, char **key, char **value)
{
	char *s = s_trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	if (eq == NULL)
		return -1;
	*eq = '\0';
	*key = s_trim(s);
	char *v = s_trim(eq + 1);
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
	}
	*value = v;
	return **key ? 1 : -1;
}

/* Reads the whole file (at most CTL_MAX_CONFIG bytes) into a NUL-terminated string the
 * caller frees; NULL with errno set. */
static char *s_slurp(const char *path, struct stat *st, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = NULL;
	if (fstat(fd, st) != 0)
		goto error;
	if (!S_ISREG(st->st_mode) || st->st_size > CTL_MAX_CONFIG) {
		errno = S_ISREG(st->st_mode) ? EFBIG : EINVAL;
		goto error;
	}
	buf = malloc((size_t)st->st_size + 1);
	if (buf == NULL)
		goto error;
	size_t got = 0;
	while (got < (size_t)st->st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st->st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
error:
	free(buf);
	close(fd);
	return NULL;
}

/* Reads the config file into vals[] (owned strings). 0, or an exit code after printing why.
 * A file that does not exist is empty, unless it was named explicitly and must_exist. */
static int s_read_file(ctl_config_t *cfg, int must_exist, char *vals[S__COUNT])
{
	struct stat st;
	size_t tlen = 0;
	char *text = s_slurp(cfg->path, &st, &tlen);
	if (text == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return ctl_fail(CTL_EUSAGE, "cannot read the config file %s: %s", cfg->path,
				strerror(errno));
	}
	int lineno = 0;
	char *rest = text;
	for (char *line; (line = s_next_line(&rest)) != NULL;) {
		lineno++;
		char *key, *value;
		int r = s_split(line, &key, &value);
		if (r == 0)
			continue;
		if (r < 0) {
			/* the line is not echoed: it may hold a token */
			fprintf(stderr, "mdmctl: warning: %s:%d is not \"key = value\"; ignored\n",
				cfg->path, lineno);
			continue;
		}
		int k = 0;
		while (k < S__COUNT && strcmp(key, s_settings[k].key) != 0)
			k++;
		if (k == S__COUNT) {
			fprintf(stderr, "mdmctl: warning: %s:%d: unknown key \"%.40s\"; ignored\n",
				cfg->path, lineno, key);
			continue;
		}
		s_wipe_free(&vals[k]);
		vals[k] = strdup(value);
	}
	if (vals[S_TOKEN] && (st.st_mode & 077))
		fprintf(stderr,
			"mdmctl: warning: %s holds a token and others may read it (chmod 600 %s)\n",
			cfg->path, cfg->path);
	explicit_bzero(text, tlen);
	free(text);
	return 0;
}

/* 1 for 1/true/yes/on, 0 for 0/false/no/off/"", -1 otherwise. */
static int s_bool(const char *s)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off", ""};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!strcasecmp(s, yes[i]))
			return 1;
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (!strcasecmp(s, no[i]))
			return 0;
	return -1;
}

int ctl_config_load(ctl_config_t *cfg, const ctl_args_t *a)
{
	char *file[S__COUNT] = {0};
	int rc = CTL_OK;
	cfg->path = s_config_path(a, &cfg->path_explicit);
	/* login --save may create the file it names */
	if (cfg->path && (rc = s_read_file(cfg, cfg->path_explicit && !ctl_flag(a, "save"), file)))
		goto done;
	const char *val[S__COUNT];
	const char *from[S__COUNT];
	for (int k = 0; k < S__COUNT; k++) {
		const char *f = ctl_opt(a, s_settings[k].flag), *e = getenv(s_settings[k].env);
		if (k == S_INSECURE && f)
			f = "1";
		val[k] = f ? f : (e && *e) ? e : file[k];
		from[k] = f ? "the command line" : (e && *e) ? s_settings[k].env : "the config file";
	}
	if (val[S_URL]) {
		if (strncmp(val[S_URL], "https://", 8) && strncmp(val[S_URL], "http://", 7)) {
			rc = ctl_fail(CTL_EUSAGE, "the URL from %s must start with https://",
				      from[S_URL]);
			goto done;
		}
		cfg->url = strdup(val[S_URL]);
		if (cfg->url == NULL)
			goto oom;
		size_t n = strlen(cfg->url);
		while (n > 0 && cfg->url[n - 1] == '/')
			cfg->url[--n] = '\0';
		if (n >= 7 && !strcmp(cfg->url + n - 7, "/api/v1"))
			cfg->url[n - 7] = '\0';
	}
	if (val[S_TOKEN] && *val[S_TOKEN]) {
		for (const char *p = val[S_TOKEN]; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
				rc = ctl_fail(CTL_EUSAGE,
					      "the token from %s has characters a token cannot have",
					      from[S_TOKEN]);
				goto done;
			}
		if ((cfg->token = strdup(val[S_TOKEN])) == NULL)
			goto oom;
		cfg->token_from = ctl_opt(a, "token") ? "--token"
				  : (getenv("MDM_TOKEN") && *getenv("MDM_TOKEN")) ? "MDM_TOKEN"
										  : "config";
	}
	if (file[S_TOKEN] && (cfg->file_token = strdup(file[S_TOKEN])) == NULL)
		goto oom;
	if (val[S_CA_FILE] && *val[S_CA_FILE] && (cfg->ca_file = strdup(val[S_CA_FILE])) == NULL)
		goto oom;
	if (val[S_INSECURE]) {
		int b = s_bool(val[S_INSECURE]);
		if (b < 0) {
			rc = ctl_fail(CTL_EUSAGE, "insecure from %s must be 1 or 0", from[S_INSECURE]);
			goto done;
		}
		cfg->insecure = b;
	}
	cfg->timeout = CTL_DEFAULT_TIMEOUT;
	const char *t = ctl_opt(a, "timeout");
	long long secs;
	if (t) {
		if (ctl_parse_count(t, 86400, &secs) != 0) {
			rc = ctl_usage("--timeout must be a number of seconds from 1 to 86400");
			goto done;
		}
		cfg->timeout = (long)secs;
	}
	goto done;
oom:
	rc = ctl_fail(CTL_EAPI, "out of memory");
done:
	for (int k = 0; k < S__COUNT; k++)
		s_wipe_free(&file[k]);
	return rc;
}

/* mkdir -p for the directories above path, each new one 0700. 0 or -1. */
static int s_mkdirs(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return -1;
	int rc = 0;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*p = '/';
	}
	free(copy);
	return rc;
}

static int s_key_index(const char *key, const char *const *keys, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(key, keys[i]))
			return i;
	return -1;
}

int ctl_config_write(const ctl_config_t *cfg, const char *const *keys, const char *const *values,
		     int n)
{
	if (cfg->path == NULL) {
		ctl_fail(CTL_EAPI, "no config file path (set HOME or use --config)");
		return -1;
	}
	struct stat st;
	size_t olen = 0;
	char *old = s_slurp(cfg->path, &st, &olen), *tmp = NULL;
	if (old == NULL && errno != ENOENT) {
		ctl_fail(CTL_EAPI, "cannot read %s: %s", cfg->path, strerror(errno));
		return -1;
	}
	mdm_buf_t out = MDM_BUF_INIT;
	int done[16] = {0}, rc = -1, fd = -1;
	if (n > 16)
		goto error;
	/* keep every line, replacing the first line of each key we set and dropping repeats */
	char *rest = old;
	for (char *line; (line = s_next_line(&rest)) != NULL;) {
		char *copy = strdup(line), *key, *value;
		if (copy == NULL)
			goto error;
		int k = s_split(copy, &key, &value) == 1 ? s_key_index(key, keys, n) : -1;
		explicit_bzero(copy, strlen(copy));
		free(copy);
		if (k < 0) {
			mdm_buf_printf(&out, "%s\n", line);
		} else if (!done[k]) {
			done[k] = 1;
			if (values[k])
				mdm_buf_printf(&out, "%s = %s\n", keys[k], values[k]);
		}
	}
	for (int k = 0; k < n; k++)
		if (!done[k] && values[k])
			mdm_buf_printf(&out, "%s = %s\n", keys[k], values[k]);
	if (out.failed)
		goto error;
	if (s_mkdirs(cfg->path) != 0) {
		ctl_fail(CTL_EAPI, "cannot create the directory of %s: %s", cfg->path,
			 strerror(errno));
		goto error;
	}
	/* a new file next to the old one, 0600 from the start, renamed over it */
	if (asprintf(&tmp, "%s.XXXXXX", cfg->path) < 0) {
		tmp = NULL;
		goto error;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		ctl_fail(CTL_EAPI, "cannot write %s: %s", cfg->path, strerror(errno));
		goto error;
	}
	size_t off = 0;
	while (off < out.len) {
		ssize_t w = write(fd, out.data + off, out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != out.len || fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		ctl_fail(CTL_EAPI, "cannot write %s: %s", tmp, strerror(errno));
		goto error;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, cfg->path) != 0) {
		ctl_fail(CTL_EAPI, "cannot replace %s: %s", cfg->path, strerror(errno));
		goto error;
	}
	rc = 0;
error:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (rc != 0 && out.failed)
		ctl_fail(CTL_EAPI, "out of memory");
	free(tmp);
	if (old) {
		explicit_bzero(old, olen);
		free(old);
	}
	if (out.data)
		explicit_bzero(out.data, out.len);
	mdm_buf_free(&out);
	return rc;
}
