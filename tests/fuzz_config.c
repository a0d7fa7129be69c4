/*
 * fuzz_config.c — libFuzzer target for the config parser (daemon/config.c):
 * any byte string is a config that loads, or one rejected with errors each
 * naming the file and a line ("FILE:LINE: ..."); never a crash, a leak or a
 * read out of bounds, and a config with no error has a model and a stream
 * with a URL. `make fuzz` runs it from config/lmdd.conf and hand-made seeds.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	int nerr = 0;
	char *errors = NULL;
	lmdd_config *c = config_load(path, &nerr, &errors);
	assert(c);
	if (nerr) {
		assert(errors);
		size_t pl = strlen(path);
		for (const char *l = errors; *l; l = strchr(l, '\n') + 1) {
			assert(!strncmp(l, path, pl) && l[pl] == ':');
			assert(strchr(l, '\n'));
		}
	} else {
		assert(!errors && c->model && c->n_streams > 0);
		for (int i = 0; i < c->n_streams; i++)
			assert(c->streams[i].url && *c->streams[i].url);
	}
	free(errors);
	config_destroy(&c);
	return 0;
}
