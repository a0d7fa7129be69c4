#version 450
/*
 * eltwise.comp — the small element-wise ops, selected by pc.mode:
 *   0 add_chan:  B0[n,c,i] += B1[off_t + c]                 (total n*c*hw)
 *   1 copy_chan: B0[n, ycoff+c, i] = B1[n, xcoff+c, i]       (total n*cn*hw)
 *   2 replace:   x = m*(a*x0 + s*z) + (1-m)*x  B0=x B1=x0 B2=m B3=z
 *   3 ddim:      see compute/backend.h        B0=x B1=e B2=z
 *   4 axpby:     x = a*x + b*z                B0=x B1=z
 * Grid-stride loop, so any length fits the dispatch limits. Expressions are
 * written in the same order as the C reference.
 */
layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer B0 { float b0[]; };
layout(set = 0, binding = 1) readonly buffer B1 { float b1[]; };
layout(set = 0, binding = 2) readonly buffer B2 { float b2[]; };
layout(set = 0, binding = 3) readonly buffer B3 { float b3[]; };
layout(push_constant) uniform PC {
	uint mode, total, hw, c, off_t, ycs, ycoff, xcs, xcoff, has_z;
	float a, s, ap, c1, c2;
} pc;

void main()
{
	uint step = gl_NumWorkGroups.x * 256u;
	for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += step) {
		if (pc.mode == 0u) {
			b0[i] = b0[i] + b1[pc.off_t + (i / pc.hw) % pc.c];
		} else if (pc.mode == 1u) {
			uint per = pc.c * pc.hw;        /* c = cn here */
			uint n = i / per, rem = i - n * per;
			b0[(n * pc.ycs + pc.ycoff) * pc.hw + rem] = b1[(n * pc.xcs + pc.xcoff) * pc.hw + rem];
		} else if (pc.mode == 2u) {
			float m = b2[i];
			float z = pc.has_z != 0u ? b3[i] : 0.0f;
			b0[i] = m * (pc.a * b1[i] + pc.s * z) + (1.0f - m) * b0[i];
		} else if (pc.mode == 3u) {
			/* a, sa = s, ap, c1, c2 */
			float x = b0[i], e = b1[i];
			float x0p = clamp((x - pc.s * e) / pc.a, -1.0f, 1.0f);
			float ep = (x - pc.a * x0p) / pc.s;
			float r = pc.ap * x0p + pc.c1 * ep;
			if (pc.has_z != 0u) r = r + pc.c2 * b2[i];
			b0[i] = r;
		} else {
			float z = pc.has_z != 0u ? b1[i] : 0.0f;
			b0[i] = pc.a * b0[i] + pc.s * z;
		}
	}
}
