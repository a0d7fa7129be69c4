/*
 * snapshot.h — images attached to events, encoded with libavcodec: a JPEG
 * of the source frame with the anomalous regions outlined, and a PNG
 * heat-map of the per-pixel distance map. One encoder set per publisher
 * thread (not thread-safe); encoder contexts are kept and reused while the
 * image size stays the same.
 */
#ifndef LMDD_SNAPSHOT_H
#define LMDD_SNAPSHOT_H
#include <stddef.h>
#include <stdint.h>

#include "events.h"

struct AVFrame;
typedef struct snap_enc snap_enc;

/* quality: JPEG qscale 2 (best) .. 31; max_width: 0 = source width. */
snap_enc *snap_enc_new(int quality, int max_width);
void snap_enc_destroy(snap_enc **e);

/* JPEG of src with regions (source-pixel boxes) outlined in red.
 * *out is malloc'd. 0 or -1. */
int snap_jpeg(snap_enc *e, const struct AVFrame *src, const ev_region *r, int nr, uint8_t **out,
              size_t *len);
/* PNG (RGB, "hot" colour map) of a w x h map; vmax maps to white, 0 to black. */
int snap_heatmap_png(snap_enc *e, const float *map, int w, int h, double vmax, uint8_t **out,
                     size_t *len);
#endif
