/*
 * common.glsl — shared by every shaders/*.comp of the Vulkan backend.
 *
 * Design facts:
 *  - Every pipeline uses the same layout: set 0, bindings 0..4 = storage
 *    buffers B0..B4 (whole VkBuffers; element offsets come in push
 *    constants), plus <= 128 bytes of push constants. Unused bindings are
 *    bound to a small dummy buffer.
 *  - Philox4x32-10 and Box-Muller here match compute/rng.h: the uint32 part
 *    bit for bit; the floats to a few ulp, because log/sin/cos/sqrt are
 *    computed with our own fp32 polynomials (below) instead of the GLSL
 *    built-ins, whose Vulkan precision is loose (sin/cos only 2^-11 absolute)
 *    and driver-dependent.
 */
#ifndef LMD_COMMON_GLSL
#define LMD_COMMON_GLSL

/* ---- Philox4x32-10 (rng.h: lmd_philox) ---------------------------------- */
uvec4 philox(uvec4 c, uint k0, uint k1)
{
	for (int r = 0; r < 10; r++) {
		uint hi0, lo0, hi1, lo1;
		umulExtended(0xD2511F53u, c.x, hi0, lo0);
		umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
		c = uvec4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
		k0 += 0x9E3779B9u;
		k1 += 0xBB67AE85u;
	}
	return c;
}

/* ---- fp32 math with driver-independent accuracy (~1 ulp) ---------------- */

/* Natural log for x in (0, 1] (Cephes logf). */
float lmd_log(float x)
{
	int e;
	precise float m = frexp(x, e);          /* x = m * 2^e, m in [0.5, 1) */
	if (m < 0.70710678118654752f) { e -= 1; m = m + m - 1.0f; } else { m = m - 1.0f; }
	precise float z = m * m;
	precise float y = ((((((((7.0376836292e-2f * m - 1.1514610310e-1f) * m
	        + 1.1676998740e-1f) * m - 1.2420140846e-1f) * m
	        + 1.4249322787e-1f) * m - 1.6668057665e-1f) * m
	        + 2.0000714765e-1f) * m - 2.4999993993e-1f) * m
	        + 3.3333331174e-1f) * m * z;
	float fe = float(e);
	y += -2.12194440e-4f * fe;
	y += -0.5f * z;
	precise float r = m + y;
	r += 0.693359375f * fe;
	return r;
}

/* sin and cos of x for 0 <= x <= 8 (Cephes sinf/cosf, Cody-Waite pi/4). */
void lmd_sincos(float x, out float s, out float c)
{
	const float FOPI = 1.27323954473516f;
	int j = int(FOPI * x);
	precise float y = float(j);
	if ((j & 1) != 0) { j += 1; y += 1.0f; }
	j &= 7;
	precise float r = ((x - y * 0.78515625f) - y * 2.4187564849853515625e-4f)
	                  - y * 3.77489497744594108e-8f;
	precise float z = r * r;
	precise float ps = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z
	                    - 1.6666654611e-1f) * z * r + r;
	precise float pc = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z
	                    + 4.166664568298827e-2f) * z * z - 0.5f * z + 1.0f;
	/* j in {0,2,4,6}: octant pair; sin = ps, pc, -ps, -pc; cos = pc, -ps, -pc, ps */
	if (j == 0)      { s = ps;  c = pc; }
	else if (j == 2) { s = pc;  c = -ps; }
	else if (j == 4) { s = -ps; c = -pc; }
	else             { s = -pc; c = ps; }
}

/* sqrt to ~0.5 ulp: built-in (2-3 ulp in Vulkan) plus one Newton step. */
float lmd_sqrt(float a)
{
	if (a <= 0.0f) return 0.0f;
	precise float s = sqrt(a);
	precise float e = fma(-s, s, a);
	return s + e * (0.5f / s);
}

/* Four normals of Philox block b (rng.h: lmd_gauss4). */
vec4 lmd_gauss4(uint seed_lo, uint seed_hi, uint b_lo, uint b_hi, uint stream)
{
	uvec4 r = philox(uvec4(b_lo, b_hi, stream, 0u), seed_lo, seed_hi);
	vec4 z;
	for (int j = 0; j < 4; j += 2) {
		precise float u0 = (float(r[j] >> 8) + 0.5f) * (1.0f / 16777216.0f);
		precise float u1 = (float(r[j + 1] >> 8) + 0.5f) * (1.0f / 16777216.0f);
		float rad = lmd_sqrt(-2.0f * lmd_log(u0));
		precise float th = 6.2831853071795864f * u1;
		float sn, cs;
		lmd_sincos(th, sn, cs);
		z[j] = rad * cs;
		z[j + 1] = rad * sn;
	}
	return z;
}
#endif
