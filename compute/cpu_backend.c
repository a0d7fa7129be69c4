/*
 * cpu_backend.c — the C reference backend: every op of backend.h on host
 * memory, executed immediately.
 *
 * Facts behind the design:
 *  - Convolutions are implicit GEMMs through OpenBLAS cblas_sgemm. The
 *    output rows of all images of the batch are processed together, in
 *    tiles of whole rows (about COL_TILE pixels), each OpenMP thread taking
 *    whole tiles with single-threaded OpenBLAS (one thread pool, no
 *    barrier between im2col, GEMM and epilogue): im2col of one tile
 *    (K = Cin*k*k rows, each a memcpy for stride 1) stays in L2-sized
 *    memory, one sgemm per tile computes Cout x tile, and a fused epilogue
 *    adds bias and residual while scattering to NCHW. Small late-level
 *    images (8x8) thus still give OpenBLAS large products.
 *  - 3x3 stride-1 convolutions (most of the FLOPs; also those with the
 *    fused upsample) go to cpu_conv.c (Winograd F(4,3), AVX-512 / AVX2)
 *    where the CPU has AVX2, and so do 3x3 stride-2 (without upsample)
 *    and 1x1 ones (register-blocked direct kernels); the GEMM path below
 *    is for the rest and for CPUs without AVX2 (or LMDD_CPU_CONV=gemm,
 *    which tests use to check one path against the other).
 *  - 1x1 stride-1 convs go to cpu_conv.c's register-blocked kernel (AVX2
 *    or AVX-512; 11.5% of the bench as sgemm + a bias pass, ~9% faster
 *    overall). Without it (gemm, no AVX2) they need no im2col either: the
 *    input slice is the sgemm operand.
 *  - The nearest x2 upsample is folded into the im2col index arithmetic.
 *  - Everything else is OpenMP-parallel loops; reductions (GroupNorm,
 *    softmax) accumulate in double (GroupNorm: float sums of 4096-element
 *    blocks, vectorised, added in double), so this backend is the accuracy
 *    reference the Vulkan backend is checked against. GroupNorm + SiLU and
 *    the attention softmax are cloned per ISA and use libmvec's SIMD expf
 *    (the softmax's scalar expf loop was 8% of the bench).
 */
#define _GNU_SOURCE /* cblas.h declares openblas_setaffinity(cpu_set_t *) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <omp.h>
#include "backend.h"
#include "cpu_conv.h"
#include "err.h"
#include "rng.h"

#define COL_TILE 2048

struct lmd_buf {
	size_t n;
	float *p;
};

#define MAX_THREADS 256

typedef struct {
	float *col;     /* im2col scratch, grown on demand */
	size_t col_n;
	float *out;     /* gemm output tile */
	size_t out_n;
	float *att;     /* attention scores */
	size_t att_n;
} scratch;

typedef struct {
	lmd_be be;
	int nth;
	cpu_conv *dc;           /* 3x3 stride-1 convs, NULL without AVX2/AVX-512 */
	char dev[64];
	scratch s[MAX_THREADS]; /* one per OpenMP thread */
} cpu_be;

static void cpu_destroy(lmd_be *be)
{
	cpu_be *c = (cpu_be *)be;
	for (int i = 0; i < MAX_THREADS; i++) {
		free(c->s[i].col);
		free(c->s[i].out);
		free(c->s[i].att);
	}
	cpu_conv_destroy(&c->dc);
	free(c);
}

static const char *cpu_device(lmd_be *be)
{
	return ((cpu_be *)be)->dev;
}

static lmd_buf *cpu_alloc(lmd_be *be, size_t n)
{
	lmd_buf *b = malloc(sizeof *b);
	if (!b)
		return NULL;
	b->n = n;
	b->p = malloc((n ? n : 1) * sizeof(float));
	if (!b->p) {
		free(b);
		return NULL;
	}
	return b;
}

static void cpu_free(lmd_be *be, lmd_buf *b)
{
	if (b) {
		free(b->p);
		free(b);
	}
}

static lmd_err cpu_upload(lmd_be *be, lmd_buf *d, size_t off, const float *s, size_t n)
{
	if (off > d->n || n > d->n - off)
		return lmd_seterr(LMD_ERR_ARG, "upload of %zu floats at %zu overflows a %zu-float buffer", n, off, d->n);
	memcpy(d->p + off, s, n * sizeof(float));
	return LMD_OK;
}

static lmd_err cpu_download(lmd_be *be, lmd_buf *s, size_t off, float *d, size_t n)
{
	if (off > s->n || n > s->n - off)
		return lmd_seterr(LMD_ERR_ARG, "download of %zu floats at %zu overflows a %zu-float buffer", n, off, s->n);
	memcpy(d, s->p + off, n * sizeof(float));
	return LMD_OK;
}

static lmd_err cpu_sync(lmd_be *be)
{
	return LMD_OK;
}

/* y[n] (+)= W x[n] for a 1x1 stride-1 conv: the input slice is already the
 * GEMM operand (channels are rows of hw floats), so no im2col. */
static void conv1x1(const lmd_buf *y, int y_cs, int y_co, const lmd_buf *x, int x_cs, int x_co,
                    const float *Wt, int n, int cin, size_t hw, int cout)
{
	#pragma omp parallel for schedule(dynamic)
	for (int img = 0; img < n; img++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, (int)hw, cin, 1.0f, Wt, cin,
		            x->p + ((size_t)img * x_cs + x_co) * hw, (int)hw, 0.0f,
		            y->p + ((size_t)img * y_cs + y_co) * hw, (int)hw);
}

static void cpu_conv2d(lmd_be *be, lmd_buf *y, int y_cs, int y_co,
                       const lmd_buf *x, int x_cs, int x_co,
                       const lmd_buf *w, const lmd_buf *b, const lmd_buf *r,
                       int n, int cin, int h, int wd, int cout, int k, int stride, int up)
{
	cpu_be *c = (cpu_be *)be;
	int ih = h * (1 + up), iw = wd * (1 + up);           /* logical input size */
	int oh = (ih + stride - 1) / stride, ow = (iw + stride - 1) / stride;
	int pad = k / 2, K = cin * k * k;
	size_t ohw = (size_t)oh * ow, xhw = (size_t)h * wd;
	const float *X = x->p, *Wt = w->p, *B = b ? b->p : NULL, *R = r ? r->p : NULL;
	float *Y = y->p;

	if (k == 3 && stride == 1 && c->dc &&
	    cpu_conv3x3(c->dc, Y, y_cs, y_co, X, x_cs, x_co, Wt, B, R, n, cin, h, wd, cout, up) == 0)
		return;
	if (k == 3 && stride == 2 && !up && X != Y && c->dc &&
	    cpu_conv3x3s2(c->dc, Y, y_cs, y_co, X, x_cs, x_co, Wt, B, R, n, cin, h, wd, cout) == 0)
		return;
	if (k == 1 && stride == 1 && !up && X != Y && c->dc &&
	    cpu_conv1x1(c->dc, Y, y_cs, y_co, X, x_cs, x_co, Wt, B, R, n, cin, ohw, cout) == 0)
		return;
	if (k == 1 && stride == 1 && !up && X != Y) {
		conv1x1(y, y_cs, y_co, x, x_cs, x_co, Wt, n, cin, ohw, cout);
		#pragma omp parallel for schedule(static) if ((size_t)n * cout * ohw > 65536)
		for (int i = 0; i < n * cout; i++) {
			int img = i / cout, co = i % cout;
			float *dst = Y + ((size_t)img * y_cs + y_co + co) * ohw, bias = B ? B[co] : 0.0f;
			const float *res = R ? R + ((size_t)img * cout + co) * ohw : NULL;
			for (size_t j = 0; j < ohw; j++)
				dst[j] += bias + (res ? res[j] : 0.0f);
		}
		return;
	}

	/* Tiles of whole output rows over the (image, row) space, about COL_TILE
	 * pixels each but at least one tile per thread; each thread takes whole
	 * tiles (im2col, single-threaded sgemm, epilogue) with no barrier. */
	int rows_total = n * oh, nth = c->nth;
	int tile_rows = COL_TILE / ow > 0 ? COL_TILE / ow : 1;
	int fair = (rows_total + nth - 1) / nth;
	if (fair < tile_rows)
		tile_rows = fair;
	int ntiles = (rows_total + tile_rows - 1) / tile_rows;
	#pragma omp parallel for schedule(dynamic) num_threads(nth)
	for (int tile = 0; tile < ntiles; tile++) {
		scratch *sc = &c->s[omp_get_thread_num()];
		int r0 = tile * tile_rows;
		int nr = rows_total - r0 < tile_rows ? rows_total - r0 : tile_rows;
		int tn = nr * ow;
		float *col = cpu_grow(&sc->col, &sc->col_n, (size_t)K * tile_rows * ow);
		float *out = cpu_grow(&sc->out, &sc->out_n, (size_t)cout * tile_rows * ow);
		if (!col || !out)
			abort(); /* scratch is small (K x ~2048); failure means the process is out of memory */
		/* im2col: row (ci, ky, kx); column (tile row, ox) */
		for (int row = 0; row < K; row++) {
			int ci = row / (k * k), ky = row / k % k, kx = row % k;
			for (int q = 0; q < nr; q++) {
				int img = (r0 + q) / oh, oy = (r0 + q) % oh;
				float *dst = col + (size_t)row * tn + (size_t)q * ow;
				int iy = oy * stride + ky - pad;
				if (iy < 0 || iy >= ih) {
					memset(dst, 0, sizeof(float) * (size_t)ow);
					continue;
				}
				const float *src = X + ((size_t)img * x_cs + x_co + ci) * xhw + (size_t)(iy >> up) * wd;
				if (stride == 1 && !up) {
					/* contiguous: src[ox + kx - pad], zero outside [0, iw) */
					int lo = pad - kx > 0 ? pad - kx : 0, hi = iw + pad - kx < ow ? iw + pad - kx : ow;
					for (int ox = 0; ox < lo; ox++)
						dst[ox] = 0.0f;
					if (hi > lo)
						memcpy(dst + lo, src + lo + kx - pad, sizeof(float) * (size_t)(hi - lo));
					for (int ox = hi > lo ? hi : lo; ox < ow; ox++)
						dst[ox] = 0.0f;
				} else {
					for (int ox = 0; ox < ow; ox++) {
						int ix = ox * stride + kx - pad;
						dst[ox] = ix >= 0 && ix < iw ? src[ix >> up] : 0.0f;
					}
				}
			}
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, tn, K,
		            1.0f, Wt, K, col, tn, 0.0f, out, tn);
		/* epilogue: bias + residual, scatter rows to the NCHW slice */
		for (int co = 0; co < cout; co++) {
			float bias = B ? B[co] : 0.0f;
			for (int q = 0; q < nr; q++) {
				int img = (r0 + q) / oh, oy = (r0 + q) % oh;
				const float *src = out + (size_t)co * tn + (size_t)q * ow;
				float *dst = Y + ((size_t)img * y_cs + y_co + co) * ohw + (size_t)oy * ow;
				const float *res = R ? R + ((size_t)img * cout + co) * ohw + (size_t)oy * ow : NULL;
				for (int ox = 0; ox < ow; ox++)
					dst[ox] = src[ox] + bias + (res ? res[ox] : 0.0f);
			}
		}
	}
}

/* glibc's libmvec has SIMD expf for each x86-64 ISA level; math.h
 * declares it only under -ffast-math. Declared here, the SiLU loop below
 * calls the 4-, 8- or 16-wide variant (<= 4 ulp) instead of scalar expf. */
float expf(float) __attribute__((simd("notinbranch")));

/* Sums in float over blocks of GN_BLOCK, the blocks in double: vectorised,
 * and as accurate as the reference needs (block sums of <= 4096 terms). */
#define GN_BLOCK 4096

/* One (image, group): statistics, then affine (+ SiLU) per channel. Cloned
 * for AVX-512 / AVX2 / baseline and picked by the loader (ifunc). */
__attribute__((target_clones("avx512f", "avx2,fma", "default")))
void lmd_cpu_gn_group(float *y, const float *x, const float *gamma, const float *beta,
                      int cg, int hw, float eps, int silu)
{
	size_t len = (size_t)cg * hw;
	double s = 0, ss = 0;
	for (size_t i0 = 0; i0 < len; i0 += GN_BLOCK) {
		size_t i1 = len - i0 < GN_BLOCK ? len : i0 + GN_BLOCK;
		float f = 0.0f;
		#pragma omp simd reduction(+:f)
		for (size_t i = i0; i < i1; i++)
			f += x[i];
		s += f;
	}
	float mu = (float)(s / (double)len);
	for (size_t i0 = 0; i0 < len; i0 += GN_BLOCK) {
		size_t i1 = len - i0 < GN_BLOCK ? len : i0 + GN_BLOCK;
		float f = 0.0f;
		#pragma omp simd reduction(+:f)
		for (size_t i = i0; i < i1; i++)
			f += (x[i] - mu) * (x[i] - mu);
		ss += f;
	}
	double inv = 1.0 / sqrt(ss / (double)len + eps);
	for (int cc = 0; cc < cg; cc++) {
		/* (x - mean) * (g * inv) + b: centring first keeps precision when |mean| >> std */
		float a = (float)(gamma[cc] * inv), bb = beta[cc];
		const float *xr = x + (size_t)cc * hw;
		float *yr = y + (size_t)cc * hw;
		if (silu) {
			#pragma omp simd
			for (int i = 0; i < hw; i++) {
				float v = (xr[i] - mu) * a + bb;
				yr[i] = v / (1.0f + expf(-v));
			}
		} else {
			#pragma omp simd
			for (int i = 0; i < hw; i++)
				yr[i] = (xr[i] - mu) * a + bb;
		}
	}
}

static void cpu_groupnorm(lmd_be *be, lmd_buf *y, const lmd_buf *x,
                          const lmd_buf *gamma, const lmd_buf *beta,
                          int n, int c, int hw, int groups, float eps, int silu)
{
	int cg = c / groups;
	#pragma omp parallel for schedule(static)
	for (int ng = 0; ng < n * groups; ng++) {
		int img = ng / groups, g = ng % groups;
		size_t base = ((size_t)img * c + (size_t)g * cg) * hw;
		lmd_cpu_gn_group(y->p + base, x->p + base, gamma->p + g * cg, beta->p + g * cg, cg, hw, eps, silu);
	}
}

static void cpu_add_chan(lmd_be *be, lmd_buf *y, const lmd_buf *t, size_t off, int n, int c, int hw)
{
	float *Y = y->p;
	const float *T = t->p + off;
	#pragma omp parallel for schedule(static) if ((size_t)n * c * hw > 32768)
	for (int nc = 0; nc < n * c; nc++) {
		float v = T[nc % c];
		float *row = Y + (size_t)nc * hw;
		for (int i = 0; i < hw; i++)
			row[i] += v;
	}
}

/* One row of the attention scores, in place: exp(x - max) / sum, the exps
 * through libmvec's SIMD expf (the scalar expf loop was 8% of the bench),
 * summed in float over GN_BLOCK blocks and the blocks in double. Cloned
 * per ISA like lmd_cpu_gn_group. */
__attribute__((target_clones("avx512f", "avx2,fma", "default")))
void lmd_cpu_softmax_row(float *row, int n)
{
	float mx = row[0];
	#pragma omp simd reduction(max:mx)
	for (int j = 1; j < n; j++)
		mx = row[j] > mx ? row[j] : mx;
	double sum = 0;
	for (int j0 = 0; j0 < n; j0 += GN_BLOCK) {
		int j1 = n - j0 < GN_BLOCK ? n : j0 + GN_BLOCK;
		float f = 0.0f;
		#pragma omp simd reduction(+:f)
		for (int j = j0; j < j1; j++) {
			row[j] = expf(row[j] - mx);
			f += row[j];
		}
		sum += f;
	}
	float inv = (float)(1.0 / sum);
	#pragma omp simd
	for (int j = 0; j < n; j++)
		row[j] *= inv;
}

static void cpu_attention(lmd_be *be, lmd_buf *y, const lmd_buf *qkv, int n, int c, int hw, float scale)
{
	cpu_be *cb = (cpu_be *)be;
	#pragma omp parallel for schedule(dynamic) num_threads(cb->nth)
	for (int img = 0; img < n; img++) {
		scratch *sc = &cb->s[omp_get_thread_num()];
		float *S = cpu_grow(&sc->att, &sc->att_n, (size_t)hw * hw);
		if (!S)
			abort();
		const float *q = qkv->p + (size_t)img * 3 * c * hw;
		const float *k = q + (size_t)c * hw, *v = k + (size_t)c * hw;
		float *o = y->p + (size_t)img * c * hw;
		/* S[i, j] = scale * sum_c q[c, i] k[c, j] */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, hw, hw, c,
		            scale, q, hw, k, hw, 0.0f, S, hw);
		for (int i = 0; i < hw; i++)
			lmd_cpu_softmax_row(S + (size_t)i * hw, hw);
		/* o[c, i] = sum_j v[c, j] S[i, j] */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, hw, hw,
		            1.0f, v, hw, S, hw, 0.0f, o, hw);
	}
}

static void cpu_copy_chan(lmd_be *be, lmd_buf *y, int y_cs, int y_co,
                          const lmd_buf *x, int x_cs, int x_co, int n, int c_n, int hw)
{
	#pragma omp parallel for schedule(static) if ((size_t)n * c_n * hw > 32768)
	for (int i = 0; i < n * c_n; i++) {
		int img = i / c_n, ch = i % c_n;
		memcpy(y->p + ((size_t)img * y_cs + y_co + ch) * hw,
		       x->p + ((size_t)img * x_cs + x_co + ch) * hw, (size_t)hw * sizeof(float));
	}
}

static void cpu_noise(lmd_be *be, lmd_buf *z, size_t len, size_t period, uint64_t seed, uint32_t stream)
{
	float *Z = z->p;
	size_t n1 = period < len ? period : len;
	long long nb = (long long)((n1 + 3) / 4);
	#pragma omp parallel for schedule(static)
	for (long long b = 0; b < nb; b++) {
		float g[4];
		lmd_gauss4(seed, stream, (uint64_t)b, g);
		for (int j = 0; j < 4; j++) {
			size_t i = (size_t)b * 4 + (size_t)j;
			if (i < n1)
				Z[i] = g[j];
		}
	}
	#pragma omp parallel for schedule(static) if (len - n1 > 32768)
	for (size_t i = n1; i < len; i += n1)   /* the repeats */
		memcpy(Z + i, Z, (len - i < n1 ? len - i : n1) * sizeof(float));
}

static void cpu_replace(lmd_be *be, lmd_buf *x, const lmd_buf *x0, const lmd_buf *m,
                        const lmd_buf *z, float a, float s, size_t len)
{
	float *X = x->p;
	const float *X0 = x0->p, *M = m->p, *Z = z ? z->p : NULL;
	#pragma omp parallel for schedule(static) if (len > 32768)
	for (size_t i = 0; i < len; i++) {
		float known = a * X0[i] + (Z ? s * Z[i] : 0.0f);
		X[i] = M[i] * known + (1.0f - M[i]) * X[i];
	}
}

static void cpu_ddim(lmd_be *be, lmd_buf *x, const lmd_buf *e, const lmd_buf *z,
                     float a, float sa, float ap, float c1, float c2, size_t len)
{
	float *X = x->p;
	const float *E = e->p, *Z = z ? z->p : NULL;
	#pragma omp parallel for schedule(static) if (len > 32768)
	for (size_t i = 0; i < len; i++) {
		float x0p = (X[i] - sa * E[i]) / a;
		x0p = x0p < -1.0f ? -1.0f : x0p > 1.0f ? 1.0f : x0p;
		float ep = (X[i] - a * x0p) / sa;
		X[i] = ap * x0p + c1 * ep + (Z ? c2 * Z[i] : 0.0f);
	}
}

static void cpu_axpby(lmd_be *be, lmd_buf *x, const lmd_buf *z, float a, float b, size_t len)
{
	float *X = x->p;
	const float *Z = z->p;
	#pragma omp parallel for schedule(static) if (len > 32768)
	for (size_t i = 0; i < len; i++)
		X[i] = a * X[i] + b * Z[i];
}

static const lmd_be_ops cpu_ops = {
	.name = "cpu",
	.destroy = cpu_destroy,
	.device = cpu_device,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_upload,
	.download = cpu_download,
	.sync = cpu_sync,
	.conv2d = cpu_conv2d,
	.groupnorm = cpu_groupnorm,
	.add_chan = cpu_add_chan,
	.attention = cpu_attention,
	.copy_chan = cpu_copy_chan,
	.noise = cpu_noise,
	.replace = cpu_replace,
	.ddim = cpu_ddim,
	.axpby = cpu_axpby,
};

lmd_err lmd_cpu_backend_new(lmd_be **out)
{
	return lmd_cpu_backend_new_prec(0, out);
}

lmd_err lmd_cpu_backend_new_prec(int reduced, lmd_be **out)
{
	cpu_be *c = calloc(1, sizeof *c);
	if (!c)
		return lmd_seterr(LMD_ERR_NOMEM, "cpu backend: out of memory");
	c->be.ops = &cpu_ops;
	c->be.on_cpu = 1;
	/* One thread pool: OpenMP threads each run single-threaded GEMMs on
	 * their own tiles. Two pools (OpenMP + OpenBLAS's) on the same cores
	 * spin against each other, and lose badly on a loaded machine. */
	openblas_set_num_threads(1);
	c->nth = omp_get_max_threads();
	if (c->nth > MAX_THREADS)
		c->nth = MAX_THREADS;
	c->dc = cpu_conv_new(c->nth, reduced);
	snprintf(c->dev, sizeof c->dev, "cpu (OpenBLAS + OpenMP, %s)",
	         c->dc ? cpu_conv_isa(c->dc) : "sse4.2");
	*out = &c->be;
	return LMD_OK;
}
