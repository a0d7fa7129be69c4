/*
 * cmd_info.c — `lmdd info --model FILE`: architecture, parameter count,
 * FLOPs per network evaluation at the model's frame size, the training
 * record, and the calibration sidecar next to it (FILE.calib.json: the
 * threshold and the model's operating point, which the daemon and `lmdd
 * eval` use for any sampler setting their config or command line leaves
 * out).
 *
 * A sidecar that cannot be used (unreadable, or measured on another model
 * file) is reported with the reason, as the daemon would refuse it; info
 * still exits 0, because it describes and does not judge.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "calib.h"

static void calib_lines(const char *model)
{
	char cal[4200], err[512], line[512];
	const char *from = "the engine's defaults";
	lmd_params p;
	lmd_params_default(&p);
	snprintf(cal, sizeof cal, "%s.calib.json", model);
	calib_info cc;
	if (access(cal, F_OK))
		printf("calibration:    none (no %s: run lmdd calibrate)\n", cal);
	else if (calib_read(cal, model, &p, 0, &cc, err, sizeof err))
		printf("calibration:    not usable: %s\n", err);
	else {
		printf("calibration:    %s: threshold %.6g", cal, cc.threshold);
		if (cc.region_threshold > 0)
			printf(", region threshold %.6g (blur %d)", cc.region_threshold, cc.region_blur);
		printf("\n");
		from = "the model's operating point, from its calibration";
	}
	cJSON *j = calib_params_json(&p);
	calib_params_text(line, sizeof line, j);
	cJSON_Delete(j);
	printf("sampler:        %s (%d NFE per frame; %s)\n", line, lmd_params_nfe(&p), from);
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL;
	int r;
	argv[0] = "lmdd info";   /* getopt's messages */
	optind = 1;
	while ((r = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (r == 'm') {
			path = optarg;
		} else if (r == 'h') {
			printf("usage: lmdd info --model FILE\nDescribes the model, its calibration sidecar and sampler settings.\n");
			return 0;
		} else {
			fprintf(stderr, "usage: lmdd info --model FILE\n");
			return EX_USAGE;
		}
	}
	if (!path && optind < argc)   /* `lmdd info FILE` */
		path = argv[optind++];
	if (!path || optind < argc) {
		fprintf(stderr, "usage: lmdd info --model FILE\n");
		return EX_USAGE;
	}
	lmd_model *m;
	lmd_err e = lmd_model_load(path, &m);
	if (e) {
		fprintf(stderr, "lmdd: %s\n", lmd_errmsg());
		return cli_exit_code(e);
	}
	const lmd_model_info *a = lmd_model_get_info(m);
	char mult[64] = "", attn[64] = "";
	for (int i = 0; i < a->levels; i++) {
		snprintf(mult + strlen(mult), sizeof mult - strlen(mult), "%s%d", i ? "," : "", a->ch_mult[i]);
		if (a->attn_levels & (1u << i))
			snprintf(attn + strlen(attn), sizeof attn - strlen(attn), "%s%d", attn[0] ? "," : "", i);
	}
	double fl = lmd_model_flops(m, a->frame_height, a->frame_width);
	printf("model:          %s\n", a->name);
	printf("file:           %s\n", path);
	printf("channels:       %d (%s)%s\n", a->channels, a->channels == 1 ? "gray" : "RGB",
	       a->cond_frames ? " + previous frames" : "");
	printf("cond frames:    %d\n", a->cond_frames);
	if (a->cond_frames && a->cond_interval > 0)
		printf("cond interval:  %g s (taken by time from a camera at any rate)\n", a->cond_interval);
	else if (a->cond_frames)
		printf("cond interval:  not recorded (consecutive decoded frames, right at the training rate only)\n");
	printf("base channels:  %d\n", a->base_channels);
	printf("channel mult:   %s\n", mult);
	printf("res blocks:     %d per level\n", a->num_res_blocks);
	printf("attention at:   %s\n", attn[0] ? attn : "(mid block only)");
	printf("groups:         %d\n", a->groups);
	printf("schedule:       %s, T = %d\n", a->schedule, a->timesteps);
	printf("frame size:     %d x %d (W x H)\n", a->frame_width, a->frame_height);
	printf("train crops:    %d\n", a->train_size);
	printf("parameters:     %lld\n", a->n_params);
	printf("GFLOP/eval:     %.3f at %dx%d\n", fl / 1e9, a->frame_width, a->frame_height);
	printf("training:       %s\n", a->training[0] ? a->training : "(none recorded)");
	calib_lines(path);
	lmd_model_destroy(&m);
	return 0;
}
