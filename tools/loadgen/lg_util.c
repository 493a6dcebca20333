/* lg_util.c -- clock, allocation, parallel loops and latency statistics for mdm-loadgen. */
#include "lg.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double lg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lg_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mdm-loadgen: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void *lg_xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (p == NULL)
		lg_die("out of memory (%zu bytes)", n);
	return p;
}

char *lg_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		lg_die("out of memory");
	return p;
}

const char *lg_memstr(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle));
}

typedef struct {
	long n;
	atomic_long next;
	void (*fn)(long, void *);
	void *arg;
} s_par_t;

static void *s_par_main(void *p)
{
	s_par_t *par = p;
	for (;;) {
		long i = atomic_fetch_add(&par->next, 1);
		if (i >= par->n)
			break;
		par->fn(i, par->arg);
	}
	return NULL;
}

void lg_parallel(long n, int threads, void (*fn)(long i, void *arg), void *arg)
{
	s_par_t par = {.n = n, .fn = fn, .arg = arg};
	atomic_init(&par.next, 0);
	if (threads < 1)
		threads = 1;
	pthread_t tid[64];
	if (threads > 64)
		threads = 64;
	for (int t = 1; t < threads; t++)
		if (pthread_create(&tid[t], NULL, s_par_main, &par) != 0)
			lg_die("pthread_create failed");
	s_par_main(&par);
	for (int t = 1; t < threads; t++)
		pthread_join(tid[t], NULL);
}

void lg_lat_add(lg_lat_t *l, double ms)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		double *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			lg_die("out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ms;
}

void lg_lat_merge(lg_lat_t *into, const lg_lat_t *from)
{
	for (size_t i = 0; i < from->n; i++)
		lg_lat_add(into, from->v[i]);
}

static int s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void lg_lat_sort(lg_lat_t *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof *l->v, s_cmp);
}

double lg_lat_pct(const lg_lat_t *l, double p)
{
	if (l->n == 0)
		return 0;
	/* nearest rank */
	size_t rank = (size_t)(p / 100.0 * (double)l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return l->v[rank - 1];
}

double lg_lat_mean(const lg_lat_t *l)
{
	double s = 0;
	for (size_t i = 0; i < l->n; i++)
		s += l->v[i];
	return l->n ? s / (double)l->n : 0;
}

int lg_lat_write_cdf(lg_lat_t *l, const char *path)
{
	lg_lat_sort(l);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "# percentile latency_ms (%zu samples)\n", l->n);
	for (int i = 0; i < 1000 && l->n; i++) {
		double p = i / 10.0;
		fprintf(f, "%.1f %.3f\n", p, lg_lat_pct(l, p));
	}
	static const double tail[] = {99.95, 99.99, 100};
	for (size_t i = 0; i < sizeof tail / sizeof tail[0] && l->n; i++)
		fprintf(f, "%.2f %.3f\n", tail[i], lg_lat_pct(l, tail[i]));
	return fclose(f);
}

void lg_lat_free(lg_lat_t *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}
