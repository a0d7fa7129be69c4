#version 450
/*
 * conv2d.comp — convolution with 64x64 output tiles (4x4 per invocation):
 * the default. Body and design: conv2d.glsl.
 */
#extension GL_GOOGLE_include_directive : require
#define MI 4u
#define NJ 4u
#include "conv2d.glsl"
