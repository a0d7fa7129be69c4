/*
 * worker.h — a thread with a stop flag: how every thread of the daemon
 * (stream decoders, the scheduler, the publisher, the ZAP handler) starts
 * and stops, written once.
 *
 * The flag is a C11 atomic, so the thread may read it anywhere without a
 * lock (FFmpeg's interrupt callback reads a stream's). A thread that sleeps
 * on a condition variable must also be woken: worker_ask() sets the flag
 * first and then calls the owner's wake function, which takes the lock the
 * sleeper checks the flag under and signals, so the wake-up is never lost.
 * The worker struct is owned by one thread (the one that starts and stops
 * it); only `stop` is shared.
 */
#ifndef LMDD_WORKER_H
#define LMDD_WORKER_H
#include <pthread.h>
#include <stdatomic.h>

typedef struct {
	pthread_t thread;
	int running;              /* started and neither joined nor detached */
	atomic_int stop;
} worker;

/* Start fn(arg) with the flag cleared. 0, or -1 if no thread. */
int worker_start(worker *w, void *(*fn)(void *), void *arg);
/* The thread's test: has a stop been asked for? */
int worker_stopping(worker *w);
/* Ask it to stop: set the flag, then wake(arg) unless wake is NULL. */
void worker_ask(worker *w, void (*wake)(void *), void *arg);
/* Ask, then join. Nothing to do if it is not running. */
void worker_stop(worker *w, void (*wake)(void *), void *arg);
/* Join if it ends within `seconds`: 0 joined (or not running), -1 still running. */
int worker_join_within(worker *w, double seconds);
/* Leave a thread that will not end in time to finish on its own. */
void worker_detach(worker *w);
#endif
