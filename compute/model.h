/*
 * model.h — the loaded model (internal): validated f32 tensors by name, the
 * architecture (lmd_model_info) and the noise schedule ᾱ_t in double.
 *
 * lmd_arch_walk() enumerates every tensor the architecture requires, with
 * its shape, in a fixed order; the loader checks the file against it and
 * unet.c builds the network from the same names, so the two cannot drift.
 */
#ifndef LMD_MODEL_H
#define LMD_MODEL_H
#include <stddef.h>
#include "lmd.h"

typedef struct {
	char name[96];
	int ndim;
	int shape[4];
	size_t n;
	float *data;  /* owned, f32, validated finite */
} lmd_tensor;

struct lmd_model {
	lmd_model_info info;
	lmd_tensor *t;
	int nt;
	double *abar;       /* [T] */
	char *training;     /* owned JSON text */
};

/* Tensor by printf-style name, NULL if absent. */
const lmd_tensor *lmd_model_tensor(const lmd_model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Calls fn(ctx, name, ndim, shape) for every tensor the architecture needs. */
typedef void (*lmd_arch_fn)(void *ctx, const char *name, int ndim, const int *shape);
void lmd_arch_walk(const lmd_model_info *a, lmd_arch_fn fn, void *ctx);

/* Channels of the skip tensors pushed on the way down, in order; returns count. */
int lmd_arch_skips(const lmd_model_info *a, int *ch, int max);

/* Fills abar[0..T-1]; returns LMD_ERR_FORMAT for an unknown schedule. */
lmd_err lmd_schedule(const char *kind, int T, double beta_start, double beta_end, double *abar);

/* Parse an in-memory safetensors image (for tests and fuzzing). `what` names it in errors. */
lmd_err lmd_model_parse(const unsigned char *buf, size_t len, const char *what, lmd_model **out);
#endif
