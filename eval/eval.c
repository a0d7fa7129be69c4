/*
 * eval.c — `lmdd eval` (build/lmdd-eval): detection quality of the C engine on the
 * reference benchmarks, reproducibly (docs/evaluation.md).
 *
 *   lmdd eval [--suite fmnist-mnist|mnist-fmnist|ped2|all[,...]] [--limit N]
 *             [--out docs/results] [--sweep] [engine options] ...
 *
 * Suites (label 1 = anomaly = positive; higher score = more anomalous):
 *   fmnist-mnist  Fashion-MNIST test (in) vs MNIST test (out), fashion-mnist model
 *   mnist-fmnist  MNIST test 5000..9999 (in) vs Fashion-MNIST test (out),
 *                 mnist model (trained on MNIST test 0..4999, never scored here)
 *   ped2          UCSD Ped2 test clips, frame level, ucsd-ped2 model; AUROC on
 *                 one global score scale (what a live daemon can do) and on
 *                 per-clip min-max normalised scores (the paper protocol)
 *
 * Design facts:
 *  - Scores come from the C engine (lmd_engine_score) with the sampler
 *    parameters of the command line (lmd_params, fixed --seed); the ones it
 *    leaves out come from the model's calibration sidecar when there is one
 *    (<model>.calib.json: the model's operating point, as in the daemon),
 *    else the engine's defaults. Noise is drawn per batch slot, so scores
 *    depend on --batch; a run is reproducible for the same options.
 *  - Ped2 frames are read through media/feed.h, the frame loop the daemon
 *    and every command share (one rule for time stamps and history), and
 *    scored by cli_score_inputs(); subsets (--limit/--stride, the sweep)
 *    select their frames there, and every frame is still decoded (history).
 *  - idx images are resized 28x28 -> model size exactly as the trainer did
 *    (eval/eval_data.c, checked bit-exact against the trainer's cache).
 *  - --limit N: the first N images per side (idx) / at most N frames per
 *    clip evenly strided (ped2). The sweep uses a disjoint subset where the
 *    sets allow: the LAST --sweep-limit images per side; Ped2 frames offset
 *    by half a stride.
 *  - Outputs under --out: scores-<suite>.csv (every scored image),
 *    summary-<suite>.json, sweep-<suite>.{json,csv}, examples/ (PGM/PPM/PFM
 *    dumps), README.md (eval/eval_report.c) and plots by
 *    tools/plot_eval.py (matplotlib) when /usr/bin/python3 has it.
 *  - Ped2 also gets a model-free baseline on the same frames: motion speed
 *    from FFmpeg's block motion estimation (media/motion.h), each clip
 *    decoded once more at its source size (~6 ms per frame here).
 *  - CIs: 1000-resample percentile bootstrap from a fixed seed; stratified
 *    for images, by clip for Ped2 (frames of a clip are correlated). The
 *    sweep also gives each setting's AUROC difference to the base, paired
 *    (the same resamples for both); --compare DIR does the same for two
 *    runs' scores CSVs (eval/eval_compare.h).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "cli_engine.h"
#include "calib.h"
#include "eval_compare.h"
#include "eval_data.h"
#include "eval_metrics.h"
#include "eval_report.h"
#include "eval_util.h"
#include "media.h"
#include "motion.h"

enum { SUITE_FM = 0, SUITE_MF, SUITE_PED2, NSUITES };

static const struct {
	const char *name, *title, *in_set, *out_set;
	double target;   /* AUROC target */
	int max_nfe;     /* NFE budget of the target (0 = none) */
	const char *model;
} suites[NSUITES] = {
	{ "fmnist-mnist", "Fashion-MNIST (in) vs MNIST (out)", "Fashion-MNIST test 0..9999",
	  "MNIST test 0..9999", 0.99, 100, "models/fashion-mnist/model.safetensors" },
	{ "mnist-fmnist", "MNIST held-out half (in) vs Fashion-MNIST (out)", "MNIST test 5000..9999",
	  "Fashion-MNIST test 0..9999", 0.99, 100, "models/mnist/model.safetensors" },
	{ "ped2", "UCSD Ped2, frame level", "normal frames of the 12 test clips",
	  "anomalous frames of the 12 test clips", 0.95, 0, "models/ucsd-ped2/model.safetensors" },
};
static const char *const suite_names[NSUITES] = { "fmnist-mnist", "mnist-fmnist", "ped2" };

typedef struct {
	cli_engine_opts o;        /* engine options and the base sampler parameters */
	const char *out;
	long limit;               /* 0 = everything */
	int stride;               /* ped2 frame stride (1 = every frame) */
	int sweep, sweep_only, report_only;
	long sweep_limit;         /* idx: last N per side */
	int sweep_frames;         /* ped2: frames per clip */
	unsigned sweep_mask;      /* bit f: sweep_factors[f] is swept */
	int bootstrap;
	uint64_t boot_seed;
	int examples;             /* example dumps per side (idx) / per class (ped2) */
	int plots;
	const char *plot_script;
	const char *python;
	const char *model[NSUITES];
	const char *fmnist_dir, *mnist_dir, *ped2_dir;
	char cmdline[4096];
	char cpu[256];
	int cores;
} eval_cfg;

/* One suite being evaluated: engine, output folder. */
typedef struct {
	const eval_cfg *cfg;
	int suite;
	cli_engine_opts o;
	cli_engine ce;
	FILE *excsv;              /* examples-<suite>.csv, while dumping */
	char params_from[4200];   /* the sidecar that set sampler keys, or "" */
} eval_run;

/* ------------------------------------------------------------------ data -- */

/* A scored subset: decoded idx images, or video clips with selected frames. */
typedef struct {
	int video;
	/* idx */
	size_t n;
	float *imgs;              /* n x C x H x W */
	unsigned char *label;
	int *group, *item;
	/* video */
	const eval_labels *L;
	char **paths;             /* one per clip */
	int *stride, *offset;     /* per clip */
	int full;                 /* every frame, not a subset */
	/* examples: (group, item) pairs to dump */
	int nex;
	int exg[16], exi[16];
} dataset;

static void dataset_free(dataset *d)
{
	free(d->imgs);
	free(d->label);
	free(d->group);
	free(d->item);
	free(d->stride);
	free(d->offset);
	memset(d, 0, sizeof *d);
}

static int is_example(const dataset *d, int g, int i)
{
	for (int k = 0; k < d->nex; k++)
		if (d->exg[k] == g && d->exi[k] == i)
			return 1;
	return 0;
}

static void path_join(char *buf, size_t len, const char *a, const char *b)
{
	snprintf(buf, len, "%s/%s", a, b);
}

/* dir/t10k-images-idx3-ubyte(.gz) */
static int find_idx(const char *dir, char *buf, size_t len)
{
	static const char *const names[] = { "t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte" };
	for (int k = 0; k < 2; k++) {
		path_join(buf, len, dir, names[k]);
		if (!access(buf, R_OK))
			return 0;
	}
	path_join(buf, len, dir, names[0]);
	return -1;
}

/*
 * Load one idx side into d (appending): items [first, first+count) of the
 * file, resized to the model's size, label/group given.
 */
static int load_idx_side(const eval_run *R, dataset *d, const char *dir, long first, long count, int label,
                         char *err, size_t errlen)
{
	char path[4096];
	if (find_idx(dir, path, sizeof path)) {
		snprintf(err, errlen, "%s: not found (nor without .gz)", path);
		return -1;
	}
	eval_idx x;
	if (eval_idx_read(path, first, count, &x, err, errlen))
		return -1;
	if (x.dims != 3) {
		snprintf(err, errlen, "%s: an idx label file, expected images", path);
		eval_idx_free(&x);
		return -1;
	}
	int C = R->ce.C, H = R->ce.H, W = R->ce.W;
	if (H < x.h || W < x.w) {
		snprintf(err, errlen, "%s: %dx%d images cannot be shrunk to %dx%d (the trainer antialiases; use --size)",
		         path, x.w, x.h, W, H);
		eval_idx_free(&x);
		return -1;
	}
	size_t img = (size_t)C * H * W, n = d->n + (size_t)x.n;
	float *imgs = realloc(d->imgs, sizeof(float) * img * n);
	if (imgs)
		d->imgs = imgs;
	unsigned char *lb = realloc(d->label, n);
	if (lb)
		d->label = lb;
	int *g = realloc(d->group, sizeof(int) * n), *it = realloc(d->item, sizeof(int) * n);
	if (g)
		d->group = g;
	if (it)
		d->item = it;
	uint8_t *rs = malloc((size_t)H * W);
	if (!imgs || !lb || !g || !it || !rs) {
		snprintf(err, errlen, "out of memory loading %s", path);
		free(rs);
		eval_idx_free(&x);
		return -1;
	}
	for (int i = 0; i < x.n; i++) {
		eval_resize_u8(x.data + (size_t)i * x.h * x.w, x.h, x.w, rs, H, W);
		float *dst = d->imgs + (d->n + (size_t)i) * img;
		for (int c = 0; c < C; c++)
			for (size_t p = 0; p < (size_t)H * W; p++)
				dst[(size_t)c * H * W + p] = (float)rs[p] / 255.0f;
		d->label[d->n + i] = (unsigned char)label;
		d->group[d->n + i] = label;
		d->item[d->n + i] = (int)first + i;
	}
	d->n = n;
	free(rs);
	eval_idx_free(&x);
	return 0;
}

/*
 * The idx dataset of a suite. tail = 0: the first `limit` images per side
 * (0 = all); tail = 1: the last `limit` per side (the sweep's subset).
 */
static int load_idx_dataset(const eval_run *R, long limit, int tail, int nex, dataset *d, char *err, size_t errlen)
{
	const eval_cfg *cfg = R->cfg;
	const char *in_dir = R->suite == SUITE_FM ? cfg->fmnist_dir : cfg->mnist_dir;
	const char *out_dir = R->suite == SUITE_FM ? cfg->mnist_dir : cfg->fmnist_dir;
	long in_lo = R->suite == SUITE_FM ? 0 : 5000, in_hi = 10000, out_lo = 0, out_hi = 10000;
	memset(d, 0, sizeof *d);
	long nin = in_hi - in_lo, nout = out_hi - out_lo;
	if (limit > 0 && limit < nin)
		nin = limit;
	if (limit > 0 && limit < nout)
		nout = limit;
	long fin = tail ? in_hi - nin : in_lo, fout = tail ? out_hi - nout : out_lo;
	if (load_idx_side(R, d, in_dir, fin, nin, 0, err, errlen) ||
	    load_idx_side(R, d, out_dir, fout, nout, 1, err, errlen)) {
		dataset_free(d);
		return -1;
	}
	for (int k = 0; k < nex && k < 8; k++) {
		d->exg[d->nex] = 0;
		d->exi[d->nex++] = (int)fin + k;
		d->exg[d->nex] = 1;
		d->exi[d->nex++] = (int)fout + k;
	}
	return 0;
}

/*
 * The Ped2 dataset: per clip every stride-th frame from offset. per_clip > 0
 * spreads at most that many frames over each clip (and offset_half shifts
 * them by half a stride, for the sweep's subset).
 */
static int load_video_dataset(const eval_run *R, const eval_labels *L, char **paths, int stride, int per_clip,
                              int offset_half, int nex, dataset *d)
{
	memset(d, 0, sizeof *d);
	d->video = 1;
	d->L = L;
	d->paths = paths;
	d->stride = malloc(sizeof(int) * (size_t)L->nclips);
	d->offset = malloc(sizeof(int) * (size_t)L->nclips);
	if (!d->stride || !d->offset)
		return -1;
	d->full = 1;
	for (int c = 0; c < L->nclips; c++) {
		int s = stride < 1 ? 1 : stride;
		if (per_clip > 0 && (L->frames[c] + per_clip - 1) / per_clip > s)
			s = (L->frames[c] + per_clip - 1) / per_clip;
		d->stride[c] = s;
		d->offset[c] = offset_half ? s / 2 : 0;
		if (s != 1 || d->offset[c])
			d->full = 0;
		for (int k = d->offset[c]; k < L->frames[c]; k += s)
			if (L->label[c][k] != 255)
				d->n++;
	}
	/* examples: the first two clips, their first normal and middle anomalous selected frame */
	for (int c = 0; c < L->nclips && c < 2 && nex > 0; c++) {
		int first_norm = -1, na = 0, mid = -1;
		for (int k = d->offset[c]; k < L->frames[c]; k += d->stride[c]) {
			if (L->label[c][k] == 0 && first_norm < 0)
				first_norm = k;
			na += L->label[c][k] == 1;
		}
		for (int k = d->offset[c], a = 0; k < L->frames[c]; k += d->stride[c])
			if (L->label[c][k] == 1 && a++ == na / 2)
				mid = k;
		if (first_norm >= 0) {
			d->exg[d->nex] = c;
			d->exi[d->nex++] = first_norm;
		}
		if (mid >= 0) {
			d->exg[d->nex] = c;
			d->exi[d->nex++] = mid;
		}
	}
	(void)R;
	return 0;
}

/* --------------------------------------------------------------- scoring -- */

static void dump_example(eval_run *R, int group, int item, int label, float score, const float *image,
                         const float *recon, const float *map)
{
	if (!R->excsv)
		return;
	const char *sn = suites[R->suite].name;
	char name[256], path[4400];
	snprintf(name, sizeof name, "%s-%d-%d", sn, group, item);
	int C = R->ce.C, H = R->ce.H, W = R->ce.W;
	const char *ext = C == 3 ? "ppm" : "pgm";
	int bad = 0;
	snprintf(path, sizeof path, "%s/examples/%s.image.%s", R->cfg->out, name, ext);
	bad |= eval_write_pnm(path, image, C, H, W);
	snprintf(path, sizeof path, "%s/examples/%s.recon.%s", R->cfg->out, name, ext);
	bad |= eval_write_pnm(path, recon, C, H, W);
	snprintf(path, sizeof path, "%s/examples/%s.map.pfm", R->cfg->out, name);
	bad |= eval_write_pfm(path, map, H, W);
	if (bad)
		fprintf(stderr, "lmdd eval: warning: cannot write example %s under %s/examples\n", name, R->cfg->out);
	else
		fprintf(R->excsv, "%s,%s,%d,%d,%d,%.9g\n", name, ext, group, item, label, score);
}

/* Score idx images in batches; maps/recon only for batches holding an example. */
static int score_images(eval_run *R, const dataset *d, const lmd_params *p, eval_samples *out, int examples,
                        eval_progress *pg)
{
	int C = R->ce.C, H = R->ce.H, W = R->ce.W, nb = R->o.batch;
	size_t img = (size_t)C * H * W, hw = (size_t)H * W;
	float *scores = malloc(sizeof(float) * nb), *maps = malloc(sizeof(float) * hw * nb);
	float *recon = malloc(sizeof(float) * img * nb);
	int rc = 0;
	if (!scores || !maps || !recon) {
		fprintf(stderr, "lmdd eval: out of memory\n");
		rc = EX_OSERR;
		goto out;
	}
	for (size_t b = 0; b < d->n && !rc; b += (size_t)nb) {
		int cnt = (int)(d->n - b < (size_t)nb ? d->n - b : (size_t)nb), want = 0;
		for (int i = 0; i < cnt && examples; i++)
			want |= is_example(d, d->group[b + i], d->item[b + i]);
		lmd_err e = lmd_engine_score(R->ce.engine, p, cnt, H, W, d->imgs + b * img, NULL, scores,
		                             want ? maps : NULL, want ? recon : NULL);
		if (e) {
			fprintf(stderr, "\nlmdd eval: scoring: %s\n", lmd_errmsg());
			rc = cli_exit_code(e);
			break;
		}
		for (int i = 0; i < cnt; i++) {
			if (eval_samples_add(out, scores[i], d->label[b + i], d->group[b + i], d->item[b + i])) {
				rc = EX_OSERR;
				break;
			}
			if (want && is_example(d, d->group[b + i], d->item[b + i]))
				dump_example(R, d->group[b + i], d->item[b + i], d->label[b + i], scores[i],
				             d->imgs + (b + i) * img, recon + img * i, maps + hw * i);
		}
		eval_progress_add(pg, (size_t)cnt);
	}
out:
	free(scores);
	free(maps);
	free(recon);
	return rc;
}

/* ---- video: the frame loop every command shares (cli_score_inputs) ---- */

typedef struct {
	eval_run *R;
	const dataset *d;
	eval_samples *out;
	eval_progress *pg;
	int examples, err;
	int64_t *decoded;         /* frames seen per clip */
} vid_ctx;

/* every frame (d->full), or the subset's: labelled, every stride-th from offset */
static int vid_select(void *vctx, int c, int64_t k)
{
	vid_ctx *v = vctx;
	const dataset *d = v->d;
	if (c >= d->L->nclips)
		return 0;
	v->decoded[c] = k + 1;
	return d->full || (k < d->L->frames[c] && k % d->stride[c] == d->offset[c] && d->L->label[c][k] != 255);
}

static int vid_frame(void *vctx, const char *input, int64_t frame, float score, const float *map,
                     const float *image, const float *recon)
{
	vid_ctx *v = vctx;
	const dataset *d = v->d;
	int c = 0;
	while (c < d->L->nclips && d->paths[c] != input)
		c++;
	if (c == d->L->nclips)
		return 0;
	eval_progress_add(v->pg, 1);
	if (frame >= d->L->frames[c] || d->L->label[c][frame] == 255)
		return 0; /* unlabelled frame */
	int lab = d->L->label[c][frame];
	if (eval_samples_add(v->out, score, lab, c, (int)frame)) {
		v->err = EX_OSERR;
		return 1;
	}
	if (v->examples && map && recon && is_example(d, c, (int)frame))
		dump_example(v->R, c, (int)frame, lab, score, image, recon, map);
	return 0;
}

static int dataset_score(eval_run *R, const dataset *d, const lmd_params *p, eval_samples *out, int examples,
                         eval_progress *pg)
{
	if (!d->video)
		return score_images(R, d, p, out, examples, pg);
	int64_t decoded[EVAL_MAX_CLIPS] = { 0 };
	cli_engine_opts o = R->o;
	o.p = *p;
	vid_ctx v = { R, d, out, pg, examples, 0, decoded };
	int rc = cli_score_inputs(&o, &R->ce, d->paths, d->L->nclips, examples, vid_select, vid_frame, &v);
	if (!rc)
		rc = v.err;
	for (int c = 0; c < d->L->nclips && !rc; c++)
		if (decoded[c] != d->L->frames[c])
			fprintf(stderr, "\nlmdd eval: warning: %s: %lld frames decoded, %d labelled\n", d->paths[c],
			        (long long)decoded[c], d->L->frames[c]);
	return rc;
}

/* --------------------------------------------------------------- metrics -- */

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* {auroc, auroc_lo, auroc_hi, aupr, ..., fpr95, ..., n_in, n_out} of scores s. */
static cJSON *metrics_json(const eval_cfg *cfg, const float *score, const unsigned char *label, const int *group,
                           size_t n, int by_group)
{
	eval_metrics m;
	eval_ci ci;
	cJSON *o = cJSON_CreateObject();
	size_t pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += label[i];
	cJSON_AddNumberToObject(o, "n_in", (double)(n - pos));
	cJSON_AddNumberToObject(o, "n_out", (double)pos);
	if (eval_compute(score, label, n, &m)) {
		m.auroc = m.aupr = m.fpr95 = NAN;
	}
	int have_ci = !isnan(m.auroc) &&
	              !eval_bootstrap(score, label, by_group ? group : NULL, n, cfg->bootstrap, cfg->boot_seed, &ci);
	if (!have_ci)
		ci.lo.auroc = ci.hi.auroc = ci.lo.aupr = ci.hi.aupr = ci.lo.fpr95 = ci.hi.fpr95 = NAN;
	add_num(o, "auroc", m.auroc);
	add_num(o, "auroc_lo", ci.lo.auroc);
	add_num(o, "auroc_hi", ci.hi.auroc);
	add_num(o, "aupr", m.aupr);
	add_num(o, "aupr_lo", ci.lo.aupr);
	add_num(o, "aupr_hi", ci.hi.aupr);
	add_num(o, "fpr95", m.fpr95);
	add_num(o, "fpr95_lo", ci.lo.fpr95);
	add_num(o, "fpr95_hi", ci.hi.fpr95);
	cJSON_AddNumberToObject(o, "bootstrap", have_ci ? cfg->bootstrap : 0);
	cJSON_AddStringToObject(o, "bootstrap_kind", by_group ? "clips resampled" : "stratified");
	return o;
}

/* ------------------------------------------------------------- outputs -- */

static int write_text(const char *path, const char *text)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int bad = fputs(text, f) < 0;
	if (fclose(f) || bad || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int write_json(const char *path, cJSON *j)
{
	char *t = cJSON_Print(j);
	if (!t)
		return -1;
	size_t n = strlen(t);
	char *t2 = malloc(n + 2);
	int rc = -1;
	if (t2) {
		memcpy(t2, t, n);
		t2[n] = '\n';
		t2[n + 1] = 0;
		rc = write_text(path, t2);
	}
	free(t2);
	cJSON_free(t);
	return rc;
}

static int write_scores_csv(const eval_run *R, const dataset *d, const eval_samples *s, const float *norm,
                            const float *speed)
{
	char path[4200], tmp[4300];
	snprintf(path, sizeof path, "%s/scores-%s.csv", R->cfg->out, suites[R->suite].name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (d->video)
		fprintf(f, "clip,frame,label,score,score_clip_minmax,speed\n");
	else
		fprintf(f, "set,item,label,score\n");
	const char *sets[2] = { R->suite == SUITE_FM ? "fashion-mnist-test" : "mnist-test",
	                        R->suite == SUITE_FM ? "mnist-test" : "fashion-mnist-test" };
	for (size_t i = 0; i < s->n; i++) {
		if (d->video) {
			fprintf(f, "%s,%d,%d,%.9g,%.9g,", d->L->clip[s->group[i]], s->item[i], s->label[i], s->score[i],
			        norm[i]);
			if (speed && !isnan(speed[i]))
				fprintf(f, "%.9g", speed[i]);
			fputc('\n', f);
		}
		else
			fprintf(f, "%s,%d,%d,%.9g\n", sets[s->group[i] ? 1 : 0], s->item[i], s->label[i], s->score[i]);
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The model record: file, name, training steps/loss/date from its metadata. */
static cJSON *model_json(const eval_run *R)
{
	const lmd_model_info *a = lmd_model_get_info(R->ce.model);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", R->o.model);
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddNumberToObject(o, "params", (double)a->n_params);
	char sz[32];
	snprintf(sz, sizeof sz, "%dx%d", a->frame_width, a->frame_height);
	cJSON_AddStringToObject(o, "frame_size", sz);
	cJSON *tr = a->training && *a->training ? cJSON_Parse(a->training) : NULL;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(tr, "steps");
	const cJSON *lo = cJSON_GetObjectItemCaseSensitive(tr, "final_loss");
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(tr, "date");
	const cJSON *wt = cJSON_GetObjectItemCaseSensitive(tr, "wall_time_s");
	if (cJSON_IsNumber(st))
		cJSON_AddNumberToObject(o, "training_steps", st->valuedouble);
	else
		cJSON_AddNullToObject(o, "training_steps");
	if (cJSON_IsNumber(lo))
		cJSON_AddNumberToObject(o, "training_loss", lo->valuedouble);
	if (cJSON_IsString(dt))
		cJSON_AddStringToObject(o, "training_date", dt->valuestring);
	if (cJSON_IsNumber(wt))
		cJSON_AddNumberToObject(o, "training_wall_s", wt->valuedouble);
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(tr, "note");
	if (cJSON_IsString(note))
		cJSON_AddStringToObject(o, "note", note->valuestring);
	cJSON_Delete(tr);
	return o;
}

/* The calibrated threshold of the model (<model>.calib.json), if any. */
static cJSON *threshold_json(const eval_run *R, const lmd_params *p, const eval_samples *s)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.calib.json", R->o.model);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = 0;
	cJSON *c = cJSON_Parse(buf);
	free(buf);
	const cJSON *thr = cJSON_GetObjectItemCaseSensitive(c, "threshold");
	if (!cJSON_IsNumber(thr)) {
		cJSON_Delete(c);
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	double t = thr->valuedouble;
	cJSON_AddStringToObject(o, "file", path);
	cJSON_AddNumberToObject(o, "value", t);
	cJSON *mine = calib_params_json(p);
	const cJSON *theirs = cJSON_GetObjectItemCaseSensitive(c, "params");
	cJSON_AddBoolToObject(o, "params_match", theirs && cJSON_Compare(mine, theirs, 1));
	cJSON_Delete(mine);
	/* a sidecar left from another snapshot of the model means nothing here */
	const cJSON *crc = cJSON_GetObjectItemCaseSensitive(c, "model_crc32");
	char have[9];
	cJSON_AddBoolToObject(o, "model_match", !cJSON_IsString(crc) ||
	                      (calib_file_crc32(R->o.model, have) == 0 && !strcmp(have, crc->valuestring)));
	double tp = 0, fp = 0, P = 0, N = 0;
	for (size_t i = 0; i < s->n; i++) {
		int alarm = s->score[i] >= t;
		if (s->label[i]) {
			P++;
			tp += alarm;
		} else {
			N++;
			fp += alarm;
		}
	}
	add_num(o, "tpr", P ? tp / P : NAN);
	add_num(o, "fpr", N ? fp / N : NAN);
	cJSON_Delete(c);
	return o;
}

/* -------------------------------------------------------------- a suite -- */

static int open_run(eval_run *R, const eval_cfg *cfg, int suite, char *why, size_t whylen)
{
	memset(R, 0, sizeof *R);
	R->cfg = cfg;
	R->suite = suite;
	R->o = cfg->o;
	R->o.model = cfg->o.model ? cfg->o.model : cfg->model[suite];
	R->o.quiet = 1;
	if (access(R->o.model, R_OK)) {
		snprintf(why, whylen, "model %s: %s", R->o.model, strerror(errno));
		return EX_NOINPUT;
	}
	/* The model's operating point, as in the daemon: the sampler settings
	 * the command line leaves out come from its calibration sidecar. */
	char cal[4200], err[512];
	snprintf(cal, sizeof cal, "%s.calib.json", R->o.model);
	if (!access(cal, F_OK)) {
		lmd_params p = R->o.p;
		calib_info cc;
		int use = !calib_read(cal, R->o.model, &p, cfg->o.params_set, &cc, err, sizeof err);
		if (!use) {
			/* a setting given that differs from the sidecar's: the threshold is not
			 * comparable, but the settings not given still come from the sidecar
			 * (its operating point), as long as it is this model's */
			char err2[512];
			p = R->o.p;
			use = !calib_read(cal, R->o.model, &p, 0, &cc, err2, sizeof err2) &&
			      !calib_params_overlay(&p, &R->o.p, cfg->o.params_set);
			fprintf(stderr, "lmdd eval: warning: %s; scoring with the command line's settings%s\n", err,
			        use ? " and the sidecar's for the rest" : "");
		}
		if (use) {
			cJSON *a = calib_params_json(&R->o.p), *b = calib_params_json(&p);
			if (!cJSON_Compare(a, b, 1))
				snprintf(R->params_from, sizeof R->params_from, "%s", cal);
			cJSON_Delete(a);
			cJSON_Delete(b);
			R->o.p = p;
		}
	}
	int rc = cli_engine_open(&R->o, &R->ce);
	if (rc) {
		snprintf(why, whylen, "model %s: cannot open (see the message above)", R->o.model);
		return rc;
	}
	const char *dev = lmd_engine_device(R->ce.engine);
	if ((strstr(dev, "llvmpipe") || strstr(dev, "lavapipe") || strstr(dev, "SwiftShader")))
		fprintf(stderr, "lmdd eval: warning: scoring on a software Vulkan device (%s), which is "
		                "much slower than --backend cpu\n", dev);
	return 0;
}

static void describe_subset(const eval_cfg *cfg, int suite, char *buf, size_t len)
{
	if (suite == SUITE_PED2) {
		if (cfg->limit > 0)
			snprintf(buf, len, "at most %ld frames per clip, evenly strided (--limit %ld)", cfg->limit, cfg->limit);
		else if (cfg->stride > 1)
			snprintf(buf, len, "one frame in %d (--stride %d)", cfg->stride, cfg->stride);
		else
			snprintf(buf, len, "all frames");
	} else if (cfg->limit > 0) {
		snprintf(buf, len, "first %ld images per side (--limit %ld)", cfg->limit, cfg->limit);
	} else {
		snprintf(buf, len, "all images");
	}
}

static cJSON *base_summary(const eval_run *R, const lmd_params *p)
{
	const eval_cfg *cfg = R->cfg;
	char date[64];
	eval_utc_now(date, sizeof date);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "suite", suites[R->suite].name);
	cJSON_AddStringToObject(j, "title", suites[R->suite].title);
	cJSON_AddStringToObject(j, "date", date);
	cJSON_AddStringToObject(j, "command", cfg->cmdline);
	cJSON_AddItemToObject(j, "model", model_json(R));
	cJSON_AddStringToObject(j, "device", lmd_engine_device(R->ce.engine));
	cJSON_AddStringToObject(j, "cpu", cfg->cpu);
	cJSON_AddNumberToObject(j, "cores", cfg->cores);
	char sz[32];
	snprintf(sz, sizeof sz, "%dx%d", R->ce.W, R->ce.H);
	cJSON_AddStringToObject(j, "size", sz);
	cJSON_AddNumberToObject(j, "batch", R->o.batch);
	cJSON_AddItemToObject(j, "params", calib_params_json(p));
	if (R->params_from[0])
		cJSON_AddStringToObject(j, "params_from", R->params_from);
	int nfe = lmd_params_nfe(p);
	cJSON_AddNumberToObject(j, "nfe", nfe);
	cJSON_AddNumberToObject(j, "gflop_per_image", lmd_model_flops(R->ce.model, R->ce.H, R->ce.W) * nfe / 1e9);
	return j;
}

/* The clips of a video suite: labels and file paths (dataset points into it). */
typedef struct {
	eval_labels L;
	char *paths[EVAL_MAX_CLIPS];
	char *buf;
} clipset;

static void suite_free(clipset *cs, dataset *d)
{
	dataset_free(d);
	eval_labels_free(&cs->L);
	free(cs->buf);
	memset(cs, 0, sizeof *cs);
}

/* The headline (sweep = 0) or sweep (sweep = 1) subset of R's suite. */
static int suite_load(const eval_run *R, int sweep, clipset *cs, dataset *d)
{
	const eval_cfg *cfg = R->cfg;
	char err[8192], path[4200];
	memset(cs, 0, sizeof *cs);
	memset(d, 0, sizeof *d);
	if (R->suite != SUITE_PED2) {
		if (!load_idx_dataset(R, sweep ? cfg->sweep_limit : cfg->limit, sweep, sweep ? 0 : cfg->examples, d, err,
		                      sizeof err))
			return 0;
		fprintf(stderr, "lmdd eval: %s\n", err);
		return EX_NOINPUT;
	}
	path_join(path, sizeof path, cfg->ped2_dir, "test-labels.csv");
	if (eval_labels_read(path, &cs->L, err, sizeof err)) {
		fprintf(stderr, "lmdd eval: %s\n", err);
		return EX_NOINPUT;
	}
	const size_t PL = 4096;
	cs->buf = malloc(PL * (size_t)cs->L.nclips);
	if (!cs->buf) {
		suite_free(cs, d);
		return EX_OSERR;
	}
	for (int c = 0; c < cs->L.nclips; c++) {
		cs->paths[c] = cs->buf + PL * (size_t)c;
		snprintf(cs->paths[c], PL, "%s/test/%s.mkv", cfg->ped2_dir, cs->L.clip[c]);
		if (access(cs->paths[c], R_OK)) {
			fprintf(stderr, "lmdd eval: %s: %s\n", cs->paths[c], strerror(errno));
			suite_free(cs, d);
			return EX_NOINPUT;
		}
	}
	int r = sweep ? load_video_dataset(R, &cs->L, cs->paths, 1, cfg->sweep_frames, 1, 0, d)
	              : load_video_dataset(R, &cs->L, cs->paths, cfg->stride, cfg->limit > 0 ? (int)cfg->limit : 0, 0,
	                                   cfg->examples, d);
	if (r) {
		suite_free(cs, d);
		return EX_OSERR;
	}
	if (sweep)
		d->full = 0;
	return 0;
}

/* ---- model-free baseline: motion speed (media/motion.c) on the same frames ---- */

/* Adds "motion_speed" to j (or, on failure, says why on stderr): the speed of each frame the model scored (smp) that
 * has a predecessor in its clip, scored as the model is (one global scale, and
 * per-clip min-max), with the decode + estimate time per frame; per[i] is
 * sample i's speed (NAN: none), for the scores CSV. Each clip is
 * decoded again at its own size: the speed is measured on source pixels. */
static int motion_baseline(const eval_run *R, const clipset *cs, const eval_samples *smp, cJSON *j, float *per)
{
	const eval_labels *L = &cs->L;
	float *sp[EVAL_MAX_CLIPS] = { 0 };
	eval_samples ms = { 0 };
	lmd_media *m = NULL;
	lmd_motion *mo = NULL;
	int rc = 0;
	int64_t frames = 0;
	double t0 = eval_now();
	for (int c = 0; c < L->nclips && !rc; c++) {
		if (!(sp[c] = malloc(sizeof(float) * (size_t)(L->frames[c] ? L->frames[c] : 1)))) {
			rc = EX_OSERR;
			break;
		}
		for (int k = 0; k < L->frames[c]; k++)
			sp[c][k] = -1;
		lmd_media_opts op = { .channels = 1, .timeout_ms = 30000 };
		if (lmd_media_open(cs->paths[c], &op, &m) || lmd_motion_new(&mo)) {
			fprintf(stderr, "lmdd eval: motion baseline: %s\n", media_errmsg());
			rc = EX_NOINPUT;
			break;
		}
		for (int k = 0; k < L->frames[c]; k++) {
			lmd_frame_info fi;
			media_err e = lmd_media_read(m, NULL, &fi);
			if (e == MEDIA_END)
				break;
			if (!e)
				e = lmd_motion_push(mo, lmd_media_last_frame(m), &sp[c][k]);
			if (e) {
				fprintf(stderr, "lmdd eval: motion baseline: %s, frame %d: %s\n", cs->paths[c], k, media_errmsg());
				rc = cli_media_exit_code(e);
				break;
			}
			frames++;
		}
		lmd_media_close(&m);
		lmd_motion_destroy(&mo);
	}
	lmd_media_close(&m); /* left open when the clip's lmd_motion_new failed */
	lmd_motion_destroy(&mo);
	double wall = eval_now() - t0;
	for (size_t i = 0; i < smp->n && !rc; i++) {
		int c = smp->group[i], k = smp->item[i];
		per[i] = k < L->frames[c] && sp[c][k] >= 0 ? sp[c][k] : NAN;
		if (!isnan(per[i]) && eval_samples_add(&ms, per[i], smp->label[i], c, k))
			rc = EX_OSERR;
	}
	float *norm = rc ? NULL : malloc(sizeof(float) * (ms.n ? ms.n : 1));
	if (!rc && (!norm || eval_minmax_by_group(ms.score, ms.group, ms.n, norm)))
		rc = EX_OSERR;
	if (!rc) {
		cJSON *o = cJSON_AddObjectToObject(j, "motion_speed");
		char how[256];
		snprintf(how, sizeof how,
		         "largest mean over %dx%d-block boxes of FFmpeg mestimate vector lengths (EPZS, %dx%d blocks, "
		         "frames scaled %dx: 1/%d-pixel vectors), pixels per frame at the source size; no model",
		         LMD_MOTION_BOX, LMD_MOTION_BOX, LMD_MOTION_BLOCK, LMD_MOTION_BLOCK, LMD_MOTION_UPSCALE,
		         LMD_MOTION_UPSCALE);
		cJSON_AddStringToObject(o, "method", how);
		cJSON_AddNumberToObject(o, "frames", (double)ms.n);
		cJSON_AddNumberToObject(o, "s_per_frame", frames ? wall / (double)frames : 0);
		cJSON_AddItemToObject(o, "metrics", metrics_json(R->cfg, ms.score, ms.label, ms.group, ms.n, 1));
		cJSON_AddItemToObject(o, "metrics_clip_minmax", metrics_json(R->cfg, norm, ms.label, ms.group, ms.n, 1));
	}
	free(norm);
	eval_samples_free(&ms);
	for (int c = 0; c < L->nclips; c++)
		free(sp[c]);
	return rc;
}

static int run_headline(eval_run *R, cJSON **summary)
{
	const eval_cfg *cfg = R->cfg;
	const int s = R->suite;
	dataset d;
	clipset cs;
	char path[4200];
	*summary = NULL;
	int rc = suite_load(R, 0, &cs, &d);
	if (rc)
		return rc;
	char exd[4200];
	snprintf(exd, sizeof exd, "%s/examples", cfg->out);
	snprintf(path, sizeof path, "%s/examples-%s.csv", cfg->out, suites[s].name);
	if (eval_mkdirs(exd) || !(R->excsv = fopen(path, "w"))) {
		fprintf(stderr, "lmdd eval: cannot write %s\n", path);
		rc = EX_CANTCREAT;
		goto out;
	}
	fprintf(R->excsv, "name,ext,group,item,label,score\n");

	eval_samples smp = { 0 };
	eval_progress pg;
	char label[96];
	snprintf(label, sizeof label, "eval %s", suites[s].name);
	eval_progress_start(&pg, label, d.n);
	double t0 = eval_now();
	rc = dataset_score(R, &d, &R->o.p, &smp, 1, &pg);
	double wall = eval_now() - t0;
	eval_progress_end(&pg);
	fclose(R->excsv);
	R->excsv = NULL;
	if (rc)
		goto out_s;

	float *norm = NULL, *speed = NULL;
	cJSON *j = base_summary(R, &R->o.p);
	char sub[256];
	describe_subset(cfg, s, sub, sizeof sub);
	cJSON_AddStringToObject(j, "subset", sub);
	cJSON_AddBoolToObject(j, "full", cfg->limit <= 0 && (s != SUITE_PED2 || cfg->stride <= 1));
	cJSON_AddStringToObject(j, "in_set", suites[s].in_set);
	cJSON_AddStringToObject(j, "out_set", suites[s].out_set);
	cJSON_AddNumberToObject(j, "wall_s", wall);
	cJSON_AddNumberToObject(j, "s_per_image", smp.n ? wall / (double)smp.n : 0);
	cJSON *m = metrics_json(cfg, smp.score, smp.label, smp.group, smp.n, s == SUITE_PED2);
	cJSON_AddItemToObject(j, "metrics", m);
	if (s == SUITE_PED2) {
		norm = malloc(sizeof(float) * (smp.n ? smp.n : 1));
		if (!norm || eval_minmax_by_group(smp.score, smp.group, smp.n, norm)) {
			rc = EX_OSERR;
			cJSON_Delete(j);
			goto out_s;
		}
		cJSON *m2 = metrics_json(cfg, norm, smp.label, smp.group, smp.n, 1);
		cJSON_AddItemToObject(j, "metrics_clip_minmax", m2);
		/* per clip: frames, anomalous, AUROC within the clip */
		cJSON *pc = cJSON_AddArrayToObject(j, "clips");
		for (int c = 0; c < cs.L.nclips; c++) {
			eval_samples one = { 0 };
			for (size_t i = 0; i < smp.n; i++)
				if (smp.group[i] == c && eval_samples_add(&one, smp.score[i], smp.label[i], c, smp.item[i]))
					rc = EX_OSERR;
			eval_metrics cm = { NAN, NAN, NAN };
			if (one.n)
				eval_compute(one.score, one.label, one.n, &cm);
			size_t an = 0;
			for (size_t i = 0; i < one.n; i++)
				an += one.label[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "clip", cs.L.clip[c]);
			cJSON_AddNumberToObject(o, "frames", (double)one.n);
			cJSON_AddNumberToObject(o, "anomalous", (double)an);
			add_num(o, "auroc", cm.auroc);
			cJSON_AddItemToArray(pc, o);
			eval_samples_free(&one);
		}
		path_join(path, sizeof path, cfg->ped2_dir, "test-labels.csv");
		cJSON_AddStringToObject(j, "labels_csv", path);
		cJSON *th = threshold_json(R, &R->o.p, &smp);
		if (th)
			cJSON_AddItemToObject(j, "threshold", th);
		if (!(speed = malloc(sizeof(float) * (smp.n ? smp.n : 1)))) {
			rc = EX_OSERR;
			free(norm);
			cJSON_Delete(j);
			goto out_s;
		}
		for (size_t i = 0; i < smp.n; i++)
			speed[i] = NAN;
		if (motion_baseline(R, &cs, &smp, j, speed)) /* the model's rows stand without it */
			fprintf(stderr, "lmdd eval: the no-model motion baseline is left out of this run\n");
	}
	cJSON *tg = cJSON_AddObjectToObject(j, "target");
	cJSON_AddNumberToObject(tg, "auroc", suites[s].target);
	if (suites[s].max_nfe)
		cJSON_AddNumberToObject(tg, "max_nfe", suites[s].max_nfe);
	snprintf(path, sizeof path, "scores-%s.csv", suites[s].name);
	cJSON_AddStringToObject(j, "scores_csv", path);
	if (write_scores_csv(R, &d, &smp, norm, speed)) {
		fprintf(stderr, "lmdd eval: cannot write %s/%s\n", cfg->out, path);
		rc = EX_CANTCREAT;
	}
	free(norm);
	free(speed);
	*summary = j;
out_s:
	eval_samples_free(&smp);
out:
	if (R->excsv)
		fclose(R->excsv);
	R->excsv = NULL;
	suite_free(&cs, &d);
	return rc;
}

/* ----------------------------------------------------------------- sweep -- */

static const struct {
	const char *factor;
	const char *vals[5];
} sweep_factors[] = {
	{ "steps", { "5", "10", "20", "50" } },
	{ "reps", { "1", "2", "4", "8" } },
	{ "mask", { "checkerboard:4", "checkerboard:8", "checkerboard:16" } },
	{ "distance", { "mse", "ssim" } },
	{ "pool", { "mean", "max:9" } },
	{ "repaint", { "off", "jump2-resample2" } },
	{ "t0", { "250", "500", "999" } },
};
#define NFACTORS (sizeof sweep_factors / sizeof sweep_factors[0])

/* "pool,steps" -> bit mask over sweep_factors; -1 names an unknown one. */
static int parse_factors(const char *list, unsigned *mask)
{
	*mask = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t f = 0;
		while (f < NFACTORS && !(strlen(sweep_factors[f].factor) == n && !strncmp(p, sweep_factors[f].factor, n)))
			f++;
		if (f == NFACTORS) {
			fprintf(stderr, "lmdd eval: --sweep-factors: unknown factor '%.*s' (one of steps, reps, mask, "
			        "distance, pool, repaint, t0)\n", (int)n, p);
			return -1;
		}
		*mask |= 1u << f;
		p += n + (p[n] == ',');
	}
	return *mask ? 0 : -1;
}

static void normalise(lmd_params *p, int T)
{
	if (p->t0 < 0 || p->t0 > T - 1)
		p->t0 = T - 1;
	if (p->jump <= 0 || p->resample <= 1)
		p->jump = p->resample = 0;
}

static int sweep_params(const lmd_params *base, const char *factor, const char *val, int T, lmd_params *p)
{
	*p = *base;
	normalise(p, T);
	if (!strcmp(factor, "repaint")) {
		p->jump = strcmp(val, "off") ? 2 : 0;
		p->resample = strcmp(val, "off") ? 2 : 0;
	} else if (lmd_params_set(p, factor, val)) {
		return -1;
	}
	normalise(p, T);
	return 0;
}

/* Adds "d_auroc", "d_auroc_lo", "d_auroc_hi" to m: AUROC of this setting (b)
 * minus the base's (a) on the same items, with a paired bootstrap CI
 * (eval_bootstrap_paired; clips resampled on Ped2). Both scorings must list
 * the same items in the same order, which dataset_score guarantees; if they
 * do not, nothing is added. */
static void add_paired(const eval_cfg *cfg, cJSON *m, const eval_samples *a, const eval_samples *b, int by_group)
{
	if (!a->n || a->n != b->n || memcmp(a->label, b->label, a->n) || memcmp(a->item, b->item, sizeof *a->item * a->n) ||
	    memcmp(a->group, b->group, sizeof *a->group * a->n)) {
		fprintf(stderr, "lmdd eval: sweep: a setting scored other items than the base; no paired difference\n");
		return;
	}
	eval_paired pr;
	if (eval_bootstrap_paired(a->score, b->score, a->label, by_group ? a->group : NULL, a->n, cfg->bootstrap,
	                          cfg->boot_seed, &pr))
		return;
	add_num(m, "d_auroc", pr.d);
	add_num(m, "d_auroc_lo", pr.lo);
	add_num(m, "d_auroc_hi", pr.hi);
}

static int run_sweep(eval_run *R, cJSON **result)
{
	const eval_cfg *cfg = R->cfg;
	const int s = R->suite;
	const int T = lmd_model_get_info(R->ce.model)->timesteps;
	dataset d;
	clipset cs;
	int rc = suite_load(R, 1, &cs, &d);
	if (rc)
		return rc;
	/* the distinct configurations, base first */
	enum { MAXC = 32 };
	lmd_params cp[MAXC];
	int nc = 0;
	struct { int f, v, c; } rows[MAXC];
	int nr = 0;
	lmd_params base = R->o.p;
	normalise(&base, T);
	cp[nc++] = base;
	for (size_t f = 0; f < NFACTORS; f++)
		for (int v = 0; v < 5 && sweep_factors[f].vals[v] && (cfg->sweep_mask >> f & 1); v++) {
			lmd_params p;
			if (sweep_params(&R->o.p, sweep_factors[f].factor, sweep_factors[f].vals[v], T, &p) ||
			    lmd_params_check(&p, R->ce.model)) {
				fprintf(stderr, "lmdd eval: sweep: skipping %s=%s (%s)\n", sweep_factors[f].factor,
				        sweep_factors[f].vals[v], lmd_errmsg());
				continue;
			}
			int c = 0;
			while (c < nc && memcmp(&cp[c], &p, sizeof p))
				c++;
			if (c == nc && nc < MAXC)
				cp[nc++] = p;
			if (c < nc && nr < MAXC)
				rows[nr++] = (typeof(rows[0])){ (int)f, v, c };
		}
	cJSON *res[MAXC] = { 0 };
	double sec[MAXC] = { 0 };
	eval_progress pg;
	char label[96];
	snprintf(label, sizeof label, "sweep %s (%d settings)", suites[s].name, nc);
	eval_progress_start(&pg, label, d.n * (size_t)nc);
	eval_samples base_smp = { 0 }; /* the base's scores: every other setting is compared with them, paired */
	for (int c = 0; c < nc && !rc; c++) {
		eval_samples smp = { 0 };
		double t0 = eval_now();
		rc = dataset_score(R, &d, &cp[c], &smp, 0, &pg);
		sec[c] = smp.n ? (eval_now() - t0) / (double)smp.n : 0;
		if (!rc) {
			res[c] = metrics_json(cfg, smp.score, smp.label, smp.group, smp.n, s == SUITE_PED2);
			if (c > 0)
				add_paired(cfg, res[c], &base_smp, &smp, s == SUITE_PED2);
		}
		if (c == 0 && !rc)
			base_smp = smp; /* kept until the end */
		else
			eval_samples_free(&smp);
	}
	eval_samples_free(&base_smp);
	eval_progress_end(&pg);
	if (rc)
		goto out;
	cJSON *j = cJSON_CreateObject();
	char date[64], sub[256];
	eval_utc_now(date, sizeof date);
	cJSON_AddStringToObject(j, "suite", suites[s].name);
	cJSON_AddStringToObject(j, "date", date);
	cJSON_AddStringToObject(j, "command", cfg->cmdline);
	cJSON_AddItemToObject(j, "model", model_json(R));
	cJSON_AddStringToObject(j, "device", lmd_engine_device(R->ce.engine));
	cJSON_AddItemToObject(j, "base", calib_params_json(&base));
	if (s == SUITE_PED2)
		snprintf(sub, sizeof sub, "at most %d frames per clip, evenly strided, offset half a stride",
		         cfg->sweep_frames);
	else
		snprintf(sub, sizeof sub, "the last %ld images per side (disjoint from the headline's --limit N for N <= %ld)",
		         cfg->sweep_limit, (s == SUITE_FM ? 10000 : 5000) - cfg->sweep_limit);
	cJSON_AddStringToObject(j, "subset", sub);
	cJSON *arr = cJSON_AddArrayToObject(j, "rows");
	/* the base row first, then one row per factor value */
	for (int r = -1; r < nr; r++) {
		int c = r < 0 ? 0 : rows[r].c;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "factor", r < 0 ? "base" : sweep_factors[rows[r].f].factor);
		cJSON_AddStringToObject(o, "value", r < 0 ? "base" : sweep_factors[rows[r].f].vals[rows[r].v]);
		cJSON_AddBoolToObject(o, "is_base", c == 0);
		cJSON_AddItemToObject(o, "params", calib_params_json(&cp[c]));
		cJSON_AddNumberToObject(o, "nfe", lmd_params_nfe(&cp[c]));
		cJSON_AddNumberToObject(o, "s_per_image", sec[c]);
		cJSON_AddItemToObject(o, "metrics", cJSON_Duplicate(res[c], 1));
		cJSON_AddItemToArray(arr, o);
	}
	*result = j;
out:
	for (int c = 0; c < nc; c++)
		cJSON_Delete(res[c]);
	suite_free(&cs, &d);
	return rc;
}

static int write_sweep_csv(const char *out, const char *suite, const cJSON *j)
{
	char path[4200], tmp[4300];
	snprintf(path, sizeof path, "%s/sweep-%s.csv", out, suite);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "factor,value,is_base,nfe,auroc,auroc_lo,auroc_hi,aupr,fpr95,s_per_image,n_in,n_out,"
	           "d_auroc,d_auroc_lo,d_auroc_hi\n");
	const cJSON *r;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "rows"))
	{
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
#define G(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k) (cJSON_IsNumber(G(o, k)) ? G(o, k)->valuedouble : NAN)
		fprintf(f, "%s,%s,%d,%g,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%g,%g,%.6f,%.6f,%.6f\n", G(r, "factor")->valuestring,
		        G(r, "value")->valuestring, cJSON_IsTrue(G(r, "is_base")), NUM(r, "nfe"), NUM(m, "auroc"),
		        NUM(m, "auroc_lo"), NUM(m, "auroc_hi"), NUM(m, "aupr"), NUM(m, "fpr95"), NUM(r, "s_per_image"),
		        NUM(m, "n_in"), NUM(m, "n_out"), NUM(m, "d_auroc"), NUM(m, "d_auroc_lo"), NUM(m, "d_auroc_hi"));
#undef NUM
#undef G
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------- plots -- */

static const char *find_plot_script(const eval_cfg *cfg, char *buf, size_t len)
{
	if (cfg->plot_script)
		return cfg->plot_script;
	if (!access("tools/plot_eval.py", R_OK))
		return "tools/plot_eval.py";
	/* next to the binary: build/lmdd -> tools/plot_eval.py */
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		for (int up = 0; up < 2; up++) {
			char *sl = strrchr(exe, '/');
			if (sl)
				*sl = 0;
		}
		snprintf(buf, len, "%s/tools/plot_eval.py", exe);
		if (!access(buf, R_OK))
			return buf;
	}
	return NULL;
}

/* Run the plot script; note says what happened when no plots came out. */
static void make_plots(const eval_cfg *cfg, char *note, size_t len)
{
	note[0] = 0;
	if (!cfg->plots) {
		snprintf(note, len, "plots not made (--no-plots)");
		return;
	}
	char buf[4200];
	const char *script = find_plot_script(cfg, buf, sizeof buf);
	if (!script) {
		snprintf(note, len, "plots not made: tools/plot_eval.py not found (give --plot-script)");
		return;
	}
	static const char *const pngs[] = { "roc.png", "ped2-timelines.png", "sweep.png", "examples-fmnist-mnist.png",
		                            "examples-mnist-fmnist.png", "examples-ped2.png" };
	for (size_t k = 0; k < sizeof pngs / sizeof pngs[0]; k++) { /* no stale figures */
		char png[4200];
		snprintf(png, sizeof png, "%s/%s", cfg->out, pngs[k]);
		unlink(png);
	}
	char *argv[] = { (char *)cfg->python, (char *)script, (char *)cfg->out, NULL };
	int st = 0;
	fflush(NULL);
	pid_t pid = fork(); /* (not posix_spawn: daemon/sched.h shadows <sched.h> that <spawn.h> needs) */
	if (pid == 0) {
		execv(cfg->python, argv);
		_exit(127);
	}
	if (pid < 0) {
		snprintf(note, len, "plots not made: cannot fork");
		return;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(note, len, "plots not made: cannot run %s", cfg->python);
	else
	if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		snprintf(note, len, "plots not made: %s has no matplotlib", cfg->python);
	else
		snprintf(note, len, "plots not made: %s %s failed (exit %d)", cfg->python, script,
		         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	fprintf(stderr, "lmdd eval: %s\n", note);
}

/* -------------------------------------------------------------- command -- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

static void print_totals(const cJSON *j)
{
#define G(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k) (cJSON_IsNumber(G(o, k)) ? G(o, k)->valuedouble : NAN)
	const char *suite = jstr(j, "suite");
	const cJSON *tg = G(j, "target"), *mo = G(j, "model");
	for (int k = 0; k < 2; k++) {
		const cJSON *m = G(j, k ? "metrics_clip_minmax" : "metrics");
		if (!m)
			continue;
		double a = NUM(m, "auroc"), t = NUM(tg, "auroc");
		char status[128];
		if (k)
			snprintf(status, sizeof status, "paper protocol (per-clip min-max), no live use");
		else if (NUM(tg, "max_nfe") > 0 && NUM(j, "nfe") > NUM(tg, "max_nfe"))
			snprintf(status, sizeof status, "target %.2f at <= %g NFE: over the NFE budget", t, NUM(tg, "max_nfe"));
		else if (a >= t)
			snprintf(status, sizeof status, "target %.2f: met", t);
		else
			snprintf(status, sizeof status, "target %.2f: missed by %.4f", t, t - a);
		printf("%s%s AUROC %.4f [%.4f, %.4f] AUPR %.4f FPR@95TPR %.4f NFE %g %.3f s/img n %g/%g "
		       "model %s step %g%s; %s\n",
		       suite, k ? "-clipnorm" : "", a, NUM(m, "auroc_lo"), NUM(m, "auroc_hi"), NUM(m, "aupr"),
		       NUM(m, "fpr95"), NUM(j, "nfe"), NUM(j, "s_per_image"), NUM(m, "n_in"), NUM(m, "n_out"),
		       jstr(mo, "file"), NUM(mo, "training_steps"), cJSON_IsTrue(G(j, "full")) ? "" : " (subset)", status);
	}
	const cJSON *b = G(j, "motion_speed");
	for (int k = 0; b && k < 2; k++) {
		const cJSON *m = G(b, k ? "metrics_clip_minmax" : "metrics");
		printf("%s-speed%s AUROC %.4f [%.4f, %.4f] AUPR %.4f FPR@95TPR %.4f NFE 0 %.3f s/img n %g/%g "
		       "no model (motion speed, FFmpeg mestimate)%s; baseline\n",
		       suite, k ? "-clipnorm" : "", NUM(m, "auroc"), NUM(m, "auroc_lo"), NUM(m, "auroc_hi"), NUM(m, "aupr"),
		       NUM(m, "fpr95"), NUM(b, "s_per_frame"), NUM(m, "n_in"), NUM(m, "n_out"),
		       cJSON_IsTrue(G(j, "full")) ? "" : " (subset)");
	}
#undef NUM
#undef G
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < lo || v > hi) {
		fprintf(stderr, "lmdd eval: %s '%s': expected an integer in [%ld, %ld]\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* "--suite a,b": want[s] = 1 for each named suite ("all": every one). */
static int parse_suites(const char *v, int want[NSUITES])
{
	memset(want, 0, sizeof(int) * NSUITES);
	for (const char *p = v; *p;) {
		size_t l = strcspn(p, ",");
		int ok = 0;
		if (l == 3 && !strncmp(p, "all", 3))
			want[0] = want[1] = want[2] = ok = 1;
		for (int s = 0; s < NSUITES; s++)
			if (strlen(suite_names[s]) == l && !strncmp(p, suite_names[s], l))
				want[s] = ok = 1;
		if (!ok) {
			fprintf(stderr, "lmdd eval: --suite '%s': expected fmnist-mnist, mnist-fmnist, ped2 or all\n", v);
			return -1;
		}
		p += l;
		if (*p)
			p++;
	}
	return 0;
}

static const char eval_help[] =
	"usage: lmdd eval [--suite S] [--limit N] [--out DIR] [--sweep] [engine options]\n\n"
	"Detection quality of the engine on Fashion-MNIST/MNIST and UCSD Ped2 (docs/evaluation.md).\n"
	"Sampler settings not given here come from the model's <model>.calib.json, if any.\n\n"
	"  --suite S             fmnist-mnist, mnist-fmnist, ped2 or all (default), comma-separated\n"
	"  --limit N             first N images per side / at most N frames per Ped2 clip\n"
	"  --stride K            Ped2: every K-th frame (default 1: all, through the daemon's path)\n"
	"  --out DIR             results folder (default docs/results)\n"
	"  --sweep               also run the one-factor-at-a-time sweep (AUROC vs NFE)\n"
	"  --sweep-only          run only the sweep\n"
	"  --sweep-limit N       sweep subset: the last N images per side (default 100)\n"
	"  --sweep-frames N      sweep subset: N frames per Ped2 clip (default 6)\n"
	"  --sweep-factors LIST  sweep only these factors, e.g. pool,steps (default: all)\n"
	"  --bootstrap N         bootstrap resamples for the CIs (default 1000)\n"
	"  --boot-seed N         bootstrap seed (default 1)\n"
	"  --examples N          example dumps per side (default 2; 0 = none)\n"
	"  --fmnist-model F      default models/fashion-mnist/model.safetensors\n"
	"  --mnist-model F       default models/mnist/model.safetensors\n"
	"  --ped2-model F        default models/ucsd-ped2/model.safetensors\n"
	"                        (--model F overrides the model of every selected suite)\n"
	"  --fmnist-data DIR     default /usr/share/datasets/fashion-mnist\n"
	"  --mnist-data DIR      default $LMDD_DATA/mnist\n"
	"  --ped2-data DIR       default $LMDD_DATA/ucsd-ped2 (test/NN.mkv, test-labels.csv)\n"
	"                        ($LMDD_DATA: the data sets' folder, default ../shared/data: beside\n"
	"                        the checkout, which is the current folder, as for the models)\n"
	"  --no-plots            do not run tools/plot_eval.py\n"
	"  --report-only         score nothing: rewrite README.md and the plots from the JSON/CSV in --out\n"
	"  --compare DIR         score nothing: each suite's AUROC in DIR minus in --out, on the items both\n"
	"                        scored, with a paired bootstrap CI (scores-<suite>.csv of two runs)\n"
	"  --plot-script F       the plot script (default tools/plot_eval.py)\n"
	"  --python P            Python with matplotlib (default /usr/bin/python3, or $LMDD_PYTHON)\n\n";

static int cmd_eval(int argc, char **argv)
{
	eval_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	cli_engine_defaults(&cfg.o);
	cfg.out = "docs/results";
	cfg.stride = 1;
	cfg.sweep_limit = 100;
	cfg.sweep_frames = 6;
	cfg.sweep_mask = ~0u;
	cfg.bootstrap = 1000;
	cfg.boot_seed = 1;
	cfg.examples = 2;
	cfg.plots = 1;
	cfg.python = getenv("LMDD_PYTHON") ? getenv("LMDD_PYTHON") : "/usr/bin/python3";
	for (int s = 0; s < NSUITES; s++)
		cfg.model[s] = suites[s].model;
	cfg.fmnist_dir = "/usr/share/datasets/fashion-mnist";
	static char mnist_dir[4096], ped2_dir[4096];
	const char *data = getenv("LMDD_DATA") && *getenv("LMDD_DATA") ? getenv("LMDD_DATA") : "../shared/data";
	path_join(mnist_dir, sizeof mnist_dir, data, "mnist");
	path_join(ped2_dir, sizeof ped2_dir, data, "ucsd-ped2");
	cfg.mnist_dir = mnist_dir;
	cfg.ped2_dir = ped2_dir;
	int want[NSUITES] = { 1, 1, 1 };
	const char *compare = NULL; /* --compare DIR */
	size_t cl = 0;
	cl += (size_t)snprintf(cfg.cmdline, sizeof cfg.cmdline, "lmdd eval");
	for (int i = 1; i < argc && cl < sizeof cfg.cmdline; i++)
		cl += (size_t)snprintf(cfg.cmdline + cl, sizeof cfg.cmdline - cl, " %s", argv[i]);

	enum { O_SUITE = 1, O_LIMIT, O_STRIDE, O_OUT, O_SWEEP, O_SWEEP_ONLY, O_SWEEP_LIMIT, O_SWEEP_FRAMES,
	       O_SWEEP_FACTORS, O_BOOTSTRAP, O_BOOT_SEED, O_EXAMPLES, O_FM_MODEL, O_MF_MODEL, O_PED2_MODEL,
	       O_FM_DATA, O_MF_DATA, O_PED2_DATA, O_NO_PLOTS, O_REPORT_ONLY, O_COMPARE, O_PLOT_SCRIPT, O_PYTHON };
	static const struct option own[] = {
		{ "suite", required_argument, NULL, O_SUITE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "stride", required_argument, NULL, O_STRIDE },
		{ "out", required_argument, NULL, O_OUT },
		{ "sweep", no_argument, NULL, O_SWEEP },
		{ "sweep-only", no_argument, NULL, O_SWEEP_ONLY },
		{ "sweep-limit", required_argument, NULL, O_SWEEP_LIMIT },
		{ "sweep-frames", required_argument, NULL, O_SWEEP_FRAMES },
		{ "sweep-factors", required_argument, NULL, O_SWEEP_FACTORS },
		{ "bootstrap", required_argument, NULL, O_BOOTSTRAP },
		{ "boot-seed", required_argument, NULL, O_BOOT_SEED },
		{ "examples", required_argument, NULL, O_EXAMPLES },
		{ "fmnist-model", required_argument, NULL, O_FM_MODEL },
		{ "mnist-model", required_argument, NULL, O_MF_MODEL },
		{ "ped2-model", required_argument, NULL, O_PED2_MODEL },
		{ "fmnist-data", required_argument, NULL, O_FM_DATA },
		{ "mnist-data", required_argument, NULL, O_MF_DATA },
		{ "ped2-data", required_argument, NULL, O_PED2_DATA },
		{ "no-plots", no_argument, NULL, O_NO_PLOTS },
		{ "report-only", no_argument, NULL, O_REPORT_ONLY },
		{ "compare", required_argument, NULL, O_COMPARE },
		{ "plot-script", required_argument, NULL, O_PLOT_SCRIPT },
		{ "python", required_argument, NULL, O_PYTHON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option opts[CLI_LONGOPTS_MAX];
	cli_longopts(own, opts, CLI_LONGOPTS_MAX);
	argv[0] = "lmdd eval";   /* getopt's messages */
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = cli_engine_opt(&cfg.o, c, optarg);
		if (r < 0)
			return EX_USAGE;
		if (r)
			continue;
		const char *v = optarg;
		long n;
		switch (c) {
		case 'h':
			printf("%s%s", eval_help, cli_engine_help);
			return 0;
		case O_SWEEP: cfg.sweep = 1; break;
		case O_SWEEP_ONLY: cfg.sweep = cfg.sweep_only = 1; break;
		case O_NO_PLOTS: cfg.plots = 0; break;
		case O_REPORT_ONLY: cfg.report_only = 1; break;
		case O_COMPARE:
			if (!*v) {
				fprintf(stderr, "lmdd eval: --compare: expected a results folder\n");
				return EX_USAGE;
			}
			compare = v;
			break;
		case O_SUITE:
			if (parse_suites(v, want))
				return EX_USAGE;
			break;
		case O_LIMIT:
			if (parse_long("--limit", v, 1, 100000000, &cfg.limit))
				return EX_USAGE;
			break;
		case O_STRIDE:
			if (parse_long("--stride", v, 1, 100000, &n))
				return EX_USAGE;
			cfg.stride = (int)n;
			break;
		case O_OUT: cfg.out = v; break;
		case O_SWEEP_LIMIT:
			if (parse_long("--sweep-limit", v, 2, 5000, &cfg.sweep_limit))
				return EX_USAGE;
			break;
		case O_SWEEP_FRAMES:
			if (parse_long("--sweep-frames", v, 1, 100000, &n))
				return EX_USAGE;
			cfg.sweep_frames = (int)n;
			break;
		case O_SWEEP_FACTORS:
			if (parse_factors(v, &cfg.sweep_mask)) {
				if (!*v)
					fprintf(stderr, "lmdd eval: --sweep-factors: expected a list such as pool,steps\n");
				return EX_USAGE;
			}
			break;
		case O_BOOTSTRAP:
			if (parse_long("--bootstrap", v, 10, 1000000, &n))
				return EX_USAGE;
			cfg.bootstrap = (int)n;
			break;
		case O_BOOT_SEED:
			if (parse_long("--boot-seed", v, 0, 0x7fffffffL, &n))
				return EX_USAGE;
			cfg.boot_seed = (uint64_t)n;
			break;
		case O_EXAMPLES:
			if (parse_long("--examples", v, 0, 8, &n))
				return EX_USAGE;
			cfg.examples = (int)n;
			break;
		case O_FM_MODEL: cfg.model[SUITE_FM] = v; break;
		case O_MF_MODEL: cfg.model[SUITE_MF] = v; break;
		case O_PED2_MODEL: cfg.model[SUITE_PED2] = v; break;
		case O_FM_DATA: cfg.fmnist_dir = v; break;
		case O_MF_DATA: cfg.mnist_dir = v; break;
		case O_PED2_DATA: cfg.ped2_dir = v; break;
		case O_PLOT_SCRIPT: cfg.plot_script = v; break;
		case O_PYTHON: cfg.python = v; break;
		default:
			fprintf(stderr, "(see lmdd eval --help)\n");
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lmdd eval: unexpected argument '%s' (see lmdd eval --help)\n", argv[optind]);
		return EX_USAGE;
	}
	if (compare) { /* scores nothing, writes nothing */
		const char *sel[NSUITES];
		int ns = 0;
		for (int s = 0; s < NSUITES; s++)
			if (want[s])
				sel[ns++] = suite_names[s];
		return eval_compare(cfg.out, compare, sel, ns, cfg.bootstrap, cfg.boot_seed, stdout) ? EX_DATAERR : 0;
	}
	eval_cpu_model(cfg.cpu, sizeof cfg.cpu);
	cfg.cores = eval_cores();
	if (eval_mkdirs(cfg.out)) {
		fprintf(stderr, "lmdd eval: cannot create %s: %s\n", cfg.out, strerror(errno));
		return EX_CANTCREAT;
	}

	int ran = 0, failed = 0, rc_last = 0;
	cJSON *done[NSUITES] = { 0 };
	for (int s = 0; s < NSUITES && !cfg.report_only; s++) {
		if (!want[s])
			continue;
		eval_run R;
		char why[8192];
		int rc = open_run(&R, &cfg, s, why, sizeof why);
		if (rc) {
			fprintf(stderr, "lmdd eval: %s: not evaluated: %s\n", suites[s].name, why);
			failed++;
			rc_last = rc;
			continue;
		}
		char path[4200];
		if (!cfg.sweep_only) {
			cJSON *j = NULL;
			rc = run_headline(&R, &j);
			if (!rc && j) {
				snprintf(path, sizeof path, "%s/summary-%s.json", cfg.out, suites[s].name);
				if (write_json(path, j)) {
					fprintf(stderr, "lmdd eval: cannot write %s\n", path);
					rc = EX_CANTCREAT;
				}
				done[s] = j;
			} else {
				cJSON_Delete(j);
			}
		}
		if (!rc && cfg.sweep) {
			cJSON *j = NULL;
			rc = run_sweep(&R, &j);
			if (!rc && j) {
				snprintf(path, sizeof path, "%s/sweep-%s.json", cfg.out, suites[s].name);
				if (write_json(path, j) || write_sweep_csv(cfg.out, suites[s].name, j)) {
					fprintf(stderr, "lmdd eval: cannot write %s\n", path);
					rc = EX_CANTCREAT;
				}
			}
			cJSON_Delete(j);
		}
		cli_engine_close(&R.ce);
		if (rc) {
			fprintf(stderr, "lmdd eval: %s: failed\n", suites[s].name);
			failed++;
			rc_last = rc;
		} else {
			ran++;
		}
	}
	char note[9000], err[8192];
	if (ran || cfg.report_only)
		make_plots(&cfg, note, sizeof note);
	else
		snprintf(note, sizeof note, "plots not made: nothing evaluated");
	if (eval_write_report(cfg.out, suite_names, NSUITES, note, err, sizeof err)) {
		fprintf(stderr, "lmdd eval: %s\n", err);
		rc_last = EX_CANTCREAT;
		failed++;
	}
	for (int s = 0; s < NSUITES && cfg.report_only; s++)
		done[s] = eval_report_load(cfg.out, "summary", suite_names[s]);
	for (int s = 0; s < NSUITES; s++)
		if (done[s]) {
			print_totals(done[s]);
			cJSON_Delete(done[s]);
		}
	if (cfg.report_only)
		printf("results: %s/README.md (rewritten from the JSON files there)\n", cfg.out);
	else
		printf("results: %s/README.md (%d suite%s evaluated, %d not)\n", cfg.out, ran, ran == 1 ? "" : "s",
		       failed);
	return failed ? (rc_last ? rc_last : EX_SOFTWARE) : 0;
}

int main(int argc, char **argv)
{
	cli_omp_passive(argv);
	return cmd_eval(argc, argv);
}
