#version 450
/*
 * groupnorm.comp — GroupNorm (+ optional SiLU), one workgroup of 256 per
 * (image, group): pass 1 sums x for the mean, pass 2 sums (x - mean)^2 for
 * the variance (two-pass: no cancellation), pass 3 writes
 * y = (x - mean) * rsqrt(var + eps) * gamma[c] + beta[c] (then y*sigmoid(y)).
 * Shared-memory tree reductions (portable: no subgroup size assumptions).
 * y may alias x: every element is read and written by the same invocation
 * in pass 3, after both reductions are complete.
 * B0 = y, B1 = x, B2 = gamma, B3 = beta.
 */
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer B0 { float y[]; };
layout(set = 0, binding = 1) buffer B1 { float x[]; };
layout(set = 0, binding = 2) readonly buffer B2 { float gamma[]; };
layout(set = 0, binding = 3) readonly buffer B3 { float beta[]; };
layout(push_constant) uniform PC {
	uint n, c, hw, groups, silu, base_wg;
	float eps;
} pc;

shared float red[256];

float reduce_sum(float v)
{
	uint t = gl_LocalInvocationID.x;
	red[t] = v;
	barrier();
	for (uint s = 128u; s > 0u; s >>= 1) {
		if (t < s) red[t] += red[t + s];
		barrier();
	}
	float r = red[0];
	barrier();
	return r;
}

void main()
{
	uint id = gl_WorkGroupID.x + pc.base_wg;   /* n * groups + g */
	uint g = id % pc.groups, n = id / pc.groups;
	uint cg = pc.c / pc.groups;
	uint cnt = cg * pc.hw;
	uint base = (n * pc.c + g * cg) * pc.hw;
	uint t = gl_LocalInvocationID.x;

	float s = 0.0f;
	for (uint i = t; i < cnt; i += 256u) s += x[base + i];
	float mean = reduce_sum(s) / float(cnt);
	float v = 0.0f;
	for (uint i = t; i < cnt; i += 256u) { float d = x[base + i] - mean; v += d * d; }
	float var = reduce_sum(v) / float(cnt);
	float rstd = 1.0f / sqrt(var + pc.eps);
	for (uint i = t; i < cnt; i += 256u) {
		uint ch = g * cg + i / pc.hw;
		float r = (x[base + i] - mean) * rstd * gamma[ch] + beta[ch];
		if (pc.silu != 0u) r = r / (1.0f + exp(-r));
		y[base + i] = r;
	}
}
