/*
 * publish.h — the ZeroMQ PUB side of the daemon: events and status.
 *
 * Wire format, one multipart message each:
 *   events: [topic "lmdd.event.<stream>"] [JSON] [JPEG snapshot] [PNG heat-map]
 *   status: [topic "lmdd.status"] [JSON]
 * The JSON says which images follow ("snapshot": true/false, "heatmap":
 * true/false); when only the heat-map is attached, the JPEG part is present
 * and empty so part positions never shift. Schemas: docs/daemon.md.
 *
 * A publisher owns one PUB socket (bound to every configured endpoint) and
 * one thread that encodes images and sends, so the scheduler never waits on
 * JPEG encoding or the network. Its queue is bounded: when full, updates
 * and status are dropped (counted), starts and ends are always kept.
 * Each message carries "seq", a per-publisher counter per topic kind
 * (events and status count separately), so a subscriber sees lost
 * messages as gaps.
 */
#ifndef LMDD_PUBLISH_H
#define LMDD_PUBLISH_H
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "sink.h"

struct AVFrame;
struct cJSON;

typedef struct {
	char *const *endpoints;
	int n_endpoints;
	int sndhwm;
	int linger_ms;
	int curve;
	const char *secret_key_file;
	const char *allowed_keys_file;
	int snapshot_quality;
	int snapshot_max_width;
	int queue_max;           /* 0 = 256 */
} pub_opts;

typedef struct pub_event {
	ev_action type;
	char id[37];
	char stream[64];
	char model[64];
	char reason[24];         /* end: score | stream_lost | stream_ended | shutdown | reconfigured */
	int64_t frame, first_frame, peak_frame, frames;
	int64_t pts_us;          /* INT64_MIN if unknown */
	int64_t wall_us;         /* when this frame was decoded */
	int64_t start_wall_us;   /* when the event's first frame was decoded */
	int64_t mono_us;         /* monotonic decode time (latency), 0 = none */
	double score, threshold, peak_score;
	int src_w, src_h;
	ev_region *regions;      /* malloc'd, n_regions */
	int n_regions;
	struct AVFrame *snapshot;  /* a ref, or NULL */
	float *heatmap;          /* malloc'd map_w*map_h, or NULL */
	int map_w, map_h;
	double heat_vmax;
} pub_event;

typedef struct {
	int64_t events_sent, status_sent, dropped, encode_failures;
	int queue;
	int64_t zap_allowed, zap_denied;
	double lat_p50_ms, lat_p99_ms;   /* decoded -> event published; -1 if none */
	int lat_samples;
} pub_stats;

typedef struct publisher publisher;

publisher *publisher_new(const pub_opts *o, char *err, size_t errlen);
/* Sends what is queued, then closes (waiting up to linger for subscribers). */
void publisher_destroy(publisher **p);
/* Queue an event; takes ownership of ev and everything it points to. */
void publisher_event(publisher *p, pub_event *ev);
/* Queue a status object ("seq" is added); takes ownership. */
void publisher_status(publisher *p, struct cJSON *status);
/* Re-read the CURVE allow-list; 0 or -1 with err. */
int publisher_reload_keys(publisher *p, const char *allowed_keys_file, char *err, size_t errlen);
void publisher_get_stats(publisher *p, pub_stats *st);
/* Register a sink (sink.h): copied; before the first event. 0, or -1 when
 * SINK_MAX are registered already. */
int publisher_add_sink(publisher *p, const sink *s);
void pub_event_free(pub_event **ev);
/* The event as JSON (as sent, without images); caller frees. */
char *pub_event_json(const pub_event *ev, int64_t seq, int snapshot, int heatmap);
#endif
