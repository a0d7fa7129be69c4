/*
 * run.h — `lmdd run`, the service (daemon/run.c): what cli/lmdd.c calls for
 * the `run` command. Same signature and exit codes as the commands of
 * cli/cli.h (sysexits.h; 78 for a configuration to fix).
 */
#ifndef LMDD_RUN_H
#define LMDD_RUN_H
int cmd_run(int argc, char **argv);
#endif
