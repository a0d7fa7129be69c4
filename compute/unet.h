/*
 * unet.h — the U-Net of docs/model-format.md as backend op calls (internal).
 *
 * lmd_unet_new() uploads the weights once. lmd_unet_plan() sizes the
 * activation buffers for a batch of B images of H x W (multiples of
 * 2^(levels-1)) and precomputes, on the host, the time-embedding projection
 * of every residual block for each step the sampler will use (they depend
 * only on t), uploading them as one table. lmd_unet_eps() then records the
 * whole forward pass: eps = net(xin, t).
 */
#ifndef LMD_UNET_H
#define LMD_UNET_H
#include "backend.h"
#include "model.h"

typedef struct lmd_unet lmd_unet;

lmd_err lmd_unet_new(const lmd_model *m, lmd_be *be, lmd_unet **out);
void lmd_unet_destroy(lmd_unet **u);

/* steps[0..nsteps-1]: the distinct timesteps that will be evaluated. */
lmd_err lmd_unet_plan(lmd_unet *u, int B, int H, int W, const int *steps, int nsteps);

/* xin: B x C(1+cond) x H x W; eps: B x C x H x W; step_index into the plan's steps. */
void lmd_unet_eps(lmd_unet *u, lmd_buf *eps, const lmd_buf *xin, int step_index);

/* Host evaluation of the time-embedding MLP (for tests): out[4*ch]. */
void lmd_unet_temb(const lmd_model *m, int t, float *out);
#endif
