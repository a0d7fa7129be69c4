/*
 * cli.c — what every subcommand shares: the mapping of engine errors to
 * sysexits.h exit codes.
 */
#include <sysexits.h>
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
