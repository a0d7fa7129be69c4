/*
 * vk_backend.h — extras of the Vulkan backend beyond compute/backend.h
 * (internal; used by tests/test_ops.c).
 *
 * The backend itself is created with lmd_vk_backend_new() (backend.h) and
 * the device list is lmd_vulkan_devices() (lmd.h). These hooks exist so the
 * op tests can check what the op set cannot show.
 */
#ifndef LMD_VK_BACKEND_H
#define LMD_VK_BACKEND_H
#include "backend.h"

/* Like ops->noise, but writes the raw Philox uint32 outputs (bit patterns)
 * into z, so tests can compare the integer part of rng.h bit for bit. */
void lmd_vk_noise_raw(lmd_be *be, lmd_buf *z, size_t len, uint64_t seed, uint32_t stream);

/* Validation-layer errors seen so far; -1 when the layer is not active
 * (LMDD_VK_VALIDATE unset, or VK_LAYER_KHRONOS_validation not installed). */
int lmd_vk_validation_errors(lmd_be *be);

/* Descriptor mode in use: 1 = VK_KHR_push_descriptor, 0 = descriptor pools. */
int lmd_vk_push_descriptors(lmd_be *be);

/* Number of queue submissions so far (tests check a loop is one submit). */
uint64_t lmd_vk_submits(lmd_be *be);
#endif
