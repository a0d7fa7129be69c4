/*
 * distance.h — Detect: per-pixel distance maps and per-image scores (internal).
 *
 * Facts behind the design:
 *  - Distances are taken in [0,1] pixel units on the host after the
 *    reconstruction is downloaded: they cost O(pixels), nothing next to the
 *    U-Net, and one implementation serves every backend.
 *  - MSE map: mean over channels of (x - r)^2. SSIM map: 1 - SSIM with an
 *    11x11 Gaussian window (sigma 1.5), C1 = 0.01^2, C2 = 0.03^2, windows
 *    renormalised at the borders, averaged over channels.
 *  - A map counts only where the attempt inpainted (weight w = 1); an
 *    attempt's score pools those pixels: their mean, or the maximum of the
 *    map box-averaged (over inpainted pixels) in k x k windows, because an
 *    anomaly may cover a small part of a large frame.
 */
#ifndef LMD_DISTANCE_H
#define LMD_DISTANCE_H
#include "lmd.h"

/* x, r: C x H x W in [0,1]; out: H x W. */
void lmd_dist_map(lmd_dist_kind kind, const float *x, const float *r, int c, int h, int w, float *out);

/* Pool map over pixels with wgt > 0.5; returns the attempt's score. */
float lmd_pool(lmd_pool_kind kind, int k, const float *map, const float *wgt, int h, int w);

/* Aggregate n attempt scores (modifies v for the median). */
float lmd_aggregate(lmd_agg_kind kind, float *v, int n);
#endif
