/*
 * fuzz_model.c — libFuzzer target for the model loader: any byte string
 * must be rejected with an error or accepted as a valid model, never crash,
 * leak or read out of bounds. `make fuzz` builds it with clang
 * (-fsanitize=fuzzer,address,undefined) and runs it from a seed corpus of
 * valid model files (tests/make_model.py).
 */
#include <stddef.h>
#include <stdint.h>
#include "lmd.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lmd_model *m = NULL;
	if (lmd_model_parse(data, size, "fuzz", &m) == LMD_OK) {
		const lmd_model_info *a = lmd_model_get_info(m);
		(void)lmd_model_flops(m, a->frame_height, a->frame_width);
		lmd_model_destroy(&m);
	}
	return 0;
}
