/*
 * publish.c — ZeroMQ publisher thread, message encoding, CURVE (see
 * publish.h, curve.h).
 *
 * Facts behind the design:
 *  - ZeroMQ sockets are not thread-safe: the PUB socket is used by the
 *    publisher thread only; it is created before that thread starts and
 *    closed after it is joined (thread start/join are full barriers, which
 *    is all libzmq asks for when a socket changes threads).
 *  - A PUB socket never blocks on send: past SNDHWM messages per
 *    subscriber, libzmq drops them for that subscriber. Our own queue in
 *    front of the socket is what protects the scheduler.
 *  - LINGER bounds how long shutdown waits for queued messages to reach
 *    subscribers: the final "end" events are flushed, but a vanished
 *    subscriber cannot hold the daemon hostage.
 *  - With CURVE on, the ZAP handler is bound before the PUB socket so the
 *    very first connection is already checked.
 *  - The same encoded message then goes to every registered sink (sink.h:
 *    MQTT, webhooks, the store, the console), on this thread, in order.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libavutil/frame.h>
#include <zmq.h>

#include "clock.h"
#include "curve.h"
#include "latency.h"
#include "log.h"
#include "publish.h"
#include "snapshot.h"
#include "worker.h"

typedef struct qitem {
	struct qitem *next;
	pub_event *ev;       /* or */
	cJSON *status;
} qitem;

struct publisher {
	void *ctx, *sock;
	zap_handler *zap;
	snap_enc *snap;
	worker w;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	qitem *head, *tail;
	int qlen, qmax;
	int64_t ev_seq, st_seq;
	pub_stats st;
	lat_ring *lat;
	sink sinks[SINK_MAX];
	int nsinks;              /* written under lock before the first message is queued: */
	int sealed;              /* a message was queued; the thread reads sinks[] only after */
};

void pub_event_free(pub_event **pe)
{
	if (!pe || !*pe)
		return;
	pub_event *e = *pe;
	free(e->regions);
	free(e->heatmap);
	av_frame_free(&e->snapshot);
	free(e);
	*pe = NULL;
}

char *pub_event_json(const pub_event *e, int64_t seq, int snapshot, int heatmap)
{
	char t[32];
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "type", ev_action_name(e->type));
	cJSON_AddStringToObject(j, "id", e->id);
	cJSON_AddNumberToObject(j, "seq", (double)seq);
	cJSON_AddStringToObject(j, "stream", e->stream);
	cJSON_AddStringToObject(j, "model", e->model);
	cJSON_AddNumberToObject(j, "frame", (double)e->frame);
	if (e->pts_us == INT64_MIN)
		cJSON_AddNullToObject(j, "pts");
	else
		cJSON_AddNumberToObject(j, "pts", e->pts_us / 1e6);
	ev_rfc3339(e->wall_us, t);
	cJSON_AddStringToObject(j, "time", t);
	cJSON_AddNumberToObject(j, "score", e->score);
	cJSON_AddNumberToObject(j, "threshold", e->threshold);
	cJSON_AddNumberToObject(j, "peak_score", e->peak_score);
	cJSON_AddNumberToObject(j, "peak_frame", (double)e->peak_frame);
	cJSON_AddNumberToObject(j, "first_frame", (double)e->first_frame);
	cJSON_AddNumberToObject(j, "frames", (double)e->frames);
	ev_rfc3339(e->start_wall_us, t);
	cJSON_AddStringToObject(j, "started", t);
	cJSON_AddNumberToObject(j, "duration", (e->wall_us - e->start_wall_us) / 1e6);
	if (e->type == EV_END)
		cJSON_AddStringToObject(j, "reason", e->reason[0] ? e->reason : "score");
	cJSON_AddNumberToObject(j, "frame_width", e->src_w);
	cJSON_AddNumberToObject(j, "frame_height", e->src_h);
	cJSON *rs = cJSON_AddArrayToObject(j, "regions");
	for (int i = 0; i < e->n_regions && rs; i++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "x", e->regions[i].x);
		cJSON_AddNumberToObject(r, "y", e->regions[i].y);
		cJSON_AddNumberToObject(r, "w", e->regions[i].w);
		cJSON_AddNumberToObject(r, "h", e->regions[i].h);
		cJSON_AddNumberToObject(r, "score", e->regions[i].score);
		cJSON_AddItemToArray(rs, r);
	}
	cJSON_AddBoolToObject(j, "snapshot", snapshot);
	cJSON_AddBoolToObject(j, "heatmap", heatmap);
	if (e->mono_us > 0)
		cJSON_AddNumberToObject(j, "latency_ms", round((mono_us() - e->mono_us) / 100.0) / 10.0);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

/* ---- sending ---------------------------------------------------------------- */

static int send_part(void *sock, const void *d, size_t n, int more)
{
	return zmq_send(sock, d, n, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

static void send_event(publisher *p, pub_event *e)
{
	uint8_t *jpg = NULL, *png = NULL;
	size_t jl = 0, pl = 0;
	int fails = 0;
	if (e->snapshot && snap_jpeg(p->snap, e->snapshot, e->regions, e->n_regions, &jpg, &jl) < 0) {
		fails++;
		jpg = NULL;
	}
	if (e->heatmap &&
	    snap_heatmap_png(p->snap, e->heatmap, e->map_w, e->map_h, e->heat_vmax, &png, &pl) < 0) {
		fails++;
		png = NULL;
	}
	if (fails) {
		pthread_mutex_lock(&p->lock);
		p->st.encode_failures += fails;
		pthread_mutex_unlock(&p->lock);
	}
	char topic[96];
	snprintf(topic, sizeof topic, "lmdd.event.%s", e->stream);
	int64_t seq = ++p->ev_seq;
	char *json = pub_event_json(e, seq, jpg != NULL, png != NULL);
	if (!json)
		goto out;
	int ok = send_part(p->sock, topic, strlen(topic), 1) == 0 &&
	         send_part(p->sock, json, strlen(json), jpg || png) == 0;
	if (ok && (jpg || png))
		ok = send_part(p->sock, jpg ? jpg : (uint8_t *)"", jl, png != NULL) == 0;
	if (ok && png)
		ok = send_part(p->sock, png, pl, 0) == 0;
	sink_event se = { .ev = e, .topic = topic, .json = json, .seq = seq, .jpeg = jpg, .jpeg_len = jl,
		          .png = png, .png_len = pl };
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].event)
			p->sinks[i].event(p->sinks[i].ctx, &se);
	if (ok) {
		pthread_mutex_lock(&p->lock);
		p->st.events_sent++;
		pthread_mutex_unlock(&p->lock);
		if (e->mono_us > 0)
			lat_add(p->lat, (mono_us() - e->mono_us) / 1000.0);
		log_debug("event %s %s stream %s frame %lld score %.9g", ev_action_name(e->type), e->id,
		          e->stream, (long long)e->frame, e->score);
	} else {
		log_warn("publish: send failed: %s", zmq_strerror(errno));
	}
	free(json);
out:
	free(jpg);
	free(png);
}

static void send_status(publisher *p, cJSON *s)
{
	cJSON_AddNumberToObject(s, "seq", (double)++p->st_seq);
	for (int i = 0; i < p->nsinks; i++) {
		cJSON *o;
		if (p->sinks[i].stats && (o = cJSON_AddObjectToObject(s, p->sinks[i].name)))
			p->sinks[i].stats(p->sinks[i].ctx, o);
	}
	char *json = cJSON_PrintUnformatted(s);
	if (!json)
		return;
	if (send_part(p->sock, "lmdd.status", 11, 1) == 0 && send_part(p->sock, json, strlen(json), 0) == 0) {
		pthread_mutex_lock(&p->lock);
		p->st.status_sent++;
		pthread_mutex_unlock(&p->lock);
	}
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].status)
			p->sinks[i].status(p->sinks[i].ctx, json);
	free(json);
}

static void *thread_main(void *arg)
{
	publisher *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->head && !worker_stopping(&p->w))
			pthread_cond_wait(&p->cond, &p->lock);
		qitem *it = p->head;
		if (!it) {   /* stop and drained */
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->head = it->next;
		if (!p->head)
			p->tail = NULL;
		p->qlen--;
		pthread_mutex_unlock(&p->lock);
		if (it->ev) {
			send_event(p, it->ev);
			pub_event_free(&it->ev);
		} else if (it->status) {
			send_status(p, it->status);
			cJSON_Delete(it->status);
		}
		free(it);
	}
	return NULL;
}

static void enqueue(publisher *p, qitem *it, int must_keep)
{
	pthread_mutex_lock(&p->lock);
	if (worker_stopping(&p->w) || (p->qlen >= p->qmax && !(must_keep && p->qlen < 2 * p->qmax))) {
		p->st.dropped++;
		pthread_mutex_unlock(&p->lock);
		if (it->ev)
			pub_event_free(&it->ev);
		if (it->status)
			cJSON_Delete(it->status);
		free(it);
		return;
	}
	p->sealed = 1;
	if (p->tail)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	p->qlen++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void publisher_event(publisher *p, pub_event *ev)
{
	qitem *it = calloc(1, sizeof *it);
	if (!it) {
		pub_event_free(&ev);
		return;
	}
	it->ev = ev;
	enqueue(p, it, ev->type == EV_START || ev->type == EV_END);
}

void publisher_status(publisher *p, cJSON *status)
{
	qitem *it = calloc(1, sizeof *it);
	if (!it) {
		cJSON_Delete(status);
		return;
	}
	it->status = status;
	enqueue(p, it, 0);
}

/* ---- life --------------------------------------------------------------- */

/* worker_stop's wake: the queue wait */
static void wake_thread(void *arg)
{
	publisher *p = arg;
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

publisher *publisher_new(const pub_opts *o, char *err, size_t errlen)
{
	publisher *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->qmax = o->queue_max > 0 ? o->queue_max : 256;
	p->lat = lat_ring_new();
	p->snap = snap_enc_new(o->snapshot_quality, o->snapshot_max_width);
	p->ctx = zmq_ctx_new();
	if (!p->lat || !p->snap || !p->ctx) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	char secret[41], pub[41];
	if (o->curve) {
		uint8_t (*keys)[32];
		int n;
		if (curve_read_secret(o->secret_key_file, secret, pub, err, errlen) < 0 ||
		    curve_read_allowed(o->allowed_keys_file, &keys, &n, err, errlen) < 0)
			goto fail;
		p->zap = zap_start(p->ctx, keys, n, err, errlen);
		if (!p->zap)
			goto fail;
		log_info("publish: CURVE on, server public key %s, %d allowed client key%s", pub, n,
		         n == 1 ? "" : "s");
	}
	p->sock = zmq_socket(p->ctx, ZMQ_PUB);
	if (!p->sock) {
		snprintf(err, errlen, "cannot create PUB socket: %s", zmq_strerror(errno));
		goto fail;
	}
	int hwm = o->sndhwm, linger = o->linger_ms, one = 1;
	zmq_setsockopt(p->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
	if (o->curve) {
		if (zmq_setsockopt(p->sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
		    zmq_setsockopt(p->sock, ZMQ_CURVE_SECRETKEY, secret, 40) ||
		    zmq_setsockopt(p->sock, ZMQ_ZAP_DOMAIN, "lmdd", 4)) {
			snprintf(err, errlen, "cannot enable CURVE: %s (libzmq built without libsodium?)",
			         zmq_strerror(errno));
			goto fail;
		}
	}
	for (int i = 0; i < o->n_endpoints; i++)
		if (zmq_bind(p->sock, o->endpoints[i]) != 0) {
			snprintf(err, errlen, "cannot bind %s: %s", o->endpoints[i], zmq_strerror(errno));
			goto fail;
		}
	if (worker_start(&p->w, thread_main, p) < 0) {
		snprintf(err, errlen, "cannot start the publisher thread");
		goto fail;
	}
	return p;
fail:
	publisher_destroy(&p);
	return NULL;
}

void publisher_destroy(publisher **pp)
{
	if (!pp || !*pp)
		return;
	publisher *p = *pp;
	worker_stop(&p->w, wake_thread, p);
	/* anything left (thread never started) */
	while (p->head) {
		qitem *it = p->head;
		p->head = it->next;
		pub_event_free(&it->ev);
		cJSON_Delete(it->status);
		free(it);
	}
	/* the thread has passed its last message to every sink */
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].destroy)
			p->sinks[i].destroy(p->sinks[i].ctx);
	if (p->sock)
		zmq_close(p->sock);          /* lingers inside zmq_ctx_term */
	zap_stop(&p->zap);
	if (p->ctx)
		zmq_ctx_term(p->ctx);
	snap_enc_destroy(&p->snap);
	lat_ring_destroy(&p->lat);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	*pp = NULL;
}

int publisher_add_sink(publisher *p, const sink *s)
{
	assert(s && s->name);
	pthread_mutex_lock(&p->lock);
	int ok = p->nsinks < SINK_MAX && !p->sealed;
	if (ok)
		p->sinks[p->nsinks++] = *s;
	pthread_mutex_unlock(&p->lock);
	return ok ? 0 : -1;
}

int publisher_reload_keys(publisher *p, const char *file, char *err, size_t errlen)
{
	if (!p->zap)
		return 0;
	uint8_t (*keys)[32];
	int n;
	if (curve_read_allowed(file, &keys, &n, err, errlen) < 0)
		return -1;
	zap_set_keys(p->zap, keys, n);
	log_info("publish: %d allowed client key%s", n, n == 1 ? "" : "s");
	return 0;
}

void publisher_get_stats(publisher *p, pub_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	st->queue = p->qlen;
	pthread_mutex_unlock(&p->lock);
	st->zap_allowed = zap_allowed(p->zap);
	st->zap_denied = zap_denied(p->zap);
	st->lat_samples = lat_percentiles(p->lat, &st->lat_p50_ms, &st->lat_p99_ms);
}
