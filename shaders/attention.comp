#version 450
/*
 * attention.comp — one-head self-attention with an online softmax
 * (flash-attention style; the HW x HW score matrix is never stored).
 *
 * qkv: N x 3C x HW (q, k, v stacked), y: N x C x HW,
 * y[c, i] = sum_j softmax_j(scale * q[:, i] . k[:, j]) v[c, j].
 *
 * Workgroup (256 invocations) = one image n (z), a block of 32 queries (x)
 * and a chunk of 64 output channels (y). For each block of 32 keys:
 *   1. S[32q][32k] = Q^T K over all C, 32 channels at a time through
 *      shared memory (each invocation 4 scores: q = t%32, k = t/32 + 8r);
 *   2. per query row (32 invocations): new running max m, rescale factor
 *      alpha = exp(m_old - m_new), p = exp(s - m_new), l = l*alpha + sum p;
 *   3. O[64c][32q] = O*alpha + V P^T, O in registers (8 per invocation:
 *      q = t%32, c = t/32 + 8r).
 * At the end y = O / l. Shared memory: 8 KiB (Q/K tiles, then the V tile) +
 * 4.1 KiB (P) + 256 B — below the 16 KiB every Vulkan device has.
 * Channel chunks > 1 recompute S (C <= 64 needs one).
 */
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) writeonly buffer B0 { float y[]; };
layout(set = 0, binding = 1) readonly buffer B1 { float qkv[]; };
layout(push_constant) uniform PC {
	uint c, hw;
	float scale;
	uint base_x;      /* first query block of this dispatch (split grids) */
} pc;

shared float T[2048];        /* Q tile [32c][32q] + K tile [32c][32k]; later V [64c][32k] */
shared float P[32][33];      /* scores -> probabilities, [q][k] */
shared float mrow[32], lrow[32], arow[32];

void main()
{
	uint t = gl_LocalInvocationID.x;
	uint n = gl_WorkGroupID.z;
	uint q0 = (gl_WorkGroupID.x + pc.base_x) * 32u;
	uint c0 = gl_WorkGroupID.y * 64u;
	uint C = pc.c, HW = pc.hw;
	uint qb = n * 3u * C * HW;          /* q[c][i] = qkv[qb + c*HW + i] */
	uint kb = qb + C * HW, vb = kb + C * HW;
	uint tq = t % 32u, tr = t / 32u;    /* tr in 0..7 */

	float o[8];
	for (int r = 0; r < 8; r++) o[r] = 0.0f;
	if (t < 32u) { mrow[t] = -3.0e38f; lrow[t] = 0.0f; }

	for (uint j0 = 0u; j0 < HW; j0 += 32u) {
		float s[4] = float[4](0.0f, 0.0f, 0.0f, 0.0f);
		for (uint cc = 0u; cc < C; cc += 32u) {
			barrier();
			for (uint r = 0u; r < 4u; r++) {
				uint cl = tr + 8u * r;           /* 0..31 */
				uint ch = cc + cl;
				uint qi = q0 + tq, kj = j0 + tq;
				T[cl * 32u + tq] = (ch < C && qi < HW) ? qkv[qb + ch * HW + qi] : 0.0f;
				T[1024u + cl * 32u + tq] = (ch < C && kj < HW) ? qkv[kb + ch * HW + kj] : 0.0f;
			}
			barrier();
			uint cn = min(32u, C - cc);
			for (uint cl = 0u; cl < cn; cl++) {
				float qv = T[cl * 32u + tq];
				for (uint r = 0u; r < 4u; r++)
					s[r] += qv * T[1024u + cl * 32u + tr + 8u * r];
			}
		}
		for (uint r = 0u; r < 4u; r++) {
			uint kl = tr + 8u * r;
			P[tq][kl] = (j0 + kl < HW) ? s[r] * pc.scale : -3.0e38f;
		}
		barrier();
		if (t < 32u) {
			float mo = mrow[t], mn = mo;
			for (uint k = 0u; k < 32u; k++) mn = max(mn, P[t][k]);
			float sum = 0.0f;
			for (uint k = 0u; k < 32u; k++) {
				float p = (j0 + k < HW) ? exp(P[t][k] - mn) : 0.0f;
				P[t][k] = p;
				sum += p;
			}
			float al = exp(mo - mn);
			arow[t] = al;
			lrow[t] = lrow[t] * al + sum;
			mrow[t] = mn;
		}
		/* V tile [64c][32k] into T (Q/K tiles are no longer read) */
		for (uint r = 0u; r < 8u; r++) {
			uint cl = tr + 8u * r;
			uint ch = c0 + cl, kj = j0 + tq;
			T[cl * 32u + tq] = (ch < C && kj < HW) ? qkv[vb + ch * HW + kj] : 0.0f;
		}
		barrier();
		float al = arow[tq];
		for (uint r = 0u; r < 8u; r++) {
			uint cl = tr + 8u * r;
			float acc = o[r] * al;
			for (uint k = 0u; k < 32u; k++) acc += P[tq][k] * T[cl * 32u + k];
			o[r] = acc;
		}
	}
	barrier();
	uint qi = q0 + tq;
	if (qi < HW) {
		float inv = 1.0f / lrow[tq];
		uint yb = n * C * HW;
		for (uint r = 0u; r < 8u; r++) {
			uint ch = c0 + tr + 8u * r;
			if (ch < C) y[yb + ch * HW + qi] = o[r] * inv;
		}
	}
}
