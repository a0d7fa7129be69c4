/*
 * eval_data.c — idx reader (zlib), the trainer's bilinear resize and the
 * frame-label CSV reader for `lmdd eval` (see eval_data.h for the facts).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "eval_data.h"

static int gz_full(gzFile f, void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
		int r = gzread(f, p, chunk);
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int eval_idx_read(const char *path, long first, long count, eval_idx *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	gzFile f = gzopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open (%s)", path, errno ? strerror(errno) : "zlib error");
		return -1;
	}
	unsigned char head[16];
	int rc = -1;
	if (gz_full(f, head, 4)) {
		snprintf(err, errlen, "%s: not an idx file (shorter than its 4-byte magic)", path);
		goto out;
	}
	if (head[0] || head[1] || head[2] != 0x08 || (head[3] != 1 && head[3] != 3)) {
		snprintf(err, errlen,
		         "%s: not an idx ubyte file (bad magic %02x %02x %02x %02x; expected 00 00 08 01|03)",
		         path, head[0], head[1], head[2], head[3]);
		goto out;
	}
	int dims = head[3];
	if (gz_full(f, head + 4, 4 * (size_t)dims)) {
		snprintf(err, errlen, "%s: truncated idx header", path);
		goto out;
	}
	uint32_t d[3] = { 0, 1, 1 };
	for (int k = 0; k < dims; k++)
		d[k] = (uint32_t)head[4 + 4 * k] << 24 | (uint32_t)head[5 + 4 * k] << 16 |
		       (uint32_t)head[6 + 4 * k] << 8 | head[7 + 4 * k];
	if (d[0] > (1u << 28) || d[1] > 4096 || d[2] > 4096 || !d[1] || !d[2]) {
		snprintf(err, errlen, "%s: implausible idx dimensions %u x %u x %u", path, d[0], d[1], d[2]);
		goto out;
	}
	if (first < 0 || first > (long)d[0] || (count >= 0 && first + count > (long)d[0])) {
		snprintf(err, errlen, "%s: items %ld..%ld requested, the file has %u", path, first,
		         count >= 0 ? first + count - 1 : (long)d[0] - 1, d[0]);
		goto out;
	}
	long n = count >= 0 ? count : (long)d[0] - first;
	size_t item = (size_t)d[1] * d[2];
	if (first && gzseek(f, (z_off_t)(4 + 4 * dims + (size_t)first * item), SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: truncated idx file (cannot reach item %ld)", path, first);
		goto out;
	}
	out->data = malloc(item * (size_t)(n ? n : 1));
	if (!out->data) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (n && gz_full(f, out->data, item * (size_t)n)) {
		snprintf(err, errlen, "%s: truncated idx file (%u items declared, fewer stored)", path, d[0]);
		free(out->data);
		out->data = NULL;
		goto out;
	}
	out->n = (int)n;
	out->h = (int)d[1];
	out->w = (int)d[2];
	out->dims = dims;
	rc = 0;
out:
	gzclose(f);
	return rc;
}

void eval_idx_free(eval_idx *x)
{
	free(x->data);
	memset(x, 0, sizeof *x);
}

/* torch's compute_indices_weights_linear, align_corners=False, float math */
static void lin_weights(int in, int out, int *i0, int *i1, float *l0, float *l1)
{
	float scale = (float)in / (float)out;
	for (int o = 0; o < out; o++) {
		float real = scale * ((float)o + 0.5f) - 0.5f;
		if (real < 0)
			real = 0;
		int k = (int)floorf(real);
		float lam = real - (float)k;
		lam = lam < 0 ? 0 : lam > 1 ? 1 : lam;
		if (k > in - 1)
			k = in - 1;
		i0[o] = k;
		i1[o] = k < in - 1 ? k + 1 : k;
		l1[o] = lam;
		l0[o] = 1.0f - lam;
	}
}

int eval_resize_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw)
{
	if (dh < sh || dw < sw || dh > 4096 || dw > 4096)
		return -1;
	int y0[4096], y1[4096], x0[4096], x1[4096];
	float wy0[4096], wy1[4096], wx0[4096], wx1[4096];
	lin_weights(sh, dh, y0, y1, wy0, wy1);
	lin_weights(sw, dw, x0, x1, wx0, wx1);
	for (int y = 0; y < dh; y++)
		for (int x = 0; x < dw; x++) {
			const uint8_t *r0 = src + (size_t)y0[y] * sw, *r1 = src + (size_t)y1[y] * sw;
			/* innermost (width) first, then height, as torch's Interpolate<2> */
			float t0 = (float)r0[x0[x]] * wx0[x];
			t0 += (float)r0[x1[x]] * wx1[x];
			float t1 = (float)r1[x0[x]] * wx0[x];
			t1 += (float)r1[x1[x]] * wx1[x];
			float v = t0 * wy0[y];
			v += t1 * wy1[y];
			v = rintf(v); /* round half to even, like torch.round */
			dst[(size_t)y * dw + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	return 0;
}

int eval_labels_read(const char *path, eval_labels *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(errno));
		return -1;
	}
	char line[512];
	int lineno = 0, rc = -1;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strcspn(line, "\r\n");
		line[len] = 0;
		if (lineno == 1 || !len)
			continue; /* header */
		char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (!c2 || (size_t)(c1 - line) >= sizeof out->clip[0] || c1 == line) {
			snprintf(err, errlen, "%s:%d: expected clip,frame,anomalous", path, lineno);
			goto out;
		}
		char *e1, *e2;
		long fr = strtol(c1 + 1, &e1, 10), an = strtol(c2 + 1, &e2, 10);
		if (e1 != c2 || e2 == c2 + 1 || *e2 || fr < 0 || fr > 10000000 || (an != 0 && an != 1)) {
			snprintf(err, errlen, "%s:%d: bad frame number or label (expected integer frame, 0 or 1)",
			         path, lineno);
			goto out;
		}
		*c1 = 0;
		int k = 0;
		while (k < out->nclips && strcmp(out->clip[k], line))
			k++;
		if (k == out->nclips) {
			if (k == EVAL_MAX_CLIPS) {
				snprintf(err, errlen, "%s:%d: more than %d clips", path, lineno, EVAL_MAX_CLIPS);
				goto out;
			}
			memcpy(out->clip[k], line, (size_t)(c1 - line) + 1);
			out->nclips++;
		}
		if (fr >= out->frames[k]) {
			size_t cap = (size_t)fr + 1;
			unsigned char *l = realloc(out->label[k], cap);
			if (!l) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			memset(l + out->frames[k], 255, cap - (size_t)out->frames[k]);
			out->label[k] = l;
			out->frames[k] = (int)cap;
		}
		out->label[k][fr] = (unsigned char)an;
	}
	if (!out->nclips) {
		snprintf(err, errlen, "%s: no labelled frames", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	if (rc)
		eval_labels_free(out);
	return rc;
}

void eval_labels_free(eval_labels *l)
{
	for (int k = 0; k < EVAL_MAX_CLIPS; k++)
		free(l->label[k]);
	memset(l, 0, sizeof *l);
}
