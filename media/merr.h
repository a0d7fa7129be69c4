/*
 * merr.h — the error convention of media/, the engine's (compute/include/
 * lmd.h) but its own, so that decoding needs nothing of the engine: every
 * failing function returns a media_err and sets the calling thread's message
 * exactly where the fault is found (naming the URL, the frame, the filter);
 * callers propagate the code and read the text with media_errmsg().
 * The end of a stream is not a fault: MEDIA_END.
 */
#ifndef LMD_MERR_H
#define LMD_MERR_H

typedef enum {
	MEDIA_OK = 0,
	MEDIA_END,             /* no more frames: the file or stream ended */
	MEDIA_ERR_IO,          /* missing, unreadable, lost, timed out, stopped */
	MEDIA_ERR_FORMAT,      /* not media, no video stream, undecodable */
	MEDIA_ERR_ARG,         /* bad argument from the caller */
	MEDIA_ERR_NOMEM,       /* allocation failed */
	MEDIA_ERR_UNSUPPORTED  /* valid request this FFmpeg cannot serve */
} media_err;

/* The message of this thread's last media error ("" if none). */
const char *media_errmsg(void);
/* Set it (printf format) and return e. */
media_err media_seterr(media_err e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
