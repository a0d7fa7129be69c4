/*
 * engine.c — the public engine API (lmd.h): parameters, backend choice, and
 * the LMD loop that runs Lift/Map on a backend and Detect on the host.
 *
 * Facts behind the design:
 *  - All attempts of all images form one batch of B = n x reps images, so
 *    the device sees one large batch per network evaluation.
 *  - Frames are padded by edge replication to multiples of 2^(levels-1);
 *    padding is always "known" (never inpainted, never scored).
 *  - Noise draws use one Philox stream per draw, numbered in the order the
 *    loop makes them (init = 0, then each replace / ddim / renoise draw);
 *    within a draw, every image gets the same noise (that of its attempts,
 *    counters 0 .. reps x C x H x W), and masks depend on the attempt only,
 *    so a frame scores the same alone or in any batch, at any position
 *    (the daemon batches whatever frames of its streams are ready).
 *    train/lmd_ref.py numbers them the same way.
 *  - Buffers are sized per (B, H, W, steps) and kept until those change, so
 *    a daemon scoring same-size batches allocates nothing per call.
 *  - The whole loop is recorded before the single download, so on Vulkan it
 *    is one submit.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "distance.h"
#include "err.h"
#include "model.h"
#include "sampler.h"
#include "unet.h"

struct lmd_engine {
	const lmd_model *m;
	lmd_be *be;
	lmd_unet *u;
	/* plan */
	int B, H, W, steps, t0;
	lmd_buf *x0, *mask, *x, *eps, *z, *xin;
	float *hx0, *hmask, *hrec, *hmap, *hw, *htmp;
	int *tau;
	lmd_move *mv;
	int nmv;
};

void lmd_params_default(lmd_params *p)
{
	memset(p, 0, sizeof *p);
	p->steps = 10;
	p->reps = 2;
	p->t0 = -1; /* = T-1 */
	p->eta = 0.0f;
	p->mask = LMD_MASK_CHECKERBOARD;
	p->mask_blocks = 8;
	p->mask_frac = 0.25f;
	p->distance = LMD_DIST_MSE;
	p->pool = LMD_POOL_MEAN;
	p->pool_size = 9;
	p->agg = LMD_AGG_MEDIAN;
	p->seed = 0;
}

lmd_err lmd_params_set_mask(lmd_params *p, const char *spec)
{
	const char *c = strchr(spec, ':');
	size_t kl = c ? (size_t)(c - spec) : strlen(spec);
	char *end;
	if (kl == 12 && !strncmp(spec, "checkerboard", kl)) {
		long b = c ? strtol(c + 1, &end, 10) : 8;
		if (c && (end == c + 1 || *end || b < 2 || b > 256))
			return lmd_seterr(LMD_ERR_ARG, "mask '%s': checkerboard blocks must be an integer in [2, 256]", spec);
		p->mask = LMD_MASK_CHECKERBOARD;
		p->mask_blocks = (int)b;
		return LMD_OK;
	}
	lmd_mask_kind k;
	if (kl == 7 && !strncmp(spec, "patches", kl))
		k = LMD_MASK_PATCHES;
	else if ((kl == 6 && !strncmp(spec, "center", kl)) || (kl == 6 && !strncmp(spec, "centre", kl)))
		k = LMD_MASK_CENTER;
	else
		return lmd_seterr(LMD_ERR_ARG, "mask '%s': expected checkerboard[:B], patches[:FRAC] or center[:FRAC]", spec);
	double f = c ? strtod(c + 1, &end) : 0.25;
	if (c && (end == c + 1 || *end || !(f > 0 && f < 1)))
		return lmd_seterr(LMD_ERR_ARG, "mask '%s': the fraction must be in (0, 1)", spec);
	p->mask = k;
	p->mask_frac = (float)f;
	return LMD_OK;
}

static lmd_err set_int(const char *key, const char *val, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < lo || v > hi)
		return lmd_seterr(LMD_ERR_ARG, "%s = '%s': expected an integer in [%ld, %ld]", key, val, lo, hi);
	*out = v;
	return LMD_OK;
}

lmd_err lmd_params_set(lmd_params *p, const char *key, const char *val)
{
	long v;
	lmd_err e;
	if (!strcmp(key, "mask"))
		return lmd_params_set_mask(p, val);
	if (!strcmp(key, "distance")) {
		if (!strcmp(val, "mse"))
			p->distance = LMD_DIST_MSE;
		else if (!strcmp(val, "ssim"))
			p->distance = LMD_DIST_SSIM;
		else
			return lmd_seterr(LMD_ERR_ARG, "distance = '%s': expected mse or ssim", val);
		return LMD_OK;
	}
	if (!strcmp(key, "agg")) {
		if (!strcmp(val, "median"))
			p->agg = LMD_AGG_MEDIAN;
		else if (!strcmp(val, "mean"))
			p->agg = LMD_AGG_MEAN;
		else if (!strcmp(val, "min"))
			p->agg = LMD_AGG_MIN;
		else
			return lmd_seterr(LMD_ERR_ARG, "agg = '%s': expected median, mean or min", val);
		return LMD_OK;
	}
	if (!strcmp(key, "pool")) {
		if (!strcmp(val, "mean")) {
			p->pool = LMD_POOL_MEAN;
			return LMD_OK;
		}
		if (strncmp(val, "max", 3) || (val[3] && val[3] != ':'))
			return lmd_seterr(LMD_ERR_ARG, "pool = '%s': expected mean or max[:K]", val);
		p->pool = LMD_POOL_MAX;
		if (val[3] && (e = set_int("pool size", val + 4, 1, 255, &v)))
			return e;
		if (val[3])
			p->pool_size = (int)v;
		return LMD_OK;
	}
	if (!strcmp(key, "t0") && !strcmp(val, "max")) {
		p->t0 = -1; /* T-1: from pure noise, whatever the model's T */
		return LMD_OK;
	}
	if (!strcmp(key, "eta")) {
		char *end;
		double d = strtod(val, &end);
		if (end == val || *end || !(d >= 0 && d <= 1))
			return lmd_seterr(LMD_ERR_ARG, "eta = '%s': expected a number in [0, 1]", val);
		p->eta = (float)d;
		return LMD_OK;
	}
	if (!strcmp(key, "seed")) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(val, &end, 0);
		if (errno || end == val || *end || val[0] == '-')
			return lmd_seterr(LMD_ERR_ARG, "seed = '%s': expected a non-negative integer", val);
		p->seed = s;
		return LMD_OK;
	}
	static const struct { const char *k; long lo, hi; size_t off; } ints[] = {
		{ "steps", 1, 1000, offsetof(lmd_params, steps) },
		{ "reps", 1, 64, offsetof(lmd_params, reps) },
		{ "t0", -1, 100000, offsetof(lmd_params, t0) },
		{ "jump", 0, 1000, offsetof(lmd_params, jump) },
		{ "resample", 0, 20, offsetof(lmd_params, resample) },
	};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		if (!strcmp(key, ints[i].k)) {
			if ((e = set_int(key, val, ints[i].lo, ints[i].hi, &v)))
				return e;
			*(int *)((char *)p + ints[i].off) = (int)v;
			return LMD_OK;
		}
	return lmd_seterr(LMD_ERR_ARG, "unknown sampler parameter '%s'", key);
}

int lmd_params_nfe(const lmd_params *p)
{
	int down = 0, n = lmd_sampler_moves(p, NULL, 0);
	lmd_move *mv = malloc(sizeof *mv * (size_t)(n ? n : 1));
	if (!mv)
		return -1;
	lmd_sampler_moves(p, mv, n);
	for (int i = 0; i < n; i++)
		down += mv[i].down;
	free(mv);
	return down * p->reps;
}

lmd_err lmd_params_check(const lmd_params *p, const lmd_model *m)
{
	int T = m->info.timesteps, t0 = p->t0 < 0 ? T - 1 : p->t0;
	if (t0 < 1 || t0 > T - 1)
		return lmd_seterr(LMD_ERR_ARG, "t0 = %d: must be in [1, %d] (or -1 for T-1)", p->t0, T - 1);
	if (p->steps < 1 || p->steps > t0 + 1)
		return lmd_seterr(LMD_ERR_ARG, "steps = %d: must be in [1, %d] for t0 = %d", p->steps, t0 + 1, t0);
	if (p->reps < 1 || p->reps > 64)
		return lmd_seterr(LMD_ERR_ARG, "reps = %d: must be in [1, 64]", p->reps);
	if (!(p->eta >= 0 && p->eta <= 1))
		return lmd_seterr(LMD_ERR_ARG, "eta = %g: must be in [0, 1]", p->eta);
	if (p->mask == LMD_MASK_CHECKERBOARD && (p->mask_blocks < 2 || p->mask_blocks > 256))
		return lmd_seterr(LMD_ERR_ARG, "mask blocks = %d: must be in [2, 256]", p->mask_blocks);
	if (p->mask != LMD_MASK_CHECKERBOARD && !(p->mask_frac > 0 && p->mask_frac < 1))
		return lmd_seterr(LMD_ERR_ARG, "mask fraction = %g: must be in (0, 1)", p->mask_frac);
	if (p->jump < 0 || p->resample < 0 || (p->jump > 0 && p->resample > 1 && p->jump >= p->steps))
		return lmd_seterr(LMD_ERR_ARG, "resampling jump = %d, repeats = %d: the jump must be shorter than steps (%d)",
		                  p->jump, p->resample, p->steps);
	if (p->resample > 20)
		return lmd_seterr(LMD_ERR_ARG, "resample = %d: at most 20", p->resample);
	if (p->pool == LMD_POOL_MAX && (p->pool_size < 1 || p->pool_size > 255))
		return lmd_seterr(LMD_ERR_ARG, "pool size = %d: must be in [1, 255]", p->pool_size);
	if ((unsigned)p->distance > LMD_DIST_SSIM || (unsigned)p->agg > LMD_AGG_MIN ||
	    (unsigned)p->pool > LMD_POOL_MAX || (unsigned)p->mask > LMD_MASK_CENTER)
		return lmd_seterr(LMD_ERR_ARG, "unknown distance/aggregation/pooling/mask kind");
	return LMD_OK;
}

lmd_err lmd_precision_parse(const char *s, lmd_precision *out)
{
	if (s && strcmp(s, "fp32") == 0)
		*out = LMD_PREC_FP32;
	else if (s && strcmp(s, "reduced") == 0)
		*out = LMD_PREC_REDUCED;
	else
		return lmd_seterr(LMD_ERR_ARG, "precision \"%s\": expected fp32 or reduced", s ? s : "");
	return LMD_OK;
}

lmd_err lmd_engine_new(const lmd_model *m, lmd_backend_kind kind, int device,
                       const char *device_name, lmd_engine **out)
{
	return lmd_engine_new_prec(m, kind, device, device_name, LMD_PREC_FP32, out);
}

lmd_err lmd_engine_new_prec(const lmd_model *m, lmd_backend_kind kind, int device,
                            const char *device_name, lmd_precision prec, lmd_engine **out)
{
	*out = NULL;
	lmd_engine *e = calloc(1, sizeof *e);
	if (!e)
		return lmd_seterr(LMD_ERR_NOMEM, "engine: out of memory");
	e->m = m;
	lmd_err r = LMD_ERR_DEVICE;
	if (kind != LMD_BACKEND_CPU) {
		r = lmd_vk_backend_new_prec(device, device_name, prec == LMD_PREC_REDUCED, &e->be);
		int asked = device >= 0 || (device_name && *device_name);
		if (kind == LMD_BACKEND_AUTO && !r && e->be->on_cpu && !asked) {
			e->be->ops->destroy(e->be); /* a CPU rasteriser: the C backend is faster */
			e->be = NULL;
			r = LMD_ERR_DEVICE;
		}
	}
	if (kind == LMD_BACKEND_CPU || (kind == LMD_BACKEND_AUTO && r))
		r = lmd_cpu_backend_new_prec(prec == LMD_PREC_REDUCED, &e->be);
	if (r || (r = lmd_unet_new(m, e->be, &e->u))) {
		lmd_engine_destroy(&e);
		return r;
	}
	*out = e;
	return LMD_OK;
}

static void unplan(lmd_engine *e)
{
	lmd_buf **b[] = { &e->x0, &e->mask, &e->x, &e->eps, &e->z, &e->xin };
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
		if (e->be)
			e->be->ops->free(e->be, *b[i]);
		*b[i] = NULL;
	}
	float **h[] = { &e->hx0, &e->hmask, &e->hrec, &e->hmap, &e->hw, &e->htmp };
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
		free(*h[i]);
		*h[i] = NULL;
	}
	free(e->tau);
	free(e->mv);
	e->tau = NULL;
	e->mv = NULL;
	e->B = 0;
}

void lmd_engine_destroy(lmd_engine **pe)
{
	lmd_engine *e = *pe;
	if (!e)
		return;
	unplan(e);
	lmd_unet_destroy(&e->u);
	if (e->be)
		e->be->ops->destroy(e->be);
	free(e);
	*pe = NULL;
}

const char *lmd_engine_backend(const lmd_engine *e)
{
	return e->be->ops->name;
}

const char *lmd_engine_device(const lmd_engine *e)
{
	return e->be->ops->device(e->be);
}

static lmd_err plan(lmd_engine *e, const lmd_params *p, int B, int H, int W, int t0)
{
	if (e->B == B && e->H == H && e->W == W && e->steps == p->steps && e->t0 == t0 && e->mv) {
		/* moves depend on jump/resample too: recompute (cheap, host only) */
		free(e->mv);
		goto moves;
	}
	unplan(e);
	const lmd_model_info *a = &e->m->info;
	size_t C = (size_t)a->channels, hw = (size_t)H * W, len = (size_t)B * C * hw;
	size_t cin = C * (1 + (size_t)a->cond_frames);
	lmd_be *be = e->be;
	e->tau = malloc(sizeof(int) * (size_t)p->steps);
	e->hx0 = malloc(sizeof(float) * len);
	e->hmask = malloc(sizeof(float) * len);
	e->hrec = malloc(sizeof(float) * len);
	e->hmap = malloc(sizeof(float) * hw);
	e->hw = malloc(sizeof(float) * hw);
	e->htmp = malloc(sizeof(float) * hw * C * 2);
	if (!e->tau || !e->hx0 || !e->hmask || !e->hrec || !e->hmap || !e->hw || !e->htmp)
		goto nomem;
	if (!(e->x0 = be->ops->alloc(be, len)) || !(e->mask = be->ops->alloc(be, len)) ||
	    !(e->x = be->ops->alloc(be, len)) || !(e->eps = be->ops->alloc(be, len)) ||
	    !(e->z = be->ops->alloc(be, len)))
		goto nomem;
	if (a->cond_frames && !(e->xin = be->ops->alloc(be, (size_t)B * cin * hw)))
		goto nomem;
	lmd_params q = *p;
	q.t0 = t0;
	lmd_sampler_steps(&q, e->tau);
	lmd_err r = lmd_unet_plan(e->u, B, H, W, e->tau, p->steps);
	if (r) {
		unplan(e);
		return r;
	}
	e->B = B;
	e->H = H;
	e->W = W;
	e->steps = p->steps;
	e->t0 = t0;
moves:
	e->nmv = lmd_sampler_moves(p, NULL, 0);
	if (!(e->mv = malloc(sizeof *e->mv * (size_t)e->nmv)))
		goto nomem;
	lmd_sampler_moves(p, e->mv, e->nmv);
	return LMD_OK;
nomem:
	unplan(e);
	return lmd_seterr(LMD_ERR_NOMEM, "engine: out of memory for a batch of %d at %d x %d", B, H, W);
}

/* Edge-replicating copy of a c x h x w image into c x H x W, mapped to [-1, 1]. */
static void pad_norm(const float *src, int c, int h, int w, float *dst, int H, int W)
{
	for (int ch = 0; ch < c; ch++)
		for (int y = 0; y < H; y++) {
			int sy = y < h ? y : h - 1;
			for (int x = 0; x < W; x++) {
				int sx = x < w ? x : w - 1;
				float v = src[((size_t)ch * h + sy) * w + sx];
				v = v < 0 ? 0 : v > 1 ? 1 : v;
				dst[((size_t)ch * H + y) * W + x] = 2.0f * v - 1.0f;
			}
		}
}

static double abar_k(const lmd_engine *e, int k)
{
	return k < 0 ? 1.0 : lmd_model_alpha_bar(e->m, e->tau[k]);
}

lmd_err lmd_engine_score(lmd_engine *e, const lmd_params *p, int n, int h, int w,
                         const float *images, const float *cond,
                         float *scores, float *maps, float *recon)
{
	const lmd_model_info *a = &e->m->info;
	lmd_err r;
	if (n < 1 || h < 1 || w < 1 || h > 8192 || w > 8192 || !images || !scores)
		return lmd_seterr(LMD_ERR_ARG, "score: need n >= 1 images of 1..8192 pixels a side (got n=%d, %d x %d)", n, h, w);
	if (a->cond_frames && !cond)
		return lmd_seterr(LMD_ERR_ARG, "score: model '%s' needs %d previous frame(s) per image", a->name, a->cond_frames);
	if ((r = lmd_params_check(p, e->m)))
		return r;
	int mult = 1 << (a->levels - 1), C = a->channels, K = a->cond_frames, R = p->reps, B = n * R;
	int H = (h + mult - 1) / mult * mult, W = (w + mult - 1) / mult * mult;
	int t0 = p->t0 < 0 ? a->timesteps - 1 : p->t0;
	if ((r = plan(e, p, B, H, W, t0)))
		return r;
	const lmd_be_ops *o = e->be->ops;
	lmd_be *be = e->be;
	size_t hw = (size_t)H * W, img = (size_t)C * hw, len = (size_t)B * img, per = (size_t)R * img;

	/* Lift: originals and masks, attempt-major within each image. Masks
	 * depend on the attempt only: built for the first image, copied. */
	for (int rep = 0; rep < R; rep++) {
		float *mk = e->hmask + (size_t)rep * img;
		lmd_sampler_mask(p, rep, h, w, e->hmap);
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				mk[(size_t)y * W + x] = (y < h && x < w) ? e->hmap[(size_t)y * w + x] : 1.0f;
		for (int ch = 1; ch < C; ch++)
			memcpy(mk + (size_t)ch * hw, mk, sizeof(float) * hw);
	}
	for (int i = 0; i < n; i++) {
		pad_norm(images + (size_t)i * C * h * w, C, h, w, e->hx0 + (size_t)i * R * img, H, W);
		for (int rep = 1; rep < R; rep++)
			memcpy(e->hx0 + ((size_t)i * R + rep) * img, e->hx0 + (size_t)i * R * img, sizeof(float) * img);
		if (i > 0)
			memcpy(e->hmask + (size_t)i * per, e->hmask, sizeof(float) * per);
	}
	if ((r = o->upload(be, e->x0, 0, e->hx0, len)) || (r = o->upload(be, e->mask, 0, e->hmask, len)))
		return r;
	if (K) {
		/* cond frames go once into channels C.. of xin; x_t is copied to 0..C-1 per step */
		float *tmp = malloc(sizeof(float) * (size_t)K * img);
		if (!tmp)
			return lmd_seterr(LMD_ERR_NOMEM, "score: out of memory");
		for (int i = 0; i < n; i++) {
			for (int f = 0; f < K; f++)
				pad_norm(cond + ((size_t)i * K + f) * C * h * w, C, h, w, tmp + (size_t)f * img, H, W);
			for (int rep = 0; rep < R; rep++)
				if ((r = o->upload(be, e->xin, ((size_t)(i * R + rep) * (1 + K) + 1) * img, tmp, (size_t)K * img))) {
					free(tmp);
					return r;
				}
		}
		free(tmp);
	}

	/* Map: noise the originals to t0, then walk the schedule */
	uint32_t stream = 0;
	double ab = abar_k(e, p->steps - 1);
	o->copy_chan(be, e->x, C, 0, e->x0, C, 0, B, C, (int)hw);
	o->noise(be, e->z, len, per, p->seed, stream++);
	o->axpby(be, e->x, e->z, (float)sqrt(ab), (float)sqrt(1 - ab), len);
	for (int i = 0; i < e->nmv; i++) {
		int k = e->mv[i].k;
		if (e->mv[i].down) {
			double at = abar_k(e, k), ap = abar_k(e, k - 1);
			o->noise(be, e->z, len, per, p->seed, stream++);
			o->replace(be, e->x, e->x0, e->mask, e->z, (float)sqrt(at), (float)sqrt(1 - at), len);
			if (K) {
				o->copy_chan(be, e->xin, C * (1 + K), 0, e->x, C, 0, B, C, (int)hw);
				lmd_unet_eps(e->u, e->eps, e->xin, k);
			} else {
				lmd_unet_eps(e->u, e->eps, e->x, k);
			}
			double sigma = p->eta * sqrt((1 - ap) / (1 - at)) * sqrt(1 - at / ap);
			double c1 = 1 - ap - sigma * sigma;
			const lmd_buf *zz = NULL;
			if (sigma > 0) {
				o->noise(be, e->z, len, per, p->seed, stream++);
				zz = e->z;
			}
			o->ddim(be, e->x, e->eps, zz, (float)sqrt(at), (float)sqrt(1 - at), (float)sqrt(ap),
			        (float)sqrt(c1 > 0 ? c1 : 0), (float)sigma, len);
		} else {
			double from = abar_k(e, k), to = abar_k(e, k + 1), ratio = to / from;
			o->noise(be, e->z, len, per, p->seed, stream++);
			o->axpby(be, e->x, e->z, (float)sqrt(ratio), (float)sqrt(1 - ratio), len);
		}
	}
	o->replace(be, e->x, e->x0, e->mask, NULL, 1.0f, 0.0f, len);
	if ((r = o->download(be, e->x, 0, e->hrec, len)))
		return r;

	/* Detect: per attempt map and score, then aggregate */
	float *att = malloc(sizeof(float) * (size_t)R);
	float *orig = e->htmp, *rec = e->htmp + (size_t)C * h * w;
	if (!att)
		return lmd_seterr(LMD_ERR_NOMEM, "score: out of memory");
	for (int i = 0; i < n; i++) {
		float *map = maps ? maps + (size_t)i * h * w : NULL;
		if (map)
			memset(map, 0, sizeof(float) * (size_t)h * w);
		float *cnt = e->hw; /* reused: per-pixel number of attempts that inpainted it */
		memset(cnt, 0, sizeof(float) * (size_t)h * w);
		memcpy(orig, images + (size_t)i * C * h * w, sizeof(float) * (size_t)C * h * w);
		for (int rep = 0; rep < R; rep++) {
			const float *xr = e->hrec + ((size_t)i * R + rep) * img;
			const float *mk = e->hmask + ((size_t)i * R + rep) * img;
			for (int ch = 0; ch < C; ch++)
				for (int y = 0; y < h; y++)
					for (int x = 0; x < w; x++) {
						float v = 0.5f * (xr[((size_t)ch * H + y) * W + x] + 1.0f);
						rec[((size_t)ch * h + y) * w + x] = v < 0 ? 0 : v > 1 ? 1 : v;
					}
			if (recon && rep == 0)
				memcpy(recon + (size_t)i * C * h * w, rec, sizeof(float) * (size_t)C * h * w);
			float *dm = e->hmap, *wt = rec; /* rec is free after the map */
			lmd_dist_map(p->distance, orig, rec, C, h, w, dm);
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					wt[(size_t)y * w + x] = 1.0f - mk[(size_t)y * W + x];
			att[rep] = lmd_pool(p->pool, p->pool_size, dm, wt, h, w);
			for (size_t j = 0; j < (size_t)h * w; j++)
				if (wt[j] > 0.5f) {
					cnt[j] += 1;
					if (map)
						map[j] += dm[j];
				}
		}
		if (map)
			for (size_t j = 0; j < (size_t)h * w; j++)
				map[j] = cnt[j] > 0 ? map[j] / cnt[j] : 0.0f;
		scores[i] = lmd_aggregate(p->agg, att, R);
	}
	free(att);
	return LMD_OK;
}
