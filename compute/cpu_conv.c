/*
 * cpu_conv.c — 3x3 stride-1 convolution for the CPU backend: Winograd
 * F(4x4,3x3) by default, and a direct kernel (few input channels, and
 * LMDD_CPU_CONV=direct; see cpu_conv.h for the paths). Also the 1x1
 * convolutions (the direct kernel's register blocks with one tap, reading
 * the NCHW rows in place, see the end).
 *
 * Why not im2col + sgemm for this op: the U-Net's 3x3 convolutions have
 * few output channels (32-128), so a GEMM over an im2col matrix spends
 * most of its time copying — im2col writes 9x the input, OpenBLAS packs
 * that again, and each packed element then feeds only 2*Cout flops
 * (perf on the bench model: sgemm 45%, packing 23%, im2col 9%).
 *
 * Winograd F(m x m, 3x3) (Lavin & Gray 2015): each m x m output tile is
 * A^T [ (G g G^T) .* (B^T d B) ] A for the (m+2)^2 input patch d, so the
 * 9*m^2 multiplies per (tile, ci, co) of a direct convolution become
 * (m+2)^2: 4x fewer for m = 4, 2.25x for m = 2. Summed over ci, the
 * elementwise products become one GEMM per transform element e:
 *   M[e][tile][co] = sum_ci V[e][tile][ci] U[e][ci][co]
 * Layout: the pass's input is first copied channels last, zero-padded
 * ([img][row][col][cin rounded up to 16]: 16x16 blocks transposed in
 * registers), so the transforms work on 16 channels per vector with no
 * shuffles; the GEMM broadcasts V and loads 16 output channels of U per
 * vector (AVX-512: 6 tiles x 64 channels or 12 x 32 in registers; AVX2:
 * 3 x 32 or 6 x 16); the output transform gives 16 pixels x 16 channels,
 * transposed in registers (4 rounds of vpermt2ps) into per-thread channel
 * rows, copied with the residual to NCHW a tile-row run at a time (storing
 * 4-pixel pieces straight to NCHW was the hottest instruction; the runs
 * made the whole conv ~5% faster). Work items are blocks of tb tiles (a
 * multiple of 12, V + M within 512 KiB, i.e. in L2), tiles numbered
 * across the pass's images, so 16x16 late levels still make full blocks. Weights
 * are transformed per call (16 output channels per vector; ~2% of time).
 *
 * Measured (single thread, CPU time, the bench model's 3x3 shapes, 8
 * images, in two sessions on this loaded machine, each line one run):
 * direct 47 / 68 GFLOP/s, F(2,3) 104 / 118, F(4,3) 131 / 141 (direct-
 * equivalent flops; 128->128 at 32x32: F(4,3) ~150-165, 32->32 at 64x64
 * ~110). F(4,3) over F(2,3) is well short of the 1.78x fewer multiplies:
 * at 32-64 channels the transforms and copies weigh as much as the GEMM
 * (skipping the GEMM cut 32->32 by only ~30%). F(4,3)'s rounding error
 * is larger (normalised MSE vs float64 ~1e-11 at 192 input channels,
 * F(2,3) ~2e-13, direct ~1e-13): within tests/test_ops.c's 1e-10 and
 * test_parity's 1e-4, so F(4,3).
 *
 * Direct kernel (below 8 input channels the Winograd paths pad to 16 and
 * lose: conv_in 1->32 took 2.5x the direct time). The input is copied
 * once, zero-padded, and a register-blocked kernel reads it in place:
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
 * (noisy), 8x2 ~55, 8x3 spilled registers. Weights are repacked per call
 * to [Cout/CO][Cin][9][CO] (zero-filled past Cout) so broadcasts walk
 * memory in order. Padding: each image's input is copied into planes of
 * (h+2) rows of pw = wd + 2 floats, zero outside the image, and the plane
 * is treated as one flat row: output (oy, ox) at o = oy*pw + ox reads
 * pad[o + ky*pw + kx], so pixel blocks run across row ends (no waste on
 * 8- or 23-pixel-wide late levels) and the kernel has no bounds checks;
 * the 2 positions per row with ox >= wd are computed into a row buffer
 * and dropped.
 *
 * Both: one generic kernel, inlined into per-ISA wrappers with GCC's
 * target attribute and picked with __builtin_cpu_supports, so the binary
 * still runs on any x86-64-v2 machine (there: the caller's im2col path).
 *
 * 1x1 convolutions (skip shortcuts, attention's qkv and proj_out): the
 * direct kernel's CO x PV*16 register block with the one tap, on the NCHW
 * rows of a block of pixels (cin rows, hw apart; the pixel tail copied and
 * zero-padded), bias and residual added as the block is stored. Before,
 * one sgemm per image on the same rows (no im2col) plus a bias/residual
 * pass: perf on the bench had them at 11.5% of the time (OpenBLAS packing
 * the activations 4.7%, zeroing C 0.5%, the extra pass 2.6%); the kernel
 * made the whole bench ~9% faster (0.375 -> 0.340 s/image, same session;
 * alone: 96->32 at 64x64 b8 3.3 -> 3.0 ms, 64->192 at 16x16 0.53 -> 0.40).
 *
 * Stride-2 3x3 convolutions (the downsamples): the direct kernel on four
 * phase planes of the padded input (plane (py, px) holds padded pixels
 * (2i+py, 2j+px)), so output (oy, ox)'s tap (ky, kx) is plane (ky&1, kx&1)
 * at (oy + ky/2, ox + kx/2): contiguous in ox, the same flat-row blocks as
 * stride 1 with one dropped position per row. The kernel takes the nine
 * tap offsets as arguments (stride 1: ky*pw + kx). Against im2col + sgemm
 * (min of 30, 8 images): 32->32 at 64x64 4.5 -> 3.0-3.2 ms, 64->64 at
 * 32x32 2.6 -> 1.9 ms. Scratch of both is 64-byte aligned (grow64), as
 * the Winograd path that shares it needs.
 * A fused nearest x2 upsample (the U-Net's up path) costs nothing extra:
 * the padded copy is simply made at twice the size. Inputs are copied in
 * passes of whole images (at most 32 MiB each), so y may alias x. The
 * summation order differs from the GEMM path: results agree to float
 * rounding (tests/test_ops.c).
 */
#include <assert.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_conv.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_KERNELS 1
#endif

#define VW 16 /* floats per kernel vector */
#define PAD_MAX ((size_t)8 << 20) /* floats of padded input per pass (32 MiB) */
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4), may_alias));

/* One block: CO output channels x PV*VW flat positions, all Cin.
 * in: the first channel's padded plane at the block's first position; tap
 * k (ky*3 + kx) reads in + off[k] (stride 1: ky*pw + kx; stride 2: in one
 * of four phase planes); out: CO rows of PV*VW floats, ostride apart. */
typedef void tile_fn(const float *in, const size_t *off, size_t plane, const float *w, int cin,
                     float *out, size_t ostride);
/* One block of the 1x1 kernel: CO output channels x PV*VW pixels, all Cin;
 * x: rows of the block's pixels, xs apart; w: [cin][CO] */
typedef void tile1_fn(const float *x, size_t xs, const float *w, int cin, float *out, size_t ostride);

/* Winograd sizes: input ih x iw (up: x2 to h x wd), cin channels (cinp:
 * rounded up to 16), the channels-last copy ph x pw pixels x cinp */
typedef struct {
	int ih, iw, up, h, wd, cin, cinp, ph, pw;
} wino_geom;

/* One Winograd pass: what a block of tiles needs (see wino_block) */
typedef struct {
	const float *cl;       /* the pass's input, channels last, padded: [img][ph][pw][cinp] */
	const float *u;        /* transformed weights [A*A][cin][cop] */
	const uint16_t *ub;    /* bf16 path: the same in bf16, [A*A][cin2][cop][2] (input channel
	                        * pairs, zero past cin); NULL on the fp32 path */
	const float *bp;       /* bias, cop floats (zero past cout, or all zero) */
	const float *r;
	float *y;
	int y_cs, y_co, img0;  /* img0: the pass's first image */
	int cin, cinp, cout, cop, h, wd, th, tw, ph, pw;
} wino_job;

/* The per-ISA parts of the Winograd path:
 * block: tiles t0 .. t0+nt-1 of the pass (image-major, then tile row, tile
 *   column), all output channels; V: A*A*tb*cinp floats, M: A*A*tb*cop
 *   and then m*m*tb*cop for the output rows.
 * in: the pass's channels-last input of one image and 16 channels (see
 *   wino_in).
 * wt: U for input channels ci0 .. ci1-1 (see conv_wino). */
typedef struct {
	void (*block)(const wino_job *jb, int t0, int nt, float *V, float *M, int tb);
	void (*in)(float *d, const float *s, const wino_geom *gm, int nci);
	void (*wt)(const float *w, float *u, int cin, int cout, int cop, int ci0, int ci1);
	const char *isa;
} wino_ops;

struct cpu_conv {
	int co, pv;        /* direct kernel blocking */
	int m;             /* Winograd output tile F(m x m, 3x3); 0: the direct kernel */
	const char *isa;
	int bf16;          /* Winograd GEMMs in bf16 (AVX-512 BF16), fp32 accumulation */
	tile_fn *tile;
	tile1_fn *tile1;   /* 1x1 convolutions */
	const wino_ops *wino;
	int nth;
	size_t pad_max;    /* floats of padded input per pass */
	float *pad;        /* the padded input of one pass (one or more images) */
	size_t pad_n;
	float *wp;         /* repacked (direct) or transformed (Winograd) weights */
	size_t wp_n;
	float *ws;         /* Winograd: each thread's V and M */
	size_t ws_n;
	float *w1;         /* 1x1: repacked weights, then each thread's tail block */
	size_t w1_n;
	uint16_t *wb;      /* bf16 path: the transformed weights in bf16 */
	size_t wb_n;
};

/* fp32 -> bf16, round to nearest even (finite inputs) */
static inline uint16_t bf16_of(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

/* The largest blocking (CO x PV*VW floats): a block's output, on the stack */
#define TILE_MAX (6 * 4 * VW)

#ifdef HAVE_KERNELS
/* The register blocks of both kernels: R x P vectors of 16 */
static inline __attribute__((always_inline)) void acc_zero(v16 acc[12][4], const int R, const int P)
{
	#pragma GCC unroll 12
	for (int j = 0; j < R; j++)
		#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			acc[j][p] = (v16){0};
}

/* row j to out + j*rs */
static inline __attribute__((always_inline)) void
acc_store(v16 acc[12][4], float *out, size_t rs, const int R, const int P)
{
	#pragma GCC unroll 12
	for (int j = 0; j < R; j++)
		#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			*(v16u *)(out + j * rs + p * VW) = acc[j][p];
}

/* acc[j][p] += s[j*ss] * x[p*16 .. p*16+15] */
static inline __attribute__((always_inline)) void
acc_fma(v16 acc[12][4], const float *x, const float *s, size_t ss, const int R, const int P)
{
	v16 xv[4];
	#pragma GCC unroll 4
	for (int p = 0; p < P; p++)
		xv[p] = *(const v16u *)(x + p * VW);
	#pragma GCC unroll 12
	for (int j = 0; j < R; j++) {
		float b = s[j * ss];  /* a broadcast load (a (v16){0} + b would be a real add) */
		v16 bv = {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b};
		#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			acc[j][p] += xv[p] * bv;
	}
}

static inline __attribute__((always_inline)) void
tile_generic(const float *in, const size_t *off, size_t plane, const float *w, int cin,
             float *out, size_t ostride, const int CO, const int PV)
{
	v16 acc[12][4];
	size_t o[9];
	for (int k = 0; k < 9; k++)
		o[k] = off[k];
	acc_zero(acc, CO, PV);
	for (int ci = 0; ci < cin; ci++, in += plane, w += 9 * CO) {
		#pragma GCC unroll 9
		for (int k = 0; k < 9; k++)
			acc_fma(acc, in + o[k], w + k * CO, 1, CO, PV);
	}
	acc_store(acc, out, ostride, CO, PV);
}

/* The 1x1 kernel's block: CO output channels x PV*VW pixels, all cin;
 * x: the first channel's row at the block's first pixel, rows xs apart;
 * w: [cin][CO] */
static inline __attribute__((always_inline)) void
tile1_generic(const float *x, size_t xs, const float *w, int cin, float *out, size_t ostride,
              const int CO, const int PV)
{
	v16 acc[12][4];
	acc_zero(acc, CO, PV);
	for (int ci = 0; ci < cin; ci++, x += xs, w += CO)
		acc_fma(acc, x, w, 1, CO, PV);
	acc_store(acc, out, ostride, CO, PV);
}

__attribute__((target("avx512f,fma"))) static void
tile1_avx512(const float *x, size_t xs, const float *w, int cin, float *out, size_t ostride)
{
	tile1_generic(x, xs, w, cin, out, ostride, 6, 4);
}

__attribute__((target("avx2,fma"))) static void
tile1_avx2(const float *x, size_t xs, const float *w, int cin, float *out, size_t ostride)
{
	tile1_generic(x, xs, w, cin, out, ostride, 6, 1);
}

__attribute__((target("avx512f,fma"))) static void
tile_avx512(const float *in, const size_t *off, size_t plane, const float *w, int cin, float *out, size_t ostride)
{
	tile_generic(in, off, plane, w, cin, out, ostride, 6, 4);
}

__attribute__((target("avx2,fma"))) static void
tile_avx2(const float *in, const size_t *off, size_t plane, const float *w, int cin, float *out, size_t ostride)
{
	tile_generic(in, off, plane, w, cin, out, ostride, 6, 1);
}
#endif

#ifdef HAVE_KERNELS
/* ---- Winograd F(m x m, 3x3), m = 4 or 2 (A = m + 2 points) ----------------
 * 1-D transforms, all of stride-free arrays: B^T (input), A^T (output).
 * F(4,3) uses Lavin's points 0, +-1, +-2; F(2,3) 0, +-1. */
static inline __attribute__((always_inline)) void wino_bt(const v16 *x, v16 *o, const int m)
{
	if (m == 4) {
		v16 t1 = x[4] - 4.0f * x[2], t2 = x[3] - 4.0f * x[1];
		v16 t3 = x[4] - x[2], t4 = 2.0f * (x[3] - x[1]);
		o[0] = 4.0f * x[0] - 5.0f * x[2] + x[4];
		o[1] = t1 + t2;
		o[2] = t1 - t2;
		o[3] = t3 + t4;
		o[4] = t3 - t4;
		o[5] = 4.0f * x[1] - 5.0f * x[3] + x[5];
	} else {
		o[0] = x[0] - x[2];
		o[1] = x[1] + x[2];
		o[2] = x[2] - x[1];
		o[3] = x[1] - x[3];
	}
}

static inline __attribute__((always_inline)) void wino_at(const v16 *x, v16 *o, const int m)
{
	if (m == 4) {
		v16 s12 = x[1] + x[2], d12 = x[1] - x[2], s34 = x[3] + x[4], d34 = x[3] - x[4];
		o[0] = x[0] + s12 + s34;
		o[1] = d12 + 2.0f * d34;
		o[2] = s12 + 4.0f * s34;
		o[3] = d12 + 8.0f * d34 + x[5];
	} else {
		o[0] = x[0] + x[1] + x[2];
		o[1] = x[1] - x[2] - x[3];
	}
}

/* The separable 2-D transform of an A x A grid of vectors at in + i*si +
 * j*sj: out[k][l] = sum_ij T[k][i] in[i][j] T[l][j], T = B^T (A x A) when
 * bt, else A^T (m x A) */
static inline __attribute__((always_inline)) void
wino_2d(const float *in, size_t si, size_t sj, v16 out[6][6], const int m, const int bt)
{
	const int A = m + 2, no = bt ? A : m;
	v16 s[6][6];
	#pragma GCC unroll 6
	for (int i = 0; i < A; i++) {
		v16 d[6];
		#pragma GCC unroll 6
		for (int j = 0; j < A; j++)
			d[j] = *(const v16 *)(in + i * si + j * sj);
		if (bt)
			wino_bt(d, s[i], m);
		else
			wino_at(d, s[i], m);
	}
	#pragma GCC unroll 6
	for (int l = 0; l < no; l++) {
		v16 col[6], o[6];
		#pragma GCC unroll 6
		for (int i = 0; i < A; i++)
			col[i] = s[i][l];
		if (bt)
			wino_bt(col, o, m);
		else
			wino_at(col, o, m);
		#pragma GCC unroll 6
		for (int k = 0; k < no; k++)
			out[k][l] = o[k];
	}
}

/* M[t][co] (+)= sum_ci V[t][ci] U[ci][co] for J tiles x P*VW channels:
 * J*P accumulators, P loads of U and J broadcasts of V per ci. */
static inline __attribute__((always_inline)) void
wino_gemm(const float *v, size_t vs, const float *u, size_t us, float *m, size_t ms, int k,
          const int J, const int P)
{
	v16 acc[12][4];
	acc_zero(acc, J, P);
	for (int ci = 0; ci < k; ci++, u += us) {
		acc_fma(acc, u, v + ci, vs, J, P);
	}
	acc_store(acc, m, ms, J, P);
}

/* wino_gemm over ntr tiles (J at a time) and output channels co, co+16P,
 * ... while P*16 fit in cop; returns the first channel left */
static inline __attribute__((always_inline)) size_t
wino_gemm_cols(const float *ve, const float *ue, float *me, size_t cinp, size_t cop, int cin, int ntr,
               size_t co, const int J, const int P)
{
	for (; co + P * VW <= cop; co += P * VW)
		for (int t = 0; t < ntr; t += J)
			wino_gemm(ve + t * cinp, cinp, ue + co, cop, me + t * cop + co, cop, cin, J, P);
	return co;
}

/* a[r][l] -> a[l][r] for 16 vectors of 16: four rounds, round b swapping
 * bit b of the row index with bit b of the lane index (vpermt2ps each) */
static inline __attribute__((always_inline)) void transpose16(v16 *a)
{
	typedef int v16i __attribute__((vector_size(64)));
	static const v16i lo[4] = {
		{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
		{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
		{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
		{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
	};
	static const v16i hi[4] = {
		{1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31},
		{2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31},
		{4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31},
		{8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31},
	};
	#pragma GCC unroll 4
	for (int s = 3; s >= 0; s--) {
		int bit = 1 << s;
		#pragma GCC unroll 16
		for (int r = 0; r < 16; r++)
			if (!(r & bit)) {
				v16 x0 = a[r], x1 = a[r + bit];
				a[r] = __builtin_shuffle(x0, x1, lo[s]);
				a[r + bit] = __builtin_shuffle(x0, x1, hi[s]);
			}
	}
}

/* ---- bf16 GEMMs (AVX-512 BF16) ----------------------------------------------
 * vdpbf16ps acc, a, b: acc[l] += a[2l] b[2l] + a[2l+1] b[2l+1] in fp32 (16
 * lanes, 32 products per instruction, twice an fp32 FMA's). The pairs run
 * along the GEMM's K (input channels): U is [ci/2][co][2] (one vector: 16
 * output channels x 2 input channels), V stays [tile][ci] so one 32-bit
 * broadcast gives a tile's channel pair. Products of bf16 are exact in
 * fp32 and the sums are fp32, so the only new error is the rounding of V
 * and U to bf16 (8 significant bits, relative error <= 2^-9). */

typedef uint32_t v16ui __attribute__((vector_size(64)));
typedef uint16_t v16us __attribute__((vector_size(32)));

/* 16 floats -> 16 bf16 at d (32-byte aligned), round to nearest even */
static inline __attribute__((always_inline)) void bf16_store(uint16_t *d, const v16 *x)
{
	v16ui u = (v16ui)*x;
	u += 0x7fffu + ((u >> 16) & 1u);
	*(v16us *)d = __builtin_convertvector(u >> 16, v16us);
}

typedef int32_t i32a __attribute__((may_alias, aligned(2)));

/* M[t][co] = sum_k V[t][2k..2k+1] . U[k][co][0..1] for J tiles x P*16
 * channels: v rows vs apart (uint16), u rows (channel pairs) us apart */
__attribute__((target("avx512f,avx512bf16"))) static inline __attribute__((always_inline)) void
gemm_bf16_blk(const uint16_t *v, size_t vs, const uint16_t *u, size_t us, float *m, size_t ms, int k2,
              const int J, const int P)
{
	__m512 acc[12][4];
	#pragma GCC unroll 12
	for (int j = 0; j < J; j++)
		#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			acc[j][p] = _mm512_setzero_ps();
	for (int k = 0; k < k2; k++, u += us) {
		__m512bh a[4];
		#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			a[p] = (__m512bh)_mm512_loadu_si512(u + p * 2 * VW);
		#pragma GCC unroll 12
		for (int j = 0; j < J; j++) {
			__m512bh b = (__m512bh)_mm512_set1_epi32(*(const i32a *)(v + j * vs + 2 * k));
			#pragma GCC unroll 4
			for (int p = 0; p < P; p++)
				acc[j][p] = _mm512_dpbf16_ps(acc[j][p], a[p], b);
		}
	}
	#pragma GCC unroll 12
	for (int j = 0; j < J; j++)
		#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			_mm512_storeu_ps(m + j * ms + p * VW, acc[j][p]);
}

/* One transform element's GEMM, M[e] = V[e] U[e], all ntr tiles (a
 * multiple of 12) and cop channels: the fp32 path's blocking (6 x 64,
 * 12 x 32, 12 x 16) */
__attribute__((target("avx512f,avx512bf16"))) static void
gemm_bf16(const uint16_t *ve, const uint16_t *ue, float *me, size_t cinp, size_t cop, int k2, int ntr)
{
	size_t co = 0;
	for (; co + 4 * VW <= cop; co += 4 * VW)
		for (int t = 0; t < ntr; t += 6)
			gemm_bf16_blk(ve + t * cinp, cinp, ue + 2 * co, 2 * cop, me + t * cop + co, cop, k2, 6, 4);
	for (; co + 2 * VW <= cop; co += 2 * VW)
		for (int t = 0; t < ntr; t += 12)
			gemm_bf16_blk(ve + t * cinp, cinp, ue + 2 * co, 2 * cop, me + t * cop + co, cop, k2, 12, 2);
	for (; co < cop; co += VW)
		for (int t = 0; t < ntr; t += 12)
			gemm_bf16_blk(ve + t * cinp, cinp, ue + 2 * co, 2 * cop, me + t * cop + co, cop, k2, 12, 1);
}

static inline __attribute__((always_inline)) void
wino_block(const wino_job *jb, int t0, int nt, float *V, float *Mt, int tb, const int m, const int wide,
           const int bf)
{
	const int A = m + 2, A2 = A * A, tpi = jb->th * jb->tw;
	const size_t cinp = (size_t)jb->cinp, cop = (size_t)jb->cop, pw = (size_t)jb->pw;
	const size_t hw = (size_t)jb->h * jb->wd;
	/* 1. input transform: V[e][t][cinp] = (B^T d B)[e] of each tile d */
	for (int t = 0; t < nt; t++) {
		int g = t0 + t, q = g / tpi, ty = g % tpi / jb->tw, tx = g % jb->tw;
		const float *base = jb->cl + (((size_t)q * jb->ph + (size_t)ty * m) * pw + (size_t)tx * m) * cinp;
		for (size_t c = 0; c < cinp; c += VW) {
			v16 o[6][6];
			wino_2d(base + c, pw * cinp, cinp, o, m, 1);
			#pragma GCC unroll 6
			for (int k = 0; k < A; k++)
				#pragma GCC unroll 6
				for (int l = 0; l < A; l++) {
					size_t at = ((size_t)(k * A + l) * tb + t) * cinp + c;
					if (bf)   /* V in bf16: the same layout, half the bytes */
						bf16_store((uint16_t *)V + at, &o[k][l]);
					else
						*(v16 *)(V + at) = o[k][l];
				}
		}
	}
	/* tiles up to the next multiple of 12 (tb is one) go through the GEMM too */
	int ntr = (nt + 11) / 12 * 12;
	const size_t vsz = bf ? sizeof(uint16_t) : sizeof(float);
	for (int e = 0; e < A2; e++)
		memset((char *)V + ((size_t)e * tb + nt) * cinp * vsz, 0, (size_t)(ntr - nt) * cinp * vsz);
	/* 2. one GEMM per transform element: M[e] = V[e] U[e] */
	for (int e = 0; bf && e < A2; e++) {
		const int k2 = (jb->cin + 1) / 2;
		gemm_bf16((const uint16_t *)V + (size_t)e * tb * cinp, jb->ub + (size_t)e * k2 * 2 * cop,
		          Mt + (size_t)e * tb * cop, cinp, cop, k2, ntr);
	}
	for (int e = 0; !bf && e < A2; e++) {
		const float *ve = V + (size_t)e * tb * cinp, *ue = jb->u + (size_t)e * jb->cin * cop;
		float *me = Mt + (size_t)e * tb * cop;
		if (wide) {
			size_t co = wino_gemm_cols(ve, ue, me, cinp, cop, jb->cin, ntr, 0, 6, 4);
			co = wino_gemm_cols(ve, ue, me, cinp, cop, jb->cin, ntr, co, 12, 2);
			wino_gemm_cols(ve, ue, me, cinp, cop, jb->cin, ntr, co, 12, 1);
		} else {
			size_t co = wino_gemm_cols(ve, ue, me, cinp, cop, jb->cin, ntr, 0, 3, 2);
			wino_gemm_cols(ve, ue, me, cinp, cop, jb->cin, ntr, co, 6, 1);
		}
	}
	/* 3. output transform Y = A^T M A + bias, transposed to channel rows
	 * O[co][i][t*m + j] (after M, in cache) ... */
	float *O = Mt + (size_t)A2 * tb * cop;
	const size_t ors = (size_t)tb * m;
	for (int t = 0; t < nt; t++) {
		for (int c = 0; c < jb->cout; c += VW) {
			v16 o[6][6], yv[16];
			wino_2d(Mt + (size_t)t * cop + c, (size_t)A * tb * cop, (size_t)tb * cop, o, m, 0);
			v16 bv = *(const v16 *)(jb->bp + c);
			#pragma GCC unroll 4
			for (int i = 0; i < m; i++)
				#pragma GCC unroll 4
				for (int j = 0; j < m; j++)
					yv[i * m + j] = o[i][j] + bv;
			float *oc = O + (size_t)c * m * ors + (size_t)t * m;
			if (m == 4) {   /* yv[pixel][channel] -> yv[channel][pixel] */
				transpose16(yv);
				#pragma GCC unroll 16
				for (int cc = 0; cc < 16; cc++) {
					v16 v = yv[cc];
					float *oy = oc + (size_t)cc * 4 * ors;
					*(v4u *)oy = __builtin_shufflevector(v, v, 0, 1, 2, 3);
					*(v4u *)(oy + ors) = __builtin_shufflevector(v, v, 4, 5, 6, 7);
					*(v4u *)(oy + 2 * ors) = __builtin_shufflevector(v, v, 8, 9, 10, 11);
					*(v4u *)(oy + 3 * ors) = __builtin_shufflevector(v, v, 12, 13, 14, 15);
				}
			} else {
				for (int p = 0; p < 4; p++)
					for (int cc = 0; cc < VW; cc++)
						oc[(size_t)(cc * 2 + p / 2) * ors + p % 2] = yv[p][cc];
			}
		}
	}
	/* ... then, per run of the block's tiles in one tile row, whole row
	 * pieces to NCHW with the residual (4-pixel stores per channel and
	 * tile were the block's hottest instruction) */
	for (int t = 0; t < nt;) {
		int g = t0 + t, q = g / tpi, ty = g % tpi / jb->tw, tx = g % jb->tw, img = jb->img0 + q;
		int run = jb->tw - tx < nt - t ? jb->tw - tx : nt - t;
		int oy0 = ty * m, ox0 = tx * m;
		int ny = jb->h - oy0 < m ? jb->h - oy0 : m, nx = jb->wd - ox0 < run * m ? jb->wd - ox0 : run * m;
		size_t off = (size_t)oy0 * jb->wd + ox0;
		for (int co = 0; co < jb->cout; co++) {
			const float *src = O + (size_t)co * m * ors + (size_t)t * m;
			float *dst = jb->y + ((size_t)img * jb->y_cs + jb->y_co + co) * hw + off;
			const float *res = jb->r ? jb->r + ((size_t)img * jb->cout + co) * hw + off : NULL;
			for (int i = 0; i < ny; i++, src += ors, dst += jb->wd) {
				int j = 0;
				if (res) {
					for (; j + VW <= nx; j += VW)
						*(v16u *)(dst + j) = *(const v16u *)(src + j) + *(const v16u *)(res + j);
					for (; j < nx; j++)
						dst[j] = src[j] + res[j];
					res += jb->wd;
				} else {
					for (; j + VW <= nx; j += VW)
						*(v16u *)(dst + j) = *(const v16u *)(src + j);
					for (; j < nx; j++)
						dst[j] = src[j];
				}
			}
		}
		t += run;
	}
}

/* wino_ops.in, generic: one image's channels ci .. ci+15 (nci < 16 of
 * them real: zero past) to channels last, zero-padded; 16 channels x 16
 * pixels at a time, transposed in registers (the tails through a
 * zero-filled block). One 16-channel chunk over all rows: 16 sequential
 * input streams (row by row over all channels: too many streams for the
 * prefetchers, and the copy took 10% of the bench). */
static inline __attribute__((always_inline)) void
wino_in(float *d, const float *s, const wino_geom *gm, int nci)
{
	typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
	const size_t cinp = (size_t)gm->cinp, ihw = (size_t)gm->ih * gm->iw;
	const int up = gm->up, wd = gm->wd;
	for (int Y = 0; Y < gm->ph; Y++) {
		float *dr = d + (size_t)Y * gm->pw * cinp;
		int oy = Y - 1;
		if (oy < 0 || oy >= gm->h) {
			for (int X = 0; X < gm->pw; X++)
				*(v16 *)(dr + X * cinp) = (v16){0};
			continue;
		}
		*(v16 *)dr = (v16){0};
		for (int X = wd + 1; X < gm->pw; X++)
			*(v16 *)(dr + X * cinp) = (v16){0};
		const float *sr = s + (size_t)(oy >> up) * gm->iw;
		dr += cinp;
		for (int ox = 0; ox < wd; ox += VW) {
			int nx = wd - ox < VW ? wd - ox : VW;
			v16 a[16];
			if (nx == VW && nci == VW) {
				#pragma GCC unroll 16
				for (int k = 0; k < 16; k++) {
					if (up) {
						v8u h = *(const v8u *)(sr + (size_t)k * ihw + (ox >> 1));
						a[k] = __builtin_shufflevector(h, h, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
					} else {
						a[k] = *(const v16u *)(sr + (size_t)k * ihw + ox);
					}
				}
			} else {
				for (int k = 0; k < 16; k++)
					for (int l = 0; l < 16; l++)
						a[k][l] = k < nci && l < nx ? sr[(size_t)k * ihw + ((ox + l) >> up)] : 0.0f;
			}
			transpose16(a);
			for (int l = 0; l < nx; l++)
				*(v16 *)(dr + (ox + l) * cinp) = a[l];
		}
	}
}

/* G applied to g[0], g[gs], g[2*gs]: A values */
static inline __attribute__((always_inline)) void wino_g1(const v16 *g, int gs, v16 *o, const int m)
{
	v16 g0 = g[0], g1 = g[gs], g2 = g[2 * gs];
	if (m == 4) {
		v16 a = g0 * (1.0f / 24) + g2 * (1.0f / 6), b = g1 * (1.0f / 12);
		o[0] = g0 * 0.25f;
		o[1] = (g0 + g1 + g2) * (-1.0f / 6);
		o[2] = (g0 - g1 + g2) * (-1.0f / 6);
		o[3] = a + b;
		o[4] = a - b;
		o[5] = g2;
	} else {
		o[0] = g0;
		o[1] = (g0 + g1 + g2) * 0.5f;
		o[2] = (g0 - g1 + g2) * 0.5f;
		o[3] = g2;
	}
}

/* wino_ops.wt, generic: U[e][ci][co] = (G g G^T)[e] of kernel g = w[co][ci],
 * 16 output channels at a time (zero past cout) */
static inline __attribute__((always_inline)) void
wino_wt(const float *w, float *u, int cin, int cout, int cop, int ci0, int ci1, const int m)
{
	const int A = m + 2;
	for (int ci = ci0; ci < ci1; ci++)
		for (int c = 0; c < cop; c += VW) {
			v16 g[9], gg[6][3], r[6];
			for (int k = 0; k < 9; k++)
				for (int l = 0; l < VW; l++)
					g[k][l] = c + l < cout ? w[((size_t)(c + l) * cin + ci) * 9 + k] : 0.0f;
			#pragma GCC unroll 3
			for (int b = 0; b < 3; b++) {   /* gg[.][b] = G g[., b] */
				v16 o[6];
				wino_g1(g + b, 3, o, m);
				#pragma GCC unroll 6
				for (int k = 0; k < A; k++)
					gg[k][b] = o[k];
			}
			#pragma GCC unroll 6
			for (int k = 0; k < A; k++) {
				wino_g1(gg[k], 1, r, m);
				#pragma GCC unroll 6
				for (int l = 0; l < A; l++)
					*(v16 *)(u + ((size_t)(k * A + l) * cin + ci) * cop + c) = r[l];
			}
		}
}

#define WINO_ISA(name, TGT, M, WIDE, BF)                                                      \
	__attribute__((target(TGT))) static void                                                \
	name##_block(const wino_job *jb, int t0, int nt, float *V, float *Mt, int tb)             \
	{ wino_block(jb, t0, nt, V, Mt, tb, M, WIDE, BF); }                                        \
	__attribute__((target(TGT))) static void                                                \
	name##_in(float *d, const float *s, const wino_geom *gm, int nci)                         \
	{ wino_in(d, s, gm, nci); }                                                                \
	__attribute__((target(TGT))) static void                                                \
	name##_wt(const float *w, float *u, int cin, int cout, int cop, int ci0, int ci1)         \
	{ wino_wt(w, u, cin, cout, cop, ci0, ci1, M); }
WINO_ISA(wino4_avx512, "avx512f,fma", 4, 1, 0)
WINO_ISA(wino2_avx512, "avx512f,fma", 2, 1, 0)
WINO_ISA(wino4_avx2, "avx2,fma", 4, 0, 0)
WINO_ISA(wino4_bf16, "avx512f,avx512bf16,fma", 4, 1, 1)
WINO_ISA(wino2_bf16, "avx512f,avx512bf16,fma", 2, 1, 1)
static const wino_ops wino4_avx512 = { wino4_avx512_block, wino4_avx512_in, wino4_avx512_wt, "winograd F(4,3) avx512" };
static const wino_ops wino2_avx512 = { wino2_avx512_block, wino2_avx512_in, wino2_avx512_wt, "winograd F(2,3) avx512" };
static const wino_ops wino4_avx2 = { wino4_avx2_block, wino4_avx2_in, wino4_avx2_wt, "winograd F(4,3) avx2" };
static const wino_ops wino4_bf16 = { wino4_bf16_block, wino4_bf16_in, wino4_bf16_wt, "winograd F(4,3) bf16 avx512" };
static const wino_ops wino2_bf16 = { wino2_bf16_block, wino2_bf16_in, wino2_bf16_wt, "winograd F(2,3) bf16 avx512" };
#endif

cpu_conv *cpu_conv_new(int nthreads, int reduced)
{
#ifdef HAVE_KERNELS
	/* LMDD_CPU_CONV forces a path (tests compare them; see cpu_conv.h) */
	const char *env = getenv("LMDD_CPU_CONV");
	if (!env || !*env)
		env = reduced ? "bf16" : "";
	if (strcmp(env, "gemm") == 0)
		return NULL;
	__builtin_cpu_init();
	int avx512 = __builtin_cpu_supports("avx512f");
	int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	int bf16 = avx512 && __builtin_cpu_supports("avx512bf16") &&
	           (strcmp(env, "bf16") == 0 || strcmp(env, "wino2-bf16") == 0);
	int direct = strcmp(env, "direct") == 0 || strcmp(env, "avx2") == 0;
	int m = strcmp(env, "wino2") == 0 || strcmp(env, "wino2-bf16") == 0 ? 2 : 4;
	if (strcmp(env, "avx2") == 0 || strcmp(env, "wino4-avx2") == 0)
		avx512 = 0;
	if (!avx512 && !avx2)
		return NULL;
	cpu_conv *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (avx512)
		c->co = 6, c->pv = 4, c->tile = tile_avx512, c->tile1 = tile1_avx512;
	else
		c->co = 6, c->pv = 1, c->tile = tile_avx2, c->tile1 = tile1_avx2;
	if (direct)
		c->isa = avx512 ? "direct avx512" : "direct avx2";
	else if (bf16)
		c->m = m, c->bf16 = 1, c->wino = m == 4 ? &wino4_bf16 : &wino2_bf16;
	else if (avx512)
		c->m = m, c->wino = m == 4 ? &wino4_avx512 : &wino2_avx512;
	else   /* F(2,3) is AVX-512 only: it lost to F(4,3) there */
		c->m = 4, c->wino = &wino4_avx2;
	if (c->wino)
		c->isa = c->wino->isa;
	c->nth = nthreads < 1 ? 1 : nthreads;
	c->pad_max = PAD_MAX;
	/* LMDD_CPU_CONV_PASS=1: one image per pass (tests exercise the split) */
	const char *pass = getenv("LMDD_CPU_CONV_PASS");
	if (pass && strcmp(pass, "1") == 0)
		c->pad_max = 1;
	return c;
#else
	(void)nthreads;
	(void)reduced;
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
	free(c->ws);
	free(c->w1);
	free(c->wb);
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

/* cpu_grow for 64-byte-aligned scratch whose contents need not survive */
static float *grow64(float **p, size_t *cap, size_t n)
{
	if (n > *cap) {
		free(*p);
		*cap = 0;
		*p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
		if (!*p)
			return NULL;
		*cap = n;
	}
	return *p;
}

#define WINO_MIN_CIN 8 /* fewer input channels: the direct kernel (conv_in: 2.5x faster) */
#define WINO_WS ((size_t)128 << 10) /* floats of V + M per thread (512 KiB) */

static int conv_wino(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                     const float *w, const float *b, const float *r,
                     int n, int cin, int ih, int iw, int cout, int up)
{
	const int m = c->m, A = m + 2, A2 = A * A;
	const int h = ih << up, wd = iw << up;
	const int th = (h + m - 1) / m, tw = (wd + m - 1) / m, tpi = th * tw;
	const int cinp = (cin + VW - 1) / VW * VW, cop = (cout + VW - 1) / VW * VW;
	const int ph = th * m + 2, pw = tw * m + 2;
	const size_t ihw = (size_t)ih * iw, per_img = (size_t)ph * pw * cinp;
	size_t fit = c->pad_max / per_img;
	int nc = fit >= (size_t)n ? n : fit > 0 ? (int)fit : 1;
	/* tiles per block: a multiple of 12 (the GEMM's tile blocking), V and M
	 * within WINO_WS, at most a fair share of the largest pass */
	int tb = (int)(WINO_WS / ((size_t)A2 * (cinp + cop))) / 12 * 12;
	int share = ((nc * tpi + c->nth - 1) / c->nth + 11) / 12 * 12;
	tb = tb < 12 ? 12 : tb > share ? share : tb;
	size_t per_th = (size_t)A2 * tb * (cinp + cop) + (size_t)m * m * tb * cop;
	const int k2 = (cin + 1) / 2;   /* bf16: input channel pairs */
	size_t nub = c->bf16 ? (size_t)A2 * k2 * 2 * cop : 0;
	if (!grow64(&c->pad, &c->pad_n, (size_t)nc * per_img) ||
	    !grow64(&c->wp, &c->wp_n, (size_t)A2 * cin * cop + cop) ||
	    !grow64(&c->ws, &c->ws_n, (size_t)c->nth * per_th))
		return -1;
	if (nub > c->wb_n) {
		free(c->wb);
		c->wb_n = 0;
		if (!(c->wb = aligned_alloc(64, (nub * sizeof(uint16_t) + 63) / 64 * 64)))
			return -1;
		c->wb_n = nub;
	}

	/* weights [cout][cin][3][3] -> U[e][cin][cop], zero past cout; bias
	 * padded to cop */
	float *u = c->wp, *bp = u + (size_t)A2 * cin * cop;
	int nth = c->nth < cin ? c->nth : cin;
	#pragma omp parallel num_threads(nth)
	{
		int t = omp_get_thread_num(), k = omp_get_num_threads();
		c->wino->wt(w, u, cin, cout, cop, cin * t / k, cin * (t + 1) / k);
	}
	for (int co = 0; co < cop; co++)
		bp[co] = b && co < cout ? b[co] : 0.0f;
	/* bf16: U[e][ci][co] -> Ub[e][ci/2][co][ci%2], zero past cin */
	if (c->bf16) {
		#pragma omp parallel for schedule(static) num_threads(c->nth)
		for (int ek = 0; ek < A2 * k2; ek++) {
			int e = ek / k2, k = ek % k2;
			uint16_t *d = c->wb + (size_t)ek * 2 * cop;
			const float *s0 = u + ((size_t)e * cin + 2 * k) * cop;
			for (int co = 0; co < cop; co++) {
				d[2 * co] = bf16_of(s0[co]);
				d[2 * co + 1] = 2 * k + 1 < cin ? bf16_of(s0[cop + co]) : 0;
			}
		}
	}

	const wino_geom gm = { ih, iw, up, h, wd, cin, cinp, ph, pw };
	wino_job jb = {
		.cl = c->pad, .u = u, .ub = c->bf16 ? c->wb : NULL, .bp = bp, .r = r, .y = y, .y_cs = y_cs, .y_co = y_co,
		.cin = cin, .cinp = cinp, .cout = cout, .cop = cop, .h = h, .wd = wd,
		.th = th, .tw = tw, .ph = ph, .pw = pw,
	};
	for (int i0 = 0; i0 < n; i0 += nc) {
		int ni = n - i0 < nc ? n - i0 : nc;
		/* the pass's input, channels last, zero-padded: row Y, column X
		 * hold input pixel (Y-1, X-1) (nearest x2 when up) */
		int nch = cinp / VW;
		#pragma omp parallel for schedule(static) num_threads(c->nth)
		for (int item = 0; item < ni * nch; item++) {
			int q = item / nch, ci = item % nch * VW;
			c->wino->in(c->pad + (size_t)q * per_img + ci, x + ((size_t)(i0 + q) * x_cs + x_co + ci) * ihw,
			            &gm, cin - ci < VW ? cin - ci : VW);
		}
		jb.img0 = i0;
		int nt = ni * tpi, nblk = (nt + tb - 1) / tb;
		#pragma omp parallel for schedule(dynamic, 1) num_threads(c->nth)
		for (int blk = 0; blk < nblk; blk++) {
			float *V = c->ws + (size_t)omp_get_thread_num() * per_th;
			int t0 = blk * tb;
			c->wino->block(&jb, t0, nt - t0 < tb ? nt - t0 : tb, V, V + (size_t)A2 * tb * cinp, tb);
		}
	}
	return 0;
}

/* dst[i] = src[i] + bias (+ res[i]) for i < nx: a block's output row */
static void out_run(float *dst, const float *src, const float *res, float bias, size_t nx)
{
	if (res) {
		#pragma omp simd
		for (size_t i = 0; i < nx; i++)
			dst[i] = src[i] + bias + res[i];
	} else {
		#pragma omp simd
		for (size_t i = 0; i < nx; i++)
			dst[i] = src[i] + bias;
	}
}

/* Weights [cout][kn] (kn = cin * taps) -> [cout/CO][kn][CO], zero past
 * cout: the kernels' broadcasts walk them in order */
static void repack(float *wp, const float *w, int kn, int cout, int CO)
{
	for (int cb = 0; cb < (cout + CO - 1) / CO; cb++)
		for (int k = 0; k < kn; k++)
			for (int j = 0; j < CO; j++) {
				int co = cb * CO + j;
				wp[((size_t)cb * kn + k) * CO + j] = co < cout ? w[(size_t)co * kn + k] : 0.0f;
			}
}

/* The direct kernel over one pass (ni images from image i0) of padded
 * copies, per_img floats per image, plane per channel: items (image, CO
 * output channels, PX flat positions); output position o = oy*pw + ox
 * (the first ow of each row valid, the rest dropped), ohw outputs per
 * channel; taps at off (see tile_fn); wp: repacked weights. */
static void direct_blocks(cpu_conv *c, const float *pad, size_t per_img, size_t plane, const size_t *off,
                          size_t pw, size_t flat, int ow, size_t ohw, int ni, int i0, const float *wp,
                          int cin, int cout, float *y, int y_cs, int y_co, const float *b, const float *r)
{
	const int CO = c->co, PX = c->pv * VW;
	const int nblk = (int)((flat + PX - 1) / PX), ncb = (cout + CO - 1) / CO;
	assert(CO * PX <= TILE_MAX);
	#pragma omp parallel for schedule(dynamic, 2) num_threads(c->nth)
	for (int item = 0; item < ni * ncb * nblk; item++) {
		int q = item / (ncb * nblk), cb = item / nblk % ncb, blk = item % nblk, img = i0 + q;
		size_t o0 = (size_t)blk * PX, o1 = o0 + PX < flat ? o0 + PX : flat;
		float buf[TILE_MAX] __attribute__((aligned(64)));
		c->tile(pad + (size_t)q * per_img + o0, off, plane, wp + (size_t)cb * cin * 9 * CO, cin, buf, PX);
		for (size_t o = o0; o < o1;) {
			size_t oy = o / pw, ox = o % pw;
			size_t end = oy * pw + ow < o1 ? oy * pw + ow : o1; /* this row's valid run */
			if (ox < (size_t)ow) {
				size_t nx = end - o, dpos = oy * ow + ox;
				for (int j = 0; j < CO && cb * CO + j < cout; j++) {
					int co = cb * CO + j;
					out_run(y + ((size_t)img * y_cs + y_co + co) * ohw + dpos, buf + (size_t)j * PX + (o - o0),
					        r ? r + ((size_t)img * cout + co) * ohw + dpos : NULL, b ? b[co] : 0.0f, nx);
				}
			}
			o = (oy + 1) * pw < o1 ? (oy + 1) * pw : o1;
		}
	}
}

/* The direct kernel's scratch: c->pad for a pass of padded copies
 * (per_img floats per image, + *slack: the blocks of the flat positions
 * read up to reach floats past the last one) and the weights repacked
 * into c->wp ([cb][cin][9][CO], zero past cout). Returns the images per
 * pass (all of them, unless their copies would pass pad_max floats: large
 * frames), or -1 when out of memory. */
static int direct_scratch(cpu_conv *c, const float *w, int n, int cin, int cout, size_t per_img,
                          size_t flat, size_t reach, size_t *slack)
{
	const int CO = c->co, PX = c->pv * VW, ncb = (cout + CO - 1) / CO;
	size_t fit = c->pad_max / per_img;
	int nc = fit >= (size_t)n ? n : fit > 0 ? (int)fit : 1;
	*slack = (flat + PX - 1) / PX * PX + reach - flat;
	if (!grow64(&c->pad, &c->pad_n, (size_t)nc * per_img + *slack) ||
	    !grow64(&c->wp, &c->wp_n, (size_t)ncb * CO * cin * 9))
		return -1;
	repack(c->wp, w, cin * 9, cout, CO);
	return nc;
}

static int conv_direct(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                       const float *w, const float *b, const float *r,
                       int n, int cin, int ih, int iw, int cout, int up)
{
	const int h = ih << up, wd = iw << up;   /* output (= logical input) size */
	const size_t ihw = (size_t)ih * iw;
	const size_t pw = (size_t)wd + 2, plane = (size_t)(h + 2) * pw, hw = (size_t)h * wd;
	const size_t flat = (size_t)h * pw;             /* output positions, padded coordinates */
	size_t per_img = (size_t)cin * plane, slack;
	int nc = direct_scratch(c, w, n, cin, cout, per_img, flat, 2 * pw + 2, &slack);
	if (nc < 0)
		return -1;
	const float *wp = c->wp;

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
		size_t off[9];
		for (int k = 0; k < 9; k++)
			off[k] = (size_t)(k / 3) * pw + (size_t)(k % 3);
		direct_blocks(c, pad, per_img, plane, off, pw, flat, wd, hw, ni, i0, wp, cin, cout, y, y_cs, y_co, b, r);
	}
	return 0;
}

int cpu_conv3x3(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                const float *w, const float *b, const float *r,
                int n, int cin, int ih, int iw, int cout, int up)
{
	if (c->m && cin >= WINO_MIN_CIN)
		return conv_wino(c, y, y_cs, y_co, x, x_cs, x_co, w, b, r, n, cin, ih, iw, cout, up);
	return conv_direct(c, y, y_cs, y_co, x, x_cs, x_co, w, b, r, n, cin, ih, iw, cout, up);
}

int cpu_conv1x1(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                const float *w, const float *b, const float *r, int n, int cin, size_t hw, int cout)
{
	const int CO = c->co, PX = c->pv * VW, ncb = (cout + CO - 1) / CO;
	const size_t nblk = (hw + PX - 1) / PX, wn = (size_t)ncb * CO * cin;
	assert(CO * PX <= TILE_MAX);
	if (!cpu_grow(&c->w1, &c->w1_n, wn + (size_t)c->nth * cin * PX))
		return -1;
	/* weights [cout][cin] -> [cb][cin][CO], zero past cout */
	float *wp = c->w1;
	repack(wp, w, cin, cout, CO);
	/* items: (image, block of PX pixels), all output channels (the block's
	 * cin x PX input stays in L1/L2 across the channel blocks) */
	#pragma omp parallel for schedule(dynamic, 1) num_threads(c->nth)
	for (size_t item = 0; item < (size_t)n * nblk; item++) {
		size_t img = item / nblk, p0 = item % nblk * PX, np = hw - p0 < (size_t)PX ? hw - p0 : (size_t)PX;
		const float *xb = x + (img * x_cs + x_co) * hw + p0;
		size_t xs = hw;
		if (np < (size_t)PX) {   /* the tail: copied, zero-padded, so the kernel reads no further */
			float *t = c->w1 + wn + (size_t)omp_get_thread_num() * cin * PX;
			for (int ci = 0; ci < cin; ci++) {
				memcpy(t + (size_t)ci * PX, xb + (size_t)ci * hw, np * sizeof(float));
				memset(t + (size_t)ci * PX + np, 0, (PX - np) * sizeof(float));
			}
			xb = t;
			xs = PX;
		}
		for (int cb = 0; cb < ncb; cb++) {
			float buf[TILE_MAX] __attribute__((aligned(64)));
			c->tile1(xb, xs, wp + (size_t)cb * cin * CO, cin, buf, PX);
			for (int j = 0; j < CO && cb * CO + j < cout; j++) {
				int co = cb * CO + j;
				out_run(y + (img * y_cs + y_co + co) * hw + p0, buf + (size_t)j * PX,
				        r ? r + (img * cout + co) * hw + p0 : NULL, b ? b[co] : 0.0f, np);
			}
		}
	}
	return 0;
}

int cpu_conv3x3s2(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                  const float *w, const float *b, const float *r,
                  int n, int cin, int ih, int iw, int cout)
{
	const int oh = (ih + 1) / 2, ow = (iw + 1) / 2;
	const size_t ihw = (size_t)ih * iw, ohw = (size_t)oh * ow;
	/* phase plane (py, px) row i, column j: padded input (2i+py, 2j+px),
	 * i.e. input pixel (2i+py-1, 2j+px-1), zero outside */
	const size_t pw = (size_t)ow + 1, pp = (size_t)(oh + 1) * pw, plane = 4 * pp;
	const size_t flat = (size_t)oh * pw;
	size_t per_img = (size_t)cin * plane, slack;
	int nc = direct_scratch(c, w, n, cin, cout, per_img, flat, pw + 1, &slack);
	if (nc < 0)
		return -1;
	const float *wp = c->wp;
	float *pad = c->pad;
	/* output (oy, ox), tap (ky, kx) reads input (2oy+ky-1, 2ox+kx-1): phase
	 * plane (ky&1, kx&1) at row oy + ky/2, column ox + kx/2 */
	size_t off[9];
	for (int k = 0; k < 9; k++) {
		int ky = k / 3, kx = k % 3;
		off[k] = (size_t)((ky & 1) * 2 + (kx & 1)) * pp + (size_t)(ky >> 1) * pw + (size_t)(kx >> 1);
	}
	for (int i0 = 0; i0 < n; i0 += nc) {
		int ni = n - i0 < nc ? n - i0 : nc;
		memset(pad + (size_t)ni * per_img, 0, slack * sizeof(float));
		#pragma omp parallel for schedule(static) num_threads(c->nth)
		for (int q = 0; q < ni * cin; q++) {
			const float *s = x + ((size_t)(i0 + q / cin) * x_cs + x_co + q % cin) * ihw;
			for (int ph = 0; ph < 4; ph++) {
				int py = ph >> 1, px = ph & 1;
				float *d = pad + (size_t)q * plane + (size_t)ph * pp;
				for (int i = 0; i <= oh; i++, d += pw) {
					int iy = 2 * i + py - 1;
					if (iy < 0 || iy >= ih) {
						memset(d, 0, pw * sizeof(float));
						continue;
					}
					const float *sr = s + (size_t)iy * iw;
					for (int j = 0; j <= ow; j++) {
						int ix = 2 * j + px - 1;
						d[j] = ix >= 0 && ix < iw ? sr[ix] : 0.0f;
					}
				}
			}
		}
		direct_blocks(c, pad, per_img, plane, off, pw, flat, ow, ohw, ni, i0, wp, cin, cout, y, y_cs, y_co, b, r);
	}
	return 0;
}
