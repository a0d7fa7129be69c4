/*
 * test_feed.c — media/feed.c, the frame loop every command reads through:
 * the time rule case by case (no stamp, duplicated, stepped back, cuts
 * both ways, a cut counted once), strictly increasing times for any
 * stamps, and a real source with broken stamps (a lavfi graph whose setpts
 * repeats and steps back): times by the rule, history by those times.
 */
#include <stdlib.h>

#include "check.h"
#include "feed.h"

#define S 100000   /* one frame at 10 fps, us */

static int64_t next(feed_clock *c, int64_t pts, int *cut)
{
	return feed_clock_next(c, pts, S, cut);
}

TEST(clock_cases)
{
	feed_clock c = FEED_CLOCK_INIT;
	int cut;
	CHECK(next(&c, 2000000, &cut) == 2000000 && !cut, "the first frame keeps its stamp");
	CHECK(next(&c, 2100000, &cut) == 2100000 && !cut, "a good stamp counts");
	CHECK(next(&c, INT64_MIN, &cut) == 2200000 && !cut, "no stamp: one frame on");
	CHECK(next(&c, 2200000, &cut) == 2300000 && !cut, "a stamp not after the last: one frame on");
	CHECK(next(&c, 2300000, &cut) == 2400000 && !cut, "again");
	CHECK(next(&c, 2500000, &cut) == 2500000 && !cut, "the next good stamp counts again (no drift)");
	CHECK(next(&c, 1000000, &cut) == 2600000 && !cut, "1.5 s back: a broken stamp, not a cut");
	CHECK(next(&c, 1100000, &cut) == 2700000 && !cut, "and the next");
	CHECK(next(&c, 9000000, &cut) == 2800000 && cut, "6.3 s on: a cut, one frame on");
	CHECK(next(&c, 9100000, &cut) == 2900000 && !cut, "later stamps shifted with it (one cut)");
	CHECK(next(&c, 9150000, &cut) == 2950000 && !cut, "their own spacing");
	CHECK(next(&c, 1000000, &cut) == 3050000 && cut, "8 s back: a cut");
	CHECK(next(&c, 1040000, &cut) == 3090000 && !cut, "shifted again");
	feed_clock d = FEED_CLOCK_INIT;
	CHECK(next(&d, INT64_MIN, &cut) == 0 && next(&d, INT64_MIN, &cut) == S, "no stamps at all: 0, one frame, ...");
}

TEST(clock_increases)
{
	srand(3);
	feed_clock c = FEED_CLOCK_INIT;
	int64_t last = INT64_MIN, pts = 0;
	int cuts = 0, bad = 0;
	for (int i = 0; i < 100000 && !bad; i++) {
		int r = rand() % 100, cut;
		if (r < 5)
			pts = INT64_MIN;
		else if (r < 10)
			pts = (int64_t)(rand() % 20000000) - 10000000;   /* anywhere */
		else
			pts = (pts == INT64_MIN ? 0 : pts) + rand() % 200000;   /* 0..0.2 s on, or the same */
		int64_t t = feed_clock_next(&c, pts, S, &cut);
		cuts += cut;
		if (last != INT64_MIN && (t <= last || t - last >= FEED_CUT_US)) {
			CHECK(0, "frame %d: time %lld after %lld", i, (long long)t, (long long)last);
			bad = 1;
		}
		last = t;
	}
	CHECK(cuts > 0, "no cut in random stamps");
}

/* a 10 fps source whose stamps (in frames) are 0 1 0 0 4 5 4 4 8 9 ...:
 * duplicated and stepped back */
TEST(broken_stamps_source)
{
	feed_opts o = { .width = 16, .height = 16, .channels = 1, .cond_frames = 2, .cond_interval = 0.1 };
	feed *f = NULL;
	media_err e = feed_open("lavfi:testsrc=s=64x48:r=10:d=2,setpts='(N-mod(N,4)*gt(mod(N,4),1))*0.1/TB'", &o, &f);
	REQUIRE(e == MEDIA_OK, "open: %s", media_errmsg());
	int64_t want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };   /* the rule: every broken stamp one frame on */
	feed_frame fr;
	int n = 0, ready_at = -1;
	float *img = malloc(sizeof(float) * 256), *cond = malloc(sizeof(float) * 512);
	while ((e = feed_next(f, &fr)) == MEDIA_OK) {
		if (n < 10)
			CHECK(fr.time_us == want[n] * S && fr.index == n && !fr.cut, "frame %d: time %lld (stamp %lld)",
			      n, (long long)fr.time_us, (long long)fr.pts_us);
		if (ready_at < 0 && feed_ready(f))
			ready_at = n;
		REQUIRE(feed_image(f, img) == MEDIA_OK, "image: %s", media_errmsg());
		double off = feed_history(f, cond);
		CHECK(n < 2 || off < 1e-9, "frame %d: history %g s off its times", n, off);
		n++;
	}
	CHECK(e == MEDIA_END, "end: %d %s", e, media_errmsg());
	CHECK(n == 20, "frames %d", n);
	CHECK(ready_at == 2, "history held from frame %d, want 2", ready_at);
	free(img);
	free(cond);
	feed_close(&f);
	CHECK(f == NULL, "close nulls");
}

int main(void)
{
	RUN(clock_cases);
	RUN(clock_increases);
	RUN(broken_stamps_source);
	CHECK_EXIT();
}
