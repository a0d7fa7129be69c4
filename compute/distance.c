/*
 * distance.c — MSE/SSIM distance maps, pooling and aggregation (see distance.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "distance.h"

#define SSIM_R 5
#define SSIM_SIGMA 1.5

/* Separable Gaussian blur with border renormalisation: out = G*in / G*1. */
static void blur(const float *in, float *tmp, float *out, int h, int w, const float *g)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double s = 0, n = 0;
			for (int d = -SSIM_R; d <= SSIM_R; d++) {
				int xx = x + d;
				if (xx < 0 || xx >= w)
					continue;
				s += g[d + SSIM_R] * in[(size_t)y * w + xx];
				n += g[d + SSIM_R];
			}
			tmp[(size_t)y * w + x] = (float)(s / n);
		}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double s = 0, n = 0;
			for (int d = -SSIM_R; d <= SSIM_R; d++) {
				int yy = y + d;
				if (yy < 0 || yy >= h)
					continue;
				s += g[d + SSIM_R] * tmp[(size_t)yy * w + x];
				n += g[d + SSIM_R];
			}
			out[(size_t)y * w + x] = (float)(s / n);
		}
}

static void ssim_map(const float *x, const float *r, int h, int w, float *out, int accumulate, float scale)
{
	size_t n = (size_t)h * w;
	float g[2 * SSIM_R + 1];
	for (int d = -SSIM_R; d <= SSIM_R; d++)
		g[d + SSIM_R] = (float)exp(-(double)d * d / (2 * SSIM_SIGMA * SSIM_SIGMA));
	float *buf = malloc(sizeof(float) * n * 7);
	if (!buf)
		abort();
	float *mx = buf, *mr = buf + n, *sxx = buf + 2 * n, *srr = buf + 3 * n, *sxr = buf + 4 * n;
	float *tmp = buf + 5 * n, *prod = buf + 6 * n;
	blur(x, tmp, mx, h, w, g);
	blur(r, tmp, mr, h, w, g);
	for (size_t i = 0; i < n; i++)
		prod[i] = x[i] * x[i];
	blur(prod, tmp, sxx, h, w, g);
	for (size_t i = 0; i < n; i++)
		prod[i] = r[i] * r[i];
	blur(prod, tmp, srr, h, w, g);
	for (size_t i = 0; i < n; i++)
		prod[i] = x[i] * r[i];
	blur(prod, tmp, sxr, h, w, g);
	const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
	for (size_t i = 0; i < n; i++) {
		double ux = mx[i], ur = mr[i];
		double vx = sxx[i] - ux * ux, vr = srr[i] - ur * ur, cxr = sxr[i] - ux * ur;
		double s = ((2 * ux * ur + C1) * (2 * cxr + C2)) / ((ux * ux + ur * ur + C1) * (vx + vr + C2));
		float d = (float)(1.0 - s) * scale;
		out[i] = accumulate ? out[i] + d : d;
	}
	free(buf);
}

void lmd_dist_map(lmd_dist_kind kind, const float *x, const float *r, int c, int h, int w, float *out)
{
	size_t n = (size_t)h * w;
	if (kind == LMD_DIST_SSIM) {
		for (int ch = 0; ch < c; ch++)
			ssim_map(x + ch * n, r + ch * n, h, w, out, ch > 0, 1.0f / (float)c);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (int ch = 0; ch < c; ch++) {
			double d = (double)x[ch * n + i] - r[ch * n + i];
			s += d * d;
		}
		out[i] = (float)(s / c);
	}
}

float lmd_pool(lmd_pool_kind kind, int k, const float *map, const float *wgt, int h, int w)
{
	if (kind == LMD_POOL_MEAN || k <= 1) {
		double s = 0, n = 0;
		for (size_t i = 0; i < (size_t)h * w; i++)
			if (wgt[i] > 0.5f) {
				s += map[i];
				n += 1;
			}
		return n > 0 ? (float)(s / n) : 0.0f;
	}
	/* integral images of map*w and w; windows with at least a quarter inpainted */
	size_t W1 = (size_t)w + 1;
	double *I = calloc((size_t)(h + 1) * W1 * 2, sizeof(double));
	if (!I)
		abort();
	double *J = I + (size_t)(h + 1) * W1;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double wv = wgt[(size_t)y * w + x] > 0.5f, v = wv * map[(size_t)y * w + x];
			size_t a = (size_t)(y + 1) * W1 + x + 1;
			I[a] = v + I[a - 1] + I[a - W1] - I[a - W1 - 1];
			J[a] = wv + J[a - 1] + J[a - W1] - J[a - W1 - 1];
		}
	double best = 0;
	int r = k / 2;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int y0 = y - r < 0 ? 0 : y - r, y1 = y + r + 1 > h ? h : y + r + 1;
			int x0 = x - r < 0 ? 0 : x - r, x1 = x + r + 1 > w ? w : x + r + 1;
			size_t a = (size_t)y1 * W1 + x1, b = (size_t)y0 * W1 + x1, c = (size_t)y1 * W1 + x0, d = (size_t)y0 * W1 + x0;
			double cnt = J[a] - J[b] - J[c] + J[d];
			if (cnt * 4 < (double)(y1 - y0) * (x1 - x0) || cnt <= 0)
				continue;
			double avg = (I[a] - I[b] - I[c] + I[d]) / cnt;
			if (avg > best)
				best = avg;
		}
	free(I);
	return (float)best;
}

static int cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

float lmd_aggregate(lmd_agg_kind kind, float *v, int n)
{
	if (n <= 0)
		return 0.0f;
	if (kind == LMD_AGG_MEAN) {
		double s = 0;
		for (int i = 0; i < n; i++)
			s += v[i];
		return (float)(s / n);
	}
	if (kind == LMD_AGG_MIN) {
		float m = v[0];
		for (int i = 1; i < n; i++)
			m = v[i] < m ? v[i] : m;
		return m;
	}
	qsort(v, (size_t)n, sizeof *v, cmpf);
	return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}
