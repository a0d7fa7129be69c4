/*
 * eval_data.h — the benchmark data `lmdd eval` reads besides video:
 * MNIST-style idx files and the frame-label CSV of a video benchmark.
 *
 * Design facts:
 *  - idx files are read through zlib (gzopen/gzread), which reads gzip and
 *    plain files alike; the magic must be 0x00 0x00 0x08 (ubyte) followed by
 *    the number of dimensions (3 = images N x H x W, 1 = labels N). A bad
 *    magic, a truncated file or a subset past the end is an error whose
 *    message names the file.
 *  - 28x28 images are brought to the model's frame size exactly as the
 *    trainer does (train/data.py _fit: torch F.interpolate bilinear,
 *    align_corners=False, no antialiasing when enlarging, then round half to
 *    even and clamp to uint8); the engine then sees uint8 / 255. Shrinking
 *    is refused: the trainer antialiases there and this code does not.
 *  - The label CSV has a header line and rows "clip,frame,anomalous" where
 *    frame k is the k-th decoded frame of clip file <clip>.mkv.
 */
#ifndef LMD_EVAL_DATA_H
#define LMD_EVAL_DATA_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	int n, h, w;           /* labels: h = w = 1 */
	int dims;              /* 3 images, 1 labels */
	uint8_t *data;         /* n * h * w bytes */
} eval_idx;

/*
 * Read items [first, first + count) (count < 0: to the end) of an idx file.
 * Returns 0, or -1 with a message naming the file in err.
 */
int eval_idx_read(const char *path, long first, long count, eval_idx *out, char *err, size_t errlen);
void eval_idx_free(eval_idx *x);

/* Bilinear resize as torch (see above); returns -1 if dh < sh or dw < sw. */
int eval_resize_u8(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw);

#define EVAL_MAX_CLIPS 256

typedef struct {
	int nclips;
	char clip[EVAL_MAX_CLIPS][32];
	int frames[EVAL_MAX_CLIPS];             /* labelled frames per clip (max frame + 1) */
	unsigned char *label[EVAL_MAX_CLIPS];   /* per frame: 0 normal, 1 anomalous, 255 unlabelled */
} eval_labels;

int eval_labels_read(const char *path, eval_labels *out, char *err, size_t errlen);
void eval_labels_free(eval_labels *l);
#endif
