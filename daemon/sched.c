/*
 * sched.c — batching scheduler and event generation (see sched.h).
 *
 * Facts behind the design:
 *  - Two locks, never nested the other way round: `list` guards the stream
 *    table and is held by the scheduler for a whole round (gather, score,
 *    events), so adding/removing streams (reload) waits at most one batch;
 *    `wake` only guards the "work is waiting" flag that decode threads set,
 *    so a decode thread never waits for a batch to finish.
 *  - The engine call happens with `list` held but no stream lock: decode
 *    threads keep replacing their mailbox frames meanwhile (newest wins).
 *  - Maps are always requested: regions need them, and a stream with a ROI
 *    is scored as the mean map value inside the ROI (the model always sees
 *    the whole frame, as in training).
 *  - The idle wait is bounded (200 ms) so the heartbeat that the systemd
 *    watchdog logic reads keeps moving while there is no work; while the
 *    engine runs, `phase` says so and since when (a batch of a big model on
 *    a CPU can take minutes; a hung GPU takes forever).
 *  - The engine call cannot be interrupted. At shutdown sched_stop_timeout()
 *    waits a bounded time; if the thread is still inside the engine, the
 *    caller takes the stream table over (atomic phase IN_ENGINE ->
 *    ABANDONED), ends the open events itself, and the thread, when the engine
 *    returns, sees ABANDONED and leaves without touching anything.
 */
#define _GNU_SOURCE   /* pthread_timedjoin_np */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/frame.h>

#include "clock.h"
#include "events.h"
#include "latency.h"
#include "log.h"
#include "sched.h"

typedef struct {
	stream *st;
	ev_tracker *ev;
	double threshold;
	double last_score;
	int64_t last_frame, last_pts, last_wall;
	int src_w, src_h;
	int64_t run_wall;          /* wall time of the first frame of the current run >= threshold */
	int above;                 /* previous frame was >= threshold */
	int64_t event_wall;        /* start wall of the open event */
	sched_stream_info info;    /* copy for sched_get_stream, under stats_lock */
} entry;

enum { PHASE_OTHER = 0, PHASE_IN_ENGINE, PHASE_ABANDONED };

struct sched {
	sched_opts o;
	int phase;                 /* atomic */
	int64_t engine_since;      /* atomic: monotonic us when the engine call began */
	int W, H, C, K;
	pthread_t thread;
	int started;
	int abandoned;             /* the thread was left inside the engine */
	volatile int stop;

	pthread_mutex_t list;
	entry *e;
	int n, cap, rr;

	pthread_mutex_t wake_lock;
	pthread_cond_t wake_cond;
	int wake_flag;

	pthread_mutex_t stats_lock;
	sched_stats st;
	lat_ring *lat;

	/* batch buffers, for batch_cap frames */
	int batch_cap;
	float *imgs, *cond, *scores, *maps;
	struct { entry *e; stream_frame *f; } *batch;
};

static int ensure_batch(sched *s, int cap)
{
	if (cap <= s->batch_cap)
		return 0;
	size_t fr = (size_t)s->C * s->H * s->W;
	float *a = realloc(s->imgs, sizeof(float) * fr * cap);
	if (a) s->imgs = a;
	float *b = s->K ? realloc(s->cond, sizeof(float) * fr * s->K * cap) : NULL;
	if (b) s->cond = b;
	float *c = realloc(s->scores, sizeof(float) * cap);
	if (c) s->scores = c;
	float *d = realloc(s->maps, sizeof(float) * (size_t)s->H * s->W * cap);
	if (d) s->maps = d;
	void *e = realloc(s->batch, sizeof *s->batch * cap);
	if (e) s->batch = e;
	if (!a || (s->K && !b) || !c || !d || !e)
		return -1;
	s->batch_cap = cap;
	return 0;
}

sched *sched_new(const sched_opts *o)
{
	sched *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->o = *o;
	const lmd_model_info *mi = lmd_model_get_info(o->model);
	s->W = mi->frame_width;
	s->H = mi->frame_height;
	s->C = mi->channels;
	s->K = mi->cond_frames;
	pthread_mutex_init(&s->list, NULL);
	pthread_mutex_init(&s->wake_lock, NULL);
	pthread_mutex_init(&s->stats_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake_cond, &ca);
	pthread_condattr_destroy(&ca);
	s->lat = lat_ring_new();
	s->st.heartbeat_us = mono_us();
	if (!s->lat || ensure_batch(s, o->batch_max > 0 ? o->batch_max : 1) < 0)
		sched_destroy(&s);
	return s;
}

void sched_wake(void *arg)
{
	sched *s = arg;
	pthread_mutex_lock(&s->wake_lock);
	s->wake_flag = 1;
	pthread_cond_signal(&s->wake_cond);
	pthread_mutex_unlock(&s->wake_lock);
}

/* ---- events ----------------------------------------------------------------- */

static void emit(sched *s, entry *en, ev_action act, const char *reason, const stream_frame *f,
                 double score, const float *map)
{
	const ev_event *ev = ev_tracker_event(en->ev);
	const cfg_stream *cfg = stream_config(en->st);
	const lmd_model_info *mi = lmd_model_get_info(s->o.model);
	pub_event *pe = calloc(1, sizeof *pe);
	if (!pe)
		return;
	pe->type = act;
	memcpy(pe->id, ev->id, sizeof pe->id);
	snprintf(pe->stream, sizeof pe->stream, "%s", cfg->name);
	snprintf(pe->model, sizeof pe->model, "%s", mi->name);
	snprintf(pe->reason, sizeof pe->reason, "%s", reason ? reason : "score");
	pe->frame = f ? f->frame : en->last_frame;
	pe->first_frame = ev->first_frame;
	pe->peak_frame = ev->peak_frame;
	pe->frames = ev->frames;
	pe->pts_us = f ? f->pts_us : en->last_pts;
	pe->wall_us = f ? f->wall_us : (en->last_wall ? en->last_wall : wall_us());
	pe->start_wall_us = en->event_wall;
	pe->mono_us = f ? f->mono_us : 0;
	pe->score = f ? score : en->last_score;
	pe->threshold = en->threshold;
	pe->peak_score = ev->peak_score;
	pe->src_w = f ? f->src_w : en->src_w;
	pe->src_h = f ? f->src_h : en->src_h;
	/* regions: above what normal frames' blurred maps reach (calibrated), or
	 * without a calibrated one, above the frame threshold */
	const double pix_thr = (s->o.region_threshold > 0 ? s->o.region_threshold : en->threshold) *
	                       s->o.region_factor;
	/* ... grown down to the frame threshold: the calibrated one finds the
	 * object's core, this gives its extent (the demo's bicycle: a 12x14 core
	 * of a ~30x25 object) */
	const double grow_thr = en->threshold * s->o.region_factor;
	if (map && s->o.max_regions > 0) {
		ev_rect roi = ev_rect_to_map(cfg->has_roi ? cfg->roi : NULL, pe->src_w, pe->src_h, s->W, s->H);
		ev_region *r = malloc(sizeof *r * s->o.max_regions);
		int n = r ? ev_regions(map, s->W, s->H, pix_thr, grow_thr, s->o.region_blur,
		                       s->o.region_min_area, cfg->has_roi ? &roi : NULL, pe->src_w,
		                       pe->src_h, r, s->o.max_regions)
		          : -1;
		if (n > 0) {
			pe->regions = r;
			pe->n_regions = n < s->o.max_regions ? n : s->o.max_regions;
		} else {
			free(r);
		}
	}
	if (f && act != EV_END && cfg->snapshot && f->src && f->src->buf[0])
		pe->snapshot = av_frame_clone(f->src);
	if (map && act != EV_END && cfg->heatmap) {
		pe->heatmap = malloc(sizeof(float) * s->W * s->H);
		if (pe->heatmap) {
			memcpy(pe->heatmap, map, sizeof(float) * s->W * s->H);
			pe->map_w = s->W;
			pe->map_h = s->H;
			pe->heat_vmax = 2 * pix_thr;
		}
	}
	if (act == EV_START || act == EV_END) {
		pthread_mutex_lock(&s->stats_lock);
		s->st.events += act == EV_START;
		s->st.events_open += act == EV_START ? 1 : -1;
		en->info.event_open = act == EV_START;
		pthread_mutex_unlock(&s->stats_lock);
	}
	if (act == EV_START) {
		log_notice("stream %s: anomaly %s started at frame %lld (score %.4g, threshold %.4g)",
		           cfg->name, ev->id, (long long)pe->frame, pe->score, pe->threshold);
	} else if (act == EV_END) {
		log_notice("stream %s: anomaly %s ended at frame %lld after %lld frames (peak %.4g, %s)",
		           cfg->name, ev->id, (long long)pe->frame, (long long)ev->frames, ev->peak_score,
		           pe->reason);
	}
	publisher_event(s->o.pub, pe);
}

static void flush_entry(sched *s, entry *en, const char *reason)
{
	if (ev_tracker_flush(en->ev) == EV_END)
		emit(s, en, EV_END, reason, NULL, 0, NULL);
	en->above = 0;
}

static void process(sched *s, entry *en, stream_frame *f, double engine_score, const float *map)
{
	const cfg_stream *cfg = stream_config(en->st);
	double score = engine_score;
	if (cfg->has_roi) {
		ev_rect r = ev_rect_to_map(cfg->roi, f->src_w, f->src_h, s->W, s->H);
		score = ev_map_mean(map, s->W, s->H, r);
	}
	int above = score >= en->threshold;
	if (above && !en->above)
		en->run_wall = f->wall_us;
	en->above = above;
	en->last_score = score;
	en->last_frame = f->frame;
	en->last_pts = f->pts_us;
	en->last_wall = f->wall_us;
	en->src_w = f->src_w;
	en->src_h = f->src_h;
	pthread_mutex_lock(&s->stats_lock);
	en->info.last_score = score;
	en->info.last_frame = f->frame;
	pthread_mutex_unlock(&s->stats_lock);
	ev_action a = ev_tracker_feed(en->ev, score, f->frame, f->mono_us / 1e6);
	if (a == EV_START)
		en->event_wall = en->run_wall ? en->run_wall : f->wall_us;
	if (a != EV_NONE)
		emit(s, en, a, "score", f, score, map);
}

/* ---- thread ------------------------------------------------------------------ */

static void heartbeat(sched *s)
{
	pthread_mutex_lock(&s->stats_lock);
	s->st.heartbeat_us = mono_us();
	pthread_mutex_unlock(&s->stats_lock);
}

static void *thread_main(void *arg)
{
	sched *s = arg;
	const size_t fr = (size_t)s->C * s->H * s->W, mp = (size_t)s->H * s->W;
	int64_t err_logged = 0;
	for (;;) {
		pthread_mutex_lock(&s->list);
		if (s->stop) {
			pthread_mutex_unlock(&s->list);
			break;
		}
		/* streams that went away with an event open */
		for (int i = 0; i < s->n; i++) {
			entry *en = &s->e[i];
			if (!ev_tracker_active(en->ev))
				continue;
			stream_stats ss;
			stream_get_stats(en->st, &ss);
			if (ss.queue)
				continue;
			if (ss.state == STREAM_ENDED)
				flush_entry(s, en, "stream_ended");
			else if (ss.state == STREAM_RECONNECTING || ss.state == STREAM_STOPPED)
				flush_entry(s, en, "stream_lost");
		}
		int n = 0, cap = s->o.batch_max > 0 ? s->o.batch_max : 1;
		if (ensure_batch(s, cap) < 0)
			cap = s->batch_cap;
		for (int k = 0; k < s->n && n < cap; k++) {
			entry *en = &s->e[(s->rr + k) % s->n];
			stream_frame *f = stream_take(en->st);
			if (!f)
				continue;
			s->batch[n].e = en;
			s->batch[n].f = f;
			n++;
		}
		if (s->n)
			s->rr = (s->rr + 1) % s->n;
		if (n == 0) {
			pthread_mutex_unlock(&s->list);
			heartbeat(s);
			pthread_mutex_lock(&s->wake_lock);
			if (!s->wake_flag && !s->stop) {
				int64_t d = mono_us() + 200000;
				struct timespec ts = { .tv_sec = d / 1000000, .tv_nsec = (d % 1000000) * 1000 };
				pthread_cond_timedwait(&s->wake_cond, &s->wake_lock, &ts);
			}
			s->wake_flag = 0;
			pthread_mutex_unlock(&s->wake_lock);
			continue;
		}
		for (int k = 0; k < n; k++) {
			memcpy(s->imgs + k * fr, s->batch[k].f->img, sizeof(float) * fr);
			if (s->K)
				memcpy(s->cond + k * fr * s->K, s->batch[k].f->cond, sizeof(float) * fr * s->K);
		}
		int64_t t0 = mono_us();
		__atomic_store_n(&s->engine_since, t0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&s->phase, PHASE_IN_ENGINE, __ATOMIC_SEQ_CST);
		lmd_err e = lmd_engine_score(s->o.engine, &s->o.params, n, s->H, s->W, s->imgs,
		                             s->K ? s->cond : NULL, s->scores, s->maps, NULL);
		int expect = PHASE_IN_ENGINE;
		if (!__atomic_compare_exchange_n(&s->phase, &expect, PHASE_OTHER, 0, __ATOMIC_SEQ_CST,
		                                 __ATOMIC_SEQ_CST))
			return NULL;   /* abandoned at shutdown: the table is no longer ours */
		__atomic_store_n(&s->engine_since, 0, __ATOMIC_SEQ_CST);
		int64_t t1 = mono_us();
		if (e != LMD_OK) {
			pthread_mutex_lock(&s->stats_lock);
			s->st.engine_errors++;
			int64_t ne = s->st.engine_errors;
			pthread_mutex_unlock(&s->stats_lock);
			if (ne - err_logged >= 1 && (ne < 10 || ne % 100 == 0)) {
				log_err("engine: scoring %d frame%s failed: %s (%lld failures)", n, n == 1 ? "" : "s",
				        lmd_errmsg(), (long long)ne);
				err_logged = ne;
			}
		} else {
			for (int k = 0; k < n; k++) {
				stream_frame *f = s->batch[k].f;
				lat_add(s->lat, (t1 - f->mono_us) / 1000.0);
				process(s, s->batch[k].e, f, s->scores[k], s->maps + k * mp);
			}
		}
		for (int k = 0; k < n; k++)
			stream_release(s->batch[k].e->st, s->batch[k].f);
		pthread_mutex_unlock(&s->list);
		double ms = (t1 - t0) / 1000.0;
		pthread_mutex_lock(&s->stats_lock);
		if (e == LMD_OK) {
			s->st.frames_scored += n;
			s->st.batches++;
		}
		s->st.batch_ms_last = ms;
		s->st.batch_last = n;
		s->st.batch_ms_avg = s->st.batches <= 1 ? ms : 0.9 * s->st.batch_ms_avg + 0.1 * ms;
		s->st.heartbeat_us = mono_us();
		pthread_mutex_unlock(&s->stats_lock);
		if (e != LMD_OK) {
			/* do not spin on a broken device */
			struct timespec ts = { 0, 100000000 };
			nanosleep(&ts, NULL);
		}
	}
	/* shutdown: close open events */
	pthread_mutex_lock(&s->list);
	for (int i = 0; i < s->n; i++)
		flush_entry(s, &s->e[i], "shutdown");
	pthread_mutex_unlock(&s->list);
	return NULL;
}

int sched_start(sched *s)
{
	if (s->started)
		return 0;
	s->stop = 0;
	if (pthread_create(&s->thread, NULL, thread_main, s) != 0)
		return -1;
	s->started = 1;
	return 0;
}

void sched_stop(sched *s)
{
	if (!s || !s->started)
		return;
	pthread_mutex_lock(&s->list);
	s->stop = 1;
	pthread_mutex_unlock(&s->list);
	sched_wake(s);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

int sched_stop_timeout(sched *s, double seconds)
{
	if (!s || !s->started)
		return 0;
	s->stop = 1;       /* read by the thread under `list`; a late read only costs a round */
	sched_wake(s);
	int64_t deadline = mono_us() + (int64_t)(seconds * 1e6);
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(s->thread, NULL, &ts) == 0) {
			s->started = 0;
			return 0;
		}
		if (mono_us() < deadline)
			continue;
		int expect = PHASE_IN_ENGINE;
		if (__atomic_compare_exchange_n(&s->phase, &expect, PHASE_ABANDONED, 0, __ATOMIC_SEQ_CST,
		                                __ATOMIC_SEQ_CST))
			break;
		/* between engine calls: it will see stop very soon */
	}
	/* The thread is inside the engine and will leave without touching the
	 * table, which it still has locked: use it without the lock. */
	pthread_detach(s->thread);
	s->started = 0;
	s->abandoned = 1;
	for (int i = 0; i < s->n; i++)
		flush_entry(s, &s->e[i], "shutdown");
	log_warn("scheduler: the engine is still busy after %.0f s; open events ended without it", seconds);
	return 1;
}

int64_t sched_engine_busy_since(sched *s)
{
	return __atomic_load_n(&s->engine_since, __ATOMIC_SEQ_CST);
}

void sched_destroy(sched **ps)
{
	if (!ps || !*ps)
		return;
	sched *s = *ps;
	if (s->abandoned) {
		/* its thread may still be in the engine using our buffers: the
		 * process is about to exit, leave them */
		*ps = NULL;
		return;
	}
	sched_stop(s);
	for (int i = 0; i < s->n; i++)
		ev_tracker_destroy(&s->e[i].ev);
	free(s->e);
	free(s->imgs);
	free(s->cond);
	free(s->scores);
	free(s->maps);
	free(s->batch);
	lat_ring_destroy(&s->lat);
	pthread_mutex_destroy(&s->list);
	pthread_mutex_destroy(&s->wake_lock);
	pthread_mutex_destroy(&s->stats_lock);
	pthread_cond_destroy(&s->wake_cond);
	free(s);
	*ps = NULL;
}

/* ---- stream table ------------------------------------------------------------- */

static ev_params params_for(const sched *s, const cfg_stream *c, double thr)
{
	return (ev_params){ .threshold = thr, .hysteresis = c->hysteresis,
	                    .min_duration = c->min_duration, .update_interval = s->o.update_interval };
}

void sched_add(sched *s, stream *st, double threshold)
{
	pthread_mutex_lock(&s->list);
	if (s->n == s->cap) {
		int nc = s->cap ? s->cap * 2 : 8;
		entry *ne = realloc(s->e, sizeof *ne * nc);
		if (!ne) {
			pthread_mutex_unlock(&s->list);
			log_err("scheduler: out of memory adding stream %s", stream_name(st));
			return;
		}
		s->e = ne;
		s->cap = nc;
	}
	entry *en = &s->e[s->n];
	memset(en, 0, sizeof *en);
	en->st = st;
	en->threshold = threshold;
	en->last_frame = -1;
	en->info.threshold = threshold;
	en->info.last_frame = -1;
	en->last_pts = INT64_MIN;
	ev_params p = params_for(s, stream_config(st), threshold);
	en->ev = ev_tracker_new(&p);
	if (en->ev)
		s->n++;
	pthread_mutex_unlock(&s->list);
}

void sched_remove(sched *s, stream *st, const char *reason)
{
	pthread_mutex_lock(&s->list);
	for (int i = 0; i < s->n; i++)
		if (s->e[i].st == st) {
			flush_entry(s, &s->e[i], reason);
			ev_tracker_destroy(&s->e[i].ev);
			memmove(&s->e[i], &s->e[i + 1], sizeof *s->e * (s->n - i - 1));
			s->n--;
			break;
		}
	if (s->rr >= s->n)
		s->rr = 0;
	pthread_mutex_unlock(&s->list);
}

void sched_set_threshold(sched *s, stream *st, double threshold)
{
	pthread_mutex_lock(&s->list);
	for (int i = 0; i < s->n; i++)
		if (s->e[i].st == st) {
			s->e[i].threshold = threshold;
			pthread_mutex_lock(&s->stats_lock);
			s->e[i].info.threshold = threshold;
			pthread_mutex_unlock(&s->stats_lock);
			ev_params p = params_for(s, stream_config(st), threshold);
			ev_tracker_set_params(s->e[i].ev, &p);
		}
	pthread_mutex_unlock(&s->list);
}

void sched_set_opts(sched *s, const sched_opts *o)
{
	pthread_mutex_lock(&s->list);
	s->o.params = o->params;
	s->o.batch_max = o->batch_max;
	s->o.update_interval = o->update_interval;
	s->o.max_regions = o->max_regions;
	s->o.region_min_area = o->region_min_area;
	s->o.region_blur = o->region_blur;
	s->o.region_factor = o->region_factor;
	s->o.region_threshold = o->region_threshold;
	for (int i = 0; i < s->n; i++) {
		ev_params p = params_for(s, stream_config(s->e[i].st), s->e[i].threshold);
		ev_tracker_set_params(s->e[i].ev, &p);
	}
	pthread_mutex_unlock(&s->list);
}

void sched_get_stats(sched *s, sched_stats *st)
{
	pthread_mutex_lock(&s->stats_lock);
	*st = s->st;
	pthread_mutex_unlock(&s->stats_lock);
	st->lat_samples = lat_percentiles(s->lat, &st->lat_p50_ms, &st->lat_p99_ms);
}

int sched_get_stream(sched *s, const stream *st, sched_stream_info *info)
{
	/* The table's shape only changes in sched_add/remove, which run on the
	 * same (main) thread as this; the fields read are under stats_lock.
	 * So a status report never waits for a batch. */
	int found = 0;
	pthread_mutex_lock(&s->stats_lock);
	for (int i = 0; i < s->n; i++)
		if (s->e[i].st == st) {
			*info = s->e[i].info;
			found = 1;
		}
	pthread_mutex_unlock(&s->stats_lock);
	return found;
}
