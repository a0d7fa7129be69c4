#version 450
/*
 * noise.comp — standard normal noise z[i] = lmd_gauss(seed, stream, i % period),
 * i < len (compute/rng.h). One invocation per Philox block of 4 elements
 * of the period, grid-stride loop; each writes its values to every repeat.
 * raw = 1 writes the Philox uint32 outputs instead of the normals (used
 * only by tests/test_ops.c to check the bit-exact part).
 */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer B0 { uint z[]; };
layout(push_constant) uniform PC {
	uint off, len, seed_lo, seed_hi, stream, raw, period;   /* 1 <= period <= len */
} pc;

void main()
{
	uint nblk = (pc.period + 3u) / 4u;
	uint step = gl_NumWorkGroups.x * 256u;
	for (uint b = gl_GlobalInvocationID.x; b < nblk; b += step) {
		uvec4 r;
		if (pc.raw != 0u) {
			r = philox(uvec4(b, 0u, pc.stream, 0u), pc.seed_lo, pc.seed_hi);
		} else {
			r = floatBitsToUint(lmd_gauss4(pc.seed_lo, pc.seed_hi, b, 0u, pc.stream));
		}
		uint i = 4u * b;
		for (uint rep = 0u; rep < pc.len; rep += pc.period)
			for (uint j = 0u; j < 4u; j++)
				if (i + j < pc.period && rep + i + j < pc.len) z[pc.off + rep + i + j] = r[j];
	}
}
