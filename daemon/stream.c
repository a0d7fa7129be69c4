/*
 * stream.c — decode thread, rate limiting, mailbox and reconnects for one
 * source (see stream.h).
 *
 * Facts behind the design:
 *  - Three frame slots per stream: one the decoder fills, one in the
 *    mailbox, one the scheduler holds. Exchanges are pointer swaps under
 *    the stream's mutex, so neither side ever waits for the other's work.
 *  - Frames come from media/feed.h, the frame loop every command shares:
 *    each has a time by its one rule, and a conditioned model's history is
 *    kept there. The analysis-rate limiter decides by that time, and only
 *    admitted frames are resized (feed_image; a conditioned model's frames
 *    are all converted, for the history).
 *  - Files are paced at their native rate by frame time ("realtime"), so a file
 *    behaves like a camera; live sources pace themselves. With realtime =
 *    off a file is decoded as fast as it is analysed: the decode thread
 *    waits for the mailbox to be taken instead of replacing its frame, so
 *    every admitted frame of a recording is analysed (batch processing).
 *  - Reconnects: exponential backoff from reconnect_min doubling to
 *    reconnect_max, with "equal jitter" (half fixed, half random) so many
 *    cameras behind one failed switch do not reconnect in lockstep. A frame
 *    received resets the backoff. Stalls are caught by media.c's timeout.
 *  - Stop is a flag read by FFmpeg's interrupt callback and a condition
 *    variable for the backoff/pacing sleeps, so stream_stop() returns
 *    promptly whatever the thread is blocked on.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/frame.h>

#include "clock.h"
#include "events.h"
#include "feed.h"
#include "log.h"
#include "media.h"
#include "stream.h"
#include "worker.h"

#define NSLOTS 3

struct stream {
	cfg_stream cfg;
	stream_env env;
	int live, realtime;
	int backpressure;        /* file with realtime = off: wait, never drop */
	size_t frame_floats;

	worker w;                /* the decode thread; w.stop also aborts FFmpeg's I/O */
	pthread_mutex_t lock;
	pthread_cond_t wake;     /* stop requested, or the mailbox was emptied */

	stream_frame slots[NSLOTS];
	stream_frame *free_[NSLOTS];
	int nfree;
	stream_frame *mailbox;


	stream_stats st;         /* under lock */
	int64_t last_frame_mono; /* 0 = none yet */
	unsigned rng;
};

const char *stream_state_name(stream_state st)
{
	static const char *n[] = { "connecting", "running", "reconnecting", "ended", "stopped" };
	return (unsigned)st < 5 ? n[st] : "?";
}

stream *stream_new(const cfg_stream *cfg, const stream_env *env)
{
	stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->cfg.url = strdup(cfg->url ? cfg->url : "");
	s->env = *env;
	s->live = lmd_media_is_live(s->cfg.url);
	s->realtime = cfg->realtime < 0 ? !s->live : cfg->realtime;
	s->backpressure = !s->live && !s->realtime;
	s->frame_floats = (size_t)env->channels * env->width * env->height;
	s->rng = (unsigned)mono_us() ^ (unsigned)(uintptr_t)s;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	int ok = s->cfg.url != NULL;
	for (int i = 0; i < NSLOTS && ok; i++) {
		stream_frame *f = &s->slots[i];
		f->img = malloc(sizeof(float) * s->frame_floats);
		f->src = av_frame_alloc();
		if (env->cond_frames > 0)
			f->cond = malloc(sizeof(float) * s->frame_floats * env->cond_frames);
		ok = f->img && f->src && (env->cond_frames <= 0 || f->cond);
		s->free_[s->nfree++] = f;
	}
	s->st.state = STREAM_CONNECTING;
	s->st.last_frame_age_s = -1;
	snprintf(s->st.hwaccel, sizeof s->st.hwaccel, "none");
	if (!ok)
		stream_destroy(&s);
	return s;
}

void stream_destroy(stream **ps)
{
	if (!ps || !*ps)
		return;
	stream *s = *ps;
	stream_stop(s);
	for (int i = 0; i < NSLOTS; i++) {
		free(s->slots[i].img);
		free(s->slots[i].cond);
		av_frame_free(&s->slots[i].src);
	}
	free(s->cfg.url);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
	*ps = NULL;
}

const char *stream_name(const stream *s) { return s->cfg.name; }
const cfg_stream *stream_config(const stream *s) { return &s->cfg; }

/* ---- mailbox ----------------------------------------------------------- */

static stream_frame *get_free(stream *s)
{
	pthread_mutex_lock(&s->lock);
	stream_frame *f = s->nfree ? s->free_[--s->nfree] : NULL;
	pthread_mutex_unlock(&s->lock);
	return f;
}

static void put_free_locked(stream *s, stream_frame *f)
{
	av_frame_unref(f->src);
	s->free_[s->nfree++] = f;
}

static void post(stream *s, stream_frame *f)
{
	pthread_mutex_lock(&s->lock);
	while (s->backpressure && s->mailbox && !worker_stopping(&s->w))
		pthread_cond_wait(&s->wake, &s->lock);
	if (s->mailbox) {
		s->st.dropped++;
		put_free_locked(s, s->mailbox);
	}
	s->mailbox = f;
	s->st.offered++;
	pthread_mutex_unlock(&s->lock);
	if (s->env.ready)
		s->env.ready(s->env.ready_arg);
}

stream_frame *stream_take(stream *s)
{
	pthread_mutex_lock(&s->lock);
	stream_frame *f = s->mailbox;
	s->mailbox = NULL;
	if (f) {
		s->st.analysed++;
		if (s->backpressure)
			pthread_cond_broadcast(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
	return f;
}

void stream_release(stream *s, stream_frame *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&s->lock);
	put_free_locked(s, f);
	pthread_mutex_unlock(&s->lock);
}

void stream_get_stats(stream *s, stream_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	out->queue = s->mailbox != NULL;
	out->last_frame_age_s = s->last_frame_mono ? (mono_us() - s->last_frame_mono) / 1e6 : -1;
	pthread_mutex_unlock(&s->lock);
}

/* ---- thread -------------------------------------------------------------- */

static void set_state(stream *s, stream_state st)
{
	pthread_mutex_lock(&s->lock);
	s->st.state = st;
	pthread_mutex_unlock(&s->lock);
}

/* Sleep until the monotonic deadline or stop; 1 if stopped. */
static int sleep_until(stream *s, int64_t deadline_us)
{
	struct timespec ts = { .tv_sec = deadline_us / 1000000, .tv_nsec = (deadline_us % 1000000) * 1000 };
	pthread_mutex_lock(&s->lock);
	while (!worker_stopping(&s->w) && mono_us() < deadline_us)
		if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) == ETIMEDOUT)
			break;
	int stopped = worker_stopping(&s->w);
	pthread_mutex_unlock(&s->lock);
	return stopped;
}

static double rand01(stream *s)
{
	s->rng = s->rng * 1103515245u + 12345u;
	return ((s->rng >> 8) & 0xffffff) / (double)0x1000000;
}

static void record_error(stream *s, const char *msg)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->st.last_error, sizeof s->st.last_error, "%.*s", (int)sizeof s->st.last_error - 1, msg);
	pthread_mutex_unlock(&s->lock);
}

/* One connection: decode until error/EOF/stop. Returns:
 *  0 stop requested, 1 file ended (no loop), 2 reopen now (loop),
 *  3 connection lost / failed (back off). got_frame set if any frame came. */
static int run_connection(stream *s, int64_t *frame_no, int *got_frame, int64_t *lost_at)
{
	char url_r[512];
	lmd_media_redact_url(s->cfg.url, url_r, sizeof url_r);
	feed_opts o = {
		.width = s->env.width, .height = s->env.height, .channels = s->env.channels,
		.cond_frames = s->env.cond_frames, .cond_interval = s->env.cond_interval,
		.timeout_ms = s->cfg.timeout_ms, .stop = &s->w.stop, .hwaccel = s->cfg.hwaccel,
	};
	feed *fd = NULL;
	*got_frame = 0;
	if (feed_open(s->cfg.url, &o, &fd) != MEDIA_OK) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s", media_errmsg());
		record_error(s, msg);
		if (worker_stopping(&s->w))
			return 0;
		pthread_mutex_lock(&s->lock);
		s->st.connect_failures++;
		pthread_mutex_unlock(&s->lock);
		log_warn("stream %s: %s", s->cfg.name, msg);
		return 3;
	}
	lmd_media *m = feed_media(fd);
	pthread_mutex_lock(&s->lock);
	s->st.src_fps = lmd_media_fps(m);
	snprintf(s->st.hwaccel, sizeof s->st.hwaccel, "%s", lmd_media_hwaccel(m));
	pthread_mutex_unlock(&s->lock);
	log_info("stream %s: opened %s (%.3g fps, decoder %s)", s->cfg.name, url_r, lmd_media_fps(m),
	         lmd_media_hwaccel(m));

	const double period = s->cfg.fps > 0 ? 1.0 / s->cfg.fps : 0;
	double next_due = -1e300;          /* analysis clock, seconds */
	int64_t pace_t0 = INT64_MIN, pace_mono0 = 0;
	int64_t corrupt_seen = 0;
	int rc;
	int history_warned = 0;

	for (;;) {
		feed_frame fr;
		media_err e = feed_next(fd, &fr);
		int64_t c = lmd_media_corrupt(m);
		if (c != corrupt_seen) {
			pthread_mutex_lock(&s->lock);
			s->st.corrupt += c - corrupt_seen;
			pthread_mutex_unlock(&s->lock);
			corrupt_seen = c;
		}
		if (e != MEDIA_OK && e != MEDIA_END && e != MEDIA_ERR_IO) {
			/* decoded, but not converted or kept (feed.h): counted, skipped */
			log_warn("stream %s: %s", s->cfg.name, media_errmsg());
			pthread_mutex_lock(&s->lock);
			s->st.frames_in++;
			pthread_mutex_unlock(&s->lock);
			(*frame_no)++;
			continue;
		}
		if (e != MEDIA_OK) {
			if (worker_stopping(&s->w)) {
				rc = 0;
			} else if (e == MEDIA_END && !s->live) {
				rc = s->cfg.loop ? 2 : 1;
				log_info("stream %s: end of file%s", s->cfg.name, s->cfg.loop ? ", looping" : "");
			} else {
				char msg[600];
				snprintf(msg, sizeof msg, "%s", e == MEDIA_END ? "source ended the stream" : media_errmsg());
				record_error(s, msg);
				log_warn("stream %s: connection lost: %s", s->cfg.name, msg);
				rc = 3;
			}
			break;
		}
		int64_t now = mono_us();
		if (!*got_frame) {
			*got_frame = 1;
			if (*lost_at) {
				pthread_mutex_lock(&s->lock);
				s->st.gap_s += (now - *lost_at) / 1e6;
				s->st.reconnects++;
				pthread_mutex_unlock(&s->lock);
				log_notice("stream %s: frames again after %.1f s", s->cfg.name, (now - *lost_at) / 1e6);
				*lost_at = 0;
			}
			set_state(s, STREAM_RUNNING);
		}
		/* files at their own pace, by the frames' times (feed.h: they
		 * only increase, and by less than FEED_CUT_US) */
		if (s->realtime) {
			if (pace_t0 == INT64_MIN) {
				pace_t0 = fr.time_us;
				pace_mono0 = now;
			} else if (sleep_until(s, pace_mono0 + (fr.time_us - pace_t0))) {
				rc = 0;
				break;
			}
			now = mono_us();
		}
		pthread_mutex_lock(&s->lock);
		s->st.frames_in++;
		s->st.src_w = fr.src_width;
		s->st.src_h = fr.src_height;
		s->last_frame_mono = now;
		pthread_mutex_unlock(&s->lock);
		int64_t this_frame = (*frame_no)++;

		/* not enough history yet: checked first, so that a frame that
		 * cannot be analysed does not use up an analysis slot (at 0.1 fps
		 * on a looping 18 s clip, the first frame of each pass took the
		 * slot and only one frame per pass was analysed) */
		if (!feed_ready(fd))
			continue;
		/* analysis rate, by the frame's time (1 ms slack for rounding) */
		double t = fr.time_us / 1e6;
		if (period > 0) {
			if (t < next_due - 0.001)
				continue;
			next_due = (t - next_due > period) ? t + period : next_due + period;
		}
		stream_frame *f = get_free(s);
		if (!f)
			continue;   /* cannot happen with 3 slots; be safe */
		if (feed_image(fd, f->img) != MEDIA_OK) {
			log_warn("stream %s: %s", s->cfg.name, media_errmsg());
			stream_release(s, f);
			continue;
		}
		if (s->env.cond_frames > 0) {
			/* the model's history, oldest first */
			double off = feed_history(fd, f->cond);
			if (off > 0.5 * s->env.cond_interval && s->env.cond_interval > 0 && !history_warned) {
				history_warned = 1;
				log_warn("stream %s: the model wants frames %.3g s apart; the nearest this source "
				         "(%.3g fps) has are %.3g s off, so scores may not match the calibration",
				         s->cfg.name, s->env.cond_interval, lmd_media_fps(m), off);
			}
		}
		av_frame_unref(f->src);
		const struct AVFrame *src = lmd_media_last_frame(m);
		if (src && av_frame_ref(f->src, src) < 0)
			av_frame_unref(f->src);
		f->frame = this_frame;
		f->pts_us = fr.pts_us;
		f->wall_us = wall_us();
		f->mono_us = now;
		f->src_w = fr.src_width;
		f->src_h = fr.src_height;
		post(s, f);
	}
	feed_close(&fd);
	return rc;
}

static void *thread_main(void *arg)
{
	stream *s = arg;
	int attempt = 0;
	int64_t frame_no = 0, lost_at = 0;
	char url_r[512];
	lmd_media_redact_url(s->cfg.url, url_r, sizeof url_r);
	while (!worker_stopping(&s->w)) {
		int got = 0;
		int rc = run_connection(s, &frame_no, &got, &lost_at);
		if (rc == 0 || worker_stopping(&s->w))
			break;
		if (rc == 1) {
			set_state(s, STREAM_ENDED);
			if (s->env.ready)
				s->env.ready(s->env.ready_arg);
			return NULL;
		}
		if (rc == 2) {
			pthread_mutex_lock(&s->lock);
			s->st.loops++;
			pthread_mutex_unlock(&s->lock);
			if (!got) {
				/* an empty file would spin: back off like a failure */
				rc = 3;
			} else {
				attempt = 0;
				continue;
			}
		}
		/* rc == 3: lost or failed */
		if (got)
			attempt = 0;
		if (!lost_at)
			lost_at = got ? mono_us() : (s->last_frame_mono ? s->last_frame_mono : mono_us());
		set_state(s, STREAM_RECONNECTING);
		if (s->env.ready)
			s->env.ready(s->env.ready_arg);   /* let the scheduler see the state */
		double d = s->env.reconnect_min * pow(2.0, attempt < 30 ? attempt : 30);
		if (d > s->env.reconnect_max)
			d = s->env.reconnect_max;
		d = d * 0.5 + d * 0.5 * rand01(s);
		attempt++;
		log_info("stream %s: reconnecting to %s in %.2f s (attempt %d)", s->cfg.name, url_r, d,
		         attempt);
		if (sleep_until(s, mono_us() + (int64_t)(d * 1e6)))
			break;
		set_state(s, STREAM_CONNECTING);
	}
	set_state(s, STREAM_STOPPED);
	return NULL;
}

int stream_start(stream *s)
{
	return worker_start(&s->w, thread_main, s);
}

/* worker_stop's wake: the backoff, pacing and backpressure waits */
static void wake_thread(void *arg)
{
	stream *s = arg;
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void stream_stop(stream *s)
{
	if (!s || !s->w.running)
		return;
	worker_stop(&s->w, wake_thread, s);
	pthread_mutex_lock(&s->lock);
	if (s->st.state != STREAM_ENDED)
		s->st.state = STREAM_STOPPED;
	pthread_mutex_unlock(&s->lock);
}
