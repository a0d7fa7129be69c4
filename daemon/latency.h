/*
 * latency.h — a fixed ring of the most recent latency samples (ms) with
 * percentiles on demand. Thread-safe. The status message reports p50/p99
 * over the last LAT_RING samples, so a past spike ages out.
 */
#ifndef LMDD_LATENCY_H
#define LMDD_LATENCY_H
#define LAT_RING 2048

typedef struct lat_ring lat_ring;

lat_ring *lat_ring_new(void);
void lat_ring_destroy(lat_ring **r);
void lat_add(lat_ring *r, double ms);
/* Returns the number of samples (0 = p50/p99 left at -1). */
int lat_percentiles(lat_ring *r, double *p50, double *p99);
#endif
