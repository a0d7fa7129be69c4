/*
 * test_daemon_notify.c — daemon/notify.c against a real NOTIFY_SOCKET bound
 * in this process: the message texts, and the watchdog rule (ping only while
 * the scheduler's heartbeat is fresh and, when frames wait, scoring moves).
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "notify.h"

static int sock = -1;
static char path[108];

static int bind_notify(void)
{
	snprintf(path, sizeof path, "/tmp/lmdd-notify-%d.sock", (int)getpid());
	unlink(path);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if (sock < 0 || bind(sock, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	struct timeval tv = { 0, 200000 };
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setenv("NOTIFY_SOCKET", path, 1);
	return 0;
}

/* Next datagram ("" if none within 200 ms). */
static const char *next(void)
{
	static char buf[1024];
	ssize_t n = recv(sock, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static int count_watchdog(void)
{
	int n = 0;
	for (;;) {
		const char *m = next();
		if (!*m)
			return n;
		n += !strcmp(m, "WATCHDOG=1");
	}
}

TEST(messages)
{
	notify_ready("2 streams");
	CHECK(!strcmp(next(), "READY=1\nSTATUS=2 streams"), "ready");
	notify_status("a %s\nb", "x");
	CHECK(!strcmp(next(), "STATUS=a x b"), "status: newlines flattened");
	notify_reloading();
	const char *m = next();
	CHECK(!strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27), "reloading: %s", m);
	notify_stopping();
	CHECK(!strncmp(next(), "STOPPING=1", 10), "stopping");
}

TEST(watchdog_rule)
{
	unsetenv("WATCHDOG_USEC");
	CHECK(notify_watchdog_usec() == 0, "disabled without WATCHDOG_USEC");
	setenv("WATCHDOG_USEC", "1000000", 1);
	unsetenv("WATCHDOG_PID");
	notify_watchdog w = { .usec = notify_watchdog_usec() };
	CHECK(w.usec == 1000000, "usec %llu", (unsigned long long)w.usec);
	const int64_t s = 1000000;
	int64_t t = 100 * s;
	/* fresh heartbeat: ping */
	CHECK(notify_watchdog_tick(&w, t, t - s / 10, 10, 1, 0) == 1, "first ping");
	/* too soon (under half the period) */
	CHECK(notify_watchdog_tick(&w, t + s / 4, t, 20, 1, 0) == 0, "rate limited");
	/* scheduler heartbeat older than the period: stuck, no ping */
	CHECK(notify_watchdog_tick(&w, t + 2 * s, t + s / 2, 30, 1, 0) == 0, "stale heartbeat");
	/* alive, frames waiting, nothing scored since the last ping: no ping */
	CHECK(notify_watchdog_tick(&w, t + 3 * s, t + 3 * s, 10, 1, 0) == 0, "no progress");
	/* scored moved: ping */
	CHECK(notify_watchdog_tick(&w, t + 4 * s, t + 4 * s, 11, 1, 0) == 1, "progress");
	/* idle (nothing waiting): ping although nothing was scored */
	CHECK(notify_watchdog_tick(&w, t + 5 * s, t + 5 * s, 11, 0, 0) == 1, "idle");
	/* a long engine call within its allowed time: stale heartbeat, frames
	 * waiting, nothing scored, still a ping */
	CHECK(notify_watchdog_tick(&w, t + 9 * s, t + 5 * s, 11, 1, 1) == 1, "engine busy");
	/* past its allowed time the caller says not busy: no ping */
	CHECK(notify_watchdog_tick(&w, t + 99 * s, t + 5 * s, 11, 1, 0) == 0, "engine hung");
	CHECK(count_watchdog() == 4, "4 WATCHDOG=1 datagrams");
	/* meant for another process */
	setenv("WATCHDOG_PID", "1", 1);
	CHECK(notify_watchdog_usec() == 0, "other pid");
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	if (bind_notify() < 0) {
		perror("bind");
		return 1;
	}
	RUN(messages);
	RUN(watchdog_rule);
	close(sock);
	unlink(path);
	CHECK_EXIT();
}
