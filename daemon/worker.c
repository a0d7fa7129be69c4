/*
 * worker.c — thread start/stop with an atomic stop flag (see worker.h).
 * The timed join is pthread_timedjoin_np (glibc), polled in 100 ms steps
 * against the monotonic clock, since its own deadline is wall-clock time.
 */
#define _GNU_SOURCE   /* pthread_timedjoin_np */
#include <time.h>

#include "clock.h"
#include "worker.h"

int worker_start(worker *w, void *(*fn)(void *), void *arg)
{
	if (w->running)
		return 0;
	atomic_store(&w->stop, 0);
	if (pthread_create(&w->thread, NULL, fn, arg) != 0)
		return -1;
	w->running = 1;
	return 0;
}

int worker_stopping(worker *w)
{
	return atomic_load(&w->stop);
}

void worker_ask(worker *w, void (*wake)(void *), void *arg)
{
	atomic_store(&w->stop, 1);
	if (wake)
		wake(arg);
}

void worker_stop(worker *w, void (*wake)(void *), void *arg)
{
	if (!w->running)
		return;
	worker_ask(w, wake, arg);
	pthread_join(w->thread, NULL);
	w->running = 0;
}

int worker_join_within(worker *w, double seconds)
{
	if (!w->running)
		return 0;
	int64_t deadline = mono_us() + (int64_t)(seconds * 1e6);
	do {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(w->thread, NULL, &ts) == 0) {
			w->running = 0;
			return 0;
		}
	} while (mono_us() < deadline);
	return -1;
}

void worker_detach(worker *w)
{
	if (!w->running)
		return;
	pthread_detach(w->thread);
	w->running = 0;
}
