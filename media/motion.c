/*
 * motion.c — per-frame speed from libavfilter's mestimate (see motion.h).
 *
 * mestimate matches luma only (plane 0); the scale filter in front of it
 * doubles the frame and converts it to gray in one libswscale pass, whatever
 * it came as (RGB, NV12, ...; yuvj* passed as the plain format, flagged
 * full range, as media.c does). The graph is built for the first frame's size
 * and pixel format and rebuilt when either changes (a camera renegotiating, a
 * stream switching). Frames get consecutive pts of our own: mestimate passes
 * frames without a pts through unmeasured, and the source's own timestamps
 * may be missing or jump.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/frame.h>
#include <libavutil/motion_vector.h>
#include <libavutil/opt.h>

#include "merr.h"
#include "media.h"
#include "motion.h"

struct lmd_motion {
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	AVFrame *out;
	int w, h, fmt;          /* what the graph was built for */
	int64_t pts;            /* frames pushed into this graph */
	float *grid;            /* (h/8) x (w/8) vector lengths */
};

static void graph_free(lmd_motion *m)
{
	avfilter_graph_free(&m->graph);
	m->src = m->sink = NULL;
	free(m->grid);
	m->grid = NULL;
	m->pts = 0;
}

static media_err fferr(int r, const char *what)
{
	char b[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(r, b, sizeof b);
	return media_seterr(r == AVERROR(ENOMEM) ? MEDIA_ERR_NOMEM : MEDIA_ERR_FORMAT, "motion: %s: %s", what, b);
}

static media_err graph_build(lmd_motion *m, const AVFrame *f)
{
	char args[256];
	AVFilterContext *sc = NULL, *me = NULL;
	int r;
	graph_free(m);
	m->grid = calloc((size_t)(f->width / LMD_MOTION_BLOCK) * (size_t)(f->height / LMD_MOTION_BLOCK), sizeof(float));
	if (!m->grid || !(m->graph = avfilter_graph_alloc()))
		return media_seterr(MEDIA_ERR_NOMEM, "motion: out of memory");
	m->graph->nb_threads = 1; /* one stream, one thread: the engine owns the cores */
	int full = 0;
	snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=1/1:pixel_aspect=1/1", f->width, f->height,
	         lmd_media_dejpeg(f->format, &full));
	if ((r = avfilter_graph_create_filter(&m->src, avfilter_get_by_name("buffer"), "in", args, NULL, m->graph)) < 0)
		return fferr(r, "buffer source");
	if (!avfilter_get_by_name("mestimate"))
		return media_seterr(MEDIA_ERR_UNSUPPORTED, "motion: this FFmpeg's libavfilter has no mestimate filter");
	snprintf(args, sizeof args, "w=%d:h=%d:flags=bicubic", f->width * LMD_MOTION_UPSCALE,
	         f->height * LMD_MOTION_UPSCALE);
	if ((r = avfilter_graph_create_filter(&sc, avfilter_get_by_name("scale"), "up", args, NULL, m->graph)) < 0)
		return fferr(r, "scale filter");
	snprintf(args, sizeof args, "method=epzs:mb_size=%d:search_param=%d", LMD_MOTION_BLOCK * LMD_MOTION_UPSCALE,
	         LMD_MOTION_RANGE * LMD_MOTION_UPSCALE);
	if ((r = avfilter_graph_create_filter(&me, avfilter_get_by_name("mestimate"), "me", args, NULL, m->graph)) < 0)
		return fferr(r, "mestimate filter");
	if ((r = avfilter_graph_create_filter(&m->sink, avfilter_get_by_name("buffersink"), "out", NULL, NULL,
	                                      m->graph)) < 0)
		return fferr(r, "buffer sink");
	enum AVPixelFormat gray[] = { AV_PIX_FMT_GRAY8, AV_PIX_FMT_NONE };
	if ((r = av_opt_set_int_list(m->sink, "pix_fmts", gray, AV_PIX_FMT_NONE, AV_OPT_SEARCH_CHILDREN)) < 0)
		return fferr(r, "buffer sink format");
	if ((r = avfilter_link(m->src, 0, sc, 0)) < 0 || (r = avfilter_link(sc, 0, me, 0)) < 0 ||
	    (r = avfilter_link(me, 0, m->sink, 0)) < 0)
		return fferr(r, "linking the graph");
	if ((r = avfilter_graph_config(m->graph, NULL)) < 0)
		return fferr(r, "configuring the graph");
	m->w = f->width;
	m->h = f->height;
	m->fmt = f->format;
	return MEDIA_OK;
}

media_err lmd_motion_new(lmd_motion **out)
{
	*out = NULL;
	lmd_motion *m = calloc(1, sizeof *m);
	if (!m || !(m->out = av_frame_alloc())) {
		free(m);
		return media_seterr(MEDIA_ERR_NOMEM, "motion: out of memory");
	}
	m->w = m->h = m->fmt = -1;
	*out = m;
	return MEDIA_OK;
}

static int reflect(int i, int n)
{
	while (i < 0 || i >= n)
		i = i < 0 ? -i - 1 : 2 * n - i - 1;
	return i;
}

float lmd_motion_boxmax(const float *grid, int gh, int gw, int box)
{
	assert(gh > 0 && gw > 0 && box > 0);
	int lo = -(box / 2), hi = lo + box; /* window [y+lo, y+hi), centred as OpenCV's blur */
	float best = 0;
	for (int y = 0; y < gh; y++)
		for (int x = 0; x < gw; x++) {
			double s = 0;
			for (int dy = lo; dy < hi; dy++)
				for (int dx = lo; dx < hi; dx++)
					s += grid[(size_t)reflect(y + dy, gh) * gw + reflect(x + dx, gw)];
			float v = (float)(s / (box * box));
			if (v > best)
				best = v;
		}
	return best;
}

/* The speed from one mestimate output frame's vectors against the next frame. */
static media_err speed_of(lmd_motion *m, const AVFrame *o, float *speed)
{
	const AVFrameSideData *sd = av_frame_get_side_data(o, AV_FRAME_DATA_MOTION_VECTORS);
	const int blk = LMD_MOTION_BLOCK * LMD_MOTION_UPSCALE, half = blk / 2;
	int gw = m->w / LMD_MOTION_BLOCK, gh = m->h / LMD_MOTION_BLOCK;
	if (!sd)
		return media_seterr(MEDIA_ERR_FORMAT, "motion: mestimate returned a frame without motion vectors");
	const AVMotionVector *v = (const AVMotionVector *)sd->data;
	size_t n = sd->size / sizeof *v, got = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].source != 1)
			continue;
		int bx = (v[i].dst_x - half) / blk, by = (v[i].dst_y - half) / blk;
		if (bx < 0 || by < 0 || bx >= gw || by >= gh)
			return media_seterr(MEDIA_ERR_FORMAT, "motion: vector at (%d,%d) outside the %dx%d frame", v[i].dst_x,
			                  v[i].dst_y, m->w * LMD_MOTION_UPSCALE, m->h * LMD_MOTION_UPSCALE);
		m->grid[(size_t)by * gw + bx] = hypotf((float)(v[i].src_x - v[i].dst_x), (float)(v[i].src_y - v[i].dst_y)) /
		                                LMD_MOTION_UPSCALE; /* source pixels */
		got++;
	}
	if (got != (size_t)gw * gh)
		return media_seterr(MEDIA_ERR_FORMAT, "motion: mestimate gave %zu forward vectors for %d blocks", got, gw * gh);
	*speed = lmd_motion_boxmax(m->grid, gh, gw, LMD_MOTION_BOX);
	return MEDIA_OK;
}

media_err lmd_motion_push(lmd_motion *m, const AVFrame *f, float *speed)
{
	assert(m && f && speed);
	*speed = -1;
	if (f->width < LMD_MOTION_BLOCK || f->height < LMD_MOTION_BLOCK)
		return media_seterr(MEDIA_ERR_ARG, "motion: frame %dx%d is smaller than one %dx%d block", f->width,
		                  f->height, LMD_MOTION_BLOCK, LMD_MOTION_BLOCK);
	media_err e;
	if ((f->width != m->w || f->height != m->h || f->format != m->fmt || !m->graph) && (e = graph_build(m, f))) {
		graph_free(m);
		m->w = m->h = m->fmt = -1;
		return e;
	}
	AVFrame *in = av_frame_clone(f);
	if (!in)
		return media_seterr(MEDIA_ERR_NOMEM, "motion: out of memory");
	int full = in->color_range == AVCOL_RANGE_JPEG;
	in->format = lmd_media_dejpeg(in->format, &full); /* same layout; libswscale warns about yuvj* */
	in->color_range = full ? AVCOL_RANGE_JPEG : in->color_range;
	in->pts = m->pts++;
	int r = av_buffersrc_add_frame(m->src, in); /* takes the reference */
	av_frame_free(&in);
	if (r < 0)
		return fferr(r, "pushing a frame");
	for (;;) {
		r = av_buffersink_get_frame(m->sink, m->out);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			return MEDIA_OK;
		if (r < 0)
			return fferr(r, "reading the estimate");
		e = speed_of(m, m->out, speed);
		av_frame_unref(m->out);
		if (e)
			return e;
	}
}

void lmd_motion_destroy(lmd_motion **pm)
{
	if (!pm || !*pm)
		return;
	lmd_motion *m = *pm;
	graph_free(m);
	av_frame_free(&m->out);
	free(m);
	*pm = NULL;
}
