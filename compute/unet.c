/*
 * unet.c — the ε-prediction U-Net (docs/model-format.md, train/unet.py) as a
 * sequence of backend ops, written once for every backend.
 *
 * Facts behind the design:
 *  - Weights are uploaded once per engine; q, k, v of each attention block
 *    are stacked into one 1x1 conv (3C outputs) so attention costs one conv.
 *  - The time embedding and each residual block's projection of it depend
 *    only on t, so they are computed on the host for every step of the
 *    sampling schedule and uploaded as one table; on the device a block
 *    only adds its row (add_chan). No linear layer runs on the device.
 *  - Activations live in buffers sized once per (batch, H, W): one buffer per
 *    skip connection (the down path writes straight into them) and a fixed
 *    set of scratch buffers, all of the largest size any level needs.
 *  - The residual add of every block is fused into its last conv.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "unet.h"

#define MAX_SKIPS 128
#define MAX_RES 128

typedef struct {
	char prefix[48];
	int cin, cout;
	size_t temb_off; /* offset of this block's row in a step's table */
} resinfo;

typedef struct {
	char prefix[48];
	lmd_buf *w, *b;  /* stacked q,k,v: [3C, C], [3C] */
} attninfo;

struct lmd_unet {
	const lmd_model *m;
	lmd_be *be;
	lmd_buf **w;          /* one per model tensor (m->t[i]) */
	resinfo res[MAX_RES];
	int nres;
	size_t temb_total;    /* floats per step in the table */
	attninfo attn[MAX_RES];
	int nattn;
	/* plan */
	int B, H, W, nsteps;
	lmd_buf *skip[MAX_SKIPS];
	int nskip;
	lmd_buf *A, *Bf, *t1, *t2, *t3, *cat, *qkv, *temb;
};

static lmd_buf *W_(lmd_unet *u, const char *fmt, const char *a, const char *b)
{
	const lmd_tensor *t = lmd_model_tensor(u->m, fmt, a, b);
	return t ? u->w[t - u->m->t] : NULL;
}
#define WT(prefix, suffix) W_(u, "%s.%s", prefix, suffix)

static void collect_res(void *ctx, const char *name, int nd, const int *sh)
{
	lmd_unet *u = ctx;
	size_t l = strlen(name);
	const char *suf = ".temb_proj.weight";
	size_t sl = strlen(suf);
	if (l > sl && !strcmp(name + l - sl, suf) && u->nres < MAX_RES) {
		resinfo *r = &u->res[u->nres++];
		snprintf(r->prefix, sizeof r->prefix, "%.*s", (int)(l - sl), name);
		r->cout = sh[0];
		r->temb_off = u->temb_total;
		u->temb_total += (size_t)sh[0];
	}
	const char *qs = ".q.weight";
	sl = strlen(qs);
	if (l > sl && !strcmp(name + l - sl, qs) && u->nattn < MAX_RES)
		snprintf(u->attn[u->nattn++].prefix, sizeof u->attn[0].prefix, "%.*s", (int)(l - sl), name);
}

lmd_err lmd_unet_new(const lmd_model *m, lmd_be *be, lmd_unet **out)
{
	*out = NULL;
	lmd_unet *u = calloc(1, sizeof *u);
	if (!u)
		return lmd_seterr(LMD_ERR_NOMEM, "unet: out of memory");
	u->m = m;
	u->be = be;
	u->w = calloc((size_t)m->nt, sizeof *u->w);
	if (!u->w)
		goto nomem;
	for (int i = 0; i < m->nt; i++) {
		if (!(u->w[i] = be->ops->alloc(be, m->t[i].n)))
			goto nomem;
		lmd_err e = be->ops->upload(be, u->w[i], 0, m->t[i].data, m->t[i].n);
		if (e) {
			lmd_unet_destroy(&u);
			return e;
		}
	}
	lmd_arch_walk(&m->info, collect_res, u);
	for (int i = 0; i < u->nattn; i++) {
		attninfo *a = &u->attn[i];
		const lmd_tensor *q = lmd_model_tensor(m, "%s.q.weight", a->prefix);
		int c = q->shape[0];
		float *w = malloc(sizeof(float) * 3 * (size_t)c * c), *b = malloc(sizeof(float) * 3 * (size_t)c);
		if (!w || !b) {
			free(w);
			free(b);
			goto nomem;
		}
		static const char *const qkv[] = { "q", "k", "v" };
		for (int j = 0; j < 3; j++) {
			memcpy(w + (size_t)j * c * c, lmd_model_tensor(m, "%s.%s.weight", a->prefix, qkv[j])->data,
			       sizeof(float) * (size_t)c * c);
			memcpy(b + (size_t)j * c, lmd_model_tensor(m, "%s.%s.bias", a->prefix, qkv[j])->data,
			       sizeof(float) * (size_t)c);
		}
		a->w = be->ops->alloc(be, 3 * (size_t)c * c);
		a->b = be->ops->alloc(be, 3 * (size_t)c);
		lmd_err e = LMD_ERR_NOMEM;
		if (a->w && a->b && !(e = be->ops->upload(be, a->w, 0, w, 3 * (size_t)c * c)))
			e = be->ops->upload(be, a->b, 0, b, 3 * (size_t)c);
		free(w);
		free(b);
		if (e) {
			lmd_unet_destroy(&u);
			return e == LMD_ERR_NOMEM ? lmd_seterr(e, "unet: out of device memory") : e;
		}
	}
	*out = u;
	return LMD_OK;
nomem:
	lmd_unet_destroy(&u);
	return lmd_seterr(LMD_ERR_NOMEM, "unet: out of memory uploading weights");
}

static void unplan(lmd_unet *u)
{
	lmd_be *be = u->be;
	for (int i = 0; i < u->nskip; i++)
		be->ops->free(be, u->skip[i]);
	u->nskip = 0;
	lmd_buf **s[] = { &u->A, &u->Bf, &u->t1, &u->t2, &u->t3, &u->cat, &u->qkv, &u->temb };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		be->ops->free(be, *s[i]);
		*s[i] = NULL;
	}
	u->B = 0;
}

void lmd_unet_destroy(lmd_unet **pu)
{
	lmd_unet *u = *pu;
	if (!u)
		return;
	unplan(u);
	if (u->w)
		for (int i = 0; i < u->m->nt; i++)
			u->be->ops->free(u->be, u->w[i]);
	for (int i = 0; i < u->nattn; i++) {
		u->be->ops->free(u->be, u->attn[i].w);
		u->be->ops->free(u->be, u->attn[i].b);
	}
	free(u->w);
	free(u);
	*pu = NULL;
}

static double silu(double x)
{
	return x / (1.0 + exp(-x));
}

void lmd_unet_temb(const lmd_model *m, int t, float *out)
{
	int ch = m->info.base_channels, half = ch / 2, tc = 4 * ch;
	float *s = malloc(sizeof(float) * (size_t)(ch + tc));
	if (!s)
		abort();
	float *h = s + ch;
	/* float32 arithmetic as torch does it, so arguments of sin/cos agree */
	float coef = (float)(-log(10000.0) / (half - 1));
	for (int i = 0; i < half; i++) {
		float arg = (float)t * expf(coef * (float)i);
		s[i] = (float)sin((double)arg);
		s[half + i] = (float)cos((double)arg);
	}
	const lmd_tensor *w0 = lmd_model_tensor(m, "temb.dense.0.weight"), *b0 = lmd_model_tensor(m, "temb.dense.0.bias");
	const lmd_tensor *w1 = lmd_model_tensor(m, "temb.dense.1.weight"), *b1 = lmd_model_tensor(m, "temb.dense.1.bias");
	for (int o = 0; o < tc; o++) {
		double a = b0->data[o];
		for (int i = 0; i < ch; i++)
			a += (double)w0->data[(size_t)o * ch + i] * s[i];
		h[o] = (float)silu(a);
	}
	for (int o = 0; o < tc; o++) {
		double a = b1->data[o];
		for (int i = 0; i < tc; i++)
			a += (double)w1->data[(size_t)o * tc + i] * h[i];
		out[o] = (float)a;
	}
	free(s);
}

/* Largest channels x pixels of any activation, concat and qkv, per image. */
static size_t max_act(const lmd_model_info *a, int H, int W)
{
	int ch = a->base_channels, cin = ch, skip[MAX_SKIPS], ns = 0;
	size_t hw = (size_t)H * W, mx = (size_t)a->channels * (1 + a->cond_frames) * hw;
#define SEE(c) do { size_t v_ = (size_t)(c) * hw; if (v_ > mx) mx = v_; } while (0)
	SEE(ch);
	skip[ns++] = ch;
	for (int i = 0; i < a->levels; i++) {
		int cout = ch * a->ch_mult[i];
		for (int j = 0; j < a->num_res_blocks; j++) {
			SEE(cin); SEE(cout); cin = cout;
			if (a->attn_levels & (1u << i)) SEE(3 * cin);
			skip[ns++] = cin;
		}
		if (i != a->levels - 1) {
			hw /= 4;
			skip[ns++] = cin;
		}
	}
	SEE(3 * cin);
	for (int i = a->levels - 1; i >= 0; i--) {
		int cout = ch * a->ch_mult[i];
		for (int j = 0; j <= a->num_res_blocks; j++) {
			SEE(cin + skip[--ns]); SEE(cout); cin = cout;
			if (a->attn_levels & (1u << i)) SEE(3 * cin);
		}
		if (i != 0) {
			hw *= 4;
			SEE(cin);
		}
	}
#undef SEE
	return mx;
}

lmd_err lmd_unet_plan(lmd_unet *u, int B, int H, int W, const int *steps, int nsteps)
{
	const lmd_model_info *a = &u->m->info;
	lmd_be *be = u->be;
	int mult = 1 << (a->levels - 1);
	if (B < 1 || H < 1 || W < 1 || H % mult || W % mult)
		return lmd_seterr(LMD_ERR_ARG, "unet: %d x %d images: sizes must be multiples of %d", H, W, mult);
	unplan(u);
	int sk[MAX_SKIPS], ns = lmd_arch_skips(a, sk, MAX_SKIPS);
	size_t hw = (size_t)H * W;
	int per = a->num_res_blocks + 1;
	for (int i = 0; i < ns; i++) {
		/* skip 0 is conv_in's output; then per level: nres blocks, and the
		 * downsample, whose output (index per*l) is at the next level */
		size_t lhw = hw >> (2 * (i / per));
		if (!(u->skip[i] = be->ops->alloc(be, (size_t)B * sk[i] * lhw)))
			goto nomem;
		u->nskip++;
	}
	size_t S = (size_t)B * max_act(a, H, W);
	lmd_buf **s[] = { &u->A, &u->Bf, &u->t1, &u->t2, &u->t3, &u->cat, &u->qkv };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (!(*s[i] = be->ops->alloc(be, S)))
			goto nomem;
	/* time-embedding table: per step, every res block's projection */
	size_t tn = (size_t)nsteps * u->temb_total;
	float *tab = malloc(sizeof(float) * (tn ? tn : 1)), *temb = malloc(sizeof(float) * 4 * a->base_channels);
	if (!tab || !temb || !(u->temb = be->ops->alloc(be, tn ? tn : 1))) {
		free(tab);
		free(temb);
		goto nomem;
	}
	int tc = 4 * a->base_channels;
	for (int s2 = 0; s2 < nsteps; s2++) {
		lmd_unet_temb(u->m, steps[s2], temb);
		for (int r = 0; r < u->nres; r++) {
			const lmd_tensor *pw = lmd_model_tensor(u->m, "%s.temb_proj.weight", u->res[r].prefix);
			const lmd_tensor *pb = lmd_model_tensor(u->m, "%s.temb_proj.bias", u->res[r].prefix);
			float *row = tab + (size_t)s2 * u->temb_total + u->res[r].temb_off;
			for (int o = 0; o < u->res[r].cout; o++) {
				double acc = pb->data[o];
				for (int i = 0; i < tc; i++)
					acc += (double)pw->data[(size_t)o * tc + i] * silu(temb[i]);
				row[o] = (float)acc;
			}
		}
	}
	lmd_err e = be->ops->upload(be, u->temb, 0, tab, tn);
	free(tab);
	free(temb);
	if (e) {
		unplan(u);
		return e;
	}
	u->B = B;
	u->H = H;
	u->W = W;
	u->nsteps = nsteps;
	return LMD_OK;
nomem:
	unplan(u);
	return lmd_seterr(LMD_ERR_NOMEM, "unet: out of device memory for batch %d at %d x %d", B, H, W);
}

/* ---- forward ----------------------------------------------------------- */

typedef struct {
	lmd_unet *u;
	const lmd_be_ops *o;
	lmd_be *be;
	int B, step, ri; /* ri: next res block index, in walk order */
} fwd;

static void conv(fwd *f, lmd_buf *y, const lmd_buf *x, const char *prefix, const lmd_buf *r,
                 int cin, int h, int w, int cout, int k, int stride, int up)
{
	lmd_unet *u = f->u;
	f->o->conv2d(f->be, y, cout, 0, x, cin, 0, WT(prefix, "weight"), WT(prefix, "bias"), r,
	             f->B, cin, h, w, cout, k, stride, up);
}

static void resblock(fwd *f, lmd_buf *y, const lmd_buf *x, int cin, int cout, int h, int w)
{
	lmd_unet *u = f->u;
	resinfo *ri = &u->res[f->ri++];
	const char *p = ri->prefix;
	int hw = h * w, G = u->m->info.groups;
	char nm[64];
	f->o->groupnorm(f->be, u->t1, x, WT(p, "norm1.weight"), WT(p, "norm1.bias"), f->B, cin, hw, G, 1e-6f, 1);
	snprintf(nm, sizeof nm, "%s.conv1", p);
	conv(f, u->t2, u->t1, nm, NULL, cin, h, w, cout, 3, 1, 0);
	f->o->add_chan(f->be, u->t2, u->temb, (size_t)f->step * u->temb_total + ri->temb_off, f->B, cout, hw);
	f->o->groupnorm(f->be, u->t1, u->t2, WT(p, "norm2.weight"), WT(p, "norm2.bias"), f->B, cout, hw, G, 1e-6f, 1);
	const lmd_buf *res = x;
	if (cin != cout) {
		snprintf(nm, sizeof nm, "%s.nin_shortcut", p);
		conv(f, u->t3, x, nm, NULL, cin, h, w, cout, 1, 1, 0);
		res = u->t3;
	}
	snprintf(nm, sizeof nm, "%s.conv2", p);
	conv(f, y, u->t1, nm, res, cout, h, w, cout, 3, 1, 0);
}

static void attnblock(fwd *f, lmd_buf *y, const lmd_buf *x, const char *p, int c, int h, int w)
{
	lmd_unet *u = f->u;
	int hw = h * w;
	attninfo *a = NULL;
	for (int i = 0; i < u->nattn; i++)
		if (!strcmp(u->attn[i].prefix, p))
			a = &u->attn[i];
	char nm[64];
	f->o->groupnorm(f->be, u->t1, x, WT(p, "norm.weight"), WT(p, "norm.bias"), f->B, c, hw, u->m->info.groups, 1e-6f, 0);
	f->o->conv2d(f->be, u->qkv, 3 * c, 0, u->t1, c, 0, a->w, a->b, NULL, f->B, c, h, w, 3 * c, 1, 1, 0);
	f->o->attention(f->be, u->t2, u->qkv, f->B, c, hw, (float)(1.0 / sqrt((double)c)));
	snprintf(nm, sizeof nm, "%s.proj_out", p);
	conv(f, y, u->t2, nm, x, c, h, w, c, 1, 1, 0);
}

void lmd_unet_eps(lmd_unet *u, lmd_buf *eps, const lmd_buf *xin, int step_index)
{
	const lmd_model_info *a = &u->m->info;
	fwd F = { u, u->be->ops, u->be, u->B, step_index, 0 }, *f = &F;
	int ch = a->base_channels, h = u->H, w = u->W, ns = 0, skc[MAX_SKIPS];
	char p[48];
	conv(f, u->skip[ns], xin, "conv_in", NULL, a->channels * (1 + a->cond_frames), h, w, ch, 3, 1, 0);
	skc[ns++] = ch;
	int cin = ch;
	for (int i = 0; i < a->levels; i++) {
		int cout = ch * a->ch_mult[i], att = a->attn_levels & (1u << i);
		for (int j = 0; j < a->num_res_blocks; j++) {
			resblock(f, att ? u->A : u->skip[ns], u->skip[ns - 1], cin, cout, h, w);
			cin = cout;
			if (att) {
				snprintf(p, sizeof p, "down.%d.attn.%d", i, j);
				attnblock(f, u->skip[ns], u->A, p, cin, h, w);
			}
			skc[ns++] = cin;
		}
		if (i != a->levels - 1) {
			snprintf(p, sizeof p, "down.%d.downsample.conv", i);
			conv(f, u->skip[ns], u->skip[ns - 1], p, NULL, cin, h, w, cin, 3, 2, 0);
			h /= 2;
			w /= 2;
			skc[ns++] = cin;
		}
	}
	lmd_buf *hb = u->A, *ob = u->Bf, *tmp;
	resblock(f, u->A, u->skip[ns - 1], cin, cin, h, w);
	attnblock(f, u->Bf, u->A, "mid.attn_1", cin, h, w);
	resblock(f, u->A, u->Bf, cin, cin, h, w);
	for (int i = a->levels - 1; i >= 0; i--) {
		int cout = ch * a->ch_mult[i], hw = h * w;
		for (int j = 0; j <= a->num_res_blocks; j++) {
			int sc = skc[--ns];
			f->o->copy_chan(f->be, u->cat, cin + sc, 0, hb, cin, 0, f->B, cin, hw);
			f->o->copy_chan(f->be, u->cat, cin + sc, cin, u->skip[ns], sc, 0, f->B, sc, hw);
			resblock(f, ob, u->cat, cin + sc, cout, h, w);
			cin = cout;
			tmp = hb; hb = ob; ob = tmp;
			if (a->attn_levels & (1u << i)) {
				snprintf(p, sizeof p, "up.%d.attn.%d", i, j);
				attnblock(f, ob, hb, p, cin, h, w);
				tmp = hb; hb = ob; ob = tmp;
			}
		}
		if (i != 0) {
			snprintf(p, sizeof p, "up.%d.upsample.conv", i);
			conv(f, ob, hb, p, NULL, cin, h, w, cin, 3, 1, 1);
			h *= 2;
			w *= 2;
			tmp = hb; hb = ob; ob = tmp;
		}
	}
	f->o->groupnorm(f->be, u->t1, hb, WT("norm_out", "weight"), WT("norm_out", "bias"), f->B, cin, h * w, a->groups, 1e-6f, 1);
	conv(f, eps, u->t1, "conv_out", NULL, cin, h, w, a->channels, 3, 1, 0);
}
