/*
 * fuzz_file.h — for libFuzzer targets whose parser reads a file by path
 * (the config, CURVE key files): the input bytes as a file, an anonymous
 * memfd named by /proc/self/fd/N, rewritten for every input.
 */
#ifndef LMD_FUZZ_FILE_H
#define LMD_FUZZ_FILE_H
#define _GNU_SOURCE   /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}
#endif
