/*
 * eval_compare.h — `lmdd eval --compare DIR`: is one evaluation's scoring
 * better than another's on the same items? Reads scores-<suite>.csv from two
 * results folders, matches the items both scored, and prints each suite's
 * AUROC difference with a paired bootstrap CI (eval_bootstrap_paired).
 *
 * Why: two runs' unpaired CIs overlap even when one setting is consistently
 * better or worse (on Ped2 the clip bootstrap's CI is ~0.27 wide, and most
 * of that is which clips are drawn, common to both runs). Pairing the same
 * items cancels it. The sweep does this within one run; this does it for
 * two full runs, e.g. the headline at two operating points.
 *
 * Items are matched by the CSV's first two columns (set and item, or clip
 * and frame); an item's label must be the same in both files. Ped2 is
 * resampled by clip, as for its CIs; the image suites stratified.
 */
#ifndef LMDD_EVAL_COMPARE_H
#define LMDD_EVAL_COMPARE_H
#include <stdint.h>
#include <stdio.h>

/* For each suite named in names[0..n) that has a scores CSV in both a_dir
 * and b_dir, prints to out "B - A" with its paired CI. Returns 0 when at
 * least one suite was compared, -1 otherwise (reasons on stderr). */
int eval_compare(const char *a_dir, const char *b_dir, const char *const *names, int n, int resamples,
                 uint64_t seed, FILE *out);
#endif
