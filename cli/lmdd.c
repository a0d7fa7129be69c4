/*
 * lmdd.c — entry point: dispatches `lmdd COMMAND ...` to daemon/cmd_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sysexits.h>
#include "cli.h"

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

static void usage(FILE *f)
{
	fprintf(f, "usage: lmdd COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n`lmdd COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
	/* The CPU backend's OpenMP threads must sleep, not spin, when they wait:
	 * on a shared or loaded machine spinning made scoring ~10x slower. libgomp
	 * reads the policy once at load, so set it and start again (once). */
	if (!getenv("OMP_WAIT_POLICY") && !setenv("OMP_WAIT_POLICY", "passive", 0))
		execv("/proc/self/exe", argv); /* on failure: go on with the default */
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
