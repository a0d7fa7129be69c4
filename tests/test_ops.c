/*
 * test_ops.c — every op of compute/backend.h on the Vulkan backend against
 * the CPU backend (the reference), plus the Vulkan backend's own machinery
 * (device list, staging, recording/barriers, error path, descriptor-pool and
 * staging fallbacks). `test_ops --perf` instead prints per-op time and
 * GFLOP/s of both backends at representative sizes.
 *
 * Design facts:
 *  - ONE error measure: normalised MSE, nmse = sum((vk-cpu)^2) / sum(cpu^2),
 *    in double, over the whole output buffer (a channel slice's untouched
 *    neighbours are included, so writes outside the slice fail too). Bound
 *    1e-10 for fp32 ops; looser bounds are justified where they are set.
 *  - Outputs are filled with NaN before each op (in-place ops excepted);
 *    an element an op fails to write makes nmse NaN and the test fail.
 *  - Shapes: odd sizes (H, W in 1..33), channel counts that are no multiple
 *    of 4/8/16/32/64, batch 1..3, channel-slice offsets, stride 2, fused
 *    upsample, residual on/off. Seeded, so runs repeat exactly.
 *  - No Vulkan device at all is a FAIL, unless LMDD_NO_VULKAN=1 (then every
 *    test prints SKIP). A CPU path this CPU lacks prints SKIP for itself. The op tests run under the
 *    validation layer with synchronization validation when it is installed
 *    (LMDD_VK_VALIDATE=0 to disable) and fail on its errors.
 *  - Kept small: the whole run takes seconds on lavapipe with 2 cores.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "backend.h"
#include "rng.h"
#include "rnd.h"
#include "vk_backend.h"

#define NMSE_FP32 1e-10

static lmd_be *cpu, *vk;

/* ---- helpers --------------------------------------------------------------- */

static void fill_nan(float *p, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++) p[off + i] = NAN;
}

/* a tensor on both backends */
typedef struct { lmd_buf *c, *v; size_t n; } pair;

static pair mk(size_t n, const float *init)
{
	pair p = { cpu->ops->alloc(cpu, n), vk->ops->alloc(vk, n), n };
	if (!p.c || !p.v) { fprintf(stderr, "alloc of %zu floats failed: %s\n", n, lmd_errmsg()); exit(2); }
	if (init) {
		if (cpu->ops->upload(cpu, p.c, 0, init, n) || vk->ops->upload(vk, p.v, 0, init, n)) {
			fprintf(stderr, "upload failed: %s\n", lmd_errmsg());
			exit(2);
		}
	}
	return p;
}

static void rm(pair *p)
{
	if (p->c) cpu->ops->free(cpu, p->c);
	if (p->v) vk->ops->free(vk, p->v);
	p->c = p->v = NULL;
}

static double nmse(const float *a, const float *b, size_t n)
{
	double num = 0, den = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)a[i] - (double)b[i];
		num += d * d;
		den += (double)b[i] * b[i];
	}
	if (isnan(num) || isnan(den)) return NAN;
	if (den == 0) return num == 0 ? 0 : INFINITY;
	return num / den;
}

/* Download both sides of p and return nmse(vk, cpu); NaN on any NaN. */
static double cmp(pair *p)
{
	float *a = malloc(p->n * sizeof *a), *b = malloc(p->n * sizeof *b);
	if (!a || !b) exit(2);
	lmd_err e1 = vk->ops->download(vk, p->v, 0, a, p->n);
	if (e1) fprintf(stderr, "  vulkan download: %s\n", lmd_errmsg());
	lmd_err e2 = cpu->ops->download(cpu, p->c, 0, b, p->n);
	double r = (e1 || e2) ? NAN : nmse(a, b, p->n);
	if (getenv("LMDD_TEST_DUMP") && !(r <= 1e-10))   /* first elements of a mismatch */
		for (size_t i = 0; i < p->n && i < 8; i++)
			fprintf(stderr, "   [%zu] vulkan %.9g cpu %.9g\n", i, a[i], b[i]);
	free(a);
	free(b);
	return r;
}

static double worst;   /* max nmse of the current test, reported on its line */
static void note(double r) { if (isnan(r) || r > worst) worst = r; }

static void report(const char *name, double bound)
{
	printf("  %-10s max nmse %.3g (bound %.0e)\n", name, worst, bound);
}

/* ---- tests ------------------------------------------------------------------- */

TEST(devices)
{
	char names[16][256];
	int n = lmd_vulkan_devices(names, 16);
	REQUIRE(n >= 1, "lmd_vulkan_devices returned %d (%s)", n, lmd_errmsg());
	for (int i = 0; i < n && i < 16; i++) {
		CHECK(names[i][0] != 0, "device %d has no name", i);
		printf("  device %d: %s\n", i, names[i]);
	}
	printf("  chosen: %s (%s descriptors)\n", vk->ops->device(vk),
	       lmd_vk_push_descriptors(vk) ? "push" : "pooled");
}

TEST(upload_download)
{
	/* sizes around the 8 MiB staging ring and odd offsets */
	size_t sizes[] = { 1, 7, 1000, 3u << 20 };
	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		size_t n = sizes[s];
		float *a = fvec(n, 1), *b = fvec(n, 1);
		lmd_buf *v = vk->ops->alloc(vk, n + 5);
		REQUIRE(v, "alloc: %s", lmd_errmsg());
		CHECK(vk->ops->upload(vk, v, 5, a, n) == LMD_OK, "upload: %s", lmd_errmsg());
		fill_nan(b, 0, n);
		CHECK(vk->ops->download(vk, v, 5, b, n) == LMD_OK, "download: %s", lmd_errmsg());
		CHECK(memcmp(a, b, n * sizeof *a) == 0, "round trip of %zu floats differs", n);
		/* upload while work is recorded must stay in order with it */
		vk->ops->axpby(vk, v, v, 0.5f, 0.0f, n + 5);     /* v = v/2 (pending) */
		vk->ops->upload(vk, v, 5, a, n);                 /* then v = a */
		vk->ops->axpby(vk, v, v, 2.0f, 0.0f, n + 5);     /* then v = 2a */
		CHECK(vk->ops->download(vk, v, 5, b, n) == LMD_OK, "download: %s", lmd_errmsg());
		size_t bad = 0;
		for (size_t i = 0; i < n; i++) bad += b[i] != 2.0f * a[i];
		CHECK(bad == 0, "upload between recorded ops: %zu of %zu wrong", bad, n);
		vk->ops->free(vk, v);
		free(a);
		free(b);
	}
	/* out-of-range is an error, and the backend stays usable */
	lmd_buf *v = vk->ops->alloc(vk, 4);
	float x[8] = { 0 };
	CHECK(vk->ops->upload(vk, v, 2, x, 3) == LMD_ERR_ARG, "overflowing upload accepted");
	CHECK(vk->ops->download(vk, v, 0, x, 4) == LMD_OK, "backend unusable after an error: %s", lmd_errmsg());
	vk->ops->free(vk, v);
}

static void conv_case(int n, int cin, int h, int w, int cout, int k, int stride, int up,
                      int xextra, int xcoff, int yextra, int ycoff, int res, int bias)
{
	int xcs = cin + xextra, ycs = cout + yextra;
	int lh = h << up, lw = w << up;
	int oh = (lh + stride - 1) / stride, ow = (lw + stride - 1) / stride;
	size_t nx = (size_t)n * xcs * h * w, ny = (size_t)n * ycs * oh * ow;
	size_t nw = (size_t)cout * cin * k * k, nr = (size_t)n * cout * oh * ow;
	float *xi = fvec(nx, 1), *wi = fvec(nw, 1.0f / sqrtf((float)(cin * k * k))), *bi = fvec(cout, 0.5f);
	float *ri = fvec(nr, 1), *yi = fvec(ny, 1);
	/* poison the written slice, keep the neighbours finite */
	for (int i = 0; i < n; i++)
		fill_nan(yi, ((size_t)i * ycs + ycoff) * oh * ow, (size_t)cout * oh * ow);
	pair x = mk(nx, xi), wt = mk(nw, wi), b = mk(cout, bi), r = mk(nr, ri), y = mk(ny, yi);
	cpu->ops->conv2d(cpu, y.c, ycs, ycoff, x.c, xcs, xcoff, wt.c, bias ? b.c : NULL,
	                 res ? r.c : NULL, n, cin, h, w, cout, k, stride, up);
	vk->ops->conv2d(vk, y.v, ycs, ycoff, x.v, xcs, xcoff, wt.v, bias ? b.v : NULL,
	                res ? r.v : NULL, n, cin, h, w, cout, k, stride, up);
	double e = cmp(&y);
	note(e);
	CHECK(e <= NMSE_FP32, "conv n%d cin%d %dx%d cout%d k%d s%d up%d x%d+%d y%d+%d res%d bias%d: nmse %g",
	      n, cin, h, w, cout, k, stride, up, xcs, xcoff, ycs, ycoff, res, bias, e);
	rm(&x); rm(&wt); rm(&b); rm(&r); rm(&y);
	free(xi); free(wi); free(bi); free(ri); free(yi);
}

TEST(conv2d)
{
	static const int hs[] = { 1, 3, 5, 7, 8, 17, 32 };
	static const int cs[] = { 1, 3, 5, 13, 17, 33, 70 };
	worst = 0;
	/* every k / stride / up / residual combination once at an odd size */
	for (int k = 1; k <= 3; k += 2)
		for (int s = 1; s <= 2; s++)
			for (int up = 0; up <= 1; up++)
				for (int res = 0; res <= 1; res++)
					conv_case(2, 5, 7, 9, 17, k, s, up, 2, 1, 3, 2, res, 1);
	/* the engine's common cases */
	conv_case(2, 64, 16, 16, 64, 3, 1, 0, 0, 0, 0, 0, 1, 1);     /* res block */
	conv_case(1, 96, 8, 12, 64, 1, 1, 0, 32, 16, 0, 0, 0, 1);    /* nin on a concat slice */
	conv_case(3, 33, 5, 17, 70, 3, 2, 0, 0, 0, 6, 6, 0, 1);      /* downsample */
	conv_case(1, 17, 5, 3, 13, 3, 1, 1, 0, 0, 0, 0, 0, 0);       /* upsample, no bias */
	conv_case(1, 1, 1, 1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 1);         /* 1x1 image */
	conv_case(1, 200, 3, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 1);       /* long K, few outputs */
	for (int t = 0; t < 24; t++) {
		int cin = cs[irand(0, 6)], cout = cs[irand(0, 6)];
		int xextra = irand(0, 1) ? irand(1, 9) : 0, yextra = irand(0, 1) ? irand(1, 9) : 0;
		conv_case(irand(1, 3), cin, hs[irand(0, 6)], hs[irand(0, 6)], cout, irand(0, 1) ? 3 : 1,
		          irand(1, 2), irand(0, 3) == 0, xextra, irand(0, xextra), yextra,
		          irand(0, yextra), irand(0, 1), irand(0, 3) != 0);
	}
	report("conv2d", NMSE_FP32);
}

/* the 32x32-tile variant (picked on GPUs for small grids; lavapipe, a CPU
 * device, never picks it by itself) on a selection of the shapes above */
TEST(conv2d_small_tiles)
{
	lmd_be *saved = vk, *alt = NULL;
	setenv("LMDD_VK_CONV_TILE", "32", 1);
	lmd_err e = lmd_vk_backend_new(-1, NULL, &alt);
	unsetenv("LMDD_VK_CONV_TILE");
	REQUIRE(e == LMD_OK, "backend: %s", lmd_errmsg());
	vk = alt;
	worst = 0;
	for (int k = 1; k <= 3; k += 2)
		for (int s = 1; s <= 2; s++)
			for (int up = 0; up <= 1; up++)
				conv_case(2, 5, 7, 9, 17, k, s, up, 2, 1, 3, 2, up, 1);
	conv_case(2, 64, 16, 16, 64, 3, 1, 0, 0, 0, 0, 0, 1, 1);
	conv_case(3, 33, 5, 17, 70, 3, 2, 0, 0, 0, 6, 6, 0, 1);
	conv_case(1, 200, 3, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 1);
	conv_case(1, 1, 1, 1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 1);
	report("conv2d_s", NMSE_FP32);
	vk = saved;
	alt->ops->destroy(alt);
}

/* y aliasing x (cpu_conv3x3 allows it when the channel strides match): the CPU backend
 * writes channels [yco, yco+cout) of the buffer it reads [xco, xco+cin)
 * of; Vulkan computes the same into a separate copy. */
static void conv_alias_case(int n, int cin, int h, int w, int cout, int cs, int xco, int yco)
{
	size_t len = (size_t)n * cs * h * w, nw = (size_t)cout * cin * 9, nr = (size_t)n * cout * h * w;
	float *xi = fvec(len, 1), *wi = fvec(nw, 1.0f / sqrtf((float)(cin * 9))), *bi = fvec(cout, 0.5f);
	float *ri = fvec(nr, 1);
	pair xy = mk(len, xi), x2 = mk(len, xi), wt = mk(nw, wi), b = mk(cout, bi), r = mk(nr, ri);
	cpu->ops->conv2d(cpu, xy.c, cs, yco, xy.c, cs, xco, wt.c, b.c, r.c, n, cin, h, w, cout, 3, 1, 0);
	vk->ops->conv2d(vk, xy.v, cs, yco, x2.v, cs, xco, wt.v, b.v, r.v, n, cin, h, w, cout, 3, 1, 0);
	double e = cmp(&xy);
	note(e);
	CHECK(e <= NMSE_FP32, "conv y=x n%d cin%d %dx%d cout%d cs%d x+%d y+%d: nmse %g",
	      n, cin, h, w, cout, cs, xco, yco, e);
	rm(&xy); rm(&x2); rm(&wt); rm(&b); rm(&r);
	free(xi); free(wi); free(bi); free(ri);
}

/* The CPU backend's 3x3 paths (cpu_conv.c's Winograd F(4,3) and F(2,3),
 * the direct AVX-512 and AVX2 kernels, the im2col + sgemm path), each
 * forced with LMDD_CPU_CONV, against the Vulkan backend. */
TEST(conv2d_cpu_paths)
{
	static const struct { const char *env, *dev; int pass1; } paths[] = {
		{ "gemm", "sse4.2", 0 },
		{ "avx2", "direct avx2", 0 },
		{ "direct", "direct avx512", 0 },
		{ "direct", "direct avx512", 1 },
		{ "winograd", "F(4,3) avx512", 0 },
		{ "winograd", "F(4,3) avx512", 1 },
		{ "wino2", "F(2,3) avx512", 0 },
		{ "wino4-avx2", "F(4,3) avx2", 0 },
	};
	__builtin_cpu_init();
	int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	int avx512 = __builtin_cpu_supports("avx512f");
	lmd_be *saved = cpu;
	int ran = 0;
	for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
		if ((strstr(paths[p].dev, "avx2") && !avx2) || (strstr(paths[p].dev, "avx512") && !avx512)) {
			char nm[64];
			snprintf(nm, sizeof nm, "conv2d_cpu_paths/%s%s", paths[p].dev, paths[p].pass1 ? "/pass1" : "");
			for (char *c = nm; *c; c++)
				*c = *c == ' ' ? '_' : *c;
			SKIP_ONE(nm, "this CPU lacks %s", strstr(paths[p].dev, "avx512") ? "AVX-512" : "AVX2/FMA");
			continue;
		}
		ran++;
		lmd_be *alt = NULL;
		setenv("LMDD_CPU_CONV", paths[p].env, 1);
		if (paths[p].pass1)   /* one image per pass, as for frames too large to copy all at once */
			setenv("LMDD_CPU_CONV_PASS", "1", 1);
		lmd_err e = lmd_cpu_backend_new(&alt);
		unsetenv("LMDD_CPU_CONV");
		unsetenv("LMDD_CPU_CONV_PASS");
		REQUIRE(e == LMD_OK, "cpu backend: %s", lmd_errmsg());
		const char *dev = alt->ops->device(alt);
		CHECK(strstr(dev, paths[p].dev) != NULL, "LMDD_CPU_CONV=%s gave device \"%s\"", paths[p].env, dev);
		cpu = alt;
		worst = 0;
		for (int up = 0; up <= 1; up++)
			for (int res = 0; res <= 1; res++) {
				conv_case(2, 5, 7, 9, 17, 3, 1, up, 2, 1, 3, 2, res, 1);
				conv_case(3, 20, 5, 7, 33, 3, 1, up, 3, 2, 1, 1, res, up);  /* 5x7, odd channels */
				conv_case(2, 9, 1, 1, 15, 3, 1, up, 0, 0, 0, 0, res, 1);    /* 1x1 images */
				conv_case(2, 5, 7, 9, 17, 1, 1, up, 2, 1, 3, 2, res, 1);    /* 1x1 convs, slices */
				conv_case(3, 9, 13, 11, 20, 3, 2, up, 1, 1, 2, 1, res, up); /* stride 2, odd sizes */
			}
		conv_case(3, 70, 13, 11, 131, 1, 1, 0, 3, 2, 1, 1, 1, 1);  /* 1x1: a pixel tail, cout 6*21 + 5 */
		conv_case(2, 64, 16, 16, 192, 1, 1, 0, 0, 0, 0, 0, 0, 1);  /* 1x1: qkv */
		conv_case(2, 96, 8, 8, 32, 1, 1, 0, 0, 0, 0, 0, 1, 0);     /* 1x1: a shortcut, 64 pixels */
		conv_case(1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1);
		conv_case(2, 32, 16, 16, 32, 3, 2, 0, 0, 0, 0, 0, 0, 1);   /* stride 2: a downsample */
		conv_case(2, 7, 1, 1, 5, 3, 2, 0, 0, 0, 0, 0, 1, 1);
		conv_case(2, 64, 16, 16, 64, 3, 1, 0, 0, 0, 0, 0, 1, 1);
		conv_case(3, 13, 23, 45, 70, 3, 1, 1, 3, 2, 0, 0, 0, 1);  /* odd widths, upsample */
		conv_case(2, 48, 9, 23, 130, 3, 1, 0, 0, 0, 5, 3, 1, 1);  /* 23 wide, cout 8x16 + 2 */
		conv_case(4, 96, 12, 12, 32, 3, 1, 0, 0, 0, 0, 0, 1, 1);  /* a concat input */
		conv_case(1, 1, 1, 1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 1);
		conv_case(1, 200, 3, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 1);
		conv_case(2, 3, 61, 2, 7, 3, 1, 0, 0, 0, 0, 0, 1, 0);     /* tall and narrow */
		conv_case(2, 17, 2, 61, 18, 3, 1, 0, 0, 0, 0, 0, 1, 1);   /* wide and flat */
		if (p > 0) {   /* cpu_conv3x3's promise, not backend.h's (the gemm path's) */
			conv_alias_case(3, 12, 7, 5, 16, 20, 0, 4);       /* y = x, overlapping */
			conv_alias_case(2, 32, 16, 16, 32, 32, 0, 0);     /* y = x, in place */
		}
		char name[40];
		snprintf(name, sizeof name, "conv2d_%s%s", paths[p].env, paths[p].pass1 ? "_1pass" : "");
		report(name, NMSE_FP32);
		cpu = saved;
		alt->ops->destroy(alt);
	}
	if (!ran)
		SKIP_TEST("this CPU has none of the paths");
}

TEST(groupnorm)
{
	worst = 0;
	static const struct { int n, c, hw, g; } s[] = {
		{ 1, 2, 1, 1 }, { 2, 6, 7, 3 }, { 3, 34, 17, 17 }, { 2, 64, 64, 32 },
		{ 1, 40, 1089, 8 }, { 2, 96, 15, 32 }, { 1, 8, 4097, 2 },
	};
	for (size_t t = 0; t < sizeof s / sizeof *s; t++)
		for (int silu = 0; silu <= 1; silu++)
			for (int inplace = 0; inplace <= 1; inplace++) {
				size_t len = (size_t)s[t].n * s[t].c * s[t].hw;
				/* offset data: a non-zero mean tests the two-pass variance
				 * (not for tiny groups: with |mean| >> std both formulas,
				 * the CPU's x*a+b and ours (x-mean)*rstd, lose digits) */
				float *xi = fvec(len, 2), *g = fvec(s[t].c, 1), *b = fvec(s[t].c, 1), *yi = fvec(len, 1);
				if (s[t].c / s[t].g * s[t].hw >= 16)
					for (size_t i = 0; i < len; i++) xi[i] += 3.0f;
				else {  /* tiny group: std >= 0.5, |gamma| > |beta|, so that
				         * gamma*xhat + beta does not cancel (ill-conditioned) */
					for (size_t i = 0; i < len; i++) xi[i] = (i & 1 ? 1 : -1) * (0.5f + fabsf(xi[i]));
					for (int i = 0; i < s[t].c; i++) { g[i] = 1.0f + fabsf(g[i]); b[i] *= 0.25f; }
				}
				fill_nan(yi, 0, len);
				pair x = mk(len, xi), gp = mk(s[t].c, g), bp = mk(s[t].c, b), y = mk(len, yi);
				pair *out = inplace ? &x : &y;
				cpu->ops->groupnorm(cpu, out->c, x.c, gp.c, bp.c, s[t].n, s[t].c, s[t].hw, s[t].g, 1e-6f, silu);
				vk->ops->groupnorm(vk, out->v, x.v, gp.v, bp.v, s[t].n, s[t].c, s[t].hw, s[t].g, 1e-6f, silu);
				double e = cmp(out);
				note(e);
				CHECK(e <= NMSE_FP32, "groupnorm n%d c%d hw%d g%d silu%d inplace%d: nmse %g",
				      s[t].n, s[t].c, s[t].hw, s[t].g, silu, inplace, e);
				rm(&x); rm(&gp); rm(&bp); rm(&y);
				free(xi); free(g); free(b); free(yi);
			}
	report("groupnorm", NMSE_FP32);
}

TEST(add_chan)
{
	worst = 0;
	static const struct { int n, c, hw; size_t off; } s[] = {
		{ 1, 1, 1, 0 }, { 2, 7, 13, 5 }, { 3, 70, 64, 100 }, { 2, 128, 256, 0 },
	};
	for (size_t t = 0; t < sizeof s / sizeof *s; t++) {
		size_t len = (size_t)s[t].n * s[t].c * s[t].hw, tl = s[t].off + s[t].c + 3;
		float *yi = fvec(len, 1), *ti = fvec(tl, 1);
		pair y = mk(len, yi), tt = mk(tl, ti);
		cpu->ops->add_chan(cpu, y.c, tt.c, s[t].off, s[t].n, s[t].c, s[t].hw);
		vk->ops->add_chan(vk, y.v, tt.v, s[t].off, s[t].n, s[t].c, s[t].hw);
		double e = cmp(&y);
		note(e);
		CHECK(e <= NMSE_FP32, "add_chan n%d c%d hw%d off%zu: nmse %g", s[t].n, s[t].c, s[t].hw, s[t].off, e);
		rm(&y); rm(&tt); free(yi); free(ti);
	}
	report("add_chan", NMSE_FP32);
}

/*
 * Attention bound 1e-9: exp() in the softmax. The CPU uses libm expf
 * (< 1 ulp); Vulkan's exp is only specified to 3 + 2|x| ulp, and the GPU
 * sums with an online (blockwise rescaled) softmax instead of one pass.
 * Logits reach |x| ~ 10 here, so per-weight relative errors up to ~2e-6 are
 * allowed by the spec: nmse ~ (2e-6)^2 = 4e-12 typical; 1e-9 leaves margin
 * while still catching any indexing error (those give nmse > 1e-3).
 */
#define NMSE_ATTN 1e-9

TEST(attention)
{
	worst = 0;
	static const struct { int n, c, hw; } s[] = {
		{ 1, 1, 1 }, { 2, 5, 7 }, { 1, 33, 31 }, { 3, 17, 33 }, { 2, 64, 64 },
		{ 1, 70, 100 }, { 1, 128, 256 }, { 2, 130, 65 },
	};
	for (size_t t = 0; t < sizeof s / sizeof *s; t++) {
		size_t nq = (size_t)s[t].n * 3 * s[t].c * s[t].hw, ny = (size_t)s[t].n * s[t].c * s[t].hw;
		float *qi = fvec(nq, 2.0f), *yi = fvec(ny, 1);
		fill_nan(yi, 0, ny);
		pair q = mk(nq, qi), y = mk(ny, yi);
		float scale = 1.0f / sqrtf((float)s[t].c) * 2.0f;
		cpu->ops->attention(cpu, y.c, q.c, s[t].n, s[t].c, s[t].hw, scale);
		vk->ops->attention(vk, y.v, q.v, s[t].n, s[t].c, s[t].hw, scale);
		double e = cmp(&y);
		note(e);
		CHECK(e <= NMSE_ATTN, "attention n%d c%d hw%d: nmse %g", s[t].n, s[t].c, s[t].hw, e);
		rm(&q); rm(&y); free(qi); free(yi);
	}
	report("attention", NMSE_ATTN);
}

TEST(copy_chan)
{
	worst = 0;
	static const struct { int n, ycs, yco, xcs, xco, cn, hw; } s[] = {
		{ 1, 1, 0, 1, 0, 1, 1 }, { 2, 10, 3, 7, 2, 5, 13 }, { 3, 64, 32, 32, 0, 32, 64 },
		{ 2, 9, 0, 9, 4, 5, 1 },
	};
	for (size_t t = 0; t < sizeof s / sizeof *s; t++) {
		size_t ny = (size_t)s[t].n * s[t].ycs * s[t].hw, nx = (size_t)s[t].n * s[t].xcs * s[t].hw;
		float *yi = fvec(ny, 1), *xi = fvec(nx, 1);
		for (int i = 0; i < s[t].n; i++)
			fill_nan(yi, ((size_t)i * s[t].ycs + s[t].yco) * s[t].hw, (size_t)s[t].cn * s[t].hw);
		pair y = mk(ny, yi), x = mk(nx, xi);
		cpu->ops->copy_chan(cpu, y.c, s[t].ycs, s[t].yco, x.c, s[t].xcs, s[t].xco, s[t].n, s[t].cn, s[t].hw);
		vk->ops->copy_chan(vk, y.v, s[t].ycs, s[t].yco, x.v, s[t].xcs, s[t].xco, s[t].n, s[t].cn, s[t].hw);
		double e = cmp(&y);
		note(e);
		CHECK(e == 0, "copy_chan case %zu: nmse %g (a copy must be exact)", t, e);
		rm(&y); rm(&x); free(yi); free(xi);
	}
	report("copy_chan", 0);
}

/*
 * Noise: the Philox uint32 outputs must match rng.h bit for bit (checked
 * exactly through lmd_vk_noise_raw). The normals use log, sqrt, sin, cos:
 * the shader's own polynomials (shaders/common.glsl) are within ~2 ulp of
 * glibc's (< 1 ulp) for the same fp32 inputs, and each element is a product
 * of two such results, so |vk - cpu| <= ~6 ulp ~ 4e-7 relative: nmse
 * <= (4e-7)^2 ~ 1.6e-13. Bound 1e-12; a wrong counter or formula gives ~1.
 */
#define NMSE_NOISE 1e-12

TEST(noise)
{
	worst = 0;
	static const struct { size_t len, period; uint64_t seed; uint32_t stream; } s[] = {
		{ 1, 1, 0, 0 }, { 7, 7, 1, 2 }, { 1001, 1001, 0x123456789abcdefull, 7 },
		{ 1 << 20, 1 << 20, 42, 0xffffffffu },
		/* repeats: odd periods, a partial last repeat, period > len */
		{ 1001, 77, 3, 1 }, { 100003, 3 * 4097, 9, 4 }, { 10, 1, 5, 5 }, { 13, 100, 6, 6 },
	};
	for (size_t t = 0; t < sizeof s / sizeof *s; t++) {
		size_t len = s[t].len;
		float *zi = fvec(len, 1);
		fill_nan(zi, 0, len);
		pair z = mk(len, zi);
		size_t per = s[t].period;
		cpu->ops->noise(cpu, z.c, len, per, s[t].seed, s[t].stream);
		vk->ops->noise(vk, z.v, len, per, s[t].seed, s[t].stream);
		double e = cmp(&z);
		note(e);
		CHECK(e <= NMSE_NOISE, "noise len %zu period %zu seed %llx stream %u: nmse %g", len, per,
		      (unsigned long long)s[t].seed, s[t].stream, e);
		/* the repeats are exact copies of the first period */
		float *zc = malloc(len * sizeof *zc);
		REQUIRE(zc, "malloc");
		CHECK(cpu->ops->download(cpu, z.c, 0, zc, len) == LMD_OK, "download");
		size_t rbad = 0;
		for (size_t i = per; i < len; i++) rbad += zc[i] != zc[i % per];
		CHECK(rbad == 0, "noise len %zu period %zu: %zu repeated values differ", len, per, rbad);
		free(zc);
		if (per < len) {
			rm(&z); free(zi);
			continue;
		}
		/* the integer part, bit for bit */
		lmd_vk_noise_raw(vk, z.v, len, s[t].seed, s[t].stream);
		uint32_t *got = malloc(len * sizeof *got);
		REQUIRE(got, "malloc");
		CHECK(vk->ops->download(vk, z.v, 0, (float *)got, len) == LMD_OK, "download");
		size_t bad = 0;
		for (size_t b = 0; b < (len + 3) / 4; b++) {
			uint32_t c[4] = { (uint32_t)b, 0, s[t].stream, 0 };
			lmd_philox(c, (uint32_t)s[t].seed, (uint32_t)(s[t].seed >> 32));
			for (size_t j = 0; j < 4 && 4 * b + j < len; j++) bad += got[4 * b + j] != c[j];
		}
		CHECK(bad == 0, "philox len %zu: %zu of %zu words differ", len, bad, len);
		free(got);
		rm(&z); free(zi);
	}
	report("noise", NMSE_NOISE);
}

TEST(sampler_steps)
{
	worst = 0;
	size_t lens[] = { 1, 5, 1000, 300001 };
	for (size_t t = 0; t < sizeof lens / sizeof *lens; t++) {
		size_t len = lens[t];
		float *xi = fvec(len, 1.5f), *x0 = fvec(len, 1), *mi = fvec(len, 1), *zi = fvec(len, 1);
		float *ei = fvec(len, 1);
		for (size_t i = 0; i < len; i++) mi[i] = mi[i] > 0;   /* a binary mask */
		for (int op = 0; op < 5; op++) {
			pair x = mk(len, xi), xz = mk(len, x0), m = mk(len, mi), z = mk(len, zi), e = mk(len, ei);
			const char *name = "";
			switch (op) {
			case 0: name = "replace";
				cpu->ops->replace(cpu, x.c, xz.c, m.c, z.c, 0.7f, 0.3f, len);
				vk->ops->replace(vk, x.v, xz.v, m.v, z.v, 0.7f, 0.3f, len);
				break;
			case 1: name = "ddim";
				cpu->ops->ddim(cpu, x.c, e.c, z.c, 0.8f, 0.6f, 0.9f, 0.35f, 0.2f, len);
				vk->ops->ddim(vk, x.v, e.v, z.v, 0.8f, 0.6f, 0.9f, 0.35f, 0.2f, len);
				break;
			case 2: name = "ddim(z=NULL)";
				cpu->ops->ddim(cpu, x.c, e.c, NULL, 0.3f, 0.95f, 0.5f, 0.86f, 0.0f, len);
				vk->ops->ddim(vk, x.v, e.v, NULL, 0.3f, 0.95f, 0.5f, 0.86f, 0.0f, len);
				break;
			case 3: name = "axpby";
				cpu->ops->axpby(cpu, x.c, z.c, 0.9f, -0.4f, len);
				vk->ops->axpby(vk, x.v, z.v, 0.9f, -0.4f, len);
				break;
			case 4: name = "replace(z=NULL)";
				cpu->ops->replace(cpu, x.c, xz.c, m.c, NULL, 0.7f, 0.3f, len);
				vk->ops->replace(vk, x.v, xz.v, m.v, NULL, 0.7f, 0.3f, len);
				break;
			}
			double r = cmp(&x);
			note(r);
			CHECK(r <= NMSE_FP32, "%s len %zu: nmse %g", name, len, r);
			rm(&x); rm(&xz); rm(&m); rm(&z); rm(&e);
		}
		free(xi); free(x0); free(mi); free(zi); free(ei);
	}
	report("sampler", NMSE_FP32);
}

/*
 * A dependent chain like one U-Net block, recorded without any sync: it must
 * be ONE submit (the download) and equal the CPU result, which exercises the
 * barriers between dispatches (read-after-write, write-after-read, in place).
 */
static void chain(void)
{
	int n = 2, c = 32, h = 12, w = 10, hw = h * w;
	size_t len = (size_t)n * c * hw;
	float *xi = fvec(len, 1), *wi = fvec((size_t)c * c * 9, 0.06f), *bi = fvec(c, 0.1f);
	float *gi = fvec(c, 1), *qi = fvec((size_t)3 * c * c, 0.2f), *ti = fvec(c, 1);
	pair x = mk(len, xi), h1 = mk(len, NULL), h2 = mk(len, NULL), cat = mk(2 * len, NULL);
	pair wt = mk((size_t)c * c * 9, wi), b = mk(c, bi), g = mk(c, gi), qkvw = mk((size_t)3 * c * c, qi);
	pair qkv = mk(3 * len, NULL), at = mk(len, NULL), z = mk(len, NULL), tt = mk(c, ti);
	uint64_t s0 = lmd_vk_submits(vk);
	for (int pass = 0; pass < 2; pass++) {
		lmd_be *be = pass ? vk : cpu;
		#define B(p) (pass ? (p).v : (p).c)
		be->ops->groupnorm(be, B(h1), B(x), B(g), B(b), n, c, hw, 8, 1e-6f, 1);
		be->ops->conv2d(be, B(h2), c, 0, B(h1), c, 0, B(wt), B(b), NULL, n, c, h, w, c, 3, 1, 0);
		be->ops->add_chan(be, B(h2), B(tt), 0, n, c, hw);
		be->ops->groupnorm(be, B(h2), B(h2), B(g), B(b), n, c, hw, 8, 1e-6f, 1);
		be->ops->conv2d(be, B(h1), c, 0, B(h2), c, 0, B(wt), B(b), B(x), n, c, h, w, c, 3, 1, 0);
		be->ops->conv2d(be, B(qkv), 3 * c, 0, B(h1), c, 0, B(qkvw), NULL, NULL, n, c, h, w, 3 * c, 1, 1, 0);
		be->ops->attention(be, B(at), B(qkv), n, c, hw, 1.0f / sqrtf((float)c));
		be->ops->copy_chan(be, B(cat), 2 * c, 0, B(at), c, 0, n, c, hw);
		be->ops->copy_chan(be, B(cat), 2 * c, c, B(h1), c, 0, n, c, hw);
		be->ops->noise(be, B(z), len, len, 5, 1);
		be->ops->conv2d(be, B(x), c, 0, B(cat), 2 * c, c, B(wt), B(b), B(z), n, c, h, w, c, 3, 1, 0);
		be->ops->axpby(be, B(x), B(z), 0.5f, 0.25f, len);
		#undef B
	}
	double e = cmp(&x);
	CHECK(e <= NMSE_ATTN, "chain: nmse %g", e);
	CHECK(lmd_vk_submits(vk) - s0 == 1, "chain took %llu submits, want 1",
	      (unsigned long long)(lmd_vk_submits(vk) - s0));
	printf("  chain      nmse %.3g, %llu submit(s)\n", e, (unsigned long long)(lmd_vk_submits(vk) - s0));
	rm(&x); rm(&h1); rm(&h2); rm(&cat); rm(&wt); rm(&b); rm(&g); rm(&qkvw); rm(&qkv); rm(&at); rm(&z); rm(&tt);
	free(xi); free(wi); free(bi); free(gi); free(qi); free(ti);
}

TEST(chain) { chain(); }

TEST(errors)
{
	lmd_buf *a = vk->ops->alloc(vk, 16), *b = vk->ops->alloc(vk, 16);
	REQUIRE(a && b, "alloc");
	/* x too small for the conv: recorded as an error, reported by sync */
	vk->ops->conv2d(vk, a, 1, 0, b, 1, 0, b, NULL, NULL, 1, 1, 8, 8, 1, 3, 1, 0);
	lmd_err e = vk->ops->sync(vk);
	CHECK(e == LMD_ERR_ARG, "sync after a bad conv returned %d", e);
	CHECK(strstr(lmd_errmsg(), "conv2d") != NULL, "message \"%s\" does not name the op", lmd_errmsg());
	vk->ops->groupnorm(vk, a, a, b, b, 1, 6, 2, 4, 1e-6f, 0);   /* 6 % 4 != 0 */
	CHECK(vk->ops->sync(vk) == LMD_ERR_ARG, "bad groups accepted");
	CHECK(vk->ops->alloc(vk, (size_t)1 << 40) == NULL, "huge alloc succeeded");
	CHECK(vk->ops->sync(vk) == LMD_OK, "backend not usable after errors: %s", lmd_errmsg());
	vk->ops->free(vk, a);
	vk->ops->free(vk, b);
}

/* The fallbacks a discrete GPU or an older driver takes: descriptor pools
 * (no push descriptors) and device-local memory with staging copies; and
 * grids wider than maxComputeWorkGroupCount[0] (forced down to 3), which
 * conv2d and groupnorm split into several dispatches. */
TEST(fallback_paths)
{
	lmd_be *saved = vk, *alt = NULL;
	setenv("LMDD_VK_NO_PUSH", "1", 1);
	setenv("LMDD_VK_NO_UMA", "1", 1);
	setenv("LMDD_VK_TEST_MAX_WG_X", "3", 1);   /* grids split into several dispatches */
	lmd_err e = lmd_vk_backend_new(-1, NULL, &alt);
	unsetenv("LMDD_VK_NO_PUSH");
	unsetenv("LMDD_VK_NO_UMA");
	unsetenv("LMDD_VK_TEST_MAX_WG_X");
	REQUIRE(e == LMD_OK, "backend with fallbacks: %s", lmd_errmsg());
	CHECK(!lmd_vk_push_descriptors(alt), "push descriptors still on");
	vk = alt;
	worst = 0;
	chain();
	conv_case(2, 13, 9, 7, 33, 3, 2, 0, 3, 2, 1, 1, 1, 1);
	conv_case(3, 8, 17, 13, 20, 3, 1, 1, 0, 0, 0, 0, 1, 1);   /* 42 column tiles */
	{
		int n = 3, c = 12, hw = 50, g = 4;     /* 12 groups of workgroups */
		size_t len = (size_t)n * c * hw;
		float *xi = fvec(len, 1), *gi = fvec(c, 1), *yi = fvec(len, 1);
		fill_nan(yi, 0, len);
		pair x = mk(len, xi), gp = mk(c, gi), y = mk(len, yi);
		cpu->ops->groupnorm(cpu, y.c, x.c, gp.c, gp.c, n, c, hw, g, 1e-6f, 1);
		vk->ops->groupnorm(vk, y.v, x.v, gp.v, gp.v, n, c, hw, g, 1e-6f, 1);
		double r = cmp(&y);
		CHECK(r <= NMSE_FP32, "split groupnorm: nmse %g", r);
		rm(&x); rm(&gp); rm(&y); free(xi); free(gi); free(yi);
	}
	/* more dispatches than one descriptor pool holds (512 sets) */
	pair x = mk(1000, NULL);
	float *zero = calloc(1000, sizeof *zero), *one = malloc(1000 * sizeof *one);
	for (int i = 0; i < 1000; i++) one[i] = 1.0f;
	vk->ops->upload(vk, x.v, 0, zero, 1000);
	cpu->ops->upload(cpu, x.c, 0, zero, 1000);
	pair o = mk(1000, one);
	for (int i = 0; i < 1200; i++) {
		vk->ops->axpby(vk, x.v, o.v, 1.0f, 1.0f, 1000);
		cpu->ops->axpby(cpu, x.c, o.c, 1.0f, 1.0f, 1000);
	}
	double r = cmp(&x);
	CHECK(r == 0, "1200 dependent axpby: nmse %g", r);
	rm(&x); rm(&o); free(zero); free(one);
	CHECK(lmd_vk_validation_errors(alt) <= 0, "validation errors");
	vk = saved;
	alt->ops->destroy(alt);
}

TEST(device_choice)
{
	lmd_be *b = NULL;
	CHECK(lmd_vk_backend_new(99, NULL, &b) == LMD_ERR_ARG, "index 99 accepted");
	CHECK(lmd_vk_backend_new(-1, "no-such-gpu-xyz", &b) == LMD_ERR_ARG, "bogus name accepted");
	char names[4][256];
	int n = lmd_vulkan_devices(names, 4);
	REQUIRE(n >= 1, "no devices");
	char sub[8];
	snprintf(sub, sizeof sub, "%.4s", vk->ops->device(vk));
	CHECK(lmd_vk_backend_new(-1, sub, &b) == LMD_OK, "name \"%s\": %s", sub, lmd_errmsg());
	if (b) { b->ops->destroy(b); b = NULL; }
	setenv("LMDD_VK_DEVICE", "0", 1);
	CHECK(lmd_vk_backend_new(-1, NULL, &b) == LMD_OK, "LMDD_VK_DEVICE=0: %s", lmd_errmsg());
	unsetenv("LMDD_VK_DEVICE");
	if (b) b->ops->destroy(b);
}

TEST(validation)
{
	int n = lmd_vk_validation_errors(vk);
	if (n < 0)
		printf("  validation layer not active (Debian: vulkan-validationlayers)\n");
	else
		printf("  validation layer with sync validation: %d errors\n", n);
	CHECK(n <= 0, "%d validation errors", n);
}

/* ---- perf mode ------------------------------------------------------------ */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const char *name; double flop; } perf_case;

/* run op rep times on be (recorded back to back, one sync), seconds per op */
#define TIME(be, reps, call) ({ \
	call; (be)->ops->sync(be);  /* warm-up */ \
	int r_ = reps; double t0_ = now(); \
	for (int i_ = 0; i_ < r_; i_++) { call; } \
	(be)->ops->sync(be); (now() - t0_) / r_; })

static void perf_line(const char *name, double flop, double tc, double tv)
{
	printf("%-34s cpu %9.3f ms %7.1f GFLOP/s | vulkan %9.3f ms %7.1f GFLOP/s\n", name,
	       tc * 1e3, flop / tc * 1e-9, tv * 1e3, flop / tv * 1e-9);
}

static const char *perf_only;   /* test_ops --perf SUBSTRING: only matching cases */
static int perf_skip(const char *name) { return perf_only && !strstr(name, perf_only); }

static void perf_conv(const char *name, int n, int cin, int h, int w, int cout, int k, int stride,
                      int up, int reps)
{
	if (perf_skip(name)) return;
	int oh = ((h << up) + stride - 1) / stride, ow = ((w << up) + stride - 1) / stride;
	size_t nx = (size_t)n * cin * h * w, ny = (size_t)n * cout * oh * ow, nw = (size_t)cout * cin * k * k;
	float *xi = fvec(nx, 1), *wi = fvec(nw, 0.05f), *bi = fvec(cout, 1);
	pair x = mk(nx, xi), wt = mk(nw, wi), b = mk(cout, bi), y = mk(ny, NULL);
	double flop = 2.0 * ny * cin * k * k;
	double tc = TIME(cpu, reps, cpu->ops->conv2d(cpu, y.c, cout, 0, x.c, cin, 0, wt.c, b.c, NULL, n, cin, h, w, cout, k, stride, up));
	double tv = TIME(vk, reps, vk->ops->conv2d(vk, y.v, cout, 0, x.v, cin, 0, wt.v, b.v, NULL, n, cin, h, w, cout, k, stride, up));
	perf_line(name, flop, tc, tv);
	rm(&x); rm(&wt); rm(&b); rm(&y); free(xi); free(wi); free(bi);
}

static int perf(void)
{
	printf("device: %s\n", vk->ops->device(vk));
	perf_conv("conv3x3 64->64 64x64 b8", 8, 64, 64, 64, 64, 3, 1, 0, 3);
	perf_conv("conv3x3 32->32 64x64 b8 (bench L0)", 8, 32, 64, 64, 32, 3, 1, 0, 3);
	perf_conv("conv3x3 64->64 16x16 b8 (bench L2)", 8, 64, 16, 16, 64, 3, 1, 0, 3);
	perf_conv("conv3x3 128->128 32x32 b8", 8, 128, 32, 32, 128, 3, 1, 0, 3);
	perf_conv("conv3x3 s2 64->64 64x64 b8", 8, 64, 64, 64, 64, 3, 2, 0, 3);
	perf_conv("conv3x3 up 128->128 16x16 b8", 8, 128, 16, 16, 128, 3, 1, 1, 3);
	perf_conv("conv1x1 128->64 32x32 b8", 8, 128, 32, 32, 64, 1, 1, 0, 3);
	perf_conv("conv3x3 1->32 120x180 b8 (conv_in)", 8, 1, 120, 180, 32, 3, 1, 0, 3);
	if (!perf_skip("groupnorm ddim noise")) {
		int n = 8, c = 64, hw = 64 * 64;
		size_t len = (size_t)n * c * hw;
		float *xi = fvec(len, 1), *gi = fvec(c, 1);
		pair x = mk(len, xi), g = mk(c, gi), y = mk(len, NULL);
		double tc = TIME(cpu, 5, cpu->ops->groupnorm(cpu, y.c, x.c, g.c, g.c, n, c, hw, 32, 1e-6f, 1));
		double tv = TIME(vk, 5, vk->ops->groupnorm(vk, y.v, x.v, g.v, g.v, n, c, hw, 32, 1e-6f, 1));
		perf_line("groupnorm+silu 64ch 64x64 b8", 8.0 * len, tc, tv);
		tc = TIME(cpu, 5, cpu->ops->ddim(cpu, x.c, y.c, NULL, 0.5f, 0.8f, 0.6f, 0.3f, 0.0f, len));
		tv = TIME(vk, 5, vk->ops->ddim(vk, x.v, y.v, NULL, 0.5f, 0.8f, 0.6f, 0.3f, 0.0f, len));
		perf_line("ddim 2M elements", 10.0 * len, tc, tv);
		tc = TIME(cpu, 5, cpu->ops->noise(cpu, y.c, len, len, 1, 2));
		tv = TIME(vk, 5, vk->ops->noise(vk, y.v, len, len, 1, 2));
		perf_line("noise 2M elements", 0, tc, tv);
		rm(&x); rm(&g); rm(&y); free(xi); free(gi);
	}
	static const struct { int n, c, hw; const char *name; } at[] = {
		{ 8, 64, 256, "attention c64 16x16 b8" },
		{ 8, 128, 256, "attention c128 16x16 b8" },
		{ 8, 64, 1350, "attention c64 30x45 b8" },
	};
	for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
		if (perf_skip(at[i].name)) continue;
		size_t nq = (size_t)at[i].n * 3 * at[i].c * at[i].hw, ny = nq / 3;
		float *qi = fvec(nq, 1);
		pair q = mk(nq, qi), y = mk(ny, NULL);
		double flop = 4.0 * at[i].n * at[i].c * (double)at[i].hw * at[i].hw;
		double tc = TIME(cpu, 3, cpu->ops->attention(cpu, y.c, q.c, at[i].n, at[i].c, at[i].hw, 0.1f));
		double tv = TIME(vk, 3, vk->ops->attention(vk, y.v, q.v, at[i].n, at[i].c, at[i].hw, 0.1f));
		perf_line(at[i].name, flop, tc, tv);
		rm(&q); rm(&y); free(qi);
	}
	if (!perf_skip("tiny op overhead")) {
		/* recording + dispatch overhead: many tiny dependent ops, one submit */
		float one = 1;
		pair x = mk(1, &one);
		double tc = TIME(cpu, 2000, cpu->ops->axpby(cpu, x.c, x.c, 1.0f, 0.0f, 1));
		double tv = TIME(vk, 2000, vk->ops->axpby(vk, x.v, x.v, 1.0f, 0.0f, 1));
		double t0 = now();
		for (int i = 0; i < 2000; i++) vk->ops->axpby(vk, x.v, x.v, 1.0f, 0.0f, 1);
		double trec = (now() - t0) / 2000;
		vk->ops->sync(vk);
		printf("%-34s cpu %9.3f us/op | vulkan %9.3f us/op (dependent, one submit; "
		       "recording alone %.2f us/op, %s descriptors)\n", "tiny op overhead", tc * 1e6, tv * 1e6,
		       trec * 1e6, lmd_vk_push_descriptors(vk) ? "push" : "pooled");
		rm(&x);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);   /* whole lines even when killed by a timeout */
	int perf_mode = argc > 1 && strcmp(argv[1], "--perf") == 0;
	if (perf_mode && argc > 2) perf_only = argv[2];
	/* op tests run under the validation layer (with synchronization
	 * validation) whenever it is installed; LMDD_VK_VALIDATE=0 turns it off.
	 * Not by default under ASan: the layer's C++ allocations outlive its
	 * dlclose and LeakSanitizer reports them from an unknown module. */
#ifndef __SANITIZE_ADDRESS__
	if (!perf_mode) setenv("LMDD_VK_VALIDATE", "1", 0);
#endif
	if (lmd_cpu_backend_new(&cpu)) {
		printf("FAIL cpu_backend\n");
		fprintf(stderr, "cpu backend: %s\n", lmd_errmsg());
		return 1;
	}
	lmd_err e = lmd_vk_backend_new(-1, NULL, &vk);
	if (e) {
		const char *no = getenv("LMDD_NO_VULKAN");
		if (no && strcmp(no, "1") == 0 && !perf_mode) {
			SKIP_ALL("no Vulkan device (%s); LMDD_NO_VULKAN=1", lmd_errmsg());
			vk = NULL;
		} else {
		fprintf(stderr, "  no Vulkan backend: %s (set LMDD_NO_VULKAN=1 to skip)\n", lmd_errmsg());
		printf("FAIL vulkan_backend\n");
		cpu->ops->destroy(cpu);
		return 1;
		}
	}
	if (perf_mode) {
		perf();
	} else {
		RUN(devices);
		RUN(upload_download);
		RUN(conv2d);
		RUN(conv2d_small_tiles);
		RUN(conv2d_cpu_paths);
		RUN(groupnorm);
		RUN(add_chan);
		RUN(attention);
		RUN(copy_chan);
		RUN(noise);
		RUN(sampler_steps);
		RUN(chain);
		RUN(errors);
		RUN(fallback_paths);
		RUN(device_choice);
		RUN(validation);
	}
	if (vk)
		vk->ops->destroy(vk);
	cpu->ops->destroy(cpu);
	CHECK_EXIT();
}
