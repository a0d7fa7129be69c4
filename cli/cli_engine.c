/*
 * cli_engine.c — engine options, engine opening and the batched scoring
 * of inputs' frames shared by `lmdd score`, `lmdd calibrate` and `lmdd
 * eval` (cli_engine.h); the frames come from media/feed.h, as the daemon's.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "cli.h"
#include "cli_engine.h"
#include "calib.h"
#include "feed.h"
#include <cjson/cJSON.h>

const char cli_engine_help[] =
	"engine options:\n"
	"  --model FILE          model file (safetensors)\n"
	"  --backend B           auto (default: a Vulkan GPU, else the CPU backend), vulkan or cpu\n"
	"  --device N|NAME       Vulkan device index or name substring\n"
	"  --steps S             DDIM steps (default 10)\n"
	"  --reps R              attempts per image, alternating masks (default 2)\n"
	"  --t0 T                start level, 1..T-1 or max (default max = T-1: from pure noise)\n"
	"  --eta E               DDIM eta in [0,1] (default 0)\n"
	"  --mask M              checkerboard[:B] (default 8), patches[:FRAC], center[:FRAC]\n"
	"  --jump J --resample N RePaint resampling (default off)\n"
	"  --distance D          mse (default) or ssim\n"
	"  --pool P              mean (default) or max[:K] (max of a KxK-averaged map)\n"
	"  --agg A               median (default), mean or min over attempts\n"
	"  --seed N              noise seed (default 0)\n"
	"  --size WxH            resize frames to this size (default: the model's)\n"
	"  --batch N             frames per engine call (default 8)\n";

void cli_engine_defaults(cli_engine_opts *o)
{
	memset(o, 0, sizeof *o);
	o->backend = -1;
	o->device = -1;
	o->batch = 8;
	o->every = 1;
	lmd_params_default(&o->p);
}

static int parse_size(const char *s, int *w, int *h)
{
	char *e1, *e2;
	long a = strtol(s, &e1, 10);
	if (e1 == s || (*e1 != 'x' && *e1 != 'X'))
		return -1;
	long b = strtol(e1 + 1, &e2, 10);
	if (e2 == e1 + 1 || *e2 || a < 1 || b < 1 || a > 8192 || b > 8192)
		return -1;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

int cli_engine_every(cli_engine_opts *o, const char *cmd, const char *val)
{
	char *e;
	long v = strtol(val, &e, 10);
	if (*e || e == val || v < 1 || v > 1000000) {
		fprintf(stderr, "lmdd %s: --every '%s': expected an integer in [1, 1000000]\n", cmd, val);
		return -1;
	}
	o->every = (int)v;
	return 0;
}

static const char *const engine_keys[] = { "model", "backend", "device", "steps", "reps", "t0", "eta",
                                           "mask", "jump", "resample", "distance", "pool", "agg", "seed",
                                           "size", "batch", NULL };

struct option *cli_longopts(const struct option *own, struct option *out, size_t max)
{
	size_t n = 0;
	for (int k = 0; engine_keys[k] && n + 1 < max; k++)
		out[n++] = (struct option){ engine_keys[k], required_argument, NULL, CLI_ENGINE_OPT + k };
	for (; own && own->name && n + 1 < max; own++)
		out[n++] = *own;
	out[n] = (struct option){ 0 };
	return out;
}

int cli_engine_opt(cli_engine_opts *o, int c, const char *val)
{
	if (c < CLI_ENGINE_OPT || c >= CLI_ENGINE_OPT + (int)(sizeof engine_keys / sizeof *engine_keys) - 1)
		return 0;
	const char *key = engine_keys[c - CLI_ENGINE_OPT];
	if (!strcmp(key, "model")) {
		o->model = val;
	} else if (!strcmp(key, "backend")) {
		if (!strcmp(val, "auto"))
			o->backend = -1;
		else if (!strcmp(val, "vulkan"))
			o->backend = LMD_BACKEND_VULKAN;
		else if (!strcmp(val, "cpu"))
			o->backend = LMD_BACKEND_CPU;
		else {
			fprintf(stderr, "lmdd: --backend '%s': expected auto, vulkan or cpu\n", val);
			return -1;
		}
	} else if (!strcmp(key, "device")) {
		char *e;
		long d = strtol(val, &e, 10);
		if (*e || e == val) {
			o->device_name = val;
		} else if (d < 0 || d > 64) {
			fprintf(stderr, "lmdd: --device %s: expected an index 0..64 or a name\n", val);
			return -1;
		} else {
			o->device = (int)d;
		}
	} else if (!strcmp(key, "size")) {
		if (parse_size(val, &o->width, &o->height)) {
			fprintf(stderr, "lmdd: --size '%s': expected WxH, e.g. 180x120\n", val);
			return -1;
		}
	} else if (!strcmp(key, "batch")) {
		char *e;
		long b = strtol(val, &e, 10);
		if (*e || e == val || b < 1 || b > 1024) {
			fprintf(stderr, "lmdd: --batch '%s': expected 1..1024\n", val);
			return -1;
		}
		o->batch = (int)b;
	} else if (lmd_params_set(&o->p, key, val)) {
		fprintf(stderr, "lmdd: --%s\n", lmd_errmsg());
		return -1;
	} else {
		for (int k = 0; calib_sampler_keys[k]; k++)
			if (!strcmp(calib_sampler_keys[k], strcmp(key, "agg") ? key : "aggregate"))
				o->params_set |= 1u << k;
	}
	return 1;
}

int cli_engine_open(const cli_engine_opts *o, cli_engine *ce)
{
	memset(ce, 0, sizeof *ce);
	lmd_err e;
	if (!o->model) {
		fprintf(stderr, "lmdd: --model FILE is required\n");
		return EX_USAGE;
	}
	if ((e = lmd_model_load(o->model, &ce->model))) {
		fprintf(stderr, "lmdd: %s\n", lmd_errmsg());
		return cli_exit_code(e);
	}
	if ((e = lmd_params_check(&o->p, ce->model))) {
		fprintf(stderr, "lmdd: %s\n", lmd_errmsg());
		cli_engine_close(ce);
		return EX_USAGE;
	}
	lmd_backend_kind kind = o->backend < 0 ? LMD_BACKEND_AUTO : (lmd_backend_kind)o->backend;
	if ((e = lmd_engine_new(ce->model, kind, o->device, o->device_name, &ce->engine))) {
		fprintf(stderr, "lmdd: %s backend: %s\n", kind == LMD_BACKEND_CPU ? "cpu" : "vulkan", lmd_errmsg());
		cli_engine_close(ce);
		return cli_exit_code(e);
	}
	if (!o->quiet)
		fprintf(stderr, "lmdd: %s backend on %s\n", lmd_engine_backend(ce->engine), lmd_engine_device(ce->engine));
	const lmd_model_info *a = lmd_model_get_info(ce->model);
	ce->C = a->channels;
	ce->K = a->cond_frames;
	ce->interval = a->cond_interval;
	ce->W = o->width ? o->width : a->frame_width;
	ce->H = o->height ? o->height : a->frame_height;
	return 0;
}

void cli_engine_close(cli_engine *ce)
{
	lmd_engine_destroy(&ce->engine);
	lmd_model_destroy(&ce->model);
}

typedef struct {
	const char *input;
	int64_t frame;
} frame_tag;

int cli_score_inputs(const cli_engine_opts *o, cli_engine *ce, char **inputs, int n, int want_maps,
                     cli_select_fn sel, cli_frame_fn fn, void *ctx)
{
	size_t img = (size_t)ce->C * ce->W * ce->H, hw = (size_t)ce->W * ce->H;
	int nb = o->batch, rc = 0, count = 0;
	float *imgs = malloc(sizeof(float) * img * nb), *cond = NULL;
	float *scores = malloc(sizeof(float) * nb);
	float *maps = want_maps ? malloc(sizeof(float) * hw * nb) : NULL;
	float *recon = want_maps ? malloc(sizeof(float) * img * nb) : NULL;
	frame_tag *tags = malloc(sizeof *tags * nb);
	if (ce->K)
		cond = malloc(sizeof(float) * img * ce->K * nb);
	if (!imgs || !scores || !tags || (want_maps && (!maps || !recon)) || (ce->K && !cond)) {
		fprintf(stderr, "lmdd: out of memory\n");
		rc = EX_OSERR;
		goto out;
	}
	const feed_opts fo = { .width = ce->W, .height = ce->H, .channels = ce->C, .cond_frames = ce->K,
	                       .cond_interval = ce->interval, .timeout_ms = 30000 };
	for (int in = 0; in <= n && !rc; in++) {
		feed *f = NULL;
		int64_t first = -1;     /* the first frame with its history held */
		media_err me = MEDIA_OK;
		if (in < n && (me = feed_open(inputs[in], &fo, &f))) {
			fprintf(stderr, "lmdd: %s\n", media_errmsg());
			rc = cli_media_exit_code(me);
			break;
		}
		for (;;) {
			feed_frame fr;
			int got = f && (me = feed_next(f, &fr)) == MEDIA_OK;
			if (f && !got && me != MEDIA_END) {
				fprintf(stderr, "lmdd: %s: %s\n", inputs[in], media_errmsg());
				rc = cli_media_exit_code(me);
				break;
			}
			if (got) {
				int ready = feed_ready(f);
				if (first < 0 && (ready || !o->skip_context))
					first = fr.index;
				int pick = sel ? sel(ctx, in, fr.index)
				               : first >= 0 && (fr.index - first) % o->every == 0;
				if (pick && (ready || !o->skip_context)) {
					if ((me = feed_image(f, imgs + (size_t)count * img))) {
						fprintf(stderr, "lmdd: %s: %s\n", inputs[in], media_errmsg());
						rc = cli_media_exit_code(me);
						break;
					}
					if (ce->K)
						feed_history(f, cond + (size_t)count * ce->K * img);
					tags[count].input = inputs[in];
					tags[count].frame = fr.index;
					count++;
				}
			}
			/* flush a full batch, or what is left after the last input (in == n) */
			if (count == nb || (in == n && count)) {
				lmd_err e = lmd_engine_score(ce->engine, &o->p, count, ce->H, ce->W, imgs, cond, scores, maps,
				                             recon);
				if (e) {
					fprintf(stderr, "lmdd: scoring: %s\n", lmd_errmsg());
					rc = cli_exit_code(e);
					break;
				}
				for (int i = 0; i < count && !rc; i++)
					if (fn(ctx, tags[i].input, tags[i].frame, scores[i], maps ? maps + hw * i : NULL,
					       imgs + img * i, recon ? recon + img * i : NULL))
						rc = -1;
				count = 0;
			}
			if (!got || rc)
				break;
		}
		feed_close(&f);
	}
	if (rc == -1)
		rc = 0;
out:
	free(imgs);
	free(cond);
	free(scores);
	free(maps);
	free(recon);
	free(tags);
	return rc;
}
