/*
 * cmd_devices.c — `lmdd devices`: the Vulkan devices the engine can use, by
 * index and name (what [daemon] device = and --device take).
 */
#include <stdio.h>
#include <sysexits.h>
#include "cli.h"

int cmd_devices(int argc, char **argv)
{
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
