/*
 * validate.c — see validate.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curve.h"
#include "validate.h"

int validate_config(const lmdd_config *c, validated *v, char **errors)
{
	int n = 0;
	memset(v, 0, sizeof *v);
	v->params = c->params;
	if (c->model && lmd_model_load(c->model, &v->model) != LMD_OK) {
		config_errorf(errors, "%s:%d: model: %s", c->path, c->model_line, lmd_errmsg());
		n++;
	}
	if (v->model) {
		const lmd_model_info *mi = lmd_model_get_info(v->model);
		if (mi->frame_width <= 0 || mi->frame_height <= 0 ||
		    (mi->channels != 1 && mi->channels != 3)) {
			config_errorf(errors, "%s:%d: model: frame size %dx%d, %d channels: not usable for video",
			              c->path, c->model_line, mi->frame_width, mi->frame_height, mi->channels);
			n++;
		}
	}
	if (c->calib) {
		char err[400];
		if (calib_read(c->calib, c->model, &v->params, c->params_set, &v->calib, err, sizeof err) == 0)
			v->have_calib = 1;
		else
			snprintf(v->calib_note, sizeof v->calib_note, "%s", err);
		if (!v->have_calib && c->calib_line) {
			/* an explicitly named calibration must be good */
			config_errorf(errors, "%s:%d: %s", c->path, c->calib_line, err);
			n++;
		} else if (!v->have_calib) {
			n += config_check_thresholds(c, 0, v->calib_note, errors);
		}
	}
	if (v->model && lmd_params_check(&v->params, v->model) != LMD_OK) {
		config_errorf(errors, "%s:%d: sampler parameters: %s", c->path,
		              c->params_line ? c->params_line : c->daemon_line, lmd_errmsg());
		n++;
	}
	if (c->curve && c->curve_secret_file && c->curve_clients_file) {
		char err[400], s[41], p[41];
		uint8_t (*keys)[32] = NULL;
		int nk;
		if (curve_read_secret(c->curve_secret_file, s, p, err, sizeof err) < 0) {
			config_errorf(errors, "%s:%d: %s", c->path, c->curve_line, err);
			n++;
		}
		if (curve_read_allowed(c->curve_clients_file, &keys, &nk, err, sizeof err) < 0) {
			config_errorf(errors, "%s:%d: %s", c->path, c->curve_line, err);
			n++;
		}
		free(keys);
		memset(s, 0, sizeof s);
	}
	return n;
}

double validate_threshold(const cfg_stream *s, const validated *v)
{
	return s->threshold >= 0 ? s->threshold : v->calib.threshold;
}

const char *validate_region_note(const lmdd_config *c, const validated *v, char *buf, size_t len)
{
	if (validate_region_threshold(c, v) > 0)
		snprintf(buf, len, "%.6g (x region_factor %g)", v->calib.region_threshold, c->region_factor);
	else if (v->have_calib && v->calib.region_threshold > 0)
		snprintf(buf, len, "not used: measured with region_blur %d, the config has %d (regions at "
		         "threshold x region_factor; re-run lmdd calibrate --region-blur %d)",
		         v->calib.region_blur, c->region_blur, c->region_blur);
	else
		snprintf(buf, len, "none in the sidecar (regions at threshold x region_factor)");
	return buf;
}

double validate_region_threshold(const lmdd_config *c, const validated *v)
{
	return v->have_calib && v->calib.region_threshold > 0 && v->calib.region_blur == c->region_blur
	       ? v->calib.region_threshold : 0;
}
