/*
 * err.h — setting the thread's last error (internal).
 * Every failing function calls lmd_seterr(code, fmt, ...) exactly where the
 * fault is found, so the message names the file, tensor or field; callers
 * just propagate the code. lmd_errmsg() (lmd.h) reads it back.
 */
#ifndef LMD_ERR_H
#define LMD_ERR_H
#include "lmd.h"

lmd_err lmd_seterr(lmd_err e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message: "<prefix>: <old message>". */
lmd_err lmd_preferr(lmd_err e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
