/*
 * cli.c — what every subcommand shares: the mapping of engine and media
 * errors to sysexits.h exit codes, and the OpenMP wait policy.
 */
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>
#include "cli.h"

int cli_exit_code(lmd_err e)
{
	switch (e) {
	case LMD_OK: return 0;
	case LMD_ERR_IO: return EX_NOINPUT;
	case LMD_ERR_FORMAT: return EX_DATAERR;
	case LMD_ERR_ARG: return EX_USAGE;
	case LMD_ERR_NOMEM: return EX_OSERR;
	case LMD_ERR_DEVICE: return EX_UNAVAILABLE;
	case LMD_ERR_UNSUPPORTED: return EX_UNAVAILABLE;
	}
	return EX_SOFTWARE;
}

int cli_media_exit_code(media_err e)
{
	switch (e) {
	case MEDIA_OK: case MEDIA_END: return 0;
	case MEDIA_ERR_IO: return EX_NOINPUT;
	case MEDIA_ERR_FORMAT: return EX_DATAERR;
	case MEDIA_ERR_ARG: return EX_USAGE;
	case MEDIA_ERR_NOMEM: return EX_OSERR;
	case MEDIA_ERR_UNSUPPORTED: return EX_UNAVAILABLE;
	}
	return EX_SOFTWARE;
}

void cli_omp_passive(char **argv)
{
	if (!getenv("OMP_WAIT_POLICY") && !setenv("OMP_WAIT_POLICY", "passive", 0))
		execv("/proc/self/exe", argv); /* on failure: go on with the default */
}
