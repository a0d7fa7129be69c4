/*
 * sched.c — batching scheduler and event generation (see sched.h).
 *
 * Facts behind the design:
 *  - Locks, never nested the other way round: `list` guards the stream
 *    table and the event trackers; `wake` only the "work is waiting" flag
 *    that decode threads set (a decode thread never waits for a batch);
 *    `stats_lock` the counters a status report reads.
 *  - `list` is NOT held across the engine call (a batch of a big model on
 *    a CPU takes minutes): a round takes it to gather frames, lets it go
 *    for lmd_engine_score(), and takes it again to turn scores into
 *    events. So reload (sched_add/remove/set_*) never waits for a batch,
 *    and the main loop keeps answering signals and pinging the watchdog.
 *  - Entries are allocated one by one and the batch points at them, so the
 *    table may change during the engine call. A stream removed while its
 *    frame is in the batch has its event ended at once, is stopped, and is
 *    handed to the scheduler, which destroys it when the engine returns
 *    (the caller never waits).
 *  - Maps are always requested: regions need them, and a stream with a ROI
 *    is scored as the mean map value inside the ROI (the model always sees
 *    the whole frame, as in training).
 *  - The idle wait is bounded (200 ms) so the heartbeat that the systemd
 *    watchdog logic reads keeps moving while there is no work; while the
 *    engine runs, `phase` says so and since when (a hung GPU takes forever).
 *  - The engine call cannot be interrupted. At shutdown sched_stop_timeout()
 *    waits a bounded time; if the thread is still inside the engine, the
 *    caller takes the table over (atomic phase IN_ENGINE -> ABANDONED),
 *    ends the open events itself, and the thread, when the engine returns,
 *    sees ABANDONED and leaves without touching anything.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "worker.h"

typedef struct entry {
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
	int busy;                  /* its frame is in the batch being scored */
	const char *gone;          /* removed (its event ended with this reason, tracker gone) */
	struct entry *next_gone;   /* removed while busy: on sched.gone, for the scheduler to free */
} entry;

enum { PHASE_OTHER = 0, PHASE_IN_ENGINE, PHASE_ABANDONED };

struct sched {
	sched_opts o;
	atomic_int phase;
	atomic_llong engine_since; /* monotonic us when the engine call began, 0 = none */
	int W, H, C, K;
	worker w;
	int abandoned;             /* the thread was left inside the engine */

	pthread_mutex_t list;
	entry **e;                 /* the table: streams being analysed */
	int n, cap, rr;
	entry *gone;               /* removed while busy, for the scheduler to free */

	pthread_mutex_t wake_lock;
	pthread_cond_t wake_cond;
	int wake_flag;

	pthread_mutex_t stats_lock;
	sched_stats st;
	lat_ring *lat;

	/* batch buffers, for batch_cap frames; the scheduler thread's */
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

/* An entry out of the table, under `list`: its event ends, its tracker goes. */
static void entry_end(sched *s, entry *en, const char *reason)
{
	flush_entry(s, en, reason);
	ev_tracker_destroy(&en->ev);
}

/* ... then, without the lock (a decode thread is joined), its stream. */
static void entry_free(entry *en)
{
	stream_destroy(&en->st);
	free(en);
}

/* Under `list`: end the events of streams that went away (ended, lost). */
static void flush_lost_streams(sched *s)
{
	for (int i = 0; i < s->n; i++) {
		entry *en = s->e[i];
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
}

/* Under `list`: the newest frame of each stream that has one, round robin. */
static int gather(sched *s)
{
	int n = 0, cap = s->o.batch_max > 0 ? s->o.batch_max : 1;
	if (ensure_batch(s, cap) < 0)
		cap = s->batch_cap;
	for (int k = 0; k < s->n && n < cap; k++) {
		entry *en = s->e[(s->rr + k) % s->n];
		stream_frame *f = stream_take(en->st);
		if (!f)
			continue;
		en->busy = 1;
		s->batch[n].e = en;
		s->batch[n].f = f;
		n++;
	}
	if (s->n)
		s->rr = (s->rr + 1) % s->n;
	return n;
}

static void idle_wait(sched *s)
{
	heartbeat(s);
	pthread_mutex_lock(&s->wake_lock);
	if (!s->wake_flag && !worker_stopping(&s->w)) {
		int64_t d = mono_us() + 200000;
		struct timespec ts = { .tv_sec = d / 1000000, .tv_nsec = (d % 1000000) * 1000 };
		pthread_cond_timedwait(&s->wake_cond, &s->wake_lock, &ts);
	}
	s->wake_flag = 0;
	pthread_mutex_unlock(&s->wake_lock);
}

static void count_batch(sched *s, lmd_err e, int n, int64_t t0, int64_t t1, int64_t *err_logged)
{
	double ms = (t1 - t0) / 1000.0;
	pthread_mutex_lock(&s->stats_lock);
	if (e == LMD_OK) {
		s->st.frames_scored += n;
		s->st.batches++;
	} else {
		s->st.engine_errors++;
	}
	int64_t ne = s->st.engine_errors;
	s->st.batch_ms_last = ms;
	s->st.batch_last = n;
	s->st.batch_ms_avg = s->st.batches <= 1 ? ms : 0.9 * s->st.batch_ms_avg + 0.1 * ms;
	s->st.heartbeat_us = mono_us();
	pthread_mutex_unlock(&s->stats_lock);
	if (e != LMD_OK && ne - *err_logged >= 1 && (ne < 10 || ne % 100 == 0)) {
		log_err("engine: scoring %d frame%s failed: %s (%lld failures)", n, n == 1 ? "" : "s", lmd_errmsg(),
		        (long long)ne);
		*err_logged = ne;
	}
}

static void *thread_main(void *arg)
{
	sched *s = arg;
	const size_t fr = (size_t)s->C * s->H * s->W, mp = (size_t)s->H * s->W;
	int64_t err_logged = 0;
	for (;;) {
		pthread_mutex_lock(&s->list);
		if (worker_stopping(&s->w)) {
			pthread_mutex_unlock(&s->list);
			break;
		}
		flush_lost_streams(s);
		int n = gather(s);
		lmd_params params = s->o.params;   /* reload may change them meanwhile */
		pthread_mutex_unlock(&s->list);
		if (n == 0) {
			idle_wait(s);
			continue;
		}
		/* the frames are ours until released: no lock from here to the end of the engine call */
		for (int k = 0; k < n; k++) {
			memcpy(s->imgs + k * fr, s->batch[k].f->img, sizeof(float) * fr);
			if (s->K)
				memcpy(s->cond + k * fr * s->K, s->batch[k].f->cond, sizeof(float) * fr * s->K);
		}
		int64_t t0 = mono_us();
		atomic_store(&s->engine_since, t0);
		atomic_store(&s->phase, PHASE_IN_ENGINE);
		lmd_err e = lmd_engine_score(s->o.engine, &params, n, s->H, s->W, s->imgs, s->K ? s->cond : NULL,
		                             s->scores, s->maps, NULL);
		int expect = PHASE_IN_ENGINE;
		if (!atomic_compare_exchange_strong(&s->phase, &expect, PHASE_OTHER))
			return NULL;   /* abandoned at shutdown: the table is no longer ours */
		atomic_store(&s->engine_since, 0);
		int64_t t1 = mono_us();

		pthread_mutex_lock(&s->list);
		for (int k = 0; k < n; k++) {
			entry *en = s->batch[k].e;
			stream_frame *f = s->batch[k].f;
			if (e == LMD_OK && !en->gone) {
				lat_add(s->lat, (t1 - f->mono_us) / 1000.0);
				process(s, en, f, s->scores[k], s->maps + k * mp);
			}
			stream_release(en->st, f);
			en->busy = 0;
		}
		entry *gone = s->gone;   /* removed during the call: ours to free now */
		s->gone = NULL;
		pthread_mutex_unlock(&s->list);
		for (entry *en = gone, *next; en; en = next) {
			next = en->next_gone;
			entry_free(en);
		}
		count_batch(s, e, n, t0, t1, &err_logged);
		if (e != LMD_OK) {
			/* do not spin on a broken device */
			struct timespec ts = { 0, 100000000 };
			nanosleep(&ts, NULL);
		}
	}
	/* shutdown: close open events */
	pthread_mutex_lock(&s->list);
	for (int i = 0; i < s->n; i++)
		flush_entry(s, s->e[i], "shutdown");
	pthread_mutex_unlock(&s->list);
	return NULL;
}

int sched_start(sched *s)
{
	return worker_start(&s->w, thread_main, s);
}

void sched_stop(sched *s)
{
	if (s)
		worker_stop(&s->w, sched_wake, s);
}

int sched_stop_timeout(sched *s, double seconds)
{
	if (!s || !s->w.running)
		return 0;
	worker_ask(&s->w, sched_wake, s);
	int64_t deadline = mono_us() + (int64_t)(seconds * 1e6);
	for (;;) {
		double left = (deadline - mono_us()) / 1e6;
		if (worker_join_within(&s->w, left > 0.1 ? left : 0.1) == 0)
			return 0;
		int expect = PHASE_IN_ENGINE;
		if (atomic_compare_exchange_strong(&s->phase, &expect, PHASE_ABANDONED))
			break;
		/* between engine calls: it will see stop very soon */
	}
	/* The thread is inside the engine and will leave without touching the
	 * table: end the open events from here, its batch's too. */
	worker_detach(&s->w);
	s->abandoned = 1;
	pthread_mutex_lock(&s->list);
	for (int i = 0; i < s->n; i++)
		flush_entry(s, s->e[i], "shutdown");
	pthread_mutex_unlock(&s->list);
	log_warn("scheduler: the engine is still busy after %.0f s; open events ended without it", seconds);
	return 1;
}

int64_t sched_engine_busy_since(sched *s)
{
	return atomic_load(&s->engine_since);
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
	for (int i = 0; i < s->n; i++) {   /* their streams are the caller's */
		entry_end(s, s->e[i], "shutdown");
		free(s->e[i]);
	}
	for (entry *en = s->gone, *next; en; en = next) {
		next = en->next_gone;
		entry_free(en);
	}
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

/* under `list` */
static entry *find(sched *s, const stream *st, int *at)
{
	for (int i = 0; i < s->n; i++)
		if (s->e[i]->st == st) {
			if (at)
				*at = i;
			return s->e[i];
		}
	return NULL;
}

void sched_add(sched *s, stream *st, double threshold)
{
	entry *en = calloc(1, sizeof *en);
	ev_params p = params_for(s, stream_config(st), threshold);
	if (en)
		en->ev = ev_tracker_new(&p);
	pthread_mutex_lock(&s->list);
	if (en && en->ev && s->n == s->cap) {
		int nc = s->cap ? s->cap * 2 : 8;
		entry **ne = realloc(s->e, sizeof *ne * nc);
		if (ne) {
			s->e = ne;
			s->cap = nc;
		}
	}
	if (!en || !en->ev || s->n == s->cap) {
		pthread_mutex_unlock(&s->list);
		log_err("scheduler: out of memory adding stream %s", stream_name(st));
		if (en)
			ev_tracker_destroy(&en->ev);
		free(en);
		return;
	}
	en->st = st;
	en->threshold = threshold;
	en->last_frame = -1;
	en->info.threshold = threshold;
	en->info.last_frame = -1;
	en->last_pts = INT64_MIN;
	pthread_mutex_lock(&s->stats_lock);   /* sched_get_stream reads the table under it */
	s->e[s->n++] = en;
	pthread_mutex_unlock(&s->stats_lock);
	pthread_mutex_unlock(&s->list);
}

void sched_remove(sched *s, stream *st, const char *reason)
{
	int i;
	pthread_mutex_lock(&s->list);
	entry *en = find(s, st, &i);
	if (en) {
		pthread_mutex_lock(&s->stats_lock);
		memmove(&s->e[i], &s->e[i + 1], sizeof *s->e * (s->n - i - 1));
		s->n--;
		pthread_mutex_unlock(&s->stats_lock);
		if (s->rr >= s->n)
			s->rr = 0;
		en->gone = reason;   /* a batch that holds its frame no longer scores it */
		entry_end(s, en, reason);
	}
	pthread_mutex_unlock(&s->list);
	if (!en) {
		stream_destroy(&st);
		return;
	}
	stream_stop(st);         /* no more frames (one may still be in the batch) */
	pthread_mutex_lock(&s->list);
	int later = en->busy;
	if (later) {             /* the scheduler frees it when the engine returns */
		en->next_gone = s->gone;
		s->gone = en;
	}
	pthread_mutex_unlock(&s->list);
	if (!later)
		entry_free(en);
}

void sched_set_threshold(sched *s, stream *st, double threshold)
{
	pthread_mutex_lock(&s->list);
	entry *en = find(s, st, NULL);
	if (en) {
		en->threshold = threshold;
		pthread_mutex_lock(&s->stats_lock);
		en->info.threshold = threshold;
		pthread_mutex_unlock(&s->stats_lock);
		ev_params p = params_for(s, stream_config(st), threshold);
		ev_tracker_set_params(en->ev, &p);
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
		ev_params p = params_for(s, stream_config(s->e[i]->st), s->e[i]->threshold);
		ev_tracker_set_params(s->e[i]->ev, &p);
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
	/* The table changes under stats_lock too (sched_add/remove), and the
	 * fields read are written under it: a status report never waits for
	 * a round. */
	int found = 0;
	pthread_mutex_lock(&s->stats_lock);
	for (int i = 0; i < s->n; i++)
		if (s->e[i]->st == st) {
			*info = s->e[i]->info;
			found = 1;
		}
	pthread_mutex_unlock(&s->stats_lock);
	return found;
}
