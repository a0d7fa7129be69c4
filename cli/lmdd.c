/*
 * lmdd.c — entry point: dispatches `lmdd COMMAND ...` to cli/cmd_*.c, `run`
 * to the service (daemon/run.h), and `eval` to the evaluation harness, a
 * binary of its own (build/lmdd-eval, eval/) that is not linked into this
 * one nor installed: `lmdd eval ARGS` runs the lmdd-eval beside this binary.
 */
#define _GNU_SOURCE   /* memrchr */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sysexits.h>
#include "cli.h"
#include "run.h"

static int cmd_eval(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "run", cmd_run, "run the daemon: --config FILE" },
	{ "score", cmd_score, "score images/videos: --model FILE IMAGE..." },
	{ "info", cmd_info, "describe a model, its calibration and sampler settings: --model FILE" },
	{ "devices", cmd_devices, "list Vulkan devices" },
	{ "calibrate", cmd_calibrate, "threshold from normal frames: --model FILE --out FILE INPUT..." },
	{ "check-config", cmd_check_config, "validate a config file: FILE" },
	{ "subscribe", cmd_subscribe, "print events: [--endpoint E] [--topic T]" },
	{ "eval", cmd_eval, "detection quality: see docs/evaluation.md" },
	{ "keygen", cmd_keygen, "make a CURVE key pair: SECRET_KEY_FILE" },
};

/* `lmdd eval ARGS`: exec lmdd-eval from this binary's folder, as
 * `lmdd-eval ARGS`. */
static int cmd_eval(int argc, char **argv)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 20);
	char *sl = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
	if (sl) {
		strcpy(sl + 1, "lmdd-eval");
		argv[0] = exe;
		execv(exe, argv);
	}
	fprintf(stderr, "lmdd eval is the evaluation harness, built by `make eval-bin` / part of `make tests`; "
	                "not installed (%s: %s)\n", sl ? exe : "lmdd-eval", strerror(errno));
	return EX_UNAVAILABLE;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lmdd COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n`lmdd COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
	cli_omp_passive(argv);
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "lmdd: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
