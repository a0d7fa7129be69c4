/*
 * clock.h — the two clocks in microseconds: monotonic (deadlines,
 * rates, latencies; never jumps) and wall (event timestamps, RFC 3339).
 */
#ifndef LMDD_CLOCK_H
#define LMDD_CLOCK_H
#include <stdint.h>
#include <time.h>

static inline int64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

static inline int64_t wall_us(void)
{
	return clock_us(CLOCK_REALTIME);
}
#endif
