/*
 * events.c — event state machine and region extraction (see events.h).
 *
 * Facts behind the design:
 *  - The tracker is pure logic over (score, frame, clock) so it can be unit
 *    tested frame by frame; the scheduler owns one per stream and is its
 *    only user (no locking).
 *  - The box blur is a summed-area table (O(1) per pixel for any radius);
 *    components are found with an explicit stack (no recursion, so a
 *    frame-sized component cannot overflow the thread's stack).
 *  - Scaling a box from map cells to source pixels takes the outer edges
 *    (floor of the start, ceiling of the end), so the box in the source
 *    frame always covers every source pixel that fed the component.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "events.h"

struct ev_tracker {
	ev_params p;
	int active;
	int pending;          /* consecutive frames >= threshold while idle */
	int64_t pending_first;
	double pending_peak;
	int64_t pending_peak_frame;
	ev_event ev;
};

ev_tracker *ev_tracker_new(const ev_params *p)
{
	ev_tracker *t = calloc(1, sizeof *t);
	if (t)
		ev_tracker_set_params(t, p);
	return t;
}

void ev_tracker_destroy(ev_tracker **t)
{
	if (t && *t) {
		free(*t);
		*t = NULL;
	}
}

void ev_tracker_set_params(ev_tracker *t, const ev_params *p)
{
	t->p = *p;
	if (t->p.min_duration < 1)
		t->p.min_duration = 1;
	if (!(t->p.hysteresis > 0 && t->p.hysteresis <= 1))
		t->p.hysteresis = 1;
	if (t->p.update_interval < 0)
		t->p.update_interval = 0;
}

ev_action ev_tracker_feed(ev_tracker *t, double score, int64_t frame, double now)
{
	if (!t->active) {
		if (!(score >= t->p.threshold)) {   /* NaN counts as below */
			t->pending = 0;
			return EV_NONE;
		}
		if (t->pending == 0 || score > t->pending_peak) {
			t->pending_peak = score;
			t->pending_peak_frame = frame;
		}
		if (t->pending++ == 0)
			t->pending_first = frame;
		if (t->pending < t->p.min_duration)
			return EV_NONE;
		memset(&t->ev, 0, sizeof t->ev);
		ev_uuid(t->ev.id);
		t->ev.first_frame = t->pending_first;
		t->ev.last_frame = frame;
		t->ev.frames = t->pending;
		t->ev.peak_score = t->pending_peak;
		t->ev.peak_frame = t->pending_peak_frame;
		t->ev.started = now;
		t->ev.last_emit = now;
		t->active = 1;
		t->pending = 0;
		return EV_START;
	}
	t->ev.last_frame = frame;
	if (!(score >= t->p.threshold * t->p.hysteresis)) {
		t->active = 0;
		return EV_END;
	}
	t->ev.frames++;
	if (score > t->ev.peak_score) {
		t->ev.peak_score = score;
		t->ev.peak_frame = frame;
	}
	if (now - t->ev.last_emit >= t->p.update_interval) {
		t->ev.last_emit = now;
		t->ev.updates++;
		return EV_UPDATE;
	}
	return EV_NONE;
}

ev_action ev_tracker_flush(ev_tracker *t)
{
	t->pending = 0;
	if (!t->active)
		return EV_NONE;
	t->active = 0;
	return EV_END;
}

int ev_tracker_active(const ev_tracker *t) { return t->active; }
const ev_event *ev_tracker_event(const ev_tracker *t) { return &t->ev; }

const char *ev_action_name(ev_action a)
{
	switch (a) {
	case EV_START: return "start";
	case EV_UPDATE: return "update";
	case EV_END: return "end";
	default: return "none";
	}
}

/* ---- regions ------------------------------------------------------------ */

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

ev_rect ev_rect_to_map(const int roi[4], int src_w, int src_h, int mw, int mh)
{
	ev_rect r = { 0, 0, mw, mh };
	if (!roi || src_w <= 0 || src_h <= 0)
		return r;
	r.x0 = clampi((int)floor((double)roi[0] * mw / src_w), 0, mw);
	r.y0 = clampi((int)floor((double)roi[1] * mh / src_h), 0, mh);
	r.x1 = clampi((int)ceil((double)(roi[0] + roi[2]) * mw / src_w), 0, mw);
	r.y1 = clampi((int)ceil((double)(roi[1] + roi[3]) * mh / src_h), 0, mh);
	return r;
}

double ev_map_mean(const float *map, int mw, int mh, ev_rect r)
{
	double s = 0;
	long n = 0;
	for (int y = r.y0; y < r.y1 && y < mh; y++)
		for (int x = r.x0; x < r.x1 && x < mw; x++) {
			s += map[(size_t)y * mw + x];
			n++;
		}
	return n ? s / n : 0;
}

static int cmp_region(const void *a, const void *b)
{
	const ev_region *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return y->area - x->area;
}

/* The map box-blurred with radius blur (the box clipped at the edges), into
 * out (mw x mh); blur 0 copies. -1 on allocation failure. */
static int box_blur(const float *map, int mw, int mh, int blur, double *out)
{
	if (blur <= 0) {
		for (size_t i = 0; i < (size_t)mw * mh; i++)
			out[i] = map[i];
		return 0;
	}
	/* summed-area table, (mw+1) x (mh+1) */
	double *sat = calloc((size_t)(mw + 1) * (mh + 1), sizeof *sat);
	if (!sat)
		return -1;
	for (int y = 0; y < mh; y++) {
		double row = 0;
		for (int x = 0; x < mw; x++) {
			row += map[(size_t)y * mw + x];
			sat[(size_t)(y + 1) * (mw + 1) + x + 1] = sat[(size_t)y * (mw + 1) + x + 1] + row;
		}
	}
	for (int y = 0; y < mh; y++)
		for (int x = 0; x < mw; x++) {
			int x0 = clampi(x - blur, 0, mw), x1 = clampi(x + blur + 1, 0, mw);
			int y0 = clampi(y - blur, 0, mh), y1 = clampi(y + blur + 1, 0, mh);
			double s = sat[(size_t)y1 * (mw + 1) + x1] - sat[(size_t)y0 * (mw + 1) + x1] -
			           sat[(size_t)y1 * (mw + 1) + x0] + sat[(size_t)y0 * (mw + 1) + x0];
			out[(size_t)y * mw + x] = s / ((double)(x1 - x0) * (y1 - y0));
		}
	free(sat);
	return 0;
}

double ev_map_peak(const float *map, int mw, int mh, int blur, const ev_rect *within)
{
	if (mw <= 0 || mh <= 0)
		return 0;
	double *b = malloc(sizeof *b * (size_t)mw * mh);
	if (!b || box_blur(map, mw, mh, blur, b)) {
		free(b);
		return -1;
	}
	ev_rect w = within ? *within : (ev_rect){ 0, 0, mw, mh };
	double peak = 0;
	for (int y = w.y0; y < w.y1; y++)
		for (int x = w.x0; x < w.x1; x++)
			if (b[(size_t)y * mw + x] > peak)
				peak = b[(size_t)y * mw + x];
	free(b);
	return peak;
}

int ev_regions(const float *map, int mw, int mh, double thr, double grow, int blur, int min_area,
               const ev_rect *within, int src_w, int src_h, ev_region *out, int max)
{
	const double lo = grow < thr ? grow : thr;
	if (mw <= 0 || mh <= 0)
		return 0;
	const size_t N = (size_t)mw * mh;
	double *blurred = malloc(sizeof *blurred * N);
	unsigned char *mask = malloc(N);
	int *stack = malloc(sizeof(int) * N);
	ev_region *all = NULL;
	int nall = 0, cap = 0, found = -1;
	if (!blurred || !mask || !stack || box_blur(map, mw, mh, blur, blurred))
		goto done;
	ev_rect w = within ? *within : (ev_rect){ 0, 0, mw, mh };
	for (int y = 0; y < mh; y++)
		for (int x = 0; x < mw; x++) {
			size_t i = (size_t)y * mw + x;
			mask[i] = x >= w.x0 && x < w.x1 && y >= w.y0 && y < w.y1 && blurred[i] > lo;
		}
	for (size_t s = 0; s < N; s++) {
		if (!mask[s])
			continue;
		int sp = 0, x0 = mw, y0 = mh, x1 = -1, y1 = -1, area = 0, seeded = 0;
		double sum = 0;
		stack[sp++] = (int)s;
		mask[s] = 0;
		while (sp) {
			int i = stack[--sp], x = i % mw, y = i / mw;
			area++;
			sum += map[i];
			seeded |= blurred[i] > thr;
			if (x < x0) x0 = x;
			if (x > x1) x1 = x;
			if (y < y0) y0 = y;
			if (y > y1) y1 = y;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int nx = x + dx, ny = y + dy;
					if (nx < 0 || ny < 0 || nx >= mw || ny >= mh)
						continue;
					int j = ny * mw + nx;
					if (mask[j]) {
						mask[j] = 0;
						stack[sp++] = j;
					}
				}
		}
		if (area < min_area || !seeded)
			continue;
		if (nall == cap) {
			int nc = cap ? cap * 2 : 16;
			ev_region *na = realloc(all, sizeof *na * nc);
			if (!na)
				goto done;
			all = na;
			cap = nc;
		}
		ev_region *r = &all[nall++];
		int sx0 = (int)floor((double)x0 * src_w / mw), sy0 = (int)floor((double)y0 * src_h / mh);
		int sx1 = (int)ceil((double)(x1 + 1) * src_w / mw), sy1 = (int)ceil((double)(y1 + 1) * src_h / mh);
		sx0 = clampi(sx0, 0, src_w);
		sy0 = clampi(sy0, 0, src_h);
		sx1 = clampi(sx1, sx0, src_w);
		sy1 = clampi(sy1, sy0, src_h);
		r->x = sx0;
		r->y = sy0;
		r->w = sx1 - sx0;
		r->h = sy1 - sy0;
		r->area = area;
		r->score = sum / area;
	}
	if (nall > 1)
		qsort(all, nall, sizeof *all, cmp_region);
	for (int i = 0; i < nall && i < max; i++)
		out[i] = all[i];
	found = nall;
done:
	free(blurred);
	free(mask);
	free(stack);
	free(all);
	return found;
}

/* ---- ids and times ----------------------------------------------------- */

static int urandom_fd = -1;
static pthread_once_t urandom_once = PTHREAD_ONCE_INIT;

static void urandom_open(void)
{
	urandom_fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
}

void ev_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;
	pthread_once(&urandom_once, urandom_open);
	while (urandom_fd >= 0 && got < sizeof b) {
		ssize_t n = read(urandom_fd, b + got, sizeof b - got);
		if (n <= 0)
			break;
		got += n;
	}
	if (got < sizeof b && getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* last resort: never fails, never repeats within a process */
		static unsigned long long ctr;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long v = ((unsigned long long)ts.tv_sec << 30) ^ ts.tv_nsec ^
		                       (__atomic_add_fetch(&ctr, 1, __ATOMIC_RELAXED) << 48);
		memcpy(b, &v, 8);
		v ^= (unsigned long long)getpid() * 0x9E3779B97F4A7C15ull;
		memcpy(b + 8, &v, 8);
	}
	b[6] = (b[6] & 0x0f) | 0x40;   /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;   /* RFC 4122 variant */
	snprintf(out, 37,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

void ev_rfc3339(int64_t wall_us, char out[32])
{
	time_t s = (time_t)(wall_us / 1000000);
	int ms = (int)((wall_us % 1000000) / 1000);
	if (ms < 0) {
		ms += 1000;
		s--;
	}
	struct tm tm;
	gmtime_r(&s, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, ms);
}
