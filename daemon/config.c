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
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
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
	int seen_daemon;
	int unknown_line;    /* an unknown section is open: its keys are ignored */
	char cur_section[256];
	int have_sampler_key;
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
	snprintf(p->cur_section, sizeof p->cur_section, "%s", name);
	p->unknown_line = 0;
	if (!strcmp(name, "daemon")) {
		if (p->seen_daemon)
			perr(p, p->line, "duplicate section [daemon] (first at line %d)",
			     p->c->daemon_line);
		else
			p->c->daemon_line = p->line;
		p->seen_daemon = 1;
		return;
	}
	if (!strncmp(name, "stream", 6) && (isspace((unsigned char)name[6]) || !name[6])) {
		char *sn = trim(name + 6);
		if (!valid_name(sn)) {
			perr(p, p->line, "bad stream name '%s': use 1-%d letters, digits, '_', '-', '.'",
			     sn, CFG_NAME_MAX - 1);
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
		return;
	}
	perr(p, p->line, "unknown section [%s] (expected [daemon] or [stream NAME])", name);
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

#define BAD(what) perr(p, line, "bad value '%s' for %s: %s", v, key, what)

static void daemon_key(parser *p, int line, const char *key, const char *v)
{
	lmdd_config *c = p->c;
	long l;
	double d;
	int b;
	lmd_params *pr = &c->params;
	int sampler = 1;

	if (!strcmp(key, "model")) {
		sampler = 0;
		set_str(&c->model, resolve(p, v));
		c->model_line = line;
		if (!*v)
			BAD("a path is required");
		else if (c->model && access(c->model, R_OK) != 0)
			perr(p, line, "cannot read model '%s': %s", c->model, strerror(errno));
	} else if (!strcmp(key, "calibration")) {
		sampler = 0;
		set_str(&c->calib, resolve(p, v));
		c->calib_line = line;
	} else if (!strcmp(key, "backend")) {
		sampler = 0;
		if (!strcasecmp(v, "cpu")) c->backend = CFG_BACKEND_CPU;
		else if (!strcasecmp(v, "vulkan")) c->backend = CFG_BACKEND_VULKAN;
		else if (!strcasecmp(v, "auto")) c->backend = CFG_BACKEND_AUTO;
		else BAD("expected vulkan, cpu or auto");
	} else if (!strcmp(key, "device")) {
		sampler = 0;
		if (parse_long(v, -1, 255, &l)) {
			c->device = (int)l;
			c->device_name[0] = 0;
		} else if (*v) {
			c->device = -1;
			snprintf(c->device_name, sizeof c->device_name, "%s", v);
		} else {
			BAD("expected a device index or a name");
		}
	} else if (!strcmp(key, "steps")) {
		if (parse_long(v, 1, 1000, &l)) pr->steps = (int)l; else BAD("expected an integer in [1, 1000]");
	} else if (!strcmp(key, "reps")) {
		if (parse_long(v, 1, 64, &l)) pr->reps = (int)l; else BAD("expected an integer in [1, 64]");
	} else if (!strcmp(key, "t0")) {
		if (!strcasecmp(v, "max")) pr->t0 = -1;
		else if (parse_long(v, -1, 100000, &l) && l != 0) pr->t0 = (int)l;
		else BAD("expected an integer >= 1 or 'max'");
	} else if (!strcmp(key, "eta")) {
		if (parse_double(v, 0, 1, &d)) pr->eta = (float)d; else BAD("expected a number in [0, 1]");
	} else if (!strcmp(key, "mask")) {
		if (lmd_params_set_mask(pr, v) != LMD_OK)
			perr(p, line, "bad value '%s' for mask: %s", v, lmd_errmsg());
	} else if (!strcmp(key, "distance")) {
		if (!strcasecmp(v, "mse")) pr->distance = LMD_DIST_MSE;
		else if (!strcasecmp(v, "ssim")) pr->distance = LMD_DIST_SSIM;
		else BAD("expected mse or ssim");
	} else if (!strcmp(key, "pool")) {
		if (!strcasecmp(v, "mean")) pr->pool = LMD_POOL_MEAN;
		else if (!strcasecmp(v, "max")) pr->pool = LMD_POOL_MAX;
		else if (!strncasecmp(v, "max:", 4) && parse_long(v + 4, 1, 255, &l)) {
			pr->pool = LMD_POOL_MAX;
			pr->pool_size = (int)l;
		} else BAD("expected mean, max or max:SIZE (1-255)");
	} else if (!strcmp(key, "aggregate")) {
		if (!strcasecmp(v, "median")) pr->agg = LMD_AGG_MEDIAN;
		else if (!strcasecmp(v, "mean")) pr->agg = LMD_AGG_MEAN;
		else if (!strcasecmp(v, "min")) pr->agg = LMD_AGG_MIN;
		else BAD("expected median, mean or min");
	} else if (!strcmp(key, "jump")) {
		if (parse_long(v, 0, 1000, &l)) pr->jump = (int)l; else BAD("expected an integer >= 0");
	} else if (!strcmp(key, "resample")) {
		if (parse_long(v, 0, 20, &l)) pr->resample = (int)l; else BAD("expected an integer in [0, 20]");
	} else if (!strcmp(key, "seed")) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(v, &end, 0);
		if (end == v || *end || errno || v[0] == '-') BAD("expected an unsigned integer");
		else pr->seed = s;
	} else {
		sampler = 0;
		if (!strcmp(key, "publish")) {
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
		} else if (!strcmp(key, "sndhwm")) {
			if (parse_long(v, 0, 10000000, &l)) c->sndhwm = (int)l; else BAD("expected an integer >= 0 (0 = no limit)");
		} else if (!strcmp(key, "linger")) {
			if (parse_double(v, 0, 600, &d)) c->linger_ms = (int)(d * 1000); else BAD("expected seconds in [0, 600]");
		} else if (!strcmp(key, "curve")) {
			if (parse_bool(v, &b)) { c->curve = b; c->curve_line = line; } else BAD("expected on or off");
		} else if (!strcmp(key, "curve_secret_key_file")) {
			set_str(&c->curve_secret_file, resolve(p, v));
			if (c->curve_secret_file && access(c->curve_secret_file, R_OK))
				perr(p, line, "cannot read '%s': %s", c->curve_secret_file, strerror(errno));
		} else if (!strcmp(key, "curve_allowed_keys_file")) {
			set_str(&c->curve_clients_file, resolve(p, v));
			if (c->curve_clients_file && access(c->curve_clients_file, R_OK))
				perr(p, line, "cannot read '%s': %s", c->curve_clients_file, strerror(errno));
		} else if (!strcmp(key, "status_interval")) {
			if (parse_double(v, 0.1, 3600, &d)) c->status_interval = d; else BAD("expected seconds in [0.1, 3600]");
		} else if (!strcmp(key, "log_level")) {
			int lv = log_level_parse(v);
			if (lv >= 0) c->log_level = lv; else BAD("expected err, warning, notice, info or debug");
		} else if (!strcmp(key, "batch_max")) {
			if (parse_long(v, 1, 256, &l)) c->batch_max = (int)l; else BAD("expected an integer in [1, 256]");
		} else if (!strcmp(key, "update_interval")) {
			if (parse_double(v, 0, 3600, &d)) c->update_interval = d; else BAD("expected seconds in [0, 3600]");
		} else if (!strcmp(key, "max_regions")) {
			if (parse_long(v, 0, 1000, &l)) c->max_regions = (int)l; else BAD("expected an integer in [0, 1000]");
		} else if (!strcmp(key, "region_min_area")) {
			if (parse_long(v, 1, 1000000, &l)) c->region_min_area = (int)l; else BAD("expected an integer >= 1");
		} else if (!strcmp(key, "region_blur")) {
			if (parse_long(v, 0, 32, &l)) c->region_blur = (int)l; else BAD("expected an integer in [0, 32]");
		} else if (!strcmp(key, "region_factor")) {
			if (parse_double(v, 0.01, 100, &d)) c->region_factor = d; else BAD("expected a number in [0.01, 100]");
		} else if (!strcmp(key, "snapshot_quality")) {
			if (parse_long(v, 2, 31, &l)) c->snapshot_quality = (int)l; else BAD("expected an integer in [2, 31] (2 = best)");
		} else if (!strcmp(key, "snapshot_max_width")) {
			if (parse_long(v, 0, 16384, &l)) c->snapshot_max_width = (int)l; else BAD("expected pixels (0 = source size)");
		} else if (!strcmp(key, "engine_timeout")) {
			if (parse_double(v, 1, 86400, &d)) c->engine_timeout = d; else BAD("expected seconds in [1, 86400]");
		} else if (!strcmp(key, "reconnect_min")) {
			if (parse_double(v, 0.01, 3600, &d)) c->reconnect_min = d; else BAD("expected seconds in [0.01, 3600]");
		} else if (!strcmp(key, "reconnect_max")) {
			if (parse_double(v, 0.01, 86400, &d)) c->reconnect_max = d; else BAD("expected seconds in [0.01, 86400]");
		} else {
			perr(p, line, "unknown key '%s' in [daemon]", key);
		}
	}
	if (sampler && !c->params_line)
		c->params_line = line;
	for (int i = 0; sampler && calib_sampler_keys[i]; i++)
		if (!strcmp(key, calib_sampler_keys[i]))
			c->params_set |= 1u << i;
}

static void stream_key(parser *p, int line, cfg_stream *s, const char *key, const char *v)
{
	long l;
	double d;
	int b;
	if (!strcmp(key, "url")) {
		free(s->url);
		s->url = strdup(v);
		if (!*v)
			BAD("a URL or path is required");
	} else if (!strcmp(key, "fps")) {
		if (parse_double(v, 0, 1000, &d)) s->fps = d; else BAD("expected frames per second in [0, 1000] (0 = every frame)");
	} else if (!strcmp(key, "threshold")) {
		if (parse_double(v, 0, 1e30, &d)) s->threshold = d; else BAD("expected a number >= 0");
	} else if (!strcmp(key, "hysteresis")) {
		if (parse_double(v, 0, 1, &d) && d > 0) s->hysteresis = d; else BAD("expected a number in (0, 1]");
	} else if (!strcmp(key, "min_duration")) {
		if (parse_long(v, 1, 1000000, &l)) s->min_duration = (int)l; else BAD("expected frames >= 1");
	} else if (!strcmp(key, "roi")) {
		long r[4];
		char tmp[256], *save = NULL, *t;
		int n = 0, ok = 1;
		snprintf(tmp, sizeof tmp, "%s", v);
		for (t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (n >= 4 || !parse_long(trim(t), 0, 65535, &r[n])) { ok = 0; break; }
			n++;
		}
		if (!ok || n != 4 || r[2] < 1 || r[3] < 1)
			BAD("expected x,y,w,h in source pixels (w, h >= 1)");
		else {
			s->has_roi = 1;
			for (int i = 0; i < 4; i++)
				s->roi[i] = (int)r[i];
		}
	} else if (!strcmp(key, "snapshot")) {
		if (parse_bool(v, &b)) s->snapshot = b; else BAD("expected on or off");
	} else if (!strcmp(key, "heatmap")) {
		if (parse_bool(v, &b)) s->heatmap = b; else BAD("expected on or off");
	} else if (!strcmp(key, "loop")) {
		if (parse_bool(v, &b)) s->loop = b; else BAD("expected on or off");
	} else if (!strcmp(key, "realtime")) {
		if (!strcasecmp(v, "auto")) s->realtime = -1;
		else if (parse_bool(v, &b)) s->realtime = b;
		else BAD("expected auto, on or off");
	} else if (!strcmp(key, "hwaccel")) {
		if (strlen(v) >= sizeof s->hwaccel || !*v) BAD("expected none, auto or a device type");
		else snprintf(s->hwaccel, sizeof s->hwaccel, "%s", v);
	} else if (!strcmp(key, "timeout")) {
		if (parse_double(v, 0.1, 3600, &d)) s->timeout_ms = (int)(d * 1000); else BAD("expected seconds in [0.1, 3600]");
	} else {
		perr(p, line, "unknown key '%s' in [stream %s]", key, s->name);
	}
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
	if (!strcmp(section, "daemon")) {
		daemon_key(p, line, name, v);
		return 1;
	}
	if (!strncmp(section, "stream", 6)) {
		char sn[256];
		snprintf(sn, sizeof sn, "%s", section + 6);
		cfg_stream *s = find_stream(p->c, trim(sn));
		if (s)
			stream_key(p, line, s, name, v);
		return 1;
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
	if (!p.seen_daemon)
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
