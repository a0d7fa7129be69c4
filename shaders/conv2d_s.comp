#version 450
/*
 * conv2d_s.comp — convolution with 32x32 output tiles (2x2 per invocation),
 * chosen on GPUs when 64x64 tiles would give too few workgroups (small
 * images or few channels). Body and design: conv2d.glsl.
 */
#extension GL_GOOGLE_include_directive : require
#define MI 2u
#define NJ 2u
#include "conv2d.glsl"
