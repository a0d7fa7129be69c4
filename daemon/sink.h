/*
 * sink.h — where the publisher's messages go besides ZeroMQ: the MQTT
 * client, webhooks, the event store and the web console's live updates
 * each register one sink.
 *
 * Facts behind the design:
 *  - The publisher thread encodes an event once (JSON with its seq, JPEG
 *    snapshot, PNG heat-map), sends it on the PUB socket, then hands the
 *    same message to every sink, in registration order. So every output
 *    sees the same seq, the same bytes and the same order, and encoding is
 *    never done twice.
 *  - A sink's callbacks run on the publisher thread and must not block on
 *    I/O: a sink that talks to a network or a disk copies what it keeps into
 *    its own bounded queue and returns; its own thread does the rest and
 *    counts what it drops. (The publisher's own queue is what protects the
 *    scheduler; a slow sink would only delay the other sinks.)
 *  - The status message is assembled on the publisher thread as well: each
 *    sink's `stats` callback adds its counters to it (an object under the
 *    sink's name), then every sink's `status` callback sees the final JSON.
 *  - Sinks are added after publisher_new() and before the first event, and
 *    live as long as the publisher: publisher_destroy() flushes the queue
 *    through every sink (the final `end` events of a shutdown included),
 *    then calls each sink's `destroy`.
 */
#ifndef LMDD_SINK_H
#define LMDD_SINK_H
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct pub_event;

typedef struct {
	const struct pub_event *ev; /* the event as the scheduler made it (publish.h) */
	const char *topic;         /* "lmdd.event.<stream>" */
	const char *json;          /* the JSON as sent over ZeroMQ (with "seq") */
	int64_t seq;
	const uint8_t *jpeg;       /* snapshot, or NULL */
	size_t jpeg_len;
	const uint8_t *png;        /* heat-map, or NULL */
	size_t png_len;
} sink_event;

typedef struct {
	const char *name;          /* the status object's key, e.g. "mqtt" */
	void *ctx;
	/* each callback may be NULL */
	void (*event)(void *ctx, const sink_event *e);
	void (*stats)(void *ctx, struct cJSON *obj);          /* add counters to obj */
	void (*status)(void *ctx, const char *json);          /* the status message as sent */
	void (*destroy)(void *ctx);                           /* after the last message */
} sink;

#define SINK_MAX 8
#endif
