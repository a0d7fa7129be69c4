/*
 * eval_util.c — sample lists, progress bar, machine facts and netpbm dumps
 * for `lmdd eval` (see eval_util.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "eval_util.h"

int eval_samples_add(eval_samples *s, float score, int label, int group, int item)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		float *sc = realloc(s->score, cap * sizeof *sc);
		if (sc)
			s->score = sc;
		unsigned char *lb = realloc(s->label, cap);
		if (lb)
			s->label = lb;
		int *g = realloc(s->group, cap * sizeof *g);
		if (g)
			s->group = g;
		int *it = realloc(s->item, cap * sizeof *it);
		if (it)
			s->item = it;
		if (!sc || !lb || !g || !it)
			return -1;
		s->cap = cap;
	}
	s->score[s->n] = score;
	s->label[s->n] = (unsigned char)label;
	s->group[s->n] = group;
	s->item[s->n] = item;
	s->n++;
	return 0;
}

void eval_samples_free(eval_samples *s)
{
	free(s->score);
	free(s->label);
	free(s->group);
	free(s->item);
	memset(s, 0, sizeof *s);
}

double eval_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_dur(double s, char *buf, size_t len)
{
	if (!(s >= 0) || s > 1e8)
		snprintf(buf, len, "--");
	else if (s >= 3600)
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, len, "%ds", (int)s);
}

static void draw(eval_progress *p, int final)
{
	double t = eval_now(), el = t - p->t0;
	double rate = el > 0 ? (double)p->done / el : 0;
	char eta[32], ela[32];
	fmt_dur(rate > 0 ? (double)(p->total - p->done) / rate : -1, eta, sizeof eta);
	fmt_dur(el, ela, sizeof ela);
	char bar[21];
	int fill = p->total ? (int)(20.0 * (double)p->done / (double)p->total) : 20;
	for (int i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = 0;
	fprintf(stderr, "%s%s %zu/%zu [%s] %.2f img/s elapsed %s ETA %s%s", p->tty ? "\r" : "", p->label,
	        p->done, p->total, bar, rate, ela, final ? "0s" : eta, p->tty ? (final ? "\033[K\n" : "\033[K") : "\n");
	fflush(stderr);
	p->last = t;
	p->drawn = p->done;
}

void eval_progress_start(eval_progress *p, const char *label, size_t total)
{
	memset(p, 0, sizeof *p);
	snprintf(p->label, sizeof p->label, "%s", label);
	p->total = total;
	p->t0 = p->last = eval_now();
	p->tty = isatty(2);
	if (p->tty)
		draw(p, 0);
}

void eval_progress_add(eval_progress *p, size_t n)
{
	p->done += n;
	double t = eval_now();
	if ((p->tty && t - p->last >= 0.2) || (!p->tty && t - p->last >= 30))
		draw(p, 0);
}

void eval_progress_end(eval_progress *p)
{
	if (p->tty || p->drawn != p->done || !p->done)
		draw(p, 1);
}

void eval_cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c++;
				while (*c == ' ' || *c == '\t')
					c++;
				c[strcspn(c, "\n")] = 0;
				snprintf(buf, len, "%s", c);
			}
			break;
		}
	}
	fclose(f);
}

int eval_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void eval_utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int eval_write_pnm(const char *path, const float *img, int C, int h, int w)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fprintf(f, "P%c\n%d %d\n255\n", C == 3 ? '6' : '5', w, h);
	size_t hw = (size_t)h * w;
	for (size_t i = 0; i < hw; i++)
		for (int c = 0; c < (C == 3 ? 3 : 1); c++) {
			float v = img[(size_t)c * hw + i] * 255.0f + 0.5f;
			fputc(v < 0 ? 0 : v > 255 ? 255 : (int)v, f);
		}
	return fclose(f) ? -1 : 0;
}

int eval_write_pfm(const char *path, const float *map, int h, int w)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fprintf(f, "Pf\n%d %d\n-1.0\n", w, h);
	for (int y = h - 1; y >= 0; y--)
		fwrite(map + (size_t)y * w, sizeof(float), (size_t)w, f); /* x86/ARM: little-endian */
	return fclose(f) ? -1 : 0;
}

int eval_mkdirs(const char *path)
{
	char p[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof p)
		return -1;
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++)
		if (p[i] == '/' || p[i] == 0) {
			char c = p[i];
			p[i] = 0;
			if (mkdir(p, 0777) && errno != EEXIST)
				return -1;
			p[i] = c;
		}
	return 0;
}
