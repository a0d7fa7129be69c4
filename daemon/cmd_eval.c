/*
 * cmd_eval.c — `lmdd eval`: detection quality of the C engine on the
 * reference benchmarks (placeholder; being implemented, see
 * docs/evaluation.md).
 */
#include <stdio.h>
#include <sysexits.h>
#include "cli.h"

int cmd_eval(int argc, char **argv)
{
	fprintf(stderr, "lmdd eval: not implemented yet\n");
	return EX_SOFTWARE;
}
