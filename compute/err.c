/*
 * err.c — the thread-local last-error message behind lmd_errmsg().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "err.h"

static _Thread_local char msg[1024];

lmd_err lmd_seterr(lmd_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return e;
}

lmd_err lmd_preferr(lmd_err e, const char *fmt, ...)
{
	char old[sizeof msg], pre[512];
	va_list ap;
	memcpy(old, msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s: %s", pre, old);
	return e;
}

const char *lmd_errmsg(void)
{
	return msg;
}

const char *lmd_strerror(lmd_err e)
{
	switch (e) {
	case LMD_OK: return "ok";
	case LMD_ERR_IO: return "I/O error";
	case LMD_ERR_FORMAT: return "bad format";
	case LMD_ERR_ARG: return "bad argument";
	case LMD_ERR_NOMEM: return "out of memory";
	case LMD_ERR_DEVICE: return "device error";
	case LMD_ERR_UNSUPPORTED: return "unsupported";
	}
	return "unknown error";
}
