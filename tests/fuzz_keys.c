/*
 * fuzz_keys.c — libFuzzer target for the CURVE key files (daemon/curve.c):
 * any byte string read as a secret key file and as an allow-list gives keys
 * or an error message naming the file; never a crash, a leak or a read out
 * of bounds. `make fuzz` runs it from keys made by lmdd keygen.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "curve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	char sec[41], pub[41], err[512] = "";
	if (curve_read_secret(path, sec, pub, err, sizeof err) == 0)
		assert(strlen(sec) == 40 && strlen(pub) == 40);
	else
		assert(strstr(err, path));
	uint8_t (*keys)[32] = NULL;
	int n = -1;
	err[0] = 0;
	if (curve_read_allowed(path, &keys, &n, err, sizeof err) == 0)
		assert(n >= 0 && (n == 0 || keys));
	else
		assert(!keys && n == 0 && (strstr(err, path) || strstr(err, "out of memory")));
	free(keys);
	return 0;
}
