/*
 * test_history.c — media/history.c against a reference model: every frame
 * pushed kept in a plain array, the history picked by brute force (nearest
 * time, ties to the older frame). Sources at many rates with jitter,
 * interval 0 (consecutive frames), a reset, the first frames of a clip, and
 * the HISTORY_MAX bound. (Cuts are the time rule's: test_feed.c.)
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "history.h"

#define N 3   /* floats per frame: each frame is filled with its id */

static void put(history *h, int id, int64_t pts)
{
	float *b = history_next(h);
	for (int i = 0; i < N; i++)
		b[i] = (float)id;
	history_push(h, pts);
}

/* brute force over all frames since the last cut: ids picked, oldest first */
static void ref_pick(const int64_t *pts, int n, int k, double iv, int *out)
{
	for (int j = 1; j <= k; j++) {
		int best = 0;
		if (iv <= 0) {
			best = n - 1 - j < 0 ? 0 : n - 1 - j;
		} else {
			double target = pts[n - 1] - j * iv * 1e6, bd = INFINITY;
			for (int i = 0; i < n; i++)
				if (fabs(pts[i] - target) < bd) {
					bd = fabs(pts[i] - target);
					best = i;
				}
		}
		out[k - j] = best;
	}
}

static int ref_ready(const int64_t *pts, int n, int k, double iv)
{
	if (iv <= 0)
		return n > k;
	return n > 1 && pts[n - 1] - pts[0] >= k * iv * 1e6 - (pts[n - 1] - pts[n - 2]) / 2.0;
}

TEST(against_brute_force)
{
	const double fps[] = { 5, 7.5, 10, 12.5, 25, 29.97, 60 };
	const double ivs[] = { 0, 0.1, 0.2, 1.0 / 15 };
	srand(7);
	for (int f = 0; f < 7; f++)
		for (int v = 0; v < 4; v++)
			for (int k = 1; k <= 3; k++) {
				history *h = history_new(k, ivs[v], N);
				REQUIRE(h, "history_new");
				int64_t pts[400];
				float out[3 * N];
				int ids[3], n = 0, bad = 0;
				double t = 1.0;
				for (int id = 0; id < 400 && !bad; id++) {
					/* +-10% jitter on the frame period */
					t += (1 + 0.2 * (rand() / (double)RAND_MAX - 0.5)) / fps[f];
					pts[n++] = (int64_t)(t * 1e6);
					put(h, n - 1, pts[n - 1]);
					CHECK(history_count(h) <= n, "count %d > %d", history_count(h), n);
					int rr = ref_ready(pts, n, k, ivs[v]);
					if (history_ready(h) != rr) {
						CHECK(0, "%g fps, interval %g, k %d, frame %d: ready %d, want %d",
						      fps[f], ivs[v], k, n - 1, history_ready(h), rr);
						bad = 1;
					}
					double err = history_fill(h, out);
					ref_pick(pts, n, k, ivs[v], ids);
					for (int j = 0; j < k && !bad; j++)
						if (out[j * N] != ids[j] || out[j * N + N - 1] != ids[j]) {
							CHECK(0, "%g fps, interval %g, k %d, frame %d: slot %d is frame %g, want %d",
							      fps[f], ivs[v], k, n - 1, j, out[j * N], ids[j]);
							bad = 1;
						}
					if (ivs[v] > 0 && rr && fps[f] >= 2 / ivs[v])
						CHECK(err <= 0.61 / fps[f], "%g fps: picked %g s off", fps[f], err);
				}
				history_destroy(&h);
				CHECK(h == NULL, "destroy nulls the pointer");
			}
}

TEST(first_frames_and_reset)
{
	history *h = history_new(2, 0.1, N);
	REQUIRE(h, "history_new");
	float out[2 * N];
	put(h, 0, 0);
	CHECK(!history_ready(h), "one frame is not ready");
	history_fill(h, out);
	CHECK(out[0] == 0 && out[N] == 0, "first frame is its own history: %g %g", out[0], out[N]);
	put(h, 1, 100000);
	put(h, 2, 200000);
	CHECK(history_ready(h), "three frames at 10 fps are ready");
	history_fill(h, out);
	CHECK(out[0] == 0 && out[N] == 1, "history %g %g", out[0], out[N]);
	CHECK(history_newest(h) && history_newest(h)[0] == 2, "newest frame");
	history_reset(h);
	CHECK(history_count(h) == 0 && !history_ready(h) && !history_newest(h), "reset");
	put(h, 3, 50000);   /* after a reset, any time: the caller's cut (feed.h) */
	history_fill(h, out);
	CHECK(out[0] == 3 && out[N] == 3, "after the reset %g %g", out[0], out[N]);
	history_destroy(&h);
}

TEST(bounded)
{
	/* 1000 fps with a 1 s interval would need 2000 frames: the ring stops
	 * at HISTORY_MAX, calls itself ready and gives its oldest frame */
	history *h = history_new(2, 1.0, N);
	REQUIRE(h, "history_new");
	float out[2 * N];
	for (int i = 0; i < 3000; i++) {
		put(h, i, (int64_t)i * 1000);
		CHECK(history_count(h) <= HISTORY_MAX, "count %d", history_count(h));
	}
	CHECK(history_count(h) == HISTORY_MAX && history_ready(h), "count %d ready %d",
	      history_count(h), history_ready(h));
	double err = history_fill(h, out);
	CHECK(out[0] == 3000 - HISTORY_MAX, "oldest held frame %g", out[0]);
	CHECK(fabs(err - (2.0 - (HISTORY_MAX - 1) * 0.001)) < 1e-6, "error %g s", err);
	history_destroy(&h);
}

TEST(ring_stays_small)
{
	/* 10 fps source, 0.1 s interval, 2 frames: the ring never grows past what
	 * it needs (K + 1 frames and one step of slack) */
	history *h = history_new(2, 0.1, N);
	REQUIRE(h, "history_new");
	for (int i = 0; i < 100; i++)
		put(h, i, (int64_t)i * 100000);
	CHECK(history_count(h) <= 4, "10 fps holds %d frames", history_count(h));
	history_destroy(&h);
	h = history_new(2, 0.1, N);
	for (int i = 0; i < 300; i++)
		put(h, i, (int64_t)i * 1000000 / 30);
	CHECK(history_count(h) >= 7 && history_count(h) <= 16, "30 fps holds %d frames",
	      history_count(h));
	history_destroy(&h);
}

int main(void)
{
	RUN(against_brute_force);
	RUN(first_frames_and_reset);
	RUN(bounded);
	RUN(ring_stays_small);
	CHECK_EXIT();
}
