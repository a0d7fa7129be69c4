/*
 * eval_compare.c — paired comparison of two `lmdd eval` results folders
 * (see eval_compare.h).
 *
 * Design facts:
 *  - The scores CSVs are the ones eval.c writes: a header, then
 *    "set,item,label,score" (image suites) or
 *    "clip,frame,label,score,score_clip_minmax,speed" (Ped2). Only the
 *    first four columns (five for Ped2) are read; a row that does not parse
 *    is an error naming the file and line, not a skipped row.
 *  - Items are matched by key (first two columns) through a sorted copy of
 *    B, so the two files may have scored different subsets (--limit); only
 *    the items in both count, and how many were left out is printed.
 *  - Ped2's per-clip min-max column is compared too when both runs scored
 *    the same frames (the normalisation depends on the frames scored).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval_compare.h"
#include "eval_metrics.h"

typedef struct {
	char set[64];
	long item;
	unsigned char label;
	float score, mm;   /* mm: Ped2's per-clip min-max score */
} row;

typedef struct {
	row *r;
	size_t n;
	int ped2;          /* the header starts "clip,frame," */
} table;

static int cmp_row(const void *a, const void *b)
{
	const row *x = a, *y = b;
	int c = strcmp(x->set, y->set);
	return c ? c : (x->item > y->item) - (x->item < y->item);
}

/* Next comma-separated field of *p into f (at most fn-1 chars); -1 at the end of the line. */
static int field(char **p, char *f, size_t fn)
{
	if (!*p)
		return -1;
	size_t k = strcspn(*p, ",\r\n");
	if (k >= fn)
		return -1;
	memcpy(f, *p, k);
	f[k] = 0;
	*p = (*p)[k] == ',' ? *p + k + 1 : NULL;
	return 0;
}

static int num(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return *s && !*end && !errno ? 0 : -1;
}

/* 1: no such file; 0: read; -1: an error, said on stderr. */
static int load(const char *path, table *t)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "r");
	if (!f && errno == ENOENT)
		return 1;
	if (!f) {
		fprintf(stderr, "lmdd eval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	long ln = 0;
	int rc = 0;
	while (getline(&line, &cap, f) > 0) {
		ln++;
		if (ln == 1) {
			t->ped2 = !strncmp(line, "clip,frame,label,score", 22);
			if (!t->ped2 && strncmp(line, "set,item,label,score", 20)) {
				fprintf(stderr, "lmdd eval: %s: line 1: not an lmdd eval scores file (header '%.40s')\n", path,
				        line);
				rc = -1;
				break;
			}
			continue;
		}
		if (line[strspn(line, " \t\r\n")] == 0)
			continue; /* a blank line (a hand-edited file's last) */
		if (t->n == alloc) {
			size_t na = alloc ? 2 * alloc : 1024;
			row *nr = realloc(t->r, na * sizeof *nr);
			if (!nr) {
				fprintf(stderr, "lmdd eval: %s: out of memory\n", path);
				rc = -1;
				break;
			}
			t->r = nr;
			alloc = na;
		}
		row *r = &t->r[t->n];
		char item[32], lab[8], sc[64], mm[64] = "nan";
		double it, lb, s, m = NAN;
		char *p = line;
		if (field(&p, r->set, sizeof r->set) || field(&p, item, sizeof item) || field(&p, lab, sizeof lab) ||
		    field(&p, sc, sizeof sc) || (t->ped2 && field(&p, mm, sizeof mm)) || num(item, &it) ||
		    num(lab, &lb) || (lb != 0 && lb != 1) || num(sc, &s) || (t->ped2 && num(mm, &m))) {
			fprintf(stderr, "lmdd eval: %s: line %ld: expected %s\n", path, ln,
			        t->ped2 ? "clip,frame,label (0 or 1),score,score_clip_minmax,..."
			                : "set,item,label (0 or 1),score");
			rc = -1;
			break;
		}
		r->item = (long)it;
		r->label = (unsigned char)lb;
		r->score = (float)s;
		r->mm = (float)m;
		t->n++;
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "lmdd eval: %s: read error\n", path);
		rc = -1;
	}
	if (!rc && !t->n) {
		fprintf(stderr, "lmdd eval: %s: no scores\n", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc) {
		free(t->r);
		memset(t, 0, sizeof *t);
	}
	return rc;
}

static void report(FILE *out, const char *what, const float *a, const float *b, const unsigned char *lab,
                   const int *grp, size_t n, int resamples, uint64_t seed)
{
	eval_paired pr;
	if (eval_bootstrap_paired(a, b, lab, grp, n, resamples, seed, &pr)) {
		fprintf(out, "  %s: no AUROC (one class only, or out of memory)\n", what);
		return;
	}
	fprintf(out, "  %s: AUROC A %.4f, B %.4f; B - A %+.4f [%+.4f, %+.4f] (paired, %d resamples%s)%s\n", what,
	        pr.a, pr.b, pr.d, pr.lo, pr.hi, resamples, grp ? ", whole clips" : ", stratified",
	        pr.lo > 0 ? ": B better" : pr.hi < 0 ? ": B worse" : ": no difference shown");
}

static int compare_suite(const char *a_dir, const char *b_dir, const char *name, int resamples, uint64_t seed,
                         FILE *out)
{
	char pa[4200], pb[4200];
	snprintf(pa, sizeof pa, "%s/scores-%s.csv", a_dir, name);
	snprintf(pb, sizeof pb, "%s/scores-%s.csv", b_dir, name);
	table A, B;
	int ra = load(pa, &A);
	if (ra)
		return ra;
	int rb = load(pb, &B);
	if (rb) {
		free(A.r);
		return rb;
	}
	int rc = -1;
	float *sa = malloc(sizeof *sa * A.n), *sb = malloc(sizeof *sb * A.n);
	float *ma = malloc(sizeof *ma * A.n), *mb = malloc(sizeof *mb * A.n);
	unsigned char *lab = malloc(A.n);
	int *grp = malloc(sizeof *grp * A.n);
	if (!sa || !sb || !ma || !mb || !lab || !grp) {
		fprintf(stderr, "lmdd eval: %s: out of memory\n", name);
		goto out;
	}
	if (A.ped2 != B.ped2) {
		fprintf(stderr, "lmdd eval: %s and %s are scores of different kinds of suite\n", pa, pb);
		goto out;
	}
	qsort(B.r, B.n, sizeof *B.r, cmp_row);
	size_t n = 0;
	for (size_t i = 0; i < A.n; i++) {
		const row *q = bsearch(&A.r[i], B.r, B.n, sizeof *B.r, cmp_row);
		if (!q)
			continue;
		if (q->label != A.r[i].label) {
			fprintf(stderr, "lmdd eval: %s %s %ld: label %d in %s but %d in %s\n", name, A.r[i].set, A.r[i].item,
			        A.r[i].label, pa, q->label, pb);
			goto out;
		}
		sa[n] = A.r[i].score;
		sb[n] = q->score;
		ma[n] = A.r[i].mm;
		mb[n] = q->mm;
		lab[n] = A.r[i].label;
		grp[n] = (int)strtol(A.r[i].set, NULL, 10); /* Ped2: the clip */
		n++;
	}
	if (!n) {
		fprintf(stderr, "lmdd eval: %s: %s and %s have no item in common\n", name, pa, pb);
		goto out;
	}
	size_t pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += lab[i];
	fprintf(out, "%s: %zu items in both (%zu in, %zu out); %zu only in A, %zu only in B\n", name, n, n - pos, pos,
	        A.n - n, B.n - n);
	fprintf(out, "  A = %s\n  B = %s\n", pa, pb);
	report(out, A.ped2 ? "one global scale" : "all items", sa, sb, lab, A.ped2 ? grp : NULL, n, resamples, seed);
	if (A.ped2 && n == A.n && n == B.n)
		report(out, "per-clip min-max", ma, mb, lab, grp, n, resamples, seed);
	rc = 0;
out:
	free(sa);
	free(sb);
	free(ma);
	free(mb);
	free(lab);
	free(grp);
	free(A.r);
	free(B.r);
	return rc;
}

int eval_compare(const char *a_dir, const char *b_dir, const char *const *names, int n, int resamples,
                 uint64_t seed, FILE *out)
{
	int compared = 0, errors = 0;
	for (int s = 0; s < n; s++) {
		int rc = compare_suite(a_dir, b_dir, names[s], resamples, seed, out);
		compared += rc == 0;
		errors += rc < 0;
	}
	if (!compared && !errors)
		fprintf(stderr, "lmdd eval: no scores-<suite>.csv of the selected suites in both %s and %s\n", a_dir,
		        b_dir);
	return compared && !errors ? 0 : -1;
}
