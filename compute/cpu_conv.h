/*
 * cpu_conv.h — the CPU backend's 3x3 stride-1 convolution (the U-Net's
 * dominant op, also with a fused nearest x2 upsample): Winograd F(4x4,3x3)
 * by default, a direct kernel for few input channels, AVX-512 or AVX2+FMA
 * code picked at run time; and the 1x1 convolutions. See cpu_conv.c.
 */
#ifndef LMDD_CPU_CONV_H
#define LMDD_CPU_CONV_H
#include <stddef.h>

typedef struct cpu_conv cpu_conv;

/* NULL when this CPU has neither AVX-512F nor AVX2+FMA (then the caller
 * keeps its im2col + sgemm path). reduced: the Winograd GEMMs in bf16
 * where the CPU has AVX-512 BF16 (lmd.h, LMD_PREC_REDUCED), else fp32.
 * LMDD_CPU_CONV, when set, forces a path instead (tests compare them;
 * cpu_conv_isa names the one taken):
 *   (unset)            Winograd F(4,3), AVX-512 or AVX2; bf16 if reduced
 *   winograd           Winograd F(4,3) in fp32, AVX-512 or AVX2
 *   bf16               Winograd F(4,3), GEMMs in bf16 (AVX-512 BF16; else fp32)
 *   wino2-bf16         Winograd F(2,3), GEMMs in bf16 (AVX-512 BF16; else fp32 F(2,3))
 *   wino2              Winograd F(2,3) (AVX-512 only; else F(4,3))
 *   wino4-avx2         Winograd F(4,3) with the AVX2 code on an AVX-512 CPU
 *   direct             the direct kernel, AVX-512 or AVX2
 *   avx2               the direct kernel's AVX2 code
 *   gemm               NULL: the caller's im2col + sgemm path
 * The Winograd paths use the direct kernel below 8 input channels. The
 * stride-2 and 1x1 kernels follow the ISA (avx2 / wino4-avx2: AVX2 code).
 * LMDD_CPU_CONV_PASS=1: one image per pass (tests exercise the split). */
cpu_conv *cpu_conv_new(int nthreads, int reduced);
void cpu_conv_destroy(cpu_conv **pc);
const char *cpu_conv_isa(const cpu_conv *c);

/* y[img, y_co + co] = sum_{ci,ky,kx} w[co, ci, ky, kx] u[img, x_co + ci, oy+ky-1, ox+kx-1]
 *                     + b[co] + r[img, co]   (b, r may be NULL; zero padding)
 * where u = x, or x upsampled nearest x2 when up = 1. x is NCHW with x_cs
 * channels per image and ih x iw pixels; y has y_cs channels and
 * (ih << up) x (iw << up) pixels. y may alias x when the channel
 * strides match (each image is copied before its outputs are written).
 * Returns 0, or -1 when out of memory (nothing written). */
int cpu_conv3x3(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                const float *w, const float *b, const float *r,
                int n, int cin, int ih, int iw, int cout, int up);

/* The same with stride 2 (no upsample): y has ceil(ih/2) x ceil(iw/2)
 * pixels, output (oy, ox) centred on input (2oy, 2ox); y must not alias x.
 * The direct kernel on four phase planes of the padded input. */
int cpu_conv3x3s2(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                  const float *w, const float *b, const float *r,
                  int n, int cin, int ih, int iw, int cout);

/* A 1x1 stride-1 convolution, the same terms (no padding, no upsample):
 * y[img, y_co + co, p] = sum_ci w[co, ci] x[img, x_co + ci, p] + b[co] + r[img, co, p]
 * for p < hw; y must not alias x (r may be y). A register-blocked kernel on
 * the NCHW rows (no im2col, no packing). Returns 0, or -1 when out of
 * memory (nothing written). */
int cpu_conv1x1(cpu_conv *c, float *y, int y_cs, int y_co, const float *x, int x_cs, int x_co,
                const float *w, const float *b, const float *r, int n, int cin, size_t hw, int cout);

/* Grows *p (capacity *cap floats) to at least n floats, keeping its
 * contents; NULL when out of memory (then *p is unchanged). Scratch
 * buffers of the CPU backend. */
float *cpu_grow(float **p, size_t *cap, size_t n);

#endif
