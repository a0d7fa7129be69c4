/*
 * test_lowp.c — the reduced-precision convolution paths against a float64
 * direct convolution, next to the fp32 paths on the same inputs: the CPU
 * backend's Winograd with bf16 GEMMs (compute/cpu_conv.c, AVX-512 BF16) and
 * the Vulkan backend's fp16 convolutions (shaders/conv2d.glsl, F16).
 * Also the engine option that selects them (lmd.h, lmd_precision).
 * `test_lowp --perf` instead times fp32 against bf16 per convolution shape.
 *
 * Design facts:
 *  - The error measure is tests/test_ops.c's: normalised MSE over the whole
 *    output buffer, nmse = sum((y - ref)^2) / sum(ref^2) in double, the
 *    output poisoned with NaN first (an unwritten element fails).
 *  - Each path is forced with LMDD_CPU_CONV (cpu_conv.h) and recognised by
 *    the backend's device string; a path this CPU cannot run (no AVX-512
 *    BF16) is reported as SKIP, never as PASS.
 *  - Bounds. bf16 keeps 8 significant bits: rounding V and U (the
 *    transformed input and weights) each adds a relative error of at most
 *    2^-9, uniform-ish, so a product's relative error has variance about
 *    2 (2^-9)^2 / 3 = 2.5e-6; products are exact in fp32 and summed in fp32,
 *    so a direct sum would show nmse ~2.5e-6. Winograd's output transform
 *    (coefficients up to 8 in F(4,3)'s A^T, and G's 1/4 .. 1/24) weights
 *    those errors unevenly, and its output transform cancels: measured on
 *    the shapes below, F(4,3) bf16 gives nmse 1.1e-4 .. 4.0e-4 (a float64
 *    emulation of one 64-channel conv on uniform inputs, bf16 V and U:
 *    6.1e-4, half of it from each operand) and F(2,3) bf16 up to 1.4e-5. The
 *    bounds, NMSE_BF16_F4 = 1e-3 and NMSE_BF16_F2 = 5e-5, are ~2.5x the worst
 *    seen; the fp32 paths keep test_ops.c's 1e-10. Convolutions the bf16
 *    path does not touch (1x1, stride 2, fewer than 8 input channels) must
 *    stay within 1e-10. What that error does to LMD scores: see
 *    tests/test_lowp_score.sh.
 *  - Vulkan fp16 (LMDD_VK_FP16=1, shaders/conv2d.glsl): fp16 keeps 11
 *    significant bits (u = 2^-11); operands, products and the 8-term
 *    partial sums each round, ~5 roundings of variance u^2/3 = 8e-8:
 *    ~4e-7 expected, 1.9e-7 measured on lavapipe. Bound NMSE_FP16 = 1e-6,
 *    every shape (the F16 shader computes every convolution); the fp32
 *    fallback (LMDD_VK_FP16=0) within 1e-10. Skipped without a Vulkan
 *    device (or with LMDD_NO_VULKAN=1), fp16 also without shaderFloat16.
 *  - Shapes as in test_ops.c: odd sizes, channel counts off every multiple
 *    of 16, batch 1..3, channel slices, fused upsample, residual on/off,
 *    odd input channel counts (the bf16 GEMM pairs input channels).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "rnd.h"
#include "backend.h"
#include "vk_backend.h"

#define NMSE_FP32 1e-10
#define NMSE_BF16_F4 1e-3
#define NMSE_BF16_F2 5e-5
#define NMSE_FP16 1e-6

/* A CPU backend with LMDD_CPU_CONV=path; NULL (and *why set) when its
 * device string does not name want, i.e. this CPU cannot run the path */
static lmd_be *backend(const char *path, const char *want, char *why, size_t nwhy)
{
	lmd_be *be = NULL;
	setenv("LMDD_CPU_CONV", path, 1);
	lmd_err e = lmd_cpu_backend_new(&be);
	unsetenv("LMDD_CPU_CONV");
	if (e) {
		snprintf(why, nwhy, "cpu backend: %s", lmd_errmsg());
		return NULL;
	}
	if (!strstr(be->ops->device(be), want)) {
		snprintf(why, nwhy, "LMDD_CPU_CONV=%s gives \"%s\": this CPU lacks %s", path, be->ops->device(be), want);
		be->ops->destroy(be);
		return NULL;
	}
	return be;
}

/* One convolution's operands (host), its float64 reference and shape */
typedef struct {
	int n, cin, h, w, cout, k, stride, up, xcs, xco, ycs, yco, res, bias;
	size_t nx, ny, nw, nr;
	float *x, *wt, *b, *r;
	double *ref;   /* ny: the output buffer as it should be after the op */
	float *y0;     /* ny: the output buffer's contents before the op */
} conv;

static void conv_make(conv *c)
{
	int lh = c->h << c->up, lw = c->w << c->up;
	int oh = (lh + c->stride - 1) / c->stride, ow = (lw + c->stride - 1) / c->stride;
	size_t ohw = (size_t)oh * ow, ihw = (size_t)c->h * c->w;
	c->nx = (size_t)c->n * c->xcs * ihw;
	c->ny = (size_t)c->n * c->ycs * ohw;
	c->nw = (size_t)c->cout * c->cin * c->k * c->k;
	c->nr = (size_t)c->n * c->cout * ohw;
	c->x = fvec(c->nx, 1);
	c->wt = fvec(c->nw, 1.0f / sqrtf((float)(c->cin * c->k * c->k)));
	c->b = fvec((size_t)c->cout, 0.5f);
	c->r = fvec(c->nr, 1);
	c->y0 = fvec(c->ny, 1);
	c->ref = malloc(c->ny * sizeof *c->ref);
	if (!c->ref) exit(2);
	for (size_t i = 0; i < c->ny; i++)
		c->ref[i] = c->y0[i];
	int pad = c->k / 2;
	for (int img = 0; img < c->n; img++)
		for (int co = 0; co < c->cout; co++)
			for (int oy = 0; oy < oh; oy++)
				for (int ox = 0; ox < ow; ox++) {
					double s = c->bias ? c->b[co] : 0.0;
					for (int ci = 0; ci < c->cin; ci++)
						for (int ky = 0; ky < c->k; ky++)
							for (int kx = 0; kx < c->k; kx++) {
								int iy = oy * c->stride + ky - pad, ix = ox * c->stride + kx - pad;
								if (iy < 0 || iy >= lh || ix < 0 || ix >= lw)
									continue;
								float xv = c->x[((size_t)img * c->xcs + c->xco + ci) * ihw +
								                (size_t)(iy >> c->up) * c->w + (ix >> c->up)];
								s += (double)c->wt[(((size_t)co * c->cin + ci) * c->k + ky) * c->k + kx] * xv;
							}
					size_t o = (size_t)oy * ow + ox;
					if (c->res)
						s += c->r[((size_t)img * c->cout + co) * ohw + o];
					c->ref[((size_t)img * c->ycs + c->yco + co) * ohw + o] = s;
				}
	/* poison the written slice: an element the op leaves alone is NaN */
	for (int img = 0; img < c->n; img++)
		for (size_t i = 0; i < (size_t)c->cout * ohw; i++)
			c->y0[((size_t)img * c->ycs + c->yco) * ohw + i] = NAN;
}

static void conv_free(conv *c)
{
	free(c->x); free(c->wt); free(c->b); free(c->r); free(c->y0); free(c->ref);
}

static lmd_buf *up(lmd_be *be, const float *p, size_t n)
{
	lmd_buf *b = be->ops->alloc(be, n);
	if (!b || be->ops->upload(be, b, 0, p, n)) { fprintf(stderr, "alloc/upload: %s\n", lmd_errmsg()); exit(2); }
	return b;
}

/* nmse of backend be's result against the float64 reference */
static double conv_run(lmd_be *be, const conv *c)
{
	lmd_buf *x = up(be, c->x, c->nx), *w = up(be, c->wt, c->nw), *b = up(be, c->b, (size_t)c->cout);
	lmd_buf *r = up(be, c->r, c->nr), *y = up(be, c->y0, c->ny);
	be->ops->conv2d(be, y, c->ycs, c->yco, x, c->xcs, c->xco, w, c->bias ? b : NULL, c->res ? r : NULL,
	                c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->up);
	float *out = malloc(c->ny * sizeof *out);
	if (!out || be->ops->download(be, y, 0, out, c->ny)) exit(2);
	double num = 0, den = 0;
	for (size_t i = 0; i < c->ny; i++) {
		double d = (double)out[i] - c->ref[i];
		num += d * d;
		den += c->ref[i] * c->ref[i];
	}
	free(out);
	lmd_buf *all[] = { x, w, b, r, y };
	for (int i = 0; i < 5; i++)
		be->ops->free(be, all[i]);
	if (isnan(num)) return NAN;
	return den > 0 ? num / den : num == 0 ? 0 : INFINITY;
}

/* The shapes every path is checked on; wino: 3x3 stride 1 with >= 8 input
 * channels (what the bf16 GEMMs compute) */
static int nshapes;
static conv shapes[64];

static void add(int n, int cin, int h, int w, int cout, int k, int stride, int upx,
                int xextra, int xco, int yextra, int yco, int res, int bias)
{
	conv c = { .n = n, .cin = cin, .h = h, .w = w, .cout = cout, .k = k, .stride = stride, .up = upx,
	           .xcs = cin + xextra, .xco = xco, .ycs = cout + yextra, .yco = yco, .res = res, .bias = bias };
	conv_make(&c);
	shapes[nshapes++] = c;
}

static int wino(const conv *c) { return c->k == 3 && c->stride == 1 && c->cin >= 8; }

static void make_shapes(void)
{
	static const int hs[] = { 1, 3, 5, 7, 8, 17, 32 };
	static const int cs[] = { 8, 9, 13, 17, 33, 64, 70 };
	add(2, 64, 16, 16, 64, 3, 1, 0, 0, 0, 0, 0, 1, 1);     /* a res block */
	add(2, 32, 32, 32, 32, 3, 1, 0, 0, 0, 0, 0, 1, 1);     /* the bench's first level */
	add(4, 96, 12, 12, 32, 3, 1, 0, 0, 0, 0, 0, 1, 1);     /* a concat input */
	add(1, 128, 8, 8, 128, 3, 1, 0, 0, 0, 0, 0, 0, 1);     /* a late level */
	add(3, 13, 23, 45, 70, 3, 1, 1, 3, 2, 0, 0, 0, 1);     /* odd widths, upsample */
	add(2, 48, 9, 23, 130, 3, 1, 0, 0, 0, 5, 3, 1, 1);     /* 23 wide, cout 8x16 + 2, slice */
	add(2, 17, 2, 61, 18, 3, 1, 0, 0, 0, 0, 0, 1, 1);      /* wide and flat, odd cin */
	add(1, 9, 1, 1, 15, 3, 1, 1, 0, 0, 0, 0, 1, 1);        /* 1x1 image, upsampled */
	add(1, 200, 3, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 1);       /* long K, few outputs */
	add(2, 5, 7, 9, 17, 3, 1, 0, 2, 1, 3, 2, 1, 1);        /* < 8 input channels: direct */
	add(3, 9, 13, 11, 20, 3, 2, 0, 1, 1, 2, 1, 1, 0);      /* stride 2 */
	add(3, 70, 13, 11, 131, 1, 1, 0, 3, 2, 1, 1, 1, 1);    /* 1x1 */
	for (int t = 0; t < 16; t++) {
		int xextra = irand(0, 1) ? irand(1, 9) : 0, yextra = irand(0, 1) ? irand(1, 9) : 0;
		add(irand(1, 3), cs[irand(0, 6)], hs[irand(0, 6)], hs[irand(0, 6)], cs[irand(0, 6)], 3, 1,
		    irand(0, 3) == 0, xextra, irand(0, xextra), yextra, irand(0, yextra), irand(0, 1), irand(0, 3) != 0);
	}
}

/* Every shape on one forced path: Winograd shapes within bound_w, the
 * others within NMSE_FP32; prints the worst of each */
static void check_path(const char *path, const char *want, double bound_w)
{
	char why[256];
	lmd_be *be = backend(path, want, why, sizeof why);
	if (!be)
		SKIP_TEST("%s", why);
	double worst_w = 0, worst_o = 0;
	for (int i = 0; i < nshapes; i++) {
		const conv *c = &shapes[i];
		double e = conv_run(be, c), bound = wino(c) ? bound_w : NMSE_FP32;
		double *worst = wino(c) ? &worst_w : &worst_o;
		if (isnan(e) || e > *worst) *worst = e;
		CHECK(e <= bound, "%s: conv n%d cin%d %dx%d cout%d k%d s%d up%d x%d+%d y%d+%d res%d bias%d: nmse %g (bound %g)",
		      path, c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->up, c->xcs, c->xco, c->ycs,
		      c->yco, c->res, c->bias, e, bound);
	}
	printf("  %-11s %-30s winograd shapes: max nmse %.3g (bound %.0e); others %.3g (bound %.0e)\n",
	       path, be->ops->device(be), worst_w, bound_w, worst_o, NMSE_FP32);
	be->ops->destroy(be);
}

TEST(conv_fp32_f43) { check_path("winograd", "F(4,3) avx512", NMSE_FP32); }
TEST(conv_bf16_f43) { check_path("bf16", "F(4,3) bf16", NMSE_BF16_F4); }
TEST(conv_bf16_f23) { check_path("wino2-bf16", "F(2,3) bf16", NMSE_BF16_F2); }

/* The bf16 path really is bf16: on a shape whose fp32 error is ~1e-14 its
 * error must be far above fp32 rounding (a path silently left in fp32
 * would pass the bounds above) */
TEST(bf16_is_reduced)
{
	char why[256];
	lmd_be *be = backend("bf16", "F(4,3) bf16", why, sizeof why);
	if (!be)
		SKIP_TEST("%s", why);
	double e = conv_run(be, &shapes[0]);
	CHECK(e > 1e-7, "bf16 path's nmse %g is that of fp32: is it computing in bf16?", e);
	be->ops->destroy(be);
}

/* ---- Vulkan: fp16 convolutions (LMDD_VK_FP16=1) ----------------------------- */

/* A Vulkan backend with LMDD_VK_FP16=fp16; NULL and *why when there is no
 * device (LMDD_NO_VULKAN=1 or none found) or fp16 was asked and it lacks
 * shaderFloat16 */
static lmd_be *vk_backend(const char *fp16, char *why, size_t nwhy)
{
	const char *no = getenv("LMDD_NO_VULKAN");
	if (no && strcmp(no, "1") == 0) {
		snprintf(why, nwhy, "LMDD_NO_VULKAN=1");
		return NULL;
	}
	lmd_be *be = NULL;
	setenv("LMDD_VK_FP16", fp16, 1);
	lmd_err e = lmd_vk_backend_new(-1, NULL, &be);
	unsetenv("LMDD_VK_FP16");
	if (e) {
		snprintf(why, nwhy, "no Vulkan device: %s", lmd_errmsg());
		return NULL;
	}
	int has = strstr(be->ops->device(be), "[fp16]") != NULL;
	if (has != (strcmp(fp16, "1") == 0)) {
		snprintf(why, nwhy, "LMDD_VK_FP16=%s gives \"%s\"%s", fp16, be->ops->device(be),
		         has ? "" : ": the device lacks shaderFloat16");
		be->ops->destroy(be);
		return NULL;
	}
	return be;
}

/* every shape (all kernel sizes, strides, upsampling: the F16 shader
 * computes every convolution) within bound */
static void check_vk(const char *fp16, double bound)
{
	char why[256];
	lmd_be *be = vk_backend(fp16, why, sizeof why);
	if (!be) {
		if (strcmp(fp16, "0") == 0 && !strstr(why, "LMDD_NO_VULKAN") && !strstr(why, "no Vulkan device"))
			CHECK(0, "%s", why);   /* the fp32 fallback must always be there */
		SKIP_TEST("%s", why);
	}
	double worst = 0;
	for (int i = 0; i < nshapes; i++) {
		const conv *c = &shapes[i];
		double e = conv_run(be, c);
		if (isnan(e) || e > worst) worst = e;
		CHECK(e <= bound, "vulkan LMDD_VK_FP16=%s: conv n%d cin%d %dx%d cout%d k%d s%d up%d: nmse %g (bound %g)",
		      fp16, c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->up, e, bound);
	}
	lmd_err e = be->ops->sync(be);
	CHECK(e == LMD_OK, "vulkan: %s", lmd_errmsg());
	if (strcmp(fp16, "1") == 0)   /* it really is fp16: fp32 rounding gives ~1e-13 */
		CHECK(worst > 1e-9, "LMDD_VK_FP16=1: max nmse %g is that of fp32: is it computing in fp16?", worst);
	printf("  LMDD_VK_FP16=%s %-40s all shapes: max nmse %.3g (bound %.0e)\n", fp16, be->ops->device(be), worst, bound);
	be->ops->destroy(be);
}

TEST(vk_conv_fp32) { check_vk("0", NMSE_FP32); }
TEST(vk_conv_fp16) { check_vk("1", NMSE_FP16); }

/* ---- the engine option (lmd.h: lmd_precision) ------------------------------- */

TEST(precision_parse)
{
	lmd_precision p = LMD_PREC_REDUCED;
	CHECK(lmd_precision_parse("fp32", &p) == LMD_OK && p == LMD_PREC_FP32, "fp32");
	CHECK(lmd_precision_parse("reduced", &p) == LMD_OK && p == LMD_PREC_REDUCED, "reduced");
	CHECK(lmd_precision_parse("half", &p) == LMD_ERR_ARG && strstr(lmd_errmsg(), "half"),
	      "\"half\" accepted or not named: %s", lmd_errmsg());
	CHECK(lmd_precision_parse(NULL, &p) == LMD_ERR_ARG, "NULL accepted");
}

/* Scores of 2 random images on the fixture model (3 steps, 2 attempts) by
 * an engine of this backend and precision; *reduced: its device string
 * names the reduced path (mark: "bf16" or "[fp16]"). 0, or -1 (and *why)
 * when no such engine can be made. */
static int engine_scores(lmd_backend_kind kind, lmd_precision prec, const char *mark, float s[2], int *reduced,
                         char *why, size_t nwhy)
{
	lmd_model *m = NULL;
	if (lmd_model_load("tests/fixtures/daemon-gray.safetensors", &m) != LMD_OK) {
		snprintf(why, nwhy, "model: %s", lmd_errmsg());
		return -1;
	}
	const lmd_model_info *mi = lmd_model_get_info(m);
	int h = mi->frame_height, w = mi->frame_width;
	size_t len = (size_t)2 * mi->channels * h * w;
	rs = 0x9E3779B97F4A7C15ull;   /* the same images every call */
	float *img = fvec(len, 0.5f);
	for (size_t i = 0; i < len; i++)
		img[i] += 0.5f;
	lmd_params p;
	lmd_params_default(&p);
	p.steps = 3;
	lmd_engine *e = NULL;
	int rc = -1;
	if (lmd_engine_new_prec(m, kind, -1, NULL, prec, &e) != LMD_OK)
		snprintf(why, nwhy, "engine: %s", lmd_errmsg());
	else if (lmd_engine_score(e, &p, 2, h, w, img, NULL, s, NULL, NULL) != LMD_OK)
		snprintf(why, nwhy, "score: %s", lmd_errmsg());
	else
		rc = 0;
	*reduced = e && strstr(lmd_engine_device(e), mark) != NULL;
	lmd_engine_destroy(&e);
	free(img);
	lmd_model_destroy(&m);
	return rc;
}

/* LMD_PREC_REDUCED picks bf16 on the CPU backend (the environment unset),
 * FP32 does not, and their scores agree within test_lowp_score.sh's 4% */
TEST(engine_precision)
{
	char why[256];
	float s[2][2];
	int red[2];
	unsetenv("LMDD_CPU_CONV");
	for (int k = 0; k < 2; k++)
		REQUIRE(engine_scores(LMD_BACKEND_CPU, k ? LMD_PREC_REDUCED : LMD_PREC_FP32, "bf16", s[k], &red[k],
		                      why, sizeof why) == 0, "%s", why);
	const char *dev[2] = { red[0] ? "bf16" : "fp32", red[1] ? "bf16" : "fp32" };
	int n = 2;
	CHECK(strcmp(dev[0], "fp32") == 0, "LMD_PREC_FP32 ran %s", dev[0]);
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512bf16")) {
		CHECK(strcmp(dev[1], "fp32") == 0, "LMD_PREC_REDUCED ran bf16 on a CPU without it");
		SKIP_TEST("this CPU has no AVX-512 BF16 (LMD_PREC_REDUCED ran fp32)");
	}
	CHECK(strcmp(dev[1], "bf16") == 0, "LMD_PREC_REDUCED ran %s on a CPU with AVX-512 BF16", dev[1]);
	for (int i = 0; i < n; i++)
		CHECK(fabsf(s[1][i] - s[0][i]) <= 0.04f * s[0][i] && s[1][i] != s[0][i],
		      "image %d: fp32 %g, bf16 %g", i, s[0][i], s[1][i]);
}

/* LMD_PREC_REDUCED on Vulkan: fp16 where the device has shaderFloat16,
 * scores within 1e-3 of the CPU backend's fp32 ones (lavapipe: 2e-4) */
TEST(engine_precision_vk)
{
	char why[256];
	const char *no = getenv("LMDD_NO_VULKAN");
	if (no && strcmp(no, "1") == 0)
		SKIP_TEST("LMDD_NO_VULKAN=1");
	float ref[2], s[2];
	int red;
	unsetenv("LMDD_CPU_CONV");
	unsetenv("LMDD_VK_FP16");
	REQUIRE(engine_scores(LMD_BACKEND_CPU, LMD_PREC_FP32, "bf16", ref, &red, why, sizeof why) == 0, "%s", why);
	if (engine_scores(LMD_BACKEND_VULKAN, LMD_PREC_REDUCED, "[fp16]", s, &red, why, sizeof why))
		SKIP_TEST("%s", why);
	if (!red)
		SKIP_TEST("the Vulkan device lacks shaderFloat16 (LMD_PREC_REDUCED ran fp32)");
	for (int i = 0; i < 2; i++)
		CHECK(fabsf(s[i] - ref[i]) <= 1e-3f * ref[i] && s[i] != ref[i], "image %d: cpu fp32 %.9g, vulkan fp16 %.9g",
		      i, ref[i], s[i]);
	printf("  scores: cpu fp32 %.9g %.9g, vulkan fp16 %.9g %.9g\n", ref[0], ref[1], s[0], s[1]);
}

/* ---- --perf: fp32 against bf16 per shape (CPU time, one thread) ---------- */

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* min of reps CPU times of one conv2d (operands already uploaded) */
static double time_conv(lmd_be *be, lmd_buf *y, lmd_buf *x, lmd_buf *w, lmd_buf *b, int n, int cin, int h,
                        int wd, int cout, int upx, int reps)
{
	double best = INFINITY;
	for (int r = 0; r < reps; r++) {
		double t0 = cpu_s();
		be->ops->conv2d(be, y, cout, 0, x, cin, 0, w, b, NULL, n, cin, h, wd, cout, 3, 1, upx);
		double t = cpu_s() - t0;
		best = t < best ? t : best;
	}
	return best;
}

static int perf(void)
{
	static const struct { int n, cin, h, w, cout, up; } sh[] = {
		{ 8, 32, 64, 64, 32, 0 }, { 8, 64, 32, 32, 64, 0 }, { 8, 64, 16, 16, 64, 0 },
		{ 8, 128, 32, 32, 128, 0 }, { 8, 96, 64, 64, 32, 0 }, { 8, 64, 32, 32, 64, 1 },
	};
	char why[256];
	lmd_be *f = backend("winograd", "F(4,3)", why, sizeof why), *bf = backend("bf16", "F(4,3) bf16", why, sizeof why);
	lmd_be *b2 = backend("wino2-bf16", "F(2,3) bf16", why, sizeof why);
	if (!f || !bf || !b2) {
		printf("perf: %s\n", why);
		return 1;
	}
	printf("%-26s %10s %10s %10s %8s %8s  (min CPU ms of 15, GFLOP/s direct-equivalent)\n", "3x3 conv",
	       "fp32 F4", "bf16 F4", "bf16 F2", "F4 x", "F2 x");
	for (size_t i = 0; i < sizeof sh / sizeof *sh; i++) {
		int h = sh[i].h << sh[i].up, wd = sh[i].w << sh[i].up;
		size_t nx = (size_t)sh[i].n * sh[i].cin * sh[i].h * sh[i].w, ny = (size_t)sh[i].n * sh[i].cout * h * wd;
		size_t nw = (size_t)sh[i].cout * sh[i].cin * 9;
		float *xh = fvec(nx, 1), *wh = fvec(nw, 0.1f), *bh = fvec((size_t)sh[i].cout, 0.1f);
		double t[3];
		lmd_be *bes[3] = { f, bf, b2 };
		for (int k = 0; k < 3; k++) {
			lmd_buf *x = up(bes[k], xh, nx), *w = up(bes[k], wh, nw), *b = up(bes[k], bh, (size_t)sh[i].cout);
			lmd_buf *y = bes[k]->ops->alloc(bes[k], ny);
			time_conv(bes[k], y, x, w, b, sh[i].n, sh[i].cin, sh[i].h, sh[i].w, sh[i].cout, sh[i].up, 2);
			t[k] = time_conv(bes[k], y, x, w, b, sh[i].n, sh[i].cin, sh[i].h, sh[i].w, sh[i].cout, sh[i].up, 15);
			lmd_buf *all[] = { x, w, b, y };
			for (int j = 0; j < 4; j++)
				bes[k]->ops->free(bes[k], all[j]);
		}
		double fl = 2.0 * 9 * sh[i].cin * sh[i].cout * (double)h * wd * sh[i].n / 1e9;
		char name[64];
		snprintf(name, sizeof name, "%d->%d %dx%d b%d%s", sh[i].cin, sh[i].cout, h, wd, sh[i].n, sh[i].up ? " up" : "");
		printf("%-26s %6.2f %3.0f %6.2f %3.0f %6.2f %3.0f %7.2fx %7.2fx\n", name, 1e3 * t[0], fl / t[0],
		       1e3 * t[1], fl / t[1], 1e3 * t[2], fl / t[2], t[0] / t[1], t[0] / t[2]);
		free(xh); free(wh); free(bh);
	}
	f->ops->destroy(f);
	bf->ops->destroy(bf);
	b2->ops->destroy(b2);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--perf"))
		return perf();
	make_shapes();
	RUN(conv_fp32_f43);
	RUN(conv_bf16_f43);
	RUN(conv_bf16_f23);
	RUN(bf16_is_reduced);
	RUN(vk_conv_fp32);
	RUN(vk_conv_fp16);
	RUN(precision_parse);
	RUN(engine_precision);
	RUN(engine_precision_vk);
	for (int i = 0; i < nshapes; i++)
		conv_free(&shapes[i]);
	CHECK_EXIT();
}
