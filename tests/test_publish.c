/*
 * test_publish.c — daemon/publish.c's sinks (sink.h): every sink sees each
 * event once, in order, with the JSON and seq the ZeroMQ subscriber gets;
 * the status message carries each sink's counters under its name and every
 * sink sees the message as sent; the final events reach the sinks before
 * their destroy; a sink cannot join once messages flow. A real SUB socket
 * receives the same JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zmq.h>

#include "check.h"
#include "publish.h"

typedef struct {
	char json[8][2048];
	int64_t seq[8];
	int nev, nstatus, destroyed, events_at_destroy;
	char status[4096];
} rec;

static void rec_event(void *ctx, const sink_event *e)
{
	rec *r = ctx;
	if (r->nev < 8) {
		snprintf(r->json[r->nev], sizeof r->json[0], "%s", e->json);
		r->seq[r->nev] = e->seq;
	}
	r->nev++;
}
static void rec_stats(void *ctx, cJSON *o)
{
	rec *r = ctx;
	cJSON_AddNumberToObject(o, "seen", r->nev);
}
static void rec_status(void *ctx, const char *json)
{
	rec *r = ctx;
	snprintf(r->status, sizeof r->status, "%s", json);
	r->nstatus++;
}
static void rec_destroy(void *ctx)
{
	rec *r = ctx;
	r->destroyed++;
	r->events_at_destroy = r->nev;
}

static pub_event *event(ev_action type, int64_t frame)
{
	pub_event *e = calloc(1, sizeof *e);
	e->type = type;
	snprintf(e->id, sizeof e->id, "00000000-0000-4000-8000-000000000001");
	snprintf(e->stream, sizeof e->stream, "cam1");
	snprintf(e->model, sizeof e->model, "m");
	e->frame = e->first_frame = frame;
	e->pts_us = INT64_MIN;
	e->score = 2;
	e->threshold = 1;
	return e;
}

TEST(sinks_see_every_message_in_order)
{
	char ep[128];
	snprintf(ep, sizeof ep, "ipc:///tmp/lmdd-test-publish-%d.sock", (int)getpid());
	char *eps[1] = { ep };
	pub_opts o = { .endpoints = eps, .n_endpoints = 1, .sndhwm = 100, .linger_ms = 500,
		       .snapshot_quality = 4 };
	char err[256] = "";
	publisher *p = publisher_new(&o, err, sizeof err);
	REQUIRE(p, "publisher_new: %s", err);
	rec a = { 0 }, b = { 0 };
	sink sa = { .name = "a", .ctx = &a, .event = rec_event, .stats = rec_stats, .status = rec_status,
		    .destroy = rec_destroy };
	sink sb = { .name = "b", .ctx = &b, .event = rec_event, .destroy = rec_destroy };
	CHECK(publisher_add_sink(p, &sa) == 0, "add a");
	CHECK(publisher_add_sink(p, &sb) == 0, "add b");
	/* a real subscriber on the same endpoint */
	void *zc = zmq_ctx_new(), *sub = zmq_socket(zc, ZMQ_SUB);
	zmq_connect(sub, ep);
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
	int rcvto = 3000;
	zmq_setsockopt(sub, ZMQ_RCVTIMEO, &rcvto, sizeof rcvto);
	usleep(300 * 1000); /* the slow joiner */
	publisher_event(p, event(EV_START, 10));
	publisher_event(p, event(EV_UPDATE, 11));
	cJSON *st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "type", "status");
	publisher_status(p, st);
	publisher_event(p, event(EV_END, 12));
	CHECK(publisher_add_sink(p, &sa) == -1, "a sink joined after messages were queued");
	/* what the subscriber got: 3 events + 1 status, JSON in part 2 */
	char zjson[4][2048] = { { 0 } };
	for (int m = 0; m < 4; m++) {
		char topic[128];
		int n = zmq_recv(sub, topic, sizeof topic - 1, 0);
		REQUIRE(n > 0, "subscriber: message %d: %s", m, zmq_strerror(zmq_errno()));
		n = zmq_recv(sub, zjson[m], sizeof zjson[m] - 1, 0);
		REQUIRE(n > 0, "subscriber: JSON of message %d", m);
		zjson[m][n] = 0;
	}
	publisher_destroy(&p);
	CHECK(a.nev == 3 && b.nev == 3, "events seen: a %d, b %d", a.nev, b.nev);
	for (int i = 0; i < 3 && i < a.nev; i++) {
		CHECK(a.seq[i] == i + 1, "a: event %d seq %lld", i, (long long)a.seq[i]);
		CHECK(!strcmp(a.json[i], b.json[i]), "a and b saw different JSON for event %d", i);
	}
	CHECK(strstr(a.json[0], "\"type\":\"start\"") && strstr(a.json[2], "\"type\":\"end\""), "order: %s / %s",
	      a.json[0], a.json[2]);
	/* the subscriber's events are the sinks' bytes; its status the one the sinks saw */
	CHECK(!strcmp(zjson[0], a.json[0]) && !strcmp(zjson[1], a.json[1]) && !strcmp(zjson[3], a.json[2]),
	      "ZeroMQ JSON differs from the sinks'");
	CHECK(a.nstatus == 1 && !strcmp(zjson[2], a.status), "status: %d, '%s' vs '%s'", a.nstatus, a.status,
	      zjson[2]);
	CHECK(strstr(a.status, "\"a\":{\"seen\":2}") != NULL, "a's counters not in the status: %s", a.status);
	CHECK(strstr(a.status, "\"b\":") == NULL, "b has no stats callback but an object: %s", a.status);
	CHECK(a.destroyed == 1 && b.destroyed == 1, "destroy: a %d, b %d", a.destroyed, b.destroyed);
	CHECK(a.events_at_destroy == 3, "a destroyed after %d events", a.events_at_destroy);
	zmq_close(sub);
	zmq_ctx_term(zc);
}

int main(void)
{
	RUN(sinks_see_every_message_in_order);
	CHECK_EXIT();
}
