/*
 * eval_report.c — writes <out>/README.md, the results page of `lmdd eval`,
 * from the summary-<suite>.json and sweep-<suite>.json files in <out>
 * (see eval_report.h). Pure formatting: every number on the page is read
 * from those files, so the page can be regenerated without rescoring.
 *
 * Design facts:
 *  - Status against a target says "met", "missed by X" or "over the NFE
 *    budget", and "(subset)" when the row is not the full evaluation.
 *  - Each row names the model file and its training step: models that are
 *    still training give provisional numbers, and the page says so.
 *  - The sweep section is summarised mechanically: for each factor the
 *    value with the highest AUROC and its cost, the best setting within
 *    the NFE budget, and (for sweeps with paired differences, since
 *    2026-11-29) which settings are better, worse or not shown different
 *    from the base by their paired CI; docs/evaluation.md explains how
 *    defaults follow.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "calib.h"
#include "eval_report.h"

#define G(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

#define num(o, k) calib_json_num(o, k)
#define str(o, k) calib_json_str(o, k)

cJSON *eval_report_load(const char *dir, const char *prefix, const char *suite)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s-%s.json", dir, prefix, suite);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		char *b = realloc(buf, cap * 2);
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = 0;
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	return j;
}

/* "0.9123 [0.9001, 0.9240]" or "n/a" */
static void fmt_ci(char *buf, size_t len, const cJSON *m, const char *k)
{
	char lo[48], hi[48];
	snprintf(lo, sizeof lo, "%s_lo", k);
	snprintf(hi, sizeof hi, "%s_hi", k);
	double v = num(m, k), a = num(m, lo), b = num(m, hi);
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (isnan(a) || isnan(b))
		snprintf(buf, len, "%.4f", v);
	else
		snprintf(buf, len, "%.4f [%.4f, %.4f]", v, a, b);
}

static void fmt_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.4f", v);
}

static void fmt_steps(char *buf, size_t len, const cJSON *model)
{
	double st = num(model, "training_steps");
	if (isnan(st))
		snprintf(buf, len, "`%s` (training steps unknown)", str(model, "file"));
	else
		snprintf(buf, len, "`%s` (step %.0f)", str(model, "file"), st);
}

static void status(char *buf, size_t len, const cJSON *j, const cJSON *m)
{
	const cJSON *tg = G(j, "target");
	double t = num(tg, "auroc"), maxn = num(tg, "max_nfe"), a = num(m, "auroc");
	const char *sub = cJSON_IsTrue(G(j, "full")) ? "" : " (subset: provisional)";
	if (isnan(a))
		snprintf(buf, len, "not measurable%s", sub);
	else if (!isnan(maxn) && num(j, "nfe") > maxn)
		snprintf(buf, len, "**not met**: %.0f NFE is over the %.0f budget%s", num(j, "nfe"), maxn, sub);
	else if (a >= t)
		snprintf(buf, len, "met (+%.4f)%s", a - t, sub);
	else
		snprintf(buf, len, "**missed by %.4f**%s", t - a, sub);
}

static void headline_row(FILE *f, const cJSON *j, const cJSON *m, const char *name, int with_target)
{
	char model[4400], auroc[96], aupr[96], fpr[96], st[256], tgt[64];
	fmt_steps(model, sizeof model, G(j, "model"));
	fmt_ci(auroc, sizeof auroc, m, "auroc");
	fmt_ci(aupr, sizeof aupr, m, "aupr");
	fmt_ci(fpr, sizeof fpr, m, "fpr95");
	const cJSON *tg = G(j, "target");
	if (!with_target) {
		snprintf(tgt, sizeof tgt, "—");
		snprintf(st, sizeof st, "paper protocol, for comparison only");
	} else {
		if (isnan(num(tg, "max_nfe")))
			snprintf(tgt, sizeof tgt, "AUROC ≥ %.2f", num(tg, "auroc"));
		else
			snprintf(tgt, sizeof tgt, "AUROC ≥ %.2f at ≤ %.0f NFE", num(tg, "auroc"), num(tg, "max_nfe"));
		status(st, sizeof st, j, m);
	}
	fprintf(f, "| %s | %s | %.0f / %.0f | %s | %s | %s | %.0f | %.3f | %s | %s |\n", name, model,
	        num(m, "n_in"), num(m, "n_out"), auroc, aupr, fpr, num(j, "nfe"), num(j, "s_per_image"), tgt, st);
}

/* The model-free motion-speed baseline (eval.c, motion_baseline) on the
 * same frames as the model's rows, less each clip's first: no target, it is
 * the number the model has to beat. */
static void baseline_row(FILE *f, const cJSON *j, const cJSON *m, const char *name)
{
	const cJSON *b = G(j, "motion_speed");
	char auroc[96], aupr[96], fpr[96];
	fmt_ci(auroc, sizeof auroc, m, "auroc");
	fmt_ci(aupr, sizeof aupr, m, "aupr");
	fmt_ci(fpr, sizeof fpr, m, "fpr95");
	fprintf(f, "| %s | none: motion speed (FFmpeg `mestimate`) | %.0f / %.0f | %s | %s | %s | 0 | %.3f | — | "
	           "baseline, for comparison |\n",
	        name, num(m, "n_in"), num(m, "n_out"), auroc, aupr, fpr, num(b, "s_per_frame"));
}

static void sweep_section(FILE *f, const cJSON *sw)
{
	char base[512], model[4400];
	calib_params_text(base, sizeof base, G(sw, "base"));
	fmt_steps(model, sizeof model, G(sw, "model"));
	fprintf(f, "### %s\n\n", str(sw, "suite"));
	fprintf(f, "Model %s, %s, %s. Subset: %s. Base setting: %s (NFE %.0f). One factor changed at a time; "
	           "bold = the base value.\n\n",
	        model, str(sw, "device"), str(sw, "date"), str(sw, "subset"), base, num(G(sw, "base"), "nfe"));
	int paired = 0; /* sweeps before 2026-11-29 have no paired differences */
	const cJSON *r;
	cJSON_ArrayForEach(r, G(sw, "rows"))
		paired |= !isnan(num(G(r, "metrics"), "d_auroc"));
	if (paired)
		fprintf(f, "\"vs base, paired\" is the setting's AUROC minus the base's on the same items, with a "
		           "paired bootstrap CI (each resample scores both on the same items%s), so what the items have "
		           "in common cancels: the test of rule 2 in docs/evaluation.md. The unpaired CIs beside it "
		           "overlap far more often.\n\n",
		        strcmp(str(sw, "suite"), "ped2") ? "" : "; whole clips resampled");
	fprintf(f, "| factor | value | NFE | AUROC [95%% CI] |%s AUPR | FPR@95%%TPR | s/img |\n",
	        paired ? " vs base, paired [95% CI] |" : "");
	fprintf(f, "|---|---|---:|---|%s---:|---:|---:|\n", paired ? "---|" : "");
	cJSON_ArrayForEach(r, G(sw, "rows"))
	{
		if (!strcmp(str(r, "factor"), "base"))
			continue;
		const cJSON *m = G(r, "metrics");
		char auroc[96], aupr[32], fpr[32];
		fmt_ci(auroc, sizeof auroc, m, "auroc");
		fmt_num(aupr, sizeof aupr, num(m, "aupr"));
		fmt_num(fpr, sizeof fpr, num(m, "fpr95"));
		int b = cJSON_IsTrue(G(r, "is_base"));
		char diff[96] = "";
		if (paired)
			snprintf(diff, sizeof diff, " — |");
		if (paired && !b && !isnan(num(m, "d_auroc")))
			snprintf(diff, sizeof diff, " %+.4f [%+.4f, %+.4f] |", num(m, "d_auroc"), num(m, "d_auroc_lo"),
			         num(m, "d_auroc_hi"));
		fprintf(f, "| %s | %s%s%s | %.0f | %s |%s %s | %s | %.3f |\n", str(r, "factor"), b ? "**" : "",
		        str(r, "value"), b ? "**" : "", num(r, "nfe"), auroc, diff, aupr, fpr, num(r, "s_per_image"));
	}
	/* mechanical summary: the best value per factor, and the best within 100 NFE */
	fprintf(f, "\nWhat this sweep showed (highest AUROC per factor; %s):\n\n",
	        paired ? "whether a difference is evidence is the paired CI's call, last lines"
	               : "differences inside the CIs are not evidence");
	const char *last = "";
	const cJSON *best = NULL, *best100 = NULL, *baserow = NULL;
	for (const cJSON *x = G(sw, "rows") ? G(sw, "rows")->child : NULL;; x = x->next) {
		if (!x || strcmp(str(x, "factor"), last)) {
			if (best && strcmp(last, "base")) {
				double d = num(G(best, "metrics"), "auroc") - num(G(baserow, "metrics"), "auroc");
				fprintf(f, "- %s: best %s (AUROC %.4f, %+.4f vs base, NFE %.0f)\n", last, str(best, "value"),
				        num(G(best, "metrics"), "auroc"), d, num(best, "nfe"));
			}
			if (!x)
				break;
			last = str(x, "factor");
			best = NULL;
		}
		if (!strcmp(str(x, "factor"), "base"))
			baserow = x;
		double a = num(G(x, "metrics"), "auroc");
		if (!isnan(a) && (!best || a > num(G(best, "metrics"), "auroc")))
			best = x;
		if (!isnan(a) && num(x, "nfe") <= 100 && (!best100 || a > num(G(best100, "metrics"), "auroc")))
			best100 = x;
	}
	if (best100)
		fprintf(f, "- best setting tried within 100 NFE: %s = %s (AUROC %.4f, NFE %.0f)\n", str(best100, "factor"),
		        str(best100, "value"), num(G(best100, "metrics"), "auroc"), num(best100, "nfe"));
	/* the paired differences, sorted into what they are evidence of (rule 2, docs/evaluation.md) */
	static const char *const verdict[] = { "better than the base (paired CI above 0)",
		                               "worse than the base (paired CI below 0)",
		                               "no difference shown (paired CI includes 0)" };
	for (int k = 0; k < 3; k++) {
		int any = 0;
		cJSON_ArrayForEach(r, G(sw, "rows"))
		{
			const cJSON *m = G(r, "metrics");
			double lo = num(m, "d_auroc_lo"), hi = num(m, "d_auroc_hi");
			int in = k == 0 ? lo > 0 : k == 1 ? hi < 0 : lo <= 0 && hi >= 0;
			if (cJSON_IsTrue(G(r, "is_base")) || isnan(lo) || isnan(hi) || !in)
				continue;
			if (!any)
				fprintf(f, "- %s:", verdict[k]);
			fprintf(f, "%s %s = %s (NFE %.0f)", any ? "," : "", str(r, "factor"), str(r, "value"), num(r, "nfe"));
			any = 1;
		}
		if (any)
			fprintf(f, "\n");
	}
	fprintf(f, "\n");
}

int eval_write_report(const char *outdir, const char *const *suites, int nsuites, const char *plots_note,
                      char *err, unsigned long errlen)
{
	char path[4400], tmp[4500];
	snprintf(path, sizeof path, "%s/README.md", outdir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	cJSON *sum[16] = { 0 }, *sw[16] = { 0 };
	if (nsuites > 16)
		nsuites = 16;
	int nsum = 0, nsw = 0;
	for (int s = 0; s < nsuites; s++) {
		sum[s] = eval_report_load(outdir, "summary", suites[s]);
		sw[s] = eval_report_load(outdir, "sweep", suites[s]);
		nsum += sum[s] != NULL;
		nsw += sw[s] != NULL;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %s", tmp);
		for (int s = 0; s < nsuites; s++) {
			cJSON_Delete(sum[s]);
			cJSON_Delete(sw[s]);
		}
		return -1;
	}
	fprintf(f, "# lmdd detection quality\n\n"
	           "Generated by `lmdd eval` (eval/eval.c) from the `summary-*.json` and `sweep-*.json` files "
	           "in this folder; the protocol, the targets and how defaults are chosen are in "
	           "[docs/evaluation.md](../evaluation.md). Regenerate with `make eval` (full) or "
	           "`make eval-smoke`. Label 1 = anomaly (out-of-distribution) = positive; higher score = "
	           "more anomalous. CIs are 95%% percentile bootstrap intervals.\n\n");
	int provisional = 0;
	for (int s = 0; s < nsuites; s++)
		if (sum[s] && !cJSON_IsTrue(G(sum[s], "full")))
			provisional = 1;
	if (provisional)
		fprintf(f, "> **Provisional:** rows marked *subset* score only part of the test data (`--limit`/"
		           "`--stride`), and every row names the model snapshot (training step) it used; models "
		           "that are still training will score differently when finished.\n\n");

	fprintf(f, "## Headline\n\n");
	if (!nsum)
		fprintf(f, "No suite has been evaluated into this folder yet.\n\n");
	else {
		fprintf(f, "| benchmark | model (training step) | scored in / out | AUROC [95%% CI] | AUPR [95%% CI] | "
		           "FPR@95%%TPR [95%% CI] | NFE/img | s/img | target | status |\n");
		fprintf(f, "|---|---|---:|---|---|---|---:|---:|---|---|\n");
		for (int s = 0; s < nsuites; s++) {
			if (!sum[s])
				continue;
			const cJSON *j = sum[s];
			if (G(j, "metrics_clip_minmax")) {
				char n1[256], n2[256];
				snprintf(n1, sizeof n1, "%s — one global score scale", str(j, "title"));
				snprintf(n2, sizeof n2, "%s — per-clip min-max normalised", str(j, "title"));
				headline_row(f, j, G(j, "metrics"), n1, 1);
				headline_row(f, j, G(j, "metrics_clip_minmax"), n2, 0);
				const cJSON *b = G(j, "motion_speed");
				if (b) {
					snprintf(n1, sizeof n1, "%s — no model, one global scale", str(j, "title"));
					snprintf(n2, sizeof n2, "%s — no model, per-clip min-max", str(j, "title"));
					baseline_row(f, j, G(b, "metrics"), n1);
					baseline_row(f, j, G(b, "metrics_clip_minmax"), n2);
				}
			} else {
				headline_row(f, j, G(j, "metrics"), str(j, "title"), 1);
			}
		}
		int video = 0;
		for (int s = 0; s < nsuites; s++)
			video |= sum[s] && G(sum[s], "metrics_clip_minmax");
		if (video)
			fprintf(f, "\nThe global-scale Ped2 row is what a live daemon can do (one threshold for every "
		           "clip); the per-clip min-max row rescales each test clip by its own minimum and maximum "
		           "score, which needs the whole clip in advance — the common paper protocol, reported only "
		           "for comparison. The no-model rows score the same frames (less each clip's first, which "
		           "has no predecessor) by the fastest object-sized patch of FFmpeg's block motion vectors "
		           "(media/motion.h): the simple baseline a model for this scene has to beat.");
		fprintf(f, "\ns/img is wall time per image on the device named below (including decoding for "
		           "video); NFE/img is network evaluations per image (lmd_params_nfe).\n\n");
	}
	int missing = 0;
	for (int s = 0; s < nsuites; s++)
		missing += !sum[s];
	if (missing) {
		fprintf(f, "Not evaluated yet:");
		for (int s = 0; s < nsuites; s++)
			if (!sum[s])
				fprintf(f, " `%s`", suites[s]);
		fprintf(f, " (no model file, or not selected with `--suite`).\n\n");
	}

	for (int s = 0; s < nsuites; s++) {
		if (!sum[s])
			continue;
		const cJSON *j = sum[s], *mo = G(j, "model");
		char pl[512];
		calib_params_text(pl, sizeof pl, G(j, "params"));
		fprintf(f, "## %s: %s\n\n", str(j, "suite"), str(j, "title"));
		fprintf(f, "- in-distribution (label 0): %s; out (label 1): %s\n", str(j, "in_set"), str(j, "out_set"));
		fprintf(f, "- scored: %s — %.0f in, %.0f out (`%s`)\n", str(j, "subset"), num(G(j, "metrics"), "n_in"),
		        num(G(j, "metrics"), "n_out"), str(j, "scores_csv"));
		fprintf(f, "- model: `%s` — %s, %.0f parameters, frames %s", str(mo, "file"), str(mo, "name"),
		        num(mo, "params"), str(mo, "frame_size"));
		if (!isnan(num(mo, "training_steps")))
			fprintf(f, "; trained %.0f steps (EMA loss %.4f, %.1f h, exported %s)", num(mo, "training_steps"),
			        num(mo, "training_loss"), num(mo, "training_wall_s") / 3600, str(mo, "training_date"));
		else
			fprintf(f, "; no training record (%s)", str(mo, "note"));
		fprintf(f, "\n- sampler: %s — **%.0f NFE per image**, %.2f GFLOP per image at %s, batch %.0f\n", pl,
		        num(j, "nfe"), num(j, "gflop_per_image"), str(j, "size"), num(j, "batch"));
		if (G(j, "params_from"))
			fprintf(f, "- sampler settings not given on the command line: from the model's calibration `%s` "
			           "(its operating point, as the daemon uses it)\n", str(j, "params_from"));
		fprintf(f, "- device: %s; machine: %s, %.0f cores; %.1f s wall (%.3f s per image); %s\n",
		        str(j, "device"), str(j, "cpu"), num(j, "cores"), num(j, "wall_s"), num(j, "s_per_image"),
		        str(j, "date"));
		fprintf(f, "- bootstrap: %.0f resamples (%s)\n", num(G(j, "metrics"), "bootstrap"),
		        str(G(j, "metrics"), "bootstrap_kind"));
		fprintf(f, "- command: `%s`\n\n", str(j, "command"));
		const cJSON *th = G(j, "threshold");
		if (th) {
			fprintf(f, "Calibrated threshold %.6g from `%s`%s: TPR %.4f, FPR %.4f on the scored frames.\n\n",
			        num(th, "value"), str(th, "file"),
			        cJSON_IsFalse(G(th, "model_match"))
			                ? " (**measured on another model file: not comparable**)"
			        : cJSON_IsTrue(G(th, "params_match"))
			                ? ""
			                : " (**calibrated under other sampler parameters: not comparable**)",
			        num(th, "tpr"), num(th, "fpr"));
		} else if (G(j, "clips")) {
			fprintf(f, "No calibration file (`<model>.calib.json`) next to the model: no threshold shown.\n\n");
		}
		if (G(j, "clips")) {
			fprintf(f, "| clip | frames scored | anomalous | AUROC within the clip |\n|---|---:|---:|---:|\n");
			const cJSON *c;
			cJSON_ArrayForEach(c, G(j, "clips"))
			{
				char a[32];
				fmt_num(a, sizeof a, num(c, "auroc"));
				fprintf(f, "| %s | %.0f | %.0f | %s |\n", str(c, "clip"), num(c, "frames"), num(c, "anomalous"),
				        isnan(num(c, "auroc")) ? "n/a (one class)" : a);
			}
			fprintf(f, "\n");
		}
	}

	fprintf(f, "## Sweep: quality vs cost\n\n");
	if (!nsw)
		fprintf(f, "No sweep in this folder (`lmdd eval --sweep`).\n\n");
	for (int s = 0; s < nsuites; s++)
		if (sw[s])
			sweep_section(f, sw[s]);

	fprintf(f, "## Plots\n\n");
	static const struct {
		const char *file, *what;
	} plots[] = {
		{ "roc.png", "ROC curves" },
		{ "ped2-timelines.png", "Ped2 score per frame, anomalous frames shaded, calibrated threshold" },
		{ "sweep.png", "AUROC vs NFE (sweep)" },
		{ "examples-fmnist-mnist.png", "examples: image, reconstruction, distance map" },
		{ "examples-mnist-fmnist.png", "examples: image, reconstruction, distance map" },
		{ "examples-ped2.png", "examples: frame, reconstruction, distance map" },
	};
	int any = 0;
	for (size_t k = 0; k < sizeof plots / sizeof plots[0]; k++) {
		snprintf(path, sizeof path, "%s/%s", outdir, plots[k].file);
		if (access(path, R_OK))
			continue;
		fprintf(f, "### %s\n\n![%s](%s)\n\n", plots[k].what, plots[k].what, plots[k].file);
		any = 1;
	}
	if (plots_note && *plots_note)
		fprintf(f, "%s\n", plots_note);
	else if (!any)
		fprintf(f, "No plots.\n");
	for (int s = 0; s < nsuites; s++) {
		cJSON_Delete(sum[s]);
		cJSON_Delete(sw[s]);
	}
	snprintf(path, sizeof path, "%s/README.md", outdir);
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}
	return 0;
}
