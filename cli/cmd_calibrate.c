/*
 * cmd_calibrate.c — `lmdd calibrate`: the alarm threshold from normal frames.
 *
 *   lmdd calibrate --model FILE [--out FILE] [--fpr 0.005] [--every N]
 *                  [engine options] INPUT...
 *
 * Scores held-out normal frames (never the training frames) with the same
 * engine settings the daemon will use, and writes a JSON sidecar (default
 * <model>.calib.json, read by the daemon): the threshold is the (1 - fpr)
 * quantile of the in-domain scores, so about fpr of normal frames alarm.
 * The file also records the sampler parameters (scores are only comparable
 * under the same ones), summary statistics and a histogram.
 *
 * It also records the pixel threshold for the daemon's regions: the same
 * quantile of each frame's peak of the distance map box-blurred with radius
 * --region-blur (2, the daemon's region_blur). A moving person is rebuilt
 * less exactly than pavement, so at the frame threshold every walker is a
 * "region"; above the peaks of normal frames, only what normal frames never
 * show is (on Ped2: the bicycle, not the walkers beside it).
 *
 * --every N scores every N-th frame of each input (minutes of footage at
 * seconds per frame on a CPU; neighbouring frames add little). With a model
 * conditioned on K previous frames, the frames of each input before its
 * history is held (K frames, or K of the model's intervals of time:
 * history.h) are only history, as in the daemon: a frame whose history is
 * itself repeated scores near zero and would pull the threshold down. Such a model needs
 * videos (or sequences), not single images.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "cli_engine.h"
#include "clock.h"
#include "calib.h"
#include "events.h"

typedef struct {
	float *v, *peak;        /* per frame: score, peak of the blurred map */
	size_t n, cap;
	int blur, w, h;         /* region blur radius; map size */
	int64_t t0, shown;  /* start, last progress line (mono_us) */
} calib_ctx;

static int collect(void *vctx, const char *input, int64_t frame, float score,
                   const float *map, const float *image, const float *recon)
{
	calib_ctx *c = vctx;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		float *v = realloc(c->v, cap * sizeof(float));
		if (v)
			c->v = v;
		float *pk = v ? realloc(c->peak, cap * sizeof(float)) : NULL;
		if (!pk)
			return 1;
		c->peak = pk;
		c->cap = cap;
	}
	double pk = map ? ev_map_peak(map, c->w, c->h, c->blur, NULL) : 0;
	if (pk < 0)
		return 1;
	c->peak[c->n] = (float)pk;
	c->v[c->n++] = score;
	/* a line every 10 s (a big model on a CPU scores a frame in seconds) */
	int64_t now = mono_us();
	if (now - c->shown >= 10000000) {
		fprintf(stderr, "calibrate: %zu frames scored, %.2f s per frame\n", c->n,
		        (double)(now - c->t0) / 1e6 / (double)c->n);
		c->shown = now;
	}
	return 0;
}

static int cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* Linear-interpolated quantile of sorted v (numpy's default). */
static double quantile(const float *v, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

int cmd_calibrate(int argc, char **argv)
{
	static const struct option own[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "fpr", required_argument, NULL, 'f' },
		{ "every", required_argument, NULL, 'e' },
		{ "region-blur", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option opts[CLI_LONGOPTS_MAX];
	cli_engine_opts o;
	const char *out = NULL;
	double fpr = 0.005;
	long blur = 2;
	int r;
	char *e;
	cli_engine_defaults(&o);
	o.skip_context = 1;
	cli_longopts(own, opts, CLI_LONGOPTS_MAX);
	argv[0] = "lmdd calibrate";   /* getopt's messages */
	optind = 1;
	while ((r = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cli_engine_opt(&o, r, optarg);
		if (k < 0)
			return EX_USAGE;
		if (k)
			continue;
		switch (r) {
		case 'h':
			printf("usage: lmdd calibrate --model FILE [--out FILE] [--fpr F] [--every N] INPUT...\n\n%s"
			       "  --out FILE            sidecar to write (default MODEL.calib.json)\n"
			       "  --fpr F               false-alarm rate on normal frames (default 0.005)\n"
			       "  --every N             score every N-th frame of each input (default 1)\n"
			       "  --region-blur R       box-blur radius of the region threshold (default 2, as the daemon)\n",
			       cli_engine_help);
			return 0;
		case 'o':
			out = optarg;
			break;
		case 'f':
			fpr = strtod(optarg, &e);
			if (*e || !(fpr > 0 && fpr < 1)) {
				fprintf(stderr, "lmdd calibrate: --fpr '%s': expected a number in (0, 1)\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'e':
			if (cli_engine_every(&o, "calibrate", optarg))
				return EX_USAGE;
			break;
		case 'b':
			blur = strtol(optarg, &e, 10);
			if (*e || e == optarg || blur < 0 || blur > 32) {
				fprintf(stderr, "lmdd calibrate: --region-blur '%s': expected an integer in [0, 32]\n", optarg);
				return EX_USAGE;
			}
			break;
		default:
			fprintf(stderr, "(see lmdd calibrate --help)\n");
			return EX_USAGE;
		}
	}
	char **inputs = argv + optind;
	int n = argc - optind;
	if (!n) {
		fprintf(stderr, "lmdd calibrate: no inputs: give held-out normal footage\n");
		return EX_USAGE;
	}
	char defout[4096];
	if (!out && o.model) {
		snprintf(defout, sizeof defout, "%s.calib.json", o.model);
		out = defout;
	}
	cli_engine ce;
	int rc = cli_engine_open(&o, &ce);
	if (rc)
		return rc;
	calib_ctx c = { .t0 = mono_us(), .blur = (int)blur, .w = ce.W, .h = ce.H };
	c.shown = c.t0;
	rc = cli_score_inputs(&o, &ce, inputs, n, 1, NULL, collect, &c);
	fprintf(stderr, "calibrate: %zu frames scored\n", c.n);
	if (!rc && c.n < 2) {
		fprintf(stderr, "lmdd calibrate: need at least 2 frames, got %zu%s\n", c.n,
		        ce.K ? " (the model is conditioned on previous frames: the first of each input"
		               " are history only, so give videos, not single images)" : "");
		rc = EX_DATAERR;
	}
	if (rc)
		goto done;
	qsort(c.v, c.n, sizeof(float), cmpf);
	double sum = 0, ss = 0;
	for (size_t i = 0; i < c.n; i++)
		sum += c.v[i];
	double mean = sum / (double)c.n;
	for (size_t i = 0; i < c.n; i++)
		ss += (c.v[i] - mean) * (c.v[i] - mean);
	double thr = quantile(c.v, c.n, 1 - fpr);
	qsort(c.peak, c.n, sizeof(float), cmpf);
	double rthr = quantile(c.peak, c.n, 1 - fpr);

	cJSON *j = cJSON_CreateObject();
	const lmd_model_info *a = lmd_model_get_info(ce.model);
	cJSON_AddStringToObject(j, "model", a->name);
	cJSON_AddStringToObject(j, "model_file", o.model);
	char crc[9];
	if (calib_file_crc32(o.model, crc) == 0)
		cJSON_AddStringToObject(j, "model_crc32", crc);
	cJSON_AddNumberToObject(j, "threshold", thr);
	cJSON_AddNumberToObject(j, "fpr", fpr);
	cJSON_AddNumberToObject(j, "region_threshold", rthr);
	cJSON_AddNumberToObject(j, "region_blur", (double)blur);
	cJSON_AddNumberToObject(j, "frames", (double)c.n);
	cJSON *sz = cJSON_AddArrayToObject(j, "size");
	cJSON_AddItemToArray(sz, cJSON_CreateNumber(ce.W));
	cJSON_AddItemToArray(sz, cJSON_CreateNumber(ce.H));
	cJSON_AddItemToObject(j, "params", calib_params_json(&o.p));
	cJSON_AddStringToObject(j, "device", lmd_engine_device(ce.engine));
	cJSON *st = cJSON_AddObjectToObject(j, "stats");
	cJSON_AddNumberToObject(st, "mean", mean);
	cJSON_AddNumberToObject(st, "std", sqrt(ss / (double)(c.n - 1)));
	cJSON_AddNumberToObject(st, "min", c.v[0]);
	cJSON_AddNumberToObject(st, "p50", quantile(c.v, c.n, 0.5));
	cJSON_AddNumberToObject(st, "p90", quantile(c.v, c.n, 0.9));
	cJSON_AddNumberToObject(st, "p99", quantile(c.v, c.n, 0.99));
	cJSON_AddNumberToObject(st, "max", c.v[c.n - 1]);
	cJSON *rs = cJSON_AddObjectToObject(j, "region_peak_stats");
	cJSON_AddNumberToObject(rs, "p50", quantile(c.peak, c.n, 0.5));
	cJSON_AddNumberToObject(rs, "max", c.peak[c.n - 1]);
	/* 20-bin histogram over [min, max] */
	cJSON *hi = cJSON_AddObjectToObject(j, "histogram");
	cJSON *edges = cJSON_AddArrayToObject(hi, "edges"), *counts = cJSON_AddArrayToObject(hi, "counts");
	int bins[20] = { 0 };
	double lo = c.v[0], span = c.v[c.n - 1] - lo;
	for (size_t i = 0; i < c.n; i++) {
		int b = span > 0 ? (int)((c.v[i] - lo) / span * 20) : 0;
		bins[b > 19 ? 19 : b]++;
	}
	for (int b = 0; b <= 20; b++)
		cJSON_AddItemToArray(edges, cJSON_CreateNumber(lo + span * b / 20));
	for (int b = 0; b < 20; b++)
		cJSON_AddItemToArray(counts, cJSON_CreateNumber(bins[b]));
	cJSON *ins = cJSON_AddArrayToObject(j, "inputs");
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(ins, cJSON_CreateString(inputs[i]));
	char *text = cJSON_Print(j);
	cJSON_Delete(j);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f || !text || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) || rename(tmp, out)) {
		fprintf(stderr, "lmdd calibrate: cannot write %s\n", out);
		rc = EX_CANTCREAT;
	} else {
		printf("threshold %.9g (%.2f%% of %zu normal frames above it), region threshold %.9g -> %s\n",
		       thr, 100 * fpr, c.n, rthr, out);
	}
	cJSON_free(text);
done:
	free(c.v);
	free(c.peak);
	cli_engine_close(&ce);
	return rc;
}
