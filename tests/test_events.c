/*
 * test_events.c — the event state machine (min duration, hysteresis,
 * throttled updates, flush), region extraction from a distance map and its
 * blurred peak, ids and timestamps (daemon/events.c).
 */
#include <math.h>
#include <regex.h>

#include "check.h"
#include "events.h"

static ev_params P(double thr, double hyst, int mind, double upd)
{
	return (ev_params){ .threshold = thr, .hysteresis = hyst, .min_duration = mind,
	                    .update_interval = upd };
}

TEST(min_duration)
{
	ev_params p = P(1.0, 0.8, 3, 100);
	ev_tracker *t = ev_tracker_new(&p);
	double s[] = { 0.5, 1.2, 1.1, 0.5, 1.2, 1.5, 1.4, 1.3 };
	ev_action want[] = { EV_NONE, EV_NONE, EV_NONE, EV_NONE, EV_NONE, EV_NONE, EV_START, EV_NONE };
	for (int i = 0; i < 8; i++) {
		ev_action a = ev_tracker_feed(t, s[i], 100 + i, i * 0.1);
		CHECK(a == want[i], "frame %d: %s, want %s", i, ev_action_name(a), ev_action_name(want[i]));
	}
	const ev_event *e = ev_tracker_event(t);
	CHECK(e->first_frame == 104, "first frame %lld", (long long)e->first_frame);
	CHECK(e->peak_score == 1.5 && e->peak_frame == 105, "peak %g at %lld", e->peak_score,
	      (long long)e->peak_frame);
	CHECK(e->frames == 4, "frames %lld", (long long)e->frames);
	CHECK(ev_tracker_active(t), "active");
	ev_tracker_destroy(&t);
	CHECK(t == NULL, "destroy nulls");

	/* min_duration 1: the first frame above starts */
	p = P(1.0, 0.8, 1, 100);
	t = ev_tracker_new(&p);
	CHECK(ev_tracker_feed(t, 0.99, 0, 0) == EV_NONE, "below");
	CHECK(ev_tracker_feed(t, 1.0, 1, 0) == EV_START, "at threshold starts");
	ev_tracker_destroy(&t);
}

TEST(hysteresis)
{
	ev_params p = P(1.0, 0.8, 1, 100);
	ev_tracker *t = ev_tracker_new(&p);
	CHECK(ev_tracker_feed(t, 1.5, 0, 0) == EV_START, "start");
	char id[37];
	memcpy(id, ev_tracker_event(t)->id, 37);
	/* below threshold but above threshold*hysteresis: stays open */
	CHECK(ev_tracker_feed(t, 0.85, 1, 0.1) == EV_NONE, "0.85 keeps it open");
	CHECK(ev_tracker_feed(t, 0.80, 2, 0.2) == EV_NONE, "0.80 keeps it open");
	CHECK(ev_tracker_active(t), "active");
	CHECK(ev_tracker_feed(t, 0.79, 3, 0.3) == EV_END, "0.79 ends it");
	CHECK(!ev_tracker_active(t), "idle");
	const ev_event *e = ev_tracker_event(t);
	CHECK(!strcmp(e->id, id), "end carries the start's id");
	CHECK(e->last_frame == 3 && e->frames == 3, "last %lld frames %lld",
	      (long long)e->last_frame, (long long)e->frames);
	/* a new event gets a new id; 0.85 does not start one */
	CHECK(ev_tracker_feed(t, 0.85, 4, 0.4) == EV_NONE, "0.85 does not start");
	CHECK(ev_tracker_feed(t, 1.1, 5, 0.5) == EV_START, "restart");
	CHECK(strcmp(ev_tracker_event(t)->id, id) != 0, "new id");
	/* NaN counts as below */
	CHECK(ev_tracker_feed(t, NAN, 6, 0.6) == EV_END, "NaN ends");
	CHECK(ev_tracker_feed(t, NAN, 7, 0.7) == EV_NONE, "NaN does not start");
	ev_tracker_destroy(&t);
}

TEST(throttled_updates)
{
	ev_params p = P(1.0, 1.0, 1, 1.0);
	ev_tracker *t = ev_tracker_new(&p);
	int starts = 0, updates = 0;
	double when[16];
	for (int i = 0; i < 50; i++) {   /* 5 s at 10 fps, always above */
		ev_action a = ev_tracker_feed(t, 2.0, i, i * 0.1 + 1e-9);
		if (a == EV_START) starts++;
		if (a == EV_UPDATE && updates < 16) when[updates++] = i * 0.1;
	}
	CHECK(starts == 1, "starts %d", starts);
	CHECK(updates == 4, "updates %d, want 4 (one a second after the start)", updates);
	for (int i = 1; i < updates; i++)
		CHECK(when[i] - when[i - 1] >= 0.999, "updates %g and %g too close", when[i - 1], when[i]);
	CHECK(ev_tracker_event(t)->updates == 4, "counter");
	/* interval 0: every frame */
	p.update_interval = 0;
	ev_tracker_set_params(t, &p);
	CHECK(ev_tracker_feed(t, 2.0, 50, 5.0) == EV_UPDATE, "every frame 1");
	CHECK(ev_tracker_feed(t, 2.0, 51, 5.0) == EV_UPDATE, "every frame 2");
	ev_tracker_destroy(&t);
}

TEST(flush)
{
	ev_params p = P(1.0, 0.5, 2, 1.0);
	ev_tracker *t = ev_tracker_new(&p);
	CHECK(ev_tracker_flush(t) == EV_NONE, "idle flush");
	ev_tracker_feed(t, 3, 0, 0);
	CHECK(ev_tracker_flush(t) == EV_NONE, "pending is not an event");
	/* pending was reset by the flush: needs 2 again */
	CHECK(ev_tracker_feed(t, 3, 1, 0) == EV_NONE, "pending reset");
	CHECK(ev_tracker_feed(t, 3, 2, 0) == EV_START, "start");
	CHECK(ev_tracker_flush(t) == EV_END, "flush ends");
	CHECK(ev_tracker_flush(t) == EV_NONE, "only once");
	ev_tracker_destroy(&t);
}

static void fill(float *m, int mw, int x0, int y0, int w, int h, float v)
{
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++)
			m[y * mw + x] = v;
}

TEST(regions_from_map)
{
	enum { MW = 40, MH = 30 };
	float map[MW * MH] = { 0 };
	fill(map, MW, 5, 5, 5, 5, 2.0f);
	fill(map, MW, 25, 15, 10, 10, 3.0f);
	map[2 * MW + 20] = 5.0f;           /* a lone hot pixel */
	ev_region r[8];
	/* no blur: the lone pixel is dropped by min_area */
	int n = ev_regions(map, MW, MH, 1.0, 1.0, 0, 4, NULL, 80, 60, r, 8);
	REQUIRE(n == 2, "found %d regions, want 2", n);
	CHECK(r[0].x == 50 && r[0].y == 30 && r[0].w == 20 && r[0].h == 20, "r0 %d,%d %dx%d",
	      r[0].x, r[0].y, r[0].w, r[0].h);
	CHECK(fabs(r[0].score - 3.0) < 1e-6 && r[0].area == 100, "r0 score %g area %d", r[0].score,
	      r[0].area);
	CHECK(r[1].x == 10 && r[1].y == 10 && r[1].w == 10 && r[1].h == 10, "r1 %d,%d %dx%d",
	      r[1].x, r[1].y, r[1].w, r[1].h);
	CHECK(fabs(r[1].score - 2.0) < 1e-6, "r1 score %g", r[1].score);
	/* min_area 1 keeps the lone pixel, it has the best score */
	n = ev_regions(map, MW, MH, 1.0, 1.0, 0, 1, NULL, 80, 60, r, 8);
	CHECK(n == 3 && r[0].score == 5.0 && r[0].w == 2 && r[0].h == 2, "lone pixel: n %d", n);
	/* blur 1: the lone pixel's 3x3 mean (0.56) is under 1 -> gone, even at area 1 */
	n = ev_regions(map, MW, MH, 1.0, 1.0, 1, 1, NULL, 80, 60, r, 8);
	CHECK(n == 2, "blurred: %d regions", n);
	/* blurred boxes grow by at most the blur radius */
	CHECK(r[0].w <= 24 && r[0].w >= 20, "blurred box w %d", r[0].w);
	/* only 1 slot: count is still 2, best first */
	n = ev_regions(map, MW, MH, 1.0, 1.0, 0, 4, NULL, 80, 60, r, 1);
	CHECK(n == 2 && r[0].score == 3.0, "truncated");
	/* a ROI around the first blob only */
	int roi[4] = { 0, 0, 30, 30 };   /* source pixels */
	ev_rect w = ev_rect_to_map(roi, 80, 60, MW, MH);
	CHECK(w.x0 == 0 && w.y0 == 0 && w.x1 == 15 && w.y1 == 15, "roi rect %d %d %d %d", w.x0, w.y0,
	      w.x1, w.y1);
	n = ev_regions(map, MW, MH, 1.0, 1.0, 0, 4, &w, 80, 60, r, 8);
	CHECK(n == 1 && r[0].score == 2.0, "roi: n %d", n);
	CHECK(fabs(ev_map_mean(map, MW, MH, w) - 2.0 * 25 / 225) < 1e-9, "roi mean %g",
	      ev_map_mean(map, MW, MH, w));
	/* nothing above threshold */
	CHECK(ev_regions(map, MW, MH, 10.0, 10.0, 0, 1, NULL, 80, 60, r, 8) == 0, "none");
}

TEST(regions_connectivity_and_scaling)
{
	enum { MW = 8, MH = 8 };
	float map[MW * MH] = { 0 };
	/* a diagonal line is one component (8-connectivity) */
	for (int i = 0; i < 6; i++)
		map[i * MW + i] = 1.0f;
	ev_region r[4];
	int n = ev_regions(map, MW, MH, 0.5, 0.5, 0, 1, NULL, 360, 240, r, 4);
	REQUIRE(n == 1, "diagonal: %d components", n);
	CHECK(r[0].area == 6, "area %d", r[0].area);
	/* 6 cells of 45 x 30 source pixels */
	CHECK(r[0].x == 0 && r[0].y == 0 && r[0].w == 270 && r[0].h == 180, "box %d,%d %dx%d",
	      r[0].x, r[0].y, r[0].w, r[0].h);
	/* non-integer scale: the box covers the cells' source pixels */
	memset(map, 0, sizeof map);
	map[3 * MW + 7] = 1.0f;
	n = ev_regions(map, MW, MH, 0.5, 0.5, 0, 1, NULL, 100, 50, r, 4);
	CHECK(n == 1 && r[0].x == 87 && r[0].w == 13 && r[0].y == 18 && r[0].h == 7,
	      "edge cell %d,%d %dx%d", r[0].x, r[0].y, r[0].w, r[0].h);
	/* a frame-sized component does not blow the stack */
	static float big[480 * 640];
	for (int i = 0; i < 480 * 640; i++)
		big[i] = 1.0f;
	n = ev_regions(big, 640, 480, 0.5, 0.5, 2, 1, NULL, 640, 480, r, 4);
	CHECK(n == 1 && r[0].w == 640 && r[0].h == 480, "full frame");
}

/* Hysteresis: a weak blob with a strong core is one region with the blob's
 * extent; a weak blob without one is no region; grow >= threshold is plain
 * thresholding (the core alone). */
TEST(regions_hysteresis)
{
	enum { MW = 40, MH = 30 };
	float map[MW * MH] = { 0 };
	fill(map, MW, 4, 4, 12, 10, 1.0f);    /* object: x 4..15, y 4..13 */
	fill(map, MW, 8, 7, 3, 3, 5.0f);      /* its core */
	fill(map, MW, 25, 15, 10, 10, 1.0f);  /* something as weak, no core */
	ev_region r[4];
	int n = ev_regions(map, MW, MH, 3.0, 0.5, 0, 1, NULL, MW, MH, r, 4);
	CHECK(n == 1 && r[0].x == 4 && r[0].y == 4 && r[0].w == 12 && r[0].h == 10 && r[0].area == 120,
	      "grown: n %d, %d,%d %dx%d area %d", n, r[0].x, r[0].y, r[0].w, r[0].h, r[0].area);
	CHECK(n == 1 && fabs(r[0].score - (111 * 1.0 + 9 * 5.0) / 120) < 1e-6, "score %g", r[0].score);
	n = ev_regions(map, MW, MH, 3.0, 3.0, 0, 1, NULL, MW, MH, r, 4);
	CHECK(n == 1 && r[0].x == 8 && r[0].y == 7 && r[0].w == 3 && r[0].h == 3, "core only: n %d, %d,%d %dx%d",
	      n, r[0].x, r[0].y, r[0].w, r[0].h);
	n = ev_regions(map, MW, MH, 0.5, 3.0, 0, 1, NULL, MW, MH, r, 4);
	CHECK(n == 2, "grow above the threshold is plain thresholding at it: %d regions", n);
}

/* ev_map_peak against a direct box blur (clipped at the edges) on random
 * maps of several sizes and radii, whole map and inside a rectangle; and
 * the property calibration relies on: ev_regions at the peak finds nothing,
 * just below it finds the component that holds it. */
TEST(map_peak)
{
	unsigned seed = 7;
	const int sizes[][2] = { { 1, 1 }, { 7, 5 }, { 32, 24 }, { 45, 30 } };
	for (int si = 0; si < 4; si++)
		for (int blur = 0; blur <= 3; blur++) {
			int mw = sizes[si][0], mh = sizes[si][1];
			float *m = malloc(sizeof *m * mw * mh);
			for (int i = 0; i < mw * mh; i++)
				m[i] = (float)(rand_r(&seed) % 1000) / 1000.0f;
			ev_rect in = { mw / 4, mh / 3, mw - mw / 4, mh };
			for (int part = 0; part < 2; part++) {
				ev_rect w = part ? in : (ev_rect){ 0, 0, mw, mh };
				double want = 0;
				for (int y = w.y0; y < w.y1; y++)
					for (int x = w.x0; x < w.x1; x++) {
						double sum = 0;
						int n = 0;
						for (int yy = y - blur; yy <= y + blur; yy++)
							for (int xx = x - blur; xx <= x + blur; xx++)
								if (xx >= 0 && yy >= 0 && xx < mw && yy < mh) {
									sum += m[yy * mw + xx];
									n++;
								}
						if (sum / n > want)
							want = sum / n;
					}
				double got = ev_map_peak(m, mw, mh, blur, part ? &in : NULL);
				CHECK(fabs(got - want) <= 1e-9 * (1 + want), "%dx%d blur %d part %d: %.12g, want %.12g",
				      mw, mh, blur, part, got, want);
				if (part == 0 && want > 0) {
					ev_region r[4];
					int at = ev_regions(m, mw, mh, got, got, blur, 1, NULL, mw, mh, r, 4);
					int below = ev_regions(m, mw, mh, got * (1 - 1e-6), got * (1 - 1e-6), blur, 1, NULL, mw, mh, r, 4);
					CHECK(at == 0 && below >= 1, "%dx%d blur %d: %d regions at the peak, %d below",
					      mw, mh, blur, at, below);
				}
			}
			free(m);
		}
}

TEST(uuid_and_time)
{
	regex_t re;
	regcomp(&re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
	        REG_EXTENDED | REG_NOSUB);
	char ids[200][37];
	int bad = 0, dup = 0;
	for (int i = 0; i < 200; i++) {
		ev_uuid(ids[i]);
		if (regexec(&re, ids[i], 0, NULL, 0))
			bad++;
		for (int j = 0; j < i; j++)
			if (!strcmp(ids[i], ids[j]))
				dup++;
	}
	regfree(&re);
	CHECK(bad == 0, "%d malformed, e.g. %s", bad, ids[0]);
	CHECK(dup == 0, "%d duplicates", dup);
	char t[32];
	ev_rfc3339(0, t);
	CHECK(!strcmp(t, "1970-01-01T00:00:00.000Z"), "%s", t);
	ev_rfc3339(1700000000123456LL, t);
	CHECK(!strcmp(t, "2023-11-14T22:13:20.123Z"), "%s", t);
}

int main(void)
{
	RUN(min_duration);
	RUN(hysteresis);
	RUN(throttled_updates);
	RUN(flush);
	RUN(regions_from_map);
	RUN(regions_connectivity_and_scaling);
	RUN(regions_hysteresis);
	RUN(map_peak);
	RUN(uuid_and_time);
	CHECK_EXIT();
}
