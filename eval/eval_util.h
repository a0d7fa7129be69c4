/*
 * eval_util.h — small pieces `lmdd eval` shares between its files: a
 * growable list of scored samples, the stderr progress bar, machine facts
 * and image dumps (PGM/PPM/PFM) for the example figures.
 *
 * Design facts:
 *  - The progress bar redraws in place ("\r") when stderr is a terminal and
 *    otherwise prints one line every 30 s (logs of `make eval`), always with
 *    done/total, images per second and the ETA.
 *  - Image dumps are the netpbm formats Python reads in a few lines: 8-bit
 *    PGM (1 channel) / PPM (3 channels) for images in [0,1], and PFM
 *    (little-endian float32, rows bottom to top) for distance maps.
 */
#ifndef LMD_EVAL_UTIL_H
#define LMD_EVAL_UTIL_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t n, cap;
	float *score;
	unsigned char *label;
	int *group;   /* idx suites: 0 = in-distribution set, 1 = out; video: clip index */
	int *item;    /* index in the set / frame number in the clip */
} eval_samples;

int eval_samples_add(eval_samples *s, float score, int label, int group, int item);
void eval_samples_free(eval_samples *s);

typedef struct {
	char label[96];
	size_t done, total;
	double t0, last;
	size_t drawn;   /* done at the last line printed */
	int tty;
} eval_progress;

double eval_now(void);  /* monotonic seconds */
void eval_progress_start(eval_progress *p, const char *label, size_t total);
void eval_progress_add(eval_progress *p, size_t n);
void eval_progress_end(eval_progress *p);

/* "Intel(R) Xeon(R) ..." from /proc/cpuinfo ("unknown CPU" if absent) */
void eval_cpu_model(char *buf, size_t len);
int eval_cores(void);
/* ISO-8601 UTC time of now */
void eval_utc_now(char *buf, size_t len);

/* img: C x h x w floats in [0,1]; C 1 -> PGM, 3 -> PPM. 0 or -1. */
int eval_write_pnm(const char *path, const float *img, int C, int h, int w);
int eval_write_pfm(const char *path, const float *map, int h, int w);

/* mkdir -p */
int eval_mkdirs(const char *path);
#endif
