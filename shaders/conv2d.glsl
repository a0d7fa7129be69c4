/*
 * conv2d.glsl — body of the implicit-GEMM convolution (compute/backend.h),
 * included by conv2d.comp (64x64 tiles) and conv2d_s.comp (32x32 tiles, for
 * small grids: the mid/low U-Net levels give too few 64x64 tiles to fill a
 * big GPU). Parameters: MI, NJ = micro-tile rows/columns per invocation.
 *
 *   Y[co, p] = sum_kk W[co, kk] * X[kk, p]  (+ bias[co]) (+ R[co, p])
 *   M = cout rows, P = n*oh*ow columns (pixels of the whole batch),
 *   K = cin*k*k (kk = ci*k*k + ky*k + kx, the weight layout's inner order).
 *
 * Workgroup: 256 invocations as 16 x 16, a TM x TN output tile (TM = 16*MI
 * output channels, TN = 16*NJ pixels), K consumed in 16-deep slices staged
 * in shared memory (As[16][TM] weights, transposed; Bs[16][TN] im2col input,
 * gathered on the fly with padding, stride 2 and the fused nearest-x2
 * upsample). Invocation (tx, ty) accumulates rows ty + 16*i, columns
 * tx + 16*j, so one row's stores are contiguous across invocations. The next
 * K slice is prefetched into registers while the current one is multiplied
 * (one barrier pair per slice). Shared memory <= 8.2 KiB.
 * Dispatch: (ceil(P/TN) [split via base_x], ceil(M/TM)).
 * B0 = y, B1 = x, B2 = w, B3 = bias, B4 = residual (N x cout x oh x ow).
 * The residual may alias y (same element read then written by one thread).
 *
 * F16 (conv2d_h.comp, conv2d_hs.comp; devices with shaderFloat16): the
 * slices are staged in shared memory as f16vec2 pairs along K (As[8][TM],
 * Bs[8][TN]: half the bytes), each invocation loading NJ/2 (B) and MI/2 (A)
 * pairs of adjacent K; the 16-deep slice is multiplied with packed f16vec2
 * FMAs into fp16 partial sums (8 pair-products per lane) that are added to
 * the fp32 accumulators once per slice: fp16 products and 8-term partial
 * sums, fp32 across slices (the global buffers stay fp32).
 */
#extension GL_EXT_control_flow_attributes : require
#ifdef F16
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
#define TM (16u * MI)
#define TN (16u * NJ)
#define RSTEP (16u / NJ)      /* rows between one invocation's B loads (F16: pairs) */

layout(local_size_x = 256) in;
layout(set = 0, binding = 0) buffer B0 { float y[]; };
layout(set = 0, binding = 1) readonly buffer B1 { float x[]; };
layout(set = 0, binding = 2) readonly buffer B2 { float w[]; };
layout(set = 0, binding = 3) readonly buffer B3 { float bias[]; };
layout(set = 0, binding = 4) buffer B4 { float res[]; };
layout(push_constant) uniform PC {
	uint n, cin, h, wd, cout, k, stride, up;
	uint oh, ow, xcs, xcoff, ycs, ycoff, flags, base_x;  /* flags: 1 bias, 2 residual */
} pc;

#ifdef F16
shared f16vec2 As[8][TM + 1u];
shared f16vec2 Bs[8][TN];
#else
shared float As[16][TM + 1u];   /* +1: the transposing store is conflict-free */
shared float Bs[16][TN];
#endif

void main()
{
	uint t = gl_LocalInvocationID.x;
	uint tx = t % 16u, ty = t / 16u;
	uint p0 = (gl_WorkGroupID.x + pc.base_x) * TN;
	uint m0 = gl_WorkGroupID.y * TM;
	uint kk2 = pc.k * pc.k;
	uint K = pc.cin * kk2;
	uint P = pc.n * pc.oh * pc.ow;
	uint ohw = pc.oh * pc.ow;
	uint hw = pc.h * pc.wd;
	int lh = int(pc.h << pc.up), lw = int(pc.wd << pc.up);
	int pad = int(pc.k / 2u);

	/* B loads: this invocation always gathers column bp of the tile, rows
	 * kr + RSTEP*i; decompose its pixel once. */
	uint bp = t % TN, kr = t / TN;
	uint gp = p0 + bp;
	bool pin = gp < P;
	uint bn = 0u, boy = 0u, box = 0u;
	if (pin) { bn = gp / ohw; uint r = gp - bn * ohw; boy = r / pc.ow; box = r - boy * pc.ow; }
	int iy0 = int(boy * pc.stride) - pad, ix0 = int(box * pc.stride) - pad;
	uint xbase = (bn * pc.xcs + pc.xcoff) * hw;
	/* A loads: rows m0 + am + 16*i, column ak of the slice */
	uint ak = t % 16u, am = t / 16u;

	float acc[MI][NJ];
	[[unroll]] for (uint i = 0u; i < MI; i++) [[unroll]] for (uint j = 0u; j < NJ; j++) acc[i][j] = 0.0f;

	/* the input element of K row kk for this invocation's column (0 outside) */
	#define GX(kk, v) { \
		v = 0.0f; \
		if (pin && (kk) < K) { \
			uint ci = (kk) / kk2, rr = (kk) - ci * kk2; \
			uint ky = rr / pc.k, kx = rr - ky * pc.k; \
			int iy = iy0 + int(ky), ix = ix0 + int(kx); \
			if (iy >= 0 && iy < lh && ix >= 0 && ix < lw) \
				v = x[xbase + ci * hw + uint(iy >> pc.up) * pc.wd + uint(ix >> pc.up)]; \
		} }
	/* per precision: LOAD(k0) the next slice into registers, STAGE them into
	 * shared memory, SLICE: multiply the staged slice into acc */
#ifdef F16
	/* A pairs: rows m0 + am2 + 32*i, K columns 2*ak2, 2*ak2 + 1 of the slice */
	uint ak2 = t % 8u, am2 = t / 8u;
	vec2 ra[MI / 2u], rb[(NJ + 1u) / 2u];
	#define LOAD(k0) { \
		[[unroll]] for (uint i = 0u; i < MI / 2u; i++) { \
			uint m = m0 + am2 + 32u * i, kk = (k0) + 2u * ak2; \
			ra[i] = vec2((m < pc.cout && kk < K) ? w[m * K + kk] : 0.0f, \
			             (m < pc.cout && kk + 1u < K) ? w[m * K + kk + 1u] : 0.0f); \
		} \
		[[unroll]] for (uint i = 0u; i < (NJ + 1u) / 2u; i++) { \
			uint kk = (k0) + 2u * (kr + RSTEP * i); \
			GX(kk, rb[i].x) \
			GX(kk + 1u, rb[i].y) \
		} }
	#define STAGE() { \
		[[unroll]] for (uint i = 0u; i < MI / 2u; i++) As[ak2][am2 + 32u * i] = f16vec2(ra[i]); \
		[[unroll]] for (uint i = 0u; i < (NJ + 1u) / 2u; i++) Bs[kr + RSTEP * i][bp] = f16vec2(rb[i]); }
	/* fp16 partial sums of the slice's 8 pairs, then added to the fp32 acc */
	#define SLICE() { \
		f16vec2 acc16[MI][NJ]; \
		[[unroll]] for (uint i = 0u; i < MI; i++) \
			[[unroll]] for (uint j = 0u; j < NJ; j++) acc16[i][j] = f16vec2(0.0hf); \
		[[unroll]] for (uint kk = 0u; kk < 8u; kk++) { \
			f16vec2 a[MI], b[NJ]; \
			[[unroll]] for (uint i = 0u; i < MI; i++) a[i] = As[kk][ty + 16u * i]; \
			[[unroll]] for (uint j = 0u; j < NJ; j++) b[j] = Bs[kk][tx + 16u * j]; \
			[[unroll]] for (uint i = 0u; i < MI; i++) \
				[[unroll]] for (uint j = 0u; j < NJ; j++) acc16[i][j] = fma(a[i], b[j], acc16[i][j]); \
		} \
		[[unroll]] for (uint i = 0u; i < MI; i++) \
			[[unroll]] for (uint j = 0u; j < NJ; j++) acc[i][j] += float(acc16[i][j].x) + float(acc16[i][j].y); }
#else
	float ra[MI], rb[NJ];
	#define LOAD(k0) { \
		[[unroll]] for (uint i = 0u; i < MI; i++) { \
			uint m = m0 + am + 16u * i, kk = (k0) + ak; \
			ra[i] = (m < pc.cout && kk < K) ? w[m * K + kk] : 0.0f; \
		} \
		[[unroll]] for (uint i = 0u; i < NJ; i++) { \
			uint kk = (k0) + kr + RSTEP * i; \
			GX(kk, rb[i]) \
		} }
	#define STAGE() { \
		[[unroll]] for (uint i = 0u; i < MI; i++) As[ak][am + 16u * i] = ra[i]; \
		[[unroll]] for (uint i = 0u; i < NJ; i++) Bs[kr + RSTEP * i][bp] = rb[i]; }
	#define SLICE() { \
		[[unroll]] for (uint kk = 0u; kk < 16u; kk++) { \
			float a[MI], b[NJ]; \
			[[unroll]] for (uint i = 0u; i < MI; i++) a[i] = As[kk][ty + 16u * i]; \
			[[unroll]] for (uint j = 0u; j < NJ; j++) b[j] = Bs[kk][tx + 16u * j]; \
			[[unroll]] for (uint i = 0u; i < MI; i++) \
				[[unroll]] for (uint j = 0u; j < NJ; j++) acc[i][j] += a[i] * b[j]; \
		} }
#endif

	LOAD(0u)
	for (uint k0 = 0u; k0 < K; k0 += 16u) {
		STAGE()
		barrier();
		if (k0 + 16u < K) LOAD(k0 + 16u)
		SLICE()
		barrier();
	}

	[[unroll]] for (uint j = 0u; j < NJ; j++) {
		uint p = p0 + tx + 16u * j;
		if (p >= P) continue;
		uint nn = p / ohw, pix = p - nn * ohw;
		[[unroll]] for (uint i = 0u; i < MI; i++) {
			uint m = m0 + ty + 16u * i;
			if (m >= pc.cout) continue;
			float v = acc[i][j];
			if ((pc.flags & 1u) != 0u) v += bias[m];
			if ((pc.flags & 2u) != 0u) v += res[(nn * pc.cout + m) * ohw + pix];
			y[((nn * pc.ycs + pc.ycoff + m) * ohw) + pix] = v;
		}
	}
}
