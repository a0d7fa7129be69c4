/*
 * cmd_devices.c — `lmdd devices`: the Vulkan devices the engine can use, by
 * index and name (what [daemon] device = and --device take).
 */
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>
#include "cli.h"

int cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int r;
	argv[0] = "lmdd devices";   /* getopt's messages */
	optind = 1;
	while ((r = getopt_long(argc, argv, "h", opts, NULL)) != -1 && r == 'h') {
		printf("usage: lmdd devices\nLists the Vulkan devices (an index or a name goes in [daemon] device =).\n");
		return 0;
	}
	if (r != -1 || optind < argc) {
		fprintf(stderr, "usage: lmdd devices\n");
		return EX_USAGE;
	}
	char names[16][256];
	int n = lmd_vulkan_devices(names, 16);
	if (n < 0) {
		fprintf(stderr, "lmdd: %s\n", lmd_errmsg());
		return EX_UNAVAILABLE;
	}
	if (n == 0)
		printf("no Vulkan devices (the CPU backend will be used)\n");
	for (int i = 0; i < n && i < 16; i++)
		printf("%d: %s\n", i, names[i]);
	return 0;
}
