/*
 * feed.c — a source's frames with their times and history (see feed.h).
 *
 * Facts behind the design:
 *  - The rule is applied to every decoded frame, including the ones a
 *    caller later drops (rate limit, --every, an eval subset), so which
 *    frames a caller scores never changes another frame's time or history.
 *  - A conditioned model's frames are converted as they are decoded: the
 *    history must hold frames at the model's size, and the newest one is
 *    then the model's input too (feed_image copies it). A single-frame
 *    model's frames are converted only when asked for.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "history.h"

struct feed {
	lmd_media *m;
	history *hist;            /* NULL without condition frames */
	size_t n;                 /* floats per frame */
	feed_clock clock;
	int64_t step_us;          /* one frame at the source's nominal rate */
};

int64_t feed_clock_next(feed_clock *c, int64_t pts_us, int64_t step_us, int *cut)
{
	assert(step_us > 0);
	*cut = 0;
	if (c->last == INT64_MIN)
		return c->last = pts_us == INT64_MIN ? 0 : pts_us;
	int64_t t = pts_us == INT64_MIN ? c->last + step_us : pts_us + c->shift;
	if (t - c->last >= FEED_CUT_US || c->last - t >= FEED_CUT_US) {
		*cut = 1;                    /* later stamps shifted with this one */
		c->shift += c->last + step_us - t;
		t = c->last + step_us;
	} else if (t <= c->last) {
		t = c->last + step_us;       /* a broken stamp */
	}
	return c->last = t;
}

media_err feed_open(const char *url, const feed_opts *o, feed **out)
{
	*out = NULL;
	feed *f = calloc(1, sizeof *f);
	if (!f)
		return media_seterr(MEDIA_ERR_NOMEM, "%s: out of memory", url ? url : "feed");
	lmd_media_opts mo = { .width = o->width, .height = o->height, .channels = o->channels,
	                      .timeout_ms = o->timeout_ms, .stop = o->stop, .hwaccel = o->hwaccel };
	media_err e = lmd_media_open(url, &mo, &f->m);
	if (e) {
		free(f);
		return e;
	}
	f->n = (size_t)o->channels * lmd_media_width(f->m) * lmd_media_height(f->m);
	if (o->cond_frames > 0 && !(f->hist = history_new(o->cond_frames, o->cond_interval, f->n))) {
		feed_close(&f);
		return media_seterr(MEDIA_ERR_NOMEM, "%s: out of memory for the history", url);
	}
	double fps = lmd_media_fps(f->m);
	f->step_us = fps > 0 ? (int64_t)(1e6 / fps + 0.5) : 40000;
	if (f->step_us < 1)
		f->step_us = 1;
	f->clock = FEED_CLOCK_INIT;
	*out = f;
	return MEDIA_OK;
}

void feed_close(feed **pf)
{
	if (!pf || !*pf)
		return;
	lmd_media_close(&(*pf)->m);
	history_destroy(&(*pf)->hist);
	free(*pf);
	*pf = NULL;
}

media_err feed_next(feed *f, feed_frame *fr)
{
	lmd_frame_info fi;
	media_err e = lmd_media_read(f->m, NULL, &fi);
	if (e)
		return e;
	fr->index = fi.index;
	fr->pts_us = fi.pts_us;
	fr->src_width = fi.src_width;
	fr->src_height = fi.src_height;
	fr->time_us = feed_clock_next(&f->clock, fi.pts_us, f->step_us, &fr->cut);
	if (!f->hist)
		return MEDIA_OK;
	if (fr->cut)
		history_reset(f->hist);
	float *slot = history_next(f->hist);
	if (!slot) {
		history_reset(f->hist);
		return media_seterr(MEDIA_ERR_NOMEM, "frame %lld: out of memory for the history",
		                    (long long)fi.index);
	}
	if ((e = lmd_media_convert(f->m, slot))) {
		history_reset(f->hist);
		return e;
	}
	history_push(f->hist, fr->time_us);
	return MEDIA_OK;
}

int feed_ready(const feed *f)
{
	return !f->hist || history_ready(f->hist);
}

media_err feed_image(feed *f, float *dst)
{
	if (!f->hist)
		return lmd_media_convert(f->m, dst);
	const float *cur = history_newest(f->hist);
	if (!cur)
		return media_seterr(MEDIA_ERR_ARG, "feed: no frame held");
	memcpy(dst, cur, sizeof(float) * f->n);
	return MEDIA_OK;
}

double feed_history(const feed *f, float *dst)
{
	return f->hist ? history_fill(f->hist, dst) : 0;
}

lmd_media *feed_media(const feed *f)
{
	return f->m;
}
