/*
 * run.c — `lmdd run`: the daemon. Loads the configuration, model and
 * engine, starts the publisher, the scheduler and one decode thread per
 * stream, then runs the main loop: signals, status messages, sd_notify.
 *
 * Facts behind the design:
 *  - Signals: libraries start threads before main() (OpenBLAS's pool is
 *    created by a constructor), so blocking signals and sigwait()ing for
 *    them would leave SIGTERM's default action to those threads. Instead a
 *    minimal handler (any thread may run it) records the signal and writes
 *    a byte to a self-pipe; the main loop polls the pipe. No other work
 *    happens in the handler.
 *  - Exit codes (sysexits.h): 78 EX_CONFIG for anything the operator must
 *    fix in the config or the files it names (the unit's
 *    RestartPreventExitStatus=78 stops systemd from restart-looping on it);
 *    69 EX_UNAVAILABLE when the device or a socket is not available (worth a
 *    restart); 0 after a clean SIGTERM/SIGINT shutdown.
 *  - SIGHUP re-reads the file. A bad new file is logged and ignored (the
 *    daemon keeps running on the old one), and so is one with another
 *    model (path, or the file's CRC-32): its calibration and settings
 *    belong to weights the engine does not hold. Streams that are new or
 *    changed restart, removed ones stop, unchanged ones are not touched;
 *    sampler, calibration and event settings apply at once; backend,
 *    device, publish and CURVE server settings need a restart (logged).
 *    The scheduler never holds its stream table across an engine call, so
 *    a reload during a long batch is done at once (daemon/sched.c).
 *  - Shutdown order: scheduler first (finishes its batch, sends "end" for
 *    every open event), then the decode threads, then the publisher, which
 *    sends what is queued and lingers for subscribers.
 */
#define _GNU_SOURCE   /* pipe2 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "run.h"
#include "config.h"
#include "events.h"
#include "log.h"
#include "media.h"
#include "notify.h"
#include "publish.h"
#include "sched.h"
#include "stream.h"
#include "validate.h"

typedef struct {
	stream *st;
	/* previous counters, for rates in status */
	int64_t p_in, p_an, p_drop;
	int64_t p_time;
} run_stream;

typedef struct {
	char *config_path;
	lmdd_config *cfg;
	validated v;
	lmd_engine *engine;
	publisher *pub;
	sched *sch;
	run_stream *rs;
	int n;
	int64_t start_mono, start_wall;
	char backend[16];
	int exit_at_end;
	char model_crc[9];       /* CRC-32 of the model file the engine was built from */
	int64_t p_scored, p_time;
} run_state;

static int sig_pipe[2] = { -1, -1 };
static atomic_int got_term, got_int, got_hup;  /* lock-free: fine in a handler on any thread */

static void on_signal(int sig)
{
	int saved = errno;
	if (sig == SIGTERM) got_term = 1;
	if (sig == SIGINT) got_int = 1;
	if (sig == SIGHUP) got_hup = 1;
	if (sig_pipe[1] >= 0) {
		ssize_t w = write(sig_pipe[1], "s", 1);
		(void)w;
	}
	errno = saved;
}

static int setup_signals(void)
{
	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Wait up to ms for a signal; returns SIGTERM/SIGINT/SIGHUP or 0. */
static int wait_signal(int ms)
{
	struct pollfd p = { sig_pipe[0], POLLIN, 0 };
	if (!got_term && !got_int && !got_hup && poll(&p, 1, ms) > 0) {
		char buf[64];
		while (read(sig_pipe[0], buf, sizeof buf) > 0)
			;
	}
	if (got_term) return SIGTERM;
	if (got_int) return SIGINT;
	if (got_hup) {
		got_hup = 0;
		return SIGHUP;
	}
	return 0;
}

static void print_errors(const char *errors)
{
	const char *p = errors;
	while (p && *p) {
		const char *e = strchr(p, '\n');
		int len = e ? (int)(e - p) : (int)strlen(p);
		log_err("%.*s", len, p);
		p = e ? e + 1 : NULL;
	}
}

static sched_opts sched_opts_from(const run_state *r, const lmdd_config *c)
{
	return (sched_opts){
		.engine = r->engine, .model = r->v.model, .params = r->v.params,
		.batch_max = c->batch_max, .pub = r->pub, .update_interval = c->update_interval,
		.max_regions = c->max_regions, .region_min_area = c->region_min_area,
		.region_blur = c->region_blur, .region_factor = c->region_factor,
		.region_threshold = validate_region_threshold(c, &r->v),
	};
}

static stream *start_stream(run_state *r, const cfg_stream *cs)
{
	const lmd_model_info *mi = lmd_model_get_info(r->v.model);
	stream_env env = {
		.width = mi->frame_width, .height = mi->frame_height, .channels = mi->channels,
		.cond_frames = mi->cond_frames, .cond_interval = mi->cond_interval,
		.reconnect_min = r->cfg->reconnect_min, .reconnect_max = r->cfg->reconnect_max, .ready = sched_wake, .ready_arg = r->sch,
	};
	stream *st = stream_new(cs, &env);
	if (!st) {
		log_err("stream %s: out of memory", cs->name);
		return NULL;
	}
	double thr = validate_threshold(cs, &r->v);
	sched_add(r->sch, st, thr);
	if (stream_start(st) < 0) {
		log_err("stream %s: cannot start its thread", cs->name);
		sched_remove(r->sch, st, "stream_lost");
		return NULL;
	}
	char u[512];
	lmd_media_redact_url(cs->url, u, sizeof u);
	char rate[32];
	if (cs->fps > 0)
		snprintf(rate, sizeof rate, "%g fps", cs->fps);
	else
		snprintf(rate, sizeof rate, "every frame");
	log_info("stream %s: %s, analysis %s, threshold %.6g%s", cs->name, u, rate, thr,
	         cs->threshold >= 0 ? " (own)" : " (calibration)");
	return st;
}

static int add_run_stream(run_state *r, stream *st)
{
	run_stream *n = realloc(r->rs, sizeof *n * (r->n + 1));
	if (!n)
		return -1;
	r->rs = n;
	memset(&n[r->n], 0, sizeof n[r->n]);
	n[r->n].st = st;
	n[r->n].p_time = mono_us();
	r->n++;
	return 0;
}

/* ---- status ------------------------------------------------------------------ */

static double rate(int64_t now, int64_t prev, int64_t dt_us)
{
	return dt_us > 0 ? (now - prev) * 1e6 / dt_us : 0;
}

static double r3(double x)
{
	return round(x * 1000) / 1000;
}

static cJSON *build_status(run_state *r, int *running, double *fps_an, int *pending)
{
	int64_t now = mono_us();
	char t[32];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "type", "status");
	ev_rfc3339(wall_us(), t);
	cJSON_AddStringToObject(j, "time", t);
	ev_rfc3339(r->start_wall, t);
	cJSON_AddStringToObject(j, "started", t);
	cJSON_AddNumberToObject(j, "uptime", r3((now - r->start_mono) / 1e6));
	cJSON_AddNumberToObject(j, "pid", getpid());
	cJSON_AddStringToObject(j, "model", lmd_model_get_info(r->v.model)->name);
	cJSON_AddStringToObject(j, "backend", r->backend);
	cJSON_AddStringToObject(j, "device", lmd_engine_device(r->engine));
	sched_stats ss;
	sched_get_stats(r->sch, &ss);
	pub_stats ps;
	publisher_get_stats(r->pub, &ps);
	cJSON_AddNumberToObject(j, "frames_scored", (double)ss.frames_scored);
	cJSON_AddNumberToObject(j, "fps_scored", r3(rate(ss.frames_scored, r->p_scored, now - r->p_time)));
	r->p_scored = ss.frames_scored;
	r->p_time = now;
	cJSON_AddNumberToObject(j, "batches", (double)ss.batches);
	cJSON_AddNumberToObject(j, "batch_ms", r3(ss.batch_ms_avg));
	cJSON_AddNumberToObject(j, "engine_errors", (double)ss.engine_errors);
	cJSON_AddNumberToObject(j, "events", (double)ss.events);
	cJSON_AddNumberToObject(j, "events_open", ss.events_open);
	cJSON_AddNumberToObject(j, "messages_sent", (double)ps.events_sent);
	cJSON_AddNumberToObject(j, "messages_dropped", (double)ps.dropped);
	cJSON_AddNumberToObject(j, "publish_queue", ps.queue);
	cJSON_AddNumberToObject(j, "zap_denied", (double)ps.zap_denied);
	cJSON *lat = cJSON_AddObjectToObject(j, "latency_ms");
	cJSON *ls = cJSON_AddObjectToObject(lat, "scored");
	cJSON_AddNumberToObject(ls, "p50", r3(ss.lat_p50_ms));
	cJSON_AddNumberToObject(ls, "p99", r3(ss.lat_p99_ms));
	cJSON_AddNumberToObject(ls, "n", ss.lat_samples);
	cJSON *lp = cJSON_AddObjectToObject(lat, "published");
	cJSON_AddNumberToObject(lp, "p50", r3(ps.lat_p50_ms));
	cJSON_AddNumberToObject(lp, "p99", r3(ps.lat_p99_ms));
	cJSON_AddNumberToObject(lp, "n", ps.lat_samples);
	cJSON *arr = cJSON_AddArrayToObject(j, "streams");
	*running = 0;
	*fps_an = 0;
	*pending = 0;
	for (int i = 0; i < r->n; i++) {
		run_stream *rs = &r->rs[i];
		stream_stats st;
		stream_get_stats(rs->st, &st);
		sched_stream_info si = { 0 };
		sched_get_stream(r->sch, rs->st, &si);
		const cfg_stream *c = stream_config(rs->st);
		char u[512];
		lmd_media_redact_url(c->url, u, sizeof u);
		int64_t dt = now - rs->p_time;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddStringToObject(o, "url", u);
		cJSON_AddStringToObject(o, "state", stream_state_name(st.state));
		double fa = rate(st.analysed, rs->p_an, dt);
		cJSON_AddNumberToObject(o, "fps_in", r3(rate(st.frames_in, rs->p_in, dt)));
		cJSON_AddNumberToObject(o, "fps_analysed", r3(fa));
		cJSON_AddNumberToObject(o, "fps_dropped", r3(rate(st.dropped, rs->p_drop, dt)));
		cJSON_AddNumberToObject(o, "frames_in", (double)st.frames_in);
		cJSON_AddNumberToObject(o, "analysed", (double)st.analysed);
		cJSON_AddNumberToObject(o, "dropped", (double)st.dropped);
		cJSON_AddNumberToObject(o, "corrupt", (double)st.corrupt);
		cJSON_AddNumberToObject(o, "reconnects", (double)st.reconnects);
		cJSON_AddNumberToObject(o, "connect_failures", (double)st.connect_failures);
		cJSON_AddNumberToObject(o, "loops", (double)st.loops);
		cJSON_AddNumberToObject(o, "gap_s", r3(st.gap_s));
		cJSON_AddNumberToObject(o, "queue", st.queue);
		cJSON_AddNumberToObject(o, "last_frame_age_s", r3(st.last_frame_age_s));
		cJSON_AddNumberToObject(o, "source_fps", r3(st.src_fps));
		cJSON_AddNumberToObject(o, "width", st.src_w);
		cJSON_AddNumberToObject(o, "height", st.src_h);
		cJSON_AddStringToObject(o, "hwaccel", st.hwaccel);
		cJSON_AddNumberToObject(o, "threshold", si.threshold);
		cJSON_AddNumberToObject(o, "last_score", si.last_score);
		cJSON_AddBoolToObject(o, "event_open", si.event_open);
		if (st.last_error[0])
			cJSON_AddStringToObject(o, "last_error", st.last_error);
		cJSON_AddItemToArray(arr, o);
		rs->p_in = st.frames_in;
		rs->p_an = st.analysed;
		rs->p_drop = st.dropped;
		rs->p_time = now;
		*running += st.state == STREAM_RUNNING;
		*fps_an += fa;
		*pending += st.queue;
	}
	return j;
}

static void status_tick(run_state *r)
{
	int running, pending;
	double fps;
	cJSON *j = build_status(r, &running, &fps, &pending);
	sched_stats ss;
	sched_get_stats(r->sch, &ss);
	notify_status("%d/%d streams running, %.1f fps analysed, %d event%s open, %lld events, %s on %s",
	              running, r->n, fps, ss.events_open, ss.events_open == 1 ? "" : "s",
	              (long long)ss.events, r->backend, lmd_engine_device(r->engine));
	publisher_status(r->pub, j);
}

static int any_pending(run_state *r)
{
	for (int i = 0; i < r->n; i++) {
		stream_stats st;
		stream_get_stats(r->rs[i].st, &st);
		if (st.queue)
			return 1;
	}
	return 0;
}

static int all_ended(run_state *r)
{
	for (int i = 0; i < r->n; i++) {
		stream_stats st;
		stream_get_stats(r->rs[i].st, &st);
		if (st.state != STREAM_ENDED || st.queue)
			return 0;
	}
	return r->n > 0;
}

/* ---- reload --------------------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void reload(run_state *r)
{
	notify_reloading();
	log_notice("reloading %s", r->config_path);
	int nerr;
	char *errors = NULL;
	lmdd_config *nc = config_load(r->config_path, &nerr, &errors);
	validated nv = { 0 };
	if (nc && nerr == 0) {
		/* validate without keeping a second model */
		nerr = validate_config(nc, &nv, &errors);
		lmd_model_destroy(&nv.model);
	}
	if (!nc || nerr) {
		print_errors(errors);
		log_err("reload failed: %d error%s; still running on the previous configuration", nerr,
		        nerr == 1 ? "" : "s");
		free(errors);
		config_destroy(&nc);
		notify_ready("reload failed: see the log; previous configuration kept");
		return;
	}
	free(errors);
	lmdd_config *oc = r->cfg;
	/* A new model (another path, or the file rewritten) comes with its own
	 * calibration, sampler settings and frame size, and the engine holds
	 * the old one: taking the new config but not its model would score
	 * with the old weights against the new thresholds. Refused whole. */
	char crc[9] = "";
	int moved = !streq(oc->model, nc->model);
	if (moved || calib_file_crc32(nc->model, crc) || strcmp(crc, r->model_crc)) {
		if (moved)
			log_err("reload refused: model changed from %s to %s; a new model needs a restart "
			        "(systemctl restart lmdd); still running on the previous configuration", oc->model, nc->model);
		else
			log_err("reload refused: the model file %s changed since it was loaded (CRC-32 %s, now %s); a new "
			        "model needs a restart (systemctl restart lmdd); still running on the previous configuration",
			        nc->model, r->model_crc, crc[0] ? crc : "unreadable");
		config_destroy(&nc);
		notify_ready("reload refused: the model changed; restart to use it");
		return;
	}
	/* what cannot change without a restart, and is kept as it was */
	if (oc->backend != nc->backend || oc->device != nc->device || strcmp(oc->device_name, nc->device_name))
		log_warn("reload: backend/device changes need a restart; keeping %s on %s",
		         lmd_model_get_info(r->v.model)->name, lmd_engine_device(r->engine));
	int pub_same = oc->n_publish == nc->n_publish && oc->sndhwm == nc->sndhwm &&
	               oc->curve == nc->curve && streq(oc->curve_secret_file, nc->curve_secret_file);
	for (int i = 0; pub_same && i < oc->n_publish; i++)
		pub_same = !strcmp(oc->publish[i], nc->publish[i]);
	if (!pub_same)
		log_warn("reload: publish endpoints/sndhwm/CURVE server key changes need a restart");
	if (nc->curve && oc->curve && nc->curve_clients_file) {
		char err[400];
		if (publisher_reload_keys(r->pub, nc->curve_clients_file, err, sizeof err) < 0)
			log_err("reload: %s", err);
	}
	/* the calibration may have been redone */
	r->v.have_calib = nv.have_calib;
	r->v.calib = nv.calib;
	r->v.params = nv.params;
	snprintf(r->v.calib_note, sizeof r->v.calib_note, "%s", nv.calib_note);
	log_set_level(nc->log_level);
	sched_opts so = sched_opts_from(r, nc);
	sched_set_opts(r->sch, &so);

	/* streams: stop removed and changed ones, keep the rest */
	int kept = 0, stopped = 0, started = 0;
	for (int i = 0; i < r->n;) {
		stream *st = r->rs[i].st;
		const cfg_stream *ncs = config_find_stream(nc, stream_name(st));
		if (ncs && config_stream_equal(ncs, stream_config(st))) {
			sched_set_threshold(r->sch, st, validate_threshold(ncs, &r->v));
			kept++;
			i++;
			continue;
		}
		log_info("stream %s: %s", stream_name(st), ncs ? "changed, restarting" : "removed");
		sched_remove(r->sch, st, "reconfigured");
		memmove(&r->rs[i], &r->rs[i + 1], sizeof *r->rs * (r->n - i - 1));
		r->n--;
		stopped++;
	}
	for (int i = 0; i < nc->n_streams; i++) {
		int have = 0;
		for (int k = 0; k < r->n; k++)
			have |= !strcmp(stream_name(r->rs[k].st), nc->streams[i].name);
		if (have)
			continue;
		/* the stream keeps a copy of its section, so nc may go later */
		stream *st = start_stream(r, &nc->streams[i]);
		if (st && add_run_stream(r, st) == 0)
			started++;
		else if (st)
			sched_remove(r->sch, st, "reconfigured");
	}
	/* keep the new config; the old one's strings are no longer used
	 * (streams copy their section, the publisher its options at start) */
	config_destroy(&r->cfg);
	r->cfg = nc;
	log_notice("reloaded: %d stream%s unchanged, %d stopped, %d started", kept, kept == 1 ? "" : "s",
	           stopped, started);
	notify_ready("reloaded");
}

/* ---- main --------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lmdd run [--config FILE] [--log-level LEVEL] [--exit-at-end]\n"
	        "  --config FILE   configuration (default /etc/lmdd/lmdd.conf)\n"
	        "  --log-level L   err|warning|notice|info|debug (overrides the file)\n"
	        "  --exit-at-end   stop once every stream is a file that has ended\n"
	        "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop cleanly.\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "exit-at-end", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = "/etc/lmdd/lmdd.conf";
	int level_override = -1, c;
	run_state r = { 0 };
	argv[0] = "lmdd run";   /* getopt's messages */
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:l:eh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'l':
			level_override = log_level_parse(optarg);
			if (level_override < 0) {
				fprintf(stderr, "lmdd run: bad log level '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'e': r.exit_at_end = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (setup_signals() < 0) {
		fprintf(stderr, "lmdd run: cannot set up signals: %s\n", strerror(errno));
		return EX_OSERR;
	}
	if (level_override >= 0)
		log_set_level(level_override);
	log_capture_ffmpeg();

	int rc = 0, nerr;
	char *errors = NULL;
	r.config_path = strdup(path);
	r.cfg = config_load(path, &nerr, &errors);
	if (!r.cfg || !r.config_path) {
		log_err("out of memory");
		return EX_OSERR;
	}
	if (level_override < 0)
		log_set_level(r.cfg->log_level);
	if (nerr == 0)
		nerr = validate_config(r.cfg, &r.v, &errors);
	if (nerr) {
		print_errors(errors);
		log_err("%s: %d configuration error%s; not starting", path, nerr, nerr == 1 ? "" : "s");
		rc = EX_CONFIG;
		goto out;
	}
	free(errors);
	errors = NULL;
	if (calib_file_crc32(r.cfg->model, r.model_crc)) {
		log_err("%s: cannot read the model file again", r.cfg->model);
		rc = EX_CONFIG;
		goto out;
	}
	const lmd_model_info *mi = lmd_model_get_info(r.v.model);
	log_info("model %s: %dx%d, %d channel%s, %d condition frame%s, %lld parameters", mi->name,
	         mi->frame_width, mi->frame_height, mi->channels, mi->channels == 1 ? "" : "s",
	         mi->cond_frames, mi->cond_frames == 1 ? "" : "s", (long long)mi->n_params);
	char note[300];
	if (r.v.have_calib)
		log_info("calibration %s: threshold %.6g, region threshold %s", r.cfg->calib, r.v.calib.threshold,
		         validate_region_note(r.cfg, &r.v, note, sizeof note));

	/* engine */
	lmd_err e = LMD_ERR_DEVICE;
	const char *dn = r.cfg->device_name[0] ? r.cfg->device_name : NULL;
	if (r.cfg->backend != CFG_BACKEND_CPU) {
		e = lmd_engine_new(r.v.model, r.cfg->backend == CFG_BACKEND_AUTO ? LMD_BACKEND_AUTO : LMD_BACKEND_VULKAN,
		                   r.cfg->device, dn, &r.engine);
		if (e == LMD_OK)
			snprintf(r.backend, sizeof r.backend, "%s", lmd_engine_backend(r.engine));
		else if (r.cfg->backend == CFG_BACKEND_VULKAN) {
			log_err("vulkan backend: %s", lmd_errmsg());
			rc = EX_UNAVAILABLE;
			goto out;
		} else {
			log_notice("vulkan backend unavailable (%s); using the CPU backend", lmd_errmsg());
		}
	}
	if (!r.engine) {
		e = lmd_engine_new(r.v.model, LMD_BACKEND_CPU, -1, NULL, &r.engine);
		if (e != LMD_OK) {
			log_err("cpu backend: %s", lmd_errmsg());
			rc = EX_UNAVAILABLE;
			goto out;
		}
		snprintf(r.backend, sizeof r.backend, "cpu");
	}
	log_info("engine: %s backend on %s", r.backend, lmd_engine_device(r.engine));

	/* publisher */
	char err[512];
	pub_opts po = {
		.endpoints = r.cfg->publish, .n_endpoints = r.cfg->n_publish, .sndhwm = r.cfg->sndhwm,
		.linger_ms = r.cfg->linger_ms, .curve = r.cfg->curve,
		.secret_key_file = r.cfg->curve_secret_file, .allowed_keys_file = r.cfg->curve_clients_file,
		.snapshot_quality = r.cfg->snapshot_quality, .snapshot_max_width = r.cfg->snapshot_max_width,
	};
	r.pub = publisher_new(&po, err, sizeof err);
	if (!r.pub) {
		log_err("publish: %s", err);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	for (int i = 0; i < r.cfg->n_publish; i++)
		log_info("publishing on %s", r.cfg->publish[i]);

	/* scheduler and streams */
	sched_opts so = sched_opts_from(&r, r.cfg);
	r.sch = sched_new(&so);
	if (!r.sch || sched_start(r.sch) < 0) {
		log_err("cannot start the scheduler");
		rc = EX_OSERR;
		goto out;
	}
	r.start_mono = mono_us();
	r.start_wall = wall_us();
	r.p_time = r.start_mono;
	for (int i = 0; i < r.cfg->n_streams; i++) {
		stream *st = start_stream(&r, &r.cfg->streams[i]);
		if (st && add_run_stream(&r, st) < 0)
			sched_remove(r.sch, st, "shutdown");
	}
	char ready[256];
	snprintf(ready, sizeof ready, "%d stream%s, model %s, %s on %s", r.n, r.n == 1 ? "" : "s",
	         mi->name, r.backend, lmd_engine_device(r.engine));
	notify_ready(ready);
	log_notice("ready: %s", ready);

	/* main loop */
	notify_watchdog wd = { .usec = notify_watchdog_usec() };
	if (wd.usec)
		log_info("watchdog: %.1f s", wd.usec / 1e6);
	int64_t next_status = mono_us() + (int64_t)(r.cfg->status_interval * 1e6);
	const char *why = "signal";
	for (;;) {
		int sig = wait_signal(250);
		if (sig == SIGTERM || sig == SIGINT) {
			why = sig == SIGTERM ? "SIGTERM" : "SIGINT";
			break;
		}
		if (sig == SIGHUP)
			reload(&r);
		int64_t now = mono_us();
		sched_stats ss;
		sched_get_stats(r.sch, &ss);
		int64_t busy = sched_engine_busy_since(r.sch);
		notify_watchdog_tick(&wd, now, ss.heartbeat_us, ss.frames_scored, any_pending(&r),
		                     busy && now - busy < (int64_t)(r.cfg->engine_timeout * 1e6));
		if (now >= next_status) {
			status_tick(&r);
			next_status = now + (int64_t)(r.cfg->status_interval * 1e6);
		}
		if (r.exit_at_end && all_ended(&r)) {
			why = "all streams ended";
			break;
		}
	}
	notify_stopping();
	log_notice("stopping (%s)", why);
	/* ends open events; a batch still running after 5 s is left behind */
	int abandoned = sched_stop_timeout(r.sch, 5.0);
	for (int i = 0; i < r.n; i++)
		stream_stop(r.rs[i].st);
	status_tick(&r);                /* a last status with final counters */
	if (abandoned) {
		/* the engine is in use by the scheduler thread: send what is queued,
		 * then leave without tearing the engine down under it */
		publisher_destroy(&r.pub);
		log_notice("stopped (engine call abandoned)");
		_exit(0);
	}
out:
	if (errors)
		free(errors);
	for (int i = 0; i < r.n; i++)
		stream_destroy(&r.rs[i].st);
	free(r.rs);
	sched_destroy(&r.sch);
	publisher_destroy(&r.pub);      /* flushes, lingers */
	lmd_engine_destroy(&r.engine);
	lmd_model_destroy(&r.v.model);
	config_destroy(&r.cfg);
	free(r.config_path);
	if (rc == 0)
		log_info("stopped");
	return rc;
}
