/*
 * motion.h — how fast the fastest object in a stream moves: a model-free
 * speed score per frame, from FFmpeg's block motion estimation.
 *
 * Why: on UCSD Ped2 the LMD score counts moving pixels (docs/evaluation.md,
 * "What the map measures"), so a busy clip of walkers outranks a quiet clip
 * with a bicycle. Ped2's anomalies (bikes, carts, skaters) are faster than
 * walkers, and speed does not grow with the crowd. `lmdd eval --suite ped2`
 * reports this score beside the model's, as the baseline the model has to
 * beat; tools/ped2_flow.py measured the same idea with dense optical flow.
 *
 * How: a libavfilter graph, buffer -> mestimate (luma only; EPZS search,
 * 8x8 blocks, +-16 px, integer vectors) -> buffersink. mestimate holds the
 * frames before and after the one it outputs, so after frame n is pushed it
 * returns frame n-1 carrying its vectors against frame n (source +1): the
 * motion between n-1 and n is known as soon as n arrives, with no added
 * latency. Block vector lengths (pixels) are averaged over boxes of 5x5
 * blocks (40 px, about a walker's height in Ped2; the block grid reflected at
 * its edges, so an object entering the frame still fills a box) and the
 * frame's speed is the largest box mean: one fast object scores high, many
 * slow ones do not add up.
 */
#ifndef LMD_MOTION_H
#define LMD_MOTION_H

#include "lmd.h"

#define LMD_MOTION_BLOCK 8  /* mestimate's block size, pixels */
#define LMD_MOTION_BOX 5    /* box side, in blocks */

typedef struct lmd_motion lmd_motion;
struct AVFrame;

lmd_err lmd_motion_new(lmd_motion **out);
/*
 * Push the next frame of the stream: any size of at least one block and any
 * pixel format FFmpeg converts to gray; the caller keeps its frame. *speed is
 * the frame's speed in pixels per frame at the frame's own size, or -1 for a
 * first frame (the stream's first, or the first after a change of size or
 * pixel format, which starts the estimate over).
 */
lmd_err lmd_motion_push(lmd_motion *m, const struct AVFrame *f, float *speed);
/* Largest mean over (box x box)-cell windows of a gh x gw grid, the grid
 * reflected at its edges (edge cells repeated: ...cba|abc...|xyz|zyx...). */
float lmd_motion_boxmax(const float *grid, int gh, int gw, int box);
void lmd_motion_destroy(lmd_motion **m);
#endif
