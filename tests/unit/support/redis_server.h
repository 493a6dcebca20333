/* redis_server.h -- a private redis-server for a unit test binary: on a free loopback port
 * (and a unix socket), started with s_redis_up(name), killed with s_redis_kill(). The
 * store tests use it through redis_fixture.h; tests with fixtures of their own (the syncml
 * session tests) include it alone. Include it after cmocka.h. */
#ifndef MDM_TEST_REDIS_SERVER_H
#define MDM_TEST_REDIS_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
	int available; /* redis-server found and answering */
	pid_t pid;
	int port;
	char sock[64];
	char url[64];
} s_redis;

static int64_t s_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int s_have_program(const char *name)
{
	const char *path = getenv("PATH");
	char dir[4096], full[4200];
	snprintf(dir, sizeof dir, "%s", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dir, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof full, "%s/%s", d, name);
		if (access(full, X_OK) == 0)
			return 1;
	}
	return 0;
}

static int s_free_tcp_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* Starts redis-server on s_redis.port (and the unix socket) and waits for PING. */
static int s_redis_start(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		char port[16];
		snprintf(port, sizeof port, "%d", s_redis.port);
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save",
		       "", "--appendonly", "no", "--daemonize", "no", "--dir", "/tmp", "--unixsocket",
		       s_redis.sock, "--unixsocketperm", "700", (char *)NULL);
		_exit(127);
	}
	s_redis.pid = pid;
	int64_t end = s_now_ms() + 5000;
	while (s_now_ms() < end) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			s_redis.pid = 0;
			return -1;
		}
		struct timeval tv = {0, 200000};
		redisContext *c = redisConnectWithTimeout("127.0.0.1", s_redis.port, tv);
		if (c && !c->err) {
			redisReply *r = redisCommand(c, "PING");
			int ok = r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG");
			if (r)
				freeReplyObject(r);
			redisFree(c);
			if (ok)
				return 0;
		} else if (c) {
			redisFree(c);
		}
		s_sleep_ms(20);
	}
	return -1;
}

static void s_redis_kill(void)
{
	if (s_redis.pid > 0) {
		kill(s_redis.pid, SIGKILL);
		waitpid(s_redis.pid, NULL, 0);
		s_redis.pid = 0;
	}
}

/* Finds redis-server, picks a port, starts it: s_redis.available says whether it answers.
 * Without redis-server every test that needs it skips. */
static void s_redis_up(const char *name)
{
	if (!s_have_program("redis-server"))
		return;
	s_redis.port = s_free_tcp_port();
	snprintf(s_redis.sock, sizeof s_redis.sock, "/tmp/mdm-test-%s-%ld.sock", name, (long)getpid());
	snprintf(s_redis.url, sizeof s_redis.url, "redis://127.0.0.1:%d", s_redis.port);
	if (s_redis.port > 0 && s_redis_start() == 0)
		s_redis.available = 1;
	else
		s_redis_kill();
}

#endif
