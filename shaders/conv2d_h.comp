#version 450
/*
 * conv2d_h.comp — convolution with 64x64 output tiles, fp16 staging and
 * packed f16vec2 arithmetic, fp32 accumulation across K slices (devices
 * with shaderFloat16, LMDD_VK_FP16). Body and design: conv2d.glsl.
 */
#extension GL_GOOGLE_include_directive : require
#define MI 4u
#define NJ 4u
#define F16 1
#include "conv2d.glsl"
