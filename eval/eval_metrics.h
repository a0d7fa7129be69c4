/*
 * eval_metrics.h — detection metrics for `lmdd eval` (eval/eval.c):
 * AUROC, AUPR, FPR at 95% TPR, percentile-bootstrap confidence intervals,
 * and per-group min-max normalisation (the Ped2 paper protocol).
 *
 * Design facts:
 *  - Label 1 = anomaly/out-of-distribution = positive; higher score = more
 *    anomalous. A sample is predicted positive when score >= threshold.
 *  - Ties are handled exactly: AUROC counts a tied (positive, negative) pair
 *    as 1/2 (Mann-Whitney U with mid-ranks); AUPR and FPR@95 only place
 *    thresholds between distinct score values (tied samples move together).
 *  - AUPR is average precision, sum over thresholds of (R_k - R_{k-1}) P_k
 *    (scikit-learn's average_precision_score), not the trapezoid.
 *  - FPR@95 is the smallest FPR over thresholds whose TPR >= 0.95.
 *  - All three are computed in one O(n) pass over the samples sorted once
 *    by score, with per-sample weights; a bootstrap resample is a vector of
 *    multiplicities, so 1000 resamples of 20000 scores cost O(1000 n).
 *  - Bootstrap: stratified (positives and negatives resampled separately,
 *    so every resample has both) or, with groups, a cluster bootstrap that
 *    resamples whole groups (video clips: frames of a clip are correlated);
 *    resamples lacking a class are drawn again. Percentile 95% interval.
 *    The generator is splitmix64 from a fixed seed: same input, same CI.
 *  - Undefined metrics (no positives or no negatives) are NaN.
 */
#ifndef LMD_EVAL_METRICS_H
#define LMD_EVAL_METRICS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	double auroc, aupr, fpr95;
} eval_metrics;

/* Metrics of n (score, label) pairs; labels 0 or 1. Returns -1 on out of memory. */
int eval_compute(const float *score, const unsigned char *label, size_t n, eval_metrics *out);

typedef struct {
	eval_metrics lo, hi;   /* 2.5% and 97.5% percentiles */
	eval_metrics mean;
	int resamples;
} eval_ci;

/*
 * Bootstrap CIs. group: NULL (stratified item bootstrap) or a group id per
 * item (cluster bootstrap; ids are arbitrary ints). Returns -1 on out of
 * memory or if there is no positive or no negative.
 */
int eval_bootstrap(const float *score, const unsigned char *label, const int *group, size_t n,
                   int resamples, uint64_t seed, eval_ci *out);

/*
 * Paired bootstrap of AUROC(b) - AUROC(a): two scorings of the same n items
 * (same labels, same groups), each resample drawn once and read by both, so
 * what the items have in common cancels and the interval is about the
 * difference alone (much narrower than comparing two unpaired CIs). Same
 * resampling as eval_bootstrap (stratified, or whole groups). a and b are
 * the two AUROCs on all items, d = b - a; lo, hi its 2.5% and 97.5%
 * percentiles. Returns -1 on out of memory or if there is no positive or no
 * negative.
 */
typedef struct {
	double a, b;             /* the two AUROCs on all items */
	double d, lo, hi;
	int resamples;
} eval_paired;

int eval_bootstrap_paired(const float *a, const float *b, const unsigned char *label, const int *group, size_t n,
                          int resamples, uint64_t seed, eval_paired *out);

/* ROC curve at every distinct threshold, from (0,0) to (1,1): fills up to
 * max points (fpr, tpr), returns the number of points (n_distinct + 1). */
size_t eval_roc(const float *score, const unsigned char *label, size_t n, double *fpr, double *tpr,
                size_t max);

/* Per group: (s - min) / (max - min) over the group's items (0 if max == min).
 * At most 4096 distinct groups (else returns -1). */
int eval_minmax_by_group(const float *score, const int *group, size_t n, float *out);

/* Linear-interpolated quantile of sorted v (numpy's default). */
double eval_quantile(const double *sorted, size_t n, double q);

/* splitmix64 */
uint64_t eval_rng_next(uint64_t *state);
#endif
