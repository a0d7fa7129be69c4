/*
 * test_config.c — daemon/config.c: a complete good file, and each kind of
 * mistake reported as FILE:LINE: message (unknown key/section, bad value,
 * missing model/url, duplicates, syntax), long lines, relative paths, the
 * calibration sidecar, stream comparison for reloads.
 */
#include <unistd.h>

#include "check.h"
#include "config.h"

static char dir[256];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Parse text as DIR/NAME; returns the config, fills nerr/errs. */
static lmdd_config *parse(const char *name, const char *text, int *nerr, char **errs)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	write_file(path, text);
	return config_load(path, nerr, errs);
}

/* errs contains "DIR/NAME:LINE: needle" */
static int has_err(const char *errs, const char *name, int line, const char *needle)
{
	char pre[600];
	snprintf(pre, sizeof pre, "%s/%s:%d: ", dir, name, line);
	for (const char *p = errs; p && (p = strstr(p, pre)); p++) {
		const char *eol = strchr(p, '\n');
		const char *hit = strstr(p + strlen(pre), needle);
		if (hit && (!eol || hit < eol))
			return 1;
	}
	return 0;
}

TEST(good_file)
{
	const char *text =
		"# a complete config\n"
		"[daemon]\n"
		"model = m.safetensors   ; relative to this file\n"
		"backend = cpu\n"
		"device = llvmpipe\n"
		"steps = 7\n"
		"reps = 3\n"
		"t0 = 500\n"
		"mask = patches:0.3\n"
		"distance = ssim\n"
		"pool = max:5\n"
		"aggregate = mean\n"
		"seed = 42\n"
		"publish = tcp://127.0.0.1:7001, ipc:///tmp/lmdd.sock\n"
		"publish = tcp://*:7002\n"
		"sndhwm = 50\n"
		"linger = 0.5\n"
		"status_interval = 2.5\n"
		"log_level = debug\n"
		"batch_max = 4\n"
		"update_interval = 0.5\n"
		"max_regions = 3\n"
		"region_min_area = 9\n"
		"region_blur = 2\n"
		"region_factor = 1.5\n"
		"snapshot_quality = 3\n"
		"snapshot_max_width = 640\n"
		"reconnect_min = 0.25\n"
		"reconnect_max = 8\n"
		"engine_timeout = 42\n"
		"\n"
		"[stream cam-1]\n"
		"url = rtsp://10.0.0.5/stream1\n"
		"fps = 2.5\n"
		"threshold = 0.012\n"
		"hysteresis = 0.7\n"
		"min_duration = 4\n"
		"roi = 10, 20, 300, 200\n"
		"snapshot = off\n"
		"heatmap = yes\n"
		"hwaccel = vaapi\n"
		"timeout = 3\n"
		"[stream file_2]\n"
		"url = /data/clip.mkv\n"
		"loop = on\n"
		"realtime = off\n";
	char mp[512];
	snprintf(mp, sizeof mp, "%s/m.safetensors", dir);
	write_file(mp, "x");
	int nerr;
	char *errs;
	lmdd_config *c = parse("good.conf", text, &nerr, &errs);
	REQUIRE(c, "NULL config");
	CHECK(nerr == 0, "%d errors:\n%s", nerr, errs ? errs : "");
	CHECK(c->model && !strcmp(c->model, mp), "model %s", c->model);
	char cal[600];
	snprintf(cal, sizeof cal, "%s.calib.json", mp);
	CHECK(c->calib && !strcmp(c->calib, cal), "calib %s", c->calib);
	CHECK(c->backend == CFG_BACKEND_CPU && c->device == -1 && !strcmp(c->device_name, "llvmpipe"),
	      "backend/device");
	CHECK(c->params.steps == 7 && c->params.reps == 3 && c->params.t0 == 500, "sampler");
	CHECK(c->params.mask == LMD_MASK_PATCHES && c->params.mask_frac > 0.29f &&
	      c->params.mask_frac < 0.31f, "mask");
	CHECK(c->params.distance == LMD_DIST_SSIM && c->params.pool == LMD_POOL_MAX &&
	      c->params.pool_size == 5 && c->params.agg == LMD_AGG_MEAN && c->params.seed == 42,
	      "distance/pool/agg/seed");
	CHECK(c->n_publish == 3 && !strcmp(c->publish[1], "ipc:///tmp/lmdd.sock") &&
	      !strcmp(c->publish[2], "tcp://*:7002"), "publish %d", c->n_publish);
	CHECK(c->sndhwm == 50 && c->linger_ms == 500 && c->status_interval == 2.5 &&
	      c->log_level == 7 && c->batch_max == 4 && c->update_interval == 0.5, "daemon ints");
	CHECK(c->max_regions == 3 && c->region_min_area == 9 && c->region_blur == 2 &&
	      c->region_factor == 1.5 && c->snapshot_quality == 3 && c->snapshot_max_width == 640 &&
	      c->reconnect_min == 0.25 && c->reconnect_max == 8 && c->engine_timeout == 42,
	      "daemon limits");
	REQUIRE(c->n_streams == 2, "streams %d", c->n_streams);
	const cfg_stream *s = &c->streams[0];
	CHECK(!strcmp(s->name, "cam-1") && !strcmp(s->url, "rtsp://10.0.0.5/stream1") && s->fps == 2.5 &&
	      s->threshold == 0.012 && s->hysteresis == 0.7 && s->min_duration == 4, "cam-1");
	CHECK(s->has_roi && s->roi[0] == 10 && s->roi[1] == 20 && s->roi[2] == 300 && s->roi[3] == 200,
	      "roi");
	CHECK(!s->snapshot && s->heatmap && !strcmp(s->hwaccel, "vaapi") && s->timeout_ms == 3000 &&
	      s->line == 32, "cam-1 flags, line %d", s->line);
	s = config_find_stream(c, "file_2");
	REQUIRE(s, "file_2");
	CHECK(s->loop == 1 && s->realtime == 0 && s->threshold < 0 && s->fps == 5 && s->snapshot == 1,
	      "file_2 defaults");
	CHECK(config_find_stream(c, "nope") == NULL, "find missing");
	free(errs);
	config_destroy(&c);
	CHECK(c == NULL, "destroy nulls");
}

TEST(defaults_minimal)
{
	char mp[512];
	snprintf(mp, sizeof mp, "%s/m.safetensors", dir);
	write_file(mp, "x");
	int nerr;
	char *errs;
	lmdd_config *c = parse("min.conf",
	                       "[daemon]\nmodel = m.safetensors\n[stream a]\nurl = /x.mkv\n", &nerr, &errs);
	CHECK(nerr == 0, "errors: %s", errs);
	CHECK(c->n_publish == 1 && !strcmp(c->publish[0], "tcp://127.0.0.1:5556"), "default publish");
	CHECK(c->backend == CFG_BACKEND_AUTO && c->batch_max == 8 && c->status_interval == 5 &&
	      !c->curve, "defaults");
	free(errs);
	config_destroy(&c);
}

TEST(errors_with_file_and_line)
{
	const char *text =
		"[daemon]\n"                         /* 1 */
		"model = /nonexistent/m.safetensors\n" /* 2 */
		"steps = many\n"                     /* 3 */
		"colour = blue\n"                    /* 4 */
		"backend = cuda\n"                   /* 5 */
		"publish = http://x\n"               /* 6 */
		"[stream a]\n"                       /* 7 */
		"url = /x.mkv\n"                     /* 8 */
		"fps = fast\n"                       /* 9 */
		"speed = 3\n"                        /* 10 */
		"roi = 1,2,3\n"                      /* 11 */
		"[stream b]\n"                       /* 12 */
		"fps = 2\n"                          /* 13 */
		"[stream a]\n"                       /* 14 */
		"[cameras]\n"                        /* 15 */
		"x = 1\n"                            /* 16 */
		"[stream bad name!]\n"               /* 17 */
		"[stream c]\n"                       /* 18 */
		"url = /y.mkv\n"                     /* 19 */
		"hysteresis = 0\n"                   /* 20 */
		"this line has no equals sign\n"     /* 21 */
		"mask = stripes\n";                  /* 22 */
	int nerr;
	char *errs;
	lmdd_config *c = parse("bad.conf", text, &nerr, &errs);
	REQUIRE(c && errs, "no errors at all");
	fprintf(stderr, "%s", errs);
	CHECK(has_err(errs, "bad.conf", 2, "cannot read model '/nonexistent/m.safetensors'"), "model");
	CHECK(has_err(errs, "bad.conf", 3, "bad value 'many' for steps"), "steps");
	CHECK(has_err(errs, "bad.conf", 4, "unknown key 'colour' in [daemon]"), "colour");
	CHECK(has_err(errs, "bad.conf", 5, "bad value 'cuda' for backend"), "backend");
	CHECK(has_err(errs, "bad.conf", 6, "bad publish endpoint 'http://x'"), "publish");
	CHECK(has_err(errs, "bad.conf", 9, "bad value 'fast' for fps"), "fps");
	CHECK(has_err(errs, "bad.conf", 10, "unknown key 'speed' in [stream a]"), "speed");
	CHECK(has_err(errs, "bad.conf", 11, "bad value '1,2,3' for roi"), "roi");
	CHECK(has_err(errs, "bad.conf", 12, "[stream b] has no 'url'"), "no url");
	CHECK(has_err(errs, "bad.conf", 14, "duplicate section [stream a] (first at line 7)"), "dup");
	CHECK(has_err(errs, "bad.conf", 15, "unknown section [cameras]"), "section");
	CHECK(!has_err(errs, "bad.conf", 16, ""), "keys of an unknown section are not reported again");
	CHECK(has_err(errs, "bad.conf", 17, "bad stream name 'bad name!'"), "name");
	CHECK(has_err(errs, "bad.conf", 20, "bad value '0' for hysteresis"), "hysteresis");
	CHECK(has_err(errs, "bad.conf", 21, "syntax error"), "syntax");
	CHECK(has_err(errs, "bad.conf", 22, "unknown key 'mask' in [stream c]"), "mask");
	/* sorted by line */
	CHECK(strstr(errs, ":21: syntax") < strstr(errs, ":22: unknown"), "order");
	CHECK(nerr == 15, "%d errors, want 15", nerr);
	free(errs);
	config_destroy(&c);
}

TEST(missing_model_and_streams)
{
	int nerr;
	char *errs;
	lmdd_config *c = parse("nomodel.conf", "# nothing\n[daemon]\nsteps = 5\n", &nerr, &errs);
	CHECK(nerr == 2, "%d errors: %s", nerr, errs);
	CHECK(has_err(errs, "nomodel.conf", 2, "[daemon] has no 'model'"), "model: %s", errs);
	CHECK(has_err(errs, "nomodel.conf", 3, "no [stream NAME] sections"), "streams: %s", errs);
	free(errs);
	config_destroy(&c);
	c = parse("empty.conf", "", &nerr, &errs);
	CHECK(nerr == 2 && has_err(errs, "empty.conf", 1, "no [daemon] section"), "empty: %s", errs);
	free(errs);
	config_destroy(&c);
	c = config_load("/nonexistent/lmdd.conf", &nerr, &errs);
	CHECK(nerr == 1 && strstr(errs, "/nonexistent/lmdd.conf: cannot open"), "missing file: %s", errs);
	free(errs);
	config_destroy(&c);
	/* curve without key files */
	char mp[512];
	snprintf(mp, sizeof mp, "%s/m.safetensors", dir);
	write_file(mp, "x");
	c = parse("curve.conf", "[daemon]\nmodel = m.safetensors\ncurve = on\n[stream a]\nurl=/x\n",
	          &nerr, &errs);
	CHECK(nerr == 2 && has_err(errs, "curve.conf", 3, "curve_secret_key_file"), "curve: %s", errs);
	free(errs);
	config_destroy(&c);
}

TEST(long_line)
{
	char url[700], text[1200];
	memcpy(url, "rtsp://user:secret@camera.example/", 34);
	memset(url + 34, 'q', 600);
	url[634] = 0;
	snprintf(text, sizeof text,
	         "[daemon]\nmodel = m.safetensors\n[stream long]\nurl = %s   ; comment\nfps = 1\n", url);
	int nerr;
	char *errs;
	lmdd_config *c = parse("long.conf", text, &nerr, &errs);
	CHECK(nerr == 0, "errors: %s", errs);
	REQUIRE(c->n_streams == 1 && c->streams[0].url, "stream");
	CHECK(!strcmp(c->streams[0].url, url), "url mangled (%zu chars)", strlen(c->streams[0].url));
	CHECK(c->streams[0].fps == 1, "next line fine");
	free(errs);
	config_destroy(&c);
}

TEST(calibration_file)
{
	char p[512], err[256];
	calib_info t = { .threshold = -1 };
	snprintf(p, sizeof p, "%s/cal.json", dir);
	write_file(p, "{\"threshold\": 0.0125, \"quantile\": 0.99, \"frames\": 500}");
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0 && t.threshold == 0.0125 &&
	      t.region_threshold == 0, "read: %s", err);
	/* a region threshold comes with the blur it was measured with */
	write_file(p, "{\"threshold\": 0.01, \"region_threshold\": 0.08, \"region_blur\": 3}");
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0 && t.region_threshold == 0.08 &&
	      t.region_blur == 3, "region threshold: %s", err);
	write_file(p, "{\"threshold\": 0.01, \"region_threshold\": 0.08}");
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0 && t.region_threshold == 0,
	      "region threshold without its blur is not used");
	write_file(p, "{\"threshold\": 0.0125, \"quantile\": 0.99, \"frames\": 500}");
	write_file(p, "{\"thresh\": 1}");
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == -1 && strstr(err, "threshold"), "%s", err);
	write_file(p, "not json");
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == -1 && strstr(err, "not valid JSON"), "%s", err);
	CHECK(calib_read("/nonexistent.json", NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == -1, "missing");
	/* recorded sampler settings must match ours */
	lmd_params lp;
	lmd_params_default(&lp);
	write_file(p, "{\"threshold\": 0.5, \"params\": {\"steps\": 10, \"reps\": 2, \"t0\": -1, \"eta\": 0, "
	              "\"mask\": \"checkerboard:8\", \"jump\": 0, \"resample\": 0, \"distance\": \"mse\", "
	              "\"pool\": \"mean\", \"agg\": \"median\", \"seed\": 0, \"nfe\": 20}}");
	t.threshold = -1;
	CHECK(calib_read(p, NULL, &lp, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0 && t.threshold == 0.5, "defaults match: %s", err);
	lp.pool = LMD_POOL_MAX;
	lp.pool_size = 9;
	CHECK(calib_read(p, NULL, &lp, CALIB_PARAMS_ALL, &t, err, sizeof err) == -1 && strstr(err, "pool mean (the config: max:9)"),
	      "pool differs: %s", err);
	/* a key the config leaves out comes from the sidecar; the others must match */
	unsigned pool_bit = 0;
	for (int i = 0; calib_sampler_keys[i]; i++)
		if (!strcmp(calib_sampler_keys[i], "pool"))
			pool_bit = 1u << i;
	REQUIRE(pool_bit, "pool is a sampler key");
	CHECK(calib_read(p, NULL, &lp, CALIB_PARAMS_ALL & ~pool_bit, &t, err, sizeof err) == 0 &&
	      lp.pool == LMD_POOL_MEAN, "pool from the sidecar: %s", err);
	lp.pool = LMD_POOL_MAX;
	lp.steps = 3;
	CHECK(calib_read(p, NULL, &lp, 0, &t, err, sizeof err) == 0 && lp.pool == LMD_POOL_MEAN &&
	      lp.steps == 10 && lp.t0 == -1, "every setting from the sidecar: %s", err);
	lp.steps = 3;
	lp.pool = LMD_POOL_MAX;
	CHECK(calib_read(p, NULL, &lp, pool_bit, &t, err, sizeof err) == -1 && strstr(err, "pool mean") &&
	      lp.steps == 3, "refused: p unchanged: %s", err);
	write_file(p, "{\"threshold\": 0.5, \"params\": {\"steps\": 10, \"pool\": \"biggest\"}}");
	CHECK(calib_read(p, NULL, &lp, 0, &t, err, sizeof err) == -1 && strstr(err, "for pool"),
	      "bad sidecar value: %s", err);
	lmd_params_default(&lp);
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0, "no settings to compare: %s", err);

	/* the recorded model fingerprint must match the model file: CRC-32 of
	 * "abc" is 352441c2 (zlib's check value) */
	char fp[512], crc[9];
	snprintf(fp, sizeof fp, "%s/abc.safetensors", dir);
	write_file(fp, "abc");
	CHECK(calib_file_crc32(fp, crc) == 0 && !strcmp(crc, "352441c2"), "crc32: %s", crc);
	CHECK(calib_file_crc32("/nonexistent", crc) == -1, "crc32 of a missing file");
	write_file(p, "{\"threshold\": 0.25, \"model_crc32\": \"352441c2\"}");
	t.threshold = -1;
	CHECK(calib_read(p, fp, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0 && t.threshold == 0.25, "same model: %s", err);
	write_file(fp, "abd");
	CHECK(calib_read(p, fp, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == -1 && strstr(err, "another model file")
	      && strstr(err, "352441c2"), "other model: %s", err);
	CHECK(calib_read(p, NULL, NULL, CALIB_PARAMS_ALL, &t, err, sizeof err) == 0, "no model to compare: %s", err);

	char mp[512];
	snprintf(mp, sizeof mp, "%s/m.safetensors", dir);
	write_file(mp, "x");
	int nerr;
	char *errs;
	lmdd_config *c = parse("thr.conf",
	                       "[daemon]\nmodel = m.safetensors\n[stream a]\nurl=/x\nthreshold=1\n"
	                       "[stream b]\nurl=/y\n", &nerr, &errs);
	CHECK(nerr == 0, "%s", errs);
	char *e2 = NULL;
	CHECK(config_check_thresholds(c, 1, "", &e2) == 0, "with calibration");
	CHECK(config_check_thresholds(c, 0, "no calibration file", &e2) == 1 &&
	      has_err(e2, "thr.conf", 6, "[stream b] has no threshold and no calibration file"),
	      "without: %s", e2);
	free(e2);
	free(errs);
	config_destroy(&c);
}

TEST(stream_equal_for_reload)
{
	char mp[512];
	snprintf(mp, sizeof mp, "%s/m.safetensors", dir);
	write_file(mp, "x");
	int n1, n2;
	char *e1, *e2;
	lmdd_config *a = parse("r1.conf",
	                       "[daemon]\nmodel=m.safetensors\n[stream a]\nurl=/x\n[stream b]\nurl=/y\n",
	                       &n1, &e1);
	lmdd_config *b = parse("r2.conf",
	                       "[daemon]\nmodel=m.safetensors\n\n[stream b]\nurl=/y\n[stream a]\nurl=/x\nfps=2\n",
	                       &n2, &e2);
	CHECK(n1 == 0 && n2 == 0, "errors");
	CHECK(config_stream_equal(config_find_stream(a, "b"), config_find_stream(b, "b")),
	      "b unchanged (line numbers do not matter)");
	CHECK(!config_stream_equal(config_find_stream(a, "a"), config_find_stream(b, "a")), "a changed");
	free(e1);
	free(e2);
	config_destroy(&a);
	config_destroy(&b);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_config.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(good_file);
	RUN(defaults_minimal);
	RUN(errors_with_file_and_line);
	RUN(missing_model_and_streams);
	RUN(long_line);
	RUN(calibration_file);
	RUN(stream_equal_for_reload);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {}
	CHECK_EXIT();
}
