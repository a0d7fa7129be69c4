/*
 * cmd_score.c — `lmdd score`: one LMD score per image or video frame.
 *
 *   lmdd score --model FILE [engine options] [--format plain|csv|json]
 *              [--every N] [--maps FILE] INPUT...
 *
 * Inputs are anything FFmpeg opens (PNG, JPEG, video files: every frame);
 * frames are converted to the model's channels and frame size (or --size).
 * Output: one line per frame: input, frame number, score.
 *
 * --every N scores frames 0, N, 2N... of each input (the others are decoded
 * as history for a model conditioned on previous frames, which takes them
 * by time at its own interval, as the daemon does: history.h). --maps FILE also
 * writes each scored frame's distance map, in output order, as raw float32
 * (host byte order) W x H, row-major: what a pooling study needs without
 * paying the engine again (research/ped2_pooling.py).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "cli_engine.h"

typedef struct {
	int format;       /* 0 plain, 1 csv, 2 json */
	FILE *maps;       /* --maps, or NULL */
	const char *maps_path;
	size_t hw;        /* floats per map */
	int failed;       /* a map write failed: stop, exit EX_IOERR */
} score_ctx;

static int emit(void *vctx, const char *input, int64_t frame, float score,
                const float *map, const float *image, const float *recon)
{
	score_ctx *c = vctx;
	if (c->maps && fwrite(map, sizeof(float), c->hw, c->maps) != c->hw) {
		fprintf(stderr, "lmdd score: --maps %s: %s\n", c->maps_path, strerror(errno));
		c->failed = 1;
		return 1;
	}
	if (c->format == 2) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "input", input);
		cJSON_AddNumberToObject(o, "frame", (double)frame);
		cJSON_AddNumberToObject(o, "score", score);
		char *s = cJSON_PrintUnformatted(o);
		if (s)
			puts(s);
		cJSON_free(s);
		cJSON_Delete(o);
	} else if (c->format == 1) {
		fputc('"', stdout);
		for (const char *p = input; *p; p++) {
			if (*p == '"')
				fputc('"', stdout);
			fputc(*p, stdout);
		}
		printf("\",%lld,%.9g\n", (long long)frame, score);
	} else {
		printf("%s\t%lld\t%.9g\n", input, (long long)frame, score);
	}
	return 0;
}

int cmd_score(int argc, char **argv)
{
	static const struct option own[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "every", required_argument, NULL, 'e' },
		{ "maps", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option opts[CLI_LONGOPTS_MAX];
	cli_engine_opts o;
	score_ctx c = { 0 };
	int r;
	cli_engine_defaults(&o);
	cli_longopts(own, opts, CLI_LONGOPTS_MAX);
	argv[0] = "lmdd score";   /* getopt's messages */
	optind = 1;
	while ((r = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int e = cli_engine_opt(&o, r, optarg);
		if (e < 0)
			return EX_USAGE;
		if (e)
			continue;
		switch (r) {
		case 'h':
			printf("usage: lmdd score --model FILE [options] INPUT...\n\n%s"
			       "  --format F            plain (default), csv or json (one object per line)\n"
			       "  --every N             score every N-th frame of each input (default 1)\n"
			       "  --maps FILE           also write each scored frame's distance map (raw float32)\n",
			       cli_engine_help);
			return 0;
		case 'f':
			c.format = !strcmp(optarg, "plain") ? 0 : !strcmp(optarg, "csv") ? 1 : !strcmp(optarg, "json") ? 2 : -1;
			if (c.format < 0) {
				fprintf(stderr, "lmdd score: --format '%s': expected plain, csv or json\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'e':
			if (cli_engine_every(&o, "score", optarg))
				return EX_USAGE;
			break;
		case 'm':
			c.maps_path = optarg;
			break;
		default:
			fprintf(stderr, "(see lmdd score --help)\n");
			return EX_USAGE;
		}
	}
	char **inputs = argv + optind;
	int n = argc - optind;
	if (!n) {
		fprintf(stderr, "lmdd score: no inputs (see lmdd score --help)\n");
		return EX_USAGE;
	}
	cli_engine ce;
	int rc = cli_engine_open(&o, &ce);
	if (rc)
		return rc;
	if (c.maps_path && !(c.maps = fopen(c.maps_path, "wb"))) {
		fprintf(stderr, "lmdd score: --maps %s: %s\n", c.maps_path, strerror(errno));
		cli_engine_close(&ce);
		return EX_CANTCREAT;
	}
	c.hw = (size_t)ce.W * ce.H;
	if (c.format == 1)
		puts("input,frame,score");
	rc = cli_score_inputs(&o, &ce, inputs, n, c.maps != NULL, NULL, emit, &c);
	if (c.failed && !rc)
		rc = EX_IOERR;
	if (c.maps && fclose(c.maps) && !rc) {
		fprintf(stderr, "lmdd score: --maps %s: %s\n", c.maps_path, strerror(errno));
		rc = EX_IOERR;
	}
	cli_engine_close(&ce);
	return rc;
}
