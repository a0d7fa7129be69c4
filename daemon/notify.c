/*
 * notify.c — sd_notify wrappers and the watchdog rule (see notify.h).
 *
 * Facts behind the design:
 *  - sd_notify() is a datagram to $NOTIFY_SOCKET; it returns 0 when the
 *    variable is unset, so the daemon runs unchanged outside systemd.
 *  - A reload sends RELOADING=1 together with MONOTONIC_USEC= (required by
 *    Type=notify-reload in systemd >= 253, harmless before).
 *  - The watchdog is a liveness *and progress* check: a main loop that still
 *    runs while the scheduler is stuck inside a hung GPU submit must not
 *    keep pinging, or systemd would never restart it. An engine call counts
 *    as progress for engine_timeout seconds (a big model on a CPU may take
 *    minutes per batch), not forever. Frames advancing is
 *    required only while frames are waiting: a daemon whose cameras are all
 *    down is idle, not hung, and restarting it would not bring them back.
 *  - Pings go out every half period, as sd_watchdog_enabled(3) advises.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

void notify_ready(const char *status)
{
	if (status)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading configuration",
	           (unsigned long long)ts.tv_sec * 1000000ull + ts.tv_nsec / 1000);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	sd_notifyf(0, "STATUS=%s", buf);
}

uint64_t notify_watchdog_usec(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
	return 0;
}

int notify_watchdog_tick(notify_watchdog *w, int64_t now_us, int64_t heartbeat_us, int64_t scored,
                         int pending, int engine_busy)
{
	if (!w->usec)
		return 0;
	if (w->last_ping_us && now_us - w->last_ping_us < (int64_t)(w->usec / 2))
		return 0;
	if (!engine_busy) {
		if (now_us - heartbeat_us > (int64_t)w->usec)
			return 0;                    /* scheduler stuck outside the engine */
		if (pending && scored == w->last_scored && w->last_ping_us)
			return 0;                    /* work waiting, nothing done */
	}
	w->last_ping_us = now_us;
	w->last_scored = scored;
	sd_notify(0, "WATCHDOG=1");
	return 1;
}
