/*
 * rng.h — counter-based Gaussian noise shared by every backend.
 *
 * Philox4x32-10 (Salmon et al., SC'11): key = (seed lo, seed hi), counter =
 * (i/4 lo, i/4 hi, stream, 0). Its four 32-bit outputs r0..r3 become four
 * normals by Box-Muller on (r0, r1) and (r2, r3) with
 * u = ((r >> 8) + 0.5) / 2^24 in (0, 1):
 *   z0 = sqrt(-2 ln u0) cos(2 pi u1), z1 = sqrt(-2 ln u0) sin(2 pi u1).
 * Element i takes output i % 4. shaders/noise.comp and train/lmd_ref.py
 * implement the same function; so any backend draws the same noise for the
 * same (seed, stream, i), and CPU/Vulkan/PyTorch runs can be compared.
 */
#ifndef LMD_RNG_H
#define LMD_RNG_H
#include <stdint.h>
#include <math.h>

static inline void lmd_philox(uint32_t c[4], uint32_t k0, uint32_t k1)
{
	for (int r = 0; r < 10; r++) {
		uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
		uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
		uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0;
		uint32_t n1 = (uint32_t)p1;
		uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
		uint32_t n3 = (uint32_t)p0;
		c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
		k0 += 0x9E3779B9u;
		k1 += 0xBB67AE85u;
	}
}

/* Four normals for block b (elements 4b .. 4b+3). */
static inline void lmd_gauss4(uint64_t seed, uint32_t stream, uint64_t b, float z[4])
{
	uint32_t c[4] = { (uint32_t)b, (uint32_t)(b >> 32), stream, 0 };
	lmd_philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
	for (int j = 0; j < 4; j += 2) {
		float u0 = ((float)(c[j] >> 8) + 0.5f) * (1.0f / 16777216.0f);
		float u1 = ((float)(c[j + 1] >> 8) + 0.5f) * (1.0f / 16777216.0f);
		float rad = sqrtf(-2.0f * logf(u0));
		float th = 6.2831853071795864f * u1;
		z[j] = rad * cosf(th);
		z[j + 1] = rad * sinf(th);
	}
}

static inline float lmd_gauss(uint64_t seed, uint32_t stream, uint64_t i)
{
	float z[4];
	lmd_gauss4(seed, stream, i >> 2, z);
	return z[i & 3];
}
#endif
