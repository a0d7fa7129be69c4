/*
 * merr.c — the thread-local message behind media_errmsg() (see merr.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "merr.h"

static _Thread_local char msg[1024];

media_err media_seterr(media_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return e;
}

const char *media_errmsg(void)
{
	return msg;
}
