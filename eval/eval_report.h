/*
 * eval_report.h — the results page of `lmdd eval`: README.md in the output
 * folder, generated from the per-suite JSON files the run (or an earlier
 * run into the same folder) left there:
 *   summary-<suite>.json  headline metrics, model, machine, parameters
 *   sweep-<suite>.json    the one-factor-at-a-time sweep rows
 * so suites evaluated at different times (models finish training at
 * different times) end up on one page, each row naming its model file,
 * training step and date.
 */
#ifndef LMD_EVAL_REPORT_H
#define LMD_EVAL_REPORT_H

/*
 * suites: the known suite names in page order. plots_note: one line about
 * the plots of this run ("" if made). Returns 0 or -1 (message in err).
 */
int eval_write_report(const char *outdir, const char *const *suites, int nsuites,
                      const char *plots_note, char *err, unsigned long errlen);
/* <dir>/<prefix>-<suite>.json parsed, or NULL. */
struct cJSON;
struct cJSON *eval_report_load(const char *dir, const char *prefix, const char *suite);
#endif
