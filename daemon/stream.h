/*
 * stream.h — one video source: a decode thread that keeps the newest frame
 * in a 1-slot mailbox for the scheduler, reconnecting on failure.
 *
 * The decode thread never waits for the scheduler: when analysis is slower
 * than the stream, a frame still in the mailbox is replaced by the newer one
 * and counted as dropped ("newest frame wins"; a detector wants the present,
 * not a backlog). Frames are also thinned to the stream's analysis rate
 * (fps) before conversion, by their time (media/feed.h), so a 25 fps camera
 * analysed at 5 fps costs one resize per 5 frames. Exception: a file with
 * realtime = off is batch work, and its decode thread waits for the mailbox
 * to empty instead (every admitted frame is analysed, none dropped).
 */
#ifndef LMDD_STREAM_H
#define LMDD_STREAM_H
#include <stdint.h>

#include "config.h"

struct AVFrame;

typedef struct {
	float *img;              /* C*H*W, model frame size, [0,1] */
	float *cond;             /* cond_frames*C*H*W previous frames, oldest first; NULL if none */
	struct AVFrame *src;     /* the decoded source frame (ref), for snapshots */
	int64_t frame;           /* frame number in this stream (continues over reconnects) */
	int64_t pts_us;          /* source presentation time, INT64_MIN if unknown */
	int64_t wall_us;         /* wall clock when decoded */
	int64_t mono_us;         /* monotonic clock when decoded (latency) */
	int src_w, src_h;
} stream_frame;

typedef enum {
	STREAM_CONNECTING = 0, STREAM_RUNNING, STREAM_RECONNECTING, STREAM_ENDED, STREAM_STOPPED
} stream_state;

typedef struct {
	stream_state state;
	int64_t frames_in;       /* decoded */
	int64_t offered;         /* put in the mailbox */
	int64_t dropped;         /* replaced in the mailbox before analysis */
	int64_t analysed;        /* taken by the scheduler */
	int64_t corrupt;         /* corrupt packets/frames skipped, all connections */
	int64_t reconnects;      /* connections re-established after a loss */
	int64_t connect_failures;
	int64_t loops;           /* file restarts (loop = on) */
	double gap_s;            /* time without frames while reconnecting */
	double last_frame_age_s; /* -1 before the first frame */
	int queue;               /* frames waiting in the mailbox (0 or 1) */
	int src_w, src_h;
	double src_fps;
	char hwaccel[16];
	char last_error[256];
} stream_stats;

typedef struct {
	int width, height, channels, cond_frames;   /* model input */
	double cond_interval;                        /* model's history spacing, s (0: consecutive) */
	double reconnect_min, reconnect_max;         /* seconds */
	void (*ready)(void *arg);                    /* a frame was put in a mailbox */
	void *ready_arg;
} stream_env;

typedef struct stream stream;

stream *stream_new(const cfg_stream *cfg, const stream_env *env);
int stream_start(stream *s);                 /* 0 or -1 */
/* Ask the thread to stop and join it (interrupts blocking I/O). */
void stream_stop(stream *s);
void stream_destroy(stream **s);

const char *stream_name(const stream *s);
const cfg_stream *stream_config(const stream *s);
/* Newest frame or NULL; give it back with stream_release(). */
stream_frame *stream_take(stream *s);
void stream_release(stream *s, stream_frame *f);
void stream_get_stats(stream *s, stream_stats *st);
const char *stream_state_name(stream_state st);

#endif
