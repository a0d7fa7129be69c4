/*
 * eval_metrics.c — AUROC / AUPR / FPR@95 with exact tie handling and their
 * bootstrap confidence intervals, for `lmdd eval` (see eval_metrics.h for
 * the definitions). Everything runs on one sorted copy of the data: a
 * "prepared" set holds labels in ascending score order and the boundaries
 * of runs of tied scores; a metric pass takes a weight per sorted position
 * (1 for the plain metrics, bootstrap multiplicities for a resample).
 * The paired bootstrap compares two scorings of the same items: one
 * resample is drawn over the caller's items and read through each
 * scoring's sort order (prepared.orig), so both see the same resample.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval_metrics.h"

typedef struct {
	float s;
	unsigned char l;
	int g;
	size_t i;                /* index in the caller's arrays */
} item;

typedef struct {
	size_t n, ngrp;          /* items, runs of tied scores */
	unsigned char *label;    /* label per sorted position */
	int *group;              /* caller's group per sorted position (or NULL) */
	size_t *orig;            /* caller's index per sorted position */
	size_t *end;             /* end (exclusive) of each tie run, ascending */
} prepared;

/* NaN sorts above everything and ties with NaN. */
static int cmp_item(const void *a, const void *b)
{
	float x = ((const item *)a)->s, y = ((const item *)b)->s;
	int nx = isnan(x), ny = isnan(y);
	if (nx || ny)
		return nx - ny;
	return x < y ? -1 : x > y;
}

static int same(float a, float b)
{
	return a == b || (isnan(a) && isnan(b));
}

static void prep_free(prepared *p)
{
	free(p->label);
	free(p->group);
	free(p->orig);
	free(p->end);
	memset(p, 0, sizeof *p);
}

static int prep(const float *score, const unsigned char *label, const int *group, size_t n, prepared *p)
{
	memset(p, 0, sizeof *p);
	item *it = malloc(sizeof *it * (n ? n : 1));
	p->label = malloc(n ? n : 1);
	p->end = malloc(sizeof *p->end * (n ? n : 1));
	p->orig = malloc(sizeof *p->orig * (n ? n : 1));
	p->group = group ? malloc(sizeof *p->group * (n ? n : 1)) : NULL;
	if (!it || !p->label || !p->end || !p->orig || (group && !p->group)) {
		free(it);
		prep_free(p);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		it[i] = (item){ score[i], label[i] ? 1 : 0, group ? group[i] : 0, i };
	/* stable order among ties is irrelevant: tied items are only used as a run */
	qsort(it, n, sizeof *it, cmp_item);
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		p->label[i] = it[i].l;
		p->orig[i] = it[i].i;
		if (group)
			p->group[i] = it[i].g;
		if (i + 1 == n || !same(it[i].s, it[i + 1].s))
			p->end[p->ngrp++] = i + 1;
	}
	free(it);
	return 0;
}

/* The three metrics over sorted positions with weights w (NULL = all 1). */
static void metrics_w(const prepared *p, const double *w, eval_metrics *m)
{
	double P = 0, N = 0;
	for (size_t i = 0; i < p->n; i++) {
		double wi = w ? w[i] : 1.0;
		if (p->label[i])
			P += wi;
		else
			N += wi;
	}
	if (P <= 0 || N <= 0) {
		m->auroc = m->aupr = m->fpr95 = NAN;
		return;
	}
	/* AUROC: ascending; each positive beats the negatives below it, half the tied ones */
	double auc = 0, neg_below = 0;
	size_t start = 0;
	for (size_t g = 0; g < p->ngrp; g++) {
		double gp = 0, gn = 0;
		for (size_t i = start; i < p->end[g]; i++) {
			double wi = w ? w[i] : 1.0;
			if (p->label[i])
				gp += wi;
			else
				gn += wi;
		}
		auc += gp * (neg_below + 0.5 * gn);
		neg_below += gn;
		start = p->end[g];
	}
	m->auroc = auc / (P * N);
	/* AP and FPR@95: thresholds descending, one per tie run */
	double tp = 0, fp = 0, ap = 0;
	m->fpr95 = NAN;
	for (size_t g = p->ngrp; g-- > 0;) {
		size_t lo = g ? p->end[g - 1] : 0;
		double gp = 0, gn = 0;
		for (size_t i = lo; i < p->end[g]; i++) {
			double wi = w ? w[i] : 1.0;
			if (p->label[i])
				gp += wi;
			else
				gn += wi;
		}
		tp += gp;
		fp += gn;
		if (gp > 0)
			ap += (gp / P) * (tp / (tp + fp));
		if (isnan(m->fpr95) && tp >= 0.95 * P - 1e-9 * P)
			m->fpr95 = fp / N;
	}
	m->aupr = ap;
}

int eval_compute(const float *score, const unsigned char *label, size_t n, eval_metrics *out)
{
	prepared p;
	if (prep(score, label, NULL, n, &p))
		return -1;
	metrics_w(&p, NULL, out);
	prep_free(&p);
	return 0;
}

uint64_t eval_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform integer in [0, n) (Lemire's multiply; bias < n / 2^64). */
static size_t rng_below(uint64_t *st, size_t n)
{
	return (size_t)(((unsigned __int128)eval_rng_next(st) * n) >> 64);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double eval_quantile(const double *v, size_t n, double q)
{
	if (!n)
		return NAN;
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

/*
 * A bootstrap resampler over n indices with labels and optional groups:
 * stratified (positives and negatives drawn separately) or whole groups.
 * Indices are listed in ascending order within each class or group, so the
 * draws depend only on the index space the caller chose (sorted positions
 * for eval_bootstrap, the caller's order for eval_bootstrap_paired).
 */
typedef struct {
	size_t n, npos, nneg, ng;
	size_t *pos, *neg;       /* stratified: indices of each class */
	size_t *mem, *first;     /* groups: members of group k are mem[first[k] .. first[k+1]) */
	int *ids;
} resampler;

static void resampler_free(resampler *rs)
{
	free(rs->pos);
	free(rs->ids);
	free(rs->mem);
	free(rs->first);
	memset(rs, 0, sizeof *rs);
}

/* -1 on out of memory or when a class is missing. */
static int resampler_init(resampler *rs, const unsigned char *label, const int *group, size_t n)
{
	memset(rs, 0, sizeof *rs);
	rs->n = n;
	for (size_t i = 0; i < n; i++)
		rs->npos += label[i] != 0;
	rs->nneg = n - rs->npos;
	rs->pos = malloc(sizeof *rs->pos * (n ? n : 1));
	if (!rs->pos || !rs->npos || !rs->nneg)
		goto fail;
	if (!group) {
		rs->neg = rs->pos + rs->npos;
		size_t a = 0, b = 0;
		for (size_t i = 0; i < n; i++) {
			if (label[i])
				rs->pos[a++] = i;
			else
				rs->neg[b++] = i;
		}
		return 0;
	}
	rs->ids = malloc(sizeof *rs->ids * n);
	rs->mem = malloc(sizeof *rs->mem * n);
	if (!rs->ids || !rs->mem)
		goto fail;
	memcpy(rs->ids, group, sizeof *rs->ids * n);
	qsort(rs->ids, n, sizeof *rs->ids, cmp_int);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++)
		if (!i || rs->ids[i] != rs->ids[ng - 1])
			rs->ids[ng++] = rs->ids[i];
	rs->ng = ng;
	rs->first = calloc(ng + 1, sizeof *rs->first);
	if (!rs->first)
		goto fail;
	/* counting sort of indices by group */
	for (size_t i = 0; i < n; i++) {
		int *k = bsearch(&group[i], rs->ids, ng, sizeof *rs->ids, cmp_int);
		rs->first[(size_t)(k - rs->ids) + 1]++;
	}
	for (size_t k = 0; k < ng; k++)
		rs->first[k + 1] += rs->first[k];
	size_t *fill = rs->pos; /* a cursor per group (ng <= n) */
	memcpy(fill, rs->first, sizeof *fill * ng);
	for (size_t i = 0; i < n; i++) {
		int *k = bsearch(&group[i], rs->ids, ng, sizeof *rs->ids, cmp_int);
		rs->mem[fill[k - rs->ids]++] = i;
	}
	return 0;
fail:
	resampler_free(rs);
	return -1;
}

/* One resample's multiplicity per index into w[n]. */
static void resampler_draw(const resampler *rs, uint64_t *st, double *w)
{
	memset(w, 0, sizeof *w * rs->n);
	if (!rs->first) {
		for (size_t j = 0; j < rs->npos; j++)
			w[rs->pos[rng_below(st, rs->npos)]] += 1;
		for (size_t j = 0; j < rs->nneg; j++)
			w[rs->neg[rng_below(st, rs->nneg)]] += 1;
		return;
	}
	for (size_t j = 0; j < rs->ng; j++) {
		size_t k = rng_below(st, rs->ng);
		for (size_t q = rs->first[k]; q < rs->first[k + 1]; q++)
			w[rs->mem[q]] += 1;
	}
}

int eval_bootstrap(const float *score, const unsigned char *label, const int *group, size_t n,
                   int resamples, uint64_t seed, eval_ci *out)
{
	prepared p;
	resampler rs;
	memset(out, 0, sizeof *out);
	if (resamples < 1 || prep(score, label, group, n, &p))
		return -1;
	int rc = -1;
	double *w = malloc(sizeof *w * (n ? n : 1));
	double *res = malloc(sizeof *res * 3 * (size_t)resamples);
	if (resampler_init(&rs, p.label, p.group, n))
		goto out_prep;
	if (!w || !res)
		goto out;
	uint64_t st = seed;
	for (int r = 0; r < resamples; r++) {
		eval_metrics m;
		for (int tries = 0;; tries++) {
			resampler_draw(&rs, &st, w);
			metrics_w(&p, w, &m);
			if (!isnan(m.auroc))
				break;
			if (tries > 1000)
				goto out; /* groups never hold both classes together */
		}
		res[r] = m.auroc;
		res[resamples + r] = m.aupr;
		res[2 * resamples + r] = m.fpr95;
	}
	double lo[3], hi[3], mean[3];
	for (int k = 0; k < 3; k++) {
		double *v = res + (size_t)k * resamples, s = 0;
		for (int r = 0; r < resamples; r++)
			s += v[r];
		mean[k] = s / resamples;
		qsort(v, (size_t)resamples, sizeof *v, cmp_double);
		lo[k] = eval_quantile(v, (size_t)resamples, 0.025);
		hi[k] = eval_quantile(v, (size_t)resamples, 0.975);
	}
	out->lo = (eval_metrics){ lo[0], lo[1], lo[2] };
	out->hi = (eval_metrics){ hi[0], hi[1], hi[2] };
	out->mean = (eval_metrics){ mean[0], mean[1], mean[2] };
	out->resamples = resamples;
	rc = 0;
out:
	resampler_free(&rs);
out_prep:
	free(w);
	free(res);
	prep_free(&p);
	return rc;
}

int eval_bootstrap_paired(const float *a, const float *b, const unsigned char *label, const int *group, size_t n,
                          int resamples, uint64_t seed, eval_paired *out)
{
	prepared pa, pb;
	resampler rs;
	memset(out, 0, sizeof *out);
	if (resamples < 1 || prep(a, label, NULL, n, &pa))
		return -1;
	if (prep(b, label, NULL, n, &pb)) {
		prep_free(&pa);
		return -1;
	}
	int rc = -1;
	double *w = malloc(sizeof *w * (n ? n : 1));
	double *wa = malloc(sizeof *wa * (n ? n : 1));
	double *wb = malloc(sizeof *wb * (n ? n : 1));
	double *res = malloc(sizeof *res * (size_t)resamples);
	if (resampler_init(&rs, label, group, n))
		goto out_prep;
	if (!w || !wa || !wb || !res)
		goto out;
	eval_metrics ma, mb;
	metrics_w(&pa, NULL, &ma);
	metrics_w(&pb, NULL, &mb);
	out->a = ma.auroc;
	out->b = mb.auroc;
	out->d = mb.auroc - ma.auroc;
	uint64_t st = seed;
	for (int r = 0; r < resamples; r++) {
		for (int tries = 0;; tries++) {
			resampler_draw(&rs, &st, w); /* one resample of the items, read by both scorings */
			for (size_t i = 0; i < n; i++) {
				wa[i] = w[pa.orig[i]];
				wb[i] = w[pb.orig[i]];
			}
			metrics_w(&pa, wa, &ma);
			metrics_w(&pb, wb, &mb);
			if (!isnan(ma.auroc) && !isnan(mb.auroc))
				break;
			if (tries > 1000)
				goto out;
		}
		res[r] = mb.auroc - ma.auroc;
	}
	qsort(res, (size_t)resamples, sizeof *res, cmp_double);
	out->lo = eval_quantile(res, (size_t)resamples, 0.025);
	out->hi = eval_quantile(res, (size_t)resamples, 0.975);
	out->resamples = resamples;
	rc = 0;
out:
	resampler_free(&rs);
out_prep:
	free(w);
	free(wa);
	free(wb);
	free(res);
	prep_free(&pa);
	prep_free(&pb);
	return rc;
}

size_t eval_roc(const float *score, const unsigned char *label, size_t n, double *fpr, double *tpr,
                size_t max)
{
	prepared p;
	if (prep(score, label, NULL, n, &p))
		return 0;
	double P = 0, N = 0, tp = 0, fp = 0;
	for (size_t i = 0; i < n; i++) {
		P += p.label[i];
		N += !p.label[i];
	}
	size_t k = 0;
	if (k < max) {
		fpr[k] = 0;
		tpr[k] = 0;
	}
	k++;
	for (size_t g = p.ngrp; g-- > 0;) {
		size_t lo = g ? p.end[g - 1] : 0;
		for (size_t i = lo; i < p.end[g]; i++) {
			tp += p.label[i];
			fp += !p.label[i];
		}
		if (k < max) {
			fpr[k] = N > 0 ? fp / N : NAN;
			tpr[k] = P > 0 ? tp / P : NAN;
		}
		k++;
	}
	prep_free(&p);
	return k;
}

int eval_minmax_by_group(const float *score, const int *group, size_t n, float *out)
{
	/* groups are few (video clips): a linear scan over the distinct ids seen so far */
	int ids[4096];
	float lo[4096], hi[4096];
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < ng && ids[k] != group[i])
			k++;
		if (k == ng) {
			if (ng == sizeof ids / sizeof ids[0])
				return -1; /* more than 4096 groups: not a clip protocol */
			ids[ng] = group[i];
			lo[ng] = hi[ng] = score[i];
			ng++;
		}
		if (score[i] < lo[k])
			lo[k] = score[i];
		if (score[i] > hi[k])
			hi[k] = score[i];
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (ids[k] != group[i])
			k++;
		out[i] = hi[k] > lo[k] ? (score[i] - lo[k]) / (hi[k] - lo[k]) : 0.0f;
	}
	return 0;
}
