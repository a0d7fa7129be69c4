/*
 * cli.h — the subcommands of the lmdd binary. Each lives in its own
 * daemon/cmd_*.c file and has the signature of main(); daemon/lmdd.c
 * dispatches on argv[1]. Exit codes follow sysexits.h: 0 ok, 64 usage,
 * 65 bad input data, 66 missing input, 69 unavailable (device), 70 internal,
 * 74 I/O, 78 configuration error.
 */
#ifndef LMD_CLI_H
#define LMD_CLI_H
#include "lmd.h"

int cmd_score(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_run(int argc, char **argv);          /* the daemon */
int cmd_check_config(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_keygen(int argc, char **argv);       /* CURVE key pair */

/* Map an lmd_err to a sysexits code. */
int cli_exit_code(lmd_err e);
#endif
