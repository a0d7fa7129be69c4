/*
 * media.h — one video/image source decoded by FFmpeg into float frames.
 *
 * Anything libavformat opens: image files (PNG, JPEG, ...), video files,
 * RTSP/HTTP/UDP/SRT streams, V4L2 devices (/dev/videoN via libavdevice).
 * Each decoded frame is converted by libswscale to the requested size and
 * channel count (1 = gray, 3 = RGB) and returned planar, float in [0,1] —
 * the engine's input format (compute/lmd.h).
 *
 * Blocking I/O is bounded: every read goes through FFmpeg's interrupt
 * callback, which aborts after opts.timeout_ms without progress or when
 * the caller's stop flag is set. Corrupt packets/frames are skipped and
 * counted, never fatal. Errors follow merr.h.
 */
#ifndef LMD_MEDIA_H
#define LMD_MEDIA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "merr.h"

typedef struct lmd_media lmd_media;

typedef struct {
	int width, height;      /* output size; 0,0 = source size */
	int channels;           /* 1 or 3 */
	int timeout_ms;         /* I/O timeout (0 = 10000) */
	const atomic_int *stop;  /* optional: abort I/O when *stop != 0 */
	const char *hwaccel;    /* NULL/"none", "auto", "vaapi", "cuda", "vulkan" */
} lmd_media_opts;

typedef struct {
	int64_t pts_us;         /* presentation time in microseconds, or INT64_MIN */
	int64_t index;          /* frame number since open, from 0 */
	int src_width, src_height;
} lmd_frame_info;

media_err lmd_media_open(const char *url, const lmd_media_opts *o, lmd_media **out);
/*
 * Decode the next frame into dst (channels*height*width floats).
 * Returns MEDIA_OK with a frame, MEDIA_END at the end of the stream, or
 * MEDIA_ERR_IO on a read error/timeout/stop (media_errmsg() says which).
 * dst may be NULL: the frame is decoded (info filled, kept as the last
 * frame) but not converted — for frames the caller may drop; convert it
 * later with lmd_media_convert().
 */
media_err lmd_media_read(lmd_media *m, float *dst, lmd_frame_info *info);
/* Convert the last decoded frame into dst (as lmd_media_read would). */
media_err lmd_media_convert(lmd_media *m, float *dst);
/* Last decoded frame as packed 8-bit (gray or RGB24) at the output size,
 * for snapshots; NULL before the first frame. */
const uint8_t *lmd_media_last_u8(const lmd_media *m);
int lmd_media_width(const lmd_media *m);
int lmd_media_height(const lmd_media *m);
double lmd_media_fps(const lmd_media *m);      /* nominal frame rate, 0 if unknown */
int64_t lmd_media_corrupt(const lmd_media *m);  /* corrupt packets/frames skipped */
int lmd_media_at_eof(const lmd_media *m);
/* The last decoded frame at source size, in system memory (borrowed; valid
 * until the next read/close; av_frame_ref() it to keep it). NULL before the
 * first frame. For snapshots at source resolution. */
struct AVFrame;
const struct AVFrame *lmd_media_last_frame(const lmd_media *m);
/* Hardware decoder in use ("none" = software). */
const char *lmd_media_hwaccel(const lmd_media *m);
/* 1 if the URL is a live source that paces itself (network, device);
 * 0 for files and lavfi graphs, which decode as fast as asked. */
int lmd_media_is_live(const char *url);
/* yuvj* pixel formats are FFmpeg's deprecated full-range aliases, which
 * libswscale warns about: the plain format with the same layout (an
 * AVPixelFormat), and *full set to 1 for a yuvj* one (left alone otherwise). */
int lmd_media_dejpeg(int fmt, int *full);
void lmd_media_close(lmd_media **m);

/* The URL with any password replaced by "***" (for logs and status). */
void lmd_media_redact_url(const char *url, char *out, size_t n);

#endif
