/*
 * cli.h — the subcommands of the lmdd binary. Each lives in its own
 * cli/cmd_*.c file and has the signature of main(); cli/lmdd.c dispatches
 * on argv[1] (`run`, the service, is daemon/run.h's cmd_run; `eval` execs
 * the separate binary lmdd-eval). Exit codes follow sysexits.h: 0 ok, 64 usage,
 * 65 bad input data, 66 missing input, 69 unavailable (device), 70 internal,
 * 74 I/O, 78 configuration error.
 */
#ifndef LMD_CLI_H
#define LMD_CLI_H
#include "lmd.h"
#include "merr.h"

int cmd_score(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_keygen(int argc, char **argv);       /* CURVE key pair */

/* Map an engine error (lmd_err) or a media error (media_err) to a sysexits code. */
int cli_exit_code(lmd_err e);
int cli_media_exit_code(media_err e);

/* The CPU backend's OpenMP threads must sleep, not spin, when they wait: on
 * a shared or loaded machine spinning made scoring ~10x slower. libgomp
 * reads the policy once at load, so a main() that finds OMP_WAIT_POLICY
 * unset sets it to passive and execs itself again (once) with argv. */
void cli_omp_passive(char **argv);
#endif
