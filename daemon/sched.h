/*
 * sched.h — the scheduler: one thread that feeds the single engine from all
 * streams and turns scores into events.
 *
 * Each round it takes the newest frame of every stream that has one (round
 * robin from a rotating start, at most batch_max), scores them in ONE
 * lmd_engine_score() call, runs each stream's event tracker and region
 * extraction, and hands events to the publisher. All streams are resized to
 * the model's frame size by their decode threads, so every batch has one
 * size and any mix of streams can share a batch. A stream with nothing new
 * is simply not in the round: a dead or stalled camera never delays others.
 */
#ifndef LMDD_SCHED_H
#define LMDD_SCHED_H
#include <stdint.h>

#include "lmd.h"
#include "publish.h"
#include "stream.h"

typedef struct {
	lmd_engine *engine;
	const lmd_model *model;
	lmd_params params;
	int batch_max;
	publisher *pub;
	double update_interval;
	int max_regions, region_min_area, region_blur;
	double region_factor;
	double region_threshold;  /* > 0: pixel threshold = factor * this, else factor * stream threshold */
} sched_opts;

typedef struct {
	int64_t frames_scored, batches, engine_errors;
	double batch_ms_last, batch_ms_avg;   /* avg: exponential, 0.1 weight */
	int batch_last;                      /* frames in the last batch */
	int events_open;
	int64_t events;                      /* events started */
	double lat_p50_ms, lat_p99_ms;       /* decoded -> scored; -1 if none */
	int lat_samples;
	int64_t heartbeat_us;                /* monotonic time of the last loop turn */
} sched_stats;

typedef struct {
	double threshold, last_score;
	int64_t last_frame;                  /* -1 before the first */
	int event_open;
} sched_stream_info;

typedef struct sched sched;

sched *sched_new(const sched_opts *o);
int sched_start(sched *s);
/* Finish the current batch, end every open event (reason "shutdown"),
 * stop the thread. The streams still in the table stay the caller's. */
void sched_stop(sched *s);
/* The same, waiting at most `seconds`. If the thread is then still inside
 * the engine (which cannot be interrupted), the open events are ended from
 * the calling thread, the scheduler is left to finish on its own, and 1 is
 * returned: the caller must then not destroy the engine (exit instead). */
int sched_stop_timeout(sched *s, double seconds);
/* Monotonic us when the current engine call began, 0 if none is running. */
int64_t sched_engine_busy_since(sched *s);
void sched_destroy(sched **s);

/* sched_add/remove/set_threshold/get_stream: call from one thread (main). */
/* Add a stream (its event tracker starts idle) with its threshold. */
void sched_add(sched *s, stream *st, double threshold);
/* Forget a stream and destroy it (it is no longer the caller's); an open
 * event ends at once with the given reason. Never waits for a batch: a
 * stream whose frame is being scored is stopped now and destroyed by the
 * scheduler when the engine returns. */
void sched_remove(sched *s, stream *st, const char *reason);
void sched_set_threshold(sched *s, stream *st, double threshold);
/* Replace sampler parameters and event options (reload). */
void sched_set_opts(sched *s, const sched_opts *o);
/* stream_env.ready callback: a frame is waiting. */
void sched_wake(void *s);

void sched_get_stats(sched *s, sched_stats *st);
int sched_get_stream(sched *s, const stream *st, sched_stream_info *info);
#endif
