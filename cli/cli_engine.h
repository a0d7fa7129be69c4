/*
 * cli_engine.h — what the engine-driving commands (score, calibrate, eval)
 * share: the engine options (--model, --backend, --device, sampler keys,
 * --size, --batch), opening model + engine with the backend fallback, and
 * the batched scoring of every frame of a list of image/video inputs.
 *
 * --backend auto (the default) tries Vulkan and falls back to the CPU with a
 * warning naming why; --backend vulkan fails instead.
 */
#ifndef LMD_CLI_ENGINE_H
#define LMD_CLI_ENGINE_H
#include <stddef.h>
#include <stdint.h>
#include "lmd.h"

typedef struct {
	const char *model;
	int backend;           /* -1 auto, else lmd_backend_kind */
	int device;
	const char *device_name;
	lmd_params p;
	int width, height;     /* 0 = the model's frame size */
	int batch;
	int quiet;
	/* which decoded frames cli_score_inputs scores (the rest are decoded
	 * only, as conditioning history): every `every`-th (default 1), and with
	 * skip_context none whose history is not held (feed_ready: at the start
	 * of an input and after a cut), as the daemon does; those would see the
	 * first frame repeated as history (calibration: a model that is shown
	 * the answer scores too low) */
	int every, skip_context;
	/* sampler keys given on the command line: bit i = calib_sampler_keys[i]
	 * (what a calibration sidecar may not fill in, as for the daemon) */
	unsigned params_set;
} cli_engine_opts;

void cli_engine_defaults(cli_engine_opts *o);
/*
 * Command lines are read with getopt_long. The engine options are entries
 * CLI_ENGINE_OPT... of the table cli_longopts() makes from them and a
 * command's own (own ends with a zero entry; out has room for max,
 * CLI_LONGOPTS_MAX is plenty). For each getopt_long result c,
 * cli_engine_opt() applies an engine option's value: 1, or -1 after
 * printing what is wrong with it; 0 when c is not an engine option.
 */
#define CLI_ENGINE_OPT 0x1000
#define CLI_LONGOPTS_MAX 64
struct option;
struct option *cli_longopts(const struct option *own, struct option *out, size_t max);
int cli_engine_opt(cli_engine_opts *o, int c, const char *val);
extern const char cli_engine_help[];
/* --every N (score, calibrate): set o->every from val, or print an error
 * naming cmd and return -1. */
int cli_engine_every(cli_engine_opts *o, const char *cmd, const char *val);

typedef struct {
	lmd_model *model;
	lmd_engine *engine;
	int C, W, H, K;
	double interval;   /* the model's history spacing, s (0: consecutive frames) */
} cli_engine;

/* Load the model, create the engine; prints the error and returns a sysexits code on failure. */
int cli_engine_open(const cli_engine_opts *o, cli_engine *ce);
void cli_engine_close(cli_engine *ce);

/* Called once per scored frame; return nonzero to stop. */
typedef int (*cli_frame_fn)(void *ctx, const char *input, int64_t frame, float score,
                            const float *map, const float *image, const float *recon);

/* Called once per decoded frame of input number `input` (frames count
 * from 0 in each input): nonzero to score it. */
typedef int (*cli_select_fn)(void *ctx, int input, int64_t frame);

/*
 * Decode every frame of every input through media/feed.h (the frame loop
 * the daemon shares: one rule for time stamps and history), score the
 * selected ones in batches, call fn for each in order. sel NULL selects by
 * o->every and o->skip_context; a frame whose history is not held is never
 * scored with o->skip_context (the daemon's rule), and otherwise sees the
 * oldest held frame in place of the missing ones. maps/recon: also compute
 * them (slower to copy, same engine work). sel and fn get the same ctx.
 * Returns 0 or a sysexits code (the error already printed).
 */
int cli_score_inputs(const cli_engine_opts *o, cli_engine *ce, char **inputs, int n, int want_maps,
                     cli_select_fn sel, cli_frame_fn fn, void *ctx);
#endif
