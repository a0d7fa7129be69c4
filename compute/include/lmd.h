/*
 * lmd.h — the public API of the lmdd engine (Lift, Map, Detect).
 *
 * A model (a DDPM U-Net in a safetensors file, see docs/model-format.md) is
 * loaded once; an engine binds it to a backend (Vulkan compute shaders or the
 * C CPU backend); lmd_engine_score() takes a batch of images of one size and
 * returns one out-of-distribution score per image and, optionally, a per-pixel
 * distance map. Higher score = less like the training data.
 *
 * Design facts:
 *  - One error type (lmd_err) everywhere; the message for the last error of
 *    the calling thread is lmd_errmsg(). Messages name the file/tensor/field.
 *  - Objects are opaque; thing_destroy(&p) frees and sets p to NULL.
 *  - Images are float32, planar (N, C, H, W), pixel values in [0, 1].
 *  - Same seed => same noise on every backend (Philox4x32-10 counters), so
 *    CPU and Vulkan results can be compared number for number.
 */
#ifndef LMD_H
#define LMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	LMD_OK = 0,
	LMD_ERR_IO,          /* file missing/unreadable */
	LMD_ERR_FORMAT,      /* malformed model file or input */
	LMD_ERR_ARG,         /* bad argument from the caller */
	LMD_ERR_NOMEM,       /* allocation failed */
	LMD_ERR_DEVICE,      /* Vulkan device error or none available */
	LMD_ERR_UNSUPPORTED  /* valid request this build/model cannot serve */
} lmd_err;

/* Message of the last error set on this thread ("" if none). */
const char *lmd_errmsg(void);
const char *lmd_strerror(lmd_err e);

/* ---- model ---------------------------------------------------------------- */

#define LMD_MAX_LEVELS 8

typedef struct lmd_model lmd_model;

typedef struct {
	char name[64];
	int channels;        /* image channels C (1 or 3) */
	int cond_frames;     /* previous frames fed as extra input channels */
	double cond_interval; /* seconds between them in training; 0 = unknown (consecutive frames) */
	int base_channels;
	int levels;
	int ch_mult[LMD_MAX_LEVELS];
	int num_res_blocks;
	unsigned attn_levels; /* bit i set => attention at level i */
	int groups;
	int timesteps;       /* T */
	char schedule[16];   /* "linear" | "cosine" */
	int frame_height, frame_width; /* size frames are resized to */
	int train_size;
	long long n_params;
	const char *training;  /* JSON text of the training record, or "" */
} lmd_model_info;

lmd_err lmd_model_load(const char *path, lmd_model **out);
void lmd_model_destroy(lmd_model **m);
const lmd_model_info *lmd_model_get_info(const lmd_model *m);
/* Multiply-adds x2 of one network evaluation on one H x W image. */
double lmd_model_flops(const lmd_model *m, int h, int w);
/* alpha-bar (cumulative product of 1-beta) at step t, 0 <= t < T. */
double lmd_model_alpha_bar(const lmd_model *m, int t);

/* ---- sampler parameters ------------------------------------------------- */

typedef enum { LMD_MASK_CHECKERBOARD = 0, LMD_MASK_PATCHES, LMD_MASK_CENTER } lmd_mask_kind;
typedef enum { LMD_DIST_MSE = 0, LMD_DIST_SSIM } lmd_dist_kind;
typedef enum { LMD_AGG_MEDIAN = 0, LMD_AGG_MEAN, LMD_AGG_MIN } lmd_agg_kind;
typedef enum { LMD_POOL_MEAN = 0, LMD_POOL_MAX } lmd_pool_kind;

typedef struct {
	int steps;          /* DDIM steps S */
	int reps;           /* attempts per image (alternating masks) */
	int t0;             /* start level: 0 < t0 <= T-1; T-1 = from pure noise */
	float eta;          /* DDIM eta (0 = deterministic) */
	lmd_mask_kind mask;
	int mask_blocks;    /* checkerboard: blocks per side (8 = paper) */
	float mask_frac;    /* patches/centre: fraction of area inpainted */
	int jump;           /* RePaint jump length in steps (0 = off) */
	int resample;       /* RePaint repeats per jump */
	lmd_dist_kind distance;
	lmd_pool_kind pool;
	int pool_size;      /* LMD_POOL_MAX: side of the box filter */
	lmd_agg_kind agg;
	uint64_t seed;
} lmd_params;

void lmd_params_default(lmd_params *p);
/* Parse "checkerboard:8", "patches:0.25", "center:0.25". */
lmd_err lmd_params_set_mask(lmd_params *p, const char *spec);
/*
 * Set one parameter from text, as in config files and command lines:
 * steps, reps, t0 (or max), eta, mask, distance (mse|ssim), pool (mean|max[:K]),
 * agg (median|mean|min), seed, jump, resample. LMD_ERR_ARG names the key.
 */
lmd_err lmd_params_set(lmd_params *p, const char *key, const char *val);
/* Network evaluations per image for these parameters. */
int lmd_params_nfe(const lmd_params *p);
lmd_err lmd_params_check(const lmd_params *p, const lmd_model *m);

/* ---- engine ------------------------------------------------------------- */

/* AUTO: a Vulkan GPU if there is one (or the device asked for by index or
 * name), else the CPU backend: on a machine whose only Vulkan device is a
 * CPU rasteriser (lavapipe/llvmpipe) the C backend is much faster. */
typedef enum { LMD_BACKEND_CPU = 0, LMD_BACKEND_VULKAN, LMD_BACKEND_AUTO } lmd_backend_kind;

typedef struct lmd_engine lmd_engine;

/* Arithmetic of the network's convolutions. FP32 is the reference and the
 * default. REDUCED takes what the backend's hardware offers, with fp32
 * accumulation: the CPU backend's Winograd GEMMs in bf16 (AVX-512 BF16),
 * the Vulkan backend's fp16 convolutions (shaderFloat16); fp32 where it
 * has neither (lmd_engine_device names what runs). Scores move by about
 * 1-7% (docs/engine.md, "Lower precision"): calibrate thresholds with the
 * precision they are used with. The environment (LMDD_CPU_CONV,
 * LMDD_VK_FP16) overrides this for tests. */
typedef enum { LMD_PREC_FP32 = 0, LMD_PREC_REDUCED } lmd_precision;

/* Parse "fp32" or "reduced" (config files, command lines); LMD_ERR_ARG else. */
lmd_err lmd_precision_parse(const char *s, lmd_precision *out);

/* device: Vulkan device index (-1 = best), device_name: substring match or NULL. */
lmd_err lmd_engine_new(const lmd_model *m, lmd_backend_kind kind, int device,
                       const char *device_name, lmd_engine **out);
/* The same with a precision (lmd_engine_new: LMD_PREC_FP32). */
lmd_err lmd_engine_new_prec(const lmd_model *m, lmd_backend_kind kind, int device,
                            const char *device_name, lmd_precision prec, lmd_engine **out);
void lmd_engine_destroy(lmd_engine **e);
const char *lmd_engine_device(const lmd_engine *e);
/* "cpu" or "vulkan": the backend the engine runs on. */
const char *lmd_engine_backend(const lmd_engine *e);

/*
 * Score n images of size h x w (any size; padded internally).
 * images: n*C*h*w floats in [0,1]. cond: n*cond_frames*C*h*w (previous
 * frames, oldest first) or NULL when the model has cond_frames == 0.
 * scores: n floats out. maps: n*h*w floats out or NULL (per-pixel distance,
 * each pixel the mean over the attempts that inpainted it).
 * recon: n*C*h*w floats out or NULL (the first attempt's reconstruction).
 */
lmd_err lmd_engine_score(lmd_engine *e, const lmd_params *p, int n, int h, int w,
                         const float *images, const float *cond,
                         float *scores, float *maps, float *recon);

/* Vulkan devices: fills up to max names, returns count (or -1, see errmsg). */
int lmd_vulkan_devices(char names[][256], int max);

#ifdef __cplusplus
}
#endif
#endif
