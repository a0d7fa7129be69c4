/*
 * events.h — turning a stream's per-frame scores into events, and a frame's
 * per-pixel distance map into anomalous regions.
 *
 * Event lifecycle, per stream (ev_tracker):
 *   idle --(min_duration consecutive frames with score >= threshold)--> START
 *   active: every frame with score >= threshold*hysteresis keeps it open;
 *           an UPDATE is due at most every update_interval seconds;
 *   active --(score < threshold*hysteresis)--> END (back to idle).
 * Hysteresis (factor <= 1) keeps an event from flickering when the score
 * hovers around the threshold; min_duration ignores one-frame blips.
 *
 * Regions (ev_regions): the map is box-blurred (single noisy pixels do not
 * make regions), thresholded with hysteresis (components of the blurred map
 * above a low "grow" threshold that reach the high one somewhere: the high
 * one decides *whether* something is there, the low one its extent, as in
 * Canny's edge linking), split into 8-connected components; each
 * component gives a bounding box scaled to source-frame pixels and a score =
 * mean of the unblurred map over its pixels. Largest scores first.
 */
#ifndef LMDD_EVENTS_H
#define LMDD_EVENTS_H
#include <stdint.h>

typedef struct {
	double threshold;
	double hysteresis;       /* (0, 1] */
	int min_duration;        /* frames, >= 1 */
	double update_interval;  /* seconds; 0 = every frame */
} ev_params;

typedef enum { EV_NONE = 0, EV_START, EV_UPDATE, EV_END } ev_action;

typedef struct {
	char id[37];             /* UUID v4 text */
	int64_t first_frame;     /* first frame at/above threshold */
	int64_t last_frame;      /* last frame fed */
	int64_t frames;          /* frames since first_frame that kept it open */
	double peak_score;
	int64_t peak_frame;
	double started;          /* caller's clock at START */
	double last_emit;        /* caller's clock at the last START/UPDATE */
	int updates;             /* UPDATE actions so far */
} ev_event;

typedef struct ev_tracker ev_tracker;

ev_tracker *ev_tracker_new(const ev_params *p);
void ev_tracker_destroy(ev_tracker **t);
void ev_tracker_set_params(ev_tracker *t, const ev_params *p);
/* Feed one analysed frame's score; now = a monotonic clock in seconds. */
ev_action ev_tracker_feed(ev_tracker *t, double score, int64_t frame, double now);
/* End the open event, if any (shutdown, stream removed): EV_END or EV_NONE. */
ev_action ev_tracker_flush(ev_tracker *t);
int ev_tracker_active(const ev_tracker *t);
/* The open event, or the one just ended by the last feed/flush. */
const ev_event *ev_tracker_event(const ev_tracker *t);
const char *ev_action_name(ev_action a);

typedef struct {
	int x, y, w, h;          /* bounding box, source-frame pixels */
	int area;                /* pixels of the map */
	double score;            /* mean map value over the component */
} ev_region;

/* A rectangle of the map (half-open: x0 <= x < x1). */
typedef struct { int x0, y0, x1, y1; } ev_rect;

/* Source-pixel rectangle (x, y, w, h) of a src_w x src_h frame -> map cells
 * of an mw x mh map covering it. */
ev_rect ev_rect_to_map(const int roi[4], int src_w, int src_h, int mw, int mh);
/* Mean of the map over r. */
double ev_map_mean(const float *map, int mw, int mh, ev_rect r);

/*
 * Regions of map (mw x mh): 8-connected components where the blurred map
 * exceeds min(grow, pix_threshold) that exceed pix_threshold somewhere,
 * inside `within` (NULL = whole map); grow >= pix_threshold gives plain
 * thresholding. Boxes are scaled to src_w x src_h.
 * Writes up to max regions, best score first; returns how many were found
 * in total (may exceed max), or -1 on allocation failure.
 */
int ev_regions(const float *map, int mw, int mh, double pix_threshold, double grow, int blur, int min_area,
               const ev_rect *within, int src_w, int src_h, ev_region *out, int max);

/* Largest value of the map box-blurred as ev_regions blurs it (radius
 * blur), inside `within` (NULL = whole map); -1 on allocation failure.
 * Over normal frames, its high quantile is the pixel threshold at which a
 * normal frame shows no region (lmdd calibrate records it). */
double ev_map_peak(const float *map, int mw, int mh, int blur, const ev_rect *within);

/* UUID v4 from /dev/urandom. */
void ev_uuid(char out[37]);
/* RFC 3339 UTC with milliseconds: 2024-05-01T12:34:56.789Z */
void ev_rfc3339(int64_t wall_us, char out[32]);
#endif
