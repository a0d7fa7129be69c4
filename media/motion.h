/*
 * motion.h — how fast the fastest object in a stream moves: a model-free
 * speed score per frame, from FFmpeg's block motion estimation.
 *
 * Why: on UCSD Ped2 the LMD score counts moving pixels (docs/evaluation.md,
 * "What the map measures"), so a busy clip of walkers outranks a quiet clip
 * with a bicycle. Ped2's anomalies (bikes, carts, skaters) are faster than
 * walkers, and speed does not grow with the crowd. `lmdd eval --suite ped2`
 * reports this score beside the model's, as the baseline the model has to
 * beat; research/ped2_flow.py measured the same idea with dense optical flow.
 *
 * How: a libavfilter graph, buffer -> scale (2x, bicubic, to gray) ->
 * mestimate (EPZS search, 16x16 blocks of the doubled frame, i.e. 8x8 source
 * pixels, +-32 doubled pixels) -> buffersink. Doubling the frame gives
 * half-pixel vectors: a walker's ~1 px per frame is measured to half a pixel
 * instead of rounded to 0, 1 or 2, and the range stays +-16 source pixels.
 * Against dense Farneback flow on Ped2's training clips (no labels), the
 * block speed error on moving blocks falls from 0.50 to 0.41 px per frame
 * (docs/evaluation.md, research/ped2_mestimate.py). Matching frames two apart
 * as well (quarter-pixel) cut it to 0.40, but then a square sliding faster
 * than 5 px per frame over noise (tests/test_motion.c) was read a third off
 * or worse in some frames. The price of doubling: above 10 px per frame
 * some frames are read up to a quarter off (whole pixels: 11%), so a scene
 * whose objects are that fast at its own size should be measured again.
 * mestimate holds the frames before and after the one it outputs, so after
 * frame n is pushed it returns frame n-1 carrying its vectors against frame
 * n (source +1): the motion between n-1 and n is known as soon as n arrives,
 * with no added latency. Block vector lengths (source pixels per frame) are
 * averaged over boxes of 5x5 blocks (40 px, about a walker's height in Ped2;
 * the block grid reflected at its edges, so an object entering the frame
 * still fills a box) and the frame's speed is the largest box mean: one fast
 * object scores high, many slow ones do not add up.
 */
#ifndef LMD_MOTION_H
#define LMD_MOTION_H

#include "merr.h"

#define LMD_MOTION_BLOCK 8   /* block size, source pixels */
#define LMD_MOTION_BOX 5     /* box side, in blocks */
#define LMD_MOTION_UPSCALE 2 /* frames are doubled before matching: half-pixel vectors */
#define LMD_MOTION_RANGE 16  /* largest speed measured, source pixels per frame */

typedef struct lmd_motion lmd_motion;
struct AVFrame;

media_err lmd_motion_new(lmd_motion **out);
/*
 * Push the next frame of the stream: any size of at least one block and any
 * pixel format FFmpeg converts to gray; the caller keeps its frame. *speed is
 * the frame's speed in pixels per frame at the frame's own size, or -1 for a
 * first frame (the stream's first, or the first after a change of size or
 * pixel format, which starts the estimate over).
 */
media_err lmd_motion_push(lmd_motion *m, const struct AVFrame *f, float *speed);
/* Largest mean over (box x box)-cell windows of a gh x gw grid, the grid
 * reflected at its edges (edge cells repeated: ...cba|abc...|xyz|zyx...). */
float lmd_motion_boxmax(const float *grid, int gh, int gw, int box);
void lmd_motion_destroy(lmd_motion **m);
#endif
