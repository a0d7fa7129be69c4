/*
 * notify.h — the systemd service protocol (sd_notify(3)) for Type=notify:
 * READY=1 once the model and engine are up, STATUS= one-line summaries,
 * RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 at shutdown, and
 * WATCHDOG=1 pings that are sent only while the daemon makes progress.
 * Without $NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
#ifndef LMDD_NOTIFY_H
#define LMDD_NOTIFY_H
#include <stdint.h>

void notify_ready(const char *status);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Watchdog: microseconds systemd allows between pings, 0 if disabled
 * (WATCHDOG_USEC unset or meant for another PID). */
uint64_t notify_watchdog_usec(void);

/*
 * Decide and maybe send one ping. now_us: monotonic time. heartbeat_us:
 * when the scheduler last went round its loop. scored: frames scored so
 * far. pending: frames are waiting for the scheduler. engine_busy: an engine
 * call is running and has not yet exceeded its allowed time (the caller
 * compares against engine_timeout). A ping is sent when the engine is busy
 * within its time, or else when the scheduler's heartbeat is younger than
 * the watchdog period and, if frames are waiting, the scored count moved
 * since the last ping. Returns 1 if WATCHDOG=1 was sent.
 */
typedef struct {
	uint64_t usec;         /* from notify_watchdog_usec() */
	int64_t last_ping_us;
	int64_t last_scored;
} notify_watchdog;

int notify_watchdog_tick(notify_watchdog *w, int64_t now_us, int64_t heartbeat_us, int64_t scored,
                         int pending, int engine_busy);
#endif
