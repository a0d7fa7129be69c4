/*
 * validate.h — the checks that need more than the INI file: the model file
 * loads, the sampler parameters (the config's, and the calibration
 * sidecar's for every key the config leaves out) suit it, every stream has a threshold
 * (its own or the calibration sidecar's), CURVE key files parse. Shared by
 * `lmdd check-config` and `lmdd run`, so both reject exactly the same
 * configurations, with FILE:LINE messages.
 */
#ifndef LMDD_VALIDATE_H
#define LMDD_VALIDATE_H
#include "config.h"
#include "lmd.h"

typedef struct {
	lmd_model *model;        /* loaded model (caller destroys), NULL on error */
	lmd_params params;       /* sampler settings in force: the config's, the calibration's for the rest */
	int have_calib;
	calib_info calib;         /* valid if have_calib */
	char calib_note[512];    /* why there is no calibration, if so */
} validated;

/* Returns the number of errors appended to *errors. */
int validate_config(const lmdd_config *c, validated *v, char **errors);
/* Effective threshold of a stream. */
double validate_threshold(const cfg_stream *s, const validated *v);
/* The calibration's region threshold if it was measured with the config's
 * region_blur, else 0 (regions then use each stream's threshold). */
double validate_region_threshold(const lmdd_config *c, const validated *v);
/* One line for logs saying which pixel threshold regions use, and why. */
const char *validate_region_note(const lmdd_config *c, const validated *v, char *buf, size_t len);
#endif
