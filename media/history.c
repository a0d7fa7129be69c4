/*
 * history.c — the ring of recent frames behind a conditioned model's
 * history (see history.h).
 *
 * Layout: cap slots of n floats; the i-th oldest held frame is slot
 * (start + i) % cap, i < count. history_next() hands out the slot after the
 * newest (the oldest one when the ring is full and may not grow), and
 * history_push() commits it. Growing copies the held frames, oldest first,
 * into a buffer twice the size, so the ring stays one contiguous circle.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

struct history {
	int k;
	double interval;   /* seconds; 0 = consecutive frames */
	size_t n;          /* floats per frame */
	float *buf;
	int64_t *pts;
	int cap, count, start;
	int slot;          /* handed out by history_next, -1 if none */
};

#define AT(h, i) (((h)->start + (i)) % (h)->cap)

history *history_new(int k, double interval_s, size_t n)
{
	assert(k > 0 && interval_s >= 0 && n > 0);
	history *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->k = k;
	h->interval = interval_s;
	h->n = n;
	h->cap = k + 1;
	h->slot = -1;
	h->buf = malloc(sizeof(float) * n * h->cap);
	h->pts = malloc(sizeof(int64_t) * h->cap);
	if (!h->buf || !h->pts)
		history_destroy(&h);
	return h;
}

void history_destroy(history **hp)
{
	if (!hp || !*hp)
		return;
	free((*hp)->buf);
	free((*hp)->pts);
	free(*hp);
	*hp = NULL;
}

void history_reset(history *h)
{
	h->count = 0;
	h->start = 0;
	h->slot = -1;
}

const float *history_newest(const history *h)
{
	return h->count ? h->buf + (size_t)AT(h, h->count - 1) * h->n : NULL;
}

int history_count(const history *h)
{
	return h->count;
}

/* the oldest held frame still stands for a time the newest frame needs */
static int oldest_needed(const history *h)
{
	if (h->count == 0)
		return 0;
	if (h->interval <= 0)
		return h->count <= h->k;
	/* the next frame, expected one source step after the newest, needs
	 * frames back to next - k * interval; half an interval of slack */
	int64_t newest = h->pts[AT(h, h->count - 1)];
	int64_t step = h->count > 1 ? newest - h->pts[AT(h, h->count - 2)] : 0;
	double span = (h->k + 0.5) * h->interval * 1e6;
	return (double)(newest + step - h->pts[h->start]) < span;
}

static int grow(history *h)
{
	int cap = h->cap * 2 > HISTORY_MAX ? HISTORY_MAX : h->cap * 2;
	float *b = malloc(sizeof(float) * h->n * cap);
	int64_t *p = malloc(sizeof(int64_t) * cap);
	if (!b || !p) {
		free(b);
		free(p);
		return -1;
	}
	for (int i = 0; i < h->count; i++) {
		memcpy(b + (size_t)i * h->n, h->buf + (size_t)AT(h, i) * h->n, sizeof(float) * h->n);
		p[i] = h->pts[AT(h, i)];
	}
	free(h->buf);
	free(h->pts);
	h->buf = b;
	h->pts = p;
	h->cap = cap;
	h->start = 0;
	return 0;
}

float *history_next(history *h)
{
	if (h->count == h->cap && h->cap < HISTORY_MAX && oldest_needed(h) && grow(h))
		return NULL;
	h->slot = h->count < h->cap ? AT(h, h->count) : h->start;
	return h->buf + (size_t)h->slot * h->n;
}

void history_push(history *h, int64_t pts_us)
{
	assert(h->slot >= 0);
	int s = h->slot;
	h->slot = -1;
	assert(h->count == 0 || pts_us > h->pts[AT(h, h->count - 1)]);
	h->pts[s] = pts_us;
	if (h->count < h->cap)
		h->count++;
	else
		h->start = (h->start + 1) % h->cap;
	assert(AT(h, h->count - 1) == s);
}

int history_ready(const history *h)
{
	if (h->count == 0)
		return 0;
	if (h->interval <= 0)
		return h->count > h->k;
	if (h->count == HISTORY_MAX)
		return 1;
	if (h->count < 2)
		return 0;
	/* the oldest frame is within half a source step of the oldest time */
	int64_t newest = h->pts[AT(h, h->count - 1)];
	int64_t step = newest - h->pts[AT(h, h->count - 2)];
	return (double)(newest - h->pts[h->start]) >= h->k * h->interval * 1e6 - step / 2.0;
}

double history_fill(const history *h, float *out)
{
	assert(h->count > 0);
	double worst = 0;
	int64_t newest = h->pts[AT(h, h->count - 1)];
	for (int j = 1; j <= h->k; j++) {
		int best = 0;
		if (h->interval <= 0) {
			best = h->count - 1 - j < 0 ? 0 : h->count - 1 - j;
		} else {
			double target = newest - j * h->interval * 1e6, bd = -1;
			for (int i = 0; i < h->count; i++) {
				double d = (double)h->pts[AT(h, i)] - target;
				d = d < 0 ? -d : d;
				if (bd < 0 || d < bd) {
					bd = d;
					best = i;
				}
			}
			if (bd / 1e6 > worst)
				worst = bd / 1e6;
		}
		memcpy(out + (size_t)(h->k - j) * h->n, h->buf + (size_t)AT(h, best) * h->n,
		       sizeof(float) * h->n);
	}
	return worst;
}
