/*
 * test_model.c — the model loader against good and hostile files, plus the
 * sampler schedule, masks, parameters and distance measures.
 *
 * A valid small model is built in memory (header from lmd_arch_walk, random
 * weights); each hostile case mutates it one way — truncated, lying header
 * length, bad JSON, wrong dtype, wrong shape, missing/extra tensor, offsets
 * out of range or overlapping, NaN/Inf weights, bad metadata — and must be
 * rejected with LMD_ERR_FORMAT and a message naming the culprit.
 * The architecture itself is checked against PyTorch by tests/test_parity.py.
 * Also: a frame scores the same alone or anywhere in a batch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "distance.h"
#include "lmd.h"
#include "model.h"
#include "sampler.h"

typedef struct {
	cJSON *hdr;
	size_t off;
	int f16;
} build_ctx;

static void add_tensor(void *vctx, const char *name, int nd, const int *sh)
{
	build_ctx *c = vctx;
	cJSON *t = cJSON_CreateObject();
	size_t n = 1;
	cJSON *shape = cJSON_AddArrayToObject(t, "shape");
	for (int i = 0; i < nd; i++) {
		cJSON_AddItemToArray(shape, cJSON_CreateNumber(sh[i]));
		n *= (size_t)sh[i];
	}
	cJSON_AddStringToObject(t, "dtype", c->f16 ? "F16" : "F32");
	cJSON *of = cJSON_AddArrayToObject(t, "data_offsets");
	size_t bytes = n * (c->f16 ? 2 : 4);
	cJSON_AddItemToArray(of, cJSON_CreateNumber((double)c->off));
	cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(c->off + bytes)));
	c->off += bytes;
	cJSON_AddItemToObject(c->hdr, name, t);
}

static cJSON *metadata(void)
{
	cJSON *md = cJSON_CreateObject();
	const char *kv[][2] = {
		{ "format", "lmdd-unet-1" }, { "name", "tiny" }, { "in_channels", "1" }, { "cond_frames", "0" },
		{ "base_channels", "8" }, { "channel_mult", "1,2" }, { "num_res_blocks", "1" },
		{ "attn_levels", "1" }, { "groups", "4" }, { "timesteps", "1000" }, { "schedule", "linear" },
		{ "beta_start", "0.0001" }, { "beta_end", "0.02" }, { "frame_height", "16" },
		{ "frame_width", "16" }, { "train_size", "16" }, { "pixel_range", "-1,1" },
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		cJSON_AddStringToObject(md, kv[i][0], kv[i][1]);
	return md;
}

/* Serialise header + data into a malloc'd safetensors image. */
static unsigned char *serialise(cJSON *hdr, size_t data_len, size_t *len, int f16)
{
	char *js = cJSON_PrintUnformatted(hdr);
	size_t hl = strlen(js);
	*len = 8 + hl + data_len;
	unsigned char *b = malloc(*len);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
	memcpy(b + 8, js, hl);
	unsigned char *d = b + 8 + hl;
	srand(1);
	for (size_t i = 0; i < data_len; i += f16 ? 2 : 4) {
		float v = (float)rand() / RAND_MAX - 0.5f;
		if (f16) {
			uint16_t h = (uint16_t)(0x3000 | (rand() & 0x3ff)); /* small finite halves */
			memcpy(d + i, &h, 2);
		} else {
			memcpy(d + i, &v, 4);
		}
	}
	cJSON_free(js);
	return b;
}

/* A valid model: returns the header (caller may mutate) and data length. */
static cJSON *valid_header(size_t *data_len, int f16)
{
	lmd_model_info a = { 0 };
	a.channels = 1;
	a.base_channels = 8;
	a.levels = 2;
	a.ch_mult[0] = 1;
	a.ch_mult[1] = 2;
	a.num_res_blocks = 1;
	a.attn_levels = 2;
	a.groups = 4;
	build_ctx c = { cJSON_CreateObject(), 0, f16 };
	cJSON_AddItemToObject(c.hdr, "__metadata__", metadata());
	lmd_arch_walk(&a, add_tensor, &c);
	*data_len = c.off;
	return c.hdr;
}

static lmd_err parse(cJSON *hdr, size_t data_len, int f16, lmd_model **m)
{
	size_t len;
	unsigned char *b = serialise(hdr, data_len, &len, f16);
	lmd_err e = lmd_model_parse(b, len, "test.safetensors", m);
	free(b);
	return e;
}

/* Expect rejection with a message containing `needle`. */
static void expect_bad(cJSON *hdr, size_t data_len, const char *needle, const char *what)
{
	lmd_model *m = NULL;
	lmd_err e = parse(hdr, data_len, 0, &m);
	CHECK(e == LMD_ERR_FORMAT, "%s: expected a format error, got %d", what, e);
	CHECK(m == NULL, "%s: model returned on error", what);
	CHECK(strstr(lmd_errmsg(), needle) != NULL, "%s: message '%s' lacks '%s'", what, lmd_errmsg(), needle);
	lmd_model_destroy(&m);
	cJSON_Delete(hdr);
}

TEST(valid_f32_and_f16)
{
	for (int f16 = 0; f16 <= 1; f16++) {
		size_t dl;
		cJSON *h = valid_header(&dl, f16);
		lmd_model *m = NULL;
		lmd_err e = parse(h, dl, f16, &m);
		REQUIRE(e == LMD_OK, "valid model rejected: %s", lmd_errmsg());
		const lmd_model_info *a = lmd_model_get_info(m);
		CHECK(a->levels == 2 && a->base_channels == 8 && a->attn_levels == 2, "architecture misread");
		CHECK(a->n_params > 1000, "parameter count %lld", a->n_params);
		CHECK(fabs(lmd_model_alpha_bar(m, 0) - (1 - 1e-4)) < 1e-12, "abar[0] = %.12f", lmd_model_alpha_bar(m, 0));
		CHECK(lmd_model_alpha_bar(m, 999) < 1e-4 && lmd_model_alpha_bar(m, 999) > 1e-5, "abar[T-1]");
		CHECK(lmd_model_flops(m, 16, 16) > 1e6, "flops %g", lmd_model_flops(m, 16, 16));
		lmd_model_destroy(&m);
		CHECK(m == NULL, "destroy must null the pointer");
		cJSON_Delete(h);
	}
}

TEST(truncated_and_lying_lengths)
{
	size_t dl, len;
	cJSON *h = valid_header(&dl, 0);
	unsigned char *b = serialise(h, dl, &len, 0);
	lmd_model *m = NULL;
	for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
		lmd_err e = lmd_model_parse(b, cut, "cut", &m);
		CHECK(e == LMD_ERR_FORMAT && !m, "file cut at %zu of %zu accepted", cut, len);
	}
	/* header length larger than the file */
	unsigned char save = b[6];
	b[6] = 0x7f;
	CHECK(lmd_model_parse(b, len, "lie", &m) == LMD_ERR_FORMAT && strstr(lmd_errmsg(), "header length"),
	      "lying header length: %s", lmd_errmsg());
	b[6] = save;
	/* garbage JSON */
	b[8] = '[';
	CHECK(lmd_model_parse(b, len, "json", &m) == LMD_ERR_FORMAT && strstr(lmd_errmsg(), "JSON"),
	      "bad JSON: %s", lmd_errmsg());
	free(b);
	cJSON_Delete(h);
}

TEST(bad_tensors)
{
	size_t dl;
	cJSON *h;

	h = valid_header(&dl, 0);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(h, "conv_in.weight"), "dtype", cJSON_CreateString("I64"));
	expect_bad(h, dl, "conv_in.weight", "wrong dtype");

	h = valid_header(&dl, 0);
	cJSON *sh = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "down.1.block.0.conv1.weight"), "shape");
	cJSON_ReplaceItemInArray(sh, 1, cJSON_CreateNumber(9));
	expect_bad(h, dl, "down.1.block.0.conv1.weight", "wrong shape");

	h = valid_header(&dl, 0);
	cJSON_DeleteItemFromObject(h, "mid.attn_1.q.weight");
	expect_bad(h, dl, "mid.attn_1.q.weight", "missing tensor");

	h = valid_header(&dl, 0);
	cJSON *extra = cJSON_Duplicate(cJSON_GetObjectItem(h, "conv_in.bias"), 1);
	cJSON_AddItemToObject(h, "conv_in.extra", extra);
	expect_bad(h, dl, "conv_in.extra", "extra tensor");

	h = valid_header(&dl, 0);
	cJSON *of = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "conv_out.weight"), "data_offsets");
	cJSON_ReplaceItemInArray(of, 1, cJSON_CreateNumber((double)dl + 4096));
	expect_bad(h, dl, "conv_out.weight", "offset past the end");

	h = valid_header(&dl, 0);
	of = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "conv_in.bias"), "data_offsets");
	cJSON_ReplaceItemInArray(of, 0, cJSON_CreateNumber(0));
	cJSON_ReplaceItemInArray(of, 1, cJSON_CreateNumber(32));
	expect_bad(h, dl, "overlap", "overlapping tensors");
}

TEST(nonfinite_weights)
{
	for (int k = 0; k < 2; k++) {
		size_t dl, len;
		cJSON *h = valid_header(&dl, 0);
		unsigned char *b = serialise(h, dl, &len, 0);
		cJSON *of = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "up.0.block.0.norm2.bias"), "data_offsets");
		size_t at = (size_t)cJSON_GetArrayItem(of, 0)->valuedouble + 4;
		char *js = cJSON_PrintUnformatted(h);
		float bad = k ? INFINITY : NAN;
		memcpy(b + 8 + strlen(js) + at, &bad, 4);
		lmd_model *m = NULL;
		lmd_err e = lmd_model_parse(b, len, "nan", &m);
		CHECK(e == LMD_ERR_FORMAT && strstr(lmd_errmsg(), "up.0.block.0.norm2.bias") &&
		      strstr(lmd_errmsg(), k ? "infinite" : "NaN"), "%s weight: %s", k ? "Inf" : "NaN", lmd_errmsg());
		cJSON_free(js);
		free(b);
		cJSON_Delete(h);
	}
}

TEST(bad_metadata)
{
	static const char *cases[][3] = {
		{ "format", "gguf", "format" },
		{ "in_channels", "2", "in_channels" },
		{ "channel_mult", "1,x", "channel_mult" },
		{ "groups", "3", "groups" },
		{ "attn_levels", "5", "attn_levels" },
		{ "schedule", "sqrt", "schedule" },
		{ "timesteps", "-5", "timesteps" },
		{ "pixel_range", "0,1", "pixel_range" },
		{ "base_channels", "12abc", "base_channels" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t dl;
		cJSON *h = valid_header(&dl, 0);
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(h, "__metadata__"), cases[i][0], cJSON_CreateString(cases[i][1]));
		expect_bad(h, dl, cases[i][2], cases[i][0]);
	}
	size_t dl;
	cJSON *h = valid_header(&dl, 0);
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(h, "__metadata__"), "frame_width");
	expect_bad(h, dl, "frame_width", "missing key");
}

TEST(cond_interval)
{
	/* optional: absent reads as 0 (consecutive frames), a number in range
	 * is kept, anything else is an error naming the key */
	static const char *bad[] = { "-0.1", "0", "abc", "nan", "1e9", "0.1s" };
	size_t dl;
	lmd_model *m = NULL;
	cJSON *h = valid_header(&dl, 0);
	REQUIRE(parse(h, dl, 0, &m) == LMD_OK, "valid model rejected: %s", lmd_errmsg());
	CHECK(lmd_model_get_info(m)->cond_interval == 0, "absent: %g", lmd_model_get_info(m)->cond_interval);
	lmd_model_destroy(&m);
	cJSON_AddStringToObject(cJSON_GetObjectItem(h, "__metadata__"), "cond_interval", "0.04");
	REQUIRE(parse(h, dl, 0, &m) == LMD_OK, "cond_interval 0.04 rejected: %s", lmd_errmsg());
	CHECK(lmd_model_get_info(m)->cond_interval == 0.04, "read %g", lmd_model_get_info(m)->cond_interval);
	lmd_model_destroy(&m);
	cJSON_Delete(h);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		h = valid_header(&dl, 0);
		cJSON_AddStringToObject(cJSON_GetObjectItem(h, "__metadata__"), "cond_interval", bad[i]);
		expect_bad(h, dl, "'cond_interval'", bad[i]);
	}
}

TEST(file_errors)
{
	lmd_model *m = NULL;
	CHECK(lmd_model_load("/nonexistent/model.safetensors", &m) == LMD_ERR_IO &&
	      strstr(lmd_errmsg(), "/nonexistent/model.safetensors"), "missing file: %s", lmd_errmsg());
	CHECK(lmd_model_load("/tmp", &m) == LMD_ERR_IO, "directory accepted");
	char path[] = "/tmp/lmdd-empty-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	CHECK(lmd_model_load(path, &m) == LMD_ERR_FORMAT && strstr(lmd_errmsg(), "empty"), "empty: %s", lmd_errmsg());
	unlink(path);
}

TEST(schedule_and_moves)
{
	lmd_params p;
	lmd_params_default(&p);
	p.steps = 10;
	p.t0 = 999;
	int tau[10];
	lmd_sampler_steps(&p, tau);
	CHECK(tau[9] == 999 && tau[0] == 99, "tau = %d..%d", tau[0], tau[9]);
	for (int i = 1; i < 10; i++)
		CHECK(tau[i] > tau[i - 1], "tau not increasing at %d", i);
	CHECK(lmd_params_nfe(&p) == 10 * p.reps, "nfe %d", lmd_params_nfe(&p));
	p.jump = 2;
	p.resample = 3;
	int n = lmd_sampler_moves(&p, NULL, 0), down = 0, k = p.steps - 1;
	lmd_move mv[200];
	REQUIRE(n <= 200, "too many moves %d", n);
	lmd_sampler_moves(&p, mv, n);
	for (int i = 0; i < n; i++) {
		CHECK(mv[i].k == k, "move %d starts at %d, state is %d", i, mv[i].k, k);
		k += mv[i].down ? -1 : 1;
		down += mv[i].down;
		CHECK(k >= -1 && k < p.steps, "state out of range");
	}
	CHECK(k == -1, "walk ends at %d, not clean", k);
	/* jumps at k = 7, 5, 3, 1, each revisited twice more: 4 x 2 x 2 extra down moves */
	CHECK(down == 10 + 16, "down moves %d", down);
	CHECK(lmd_params_nfe(&p) == down * p.reps, "nfe with resampling");
}

TEST(masks)
{
	lmd_params p;
	lmd_params_default(&p);
	float a[40 * 40], b[40 * 40];
	lmd_sampler_mask(&p, 0, 30, 17, a);
	lmd_sampler_mask(&p, 1, 30, 17, b);
	int zeros = 0;
	for (int i = 0; i < 30 * 17; i++) {
		CHECK(a[i] + b[i] == 1.0f, "attempts 0 and 1 are not complementary at %d", i);
		zeros += a[i] == 0;
	}
	CHECK(zeros > 30 * 17 / 3 && zeros < 2 * 30 * 17 / 3, "checkerboard covers %d of %d", zeros, 30 * 17);
	REQUIRE(lmd_params_set(&p, "mask", "center:0.25") == LMD_OK, "center");
	lmd_sampler_mask(&p, 0, 40, 40, a);
	zeros = 0;
	for (int i = 0; i < 1600; i++)
		zeros += a[i] == 0;
	CHECK(zeros == 400 && a[0] == 1 && a[20 * 40 + 20] == 0, "center box: %d pixels", zeros);
	REQUIRE(lmd_params_set(&p, "mask", "patches:0.3") == LMD_OK, "patches");
	lmd_sampler_mask(&p, 0, 40, 40, a);
	lmd_sampler_mask(&p, 1, 40, 40, b);
	int za = 0, diff = 0;
	for (int i = 0; i < 1600; i++) {
		za += a[i] == 0;
		diff += a[i] != b[i];
	}
	CHECK(za >= 480 && za < 560, "patches cover %d", za);
	CHECK(diff > 0, "patches identical across attempts");
}

TEST(params_text)
{
	lmd_params p;
	lmd_params_default(&p);
	CHECK(lmd_params_set(&p, "steps", "20") == LMD_OK && p.steps == 20, "steps");
	CHECK(lmd_params_set(&p, "steps", "20x") == LMD_ERR_ARG && strstr(lmd_errmsg(), "steps"), "steps junk");
	CHECK(lmd_params_set(&p, "t0", "300") == LMD_OK && p.t0 == 300 && lmd_params_set(&p, "t0", "max") == LMD_OK && p.t0 == -1, "t0 max");
	CHECK(lmd_params_set(&p, "distance", "ssim") == LMD_OK && p.distance == LMD_DIST_SSIM, "ssim");
	CHECK(lmd_params_set(&p, "distance", "lpips") == LMD_ERR_ARG, "lpips not available");
	CHECK(lmd_params_set(&p, "pool", "max:5") == LMD_OK && p.pool == LMD_POOL_MAX && p.pool_size == 5, "pool");
	CHECK(lmd_params_set(&p, "pool", "maxx") == LMD_ERR_ARG, "pool junk");
	CHECK(lmd_params_set(&p, "mask", "checkerboard:4") == LMD_OK && p.mask_blocks == 4, "mask");
	CHECK(lmd_params_set(&p, "mask", "checkerboard:1") == LMD_ERR_ARG, "mask 1 block");
	CHECK(lmd_params_set(&p, "eta", "1.5") == LMD_ERR_ARG, "eta range");
	CHECK(lmd_params_set(&p, "seed", "-1") == LMD_ERR_ARG, "negative seed");
	CHECK(lmd_params_set(&p, "colour", "1") == LMD_ERR_ARG && strstr(lmd_errmsg(), "colour"), "unknown key");
}

TEST(distances)
{
	enum { H = 23, W = 19 };
	float x[2 * H * W], r[2 * H * W], map[H * W], wt[H * W];
	srand(3);
	for (int i = 0; i < 2 * H * W; i++)
		x[i] = r[i] = (float)rand() / RAND_MAX;
	lmd_dist_map(LMD_DIST_SSIM, x, r, 2, H, W, map);
	for (int i = 0; i < H * W; i++)
		CHECK(fabsf(map[i]) < 1e-5f, "SSIM distance of identical images at %d: %g", i, map[i]);
	r[5 * W + 7] += 0.5f;
	lmd_dist_map(LMD_DIST_MSE, x, r, 2, H, W, map);
	CHECK(fabsf(map[5 * W + 7] - 0.125f) < 1e-6f, "MSE map %g", map[5 * W + 7]);
	for (int i = 0; i < H * W; i++)
		wt[i] = 1;
	float mean = lmd_pool(LMD_POOL_MEAN, 0, map, wt, H, W);
	CHECK(fabsf(mean - 0.125f / (H * W)) < 1e-7f, "mean pool %g", mean);
	float mx = lmd_pool(LMD_POOL_MAX, 3, map, wt, H, W);
	CHECK(fabsf(mx - 0.125f / 9) < 1e-6f, "max pool %g", mx);
	lmd_dist_map(LMD_DIST_SSIM, x, r, 2, H, W, map);
	CHECK(map[5 * W + 7] > 0.01f && map[0] < 1e-5f, "SSIM reacts locally: %g, %g", map[5 * W + 7], map[0]);
	float v[] = { 3, 1, 2, 10 };
	CHECK(lmd_aggregate(LMD_AGG_MEDIAN, v, 4) == 2.5f, "median of 4");
	float v2[] = { 3, 1, 2 };
	CHECK(lmd_aggregate(LMD_AGG_MEDIAN, v2, 3) == 2.0f, "median of 3");
	CHECK(lmd_aggregate(LMD_AGG_MIN, v2, 3) == 1.0f, "min");
}

/* A frame's score and map do not depend on what else is in the batch or
 * where: the daemon batches whatever frames its streams have ready. Both
 * the checkerboard and the random-patch masks; CPU backend. */
TEST(batch_position_invariance)
{
	enum { H = 24, W = 36, HW = H * W };
	lmd_model *m = NULL;
	REQUIRE(lmd_model_load("tests/fixtures/daemon-gray.safetensors", &m) == LMD_OK, "%s", lmd_errmsg());
	lmd_engine *e = NULL;
	REQUIRE(lmd_engine_new(m, LMD_BACKEND_CPU, -1, NULL, &e) == LMD_OK, "%s", lmd_errmsg());
	static float img[3 * HW], map1[HW], map3[3 * HW];
	srand(11);
	for (int i = 0; i < 3 * HW; i++)
		img[i] = (float)rand() / RAND_MAX;
	static const char *masks[] = { "checkerboard:4", "patches:0.3" };
	for (int k = 0; k < 2; k++) {
		lmd_params p;
		lmd_params_default(&p);
		p.steps = 3;
		p.reps = 2;
		REQUIRE(lmd_params_set_mask(&p, masks[k]) == LMD_OK, "%s", lmd_errmsg());
		/* frame A alone, then A at position 2 of [B, C, A] */
		float s1, s3[3];
		static float batch[3 * HW];
		memcpy(batch, img + HW, 2 * HW * sizeof(float));
		memcpy(batch + 2 * HW, img, HW * sizeof(float));
		REQUIRE(lmd_engine_score(e, &p, 1, H, W, img, NULL, &s1, map1, NULL) == LMD_OK, "%s", lmd_errmsg());
		REQUIRE(lmd_engine_score(e, &p, 3, H, W, batch, NULL, s3, map3, NULL) == LMD_OK, "%s", lmd_errmsg());
		double md = 0;
		for (int i = 0; i < HW; i++)
			md = fmax(md, fabs(map1[i] - map3[2 * HW + i]));
		CHECK(fabs(s1 - s3[2]) <= 1e-5 * fabs(s1) && md <= 1e-5, "%s: alone %.9g, at position 2 %.9g (map diff %g)",
		      masks[k], s1, s3[2], md);
		CHECK(s3[0] != s3[2], "%s: different frames scored the same (%g)", masks[k], s1);
	}
	lmd_engine_destroy(&e);
	lmd_model_destroy(&m);
}

int main(void)
{
	RUN(valid_f32_and_f16);
	RUN(truncated_and_lying_lengths);
	RUN(bad_tensors);
	RUN(nonfinite_weights);
	RUN(bad_metadata);
	RUN(cond_interval);
	RUN(file_errors);
	RUN(schedule_and_moves);
	RUN(masks);
	RUN(params_text);
	RUN(distances);
	RUN(batch_position_invariance);
	CHECK_EXIT();
}
