/* ctl_password.c -- passwords for mdmctl: a terminal prompt without echo, or the first line of stdin. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTL_MAX_PASSWORD 1024

/* The terminal's settings while echo is off, so a signal can put them back. */
static int s_tty_fd = -1;
static struct termios s_tty_saved;

static void s_on_signal(int sig)
{
	if (s_tty_fd >= 0)
		tcsetattr(s_tty_fd, TCSAFLUSH, &s_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads one line from fd into buf (without the newline and a final '\r'). Returns its
 * length, or -1 on error, end of input before anything, or a line longer than cap - 1. */
static ssize_t s_read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	int got_any = 0, too_long = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!got_any)
				return -1;
			break;
		}
		got_any = 1;
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			too_long = 1;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return too_long ? -1 : (ssize_t)n;
}

/* Prompts on the terminal with echo off; restores it whatever happens. */
static ssize_t s_prompt(int fd, const char *prompt, char *buf, size_t cap)
{
	struct termios t;
	if (tcgetattr(fd, &t) != 0)
		return -2;
	s_tty_saved = t;
	s_tty_fd = fd;
	struct sigaction sa = {0}, old_int, old_term, old_hup;
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	t.c_lflag |= ICANON;
	ssize_t n = -1;
	/* echo goes off before the prompt shows, so nothing typed after it is ever echoed */
	if (tcsetattr(fd, TCSAFLUSH, &t) == 0) {
		if (write(fd, prompt, strlen(prompt)) >= 0)
			n = s_read_line(fd, buf, cap);
		tcsetattr(fd, TCSANOW, &s_tty_saved);
		if (write(fd, "\n", 1) < 0)
			n = -1;
	}
	s_tty_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	return n;
}

void ctl_password_free(char **pw)
{
	if (pw && *pw) {
		explicit_bzero(*pw, strlen(*pw));
		free(*pw);
		*pw = NULL;
	}
}

char *ctl_password_read(int from_stdin, int confirm, int *code)
{
	char buf[CTL_MAX_PASSWORD + 2], again[CTL_MAX_PASSWORD + 2];
	char *out = NULL;
	ssize_t n;
	*code = CTL_EUSAGE;
	if (from_stdin) {
		n = s_read_line(STDIN_FILENO, buf, sizeof buf);
		if (n < 0) {
			ctl_fail(CTL_EUSAGE, "--password-stdin: no password line on stdin (at most %d "
					     "bytes)",
				 CTL_MAX_PASSWORD);
			goto done;
		}
	} else {
		int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			ctl_fail(CTL_EUSAGE, "no terminal to ask for the password: use --password-stdin");
			goto done;
		}
		n = s_prompt(fd, "Password: ", buf, sizeof buf);
		if (n >= 0 && confirm) {
			ssize_t m = s_prompt(fd, "Password again: ", again, sizeof again);
			if (m != n || strcmp(buf, again) != 0)
				n = -3;
		}
		close(fd);
		if (n == -2) {
			ctl_fail(CTL_EUSAGE, "no terminal to ask for the password: use --password-stdin");
			goto done;
		}
		if (n == -3) {
			ctl_fail(CTL_EUSAGE, "the passwords do not match");
			goto done;
		}
		if (n < 0) {
			ctl_fail(CTL_EUSAGE, "no password read (at most %d bytes)", CTL_MAX_PASSWORD);
			goto done;
		}
	}
	if (n == 0) {
		ctl_fail(CTL_EUSAGE, "the password is empty");
		goto done;
	}
	out = strdup(buf);
	if (out == NULL) {
		*code = ctl_fail(CTL_EAPI, "out of memory");
		goto done;
	}
	*code = CTL_OK;
done:
	explicit_bzero(buf, sizeof buf);
	explicit_bzero(again, sizeof again);
	return out;
}
