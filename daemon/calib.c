/*
 * calib.c — the calibration sidecar <model>.calib.json (see calib.h):
 * reading it against a model file and sampler settings, the settings as
 * JSON, the model file's CRC-32.
 *
 * Facts behind the design:
 *  - The sidecar names "aggregate" "agg", as calib_params_json writes it
 *    (the key of `lmdd --agg`); everything else has the config's names.
 *  - Settings are compared as JSON text of their values, so a sidecar
 *    written by another build compares equal when the settings are.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "calib.h"

const char *const calib_sampler_keys[] = { "steps", "reps", "t0", "eta", "mask", "distance", "pool",
                                            "aggregate", "jump", "resample", "seed", NULL };

/* Copy into p the sidecar's settings for the keys not in `fixed`. The
 * sidecar names "aggregate" "agg", as calib_params_json writes it. -1 (with
 * the key in err) if one does not parse. */
static int calib_params_fill(const cJSON *have, lmd_params *p, unsigned fixed, char *err, size_t errlen)
{
	for (int i = 0; calib_sampler_keys[i]; i++) {
		if (fixed >> i & 1)
			continue;
		const char *k = strcmp(calib_sampler_keys[i], "aggregate") ? calib_sampler_keys[i] : "agg";
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(have, k);
		char v[64];
		if (!h)
			continue;
		if (cJSON_IsNumber(h))
			snprintf(v, sizeof v, "%.17g", h->valuedouble);
		else if (cJSON_IsString(h))
			snprintf(v, sizeof v, "%s", h->valuestring);
		else
			v[0] = 0;
		if (!v[0] || lmd_params_set(p, k, v) != LMD_OK) {
			snprintf(err, errlen, "bad \"params\" value for %s: %s", k, v[0] ? lmd_errmsg() : "not a value");
			return -1;
		}
	}
	return 0;
}

int calib_params_overlay(lmd_params *dst, const lmd_params *src, unsigned keys)
{
	cJSON *from = calib_params_json(src);
	char err[200];
	int rc = from ? calib_params_fill(from, dst, ~keys, err, sizeof err) : -1;
	cJSON_Delete(from);
	return rc;
}

/* The first setting in which the sidecar's "params" differ from ours, as
 * "steps 3 (the config: 10)", or "" when they agree. */
static void calib_params_diff(const cJSON *have, const lmd_params *p, char *out, size_t outlen)
{
	cJSON *want = calib_params_json(p);
	out[0] = 0;
	for (const cJSON *w = want ? want->child : NULL; w && !out[0]; w = w->next) {
		if (!strcmp(w->string, "nfe"))
			continue;       /* derived from the others */
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(have, w->string);
		char hv[64], wv[64];
		if (cJSON_IsNumber(w))
			snprintf(wv, sizeof wv, "%.17g", w->valuedouble);
		else
			snprintf(wv, sizeof wv, "%s", w->valuestring);
		if (!h)
			snprintf(hv, sizeof hv, "(missing)");
		else if (cJSON_IsNumber(h))
			snprintf(hv, sizeof hv, "%.17g", h->valuedouble);
		else if (cJSON_IsString(h))
			snprintf(hv, sizeof hv, "%s", h->valuestring);
		else
			snprintf(hv, sizeof hv, "(not a value)");
		if (strcmp(hv, wv))
			snprintf(out, outlen, "%s %s (the config: %s)", w->string, hv, wv);
	}
	cJSON_Delete(want);
}

int calib_file_crc32(const char *path, char out[9])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	unsigned char buf[1 << 16];
	uLong crc = crc32(0L, Z_NULL, 0);
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		crc = crc32(crc, buf, (uInt)n);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return -1;
	snprintf(out, 9, "%08lx", (unsigned long)crc);
	return 0;
}

int calib_read(const char *path, const char *model, lmd_params *p, unsigned fixed,
               calib_info *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open calibration '%s': %s", path, strerror(errno));
		return -1;
	}
	char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	cJSON *j = cJSON_Parse(buf);
	if (!j) {
		snprintf(err, errlen, "calibration '%s': not valid JSON", path);
		return -1;
	}
	cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "threshold");
	cJSON *have = cJSON_GetObjectItemCaseSensitive(j, "params");
	char diff[200] = "", bad[200] = "";
	lmd_params mine_p;
	if (p) {
		mine_p = *p;
		if (cJSON_IsObject(have) && calib_params_fill(have, &mine_p, fixed, bad, sizeof bad) == 0)
			calib_params_diff(have, &mine_p, diff, sizeof diff);
	}
	cJSON *crc = cJSON_GetObjectItemCaseSensitive(j, "model_crc32");
	char mine[9] = "";
	if (model && cJSON_IsString(crc) && calib_file_crc32(model, mine))
		snprintf(mine, sizeof mine, "unread");
	int rc = 0;
	if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) || t->valuedouble < 0) {
		snprintf(err, errlen, "calibration '%s': no numeric \"threshold\" >= 0", path);
		rc = -1;
	} else if (bad[0]) {
		snprintf(err, errlen, "calibration '%s': %s", path, bad);
		rc = -1;
	} else if (mine[0] && strcmp(mine, crc->valuestring)) {
		snprintf(err, errlen, "calibration '%s' was measured on another model file (CRC-32 %.8s; "
		         "'%s' has %s): re-run lmdd calibrate on this model", path, crc->valuestring, model, mine);
		rc = -1;
	} else if (diff[0]) {
		snprintf(err, errlen, "calibration '%s' was measured with other sampler settings: %s; "
		         "re-run lmdd calibrate with the config's settings, leave the setting out of the "
		         "config, or set threshold per stream", path, diff);
		rc = -1;
	} else {
		const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "region_threshold");
		const cJSON *rb = cJSON_GetObjectItemCaseSensitive(j, "region_blur");
		out->threshold = t->valuedouble;
		if (p)
			*p = mine_p;
		out->region_threshold = 0;
		out->region_blur = 0;
		if (cJSON_IsNumber(rt) && isfinite(rt->valuedouble) && rt->valuedouble > 0 && cJSON_IsNumber(rb) &&
		    rb->valuedouble >= 0 && rb->valuedouble <= 32) {
			out->region_threshold = rt->valuedouble;
			out->region_blur = (int)rb->valuedouble;
		}
	}
	cJSON_Delete(j);
	return rc;
}


cJSON *calib_params_json(const lmd_params *p)
{
	static const char *const masks[] = { "checkerboard", "patches", "center" };
	static const char *const dists[] = { "mse", "ssim" };
	static const char *const aggs[] = { "median", "mean", "min" };
	char mask[48], pool[24];
	if (p->mask == LMD_MASK_CHECKERBOARD)
		snprintf(mask, sizeof mask, "checkerboard:%d", p->mask_blocks);
	else
		snprintf(mask, sizeof mask, "%s:%g", masks[p->mask], p->mask_frac);
	if (p->pool == LMD_POOL_MAX)
		snprintf(pool, sizeof pool, "max:%d", p->pool_size);
	else
		snprintf(pool, sizeof pool, "mean");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "steps", p->steps);
	cJSON_AddNumberToObject(o, "reps", p->reps);
	cJSON_AddNumberToObject(o, "t0", p->t0);
	cJSON_AddNumberToObject(o, "eta", p->eta);
	cJSON_AddStringToObject(o, "mask", mask);
	cJSON_AddNumberToObject(o, "jump", p->jump);
	cJSON_AddNumberToObject(o, "resample", p->resample);
	cJSON_AddStringToObject(o, "distance", dists[p->distance]);
	cJSON_AddStringToObject(o, "pool", pool);
	cJSON_AddStringToObject(o, "agg", aggs[p->agg]);
	cJSON_AddNumberToObject(o, "seed", (double)p->seed);
	cJSON_AddNumberToObject(o, "nfe", lmd_params_nfe(p));
	return o;
}

double calib_json_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *calib_json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

void calib_params_text(char *buf, size_t len, const cJSON *p)
{
	char t0[32];
	if (calib_json_num(p, "t0") < 0)
		snprintf(t0, sizeof t0, "T-1");
	else
		snprintf(t0, sizeof t0, "%.0f", calib_json_num(p, "t0"));
	snprintf(buf, len, "steps %.0f, reps %.0f, t0 %s, eta %g, mask %s, jump %.0f, resample %.0f, "
	                   "distance %s, pool %s, agg %s, seed %.0f",
	         calib_json_num(p, "steps"), calib_json_num(p, "reps"), t0, calib_json_num(p, "eta"),
	         calib_json_str(p, "mask"), calib_json_num(p, "jump"), calib_json_num(p, "resample"),
	         calib_json_str(p, "distance"), calib_json_str(p, "pool"), calib_json_str(p, "agg"),
	         calib_json_num(p, "seed"));
}
