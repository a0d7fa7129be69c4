/*
 * model.c — loads and validates an lmdd model file (safetensors).
 *
 * Facts behind the design:
 *  - safetensors = u64 LE header length N, N bytes of JSON, then the data
 *    block; each tensor gives dtype, shape and [begin, end) offsets into the
 *    data block. Nothing in the file is trusted: N is bounded by the file
 *    size, every offset range must lie inside the data block, match
 *    numel x dtype size, and not overlap another tensor.
 *  - Only F32 and F16 are accepted; F16 is widened to f32 on load. Every
 *    weight must be finite (a NaN weight would silently poison all scores).
 *  - The architecture comes from __metadata__ (docs/model-format.md). The
 *    set of tensors it implies (lmd_arch_walk) must match the file exactly:
 *    a missing, extra or mis-shaped tensor is an error naming it.
 *  - The file is memory-mapped read-only and unmapped after the copy to
 *    f32, so the model never holds a file descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "err.h"
#include "model.h"

#define MAX_HEADER (64u << 20)

/* ---- architecture ------------------------------------------------------ */

static void resblock(const lmd_model_info *a, lmd_arch_fn fn, void *ctx,
                     const char *p, int cin, int cout)
{
	char nm[96];
	int s1[1] = { cin }, s2[1] = { cout };
	int c1[4] = { cout, cin, 3, 3 }, c2[4] = { cout, cout, 3, 3 };
	int tp[2] = { cout, 4 * a->base_channels }, sk[4] = { cout, cin, 1, 1 };
#define T(suffix, nd, sh) (snprintf(nm, sizeof nm, "%s.%s", p, suffix), fn(ctx, nm, nd, sh))
	T("norm1.weight", 1, s1); T("norm1.bias", 1, s1);
	T("conv1.weight", 4, c1); T("conv1.bias", 1, s2);
	T("temb_proj.weight", 2, tp); T("temb_proj.bias", 1, s2);
	T("norm2.weight", 1, s2); T("norm2.bias", 1, s2);
	T("conv2.weight", 4, c2); T("conv2.bias", 1, s2);
	if (cin != cout) {
		T("nin_shortcut.weight", 4, sk); T("nin_shortcut.bias", 1, s2);
	}
}

static void attnblock(lmd_arch_fn fn, void *ctx, const char *p, int c)
{
	char nm[96];
	int s[1] = { c }, w[4] = { c, c, 1, 1 };
	T("norm.weight", 1, s); T("norm.bias", 1, s);
	static const char *const names[] = { "q", "k", "v", "proj_out" };
	for (int i = 0; i < 4; i++) {
		char sub[32];
		snprintf(sub, sizeof sub, "%s.weight", names[i]); T(sub, 4, w);
		snprintf(sub, sizeof sub, "%s.bias", names[i]); T(sub, 1, s);
	}
}

static void conv(lmd_arch_fn fn, void *ctx, const char *p, int cout, int cin, int k)
{
	char nm[96];
	int w[4] = { cout, cin, k, k }, b[1] = { cout };
	T("weight", 4, w); T("bias", 1, b);
#undef T
}

void lmd_arch_walk(const lmd_model_info *a, lmd_arch_fn fn, void *ctx)
{
	int ch = a->base_channels, L = a->levels, C = a->channels;
	int skip[128], ns = 0;
	char p[96];
	int d0[2] = { 4 * ch, ch }, d1[2] = { 4 * ch, 4 * ch }, b[1] = { 4 * ch };
	fn(ctx, "temb.dense.0.weight", 2, d0); fn(ctx, "temb.dense.0.bias", 1, b);
	fn(ctx, "temb.dense.1.weight", 2, d1); fn(ctx, "temb.dense.1.bias", 1, b);
	conv(fn, ctx, "conv_in", ch, C * (1 + a->cond_frames), 3);
	skip[ns++] = ch;
	int cin = ch;
	for (int i = 0; i < L; i++) {
		int cout = ch * a->ch_mult[i];
		for (int j = 0; j < a->num_res_blocks; j++) {
			snprintf(p, sizeof p, "down.%d.block.%d", i, j);
			resblock(a, fn, ctx, p, cin, cout);
			cin = cout;
			if (a->attn_levels & (1u << i)) {
				snprintf(p, sizeof p, "down.%d.attn.%d", i, j);
				attnblock(fn, ctx, p, cin);
			}
			skip[ns++] = cin;
		}
		if (i != L - 1) {
			snprintf(p, sizeof p, "down.%d.downsample.conv", i);
			conv(fn, ctx, p, cin, cin, 3);
			skip[ns++] = cin;
		}
	}
	resblock(a, fn, ctx, "mid.block_1", cin, cin);
	attnblock(fn, ctx, "mid.attn_1", cin);
	resblock(a, fn, ctx, "mid.block_2", cin, cin);
	for (int i = L - 1; i >= 0; i--) {
		int cout = ch * a->ch_mult[i];
		for (int j = 0; j <= a->num_res_blocks; j++) {
			snprintf(p, sizeof p, "up.%d.block.%d", i, j);
			resblock(a, fn, ctx, p, cin + skip[--ns], cout);
			cin = cout;
			if (a->attn_levels & (1u << i)) {
				snprintf(p, sizeof p, "up.%d.attn.%d", i, j);
				attnblock(fn, ctx, p, cin);
			}
		}
		if (i != 0) {
			snprintf(p, sizeof p, "up.%d.upsample.conv", i);
			conv(fn, ctx, p, cin, cin, 3);
		}
	}
	int n[1] = { cin };
	fn(ctx, "norm_out.weight", 1, n); fn(ctx, "norm_out.bias", 1, n);
	conv(fn, ctx, "conv_out", C, cin, 3);
}

int lmd_arch_skips(const lmd_model_info *a, int *ch, int max)
{
	int n = 0, c = a->base_channels;
	if (n < max) ch[n++] = c;
	for (int i = 0; i < a->levels; i++) {
		c = a->base_channels * a->ch_mult[i];
		for (int j = 0; j < a->num_res_blocks; j++)
			if (n < max) ch[n++] = c;
		if (i != a->levels - 1 && n < max)
			ch[n++] = c;
	}
	return n;
}

lmd_err lmd_schedule(const char *kind, int T, double b0, double b1, double *abar)
{
	double prod = 1.0;
	if (!strcmp(kind, "linear")) {
		for (int t = 0; t < T; t++) {
			double beta = T > 1 ? b0 + (b1 - b0) * t / (T - 1) : b0;
			prod *= 1.0 - beta;
			abar[t] = prod;
		}
	} else if (!strcmp(kind, "cosine")) {
		const double s = 0.008, hp = 1.5707963267948966;
		for (int t = 0; t < T; t++) {
			double f0 = cos(((double)t / T + s) / (1 + s) * hp);
			double f1 = cos(((double)(t + 1) / T + s) / (1 + s) * hp);
			double beta = 1.0 - (f1 * f1) / (f0 * f0);
			if (beta > 0.999)
				beta = 0.999;
			prod *= 1.0 - beta;
			abar[t] = prod;
		}
	} else {
		return lmd_seterr(LMD_ERR_FORMAT, "metadata 'schedule': unknown schedule '%s' (linear or cosine)", kind);
	}
	return LMD_OK;
}

/* ---- metadata ---------------------------------------------------------- */

static lmd_err meta_str(const cJSON *md, const char *what, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
	if (!v)
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ lacks '%s'", what, key);
	if (!cJSON_IsString(v))
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ '%s' is not a string", what, key);
	*out = v->valuestring;
	return LMD_OK;
}

static lmd_err parse_int(const char *what, const char *key, const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	while (*end == ' ')
		end++;
	if (errno || end == s || *end || v < lo || v > hi)
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ '%s' = '%s': expected an integer in [%d, %d]",
		                  what, key, s, lo, hi);
	*out = (int)v;
	return LMD_OK;
}

static lmd_err meta_int(const cJSON *md, const char *what, const char *key, int lo, int hi, int *out)
{
	const char *s;
	lmd_err e = meta_str(md, what, key, &s);
	return e ? e : parse_int(what, key, s, lo, hi, out);
}

static lmd_err meta_double(const cJSON *md, const char *what, const char *key, double lo, double hi, double *out)
{
	const char *s;
	lmd_err e = meta_str(md, what, key, &s);
	if (e)
		return e;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ '%s' = '%s': expected a number in [%g, %g]",
		                  what, key, s, lo, hi);
	*out = v;
	return LMD_OK;
}

/* Comma-separated list of ints into v[max]; empty string allowed if allow_empty. */
static lmd_err meta_list(const cJSON *md, const char *what, const char *key, int lo, int hi,
                         int *v, int max, int *n, int allow_empty)
{
	const char *s;
	lmd_err e = meta_str(md, what, key, &s);
	if (e)
		return e;
	*n = 0;
	while (*s == ' ')
		s++;
	if (!*s) {
		if (allow_empty)
			return LMD_OK;
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ '%s' is empty", what, key);
	}
	for (;;) {
		char *end;
		errno = 0;
		long x = strtol(s, &end, 10);
		if (errno || end == s || x < lo || x > hi || *n >= max)
			return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ '%s': bad list (integers in [%d, %d], at most %d)",
			                  what, key, lo, hi, max);
		v[(*n)++] = (int)x;
		while (*end == ' ')
			end++;
		if (!*end)
			return LMD_OK;
		if (*end != ',')
			return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ '%s': unexpected '%c'", what, key, *end);
		s = end + 1;
	}
}

static lmd_err parse_meta(const cJSON *md, const char *what, lmd_model *m)
{
	lmd_model_info *a = &m->info;
	const char *s;
	lmd_err e;
	int n, lv[LMD_MAX_LEVELS];
	double b0 = 1e-4, b1 = 0.02;

	if (!md || !cJSON_IsObject(md))
		return lmd_seterr(LMD_ERR_FORMAT, "%s: header has no __metadata__ object (not an lmdd model?)", what);
	if ((e = meta_str(md, what, "format", &s)))
		return e;
	if (strcmp(s, "lmdd-unet-1"))
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ 'format' is '%s', expected 'lmdd-unet-1'", what, s);
	if ((e = meta_str(md, what, "name", &s)))
		return e;
	snprintf(a->name, sizeof a->name, "%s", s);
	if ((e = meta_int(md, what, "in_channels", 1, 3, &a->channels)))
		return e;
	if (a->channels == 2)
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ 'in_channels' = 2: expected 1 or 3", what);
	if ((e = meta_int(md, what, "cond_frames", 0, 8, &a->cond_frames)) ||
	    (e = meta_int(md, what, "base_channels", 1, 1024, &a->base_channels)) ||
	    (e = meta_list(md, what, "channel_mult", 1, 16, a->ch_mult, LMD_MAX_LEVELS, &a->levels, 0)) ||
	    (e = meta_int(md, what, "num_res_blocks", 1, 8, &a->num_res_blocks)) ||
	    (e = meta_list(md, what, "attn_levels", 0, LMD_MAX_LEVELS - 1, lv, LMD_MAX_LEVELS, &n, 1)) ||
	    (e = meta_int(md, what, "groups", 1, 1024, &a->groups)) ||
	    (e = meta_int(md, what, "timesteps", 2, 100000, &a->timesteps)) ||
	    (e = meta_str(md, what, "schedule", &s)))
		return e;
	a->attn_levels = 0;
	for (int i = 0; i < n; i++) {
		if (lv[i] >= a->levels)
			return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ 'attn_levels' names level %d, model has %d levels",
			                  what, lv[i], a->levels);
		a->attn_levels |= 1u << lv[i];
	}
	snprintf(a->schedule, sizeof a->schedule, "%s", s);
	if (!strcmp(s, "linear") &&
	    ((e = meta_double(md, what, "beta_start", 0, 0.999, &b0)) ||
	     (e = meta_double(md, what, "beta_end", 0, 0.999, &b1))))
		return e;
	if ((e = meta_int(md, what, "frame_height", 1, 8192, &a->frame_height)) ||
	    (e = meta_int(md, what, "frame_width", 1, 8192, &a->frame_width)) ||
	    (e = meta_int(md, what, "train_size", 1, 8192, &a->train_size)) ||
	    (e = meta_str(md, what, "pixel_range", &s)))
		return e;
	if (strcmp(s, "-1,1"))
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ 'pixel_range' is '%s', only '-1,1' is supported", what, s);
	/* optional: the time between a training frame and its conditioning
	 * frames (media/history.h); absent = consecutive decoded frames */
	a->cond_interval = 0;
	if (cJSON_GetObjectItemCaseSensitive(md, "cond_interval") &&
	    (e = meta_double(md, what, "cond_interval", 1e-4, 3600, &a->cond_interval)))
		return e;
	/* every GroupNorm's channel count must divide into groups */
	int ch = a->base_channels;
	for (int i = 0; i < a->levels; i++)
		if ((ch * a->ch_mult[i]) % a->groups || ch % a->groups)
			return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ 'groups' = %d does not divide the channels of level %d (%d)",
			                  what, a->groups, i, ch * a->ch_mult[i]);
	if (ch % 2)
		return lmd_seterr(LMD_ERR_FORMAT, "%s: __metadata__ 'base_channels' must be even (time embedding)", what);
	m->abar = malloc(sizeof(double) * (size_t)a->timesteps);
	if (!m->abar)
		return lmd_seterr(LMD_ERR_NOMEM, "%s: out of memory", what);
	if ((e = lmd_schedule(a->schedule, a->timesteps, b0, b1, m->abar)))
		return lmd_preferr(e, "%s", what);
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(md, "training");
	m->training = strdup(cJSON_IsString(tr) ? tr->valuestring : "");
	if (!m->training)
		return lmd_seterr(LMD_ERR_NOMEM, "%s: out of memory", what);
	a->training = m->training;
	return LMD_OK;
}

/* ---- tensors ----------------------------------------------------------- */

static float half_to_float(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, f = h & 0x3ff, u;
	if (e == 0) {
		if (f == 0) {
			u = s;
		} else { /* subnormal */
			int k = -1;
			do { k++; f <<= 1; } while (!(f & 0x400));
			u = s | (uint32_t)(127 - 15 - k) << 23 | (f & 0x3ff) << 13;
		}
	} else if (e == 31) {
		u = s | 0x7f800000u | f << 13;
	} else {
		u = s | (e + 127 - 15) << 23 | f << 13;
	}
	float out;
	memcpy(&out, &u, 4);
	return out;
}

typedef struct {
	lmd_model *m;
	const cJSON *hdr;
	const unsigned char *data;
	size_t data_len;
	const char *what;
	lmd_err err;
	int count;
} load_ctx;

static void load_one(void *vctx, const char *name, int ndim, const int *shape)
{
	load_ctx *c = vctx;
	if (c->err)
		return;
	c->count++;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->hdr, name);
	char want[64] = "", got[64] = "";
	for (int i = 0; i < ndim; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", i ? "," : "", shape[i]);
	if (!t) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' [%s] is missing", c->what, name, want);
		return;
	}
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
	int esz;
	if (!cJSON_IsString(dt)) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' has no dtype", c->what, name);
		return;
	}
	if (!strcmp(dt->valuestring, "F32")) {
		esz = 4;
	} else if (!strcmp(dt->valuestring, "F16")) {
		esz = 2;
	} else {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' has dtype %s (only F32 and F16 are supported)",
		                    c->what, name, dt->valuestring);
		return;
	}
	if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) > 8) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' has no valid shape", c->what, name);
		return;
	}
	int nd = cJSON_GetArraySize(sh), ok = nd == ndim;
	const cJSON *d;
	int i = 0;
	cJSON_ArrayForEach(d, sh) {
		double v = cJSON_IsNumber(d) ? d->valuedouble : -1;
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%.0f", i ? "," : "", v);
		if (i >= ndim || v != shape[i])
			ok = 0;
		i++;
	}
	if (!ok) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' has shape [%s], the architecture needs [%s]",
		                    c->what, name, got, want);
		return;
	}
	size_t n = 1;
	for (i = 0; i < ndim; i++)
		n *= (size_t)shape[i];
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
	if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(of, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(of, 1))) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' has no valid data_offsets", c->what, name);
		return;
	}
	double b = cJSON_GetArrayItem(of, 0)->valuedouble, e = cJSON_GetArrayItem(of, 1)->valuedouble;
	if (!(b >= 0 && e >= b && e <= (double)c->data_len) || b != floor(b) || e != floor(e)) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' data_offsets [%.0f, %.0f] lie outside the %zu-byte data block",
		                    c->what, name, b, e, c->data_len);
		return;
	}
	if ((size_t)(e - b) != n * (size_t)esz) {
		c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' spans %.0f bytes, shape [%s] x %s needs %zu",
		                    c->what, name, e - b, want, dt->valuestring, n * (size_t)esz);
		return;
	}
	lmd_tensor *T = &c->m->t[c->m->nt];
	snprintf(T->name, sizeof T->name, "%s", name);
	T->ndim = ndim;
	memcpy(T->shape, shape, sizeof(int) * (size_t)ndim);
	T->n = n;
	T->data = malloc(n * sizeof(float) + 1);
	if (!T->data) {
		c->err = lmd_seterr(LMD_ERR_NOMEM, "%s: out of memory for tensor '%s'", c->what, name);
		return;
	}
	c->m->nt++;
	const unsigned char *src = c->data + (size_t)b;
	for (size_t k = 0; k < n; k++) {
		float v;
		if (esz == 4) {
			memcpy(&v, src + 4 * k, 4);
		} else {
			uint16_t h;
			memcpy(&h, src + 2 * k, 2);
			v = half_to_float(h);
		}
		if (!isfinite(v)) {
			c->err = lmd_seterr(LMD_ERR_FORMAT, "%s: tensor '%s' element %zu is %s", c->what, name, k,
			                    isnan(v) ? "NaN" : "infinite");
			return;
		}
		T->data[k] = v;
	}
}

static void count_one(void *ctx, const char *name, int nd, const int *sh)
{
	(*(int *)ctx)++;
}

/* No two tensors' byte ranges may overlap (a lying header could alias them). */
static int cmp_range(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static lmd_err check_overlap(const cJSON *hdr, const char *what)
{
	int n = cJSON_GetArraySize(hdr), k = 0;
	double *r = calloc((size_t)n + 1, 2 * sizeof(double));
	if (!r)
		return lmd_seterr(LMD_ERR_NOMEM, "%s: out of memory", what);
	const cJSON *t;
	cJSON_ArrayForEach(t, hdr) {
		const cJSON *of = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
		if (!strcmp(t->string, "__metadata__") || !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
			continue;
		r[2 * k] = cJSON_GetArrayItem(of, 0)->valuedouble;
		r[2 * k + 1] = cJSON_GetArrayItem(of, 1)->valuedouble;
		k++;
	}
	qsort(r, (size_t)k, 2 * sizeof(double), cmp_range);
	for (int i = 1; i < k; i++)
		if (r[2 * i] < r[2 * i - 1]) {
			double at = r[2 * i];
			free(r);
			return lmd_seterr(LMD_ERR_FORMAT, "%s: tensors overlap in the data block (at byte %.0f)", what, at);
		}
	free(r);
	return LMD_OK;
}

lmd_err lmd_model_parse(const unsigned char *buf, size_t len, const char *what, lmd_model **out)
{
	*out = NULL;
	if (len < 8)
		return lmd_seterr(LMD_ERR_FORMAT, "%s: file is %zu bytes, too short for a safetensors header", what, len);
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | buf[i];
	if (hl < 2 || hl > MAX_HEADER || hl > len - 8)
		return lmd_seterr(LMD_ERR_FORMAT, "%s: header length %llu is impossible for a %zu-byte file (truncated or not safetensors)",
		                  what, (unsigned long long)hl, len);
	const char *end = NULL;
	cJSON *hdr = cJSON_ParseWithLengthOpts((const char *)buf + 8, (size_t)hl, &end, 0);
	if (!hdr || !cJSON_IsObject(hdr)) {
		size_t at = end ? (size_t)(end - (const char *)buf - 8) : 0;
		cJSON_Delete(hdr);
		return lmd_seterr(LMD_ERR_FORMAT, "%s: header is not a JSON object (error near byte %zu of the header)", what, at);
	}
	lmd_model *m = calloc(1, sizeof *m);
	lmd_err e = LMD_OK;
	if (!m) {
		cJSON_Delete(hdr);
		return lmd_seterr(LMD_ERR_NOMEM, "%s: out of memory", what);
	}
	if ((e = parse_meta(cJSON_GetObjectItemCaseSensitive(hdr, "__metadata__"), what, m)))
		goto fail;
	int need = 0;
	lmd_arch_walk(&m->info, count_one, &need);
	m->t = calloc((size_t)need, sizeof *m->t);
	if (!m->t) {
		e = lmd_seterr(LMD_ERR_NOMEM, "%s: out of memory", what);
		goto fail;
	}
	load_ctx c = { m, hdr, buf + 8 + hl, len - 8 - (size_t)hl, what, LMD_OK, 0 };
	lmd_arch_walk(&m->info, load_one, &c);
	if ((e = c.err))
		goto fail;
	/* extra tensors: anything in the header the architecture did not ask for */
	const cJSON *t;
	cJSON_ArrayForEach(t, hdr) {
		if (!strcmp(t->string, "__metadata__"))
			continue;
		if (!lmd_model_tensor(m, "%s", t->string)) {
			e = lmd_seterr(LMD_ERR_FORMAT, "%s: unexpected tensor '%s' (not part of the architecture in __metadata__)",
			               what, t->string);
			goto fail;
		}
	}
	if ((e = check_overlap(hdr, what)))
		goto fail;
	long long np = 0;
	for (int i = 0; i < m->nt; i++)
		np += (long long)m->t[i].n;
	m->info.n_params = np;
	cJSON_Delete(hdr);
	*out = m;
	return LMD_OK;
fail:
	cJSON_Delete(hdr);
	lmd_model_destroy(&m);
	return e;
}

lmd_err lmd_model_load(const char *path, lmd_model **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lmd_seterr(LMD_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return lmd_seterr(LMD_ERR_IO, "%s: not a regular file", path);
	}
	size_t len = (size_t)st.st_size;
	if (len == 0) {
		close(fd);
		return lmd_seterr(LMD_ERR_FORMAT, "%s: file is empty", path);
	}
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return lmd_seterr(LMD_ERR_IO, "%s: mmap: %s", path, strerror(errno));
	lmd_err e = lmd_model_parse(map, len, path, out);
	munmap(map, len);
	return e;
}

void lmd_model_destroy(lmd_model **pm)
{
	lmd_model *m = *pm;
	if (!m)
		return;
	for (int i = 0; i < m->nt; i++)
		free(m->t[i].data);
	free(m->t);
	free(m->abar);
	free(m->training);
	free(m);
	*pm = NULL;
}

const lmd_model_info *lmd_model_get_info(const lmd_model *m)
{
	return &m->info;
}

const lmd_tensor *lmd_model_tensor(const lmd_model *m, const char *fmt, ...)
{
	char name[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	for (int i = 0; i < m->nt; i++)
		if (!strcmp(m->t[i].name, name))
			return &m->t[i];
	return NULL;
}

double lmd_model_alpha_bar(const lmd_model *m, int t)
{
	if (t < 0)
		return 1.0;
	if (t >= m->info.timesteps)
		t = m->info.timesteps - 1;
	return m->abar[t];
}

/* FLOPs (2 x multiply-adds) of the convolutions and attention at h x w (padded). */
double lmd_model_flops(const lmd_model *m, int h, int w)
{
	/* Walk the same structure as unet.c: conv FLOPs at each level's size. */
	const lmd_model_info *a = &m->info;
	int L = a->levels, ch = a->base_channels, mult = 1 << (L - 1);
	int H = (h + mult - 1) / mult * mult, W = (w + mult - 1) / mult * mult;
	double f = 0;
	int skip[128], ns = 0;
#define CONV(ci, co, k, hw) (f += 2.0 * (ci) * (co) * (k) * (k) * (double)(hw))
#define RES(ci, co, hw) do { CONV(ci, co, 3, hw); CONV(co, co, 3, hw); if ((ci) != (co)) CONV(ci, co, 1, hw); } while (0)
#define ATT(c, hw) do { CONV(c, 4 * (c), 1, hw); f += 4.0 * (c) * (double)(hw) * (double)(hw); } while (0)
	double hw = (double)H * W;
	CONV(a->channels * (1 + a->cond_frames), ch, 3, hw);
	skip[ns++] = ch;
	int cin = ch;
	for (int i = 0; i < L; i++) {
		int cout = ch * a->ch_mult[i];
		for (int j = 0; j < a->num_res_blocks; j++) {
			RES(cin, cout, hw);
			cin = cout;
			if (a->attn_levels & (1u << i))
				ATT(cin, hw);
			skip[ns++] = cin;
		}
		if (i != L - 1) {
			hw /= 4;
			CONV(cin, cin, 3, hw);
			skip[ns++] = cin;
		}
	}
	RES(cin, cin, hw);
	ATT(cin, hw);
	RES(cin, cin, hw);
	for (int i = L - 1; i >= 0; i--) {
		int cout = ch * a->ch_mult[i];
		for (int j = 0; j <= a->num_res_blocks; j++) {
			int cat = cin + skip[--ns]; /* RES evaluates its arguments more than once */
			RES(cat, cout, hw);
			cin = cout;
			if (a->attn_levels & (1u << i))
				ATT(cin, hw);
		}
		if (i != 0) {
			hw *= 4;
			CONV(cin, cin, 3, hw);
		}
	}
	CONV(cin, a->channels, 3, hw);
#undef CONV
#undef RES
#undef ATT
	return f;
}
