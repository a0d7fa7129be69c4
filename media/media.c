/*
 * media.c — one video/image source decoded by FFmpeg (see media.h).
 *
 * Design facts:
 *  - libavformat opens anything it knows: files, images (image2 demuxer),
 *    rtsp:// (forced to RTP-over-TCP: UDP loses packets behind NAT and
 *    firewalls and gives smeared frames), http(s)://, udp://, srt://, and
 *    V4L2 devices via libavdevice (/dev/videoN or "v4l2:PATH"). "lavfi:GRAPH"
 *    opens a libavfilter source graph (testsrc2, ...), handy for tests/demos.
 *  - Every blocking call (open, probe, read) is bounded by FFmpeg's interrupt
 *    callback: it returns 1 once the per-call deadline (timeout_ms) passes or
 *    the caller's stop flag is set, and libavformat then gives up with
 *    AVERROR_EXIT. That is the only portable way to abort a stuck network
 *    read from another thread. Probing reads a live source for up to its
 *    analysis duration, so that is capped (timeout/2, at most 5 s, 1 s for
 *    RTSP whose SDP already describes the codec) and added to the deadline;
 *    a probe cut short by the callback counts as a failure (the demuxer
 *    may be left mid-packet).
 *  - Decoding uses the send/receive API. Errors from the decoder and frames
 *    flagged corrupt (AV_FRAME_FLAG_CORRUPT, decode_error_flags, corrupt
 *    packets) are skipped and counted; the decoder is told to fail loudly on
 *    damage (AV_EF_EXPLODE) rather than conceal it, because a concealed,
 *    smeared frame would itself look anomalous to the detector.
 *  - Optional hardware decode: av_hwdevice_ctx_create() for the named type
 *    (or each type the codec supports, for "auto"); frames are copied back
 *    with av_hwframe_transfer_data(). Any failure falls back to software,
 *    and get_format() also falls back per stream if the hardware refuses it.
 *  - libswscale converts to GRAY8 or RGB24 at the output size (bilinear, as
 *    the trainer does), taking the source's colour range
 *    into account so limited-range YUV becomes full-range [0,255]; the result
 *    is kept packed for snapshots and expanded to planar float [0,1] (the
 *    engine's input, compute/lmd.h).
 *  - The last decoded source frame is kept (refcounted AVFrame) so callers
 *    can make snapshots at source resolution without a copy.
 *  - Errors: merr.h (media/ needs nothing of the engine).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "clock.h"
#include "merr.h"
#include "media.h"

/* Consecutive demuxer errors after which a source is declared broken. */
#define MAX_CONSECUTIVE_ERRORS 500

struct lmd_media {
	char *url;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	int vstream;
	AVRational tb;
	double fps;

	/* hardware decode */
	AVBufferRef *hw_device;
	enum AVPixelFormat hw_pix_fmt;
	char hw_name[32];

	AVPacket *pkt;
	AVFrame *frame;     /* decoder output (maybe a hw frame) */
	AVFrame *swframe;   /* hw frame copied to system memory */
	AVFrame *last;      /* last good source frame (ref) */
	int have_last;

	struct SwsContext *sws;
	int out_w, out_h, channels;
	uint8_t *sbuf;      /* sws output, aligned rows */
	int sstride;
	uint8_t *u8;        /* packed copy of sbuf */
	int have_u8;

	int64_t corrupt;
	int64_t index;
	int flushing, eof;

	/* interrupt callback */
	int timeout_ms;
	const atomic_int *stop;
	int64_t deadline_us;  /* monotonic; 0 = not armed */
	int interrupted;      /* 1 timeout, 2 stop */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	avdevice_register_all();
	avformat_network_init();
}

static int interrupt_cb(void *opaque)
{
	lmd_media *m = opaque;
	if (m->stop && atomic_load(m->stop)) {
		m->interrupted = 2;
		return 1;
	}
	if (m->deadline_us && mono_us() > m->deadline_us) {
		m->interrupted = 1;
		return 1;
	}
	return 0;
}

static void arm(lmd_media *m)
{
	m->interrupted = 0;
	m->deadline_us = mono_us() + (int64_t)m->timeout_ms * 1000;
}

static const char *averr(int e, char *buf, size_t n)
{
	if (av_strerror(e, buf, n) < 0)
		snprintf(buf, n, "error %d", e);
	return buf;
}

/* Error for a failed blocking call: timeout and stop get their own words. */
static media_err io_fail(lmd_media *m, const char *what, int e)
{
	char b[128];
	if (m->interrupted == 2)
		return media_seterr(MEDIA_ERR_IO, "%s: %s: stopped", m->url, what);
	if (m->interrupted == 1)
		return media_seterr(MEDIA_ERR_IO, "%s: %s: timeout after %d ms", m->url, what,
		                  m->timeout_ms);
	return media_seterr(MEDIA_ERR_IO, "%s: %s: %s", m->url, what, averr(e, b, sizeof b));
}

/* ---- hardware decode ---------------------------------------------------- */

static enum AVPixelFormat get_format(AVCodecContext *ctx, const enum AVPixelFormat *fmts)
{
	lmd_media *m = ctx->opaque;
	const enum AVPixelFormat *p;
	if (m->hw_pix_fmt != AV_PIX_FMT_NONE)
		for (p = fmts; *p != AV_PIX_FMT_NONE; p++)
			if (*p == m->hw_pix_fmt)
				return *p;
	/* hardware refused this stream: first software format */
	for (p = fmts; *p != AV_PIX_FMT_NONE; p++) {
		const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(*p);
		if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) {
			m->hw_pix_fmt = AV_PIX_FMT_NONE;
			snprintf(m->hw_name, sizeof m->hw_name, "none");
			return *p;
		}
	}
	return AV_PIX_FMT_NONE;
}

/* Try one device type; 0 on success. */
static int hw_try(lmd_media *m, const AVCodec *codec, enum AVHWDeviceType type)
{
	for (int i = 0;; i++) {
		const AVCodecHWConfig *c = avcodec_get_hw_config(codec, i);
		if (!c)
			return -1;
		if (!(c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) || c->device_type != type)
			continue;
		AVBufferRef *dev = NULL;
		if (av_hwdevice_ctx_create(&dev, type, NULL, NULL, 0) < 0)
			return -1;
		m->hw_device = dev;
		m->hw_pix_fmt = c->pix_fmt;
		snprintf(m->hw_name, sizeof m->hw_name, "%s", av_hwdevice_get_type_name(type));
		return 0;
	}
}

static void hw_setup(lmd_media *m, const AVCodec *codec, const char *want)
{
	m->hw_pix_fmt = AV_PIX_FMT_NONE;
	snprintf(m->hw_name, sizeof m->hw_name, "none");
	if (!want || !*want || !strcmp(want, "none") || !strcmp(want, "off"))
		return;
	if (!strcmp(want, "auto")) {
		enum AVHWDeviceType t = AV_HWDEVICE_TYPE_NONE;
		while ((t = av_hwdevice_iterate_types(t)) != AV_HWDEVICE_TYPE_NONE)
			if (hw_try(m, codec, t) == 0)
				return;
		return;
	}
	enum AVHWDeviceType t = av_hwdevice_find_type_by_name(want);
	if (t != AV_HWDEVICE_TYPE_NONE)
		(void)hw_try(m, codec, t);
	/* failure: software decode (hw_name stays "none") */
}

/* ---- open / close -------------------------------------------------------- */

/* A software decoder context for st (used again when a hardware open
 * fails): corrupt data is an error, not a concealed frame, so that it is
 * counted; thread_count 0 = FFmpeg's choice. */
static int dec_alloc(lmd_media *m, const AVCodec *codec, const AVStream *st)
{
	m->dec = avcodec_alloc_context3(codec);
	if (!m->dec || avcodec_parameters_to_context(m->dec, st->codecpar) < 0)
		return -1;
	m->dec->opaque = m;
	m->dec->pkt_timebase = st->time_base;
	m->dec->err_recognition |= AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_EXPLODE;
	m->dec->thread_count = 0;
	return 0;
}

media_err lmd_media_open(const char *url, const lmd_media_opts *o, lmd_media **out)
{
	char b[128];
	int ret;
	if (!out)
		return media_seterr(MEDIA_ERR_ARG, "media: NULL output pointer");
	*out = NULL;
	if (!url || !*url)
		return media_seterr(MEDIA_ERR_ARG, "media: empty URL");
	if (!o || (o->channels != 1 && o->channels != 3))
		return media_seterr(MEDIA_ERR_ARG, "%s: channels must be 1 or 3", url);
	if (o->width < 0 || o->height < 0 || (!o->width) != (!o->height) ||
	    o->width > 16384 || o->height > 16384)
		return media_seterr(MEDIA_ERR_ARG, "%s: bad output size %dx%d", url, o->width, o->height);
	pthread_once(&init_once, global_init);

	lmd_media *m = calloc(1, sizeof *m);
	if (!m)
		return media_seterr(MEDIA_ERR_NOMEM, "media: out of memory");
	m->url = strdup(url);
	m->vstream = -1;
	m->channels = o->channels;
	m->out_w = o->width;
	m->out_h = o->height;
	m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	m->stop = o->stop;
	m->pkt = av_packet_alloc();
	m->frame = av_frame_alloc();
	m->swframe = av_frame_alloc();
	m->last = av_frame_alloc();
	m->fmt = avformat_alloc_context();
	if (!m->url || !m->pkt || !m->frame || !m->swframe || !m->last || !m->fmt) {
		lmd_media_close(&m);
		return media_seterr(MEDIA_ERR_NOMEM, "media: out of memory");
	}
	m->fmt->interrupt_callback.callback = interrupt_cb;
	m->fmt->interrupt_callback.opaque = m;

	/* Input format and protocol options. */
	const AVInputFormat *ifmt = NULL;
	const char *path = url;
	AVDictionary *opts = NULL;
	if (!strncmp(url, "/dev/video", 10)) {
		ifmt = av_find_input_format("v4l2");
	} else if (!strncmp(url, "v4l2:", 5)) {
		ifmt = av_find_input_format("v4l2");
		path = url + 5;
	} else if (!strncmp(url, "lavfi:", 6)) {
		ifmt = av_find_input_format("lavfi");
		path = url + 6;
	}
	if ((path != url || !strncmp(url, "/dev/video", 10)) && !ifmt) {
		media_seterr(MEDIA_ERR_UNSUPPORTED, "%s: this FFmpeg has no input device for it", url);
		lmd_media_close(&m);
		return MEDIA_ERR_UNSUPPORTED;
	}
	if (!strncmp(url, "rtsp://", 7) || !strncmp(url, "rtsps://", 8))
		av_dict_set(&opts, "rtsp_transport", "tcp", 0);

	arm(m);
	ret = avformat_open_input(&m->fmt, path, ifmt, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		/* avformat_open_input freed the context */
		media_err e;
		if (m->interrupted)
			e = io_fail(m, "open", ret);
		else if (ret == AVERROR(ENOENT))
			e = media_seterr(MEDIA_ERR_IO, "%s: no such file", url);
		else if (ret == AVERROR_INVALIDDATA)
			e = media_seterr(MEDIA_ERR_FORMAT, "%s: not a recognised media file", url);
		else
			e = media_seterr(MEDIA_ERR_IO, "%s: cannot open: %s", url, averr(ret, b, sizeof b));
		lmd_media_close(&m);
		return e;
	}
	/* Probing a live source reads its packets for up to max_analyze_duration
	 * (FFmpeg's default 5 s); it must finish well inside the I/O timeout,
	 * or the interrupt would cut it short and leave the demuxer mid-packet. */
	/* RTSP gets its codec parameters from the SDP: 1 s is plenty. The
	 * deadline covers the analysis on top of the I/O timeout. */
	int64_t analyze = (int64_t)m->timeout_ms * 1000 / 2;
	int64_t cap = !strncmp(url, "rtsp", 4) ? 1000000 : 5000000;
	if (analyze > cap)
		analyze = cap;
	m->fmt->max_analyze_duration = analyze;
	arm(m);
	m->deadline_us += analyze;
	ret = avformat_find_stream_info(m->fmt, NULL);
	if (ret >= 0 && m->interrupted)
		ret = AVERROR_EXIT;   /* probing was cut short: do not trust it */
	if (ret < 0) {
		media_err e = m->interrupted ? io_fail(m, "probe", ret)
			: media_seterr(MEDIA_ERR_FORMAT, "%s: cannot read stream info: %s", url,
			             averr(ret, b, sizeof b));
		lmd_media_close(&m);
		return e;
	}
	m->deadline_us = 0;

	const AVCodec *codec = NULL;
	ret = av_find_best_stream(m->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (ret < 0 || !codec) {
		media_seterr(MEDIA_ERR_FORMAT, "%s: %s", url,
		           ret == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video codec"
		                                            : "no video stream");
		lmd_media_close(&m);
		return MEDIA_ERR_FORMAT;
	}
	m->vstream = ret;
	for (unsigned i = 0; i < m->fmt->nb_streams; i++)
		if ((int)i != m->vstream)
			m->fmt->streams[i]->discard = AVDISCARD_ALL;
	AVStream *st = m->fmt->streams[m->vstream];
	m->tb = st->time_base;
	AVRational fr = av_guess_frame_rate(m->fmt, st, NULL);
	m->fps = (fr.num > 0 && fr.den > 0) ? av_q2d(fr) : 0;
	if (m->fps > 1000) {   /* an RTP clock rate (90 kHz) is not a frame rate */
		AVRational a = st->avg_frame_rate;
		m->fps = (a.num > 0 && a.den > 0 && av_q2d(a) <= 1000) ? av_q2d(a) : 0;
	}

	if (dec_alloc(m, codec, st)) {
		lmd_media_close(&m);
		return media_seterr(MEDIA_ERR_NOMEM, "%s: cannot set up decoder", url);
	}
	hw_setup(m, codec, o->hwaccel);
	if (m->hw_device) {
		m->dec->hw_device_ctx = av_buffer_ref(m->hw_device);
		m->dec->get_format = get_format;
	}
	ret = avcodec_open2(m->dec, codec, NULL);
	if (ret < 0 && m->hw_device) {
		/* hardware open failed: retry in software */
		avcodec_free_context(&m->dec);
		av_buffer_unref(&m->hw_device);
		m->hw_pix_fmt = AV_PIX_FMT_NONE;
		snprintf(m->hw_name, sizeof m->hw_name, "none");
		if (dec_alloc(m, codec, st)) {
			lmd_media_close(&m);
			return media_seterr(MEDIA_ERR_NOMEM, "%s: cannot set up decoder", url);
		}
		ret = avcodec_open2(m->dec, codec, NULL);
	}
	if (ret < 0) {
		media_seterr(MEDIA_ERR_UNSUPPORTED, "%s: cannot open %s decoder: %s", url, codec->name,
		           averr(ret, b, sizeof b));
		lmd_media_close(&m);
		return MEDIA_ERR_UNSUPPORTED;
	}
	if (!m->out_w) {
		m->out_w = st->codecpar->width;
		m->out_h = st->codecpar->height;
	}
	*out = m;
	return MEDIA_OK;
}

void lmd_media_close(lmd_media **pm)
{
	if (!pm || !*pm)
		return;
	lmd_media *m = *pm;
	avcodec_free_context(&m->dec);
	av_buffer_unref(&m->hw_device);
	if (m->fmt)
		avformat_close_input(&m->fmt);
	av_packet_free(&m->pkt);
	av_frame_free(&m->frame);
	av_frame_free(&m->swframe);
	av_frame_free(&m->last);
	sws_freeContext(m->sws);
	av_free(m->sbuf);
	free(m->u8);
	free(m->url);
	free(m);
	*pm = NULL;
}

/* ---- conversion ----------------------------------------------------------- */

int lmd_media_dejpeg(int f, int *full)
{
	switch (f) {
	case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
	default: return f;
	}
}

static media_err convert(lmd_media *m, const AVFrame *f)
{
	int w = m->out_w, h = m->out_h, ch = m->channels;
	if (!w || !h) {           /* size unknown at open: take the first frame's */
		m->out_w = w = f->width;
		m->out_h = h = f->height;
	}
	if (!m->sbuf) {
		m->sstride = FFALIGN(w * ch, 64);
		m->sbuf = av_malloc((size_t)m->sstride * h + 64);
		m->u8 = malloc((size_t)w * h * ch);
		if (!m->sbuf || !m->u8)
			return media_seterr(MEDIA_ERR_NOMEM, "%s: out of memory", m->url);
	}
	int full = f->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat src = lmd_media_dejpeg(f->format, &full);
	enum AVPixelFormat dst = ch == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
	/* bilinear, as train/data.py scales training frames (ffmpeg -vf
	 * scale=flags=bilinear): the model must see frames resampled the same
	 * way in training and in service, or the resampling itself shifts scores */
	int flags = SWS_BILINEAR;
	m->sws = sws_getCachedContext(m->sws, f->width, f->height, src, w, h, dst,
	                              flags | SWS_ACCURATE_RND, NULL, NULL, NULL);
	if (!m->sws)
		return media_seterr(MEDIA_ERR_UNSUPPORTED, "%s: cannot convert %s %dx%d to %dx%d",
		                  m->url, av_get_pix_fmt_name(f->format), f->width, f->height, w, h);
	/* source range as signalled; output always full range */
	int *inv, *tab, sr, dr, bri, con, sat;
	if (sws_getColorspaceDetails(m->sws, &inv, &sr, &tab, &dr, &bri, &con, &sat) >= 0) {
		const int *coefs = sws_getCoefficients(f->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709
		                                                                      : SWS_CS_DEFAULT);
		sws_setColorspaceDetails(m->sws, coefs, full, tab, 1, bri, con, sat);
	}
	uint8_t *dd[4] = { m->sbuf, NULL, NULL, NULL };
	int ds[4] = { m->sstride, 0, 0, 0 };
	if (sws_scale(m->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dd, ds) != h)
		return media_seterr(MEDIA_ERR_FORMAT, "%s: scaling failed", m->url);
	for (int y = 0; y < h; y++)
		memcpy(m->u8 + (size_t)y * w * ch, m->sbuf + (size_t)y * m->sstride, (size_t)w * ch);
	m->have_u8 = 1;
	return MEDIA_OK;
}

static void to_float(const lmd_media *m, float *dst)
{
	const int w = m->out_w, h = m->out_h, ch = m->channels;
	const size_t hw = (size_t)w * h;
	const float k = 1.0f / 255.0f;
	if (ch == 1) {
		for (size_t i = 0; i < hw; i++)
			dst[i] = m->u8[i] * k;
	} else {
		for (size_t i = 0; i < hw; i++) {
			dst[i] = m->u8[3 * i] * k;
			dst[hw + i] = m->u8[3 * i + 1] * k;
			dst[2 * hw + i] = m->u8[3 * i + 2] * k;
		}
	}
}

media_err lmd_media_convert(lmd_media *m, float *dst)
{
	if (!m || !dst)
		return media_seterr(MEDIA_ERR_ARG, "media: NULL argument");
	if (!m->have_last)
		return media_seterr(MEDIA_ERR_ARG, "%s: no frame decoded yet", m->url);
	media_err e = convert(m, m->last);
	if (e)
		return e;
	to_float(m, dst);
	return MEDIA_OK;
}

/* ---- reading ------------------------------------------------------------- */

/* A decoded frame: move to system memory, check it, keep it. 1 = good. */
static int accept_frame(lmd_media *m)
{
	AVFrame *f = m->frame;
	if ((f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags) {
		m->corrupt++;
		av_frame_unref(f);
		return 0;
	}
	if (m->hw_pix_fmt != AV_PIX_FMT_NONE && f->format == m->hw_pix_fmt) {
		av_frame_unref(m->swframe);
		if (av_hwframe_transfer_data(m->swframe, f, 0) < 0) {
			m->corrupt++;
			av_frame_unref(f);
			return 0;
		}
		av_frame_copy_props(m->swframe, f);
		av_frame_unref(f);
		f = m->swframe;
	}
	if (f->width <= 0 || f->height <= 0 || f->format < 0) {
		m->corrupt++;
		av_frame_unref(f);
		return 0;
	}
	av_frame_unref(m->last);
	av_frame_move_ref(m->last, f);
	m->have_last = 1;
	return 1;
}

media_err lmd_media_read(lmd_media *m, float *dst, lmd_frame_info *info)
{
	char b[128];
	int ret, errors = 0;
	if (!m)
		return media_seterr(MEDIA_ERR_ARG, "media: NULL source");
	if (m->eof)
		return media_seterr(MEDIA_END, "end of stream");
	for (;;) {
		ret = avcodec_receive_frame(m->dec, m->frame);
		if (ret == 0) {
			if (!accept_frame(m))
				continue;
			break;
		}
		if (ret == AVERROR_EOF) {
			m->eof = 1;
			return media_seterr(MEDIA_END, "end of stream");
		}
		if (ret != AVERROR(EAGAIN)) {
			m->corrupt++;
			if (m->flushing && ++errors > MAX_CONSECUTIVE_ERRORS) {
				m->eof = 1;
				return media_seterr(MEDIA_END, "end of stream");
			}
			continue;
		}
		if (m->flushing) {  /* drained */
			m->eof = 1;
			return media_seterr(MEDIA_END, "end of stream");
		}
		arm(m);
		ret = av_read_frame(m->fmt, m->pkt);
		m->deadline_us = 0;
		if (ret == AVERROR_EOF || (ret < 0 && m->fmt->pb && avio_feof(m->fmt->pb) &&
		                          !m->interrupted && ret != AVERROR(EAGAIN))) {
			m->flushing = 1;
			avcodec_send_packet(m->dec, NULL);
			continue;
		}
		if (ret == AVERROR(EAGAIN)) {      /* non-blocking devices */
			if (m->stop && atomic_load(m->stop))
				return media_seterr(MEDIA_ERR_IO, "%s: read: stopped", m->url);
			usleep(2000);
			continue;
		}
		if (ret < 0) {
			if (m->interrupted || ret == AVERROR_EXIT)
				return io_fail(m, "read", ret);
			if (ret == AVERROR_INVALIDDATA && ++errors <= MAX_CONSECUTIVE_ERRORS) {
				m->corrupt++;
				continue;
			}
			return media_seterr(MEDIA_ERR_IO, "%s: read: %s", m->url, averr(ret, b, sizeof b));
		}
		if (m->pkt->stream_index != m->vstream) {
			av_packet_unref(m->pkt);
			continue;
		}
		if (m->pkt->flags & AV_PKT_FLAG_CORRUPT) {
			m->corrupt++;
			av_packet_unref(m->pkt);
			continue;
		}
		ret = avcodec_send_packet(m->dec, m->pkt);
		av_packet_unref(m->pkt);
		if (ret < 0 && ret != AVERROR(EAGAIN)) {
			m->corrupt++;
			if (++errors > MAX_CONSECUTIVE_ERRORS)
				return media_seterr(MEDIA_ERR_IO, "%s: decoder keeps failing: %s", m->url,
				                  averr(ret, b, sizeof b));
		}
	}

	/* m->last holds the new frame */
	const AVFrame *f = m->last;
	if (info) {
		int64_t ts = f->best_effort_timestamp;
		if (ts == AV_NOPTS_VALUE)
			ts = f->pts;
		info->pts_us = ts == AV_NOPTS_VALUE ? INT64_MIN
			: av_rescale_q(ts, m->tb, (AVRational){ 1, 1000000 });
		info->index = m->index;
		info->src_width = f->width;
		info->src_height = f->height;
	}
	m->index++;
	if (dst) {
		media_err e = convert(m, f);
		if (e)
			return e;
		to_float(m, dst);
	}
	return MEDIA_OK;
}

/* ---- accessors ------------------------------------------------------------ */

const uint8_t *lmd_media_last_u8(const lmd_media *m)
{
	return m && m->have_u8 ? m->u8 : NULL;
}

const struct AVFrame *lmd_media_last_frame(const lmd_media *m)
{
	return m && m->have_last ? m->last : NULL;
}

int lmd_media_width(const lmd_media *m) { return m ? m->out_w : 0; }
int lmd_media_height(const lmd_media *m) { return m ? m->out_h : 0; }
double lmd_media_fps(const lmd_media *m) { return m ? m->fps : 0; }
int64_t lmd_media_corrupt(const lmd_media *m) { return m ? m->corrupt : 0; }
int lmd_media_at_eof(const lmd_media *m) { return m ? m->eof : 0; }
const char *lmd_media_hwaccel(const lmd_media *m) { return m ? m->hw_name : "none"; }

int lmd_media_is_live(const char *url)
{
	if (!url)
		return 0;
	if (!strncmp(url, "lavfi:", 6) || !strncmp(url, "file:", 5))
		return 0;
	if (!strncmp(url, "/dev/", 5) || !strncmp(url, "v4l2:", 5))
		return 1;
	return strstr(url, "://") != NULL;
}

void lmd_media_redact_url(const char *url, char *out, size_t n)
{
	const char *scheme = strstr(url, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	if (!scheme || !at || (slash && slash < at)) {
		snprintf(out, n, "%s", url);
		return;
	}
	const char *colon = memchr(scheme + 3, ':', at - (scheme + 3));
	if (!colon) {
		snprintf(out, n, "%s", url);
		return;
	}
	snprintf(out, n, "%.*s:***%s", (int)(colon - url), url, at);
}
