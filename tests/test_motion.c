/*
 * test_motion.c — media/motion.c: the box maximum against hand-worked grids,
 * and mestimate speeds on synthetic scenes whose motion is known exactly (a
 * textured square sliding over a textured, still background), in gray and
 * in YUV 4:2:0 and RGB; half-pixel speeds (the scene drawn at twice the size
 * and averaged down); first frames, size changes and frames too small.
 */
#include <math.h>
#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>

#include "check.h"
#include "motion.h"

#define W 160
#define H 112
#define SQ 64 /* 8 blocks: a 5x5-block box fits inside the square at any offset */

static uint32_t rng = 12345;
static uint8_t noise(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (uint8_t)(rng >> 24);
}

static uint8_t bg[H][W], fg[SQ][SQ];
static uint8_t bg2[2 * H][2 * W], fg2[2 * SQ][2 * SQ]; /* the same at twice the size */

static void scene_init(void)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			bg[y][x] = noise() / 2; /* darker than the square: no false matches across the edge */
	for (int y = 0; y < SQ; y++)
		for (int x = 0; x < SQ; x++)
			fg[y][x] = 128 + noise() / 2;
	/* at twice the size, each value repeated over 2x2: texture on the scale of
	 * a source pixel, as the camera would see it */
	for (int y = 0; y < 2 * H; y++)
		for (int x = 0; x < 2 * W; x++)
			bg2[y][x] = bg[y / 2][x / 2];
	for (int y = 0; y < 2 * SQ; y++)
		for (int x = 0; x < 2 * SQ; x++)
			fg2[y][x] = fg[y / 2][x / 2];
}

static AVFrame *frame_new(int fmt, int w, int h)
{
	AVFrame *f = av_frame_alloc();
	if (!f)
		return NULL;
	f->format = fmt;
	f->width = w;
	f->height = h;
	if (av_frame_get_buffer(f, 0) < 0) {
		av_frame_free(&f);
		return NULL;
	}
	return f;
}

/* The scene with the square's top-left corner at (x0, y0), as a frame of format fmt. */
static AVFrame *scene(int x0, int y0, int fmt, int w, int h)
{
	AVFrame *f = frame_new(fmt, w, h);
	if (!f)
		return NULL;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int in = x >= x0 && x < x0 + SQ && y >= y0 && y < y0 + SQ;
			uint8_t v = in ? fg[y - y0][x - x0] : bg[y % H][x % W];
			if (fmt == AV_PIX_FMT_RGB24)
				memset(f->data[0] + y * f->linesize[0] + 3 * x, v, 3);
			else
				f->data[0][y * f->linesize[0] + x] = v;
		}
	if (fmt == AV_PIX_FMT_YUV420P)
		for (int p = 1; p < 3; p++)
			for (int y = 0; y < h / 2; y++)
				for (int x = 0; x < w / 2; x++)
					f->data[p][y * f->linesize[p] + x] = 128;
	return f;
}

/* The same kind of scene at half-pixel positions: drawn at twice the size with
 * the square's corner at (x2, y2) doubled pixels, then each 2x2 averaged. */
static AVFrame *scene_half(int x2, int y2)
{
	AVFrame *f = frame_new(AV_PIX_FMT_GRAY8, W, H);
	if (!f)
		return NULL;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			int sum = 0;
			for (int dy = 0; dy < 2; dy++)
				for (int dx = 0; dx < 2; dx++) {
					int u = 2 * x + dx, v = 2 * y + dy;
					int in = u >= x2 && u < x2 + 2 * SQ && v >= y2 && v < y2 + 2 * SQ;
					sum += in ? fg2[v - y2][u - x2] : bg2[v][u];
				}
			f->data[0][y * f->linesize[0] + x] = (uint8_t)((sum + 2) / 4);
		}
	return f;
}

static float push(lmd_motion *m, AVFrame *f)
{
	float s = -2;
	media_err e = lmd_motion_push(m, f, &s);
	CHECK(e == MEDIA_OK, "push: %s", media_errmsg());
	av_frame_free(&f);
	return s;
}

TEST(boxmax_reflects_at_edges)
{
	float g[6 * 7] = { 0 };
	g[0] = 25; /* corner cell: a 5x5 box centred on it sees it 4 times (reflected row and column) */
	float b = lmd_motion_boxmax(g, 6, 7, 5);
	CHECK(fabsf(b - 4.0f) < 1e-6f, "corner: %g, expected 4", b);
	float c[6 * 7] = { 0 };
	c[3 * 7 + 3] = 25; /* inside: seen once */
	b = lmd_motion_boxmax(c, 6, 7, 5);
	CHECK(fabsf(b - 1.0f) < 1e-6f, "inside: %g, expected 1", b);
	float one = 3;
	b = lmd_motion_boxmax(&one, 1, 1, 5); /* a 1x1 grid reflects onto itself */
	CHECK(fabsf(b - 3.0f) < 1e-6f, "1x1: %g, expected 3", b);
	float u[4 * 4];
	for (int i = 0; i < 16; i++)
		u[i] = 2;
	b = lmd_motion_boxmax(u, 4, 4, 3);
	CHECK(fabsf(b - 2.0f) < 1e-6f, "uniform: %g, expected 2", b);
}

/* A square moving v px per frame over a still background scores v (a 5x5-block
 * box fits inside its 6x6 blocks); a still scene scores 0. */
static void slide(int fmt, int v)
{
	lmd_motion *m = NULL;
	REQUIRE(lmd_motion_new(&m) == MEDIA_OK, "new: %s", media_errmsg());
	float s = push(m, scene(16, 24, fmt, W, H));
	CHECK(s == -1, "first frame: %g, expected -1", s);
	for (int k = 1; k <= 6; k++) {
		s = push(m, scene(16 + v * k, 24, fmt, W, H));
		CHECK(fabsf(s - (float)v) <= 0.1f * v, "fmt %d, frame %d: speed %g, expected %d", fmt, k, s, v);
	}
	lmd_motion_destroy(&m);
	CHECK(m == NULL, "destroy nulls the pointer");
}

TEST(sliding_square_gray)
{
	slide(AV_PIX_FMT_GRAY8, 4);
	slide(AV_PIX_FMT_GRAY8, 9);
}

TEST(sliding_square_yuv420)
{
	slide(AV_PIX_FMT_YUV420P, 6);
}

TEST(sliding_square_rgb24)
{
	slide(AV_PIX_FMT_RGB24, 5); /* converted on the way in */
}

/* A square moving 0.5 or 1.5 px per frame: whole-pixel vectors (motion.c
 * before it doubled the frame) read 0.52-0.68 and 1.52-1.68 here, blocks
 * rounding either way; half-pixel ones read 0.50 and 1.50. */
static void slide_half(int v2)
{
	lmd_motion *m = NULL;
	REQUIRE(lmd_motion_new(&m) == MEDIA_OK, "new: %s", media_errmsg());
	float s = push(m, scene_half(32, 48));
	CHECK(s == -1, "first frame: %g, expected -1", s);
	for (int k = 1; k <= 8; k++) {
		s = push(m, scene_half(32 + v2 * k, 48));
		CHECK(fabsf(s - 0.5f * v2) <= 0.05f, "%g px per frame, frame %d: speed %g", 0.5 * v2, k, s);
	}
	lmd_motion_destroy(&m);
}

TEST(half_pixel_speeds)
{
	slide_half(1);
	slide_half(3);
}

TEST(still_scene_is_zero)
{
	lmd_motion *m = NULL;
	REQUIRE(lmd_motion_new(&m) == MEDIA_OK, "new: %s", media_errmsg());
	push(m, scene(40, 20, AV_PIX_FMT_GRAY8, W, H));
	for (int k = 0; k < 3; k++) {
		float s = push(m, scene(40, 20, AV_PIX_FMT_GRAY8, W, H));
		CHECK(s == 0, "still frame %d: speed %g", k, s);
	}
	lmd_motion_destroy(&m);
}

TEST(size_change_starts_over)
{
	lmd_motion *m = NULL;
	REQUIRE(lmd_motion_new(&m) == MEDIA_OK, "new: %s", media_errmsg());
	push(m, scene(16, 24, AV_PIX_FMT_GRAY8, W, H));
	float s = push(m, scene(20, 24, AV_PIX_FMT_GRAY8, W, H));
	CHECK(fabsf(s - 4) <= 0.25f, "before the change: %g", s);
	s = push(m, scene(24, 24, AV_PIX_FMT_GRAY8, W - 32, H));
	CHECK(s == -1, "new size: %g, expected -1 (a first frame)", s);
	s = push(m, scene(30, 24, AV_PIX_FMT_GRAY8, W - 32, H));
	CHECK(fabsf(s - 6) <= 0.25f, "after the change: %g, expected 6", s);
	s = push(m, scene(36, 24, AV_PIX_FMT_YUV420P, W - 32, H));
	CHECK(s == -1, "new pixel format: %g, expected -1", s);
	lmd_motion_destroy(&m);
}

TEST(too_small_frame)
{
	lmd_motion *m = NULL;
	REQUIRE(lmd_motion_new(&m) == MEDIA_OK, "new: %s", media_errmsg());
	AVFrame *f = scene(0, 0, AV_PIX_FMT_GRAY8, 6, 40);
	REQUIRE(f, "frame");
	float s = 0;
	media_err e = lmd_motion_push(m, f, &s);
	CHECK(e == MEDIA_ERR_ARG, "6x40 frame: error %d", e);
	CHECK(strstr(media_errmsg(), "6x40"), "message names the size: %s", media_errmsg());
	CHECK(s == -1, "no speed: %g", s);
	av_frame_free(&f);
	/* the next good frame still works, as a first frame */
	CHECK(push(m, scene(16, 24, AV_PIX_FMT_GRAY8, W, H)) == -1, "first good frame");
	CHECK(fabsf(push(m, scene(20, 24, AV_PIX_FMT_GRAY8, W, H)) - 4) <= 0.25f, "second good frame");
	lmd_motion_destroy(&m);
	lmd_motion_destroy(&m); /* twice is harmless */
}

int main(void)
{
	scene_init();
	RUN(boxmax_reflects_at_edges);
	RUN(sliding_square_gray);
	RUN(sliding_square_yuv420);
	RUN(sliding_square_rgb24);
	RUN(half_pixel_speeds);
	RUN(still_scene_is_zero);
	RUN(size_change_starts_over);
	RUN(too_small_frame);
	CHECK_EXIT();
}
