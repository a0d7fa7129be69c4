/*
 * backend.h — the op set every compute backend implements (internal).
 *
 * The U-Net graph and the LMD sampler (compute/unet.c, compute/sampler.c) are
 * written once, as calls to these ops on opaque device buffers. The CPU
 * backend (cpu_backend.c) executes each call at once; the Vulkan backend
 * (vk_backend.c) records each call as a compute dispatch into one command
 * buffer and submits only when the host needs data back (download) or calls
 * sync(), so a whole sampling loop is a single submit.
 *
 * Conventions:
 *  - All tensors float32, NCHW, contiguous; sizes in elements.
 *  - Ops never allocate; buffers come from alloc() and live until free().
 *  - Offsets (off_*) are element offsets into a buffer, so one buffer can
 *    hold a table (e.g. the per-step time embeddings) or a channel slice.
 *  - Every op must give the same result on every backend to fp32 rounding;
 *    tests/test_ops.c checks each against the CPU backend.
 */
#ifndef LMD_BACKEND_H
#define LMD_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "lmd.h"

typedef struct lmd_buf lmd_buf;
typedef struct lmd_be lmd_be;

typedef struct {
	const char *name;
	void (*destroy)(lmd_be *be);
	const char *(*device)(lmd_be *be);

	lmd_buf *(*alloc)(lmd_be *be, size_t n);
	void (*free)(lmd_be *be, lmd_buf *b);
	lmd_err (*upload)(lmd_be *be, lmd_buf *dst, size_t off, const float *src, size_t n);
	lmd_err (*download)(lmd_be *be, lmd_buf *src, size_t off, float *dst, size_t n);
	/* Wait for all recorded work; returns the first device error, if any. */
	lmd_err (*sync)(lmd_be *be);

	/*
	 * y[n, co, oy, ox] = b[co] + sum_{ci,ky,kx} w[co, ci, ky, kx] * xin[n, ci, iy, ix]
	 *   (+ r[n, co, oy, ox] if r != NULL; r is contiguous N x Cout x OH x OW,
	 *    never a slice, and may be the same buffer as y; y must not alias x)
	 * k in {1, 3}, pad = k/2, stride in {1, 2}.
	 * up = 1: x is first upsampled nearest x2 (logical input 2H x 2W).
	 * Input x: N x Cin x H x W. Output spatial: (H*(1+up)) / stride (ceil).
	 * x_cstride / y_cstride: channels of the whole buffer per image (for
	 * reading or writing a channel slice of a concatenated tensor);
	 * x_coff / y_coff: first channel of the slice.
	 */
	void (*conv2d)(lmd_be *be, lmd_buf *y, int y_cstride, int y_coff,
	               const lmd_buf *x, int x_cstride, int x_coff,
	               const lmd_buf *w, const lmd_buf *b, const lmd_buf *r,
	               int n, int cin, int h, int wd, int cout, int k, int stride, int up);

	/* GroupNorm over (C/G channels x HW) per image and group, eps, affine,
	 * then SiLU if silu. y may equal x. */
	void (*groupnorm)(lmd_be *be, lmd_buf *y, const lmd_buf *x,
	                  const lmd_buf *gamma, const lmd_buf *beta,
	                  int n, int c, int hw, int groups, float eps, int silu);

	/* y[n, c, i] += t[off_t + c] */
	void (*add_chan)(lmd_be *be, lmd_buf *y, const lmd_buf *t, size_t off_t,
	                 int n, int c, int hw);

	/*
	 * Self-attention, one head: qkv is N x 3C x HW (q, k, v stacked); y must
	 * not alias qkv.
	 * y[n, c, i] = sum_j softmax_j(scale * sum_c' q[c', i] k[c', j]) v[c, j]
	 */
	void (*attention)(lmd_be *be, lmd_buf *y, const lmd_buf *qkv,
	                  int n, int c, int hw, float scale);

	/* y[n, y_coff + c, i] = x[n, x_coff + c, i] for c < c_n (channel copy). */
	void (*copy_chan)(lmd_be *be, lmd_buf *y, int y_cstride, int y_coff,
	                  const lmd_buf *x, int x_cstride, int x_coff,
	                  int n, int c_n, int hw);

	/* Standard normal noise: z[i] = lmd_gauss(seed, stream, i % period),
	 * i < len (rng.h); period >= 1. The engine repeats one image's noise
	 * (all its attempts) over the batch, so a frame's noise, and its score,
	 * do not depend on its position in the batch. */
	void (*noise)(lmd_be *be, lmd_buf *z, size_t len, size_t period, uint64_t seed, uint32_t stream);

	/*
	 * The sampler's element-wise steps, i < len:
	 * replace: x = m * (a * x0 + s * z) + (1 - m) * x
	 * ddim:    x0p = clamp((x - sa * e) / a, -1, 1);
	 *          e'  = (x - a * x0p) / sa;
	 *          x   = ap * x0p + c1 * e' + c2 * z      (z may be NULL if c2 == 0)
	 * axpby:   x   = a * x + b * z
	 * z may be NULL in replace (no noise term) and in ddim when c2 == 0;
	 * axpby needs z.
	 */
	void (*replace)(lmd_be *be, lmd_buf *x, const lmd_buf *x0, const lmd_buf *m,
	                const lmd_buf *z, float a, float s, size_t len);
	void (*ddim)(lmd_be *be, lmd_buf *x, const lmd_buf *e, const lmd_buf *z,
	             float a, float sa, float ap, float c1, float c2, size_t len);
	void (*axpby)(lmd_be *be, lmd_buf *x, const lmd_buf *z, float a, float b, size_t len);
} lmd_be_ops;

struct lmd_be {
	const lmd_be_ops *ops;
	int on_cpu;  /* the device is the host CPU (CPU backend, lavapipe) */
};

lmd_err lmd_cpu_backend_new(lmd_be **out);
lmd_err lmd_vk_backend_new(int device, const char *name, lmd_be **out);
/* The same with reduced-precision convolutions where the hardware has them
 * (lmd.h, lmd_precision); the _new functions above are reduced = 0. */
lmd_err lmd_cpu_backend_new_prec(int reduced, lmd_be **out);
lmd_err lmd_vk_backend_new_prec(int device, const char *name, int reduced, lmd_be **out);

#endif
