/*
 * sampler.h — the Lift and Map schedule of LMD (internal).
 *
 * Lift: masks. Checkerboard of B x B blocks (block of pixel (y, x) is
 * (y*B/h, x*B/w)); attempt r inpaints the blocks with (by + bx + r) even, so
 * alternate attempts use the complementary board (the paper's official code).
 * Patches: random squares of side min(h,w)/8 until frac of the area is
 * covered (Philox-drawn, per attempt). Centre: one box of area frac.
 *
 * Map: DDIM over S steps tau[0..S-1] = floor((i+1)(t0+1)/S) - 1, from t0
 * down, with Song et al.'s replacement (known pixels re-noised to each
 * step's level). Optional RePaint resampling: after every `jump` steps down,
 * go back up `jump` steps (re-noising), `resample` - 1 times per point.
 * The walk is a list of moves over states k = S-1 .. -1 (-1 = clean):
 * down k -> k-1 evaluates the network at tau[k]; up k -> k+1 adds noise.
 * train/lmd_ref.py implements the same schedule and noise streams.
 */
#ifndef LMD_SAMPLER_H
#define LMD_SAMPLER_H
#include "lmd.h"

typedef struct {
	int down;  /* 1: denoise from k to k-1; 0: renoise from k to k+1 */
	int k;
} lmd_move;

/* tau[0..steps-1]; returns steps. */
int lmd_sampler_steps(const lmd_params *p, int *tau);
/* Fills up to max moves; returns the count (max = 0 to count only). */
int lmd_sampler_moves(const lmd_params *p, lmd_move *mv, int max);
/* m[h*w]: 1 = known, 0 = to inpaint, for attempt rep (of any image). */
void lmd_sampler_mask(const lmd_params *p, int rep, int h, int w, float *m);
#endif
