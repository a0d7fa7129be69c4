/*
 * feed.h — the one frame loop's decoding half: a source read frame by frame
 * (media.h), every frame given a time by ONE rule, and a conditioned model's
 * history (history.h) kept by that time. The daemon's decode threads
 * (daemon/stream.c), `lmdd score` and `lmdd calibrate` (cli/cli_engine.c)
 * and `lmdd eval` all read their frames through it, so for the same source
 * they give the model the same history frames, whatever its time stamps.
 * What they do with a frame (drop it, batch it, score it) is theirs.
 *
 * The time rule (feed_clock_next): a frame's time is its presentation
 * time, kept strictly increasing:
 *  - a frame without a stamp, or with one not after the previous frame's
 *    time (duplicated, reordered, a clock that stepped back), comes one
 *    frame after the previous one (the source's nominal rate; 40 ms if it
 *    has none), and the next stamp after that time counts again;
 *  - a jump of FEED_CUT_US or more, either way, is a cut (a seek, a splice,
 *    frames lost for seconds, a clock set back or wrapped): the history
 *    starts over, the time goes on one frame after the previous one, and
 *    later stamps are shifted by as much (so the cut is counted once).
 * A new feed (a new file, a reconnect) starts with an empty history.
 * Frames whose history is not yet held (feed_ready() == 0: at the start and
 * after a cut) are the caller's choice: the daemon and `lmdd calibrate` do
 * not score them, `lmdd score` and `lmdd eval` let the oldest held frame
 * stand in for the missing ones (history.h, history_fill).
 */
#ifndef LMD_FEED_H
#define LMD_FEED_H
#include <stdatomic.h>
#include <stdint.h>

#include "media.h"
#include "merr.h"

#define FEED_CUT_US 5000000   /* a time jump this large either way is a cut */

typedef struct {
	int width, height, channels;  /* model input (0, 0: the source's size) */
	int cond_frames;              /* previous frames the model takes (0: none kept) */
	double cond_interval;         /* their spacing in s (0: consecutive frames) */
	int timeout_ms;               /* I/O timeout (0 = 10000) */
	const atomic_int *stop;       /* optional: abort I/O when *stop != 0 */
	const char *hwaccel;          /* as lmd_media_opts */
} feed_opts;

typedef struct {
	int64_t index;                /* decoded frame number since open, from 0 */
	int64_t pts_us;               /* the source's stamp, INT64_MIN if none */
	int64_t time_us;              /* the frame's time by the rule: strictly increasing */
	int cut;                      /* 1: the history started over at this frame */
	int src_width, src_height;
} feed_frame;

typedef struct feed feed;

media_err feed_open(const char *url, const feed_opts *o, feed **out);
void feed_close(feed **f);
/*
 * Decode the next frame and give it its time. A conditioned model's frame
 * is converted at once (it goes into the history); otherwise conversion
 * waits for feed_image, so frames the caller drops cost no resize.
 * MEDIA_OK; MEDIA_END or MEDIA_ERR_IO end the source; any other error is
 * this frame's (it could not be converted or kept): the history starts
 * over and the next call reads on.
 */
media_err feed_next(feed *f, feed_frame *fr);
/* 1 when the newest frame's history is held (always, without condition
 * frames): history.h, history_ready. */
int feed_ready(const feed *f);
/* The newest frame as the model's input (channels x height x width). */
media_err feed_image(feed *f, float *dst);
/* Its history, cond_frames frames oldest first; returns the largest
 * distance in s between a picked frame's time and the time it stands for. */
double feed_history(const feed *f, float *dst);
/* The source, for its rate, last source frame, decoder and counters. */
lmd_media *feed_media(const feed *f);

/* The time rule alone. Start from FEED_CLOCK_INIT; step_us (> 0) is one
 * frame at the source's rate. Returns the frame's time; *cut = 1 at a cut. */
typedef struct {
	int64_t last;                 /* time of the previous frame, INT64_MIN before the first */
	int64_t shift;                /* added to the source's stamps (cuts) */
} feed_clock;
#define FEED_CLOCK_INIT ((feed_clock){ INT64_MIN, 0 })
int64_t feed_clock_next(feed_clock *c, int64_t pts_us, int64_t step_us, int *cut);
#endif
