/*
 * sampler.c — LMD's Lift (masks) and Map schedule (DDIM steps, RePaint
 * moves); the loop that runs them on a backend is in engine.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rng.h"
#include "sampler.h"

int lmd_sampler_steps(const lmd_params *p, int *tau)
{
	int S = p->steps;
	for (int i = 0; i < S; i++)
		tau[i] = (int)(((long long)(i + 1) * (p->t0 + 1)) / S) - 1;
	return S;
}

int lmd_sampler_moves(const lmd_params *p, lmd_move *mv, int max)
{
	int S = p->steps, n = 0, k = S - 1;
	int jump = p->jump > 0 && p->resample > 1 ? p->jump : 0;
	int *left = calloc((size_t)S + 1, sizeof(int));
	if (!left)
		abort();
	if (jump)
		for (int j = S - 1 - jump; j >= 0; j -= jump)
			left[j] = p->resample - 1;
	while (k >= 0) {
		if (n < max)
			mv[n] = (lmd_move){ 1, k };
		n++;
		k--;
		if (k >= 0 && left[k] > 0) {
			left[k]--;
			for (int j = 0; j < jump; j++) {
				if (n < max)
					mv[n] = (lmd_move){ 0, k };
				n++;
				k++;
			}
		}
	}
	free(left);
	return n;
}

void lmd_sampler_mask(const lmd_params *p, int rep, int h, int w, float *m)
{
	size_t n = (size_t)h * w;
	if (p->mask == LMD_MASK_CHECKERBOARD) {
		int B = p->mask_blocks;
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int by = (int)((long long)y * B / h), bx = (int)((long long)x * B / w);
				m[(size_t)y * w + x] = (by + bx + rep) % 2 == 0 ? 0.0f : 1.0f;
			}
		return;
	}
	for (size_t i = 0; i < n; i++)
		m[i] = 1.0f;
	if (p->mask == LMD_MASK_CENTER) {
		double side = sqrt(p->mask_frac);
		int bh = (int)lround(h * side), bw = (int)lround(w * side);
		int y0 = (h - bh) / 2, x0 = (w - bw) / 2;
		for (int y = y0; y < y0 + bh; y++)
			for (int x = x0; x < x0 + bw; x++)
				m[(size_t)y * w + x] = 0.0f;
		return;
	}
	/* patches: squares at Philox-drawn positions; stream keyed by the attempt
	 * only, so a frame's masks do not depend on its place in the batch */
	int s = (h < w ? h : w) / 8;
	if (s < 1)
		s = 1;
	size_t target = (size_t)(p->mask_frac * (double)n), covered = 0;
	uint32_t stream = 0x80000000u | (uint32_t)rep;
	for (uint64_t b = 0; covered < target && b < 100000; b++) {
		uint32_t c[4] = { (uint32_t)b, (uint32_t)(b >> 32), stream, 1 };
		lmd_philox(c, (uint32_t)p->seed, (uint32_t)(p->seed >> 32));
		int y0 = (int)(c[0] % (uint32_t)(h - s + 1)), x0 = (int)(c[1] % (uint32_t)(w - s + 1));
		for (int y = y0; y < y0 + s; y++)
			for (int x = x0; x < x0 + s; x++)
				if (m[(size_t)y * w + x] > 0.5f) {
					m[(size_t)y * w + x] = 0.0f;
					covered++;
				}
	}
}
