/*
 * test_eval.c — unit tests of `lmdd eval`'s metric code and data readers
 * (eval/eval_metrics.c, eval/eval_data.c) against hand-computed values:
 * AUROC with ties, average precision, FPR at 95% TPR (the >= boundary),
 * ROC points, per-clip min-max, the bootstrap and the paired bootstrap of
 * an AUROC difference (both checked against a naive resample-and-recompute
 * with the same random stream), the idx reader
 * (plain, gzip, subsets, bad magic, truncation), the trainer-exact
 * bilinear resize (reference values from torch F.interpolate) and the
 * frame-label CSV reader.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "eval_data.h"
#include "eval_metrics.h"

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* neg {0.1, 0.4, 0.4, 0.8}, pos {0.4, 0.9, 0.35} — see the hand computation below */
static const float t_s[] = { 0.1f, 0.4f, 0.9f, 0.4f, 0.8f, 0.35f, 0.4f };
static const unsigned char t_l[] = { 0, 1, 1, 0, 0, 1, 0 };

TEST(auroc_ties)
{
	/* pairs: pos .4 -> 1 + .5 + .5 = 2; pos .9 -> 4; pos .35 -> 1; 7 of 12 */
	eval_metrics m;
	REQUIRE(!eval_compute(t_s, t_l, 7, &m), "compute");
	CHECK(near(m.auroc, 7.0 / 12.0, 1e-12), "auroc %.10f, expected 7/12", m.auroc);
	/* all tied: every pair half */
	float s2[] = { 1, 1, 1, 1, 1 };
	unsigned char l2[] = { 0, 1, 0, 1, 1 };
	REQUIRE(!eval_compute(s2, l2, 5, &m), "compute");
	CHECK(near(m.auroc, 0.5, 1e-12), "all tied: auroc %.10f", m.auroc);
	CHECK(near(m.aupr, 0.6, 1e-12), "all tied: AP %.10f, expected P/(P+N) = 0.6", m.aupr);
	CHECK(near(m.fpr95, 1.0, 1e-12), "all tied: fpr95 %.10f", m.fpr95);
	/* reversed separation */
	float s3[] = { 3, 4, 1, 2 };
	unsigned char l3[] = { 0, 0, 1, 1 };
	eval_compute(s3, l3, 4, &m);
	CHECK(near(m.auroc, 0.0, 1e-12), "reversed: auroc %.10f", m.auroc);
}

TEST(aupr_fpr95)
{
	/* descending runs: .9 P | .8 N | .4 P N N | .35 P | .1 N
	 * AP = 1/3*1 + 1/3*(2/5) + 1/3*(3/6) = 19/30; TPR 1 first at .35 with 3 of 4 negatives above */
	eval_metrics m;
	REQUIRE(!eval_compute(t_s, t_l, 7, &m), "compute");
	CHECK(near(m.aupr, 19.0 / 30.0, 1e-12), "AP %.10f, expected 19/30", m.aupr);
	CHECK(near(m.fpr95, 0.75, 1e-12), "fpr95 %.10f, expected 0.75", m.fpr95);
	/* TPR exactly 0.95: positives 11..29 (19) above a negative at 10.5, positive 10 below it */
	float s[31];
	unsigned char l[31];
	int n = 0;
	for (int v = 10; v <= 29; v++) {
		s[n] = (float)v;
		l[n++] = 1;
	}
	for (int v = 0; v <= 9; v++) {
		s[n] = (float)v;
		l[n++] = 0;
	}
	s[n] = 10.5f;
	l[n++] = 0;
	eval_compute(s, l, (size_t)n, &m);
	CHECK(near(m.fpr95, 0.0, 1e-12), "fpr95 at TPR exactly 0.95: %.10f, expected 0", m.fpr95);
	/* AP: 19 positives at precision 1, then the 20th at 20/21 */
	CHECK(near(m.aupr, 19.0 / 20.0 + (1.0 / 20.0) * (20.0 / 21.0), 1e-12), "AP %.10f", m.aupr);
	/* perfect separation */
	float s4[] = { 0.1f, 0.2f, 0.8f, 0.9f };
	unsigned char l4[] = { 0, 0, 1, 1 };
	eval_compute(s4, l4, 4, &m);
	CHECK(m.auroc == 1.0 && m.aupr == 1.0 && m.fpr95 == 0.0, "perfect: %g %g %g", m.auroc, m.aupr, m.fpr95);
	/* one class only: undefined */
	unsigned char l5[] = { 0, 0, 0, 0 };
	eval_compute(s4, l5, 4, &m);
	CHECK(isnan(m.auroc) && isnan(m.aupr) && isnan(m.fpr95), "no positives: %g %g %g", m.auroc, m.aupr, m.fpr95);
}

TEST(roc_points)
{
	double f[8], t[8];
	size_t k = eval_roc(t_s, t_l, 7, f, t, 8);
	/* thresholds .9 .8 .4 .35 .1 */
	const double ef[] = { 0, 0, 0.25, 0.75, 0.75, 1 }, et[] = { 0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1, 1 };
	REQUIRE(k == 6, "%zu points, expected 6", k);
	for (size_t i = 0; i < 6; i++)
		CHECK(near(f[i], ef[i], 1e-12) && near(t[i], et[i], 1e-12), "point %zu: (%g, %g), expected (%g, %g)", i,
		      f[i], t[i], ef[i], et[i]);
}

TEST(minmax_groups)
{
	float s[] = { 1, 3, 2, 10, 20, 5, 5 };
	int g[] = { 7, 7, 7, 2, 2, 9, 9 };
	float o[7];
	REQUIRE(!eval_minmax_by_group(s, g, 7, o), "minmax");
	const float e[] = { 0, 1, 0.5f, 0, 1, 0, 0 };
	for (int i = 0; i < 7; i++)
		CHECK(o[i] == e[i], "item %d: %g, expected %g", i, o[i], e[i]);
}

TEST(quantile)
{
	double v[] = { 1, 2, 3, 4, 5 };
	CHECK(eval_quantile(v, 5, 0.5) == 3, "median");
	CHECK(near(eval_quantile(v, 5, 0.025), 1.1, 1e-12), "2.5%% %g", eval_quantile(v, 5, 0.025));
	CHECK(eval_quantile(v, 5, 1.0) == 5, "max");
}

/* naive AUROC by pairs */
static double naive_auroc(const float *s, const unsigned char *l, size_t n)
{
	double a = 0, P = 0, N = 0;
	for (size_t i = 0; i < n; i++) {
		P += l[i];
		N += !l[i];
		if (l[i])
			for (size_t j = 0; j < n; j++)
				if (!l[j])
					a += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
	}
	return a / (P * N);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

TEST(bootstrap_matches_naive)
{
	/* 30 items with ties; the implementation sorts by score first, so the naive
	 * reference resamples the same sorted positions with the same random stream */
	enum { n = 30, R = 200 };
	float s[n];
	unsigned char l[n];
	uint64_t st = 99;
	for (int i = 0; i < n; i++) {
		l[i] = i % 3 == 0;
		s[i] = (float)(eval_rng_next(&st) % 10) + (l[i] ? 2.0f : 0.0f);
	}
	eval_ci ci;
	REQUIRE(!eval_bootstrap(s, l, NULL, n, R, 5, &ci), "bootstrap");
	/* reference: sort (score, label) ascending, positions of positives / negatives in that order */
	float ss[n];
	unsigned char sl[n];
	int idx[n];
	for (int i = 0; i < n; i++)
		idx[i] = i;
	for (int i = 1; i < n; i++) /* insertion sort, ties keep any order: runs are used whole */
		for (int j = i; j > 0 && s[idx[j - 1]] > s[idx[j]]; j--) {
			int t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	int pos[n], neg[n], np = 0, nn = 0;
	for (int i = 0; i < n; i++) {
		ss[i] = s[idx[i]];
		sl[i] = l[idx[i]];
		if (sl[i])
			pos[np++] = i;
		else
			neg[nn++] = i;
	}
	double res[R];
	uint64_t rs = 5;
	for (int r = 0; r < R; r++) {
		float bs[n];
		unsigned char bl[n];
		int k = 0;
		for (int j = 0; j < np; j++) {
			int q = pos[(size_t)(((unsigned __int128)eval_rng_next(&rs) * (unsigned)np) >> 64)];
			bs[k] = ss[q];
			bl[k++] = 1;
		}
		for (int j = 0; j < nn; j++) {
			int q = neg[(size_t)(((unsigned __int128)eval_rng_next(&rs) * (unsigned)nn) >> 64)];
			bs[k] = ss[q];
			bl[k++] = 0;
		}
		res[r] = naive_auroc(bs, bl, n);
	}
	qsort(res, R, sizeof res[0], cmpd);
	double lo = eval_quantile(res, R, 0.025), hi = eval_quantile(res, R, 0.975);
	CHECK(near(ci.lo.auroc, lo, 1e-12) && near(ci.hi.auroc, hi, 1e-12), "CI [%.6f, %.6f], naive [%.6f, %.6f]",
	      ci.lo.auroc, ci.hi.auroc, lo, hi);
	eval_metrics m;
	eval_compute(s, l, n, &m);
	CHECK(ci.lo.auroc <= m.auroc && m.auroc <= ci.hi.auroc, "CI [%g, %g] excludes the estimate %g", ci.lo.auroc,
	      ci.hi.auroc, m.auroc);
	CHECK(ci.lo.auroc < ci.hi.auroc, "degenerate CI");
	/* same seed, same CI */
	eval_ci ci2;
	eval_bootstrap(s, l, NULL, n, R, 5, &ci2);
	CHECK(ci2.lo.auroc == ci.lo.auroc && ci2.hi.auroc == ci.hi.auroc, "not reproducible");
}

TEST(bootstrap_groups)
{
	/* perfect separation: every resample has AUROC 1 */
	float s[] = { 1, 2, 3, 10, 11, 12 };
	unsigned char l[] = { 0, 0, 0, 1, 1, 1 };
	int g[] = { 4, 4, 5, 6, 6, 6 };
	eval_ci ci;
	REQUIRE(!eval_bootstrap(s, l, NULL, 6, 100, 1, &ci), "stratified");
	CHECK(ci.lo.auroc == 1 && ci.hi.auroc == 1, "stratified [%g, %g]", ci.lo.auroc, ci.hi.auroc);
	/* groups of one class each: resamples without both classes are redrawn */
	REQUIRE(!eval_bootstrap(s, l, g, 6, 100, 1, &ci), "clusters");
	CHECK(ci.lo.auroc == 1 && ci.hi.auroc == 1, "clusters [%g, %g]", ci.lo.auroc, ci.hi.auroc);
	/* mixed clusters: the CI is a real interval around the estimate */
	float s2[] = { 1, 5, 2, 6, 3, 1, 4, 2, 7, 3, 8, 0 };
	unsigned char l2[] = { 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1 };
	int g2[] = { 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 };
	REQUIRE(!eval_bootstrap(s2, l2, g2, 12, 500, 3, &ci), "clusters 2");
	eval_metrics m;
	eval_compute(s2, l2, 12, &m);
	CHECK(ci.lo.auroc < m.auroc && m.auroc <= ci.hi.auroc, "CI [%g, %g] vs %g", ci.lo.auroc, ci.hi.auroc, m.auroc);
	/* no positives at all: refused */
	unsigned char l3[] = { 0, 0, 0, 0, 0, 0 };
	CHECK(eval_bootstrap(s, l3, NULL, 6, 10, 1, &ci) == -1, "bootstrap without positives must fail");
}

TEST(paired_matches_naive)
{
	/* two scorings of the same 40 items, b a little better than a; the paired
	 * bootstrap resamples the caller's items (positives, then negatives, each
	 * in the caller's order) once per resample and scores both on it */
	enum { n = 40, R = 300 };
	float a[n], b[n];
	unsigned char l[n];
	uint64_t st = 7;
	for (int i = 0; i < n; i++) {
		l[i] = i % 4 == 1;
		a[i] = (float)(eval_rng_next(&st) % 8) + (l[i] ? 1.0f : 0.0f);
		b[i] = a[i] + (l[i] ? (float)(eval_rng_next(&st) % 3) : 0.0f);
	}
	eval_paired pr;
	REQUIRE(!eval_bootstrap_paired(a, b, l, NULL, n, R, 11, &pr), "paired bootstrap");
	int pos[n], neg[n], np = 0, nn = 0;
	for (int i = 0; i < n; i++) {
		if (l[i])
			pos[np++] = i;
		else
			neg[nn++] = i;
	}
	double res[R];
	uint64_t rs = 11;
	for (int r = 0; r < R; r++) {
		float ba[n], bb[n];
		unsigned char bl[n];
		int k = 0;
		for (int j = 0; j < np; j++, k++) {
			int q = pos[(size_t)(((unsigned __int128)eval_rng_next(&rs) * (unsigned)np) >> 64)];
			ba[k] = a[q], bb[k] = b[q], bl[k] = 1;
		}
		for (int j = 0; j < nn; j++, k++) {
			int q = neg[(size_t)(((unsigned __int128)eval_rng_next(&rs) * (unsigned)nn) >> 64)];
			ba[k] = a[q], bb[k] = b[q], bl[k] = 0;
		}
		res[r] = naive_auroc(bb, bl, n) - naive_auroc(ba, bl, n);
	}
	qsort(res, R, sizeof res[0], cmpd);
	double lo = eval_quantile(res, R, 0.025), hi = eval_quantile(res, R, 0.975);
	double d = naive_auroc(b, l, n) - naive_auroc(a, l, n);
	CHECK(near(pr.d, d, 1e-12), "difference %.10f, naive %.10f", pr.d, d);
	CHECK(near(pr.lo, lo, 1e-12) && near(pr.hi, hi, 1e-12), "CI [%.6f, %.6f], naive [%.6f, %.6f]", pr.lo, pr.hi,
	      lo, hi);
	CHECK(d > 0 && pr.lo <= d && d <= pr.hi && pr.lo < pr.hi, "d %g, CI [%g, %g]", d, pr.lo, pr.hi);
	/* the same scoring twice: every resample's difference is exactly 0 */
	REQUIRE(!eval_bootstrap_paired(a, a, l, NULL, n, 50, 3, &pr), "paired with itself");
	CHECK(pr.d == 0 && pr.lo == 0 && pr.hi == 0, "a vs a: %g [%g, %g]", pr.d, pr.lo, pr.hi);
	/* pairing is what narrows the interval: a shift shared by both scorings
	 * per group (a busy clip) widens each unpaired CI, not the paired one */
	float ga[n], gb[n];
	int g[n];
	for (int i = 0; i < n; i++) {
		g[i] = i / 5;
		ga[i] = a[i] + 3.0f * (float)(g[i] % 3);
		gb[i] = ga[i] + (l[i] ? 0.5f : 0.0f);
	}
	eval_ci ca, cb;
	REQUIRE(!eval_bootstrap_paired(ga, gb, l, g, n, R, 5, &pr), "paired, groups");
	REQUIRE(!eval_bootstrap(ga, l, g, n, R, 5, &ca) && !eval_bootstrap(gb, l, g, n, R, 5, &cb), "unpaired");
	CHECK(pr.lo > 0, "a uniform gain for every positive must be a significant paired difference: [%g, %g]",
	      pr.lo, pr.hi);
	CHECK(ca.hi.auroc > cb.lo.auroc, "the unpaired CIs were meant to overlap here: a [%g, %g], b [%g, %g]",
	      ca.lo.auroc, ca.hi.auroc, cb.lo.auroc, cb.hi.auroc);
	/* no negatives: refused */
	unsigned char l1[n];
	memset(l1, 1, sizeof l1);
	CHECK(eval_bootstrap_paired(a, b, l1, NULL, n, 10, 1, &pr) == -1, "paired bootstrap without negatives must fail");
}

/* ---- idx ---- */

static char dir[] = "/tmp/lmdd-test-eval-XXXXXX";

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* n images h x w, pixel (i, y, x) = (i * 7 + y * w + x) & 255 */
static size_t make_idx(unsigned char *buf, int type, int n, int h, int w)
{
	buf[0] = buf[1] = 0;
	buf[2] = 8;
	buf[3] = (unsigned char)type;
	put_be32(buf + 4, (uint32_t)n);
	size_t off = 8;
	if (type == 3) {
		put_be32(buf + 8, (uint32_t)h);
		put_be32(buf + 12, (uint32_t)w);
		off = 16;
	}
	size_t item = type == 3 ? (size_t)h * w : 1;
	for (int i = 0; i < n; i++)
		for (size_t p = 0; p < item; p++)
			buf[off + i * item + p] = (unsigned char)((i * 7 + p) & 255);
	return off + (size_t)n * item;
}

static void write_file(const char *path, const unsigned char *b, size_t n, int gz)
{
	if (gz) {
		gzFile f = gzopen(path, "wb");
		gzwrite(f, b, (unsigned)n);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");
		fwrite(b, 1, n, f);
		fclose(f);
	}
}

TEST(idx_plain_and_gzip)
{
	static unsigned char b[16 + 10 * 6 * 5];
	size_t n = make_idx(b, 3, 10, 6, 5);
	char p1[256], p2[256], err[512];
	snprintf(p1, sizeof p1, "%s/a-idx3-ubyte", dir);
	snprintf(p2, sizeof p2, "%s/a-idx3-ubyte.gz", dir);
	write_file(p1, b, n, 0);
	write_file(p2, b, n, 1);
	for (int k = 0; k < 2; k++) {
		eval_idx x;
		REQUIRE(!eval_idx_read(k ? p2 : p1, 3, 4, &x, err, sizeof err), "%s", err);
		CHECK(x.n == 4 && x.h == 6 && x.w == 5 && x.dims == 3, "shape %d %d %d", x.n, x.h, x.w);
		int bad = 0;
		for (int i = 0; i < 4; i++)
			for (int p = 0; p < 30; p++)
				bad += x.data[i * 30 + p] != (unsigned char)(((i + 3) * 7 + p) & 255);
		CHECK(!bad, "%s: %d wrong pixels in items 3..6", k ? "gzip" : "plain", bad);
		eval_idx_free(&x);
		REQUIRE(!eval_idx_read(k ? p2 : p1, 0, -1, &x, err, sizeof err), "%s", err);
		CHECK(x.n == 10, "all: %d items", x.n);
		eval_idx_free(&x);
		/* past the end */
		CHECK(eval_idx_read(k ? p2 : p1, 8, 3, &x, err, sizeof err) == -1 && strstr(err, "the file has 10"),
		      "past the end: '%s'", err);
	}
	/* labels */
	unsigned char lb[8 + 4];
	size_t ln = make_idx(lb, 1, 4, 1, 1);
	snprintf(p1, sizeof p1, "%s/l-idx1-ubyte.gz", dir);
	write_file(p1, lb, ln, 1);
	eval_idx x;
	REQUIRE(!eval_idx_read(p1, 1, 2, &x, err, sizeof err), "%s", err);
	CHECK(x.dims == 1 && x.n == 2 && x.data[0] == 7 && x.data[1] == 14, "labels %d %d", x.data[0], x.data[1]);
	eval_idx_free(&x);
}

TEST(idx_errors)
{
	static unsigned char b[16 + 4 * 9];
	size_t n = make_idx(b, 3, 4, 3, 3);
	char p[256], err[512];
	eval_idx x;
	/* bad magic: a PNG header */
	snprintf(p, sizeof p, "%s/bad-magic.gz", dir);
	unsigned char png[16] = { 0x89, 'P', 'N', 'G', 13, 10, 26, 10 };
	write_file(p, png, sizeof png, 1);
	CHECK(eval_idx_read(p, 0, -1, &x, err, sizeof err) == -1 && strstr(err, "bad magic") && strstr(err, p),
	      "bad magic: '%s'", err);
	/* wrong element type (0x0D = float) */
	b[2] = 0x0D;
	snprintf(p, sizeof p, "%s/float-idx3", dir);
	write_file(p, b, n, 0);
	CHECK(eval_idx_read(p, 0, -1, &x, err, sizeof err) == -1 && strstr(err, "bad magic"), "float type: '%s'", err);
	b[2] = 8;
	/* truncated data */
	snprintf(p, sizeof p, "%s/trunc-idx3.gz", dir);
	write_file(p, b, n - 5, 1);
	CHECK(eval_idx_read(p, 0, -1, &x, err, sizeof err) == -1 && strstr(err, "truncated"), "truncated: '%s'", err);
	/* missing file */
	snprintf(p, sizeof p, "%s/none.gz", dir);
	CHECK(eval_idx_read(p, 0, -1, &x, err, sizeof err) == -1 && strstr(err, "cannot open"), "missing: '%s'", err);
	/* empty file */
	snprintf(p, sizeof p, "%s/empty", dir);
	write_file(p, b, 0, 0);
	CHECK(eval_idx_read(p, 0, -1, &x, err, sizeof err) == -1 && strstr(err, "magic"), "empty: '%s'", err);
}

TEST(resize_matches_torch)
{
	/* torch: F.interpolate(a[None,None].float(), size=(7,8), mode="bilinear",
	 * align_corners=False, antialias=False).round().clamp(0,255).byte() */
	const uint8_t a[15] = { 0, 255, 17, 3, 200, 90, 91, 250, 1, 0, 13, 77, 128, 129, 254 };
	const uint8_t e[56] = { 0,  112, 240, 91,  13,  4,   114, 200, 13,  109, 220, 107, 35,  6,
		                98, 171, 51,  99,  161, 154, 104, 11,  49,  86,  90,  90,  101, 200,
		                172, 17, 0,   0,   57,  69,  92,  162, 153, 65,  86,  109, 24,  48,
		                83, 125, 135, 113, 171, 218, 13,  41,  80,  112, 128, 129, 199, 254 };
	uint8_t o[56];
	REQUIRE(!eval_resize_u8(a, 3, 5, o, 7, 8), "resize");
	int bad = 0;
	for (int i = 0; i < 56; i++)
		bad += o[i] != e[i];
	CHECK(!bad, "%d of 56 pixels differ from torch", bad);
	CHECK(eval_resize_u8(a, 3, 5, o, 2, 8) == -1, "shrinking must be refused");
	/* same size: identity */
	uint8_t id[15];
	eval_resize_u8(a, 3, 5, id, 3, 5);
	CHECK(!memcmp(id, a, 15), "same size is not the identity");
}

TEST(labels_csv)
{
	char p[256], err[512];
	snprintf(p, sizeof p, "%s/labels.csv", dir);
	FILE *f = fopen(p, "w");
	fputs("clip,frame,anomalous\n01,0,0\n01,1,1\n01,2,0\n02,0,1\n02,2,0\r\n", f);
	fclose(f);
	eval_labels L;
	REQUIRE(!eval_labels_read(p, &L, err, sizeof err), "%s", err);
	CHECK(L.nclips == 2 && !strcmp(L.clip[0], "01") && !strcmp(L.clip[1], "02"), "clips %d", L.nclips);
	CHECK(L.frames[0] == 3 && L.label[0][1] == 1 && L.label[0][2] == 0, "clip 01");
	CHECK(L.frames[1] == 3 && L.label[1][0] == 1 && L.label[1][1] == 255 && L.label[1][2] == 0, "clip 02 gap");
	eval_labels_free(&L);
	f = fopen(p, "w");
	fputs("clip,frame,anomalous\n01,0,0\n01,x,1\n", f);
	fclose(f);
	CHECK(eval_labels_read(p, &L, err, sizeof err) == -1 && strstr(err, ":3:"), "bad row: '%s'", err);
	f = fopen(p, "w");
	fputs("clip,frame,anomalous\n01,0,2\n", f);
	fclose(f);
	CHECK(eval_labels_read(p, &L, err, sizeof err) == -1 && strstr(err, ":2:"), "bad label: '%s'", err);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(auroc_ties);
	RUN(aupr_fpr95);
	RUN(roc_points);
	RUN(minmax_groups);
	RUN(quantile);
	RUN(bootstrap_matches_naive);
	RUN(bootstrap_groups);
	RUN(paired_matches_naive);
	RUN(idx_plain_and_gzip);
	RUN(idx_errors);
	RUN(resize_matches_torch);
	RUN(labels_csv);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "warning: cannot remove %s\n", dir);
	CHECK_EXIT();
}
