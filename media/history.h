/*
 * history.h — the previous frames a conditioned model sees, picked by time.
 *
 * A model trained with cond_frames K saw, next to each frame, the K frames
 * that preceded it in its training video: K steps of that video's frame
 * interval back (`cond_interval` in the model file, e.g. 0.1 s for
 * Ped2's 10 fps). A camera at another rate must give the model frames the
 * same time apart, not the same number of frames apart: at 30 fps the
 * previous frame is a third as far back, motion looks three times slower
 * and the scores no longer match the model's calibration. So every decoded
 * frame goes into this ring with its presentation time, and the history of
 * the newest frame is, for k = K..1, the held frame nearest to
 * t - k * interval (ties to the older one). A model that does not record its
 * interval (0) gets the K frames decoded just before, as before the key
 * existed.
 *
 * The ring grows (up to HISTORY_MAX frames) while its oldest frame is still
 * needed, so it holds K * interval seconds of any source rate. Times must
 * increase: what a time stamp means, and where a cut empties the ring, is
 * the one rule of feed.h, which every frame loop reads frames through.
 */
#ifndef LMDD_HISTORY_H
#define LMDD_HISTORY_H
#include <stddef.h>
#include <stdint.h>

#define HISTORY_MAX 256

typedef struct history history;

/* k frames of n floats each, interval_s apart (0: consecutive frames);
 * NULL when out of memory. */
history *history_new(int k, double interval_s, size_t n);
void history_destroy(history **h);
void history_reset(history *h);

/* The buffer for the next frame (n floats), then commit it with its time,
 * which must be after the newest frame's. NULL only when out of memory
 * while growing (the ring is unchanged). */
float *history_next(history *h);
void history_push(history *h, int64_t pts_us);

/* The newest frame (n floats), NULL if none is held. */
const float *history_newest(const history *h);
/* Frames held, including the newest. */
int history_count(const history *h);
/* 1 when a frame is held within half a source step of the oldest time the
 * newest frame needs (or the ring is as full as it may get): the newest
 * frame can be analysed. */
int history_ready(const history *h);
/* The newest frame's history, k frames oldest first, into out (k*n floats).
 * Returns the largest distance in seconds between a picked frame's time and
 * the time it stands for (0 with interval 0). Needs at least one frame. */
double history_fill(const history *h, float *out);
#endif
