/*
 * cpu_conv.c — direct 3x3 stride-1 convolution for the CPU backend.
 *
 * Why not im2col + sgemm for this op: the U-Net's 3x3 convolutions have
 * few output channels (32-128), so a GEMM over an im2col matrix spends
 * most of its time copying — im2col writes 9x the input, OpenBLAS packs
 * that again, and each packed element then feeds only 2*Cout flops
 * (perf on the bench model: sgemm 45%, packing 23%, im2col 9%). Here the
 * input is copied once, zero-padded, and a register-blocked kernel reads
 * it in place:
 *
 *   for each (image, block of CO output channels, block of PV*16 positions)
 *     acc[CO][PV] (16-float vectors, all in registers)
 *     for ci, ky, kx:  x = PV unaligned loads of padded row ky at +kx
 *                      acc[j][p] += x[p] * broadcast(w[j][ci][ky][kx])
 *
 * AVX-512: CO=6, PV=4 (24 of the 32 zmm registers accumulate; 4 loads + 6
 * broadcasts per 24 FMAs). AVX2+FMA: CO=6, PV=1 (the same code; each
 * 16-float vector is two ymm: 12 of 16 ymm accumulate). On the bench
 * model (make bench, 2-core Xeon, AVX-512) 6x4 and 12x2 ran ~85 GFLOP/s
 * (noisy), 8x2 ~55, 8x3 spilled registers. One generic kernel, inlined into per-ISA wrappers
 * with GCC's target attribute and picked with __builtin_cpu_supports, so
 * the binary still runs on any x86-64-v2 machine (there: the caller's
 * im2col path). Weights are repacked per call to [Cout/CO][Cin][9][CO]
 * (zero-filled past Cout) so broadcasts walk memory in order.
 *
 * A fused nearest x2 upsample (the U-Net's up path) costs nothing extra:
 * the padded copy is simply made at twice the size.
 *
 * Padding: each image's input is copied into planes of (h+2) rows of
 * pw = wd + 2 floats, zero outside the image, and the plane is treated as
 * one flat row: output (oy, ox) at o = oy*pw + ox reads pad[o + ky*pw + kx],
 * so pixel blocks run across row ends (no waste on 8- or 23-pixel-wide
 * late levels) and the kernel has no bounds checks; the 2 positions per
 * row with ox >= wd are computed into a row buffer and dropped. Summation order differs from the GEMM path and FMA
 * rounds once: results agree to float rounding (tests/test_ops.c).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_conv.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_KERNELS 1
#endif

#define VW 16 /* floats per kernel vector */
#define PAD_MAX ((size_t)8 << 20) /* floats of padded input per pass (32 MiB) */
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));

/* One block: CO output channels x PV*VW flat positions, all Cin.
 * in: the first channel's padded plane at the block's first position;
 * out: CO rows of PV*VW floats, ostride apart. */
typedef void tile_fn(const float *in, size_t pw, size_t plane, const float *w, int cin,
                     float *out, size_t ostride);

struct cpu_conv {
	int co, pv;        /* kernel blocking */
	const char *isa;
	tile_fn *tile;
	int nth;
	size_t pad_max;    /* floats of padded input per pass */
	float *pad;        /* the padded input of one pass (one or more images) */
	size_t pad_n;
	float *wp;         /* repacked weights */
	size_t wp_n;
};

/* The largest blocking (CO x PV*VW floats): a block's output, on the stack */
#define TILE_MAX (6 * 4 * VW)

#ifdef HAVE_KERNELS
static inline __attribute__((always_inline)) void
tile_generic(const float *in, size_t pw, size_t plane, const float *w, int cin,
             float *out, size_t ostride, const int CO, const int PV)
{
	v16 acc[12][4];
	#pragma GCC unroll 12
	for (int j = 0; j < CO; j++)
		#pragma GCC unroll 4
		for (int p = 0; p < PV; p++)
			acc[j][p] = (v16){0};
	for (int ci = 0; ci < cin; ci++, in += plane, w += 9 * CO) {
		#pragma GCC unroll 3
		for (int ky = 0; ky < 3; ky++) {
			#pragma GCC unroll 3
			for (int kx = 0; kx < 3; kx++) {
				const float *r = in + (size_t)ky * pw + kx;
				const float *wk = w + (ky * 3 + kx) * CO;
				v16 xv[4];
				#pragma GCC unroll 4
				for (int p = 0; p < PV; p++)
					xv[p] = *(const v16u *)(r + p * VW);
				#pragma GCC unroll 12
				for (int j = 0; j < CO; j++) {
					float s = wk[j];  /* a broadcast load (a (v16){0} + s would be a real add) */
					v16 bw = {s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};
					#pragma GCC unroll 4
					for (int p = 0; p < PV; p++)
						acc[j][p] += xv[p] * bw;
				}
			}
		}
	}
	#pragma GCC unroll 12
	for (int j = 0; j < CO; j++)
		#pragma GCC unroll 4
		for (int p = 0; p < PV; p++)
			*(v16u *)(out + j * ostride + p * VW) = acc[j][p];
}

__attribute__((target("avx512f,fma"))) static void
tile_avx512(const float *in, size_t pw, size_t plane, const float *w, int cin, float *out, size_t ostride)
{
	tile_generic(in, pw, plane, w, cin, out, ostride, 6, 4);
}

__attribute__((target("avx2,fma"))) static void
tile_avx2(const float *in, size_t pw, size_t plane, const float *w, int cin, float *out, size_t ostride)
{
	tile_generic(in, pw, plane, w, cin, out, ostride, 6, 1);
}
#endif

cpu_conv *cpu_conv_new(int nthreads)
{
#ifdef HAVE_KERNELS
	/* LMDD_CPU_CONV=gemm|avx2|avx512 forces a path (tests compare them) */
	const char *env = getenv("LMDD_CPU_CONV");
	if (env && strcmp(env, "gemm") == 0)
		return NULL;
	__builtin_cpu_init();
	int avx512 = __builtin_cpu_supports("avx512f");
	int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	if (env && strcmp(env, "avx2") == 0)
		avx512 = 0;
	if (!avx512 && !avx2)
		return NULL;
	cpu_conv *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (avx512)
		c->co = 6, c->pv = 4, c->tile = tile_avx512, c->isa = "avx512";
	else
		c->co = 6, c->pv = 1, c->tile = tile_avx2, c->isa = "avx2";
	c->nth = nthreads < 1 ? 1 : nthreads;
	c->pad_max = PAD_MAX;
	/* LMDD_CPU_CONV_PASS=1: one image per pass (tests exercise the split) */
	const char *pass = getenv("LMDD_CPU_CONV_PASS");
	if (pass && strcmp(pass, "1") == 0)
		c->pad_max = 1;
	return c;
#else
	(void)nthreads;
	return NULL;
#endif
}

void cpu_conv_destroy(cpu_conv **pc)
{
	cpu_conv *c = *pc;
	if (!c)
		return;
	free(c->pad);
	free(c->wp);
	free(c);
	*pc = NULL;
}

const char *cpu_conv_isa(const cpu_conv *c)
{
	return c ? c->isa : "none";
}

float *cpu_grow(float **p, size_t *cap, size_t n)
{
	if (n > *cap) {
		float *q = realloc(*p, n * sizeof(float));
		if (!q)
			return NULL;
		*p = q;
		*cap = n;
	}
	return *p;
}

int cpu_conv3x3(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                const float *w, const float *b, const float *r,
                int n, int cin, int ih, int iw, int cout, int up)
{
	const int CO = c->co, PX = c->pv * VW;
	const int h = ih << up, wd = iw << up;   /* output (= logical input) size */
	const size_t ihw = (size_t)ih * iw;
	const size_t pw = (size_t)wd + 2, plane = (size_t)(h + 2) * pw, hw = (size_t)h * wd;
	const size_t flat = (size_t)h * pw;             /* output positions, padded coordinates */
	const int nblk = (int)((flat + PX - 1) / PX), ncb = (cout + CO - 1) / CO;
	const size_t slack = (size_t)nblk * PX + 2 * pw + 2 - flat; /* reads past the last plane */
	/* images per pass: all of them, unless their padded copies would pass
	 * pad_max floats (large frames) */
	size_t per_img = (size_t)cin * plane;
	size_t fit = c->pad_max / per_img;
	int nc = fit >= (size_t)n ? n : fit > 0 ? (int)fit : 1;
	if (!cpu_grow(&c->pad, &c->pad_n, (size_t)nc * per_img + slack) ||
	    !cpu_grow(&c->wp, &c->wp_n, (size_t)ncb * CO * cin * 9))
		return -1;
	assert(CO * PX <= TILE_MAX);

	/* weights [cout][cin][9] -> [cb][cin][9][CO], zero past cout */
	float *wp = c->wp;
	for (int cb = 0; cb < ncb; cb++)
		for (int ci = 0; ci < cin; ci++)
			for (int k = 0; k < 9; k++)
				for (int j = 0; j < CO; j++) {
					int co = cb * CO + j;
					wp[(((size_t)cb * cin + ci) * 9 + k) * CO + j] =
						co < cout ? w[((size_t)co * cin + ci) * 9 + k] : 0.0f;
				}

	float *pad = c->pad;
	for (int i0 = 0; i0 < n; i0 += nc) {
		int ni = n - i0 < nc ? n - i0 : nc;
		memset(pad + (size_t)ni * per_img, 0, slack * sizeof(float));
		#pragma omp parallel for schedule(static) num_threads(c->nth)
		for (int q = 0; q < ni * cin; q++) {
			int img = i0 + q / cin, ci = q % cin;
			float *p = pad + (size_t)q * plane;
			const float *s = x + ((size_t)img * x_cs + x_co + ci) * ihw;
			memset(p, 0, (pw + 1) * sizeof(float));
			for (int oy = 0; oy < h; oy++) {
				/* row oy+1: [0] input row [0]; the trailing zero and the next
				 * row's leading zero are adjacent. up: nearest x2 (each input
				 * pixel twice, each input row twice) */
				float *row = p + (size_t)(oy + 1) * pw + 1;
				const float *src = s + (size_t)(oy >> up) * iw;
				if (up)
					for (int ox = 0; ox < wd; ox++)
						row[ox] = src[ox >> 1];
				else
					memcpy(row, src, (size_t)wd * sizeof(float));
				row[wd] = row[wd + 1] = 0.0f;
			}
			memset(p + (size_t)(h + 1) * pw, 0, pw * sizeof(float));
		}
		/* Each image as one flat row: output position o = oy*pw + ox reads
		 * pad[o + ky*pw + kx], so blocks of PX positions run across row ends;
		 * positions with ox >= wd (2 per row) are computed and dropped. */
		#pragma omp parallel for schedule(dynamic, 2) num_threads(c->nth)
		for (int item = 0; item < ni * ncb * nblk; item++) {
			int q = item / (ncb * nblk), cb = item / nblk % ncb, blk = item % nblk, img = i0 + q;
			size_t o0 = (size_t)blk * PX, o1 = o0 + PX < flat ? o0 + PX : flat;
			float buf[TILE_MAX] __attribute__((aligned(64)));
			c->tile(pad + (size_t)q * per_img + o0, pw, plane, wp + (size_t)cb * cin * 9 * CO, cin, buf, PX);
			for (size_t o = o0; o < o1;) {
				size_t oy = o / pw, ox = o % pw;
				size_t end = oy * pw + wd < o1 ? oy * pw + wd : o1; /* this row's valid run */
				if (ox < (size_t)wd) {
					size_t nx = end - o, dpos = oy * wd + ox;
					for (int j = 0; j < CO && cb * CO + j < cout; j++) {
						int co = cb * CO + j;
						float bias = b ? b[co] : 0.0f;
						const float *src = buf + (size_t)j * PX + (o - o0);
						float *dst = y + ((size_t)img * y_cs + y_co + co) * hw + dpos;
						if (r) {
							const float *res = r + ((size_t)img * cout + co) * hw + dpos;
							#pragma omp simd
							for (size_t i = 0; i < nx; i++)
								dst[i] = src[i] + bias + res[i];
						} else {
							#pragma omp simd
							for (size_t i = 0; i < nx; i++)
								dst[i] = src[i] + bias;
						}
					}
				}
				o = (oy + 1) * pw < o1 ? (oy + 1) * pw : o1;
			}
		}
	}
	return 0;
}
