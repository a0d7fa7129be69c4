/*
 * config.c — parse and validate the daemon's INI file (see config.h).
 *
 * Facts behind the design:
 *  - inih's handler is not told line numbers (Debian's libinih is built
 *    without INI_HANDLER_LINENO), so the file is fed through our own
 *    ini_reader, which counts lines; when the handler runs, the reader's
 *    count is the line being handled. The reader also sees section headers,
 *    so empty/duplicate/unknown sections are reported at their own line.
 *  - inih's line buffer is fixed at 200 bytes at build time; a longer line
 *    (an RTSP URL with credentials and query) would be split and misparsed.
 *    The reader hands inih a short stand-in value ("\x01<line>") for such
 *    lines and keeps the full value aside for the handler.
 *  - Continuation lines are turned off (ini_allow_multiline = 0): an indented
 *    line is a key of its own, never silently appended to the previous one.
 *  - Relative paths (model, calibration, key files) are taken relative to
 *    the config file's directory, so a config and its files move together.
 *  - Every error is collected, none stops parsing: the operator fixes them
 *    all in one go.
 *  - Keys are rows of a table per section (daemon_keys, stream_keys): the
 *    name, how the value is read (set_int, set_num, set_enum, set_file,
 *    ... or a function of its own), where it goes in the section's struct,
 *    its range and its "expected ..." text. Sections are rows of
 *    `sections`. A new key is a row; a new section is a struct in
 *    lmdd_config, a key table and a row.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"

void config_errorf(char **errors, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	size_t old = *errors ? strlen(*errors) : 0, add = strlen(line);
	char *n = realloc(*errors, old + add + 2);
	if (!n)
		return;
	memcpy(n + old, line, add);
	n[old + add] = '\n';
	n[old + add + 1] = 0;
	*errors = n;
}

/* ---- parse state ---------------------------------------------------------- */

typedef struct {
	int line;
	char *val;
} long_val;

typedef struct {
	FILE *f;
	const char *path;
	char *dir;           /* directory of the file, for relative paths */
	int line;
	char *buf;
	size_t bufsz;
	lmdd_config *c;
	char **errors;
	int nerr;
	long_val *longs;
	int nlongs;
	int unknown_line;    /* an unknown section is open: its keys are ignored */
} parser;

static void perr(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(parser *p, int line, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	config_errorf(p->errors, "%s:%d: %s", p->path, line > 0 ? line : 1, msg);
	p->nerr++;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= CFG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

static cfg_stream *find_stream(lmdd_config *c, const char *name)
{
	for (int i = 0; i < c->n_streams; i++)
		if (!strcmp(c->streams[i].name, name))
			return &c->streams[i];
	return NULL;
}

static void stream_defaults(cfg_stream *s)
{
	memset(s, 0, sizeof *s);
	s->fps = 5;
	s->threshold = -1;
	s->hysteresis = 0.8;
	s->min_duration = 2;
	s->snapshot = 1;
	s->heatmap = 0;
	s->loop = 0;
	s->realtime = -1;
	snprintf(s->hwaccel, sizeof s->hwaccel, "none");
	s->timeout_ms = 10000;
}

/* ---- value parsers (1 = ok) ----------------------------------------------- */

static int parse_long(const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (end == v || *end || errno || x < lo || x > hi)
		return 0;
	*out = x;
	return 1;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(x) || x < lo || x > hi)
		return 0;
	*out = x;
	return 1;
}

static int parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "on", "yes", "true", "1" }, *no[] = { "off", "no", "false", "0" };
	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) { *out = 1; return 1; }
		if (!strcasecmp(v, no[i])) { *out = 0; return 1; }
	}
	return 0;
}

static char *resolve(parser *p, const char *v)
{
	if (v[0] == '/' || !p->dir)
		return strdup(v);
	size_t n = strlen(p->dir) + strlen(v) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", p->dir, v);
	return r;
}

static void set_str(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

/* ---- keys: one table per section ----------------------------------------- */

/* A key: how its value is read (set), where it goes in the section's struct
 * (off), its range or names, and the "expected ..." of its error. A new
 * section is a struct, a table like these and a row in `sections`. */
typedef struct key key;
typedef void (*key_set)(parser *p, int line, const key *k, void *obj, const char *v);
struct key {
	const char *name;
	key_set set;
	size_t off;                  /* of the value in the section's struct */
	double lo, hi;               /* range of a number */
	const char *what;            /* the error: "bad value 'V' for NAME: WHAT" */
	const char *const *names;    /* set_enum: the names, by value */
	size_t line_at;              /* > 0: offset of an int that gets the key's line */
	int sampler;                 /* a sampler setting: noted in params_set (calib.h) */
	enum { NUM_DOUBLE = 0, NUM_FLOAT, NUM_MS } as;   /* set_num: the field's type */
};

#define AT(obj, k, type) ((type *)((char *)(obj) + (k)->off))
#define BAD(what) perr(p, line, "bad value '%s' for %s: %s", v, k->name, what)

static void set_int(parser *p, int line, const key *k, void *obj, const char *v)
{
	long l;
	if (parse_long(v, (long)k->lo, (long)k->hi, &l))
		*AT(obj, k, int) = (int)l;
	else
		BAD(k->what);
}

/* a number in [lo, hi], kept as k->as says */
static void set_num(parser *p, int line, const key *k, void *obj, const char *v)
{
	double d;
	if (!parse_double(v, k->lo, k->hi, &d))
		BAD(k->what);
	else if (k->as == NUM_FLOAT)
		*AT(obj, k, float) = (float)d;
	else if (k->as == NUM_MS)   /* seconds in the file */
		*AT(obj, k, int) = (int)(d * 1000);
	else
		*AT(obj, k, double) = d;
}

static void set_bool(parser *p, int line, const key *k, void *obj, const char *v)
{
	int b;
	if (parse_bool(v, &b))
		*AT(obj, k, int) = b;
	else
		BAD(k->what);
}

static void set_enum(parser *p, int line, const key *k, void *obj, const char *v)
{
	for (int i = 0; k->names[i]; i++)
		if (!strcasecmp(v, k->names[i])) {
			*AT(obj, k, int) = i;
			return;
		}
	BAD(k->what);
}

static void set_text(parser *p, int line, const key *k, void *obj, const char *v)
{
	set_str(AT(obj, k, char *), strdup(v));
	if (!*v)
		BAD(k->what);
}

/* a path relative to the config file's folder */
static void set_path(parser *p, int line, const key *k, void *obj, const char *v)
{
	set_str(AT(obj, k, char *), resolve(p, v));
}

/* ... that must be readable now */
static void set_file(parser *p, int line, const key *k, void *obj, const char *v)
{
	char **f = AT(obj, k, char *);
	set_str(f, resolve(p, v));
	if (*f && access(*f, R_OK))
		perr(p, line, "cannot read '%s': %s", *f, strerror(errno));
}

static void set_model(parser *p, int line, const key *k, void *obj, const char *v)
{
	lmdd_config *c = obj;
	set_str(&c->model, resolve(p, v));
	if (!*v)
		BAD("a path is required");
	else if (c->model && access(c->model, R_OK) != 0)
		perr(p, line, "cannot read model '%s': %s", c->model, strerror(errno));
}

static void set_device(parser *p, int line, const key *k, void *obj, const char *v)
{
	lmdd_config *c = obj;
	long l;
	if (parse_long(v, -1, 255, &l)) {
		c->device = (int)l;
		c->device_name[0] = 0;
	} else if (*v) {
		c->device = -1;
		snprintf(c->device_name, sizeof c->device_name, "%s", v);
	} else {
		BAD("expected a device index or a name");
	}
}

static void set_t0(parser *p, int line, const key *k, void *obj, const char *v)
{
	long l;
	if (!strcasecmp(v, "max"))
		*AT(obj, k, int) = -1;
	else if (parse_long(v, -1, 100000, &l) && l != 0)
		*AT(obj, k, int) = (int)l;
	else
		BAD("expected an integer >= 1 or 'max'");
}

static void set_mask(parser *p, int line, const key *k, void *obj, const char *v)
{
	if (lmd_params_set_mask(&((lmdd_config *)obj)->params, v) != LMD_OK)
		perr(p, line, "bad value '%s' for mask: %s", v, lmd_errmsg());
}

static void set_pool(parser *p, int line, const key *k, void *obj, const char *v)
{
	lmd_params *pr = &((lmdd_config *)obj)->params;
	long l;
	if (!strcasecmp(v, "mean"))
		pr->pool = LMD_POOL_MEAN;
	else if (!strcasecmp(v, "max"))
		pr->pool = LMD_POOL_MAX;
	else if (!strncasecmp(v, "max:", 4) && parse_long(v + 4, 1, 255, &l)) {
		pr->pool = LMD_POOL_MAX;
		pr->pool_size = (int)l;
	} else
		BAD("expected mean, max or max:SIZE (1-255)");
}

static void set_seed(parser *p, int line, const key *k, void *obj, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 0);
	if (end == v || *end || errno || v[0] == '-')
		BAD("expected an unsigned integer");
	else
		((lmdd_config *)obj)->params.seed = x;
}

static void set_publish(parser *p, int line, const key *k, void *obj, const char *v)
{
	lmdd_config *c = obj;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", v);
	char *save = NULL;
	for (char *t = strtok_r(tmp, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		if (strncmp(t, "tcp://", 6) && strncmp(t, "ipc://", 6)) {
			perr(p, line, "bad publish endpoint '%s': expected tcp://HOST:PORT or ipc://PATH", t);
			continue;
		}
		if (c->n_publish >= CFG_MAX_PUBLISH) {
			perr(p, line, "too many publish endpoints (at most %d)", CFG_MAX_PUBLISH);
			break;
		}
		c->publish[c->n_publish++] = strdup(t);
	}
}

static void set_log_level(parser *p, int line, const key *k, void *obj, const char *v)
{
	int lv = log_level_parse(v);
	if (lv >= 0)
		*AT(obj, k, int) = lv;
	else
		BAD("expected err, warning, notice, info or debug");
}

static void set_roi(parser *p, int line, const key *k, void *obj, const char *v)
{
	cfg_stream *s = obj;
	long r[4];
	char tmp[256], *save = NULL, *t;
	int n = 0, ok = 1;
	snprintf(tmp, sizeof tmp, "%s", v);
	for (t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n >= 4 || !parse_long(trim(t), 0, 65535, &r[n])) {
			ok = 0;
			break;
		}
		n++;
	}
	if (!ok || n != 4 || r[2] < 1 || r[3] < 1) {
		BAD("expected x,y,w,h in source pixels (w, h >= 1)");
		return;
	}
	s->has_roi = 1;
	for (int i = 0; i < 4; i++)
		s->roi[i] = (int)r[i];
}

static void set_realtime(parser *p, int line, const key *k, void *obj, const char *v)
{
	int b;
	if (!strcasecmp(v, "auto"))
		*AT(obj, k, int) = -1;
	else if (parse_bool(v, &b))
		*AT(obj, k, int) = b;
	else
		BAD("expected auto, on or off");
}

static void set_hwaccel(parser *p, int line, const key *k, void *obj, const char *v)
{
	cfg_stream *s = obj;
	if (strlen(v) >= sizeof s->hwaccel || !*v)
		BAD("expected none, auto or a device type");
	else
		snprintf(s->hwaccel, sizeof s->hwaccel, "%s", v);
}

static const char *const backends[] = { "cpu", "vulkan", "auto", NULL };   /* cfg_backend order */
static const char *const distances[] = { "mse", "ssim", NULL };           /* lmd_dist_kind order */
static const char *const aggs[] = { "median", "mean", "min", NULL };       /* lmd_agg_kind order */

#define D(f) offsetof(lmdd_config, f)
#define P(f) (offsetof(lmdd_config, params) + offsetof(lmd_params, f))
#define S(f) offsetof(cfg_stream, f)

static const key daemon_keys[] = {
	{ .name = "model", .set = set_model, .off = D(model), .line_at = D(model_line) },
	{ .name = "calibration", .set = set_path, .off = D(calib), .line_at = D(calib_line) },
	{ .name = "backend", .set = set_enum, .off = D(backend), .names = backends,
	  .what = "expected vulkan, cpu or auto" },
	{ .name = "device", .set = set_device },
	/* sampler settings (calib_sampler_keys) */
	{ .name = "steps", .set = set_int, .off = P(steps), .lo = 1, .hi = 1000, .sampler = 1,
	  .what = "expected an integer in [1, 1000]" },
	{ .name = "reps", .set = set_int, .off = P(reps), .lo = 1, .hi = 64, .sampler = 1,
	  .what = "expected an integer in [1, 64]" },
	{ .name = "t0", .set = set_t0, .off = P(t0), .sampler = 1 },
	{ .name = "eta", .set = set_num, .as = NUM_FLOAT, .off = P(eta), .lo = 0, .hi = 1, .sampler = 1,
	  .what = "expected a number in [0, 1]" },
	{ .name = "mask", .set = set_mask, .sampler = 1 },
	{ .name = "distance", .set = set_enum, .off = P(distance), .names = distances, .sampler = 1,
	  .what = "expected mse or ssim" },
	{ .name = "pool", .set = set_pool, .sampler = 1 },
	{ .name = "aggregate", .set = set_enum, .off = P(agg), .names = aggs, .sampler = 1,
	  .what = "expected median, mean or min" },
	{ .name = "jump", .set = set_int, .off = P(jump), .lo = 0, .hi = 1000, .sampler = 1,
	  .what = "expected an integer >= 0" },
	{ .name = "resample", .set = set_int, .off = P(resample), .lo = 0, .hi = 20, .sampler = 1,
	  .what = "expected an integer in [0, 20]" },
	{ .name = "seed", .set = set_seed, .sampler = 1 },
	/* publishing */
	{ .name = "publish", .set = set_publish },
	{ .name = "sndhwm", .set = set_int, .off = D(sndhwm), .lo = 0, .hi = 10000000,
	  .what = "expected an integer >= 0 (0 = no limit)" },
	{ .name = "linger", .set = set_num, .as = NUM_MS, .off = D(linger_ms), .lo = 0, .hi = 600,
	  .what = "expected seconds in [0, 600]" },
	{ .name = "curve", .set = set_bool, .off = D(curve), .line_at = D(curve_line),
	  .what = "expected on or off" },
	{ .name = "curve_secret_key_file", .set = set_file, .off = D(curve_secret_file) },
	{ .name = "curve_allowed_keys_file", .set = set_file, .off = D(curve_clients_file) },
	/* limits, events, regions, snapshots, reconnects */
	{ .name = "status_interval", .set = set_num, .off = D(status_interval), .lo = 0.1, .hi = 3600,
	  .what = "expected seconds in [0.1, 3600]" },
	{ .name = "log_level", .set = set_log_level, .off = D(log_level) },
	{ .name = "batch_max", .set = set_int, .off = D(batch_max), .lo = 1, .hi = 256,
	  .what = "expected an integer in [1, 256]" },
	{ .name = "update_interval", .set = set_num, .off = D(update_interval), .lo = 0, .hi = 3600,
	  .what = "expected seconds in [0, 3600]" },
	{ .name = "max_regions", .set = set_int, .off = D(max_regions), .lo = 0, .hi = 1000,
	  .what = "expected an integer in [0, 1000]" },
	{ .name = "region_min_area", .set = set_int, .off = D(region_min_area), .lo = 1, .hi = 1000000,
	  .what = "expected an integer >= 1" },
	{ .name = "region_blur", .set = set_int, .off = D(region_blur), .lo = 0, .hi = 32,
	  .what = "expected an integer in [0, 32]" },
	{ .name = "region_factor", .set = set_num, .off = D(region_factor), .lo = 0.01, .hi = 100,
	  .what = "expected a number in [0.01, 100]" },
	{ .name = "snapshot_quality", .set = set_int, .off = D(snapshot_quality), .lo = 2, .hi = 31,
	  .what = "expected an integer in [2, 31] (2 = best)" },
	{ .name = "snapshot_max_width", .set = set_int, .off = D(snapshot_max_width), .lo = 0, .hi = 16384,
	  .what = "expected pixels (0 = source size)" },
	{ .name = "engine_timeout", .set = set_num, .off = D(engine_timeout), .lo = 1, .hi = 86400,
	  .what = "expected seconds in [1, 86400]" },
	{ .name = "reconnect_min", .set = set_num, .off = D(reconnect_min), .lo = 0.01, .hi = 3600,
	  .what = "expected seconds in [0.01, 3600]" },
	{ .name = "reconnect_max", .set = set_num, .off = D(reconnect_max), .lo = 0.01, .hi = 86400,
	  .what = "expected seconds in [0.01, 86400]" },
	{ NULL },
};

static const key stream_keys[] = {
	{ .name = "url", .set = set_text, .off = S(url), .what = "a URL or path is required" },
	{ .name = "fps", .set = set_num, .off = S(fps), .lo = 0, .hi = 1000,
	  .what = "expected frames per second in [0, 1000] (0 = every frame)" },
	{ .name = "threshold", .set = set_num, .off = S(threshold), .lo = 0, .hi = 1e30,
	  .what = "expected a number >= 0" },
	{ .name = "hysteresis", .set = set_num, .off = S(hysteresis), .lo = 1e-300, .hi = 1,
	  .what = "expected a number in (0, 1]" },
	{ .name = "min_duration", .set = set_int, .off = S(min_duration), .lo = 1, .hi = 1000000,
	  .what = "expected frames >= 1" },
	{ .name = "roi", .set = set_roi },
	{ .name = "snapshot", .set = set_bool, .off = S(snapshot), .what = "expected on or off" },
	{ .name = "heatmap", .set = set_bool, .off = S(heatmap), .what = "expected on or off" },
	{ .name = "loop", .set = set_bool, .off = S(loop), .what = "expected on or off" },
	{ .name = "realtime", .set = set_realtime, .off = S(realtime) },
	{ .name = "hwaccel", .set = set_hwaccel },
	{ .name = "timeout", .set = set_num, .as = NUM_MS, .off = S(timeout_ms), .lo = 0.1, .hi = 3600,
	  .what = "expected seconds in [0.1, 3600]" },
	{ NULL },
};

/* One key of a section: its row of the table sets it, or it is unknown. */
static void section_key(parser *p, int line, const key *keys, void *obj, const char *section, const char *name,
                        const char *v)
{
	const key *k = keys;
	while (k->name && strcmp(k->name, name))
		k++;
	if (!k->name) {
		perr(p, line, "unknown key '%s' in [%s]", name, section);
		return;
	}
	k->set(p, line, k, obj, v);
	if (k->line_at)
		*(int *)((char *)obj + k->line_at) = line;
	if (k->sampler && obj == p->c) {
		if (!p->c->params_line)
			p->c->params_line = line;
		for (int i = 0; calib_sampler_keys[i]; i++)
			if (!strcmp(name, calib_sampler_keys[i]))
				p->c->params_set |= 1u << i;
	}
}

/* ---- sections: one row each ----------------------------------------------- */

/* A section: its keys, and where its values go. A plain section ([daemon])
 * fills a struct at `off` in lmdd_config and notes its header's line at
 * `line_at` (which also says it was seen); a named one ([stream NAME]) is
 * one cfg_stream per name. */
typedef struct {
	const char *name;
	const key *keys;
	size_t off, line_at;      /* plain sections */
	int named;
} cfg_section;

static const cfg_section sections[] = {
	{ .name = "daemon", .keys = daemon_keys, .off = 0, .line_at = D(daemon_line) },
	{ .name = "stream", .keys = stream_keys, .named = 1 },
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

/* The row for the text between [ and ] (a named one's name after a space). */
static const cfg_section *find_section(const char *text, const char **sub)
{
	for (size_t i = 0; i < NSECTIONS; i++) {
		size_t n = strlen(sections[i].name);
		if (strncmp(text, sections[i].name, n))
			continue;
		if (!sections[i].named && !text[n])
			return &sections[i];
		if (sections[i].named && (!text[n] || isspace((unsigned char)text[n]))) {
			*sub = text + n;
			return &sections[i];
		}
	}
	return NULL;
}

/* A new [stream NAME]: checked, added with its defaults. */
static void stream_header(parser *p, char *sn)
{
	sn = trim(sn);
	if (!valid_name(sn)) {
		perr(p, p->line, "bad stream name '%s': use 1-%d letters, digits, '_', '-', '.'", sn, CFG_NAME_MAX - 1);
		p->unknown_line = p->line;
		return;
	}
	cfg_stream *s = find_stream(p->c, sn);
	if (s) {
		perr(p, p->line, "duplicate section [stream %s] (first at line %d)", sn, s->line);
		return;
	}
	if (p->c->n_streams >= CFG_MAX_STREAMS) {
		perr(p, p->line, "too many streams (at most %d)", CFG_MAX_STREAMS);
		p->unknown_line = p->line;
		return;
	}
	cfg_stream *ns = realloc(p->c->streams, sizeof *ns * (p->c->n_streams + 1));
	if (!ns)
		return;
	p->c->streams = ns;
	s = &ns[p->c->n_streams++];
	stream_defaults(s);
	snprintf(s->name, sizeof s->name, "%s", sn);
	s->line = p->line;
}

/* A section header seen by the reader. */
static void section_header(parser *p, char *text)
{
	char *end = strchr(text, ']');
	if (!end) {
		perr(p, p->line, "section header without ']'");
		return;
	}
	*end = 0;
	char *name = trim(text + 1);
	const char *sub = NULL;
	const cfg_section *sec = find_section(name, &sub);
	p->unknown_line = 0;
	if (sec && sec->named) {
		stream_header(p, (char *)sub);
		return;
	}
	if (sec) {
		int *seen = (int *)((char *)p->c + sec->line_at);
		if (*seen)
			perr(p, p->line, "duplicate section [%s] (first at line %d)", sec->name, *seen);
		else
			*seen = p->line;
		return;
	}
	char expected[256] = "";
	for (size_t i = 0; i < NSECTIONS; i++)
		snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s[%s%s]",
		         i == 0 ? "" : i + 1 == NSECTIONS ? " or " : ", ", sections[i].name, sections[i].named ? " NAME" : "");
	perr(p, p->line, "unknown section [%s] (expected %s)", name, expected);
	p->unknown_line = p->line;
}

/* ini_reader: one line per call, counting lines; see the header comment. */
static char *reader(char *str, int num, void *stream)
{
	parser *p = stream;
	ssize_t n = getline(&p->buf, &p->bufsz, p->f);
	if (n < 0)
		return NULL;
	p->line++;
	char *l = p->buf;
	/* the BOM is inih's business on line 1 only; skip it for our checks */
	char *t = l;
	if (p->line == 1 && !strncmp(t, "\xEF\xBB\xBF", 3))
		t += 3;
	while (isspace((unsigned char)*t))
		t++;
	if (*t == '[') {
		char copy[512];
		snprintf(copy, sizeof copy, "%s", t);
		section_header(p, copy);
	}
	if ((int)n > num - 3 && *t != ';' && *t != '#' && *t != '[') {
		/* too long for inih: keep the value, give it a stand-in */
		char *d = strpbrk(t, "=:");
		if (!d) {
			perr(p, p->line, "line too long and not 'key = value'");
			str[0] = 0;
			return str;
		}
		char *val = d + 1;
		/* strip an inline comment: ';' preceded by whitespace (as inih) */
		for (char *q = val; *q; q++)
			if (*q == ';' && q > val && isspace((unsigned char)q[-1])) {
				*q = 0;
				break;
			}
		val = trim(val);
		long_val *nl = realloc(p->longs, sizeof *nl * (p->nlongs + 1));
		if (!nl)
			return NULL;
		p->longs = nl;
		nl[p->nlongs].line = p->line;
		nl[p->nlongs].val = strdup(val);
		p->nlongs++;
		*d = 0;
		snprintf(str, num, "%.*s=\x01%d\n", num - 16 > 0 ? num - 16 : 0, t, p->line);
		return str;
	}
	snprintf(str, num, "%s", l);
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	parser *p = user;
	int line = p->line;
	const char *v = value;
	if (v[0] == '\x01') {
		for (int i = 0; i < p->nlongs; i++)
			if (p->longs[i].line == line) {
				v = p->longs[i].val;
				break;
			}
	}
	if (p->unknown_line)
		return 1;   /* keys of a section already reported */
	if (!*section) {
		perr(p, line, "key '%s' outside any section", name);
		return 1;
	}
	const char *sub = NULL;
	const cfg_section *sec = find_section(section, &sub);
	if (sec && !sec->named) {
		section_key(p, line, sec->keys, (char *)p->c + sec->off, sec->name, name, v);
	} else if (sec) {
		char sn[256], full[300];
		snprintf(sn, sizeof sn, "%s", sub);
		cfg_stream *s = find_stream(p->c, trim(sn));
		snprintf(full, sizeof full, "%s %s", sec->name, s ? s->name : "");
		if (s)
			section_key(p, line, sec->keys, s, full, name, v);
	}
	return 1;
}

/* ---- load ------------------------------------------------------------------ */

/* Order the "PATH:LINE: ..." lines by line (the whole-file checks and
 * inih's syntax error come last otherwise). */
static long err_line(const char *l, size_t plen)
{
	return strtol(l + plen + 1, NULL, 10);
}

static void sort_errors(char *errors, const char *path)
{
	if (!errors)
		return;
	size_t plen = strlen(path), n = 0;
	for (char *q = errors; *q; q++)
		n += *q == '\n';
	char **lines = malloc(sizeof *lines * (n + 1));
	char *copy = strdup(errors);
	if (!lines || !copy)
		goto out;
	size_t k = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, "\n", &save); t && k < n + 1; t = strtok_r(NULL, "\n", &save))
		lines[k++] = t;
	/* insertion sort: stable, lists are short */
	for (size_t i = 1; i < k; i++) {
		char *x = lines[i];
		size_t j = i;
		while (j > 0 && err_line(lines[j - 1], plen) > err_line(x, plen)) {
			lines[j] = lines[j - 1];
			j--;
		}
		lines[j] = x;
	}
	char *o = errors;
	for (size_t i = 0; i < k; i++) {
		size_t l = strlen(lines[i]);
		memcpy(o, lines[i], l);
		o[l] = '\n';
		o += l + 1;
	}
	*o = 0;
out:
	free(lines);
	free(copy);
}

static void defaults(lmdd_config *c)
{
	lmd_params_default(&c->params);
	c->backend = CFG_BACKEND_AUTO;
	c->device = -1;
	c->sndhwm = 1000;
	c->linger_ms = 2000;
	c->status_interval = 5;
	c->log_level = LOG_INFO;
	c->batch_max = 8;
	c->update_interval = 1.0;
	c->max_regions = 16;
	c->region_min_area = 16;
	c->region_blur = 2;
	c->region_factor = 1.0;
	c->snapshot_quality = 4;
	c->snapshot_max_width = 0;
	c->reconnect_min = 0.5;
	c->reconnect_max = 30;
	c->engine_timeout = 300;
}

lmdd_config *config_load(const char *path, int *nerr, char **errors)
{
	*nerr = 0;
	*errors = NULL;
	lmdd_config *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	defaults(c);
	c->path = strdup(path);
	parser p = { .path = path, .c = c, .errors = errors };
	p.f = fopen(path, "r");
	if (!p.f) {
		config_errorf(errors, "%s: cannot open: %s", path, strerror(errno));
		*nerr = 1;
		return c;
	}
	const char *slash = strrchr(path, '/');
	if (slash) {
		p.dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	} else {
		p.dir = strdup(".");
	}
	ini_allow_multiline = 0;
	int r = ini_parse_stream(reader, &p, handler, &p);
	if (r > 0 && r <= p.line) {
		/* inih reports the first line it could not parse */
		perr(&p, r, "syntax error: expected 'key = value', '[section]' or a comment");
	} else if (r < 0) {
		perr(&p, 0, "cannot read the file");
	}
	fclose(p.f);
	free(p.buf);
	for (int i = 0; i < p.nlongs; i++)
		free(p.longs[i].val);
	free(p.longs);

	/* whole-file checks */
	if (!c->daemon_line)
		perr(&p, 1, "no [daemon] section");
	else if (!c->model)
		perr(&p, c->daemon_line, "[daemon] has no 'model' (path of the model file)");
	if (c->model && !c->calib) {
		size_t n = strlen(c->model) + 16;
		c->calib = malloc(n);
		if (c->calib)
			snprintf(c->calib, n, "%s.calib.json", c->model);
	}
	if (c->n_streams == 0)
		perr(&p, p.line, "no [stream NAME] sections: nothing to watch");
	for (int i = 0; i < c->n_streams; i++)
		if (!c->streams[i].url)
			perr(&p, c->streams[i].line, "[stream %s] has no 'url'", c->streams[i].name);
	if (c->curve) {
		if (!c->curve_secret_file)
			perr(&p, c->curve_line, "curve = on needs curve_secret_key_file");
		if (!c->curve_clients_file)
			perr(&p, c->curve_line, "curve = on needs curve_allowed_keys_file");
	}
	if (c->reconnect_max < c->reconnect_min)
		perr(&p, c->daemon_line, "reconnect_max (%g) is below reconnect_min (%g)",
		     c->reconnect_max, c->reconnect_min);
	if (c->n_publish == 0)
		c->publish[c->n_publish++] = strdup("tcp://127.0.0.1:5556");
	free(p.dir);
	sort_errors(*errors, path);
	*nerr = p.nerr;
	return c;
}

void config_destroy(lmdd_config **pc)
{
	if (!pc || !*pc)
		return;
	lmdd_config *c = *pc;
	free(c->path);
	free(c->model);
	free(c->calib);
	for (int i = 0; i < c->n_publish; i++)
		free(c->publish[i]);
	free(c->curve_secret_file);
	free(c->curve_clients_file);
	for (int i = 0; i < c->n_streams; i++)
		free(c->streams[i].url);
	free(c->streams);
	free(c);
	*pc = NULL;
}

int config_check_thresholds(const lmdd_config *c, int have_calib, const char *calib_err,
                            char **errors)
{
	int n = 0;
	if (have_calib)
		return 0;
	for (int i = 0; i < c->n_streams; i++)
		if (c->streams[i].threshold < 0) {
			config_errorf(errors, "%s:%d: [stream %s] has no threshold and %s", c->path,
			              c->streams[i].line, c->streams[i].name, calib_err);
			n++;
		}
	return n;
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int config_stream_equal(const cfg_stream *a, const cfg_stream *b)
{
	return !strcmp(a->name, b->name) && streq(a->url, b->url) && a->fps == b->fps &&
	       a->threshold == b->threshold && a->hysteresis == b->hysteresis &&
	       a->min_duration == b->min_duration && a->has_roi == b->has_roi &&
	       (!a->has_roi || !memcmp(a->roi, b->roi, sizeof a->roi)) &&
	       a->snapshot == b->snapshot && a->heatmap == b->heatmap && a->loop == b->loop &&
	       a->realtime == b->realtime && !strcmp(a->hwaccel, b->hwaccel) &&
	       a->timeout_ms == b->timeout_ms;
}

const cfg_stream *config_find_stream(const lmdd_config *c, const char *name)
{
	return find_stream((lmdd_config *)c, name);
}

const char *config_backend_name(cfg_backend b)
{
	return b == CFG_BACKEND_CPU ? "cpu" : b == CFG_BACKEND_VULKAN ? "vulkan" : "auto";
}
