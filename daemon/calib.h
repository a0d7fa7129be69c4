/*
 * calib.h — the calibration sidecar, <model>.calib.json: what `lmdd
 * calibrate` writes (cli/cmd_calibrate.c) and the daemon, `lmdd info` and
 * `lmdd eval` read. It holds the alarm threshold measured on normal frames,
 * the pixel threshold of regions with the blur it was measured with, the
 * model file's CRC-32 and the sampler settings the scores were made with
 * (the model's operating point), as calib_params_json writes them.
 *
 * A threshold only means something for the model file and sampler settings
 * it was measured with, so reading a sidecar checks both (calib_read).
 */
#ifndef LMDD_CALIB_H
#define LMDD_CALIB_H
#include <stddef.h>

#include "lmd.h"

/* The sampler settings by name, as [daemon] keys and sidecar "params"
 * (NULL-terminated); bit i of a settings mask stands for the i-th. */
extern const char *const calib_sampler_keys[];
#define CALIB_PARAMS_ALL 0x7ffu

/* What a sidecar gives the daemon. */
typedef struct {
	double threshold;         /* frame score threshold */
	double region_threshold;  /* pixel threshold of regions; 0: the sidecar has none */
	int region_blur;          /* box-blur radius region_threshold was measured with */
} calib_info;

/* Threshold from a calibration sidecar (JSON object with "threshold"; an
 * optional "region_threshold" with its "region_blur" goes into out too).
 * When the sidecar records the model's CRC-32 ("model_crc32", as written by
 * lmdd calibrate) and model is not NULL, the file must have the same one (a
 * retrained or swapped model next to an old sidecar); when it records
 * "params" and p is not NULL, the settings whose calib_sampler_keys bit is
 * clear in `fixed` are first taken from it (the calibration is the model's
 * operating point: a config need not repeat it), and then every one must
 * equal p's (the first difference is named).
 * Returns 0 (p updated), or -1 with a message in err (p unchanged). */
int calib_read(const char *path, const char *model, lmd_params *p, unsigned fixed, calib_info *out,
               char *err, size_t errlen);

/* Copy into dst the sampler settings whose calib_sampler_keys bit is set in
 * `keys`, from src: a sidecar's operating point with the settings a command
 * line gave put back on top. -1 (dst partly written) if one does not copy. */
int calib_params_overlay(lmd_params *dst, const lmd_params *src, unsigned keys);

/* CRC-32 (zlib) of a whole file as 8 hex digits in out[9]; -1 if unreadable. */
int calib_file_crc32(const char *path, char out[9]);

/* The sampler parameters as a JSON object (sidecars, results files). */
struct cJSON;
struct cJSON *calib_params_json(const lmd_params *p);

/* A member of a JSON object: its number (NAN if absent or not a number),
 * its string ("?" if absent or not a string). */
double calib_json_num(const struct cJSON *o, const char *k);
const char *calib_json_str(const struct cJSON *o, const char *k);

/* One line naming the settings of such an object, as results pages and
 * `lmdd info` print them: "steps 10, reps 2, t0 T-1, eta 0, mask ...". */
void calib_params_text(char *buf, size_t len, const struct cJSON *p);
#endif
