/*
 * config.h — the daemon's configuration (/etc/lmdd/lmdd.conf), an INI file
 * read with inih: one [daemon] section (model, engine, publishing, limits)
 * and one [stream NAME] section per video source. The key-by-key reference
 * is config/lmdd.conf and docs/daemon.md.
 *
 * Every problem (unknown section or key, bad value, missing model or url,
 * duplicate section) is reported as "FILE:LINE: message", all of them, not
 * just the first; a config with any error is rejected as a whole (lmdd run
 * exits 78 = EX_CONFIG, `lmdd check-config` prints them).
 */
#ifndef LMDD_CONFIG_H
#define LMDD_CONFIG_H

#include "calib.h"
#include "lmd.h"

#define CFG_NAME_MAX 64
#define CFG_MAX_PUBLISH 8
#define CFG_MAX_STREAMS 256

typedef enum { CFG_BACKEND_CPU = 0, CFG_BACKEND_VULKAN, CFG_BACKEND_AUTO } cfg_backend;

typedef struct {
	char name[CFG_NAME_MAX];  /* [stream NAME]: letters, digits, "_.-" */
	int line;                 /* of the section header */
	char *url;
	double fps;               /* analysis rate, frames/s; 0 = every frame */
	double threshold;         /* < 0: from the calibration file */
	double hysteresis;        /* event ends when score < threshold*hysteresis */
	int min_duration;         /* frames at/above threshold before an event starts */
	int has_roi, roi[4];      /* x, y, w, h in source pixels */
	int snapshot, heatmap;    /* attach JPEG / PNG heat-map to events */
	int loop;                 /* files: start over at the end */
	int realtime;             /* files: pace at native rate; -1 = auto (files yes) */
	char hwaccel[16];         /* none|auto|vaapi|cuda|vulkan|... */
	int timeout_ms;           /* I/O timeout */
} cfg_stream;

typedef struct {
	char *path;               /* the file this came from */
	int daemon_line;          /* line of [daemon] (0 if absent) */

	char *model;              /* resolved path of the model */
	int model_line;
	char *calib;              /* calibration sidecar (default <model>.calib.json) */
	int calib_line;
	cfg_backend backend;
	int device;               /* Vulkan device index, -1 = best */
	char device_name[128];    /* substring match, "" = any */
	lmd_params params;        /* the config's; the calibration fills the keys it leaves out */
	unsigned params_set;      /* bit i: calib_sampler_keys[i] is set in [daemon] */
	int params_line;          /* first line of a sampler key, for errors */

	char *publish[CFG_MAX_PUBLISH];
	int n_publish;
	int sndhwm;
	int linger_ms;
	int curve;                /* CURVE encryption + ZAP allow-list */
	char *curve_secret_file;  /* server secret key, Z85 (40 chars) */
	char *curve_clients_file; /* allowed client public keys, Z85, one a line */
	int curve_line;

	double status_interval;   /* seconds between lmdd.status messages */
	int log_level;
	int batch_max;
	double update_interval;   /* seconds between "update" messages of an event */
	int max_regions;
	int region_min_area;      /* pixels of the distance map */
	int region_blur;          /* box-filter radius on the map before thresholding */
	double region_factor;     /* pixel threshold = factor * stream threshold */
	int snapshot_quality;     /* JPEG qscale 2 (best) .. 31 */
	int snapshot_max_width;   /* 0 = source size */
	double reconnect_min, reconnect_max; /* backoff bounds, seconds */
	double engine_timeout;    /* an engine call longer than this is a hang (watchdog) */

	cfg_stream *streams;
	int n_streams;
} lmdd_config;

/*
 * Parse path. Returns the config (never NULL unless out of memory) and the
 * number of errors; *errors (malloc'd, caller frees) holds one
 * "FILE:LINE: message" per line. A config with errors must not be used
 * except to free it.
 */
lmdd_config *config_load(const char *path, int *nerr, char **errors);
void config_destroy(lmdd_config **c);

/* Every stream must end up with a threshold: its own or the calibration's.
 * Appends "FILE:LINE: ..." errors; returns how many. */
int config_check_thresholds(const lmdd_config *c, int have_calib, const char *calib_err,
                            char **errors);

/* 1 if two stream sections describe the same thing (no restart needed). */
int config_stream_equal(const cfg_stream *a, const cfg_stream *b);
const cfg_stream *config_find_stream(const lmdd_config *c, const char *name);
const char *config_backend_name(cfg_backend b);

/* Append a formatted line to a malloc'd error text (helper shared with the
 * commands). */
void config_errorf(char **errors, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
