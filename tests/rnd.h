/*
 * rnd.h — the seeded random inputs of the op tests (tests/test_ops.c,
 * tests/test_lowp.c): xorshift64, so a run repeats exactly on every machine.
 * Header-only (static functions): each test binary has its own state.
 */
#ifndef LMD_RND_H
#define LMD_RND_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return (uint32_t)(rs >> 32);
}
/* uniform in [-1, 1) */
static float frand(void) { return (float)((rnd() >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f; }
static int irand(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

/* n floats uniform in [-scale, scale); exits on out of memory */
static float *fvec(size_t n, float scale)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	if (!p) { perror("malloc"); exit(2); }
	for (size_t i = 0; i < n; i++) p[i] = frand() * scale;
	return p;
}
#endif
