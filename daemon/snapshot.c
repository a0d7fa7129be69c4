/*
 * snapshot.c — JPEG snapshots and PNG heat-maps (see snapshot.h).
 *
 * Facts behind the design:
 *  - FFmpeg's mjpeg encoder takes full-range YUV 4:2:0 (yuvj420p); the
 *    source frame is converted (and shrunk to max_width) by libswscale with
 *    its signalled colour range, so snapshots look like the camera image.
 *  - Boxes are drawn into the YUV planes directly (red: Y 76, U 84, V 255),
 *    2 pixels wide, so no extra RGB round trip is needed.
 *  - Quality is a fixed qscale (AV_CODEC_FLAG_QSCALE), not a bitrate: every
 *    snapshot gets the same visual quality whatever its content.
 *  - The heat-map uses the "hot" colour map (black-red-yellow-white), which
 *    stays readable in grey print; vmax is set by the caller (publish.c uses
 *    2x the pixel threshold, so the threshold sits in the red band).
 */
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "media.h"
#include "snapshot.h"

struct snap_enc {
	int quality, max_width;
	AVCodecContext *jpeg;
	int jw, jh;
	AVCodecContext *png;
	int pw, ph;
	struct SwsContext *sws;
	AVFrame *yuv, *rgb;
	AVPacket *pkt;
	int64_t pts;         /* encoders want increasing pts */
};

snap_enc *snap_enc_new(int quality, int max_width)
{
	snap_enc *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->quality = quality < 2 ? 2 : quality > 31 ? 31 : quality;
	e->max_width = max_width;
	e->yuv = av_frame_alloc();
	e->rgb = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (!e->yuv || !e->rgb || !e->pkt)
		snap_enc_destroy(&e);
	return e;
}

void snap_enc_destroy(snap_enc **pe)
{
	if (!pe || !*pe)
		return;
	snap_enc *e = *pe;
	avcodec_free_context(&e->jpeg);
	avcodec_free_context(&e->png);
	sws_freeContext(e->sws);
	av_frame_free(&e->yuv);
	av_frame_free(&e->rgb);
	av_packet_free(&e->pkt);
	free(e);
	*pe = NULL;
}

static AVCodecContext *open_enc(const char *name, int w, int h, enum AVPixelFormat fmt, int q)
{
	const AVCodec *c = avcodec_find_encoder_by_name(name);
	if (!c)
		return NULL;
	AVCodecContext *x = avcodec_alloc_context3(c);
	if (!x)
		return NULL;
	x->width = w;
	x->height = h;
	x->pix_fmt = fmt;
	x->time_base = (AVRational){ 1, 25 };
	x->color_range = AVCOL_RANGE_JPEG;
	x->thread_count = 1;
	if (q > 0) {
		x->flags |= AV_CODEC_FLAG_QSCALE;
		x->global_quality = FF_QP2LAMBDA * q;
	}
	if (avcodec_open2(x, c, NULL) < 0)
		avcodec_free_context(&x);
	return x;
}

static int encode(snap_enc *e, AVCodecContext *c, AVFrame *f, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (avcodec_send_frame(c, f) < 0)
		return -1;
	int r = avcodec_receive_packet(c, e->pkt);
	if (r < 0)
		return -1;
	*out = malloc(e->pkt->size);
	if (*out) {
		memcpy(*out, e->pkt->data, e->pkt->size);
		*len = e->pkt->size;
	}
	av_packet_unref(e->pkt);
	return *out ? 0 : -1;
}

static void box(AVFrame *f, int x0, int y0, int x1, int y1)
{
	const int t = 2;
	if (x1 > f->width) x1 = f->width;
	if (y1 > f->height) y1 = f->height;
	if (x0 < 0) x0 = 0;
	if (y0 < 0) y0 = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			if (x >= x0 + t && x < x1 - t && y >= y0 + t && y < y1 - t)
				continue;
			f->data[0][(size_t)y * f->linesize[0] + x] = 76;
			f->data[1][(size_t)(y / 2) * f->linesize[1] + x / 2] = 84;
			f->data[2][(size_t)(y / 2) * f->linesize[2] + x / 2] = 255;
		}
}

int snap_jpeg(snap_enc *e, const AVFrame *src, const ev_region *r, int nr, uint8_t **out,
              size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!src || src->width <= 0 || src->height <= 0)
		return -1;
	int w = src->width, h = src->height;
	if (e->max_width > 0 && w > e->max_width) {
		h = (int)((double)h * e->max_width / w + 0.5);
		w = e->max_width;
	}
	w &= ~1;
	h &= ~1;
	if (w < 2 || h < 2)
		return -1;
	if (!e->jpeg || e->jw != w || e->jh != h) {
		avcodec_free_context(&e->jpeg);
		e->jpeg = open_enc("mjpeg", w, h, AV_PIX_FMT_YUVJ420P, e->quality);
		if (!e->jpeg)
			return -1;
		e->jw = w;
		e->jh = h;
	}
	av_frame_unref(e->yuv);
	e->yuv->format = AV_PIX_FMT_YUVJ420P;
	e->yuv->width = w;
	e->yuv->height = h;
	e->yuv->color_range = AVCOL_RANGE_JPEG;
	if (av_frame_get_buffer(e->yuv, 0) < 0)
		return -1;
	int full = src->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat sf = lmd_media_dejpeg(src->format, &full);
	e->sws = sws_getCachedContext(e->sws, src->width, src->height, sf, w, h, AV_PIX_FMT_YUV420P,
	                              SWS_BICUBIC, NULL, NULL, NULL);
	if (!e->sws)
		return -1;
	int *inv, *tab, sr, dr, bri, con, sat;
	if (sws_getColorspaceDetails(e->sws, &inv, &sr, &tab, &dr, &bri, &con, &sat) >= 0)
		sws_setColorspaceDetails(e->sws, inv, full, tab, 1, bri, con, sat);
	sws_scale(e->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
	          e->yuv->data, e->yuv->linesize);
	double sx = (double)w / src->width, sy = (double)h / src->height;
	for (int i = 0; i < nr; i++)
		box(e->yuv, (int)(r[i].x * sx), (int)(r[i].y * sy), (int)((r[i].x + r[i].w) * sx + 0.5),
		    (int)((r[i].y + r[i].h) * sy + 0.5));
	e->yuv->quality = FF_QP2LAMBDA * e->quality;
	e->yuv->pts = e->pts++;
	return encode(e, e->jpeg, e->yuv, out, len);
}

int snap_heatmap_png(snap_enc *e, const float *map, int w, int h, double vmax, uint8_t **out,
                     size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!map || w <= 0 || h <= 0)
		return -1;
	if (!e->png || e->pw != w || e->ph != h) {
		avcodec_free_context(&e->png);
		e->png = open_enc("png", w, h, AV_PIX_FMT_RGB24, 0);
		if (!e->png)
			return -1;
		e->pw = w;
		e->ph = h;
	}
	av_frame_unref(e->rgb);
	e->rgb->format = AV_PIX_FMT_RGB24;
	e->rgb->width = w;
	e->rgb->height = h;
	if (av_frame_get_buffer(e->rgb, 0) < 0)
		return -1;
	double k = vmax > 0 ? 1.0 / vmax : 0;
	for (int y = 0; y < h; y++) {
		uint8_t *row = e->rgb->data[0] + (size_t)y * e->rgb->linesize[0];
		for (int x = 0; x < w; x++) {
			double v = map[(size_t)y * w + x] * k;
			if (!(v > 0))      /* also NaN */
				v = 0;
			else if (v > 1)
				v = 1;
			double rr = 3 * v, gg = 3 * v - 1, bb = 3 * v - 2;
			row[3 * x] = (uint8_t)(255 * (rr > 1 ? 1 : rr));
			row[3 * x + 1] = (uint8_t)(255 * (gg < 0 ? 0 : gg > 1 ? 1 : gg));
			row[3 * x + 2] = (uint8_t)(255 * (bb < 0 ? 0 : bb > 1 ? 1 : bb));
		}
	}
	e->rgb->pts = e->pts++;
	return encode(e, e->png, e->rgb, out, len);
}
