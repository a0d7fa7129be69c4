/*
 * cmd_check_config.c — `lmdd check-config FILE`: every check `lmdd run`
 * makes before starting (INI syntax and values, model loads, sampler
 * parameters suit it, thresholds, CURVE key files), without starting
 * anything. Prints one "FILE:LINE: message" per problem on stderr and exits
 * 78 (EX_CONFIG), or prints a summary and exits 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "config.h"
#include "media.h"
#include "validate.h"

int cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL;
	int r;
	argv[0] = "lmdd check-config";   /* getopt's messages */
	optind = 1;
	while ((r = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (r == 'c') {
			path = optarg;
		} else if (r == 'h') {
			printf("usage: lmdd check-config FILE\n"
			       "Validates FILE as `lmdd run` would; exit 0 if good, 78 with FILE:LINE messages if not.\n");
			return 0;
		} else {
			fprintf(stderr, "usage: lmdd check-config FILE\n");
			return EX_USAGE;
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "usage: lmdd check-config FILE\n");
		return EX_USAGE;
	}
	if (!path)
		path = "/etc/lmdd/lmdd.conf";
	int nerr;
	char *errors = NULL;
	lmdd_config *c = config_load(path, &nerr, &errors);
	if (!c) {
		fprintf(stderr, "%s: out of memory\n", path);
		return EX_OSERR;
	}
	validated v = { 0 };
	if (nerr == 0)
		nerr = validate_config(c, &v, &errors);
	if (nerr) {
		fputs(errors ? errors : "", stderr);
		fprintf(stderr, "%s: %d error%s\n", path, nerr, nerr == 1 ? "" : "s");
		free(errors);
		lmd_model_destroy(&v.model);
		config_destroy(&c);
		return EX_CONFIG;
	}
	free(errors);
	const lmd_model_info *mi = lmd_model_get_info(v.model);
	printf("%s: OK\n", path);
	printf("model: %s (%s), frames %dx%d, %d channel%s, %d condition frame%s, %d NFE per frame\n",
	       c->model, mi->name, mi->frame_width, mi->frame_height, mi->channels,
	       mi->channels == 1 ? "" : "s", mi->cond_frames, mi->cond_frames == 1 ? "" : "s",
	       lmd_params_nfe(&v.params));
	char note[300];
	if (v.have_calib)
		printf("calibration: %s, threshold %.6g, region threshold %s\n", c->calib, v.calib.threshold,
		       validate_region_note(c, &v, note, sizeof note));
	else
		printf("calibration: none (%s); every stream sets its own threshold\n", v.calib_note);
	printf("backend: %s; batch up to %d; publish:", config_backend_name(c->backend), c->batch_max);
	for (int i = 0; i < c->n_publish; i++)
		printf(" %s", c->publish[i]);
	printf("%s\n", c->curve ? " (CURVE)" : "");
	for (int i = 0; i < c->n_streams; i++) {
		const cfg_stream *s = &c->streams[i];
		char u[512];
		lmd_media_redact_url(s->url, u, sizeof u);
		if (s->fps > 0)
			printf("stream %s: %s, %g fps, threshold %.6g%s\n", s->name, u, s->fps,
			       validate_threshold(s, &v), s->threshold >= 0 ? " (own)" : "");
		else
			printf("stream %s: %s, every frame, threshold %.6g%s\n", s->name, u,
			       validate_threshold(s, &v), s->threshold >= 0 ? " (own)" : "");
	}
	lmd_model_destroy(&v.model);
	config_destroy(&c);
	return 0;
}
