/*
 * tool_lmd.c — a thin command-line door into the engine for the Python
 * parity tests (tests/test_parity.py). Not a test itself.
 *
 *   tool_lmd eps   MODEL cpu|vulkan IN.f32 N H W T OUT.f32
 *       eps = U-Net(IN, t=T); IN is N x C(1+cond) x H x W raw float32.
 *   tool_lmd score MODEL cpu|vulkan IMAGES.f32 N H W STEPS REPS T0 SEED ETA
 *                  JUMP RESAMPLE COND.f32|- SCORES.f32 RECON.f32
 *       the full LMD pipeline (checkerboard:8, MSE, mean pooling, median).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "lmd.h"
#include "model.h"
#include "unet.h"

static float *readf(const char *path, size_t n)
{
	FILE *f = fopen(path, "rb");
	float *p = malloc(n * sizeof(float));
	if (!f || !p || fread(p, sizeof(float), n, f) != n) {
		fprintf(stderr, "tool_lmd: cannot read %zu floats from %s\n", n, path);
		exit(2);
	}
	fclose(f);
	return p;
}

static void writef(const char *path, const float *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, sizeof(float), n, f) != n || fclose(f)) {
		fprintf(stderr, "tool_lmd: cannot write %s\n", path);
		exit(2);
	}
}

static int num(const char *s)
{
	char *e;
	long v = strtol(s, &e, 10);
	if (*e || e == s) {
		fprintf(stderr, "tool_lmd: bad integer '%s'\n", s);
		exit(2);
	}
	return (int)v;
}

static void die(lmd_err e)
{
	fprintf(stderr, "tool_lmd: %s: %s\n", lmd_strerror(e), lmd_errmsg());
	exit(1);
}

int main(int argc, char **argv)
{
	lmd_model *m;
	lmd_err e;
	if (argc < 4)
		return 2;
	int vk = !strcmp(argv[3], "vulkan");
	if ((e = lmd_model_load(argv[2], &m)))
		die(e);
	const lmd_model_info *a = lmd_model_get_info(m);
	if (!strcmp(argv[1], "eps") && argc == 10) {
		int n = num(argv[5]), h = num(argv[6]), w = num(argv[7]), t = num(argv[8]);
		size_t cin = (size_t)a->channels * (1 + a->cond_frames), hw = (size_t)h * w;
		float *in = readf(argv[4], n * cin * hw), *out = malloc(sizeof(float) * n * a->channels * hw);
		lmd_be *be;
		lmd_unet *u;
		if ((e = vk ? lmd_vk_backend_new(-1, NULL, &be) : lmd_cpu_backend_new(&be)))
			die(e);
		if ((e = lmd_unet_new(m, be, &u)) || (e = lmd_unet_plan(u, n, h, w, &t, 1)))
			die(e);
		lmd_buf *x = be->ops->alloc(be, n * cin * hw), *y = be->ops->alloc(be, n * a->channels * hw);
		if ((e = be->ops->upload(be, x, 0, in, n * cin * hw)))
			die(e);
		lmd_unet_eps(u, y, x, 0);
		if ((e = be->ops->download(be, y, 0, out, n * a->channels * hw)))
			die(e);
		writef(argv[9], out, n * a->channels * hw);
		be->ops->free(be, x);
		be->ops->free(be, y);
		lmd_unet_destroy(&u);
		be->ops->destroy(be);
		free(in);
		free(out);
	} else if (!strcmp(argv[1], "score") && argc == 18) {
		int n = num(argv[5]), h = num(argv[6]), w = num(argv[7]);
		lmd_params p;
		lmd_params_default(&p);
		p.steps = num(argv[8]);
		p.reps = num(argv[9]);
		p.t0 = num(argv[10]);
		p.seed = (uint64_t)num(argv[11]);
		p.eta = (float)strtod(argv[12], NULL);
		p.jump = num(argv[13]);
		p.resample = num(argv[14]);
		size_t img = (size_t)a->channels * h * w;
		float *x = readf(argv[4], n * img);
		float *c = strcmp(argv[15], "-") ? readf(argv[15], n * img * a->cond_frames) : NULL;
		float *s = malloc(sizeof(float) * n), *r = malloc(sizeof(float) * n * img);
		lmd_engine *en;
		if ((e = lmd_engine_new(m, vk ? LMD_BACKEND_VULKAN : LMD_BACKEND_CPU, -1, NULL, &en)))
			die(e);
		if ((e = lmd_engine_score(en, &p, n, h, w, x, c, s, NULL, r)))
			die(e);
		writef(argv[16], s, n);
		writef(argv[17], r, n * img);
		lmd_engine_destroy(&en);
		free(x);
		free(c);
		free(s);
		free(r);
	} else {
		fprintf(stderr, "tool_lmd: bad arguments (see the comment at the top of tests/tool_lmd.c)\n");
		return 2;
	}
	lmd_model_destroy(&m);
	return 0;
}
