/*
 * tool_bench.c — times the engine for tools/bench.py (`make bench`).
 *
 *   tool_bench MODEL cpu|vulkan N H W STEPS REPS RUNS
 *       (a motion-aware model gets synthetic previous frames too)
 *   tool_bench sgemm M N K RUNS
 *   tool_bench peak RUNS
 *
 * Prints one JSON line: median seconds per call and per image, the FLOPs of
 * one call (network evaluations only), GFLOP/s, peak resident memory.
 * The sgemm mode measures the machine's OpenBLAS rate: the ceiling for the
 * convolutions, which are GEMMs. The peak mode measures the arithmetic
 * ceilings on all OpenMP threads with register-resident loops (12
 * independent accumulators, no memory traffic): fp32 FMA (AVX-512, else
 * AVX2) and, where the CPU has AVX-512 BF16, bf16 dot products (vdpbf16ps:
 * 32 multiply-adds per instruction); 0 for what the CPU lacks.
 */
#define _GNU_SOURCE /* cblas.h declares openblas_setaffinity(cpu_set_t *) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include "lmd.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmpd);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int num(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

#define PEAK_ITERS 20000000L

/* name(iters): iters x 12 independent OP(a[j]) on TYPE accumulators
 * (register-resident: no memory traffic); returns a sum so nothing is dead */
#define PEAK_FN(name, TGT, TYPE, SET1, OP, ADD, STORE, LANES)                  \
	__attribute__((target(TGT))) static float name(long iters)              \
	{                                                                       \
		TYPE a[12];                                                         \
		for (int j = 0; j < 12; j++)                                        \
			a[j] = SET1((float)j);                                          \
		for (long i = 0; i < iters; i++)                                    \
			_Pragma("GCC unroll 12") for (int j = 0; j < 12; j++)           \
				a[j] = OP(a[j]);                                            \
		float o[LANES], s = 0;                                              \
		for (int j = 1; j < 12; j++)                                        \
			a[0] = ADD(a[0], a[j]);                                         \
		STORE(o, a[0]);                                                     \
		for (int j = 0; j < LANES; j++)                                     \
			s += o[j];                                                      \
		return s;                                                           \
	}
#define FMA512(v) _mm512_fmadd_ps(v, _mm512_set1_ps(1.0000001f), _mm512_set1_ps(1e-7f))
#define FMA256(v) _mm256_fmadd_ps(v, _mm256_set1_ps(1.0000001f), _mm256_set1_ps(1e-7f))
/* vdpbf16ps: 16 lanes x 2 bf16 products (1.0 x ~1e-7) */
#define DPBF16(v) _mm512_dpbf16_ps(v, (__m512bh)_mm512_set1_epi32(0x3f803f80), (__m512bh)_mm512_set1_epi32(0x33d633d6))
PEAK_FN(peak_fma512, "avx512f", __m512, _mm512_set1_ps, FMA512, _mm512_add_ps, _mm512_storeu_ps, 16)
PEAK_FN(peak_fma256, "avx2,fma", __m256, _mm256_set1_ps, FMA256, _mm256_add_ps, _mm256_storeu_ps, 8)
PEAK_FN(peak_bf16, "avx512f,avx512bf16", __m512, _mm512_set1_ps, DPBF16, _mm512_add_ps, _mm512_storeu_ps, 16)

/* GFLOP/s of kind 0 (fp32 FMA) or 1 (bf16 dot) on all threads, median of runs */
static double peak(int kind, int runs)
{
	__builtin_cpu_init();
	int avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	if (kind == 1 && !(avx512 && __builtin_cpu_supports("avx512bf16")))
		return 0;
	if (kind == 0 && !avx512 && !avx2)
		return 0;
	double lanes = kind == 1 ? 32 : avx512 ? 16 : 8, t[64];
	volatile float sink = 0;
	int nth = omp_get_max_threads();
	for (int r = 0; r < runs + 1 && r < 64; r++) {
		double t0 = now();
		#pragma omp parallel num_threads(nth) reduction(+:sink)
		sink += kind == 1 ? peak_bf16(PEAK_ITERS / 4) : avx512 ? peak_fma512(PEAK_ITERS / 4) : peak_fma256(PEAK_ITERS / 4);
		t[r] = now() - t0;
	}
	return 2.0 * lanes * 12 * (double)(PEAK_ITERS / 4) * nth / median(t + 1, runs) / 1e9;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "peak")) {
		int R = num(argv[2]);
		printf("{\"fp32_fma_gflops\": %.2f, \"bf16_dot_gflops\": %.2f, \"threads\": %d}\n", peak(0, R), peak(1, R),
		       omp_get_max_threads());
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "sgemm")) {
		int M = num(argv[2]), N = num(argv[3]), K = num(argv[4]), R = num(argv[5]);
		float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N);
		for (long i = 0; i < (long)M * K; i++)
			a[i] = (float)(i % 7) * 0.1f;
		for (long i = 0; i < (long)K * N; i++)
			b[i] = (float)(i % 5) * 0.1f;
		double t[64];
		for (int r = 0; r < R + 1 && r < 64; r++) {
			double t0 = now();
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
			t[r] = now() - t0;
		}
		double med = median(t + 1, R);
		printf("{\"sgemm_gflops\": %.2f, \"seconds\": %.6f}\n", 2.0 * M * N * K / med / 1e9, med);
		free(a);
		free(b);
		free(c);
		return 0;
	}
	if (argc != 9) {
		fprintf(stderr, "usage: tool_bench MODEL cpu|vulkan N H W STEPS REPS RUNS | tool_bench sgemm M N K RUNS | tool_bench peak RUNS\n");
		return 2;
	}
	lmd_model *m;
	lmd_engine *e;
	lmd_err err;
	int n = num(argv[3]), h = num(argv[4]), w = num(argv[5]), runs = num(argv[8]);
	if ((err = lmd_model_load(argv[1], &m)) ||
	    (err = lmd_engine_new(m, strcmp(argv[2], "vulkan") ? LMD_BACKEND_CPU : LMD_BACKEND_VULKAN, -1, NULL, &e))) {
		fprintf(stderr, "tool_bench: %s\n", lmd_errmsg());
		return 1;
	}
	lmd_params p;
	lmd_params_default(&p);
	p.steps = num(argv[6]);
	p.reps = num(argv[7]);
	const lmd_model_info *a = lmd_model_get_info(m);
	size_t len = (size_t)n * a->channels * h * w;
	size_t clen = len * (size_t)a->cond_frames; /* previous frames of a motion-aware model */
	float *x = malloc(sizeof(float) * len), *s = malloc(sizeof(float) * n);
	float *c = clen ? malloc(sizeof(float) * clen) : NULL;
	for (size_t i = 0; i < len; i++)
		x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
	for (size_t i = 0; i < clen; i++)
		c[i] = (float)(((i + 7) * 2654435761u) % 1000) / 1000.0f;
	double t[64];
	if (runs > 63)
		runs = 63;
	for (int r = 0; r < runs + 1; r++) { /* run 0 warms up (allocation, JIT) */
		double t0 = now();
		if ((err = lmd_engine_score(e, &p, n, h, w, x, c, s, NULL, NULL))) {
			fprintf(stderr, "tool_bench: %s\n", lmd_errmsg());
			return 1;
		}
		t[r] = now() - t0;
	}
	double med = median(t + 1, runs);
	double flops = lmd_model_flops(m, h, w) * (double)lmd_params_nfe(&p) * n;
	printf("{\"backend\": \"%s\", \"device\": \"%s\", \"seconds\": %.6f, \"per_image\": %.6f, "
	       "\"gflop\": %.3f, \"gflops\": %.2f, \"maxrss_mb\": %.1f, \"score0\": %.9g}\n",
	       argv[2], lmd_engine_device(e), med, med / n, flops / 1e9, flops / med / 1e9,
	       (double)maxrss_kb() / 1024.0, s[0]);
	free(x);
	free(c);
	free(s);
	lmd_engine_destroy(&e);
	lmd_model_destroy(&m);
	return 0;
}
