/*
 * latency.c — see latency.h. Percentiles sort a copy (2048 doubles, well
 * under a millisecond) only when a status message is built.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"

struct lat_ring {
	pthread_mutex_t lock;
	double v[LAT_RING];
	long n;  /* samples ever added */
};

lat_ring *lat_ring_new(void)
{
	lat_ring *r = calloc(1, sizeof *r);
	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void lat_ring_destroy(lat_ring **r)
{
	if (r && *r) {
		pthread_mutex_destroy(&(*r)->lock);
		free(*r);
		*r = NULL;
	}
}

void lat_add(lat_ring *r, double ms)
{
	pthread_mutex_lock(&r->lock);
	r->v[r->n % LAT_RING] = ms;
	r->n++;
	pthread_mutex_unlock(&r->lock);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* nearest-rank percentile */
static double rank(const double *s, int n, double p)
{
	int k = (int)(p / 100.0 * n + 0.999999) - 1;
	if (k < 0) k = 0;
	if (k >= n) k = n - 1;
	return s[k];
}

int lat_percentiles(lat_ring *r, double *p50, double *p99)
{
	double *tmp = malloc(sizeof(double) * LAT_RING);
	*p50 = *p99 = -1;
	if (!tmp)
		return 0;
	pthread_mutex_lock(&r->lock);
	int n = r->n < LAT_RING ? (int)r->n : LAT_RING;
	memcpy(tmp, r->v, sizeof(double) * n);
	pthread_mutex_unlock(&r->lock);
	if (n) {
		qsort(tmp, n, sizeof(double), cmpd);
		*p50 = rank(tmp, n, 50);
		*p99 = rank(tmp, n, 99);
	}
	free(tmp);
	return n;
}
