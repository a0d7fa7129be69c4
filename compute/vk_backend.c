/*
 * vk_backend.c — the Vulkan compute backend (compute/backend.h op set).
 *
 * Design facts (docs/vulkan.md has the long form):
 *  - Device: discrete > integrated > virtual > CPU (lavapipe), among devices
 *    with Vulkan >= 1.1 and a compute queue; overridden by index or name
 *    substring (arguments, else env LMDD_VK_DEVICE = index or name).
 *  - Memory: one lmd_buf = one VkBuffer with its own VkDeviceMemory, sized
 *    once at alloc(). Discrete/virtual GPUs: DEVICE_LOCAL memory, uploads and
 *    downloads go through a host-visible staging ring (recorded
 *    vkCmdCopyBuffer). UMA devices (integrated, CPU) with a
 *    DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT type: buffers are persistently
 *    mapped and copied with memcpy when no recorded work is pending.
 *  - Recording: every op appends to ONE command buffer; nothing is submitted
 *    until download() or sync() (or a staging ring overflow). A sampling loop
 *    is thus a single vkQueueSubmit + fence wait.
 *  - Barriers: each buffer remembers the barrier epoch of its last read and
 *    write; a dispatch that reads or writes a buffer written in the current
 *    epoch, or writes one read in it, is preceded by one global memory
 *    barrier (compute|transfer -> compute|transfer, writes -> reads+writes),
 *    which starts a new epoch. Independent dispatches run without barriers.
 *    A final barrier to the HOST stage precedes every submit.
 *  - Descriptors: one set layout for every pipeline (5 storage buffers, whole
 *    buffers bound, element offsets in push constants, so no offset
 *    alignment rules apply) + 128 bytes of push constants. With
 *    VK_KHR_push_descriptor the bindings are pushed into the command buffer;
 *    without it, sets come from descriptor pools that are reset after each
 *    submit (LMDD_VK_NO_PUSH=1 forces this path for testing).
 *  - Errors: ops return void, so the first failure is kept (code + message)
 *    and returned by the next sync()/download(); later ops are skipped until
 *    then. VK_ERROR_DEVICE_LOST is permanent. Every VkResult is checked.
 *  - Shaders: shaders/NAME.comp, compiled to SPIR-V at build time and embedded
 *    via build/shaders.h (spv_NAME arrays). Workgroups are 256 invocations
 *    and use <= 16 KiB of shared memory (the Vulkan minimum).
 *  - LMDD_VK_VALIDATE=1 enables VK_LAYER_KHRONOS_validation with
 *    synchronization validation and counts its errors.
 *  - Reduced precision (lmd_vk_backend_new_prec, lmd.h LMD_PREC_REDUCED;
 *    LMDD_VK_FP16=1/0 overrides): the convolutions with fp16 staging and
 *    packed f16vec2 FMAs, fp32 accumulation across K slices
 *    (shaders/conv2d.glsl, F16), where the device has shaderFloat16
 *    (Vulkan 1.2 or VK_KHR_shader_float16_int8); elsewhere the fp32
 *    shaders. Off by default (not measured on a GPU yet: docs/vulkan.md);
 *    the device string then ends in " [fp16]". Cooperative matrices (VK_KHR_cooperative_matrix) would be
 *    a third conv pipeline beside these two; Debian 12's glslc cannot
 *    compile GL_KHR_cooperative_matrix (docs/vulkan.md).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <vulkan/vulkan.h>
#include "backend.h"
#include "err.h"
#include "vk_backend.h"
#include "shaders.h"

enum { P_CONV, P_CONV_S, P_GN, P_ATTN, P_ELT, P_NOISE, P_CONV_H, P_CONV_HS, NPIPE };
#define NBIND 5
#define PC_MAX 128
#define WG 256
#define POOL_SETS 512
#define STAGE_MIN ((VkDeviceSize)8 << 20)

struct lmd_buf {
	VkBuffer buf;
	VkDeviceMemory mem;
	void *map;            /* persistently mapped (UMA) or NULL */
	size_t n;             /* elements */
	uint64_t r_epoch, w_epoch;  /* barrier epoch of last read / write (0 = none) */
};

typedef struct {
	lmd_be be;            /* first member: the engine's handle */
	VkInstance inst;
	VkDebugUtilsMessengerEXT dbg;
	VkPhysicalDevice pd;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties memp;
	VkDevice dev;
	VkQueue q;
	uint32_t qfam;
	char name[256];
	int uma;              /* buffers are host-mapped */
	uint32_t mt_buf, mt_stage;
	VkCommandPool cpool;
	VkCommandBuffer cb;
	VkFence fence;
	int recording;        /* cb is begun */
	int ncmds;            /* commands recorded since begin */
	uint64_t epoch;       /* current barrier epoch, starts at 1 */
	VkPipeline last_pipe;
	VkDescriptorSetLayout dsl;
	VkPipelineLayout pl;
	VkShaderModule mod[NPIPE];
	VkPipeline pipe[NPIPE];
	int push_desc;
	PFN_vkCmdPushDescriptorSetKHR push_fn;
	VkDescriptorPool *pools;
	int npools, cur_pool;
	uint32_t pool_used;
	lmd_buf *dummy;
	VkBuffer stage;
	VkDeviceMemory stage_mem;
	unsigned char *stage_map;
	VkDeviceSize stage_cap, stage_used;
	/* downloads waiting for the current submit: copy stage -> host after it */
	struct pend { float *dst; VkDeviceSize off; size_t n; } *pend;
	int npend, cap_pend;
	lmd_err err;          /* first error since the last sync, or LMD_OK */
	char errmsg[512];
	int lost;             /* device lost: permanent */
	int val_errors;
	/* workgroups of a grid-stride dispatch: enough to fill a big GPU
	 * (2048 x 256 invocations), few on CPU devices, where every workgroup
	 * has a fixed cost (lavapipe: tens of microseconds) */
	uint32_t max_stride_wg;
	int conv_tile;        /* 0 = auto, 64 or 32 (LMDD_VK_CONV_TILE) */
	int fp16;             /* convolutions through the F16 pipelines (LMDD_VK_FP16=1 and shaderFloat16) */
	uint32_t max_wg[3];   /* maxComputeWorkGroupCount (x lowered by LMDD_VK_TEST_MAX_WG_X) */
	uint64_t submits;
} vkbe;

static lmd_err flush(vkbe *v);

/* ---- errors --------------------------------------------------------------- */

static const char *vkstr(VkResult r)
{
	switch (r) {
	case VK_SUCCESS: return "VK_SUCCESS";
	case VK_NOT_READY: return "VK_NOT_READY";
	case VK_TIMEOUT: return "VK_TIMEOUT";
	case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
	case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
	case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
	case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
	case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
	case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
	case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
	case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
	case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
	case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
	case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
	case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
	default: return "VkResult error";
	}
}

static lmd_err vkerr(VkResult r, const char *what)
{
	lmd_err e = (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
	            ? LMD_ERR_NOMEM : LMD_ERR_DEVICE;
	return lmd_seterr(e, "vulkan: %s: %s (%d)", what, vkstr(r), (int)r);
}

/* Record the first error of an op (ops return void); sets the message too. */
static void fail(vkbe *v, lmd_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(vkbe *v, lmd_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (v->err == LMD_OK) {
		v->err = e;
		vsnprintf(v->errmsg, sizeof v->errmsg, fmt, ap);
		lmd_seterr(e, "%s", v->errmsg);
	}
	va_end(ap);
}

static void failvk(vkbe *v, VkResult r, const char *what)
{
	if (r == VK_ERROR_DEVICE_LOST) v->lost = 1;
	fail(v, (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
	        ? LMD_ERR_NOMEM : LMD_ERR_DEVICE, "vulkan: %s: %s (%d)", what, vkstr(r), (int)r);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL dbg_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
	VkDebugUtilsMessageTypeFlagsEXT type, const VkDebugUtilsMessengerCallbackDataEXT *d, void *user)
{
	vkbe *v = user;
	if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
		if (v) v->val_errors++;
		fprintf(stderr, "vulkan validation: %s\n", d->pMessage);
	} else if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
		fprintf(stderr, "vulkan validation warning: %s\n", d->pMessage);
	}
	return VK_FALSE;
}

/* ---- instance and device choice ---------------------------------------------- */

static int env_true(const char *name)
{
	const char *s = getenv(name);
	return s && *s && strcmp(s, "0") != 0;
}

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(e[i].extensionName, name) == 0) return 1;
	return 0;
}

static int has_layer(const char *name)
{
	uint32_t n = 0;
	if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
	VkLayerProperties *l = calloc(n, sizeof *l);
	int found = 0;
	if (l && vkEnumerateInstanceLayerProperties(&n, l) >= 0)
		for (uint32_t i = 0; i < n; i++)
			if (strcmp(l[i].layerName, name) == 0) found = 1;
	free(l);
	return found;
}

/* Creates an instance; with validate, also the validation layer + messenger. */
static lmd_err make_instance(VkInstance *inst, int validate, VkDebugUtilsMessengerEXT *dbg, void *user)
{
	uint32_t iver = VK_API_VERSION_1_1;
	PFN_vkEnumerateInstanceVersion ev =
		(PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
	if (!ev || ev(&iver) != VK_SUCCESS || iver < VK_API_VERSION_1_1)
		return lmd_seterr(LMD_ERR_DEVICE, "vulkan: the Vulkan loader is older than 1.1");

	uint32_t ne = 0;
	VkResult r = vkEnumerateInstanceExtensionProperties(NULL, &ne, NULL);
	if (r != VK_SUCCESS) return vkerr(r, "vkEnumerateInstanceExtensionProperties");
	VkExtensionProperties *ext = calloc(ne ? ne : 1, sizeof *ext);
	if (!ext) return lmd_seterr(LMD_ERR_NOMEM, "vulkan: out of memory");
	r = vkEnumerateInstanceExtensionProperties(NULL, &ne, ext);
	if (r < 0) { free(ext); return vkerr(r, "vkEnumerateInstanceExtensionProperties"); }

	const char *exts[4];
	uint32_t nx = 0;
	VkInstanceCreateFlags flags = 0;
	if (has_ext(ext, ne, "VK_KHR_portability_enumeration")) {
		exts[nx++] = "VK_KHR_portability_enumeration";
		flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
	}
	int dbgok = validate && has_ext(ext, ne, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
	if (dbgok) exts[nx++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
	free(ext);

	const char *layer = "VK_LAYER_KHRONOS_validation";
	int lay = validate && has_layer(layer);
	if (validate && !lay)
		fprintf(stderr, "lmdd: LMDD_VK_VALIDATE set but %s is not installed\n", layer);

	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "lmdd", .applicationVersion = 1,
		.pEngineName = "lmdd", .engineVersion = 1,
		.apiVersion = iver >= VK_API_VERSION_1_2 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1,
	};
	VkValidationFeatureEnableEXT vfe[] = { VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT };
	VkValidationFeaturesEXT vf = {
		.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
		.enabledValidationFeatureCount = 1, .pEnabledValidationFeatures = vfe,
	};
	VkInstanceCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pNext = lay ? &vf : NULL,
		.flags = flags,
		.pApplicationInfo = &app,
		.enabledLayerCount = lay ? 1 : 0, .ppEnabledLayerNames = &layer,
		.enabledExtensionCount = nx, .ppEnabledExtensionNames = exts,
	};
	r = vkCreateInstance(&ci, NULL, inst);
	if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
		return lmd_seterr(LMD_ERR_DEVICE, "vulkan: no Vulkan driver found (install the GPU vendor's "
		                  "driver, or mesa-vulkan-drivers for lavapipe)");
	if (r != VK_SUCCESS) return vkerr(r, "vkCreateInstance");
	if (dbgok && dbg) {
		PFN_vkCreateDebugUtilsMessengerEXT f = (PFN_vkCreateDebugUtilsMessengerEXT)
			vkGetInstanceProcAddr(*inst, "vkCreateDebugUtilsMessengerEXT");
		VkDebugUtilsMessengerCreateInfoEXT di = {
			.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
			.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
			                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
			.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
			               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
			               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
			.pfnUserCallback = dbg_cb, .pUserData = user,
		};
		if (f && f(*inst, &di, NULL, dbg) != VK_SUCCESS) *dbg = VK_NULL_HANDLE;
	}
	return LMD_OK;
}

static lmd_err list_devices(VkInstance inst, VkPhysicalDevice **out, uint32_t *n)
{
	*out = NULL;
	*n = 0;
	VkResult r = vkEnumeratePhysicalDevices(inst, n, NULL);
	if (r != VK_SUCCESS) return vkerr(r, "vkEnumeratePhysicalDevices");
	if (*n == 0) return LMD_OK;
	*out = calloc(*n, sizeof **out);
	if (!*out) return lmd_seterr(LMD_ERR_NOMEM, "vulkan: out of memory");
	r = vkEnumeratePhysicalDevices(inst, n, *out);
	if (r < 0) { free(*out); *out = NULL; *n = 0; return vkerr(r, "vkEnumeratePhysicalDevices"); }
	return LMD_OK;
}

static int compute_family(VkPhysicalDevice pd, uint32_t *fam)
{
	uint32_t n = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
	VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
	if (!q) return 0;
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
	int best = -1;
	/* prefer a family with compute and graphics (the "universal" queue,
	 * fastest on most drivers), else any compute family */
	for (uint32_t i = 0; i < n; i++) {
		if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || q[i].queueCount == 0) continue;
		if (best < 0 || (q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
			if (best < 0 || !(q[best].queueFlags & VK_QUEUE_GRAPHICS_BIT)) best = (int)i;
		}
	}
	free(q);
	if (best < 0) return 0;
	*fam = (uint32_t)best;
	return 1;
}

static int type_rank(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
	default: return 4;
	}
}

static const char *type_name(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
	default: return "other";
	}
}

static int usable(VkPhysicalDevice pd)
{
	VkPhysicalDeviceProperties p;
	uint32_t fam;
	vkGetPhysicalDeviceProperties(pd, &p);
	return p.apiVersion >= VK_API_VERSION_1_1 && compute_family(pd, &fam);
}

/* Parse a non-negative decimal index; -1 if s is not one. */
static int parse_index(const char *s)
{
	if (!s || !*s) return -1;
	for (const char *c = s; *c; c++)
		if (*c < '0' || *c > '9') return -1;
	errno = 0;
	long v = strtol(s, NULL, 10);
	if (errno || v > 1000000) return -1;
	return (int)v;
}

static lmd_err pick_device(VkInstance inst, int index, const char *name, VkPhysicalDevice *out)
{
	VkPhysicalDevice *pds;
	uint32_t n;
	lmd_err e = list_devices(inst, &pds, &n);
	if (e) return e;
	if (n == 0) return lmd_seterr(LMD_ERR_DEVICE, "vulkan: no Vulkan device found");
	if (index < 0 && (!name || !*name)) {
		const char *env = getenv("LMDD_VK_DEVICE");
		if (env && *env) {
			index = parse_index(env);
			if (index < 0) name = env;
		}
	}
	int best = -1;
	VkPhysicalDeviceProperties p;
	if (index >= 0) {
		if ((uint32_t)index >= n) {
			free(pds);
			return lmd_seterr(LMD_ERR_ARG, "vulkan: device index %d out of range (%u devices)", index, n);
		}
		if (!usable(pds[index])) {
			free(pds);
			return lmd_seterr(LMD_ERR_UNSUPPORTED, "vulkan: device %d lacks Vulkan 1.1 or a compute queue", index);
		}
		best = index;
	} else {
		for (uint32_t i = 0; i < n; i++) {
			if (!usable(pds[i])) continue;
			vkGetPhysicalDeviceProperties(pds[i], &p);
			if (name && *name && !strcasestr(p.deviceName, name)) continue;
			if (best >= 0) {
				VkPhysicalDeviceProperties bp;
				vkGetPhysicalDeviceProperties(pds[best], &bp);
				if (type_rank(p.deviceType) >= type_rank(bp.deviceType)) continue;
			}
			best = (int)i;
		}
		if (best < 0) {
			free(pds);
			if (name && *name)
				return lmd_seterr(LMD_ERR_ARG, "vulkan: no usable device matches \"%s\"", name);
			return lmd_seterr(LMD_ERR_DEVICE, "vulkan: no device with Vulkan 1.1 and a compute queue");
		}
	}
	*out = pds[best];
	free(pds);
	return LMD_OK;
}

int lmd_vulkan_devices(char names[][256], int max)
{
	VkInstance inst;
	if (make_instance(&inst, 0, NULL, NULL)) return -1;
	VkPhysicalDevice *pds;
	uint32_t n;
	if (list_devices(inst, &pds, &n)) { vkDestroyInstance(inst, NULL); return -1; }
	for (uint32_t i = 0; i < n && (int)i < max; i++) {
		VkPhysicalDeviceProperties p;
		vkGetPhysicalDeviceProperties(pds[i], &p);
		char drv[VK_MAX_DRIVER_NAME_SIZE + VK_MAX_DRIVER_INFO_SIZE + 4] = "";
		if (p.apiVersion >= VK_API_VERSION_1_2) {
			VkPhysicalDeviceDriverProperties dp = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES };
			VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &dp };
			vkGetPhysicalDeviceProperties2(pds[i], &p2);
			snprintf(drv, sizeof drv, "%s %s", dp.driverName, dp.driverInfo);
		} else {
			snprintf(drv, sizeof drv, "driver 0x%x", p.driverVersion);
		}
		/* long driver strings are cut at 256 bytes: fine for a listing */
		if (snprintf(names[i], 256, "%.120s (%s, %.90s, Vulkan %u.%u.%u%s)", p.deviceName,
		         type_name(p.deviceType), drv, VK_API_VERSION_MAJOR(p.apiVersion),
		         VK_API_VERSION_MINOR(p.apiVersion), VK_API_VERSION_PATCH(p.apiVersion),
		         usable(pds[i]) ? "" : ", unusable: needs 1.1 + compute") >= 256)
			names[i][255] = 0;
	}
	free(pds);
	vkDestroyInstance(inst, NULL);
	return (int)n;
}

/* ---- memory ---------------------------------------------------------------- */

static int find_type(vkbe *v, uint32_t bits, VkMemoryPropertyFlags want)
{
	for (uint32_t i = 0; i < v->memp.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (v->memp.memoryTypes[i].propertyFlags & want) == want)
			return (int)i;
	return -1;
}

static lmd_err make_buffer(vkbe *v, VkDeviceSize bytes, int host, VkBuffer *buf,
                           VkDeviceMemory *mem, void **map)
{
	VkBufferCreateInfo bi = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = bytes,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		         VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	*buf = VK_NULL_HANDLE;
	*mem = VK_NULL_HANDLE;
	if (map) *map = NULL;
	VkResult r = vkCreateBuffer(v->dev, &bi, NULL, buf);
	if (r != VK_SUCCESS) return vkerr(r, "vkCreateBuffer");
	VkMemoryRequirements mr;
	vkGetBufferMemoryRequirements(v->dev, *buf, &mr);
	int t = -1;
	if (host) {
		t = find_type(v, mr.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		              VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
		if (t < 0) t = find_type(v, mr.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		                         VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	} else if (v->uma) {
		t = find_type(v, mr.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
		              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
		host = 1;
	} else {
		t = find_type(v, mr.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
		if (t < 0) t = find_type(v, mr.memoryTypeBits, 0);
	}
	if (t < 0) {
		vkDestroyBuffer(v->dev, *buf, NULL);
		*buf = VK_NULL_HANDLE;
		return lmd_seterr(LMD_ERR_DEVICE, "vulkan: no suitable memory type for a %s buffer",
		                  host ? "host-visible" : "device-local");
	}
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = mr.size, .memoryTypeIndex = (uint32_t)t,
	};
	r = vkAllocateMemory(v->dev, &ai, NULL, mem);
	if (r == VK_SUCCESS) r = vkBindBufferMemory(v->dev, *buf, *mem, 0);
	if (r == VK_SUCCESS && host && map) r = vkMapMemory(v->dev, *mem, 0, VK_WHOLE_SIZE, 0, map);
	if (r != VK_SUCCESS) {
		lmd_err e = vkerr(r, "allocating buffer memory");
		if (*mem) vkFreeMemory(v->dev, *mem, NULL);
		vkDestroyBuffer(v->dev, *buf, NULL);
		*buf = VK_NULL_HANDLE;
		*mem = VK_NULL_HANDLE;
		return e;
	}
	return LMD_OK;
}

static lmd_buf *vk_alloc(lmd_be *be, size_t n)
{
	vkbe *v = (vkbe *)be;
	if (v->lost) { lmd_seterr(LMD_ERR_DEVICE, "vulkan: device lost"); return NULL; }
	uint64_t bytes = (uint64_t)(n ? n : 1) * sizeof(float);
	if (n > ((size_t)1 << 30) || bytes > v->props.limits.maxStorageBufferRange) {
		lmd_seterr(LMD_ERR_UNSUPPORTED, "vulkan: buffer of %zu floats exceeds the device's "
		           "storage buffer range (%u bytes)", n, v->props.limits.maxStorageBufferRange);
		return NULL;
	}
	lmd_buf *b = calloc(1, sizeof *b);
	if (!b) { lmd_seterr(LMD_ERR_NOMEM, "vulkan: out of memory"); return NULL; }
	b->n = n;
	if (make_buffer(v, bytes, 0, &b->buf, &b->mem, &b->map)) { free(b); return NULL; }
	if (!v->uma) b->map = NULL;
	return b;
}

static void vk_free(lmd_be *be, lmd_buf *b)
{
	vkbe *v = (vkbe *)be;
	if (!b) return;
	/* the buffer may be referenced by recorded or running work */
	if (v->recording) flush(v);   /* keeps a pending error for the next sync */
	if (b->map) vkUnmapMemory(v->dev, b->mem);
	vkDestroyBuffer(v->dev, b->buf, NULL);
	vkFreeMemory(v->dev, b->mem, NULL);
	free(b);
}

/* ---- recording -------------------------------------------------------------- */

static int begin(vkbe *v)
{
	if (v->err || v->lost) return 0;
	if (v->recording) return 1;
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkResult r = vkBeginCommandBuffer(v->cb, &bi);
	if (r != VK_SUCCESS) { failvk(v, r, "vkBeginCommandBuffer"); return 0; }
	v->recording = 1;
	v->ncmds = 0;
	v->last_pipe = VK_NULL_HANDLE;
	return 1;
}

static void barrier(vkbe *v)
{
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
		                 VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	};
	VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
	vkCmdPipelineBarrier(v->cb, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
	v->epoch++;
}

/* Hazard tracking: bufs[i] is accessed, written if bit i of wmask. */
static void hazards(vkbe *v, lmd_buf *const *bufs, int nb, unsigned wmask)
{
	int need = 0;
	for (int i = 0; i < nb; i++) {
		if (!bufs[i]) continue;
		if (bufs[i]->w_epoch == v->epoch) need = 1;
		if ((wmask >> i & 1) && bufs[i]->r_epoch == v->epoch) need = 1;
	}
	if (need) barrier(v);
	for (int i = 0; i < nb; i++) {
		if (!bufs[i]) continue;
		bufs[i]->r_epoch = v->epoch;
		if (wmask >> i & 1) bufs[i]->w_epoch = v->epoch;
	}
}

static int bind(vkbe *v, int pipe, lmd_buf *const *bufs)
{
	VkDescriptorBufferInfo bi[NBIND];
	VkWriteDescriptorSet w[NBIND];
	for (int i = 0; i < NBIND; i++) {
		bi[i] = (VkDescriptorBufferInfo){ bufs[i] ? bufs[i]->buf : v->dummy->buf, 0, VK_WHOLE_SIZE };
		w[i] = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = (uint32_t)i,
			.descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.pBufferInfo = &bi[i],
		};
	}
	if (v->last_pipe != v->pipe[pipe]) {
		vkCmdBindPipeline(v->cb, VK_PIPELINE_BIND_POINT_COMPUTE, v->pipe[pipe]);
		v->last_pipe = v->pipe[pipe];
	}
	if (v->push_desc) {
		v->push_fn(v->cb, VK_PIPELINE_BIND_POINT_COMPUTE, v->pl, 0, NBIND, w);
		return 1;
	}
	if (v->npools == 0 || v->pool_used >= POOL_SETS) {
		if (v->npools > 0 && v->cur_pool + 1 < v->npools) {
			v->cur_pool++;
		} else {
			VkDescriptorPool *np = realloc(v->pools, (size_t)(v->npools + 1) * sizeof *np);
			if (!np) { fail(v, LMD_ERR_NOMEM, "vulkan: out of memory"); return 0; }
			v->pools = np;
			VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, POOL_SETS * NBIND };
			VkDescriptorPoolCreateInfo pi = {
				.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
				.maxSets = POOL_SETS, .poolSizeCount = 1, .pPoolSizes = &ps,
			};
			VkResult r = vkCreateDescriptorPool(v->dev, &pi, NULL, &v->pools[v->npools]);
			if (r != VK_SUCCESS) { failvk(v, r, "vkCreateDescriptorPool"); return 0; }
			v->cur_pool = v->npools++;
		}
		v->pool_used = 0;
	}
	VkDescriptorSetAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorPool = v->pools[v->cur_pool], .descriptorSetCount = 1, .pSetLayouts = &v->dsl,
	};
	VkDescriptorSet set;
	VkResult r = vkAllocateDescriptorSets(v->dev, &ai, &set);
	if (r != VK_SUCCESS) { failvk(v, r, "vkAllocateDescriptorSets"); return 0; }
	v->pool_used++;
	for (int i = 0; i < NBIND; i++) w[i].dstSet = set;
	vkUpdateDescriptorSets(v->dev, NBIND, w, 0, NULL);
	vkCmdBindDescriptorSets(v->cb, VK_PIPELINE_BIND_POINT_COMPUTE, v->pl, 0, 1, &set, 0, NULL);
	return 1;
}

/*
 * Record one op: hazard barrier, pipeline, bindings, push constants, and
 * dispatches of (gx, gy, gz) workgroups. If gx exceeds the device limit the
 * op is split along x: the shader's uint at byte offset xbase_off of the push
 * constants is the first workgroup of each part (-1: not splittable).
 */
static void record(vkbe *v, int pipe, lmd_buf *const *bufs, unsigned wmask, void *pc,
                   uint32_t pcsize, uint64_t gx, uint64_t gy, uint64_t gz, int xbase_off)
{
	if (gx == 0 || gy == 0 || gz == 0) return;
	const uint32_t *lim = v->max_wg;
	if (gy > lim[1] || gz > lim[2] || (xbase_off < 0 && gx > lim[0])) {
		fail(v, LMD_ERR_UNSUPPORTED, "vulkan: dispatch %llu x %llu x %llu exceeds the device limits",
		     (unsigned long long)gx, (unsigned long long)gy, (unsigned long long)gz);
		return;
	}
	if (!begin(v)) return;
	hazards(v, bufs, NBIND, wmask);
	if (!bind(v, pipe, bufs)) return;
	for (uint64_t x0 = 0; x0 < gx; x0 += lim[0]) {
		uint64_t nx = gx - x0 < lim[0] ? gx - x0 : lim[0];
		/* parts of a split op touch disjoint outputs, but an in-place op
		 * (groupnorm y == x) reads and writes one buffer: order the parts
		 * (rare: only grids beyond the device limit are split) */
		if (x0 > 0) barrier(v);
		if (xbase_off >= 0) {
			uint32_t b = (uint32_t)x0;
			memcpy((char *)pc + xbase_off, &b, sizeof b);
		}
		vkCmdPushConstants(v->cb, v->pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, pcsize, pc);
		vkCmdDispatch(v->cb, (uint32_t)nx, (uint32_t)gy, (uint32_t)gz);
	}
	if (gx > lim[0])   /* the part barriers opened new epochs: mark this op's accesses in the last */
		hazards(v, bufs, NBIND, wmask);
	v->ncmds++;
}

/* Submit what is recorded (plus a barrier to the host) and wait. */
static lmd_err flush(vkbe *v)
{
	if (v->lost) {
		if (!v->err) fail(v, LMD_ERR_DEVICE, "vulkan: device lost");
		return v->err;
	}
	if (!v->recording) return v->err;
	VkResult r;
	if (!v->err) {
		VkMemoryBarrier mb = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
			.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
			.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
		};
		vkCmdPipelineBarrier(v->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
		                     VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
	}
	r = vkEndCommandBuffer(v->cb);
	v->recording = 0;
	if (r != VK_SUCCESS) failvk(v, r, "vkEndCommandBuffer");
	if (!v->err) {
		VkSubmitInfo si = {
			.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &v->cb,
		};
		r = vkQueueSubmit(v->q, 1, &si, v->fence);
		if (r != VK_SUCCESS) {
			failvk(v, r, "vkQueueSubmit");
		} else {
			v->submits++;
			/* no timeout: a whole scoring batch is one submit and may take
			 * minutes on a CPU device; a hung GPU is reset by the kernel
			 * driver and reported as VK_ERROR_DEVICE_LOST */
			r = vkWaitForFences(v->dev, 1, &v->fence, VK_TRUE, UINT64_MAX);
			if (r != VK_SUCCESS) failvk(v, r, "vkWaitForFences");
			else {
				r = vkResetFences(v->dev, 1, &v->fence);
				if (r != VK_SUCCESS) failvk(v, r, "vkResetFences");
			}
		}
	}
	if (!v->err) {
		for (int i = 0; i < v->npend; i++)
			memcpy(v->pend[i].dst, v->stage_map + v->pend[i].off, v->pend[i].n * sizeof(float));
	}
	v->npend = 0;
	v->stage_used = 0;
	if (!v->lost) {
		r = vkResetCommandPool(v->dev, v->cpool, 0);
		if (r != VK_SUCCESS) failvk(v, r, "vkResetCommandPool");
		for (int i = 0; i < v->npools; i++) {
			r = vkResetDescriptorPool(v->dev, v->pools[i], 0);
			if (r != VK_SUCCESS) failvk(v, r, "vkResetDescriptorPool");
		}
	}
	v->cur_pool = 0;
	v->pool_used = 0;
	v->epoch++;
	return v->err;
}

static lmd_err vk_sync(lmd_be *be)
{
	vkbe *v = (vkbe *)be;
	flush(v);
	lmd_err e = v->err;
	if (e) lmd_seterr(e, "%s", v->errmsg);
	if (v->lost) {
		if (!e) e = lmd_seterr(LMD_ERR_DEVICE, "vulkan: device lost");
	} else {
		v->err = LMD_OK;
		v->errmsg[0] = 0;
	}
	return e;
}

/* Space in the staging ring, flushing (submit + wait) when it is full. */
static int stage_take(vkbe *v, VkDeviceSize bytes, VkDeviceSize *off)
{
	VkDeviceSize a = (v->stage_used + 15) & ~(VkDeviceSize)15;
	if (a + bytes > v->stage_cap) {
		if (flush(v)) return 0;
		a = 0;
	}
	*off = a;
	v->stage_used = a + bytes;
	return 1;
}

static int check_range(vkbe *v, const lmd_buf *b, size_t off, size_t n, const char *what)
{
	if (!b) { fail(v, LMD_ERR_ARG, "vulkan: %s: NULL buffer", what); return 0; }
	if (off > b->n || n > b->n - off) {
		fail(v, LMD_ERR_ARG, "vulkan: %s: range [%zu, +%zu) outside a buffer of %zu floats",
		     what, off, n, b->n);
		return 0;
	}
	return 1;
}

static lmd_err vk_upload(lmd_be *be, lmd_buf *dst, size_t off, const float *src, size_t n)
{
	vkbe *v = (vkbe *)be;
	if (v->err || v->lost) return vk_sync(be);
	if (!check_range(v, dst, off, n, "upload")) return vk_sync(be);
	if (n == 0) return LMD_OK;
	if (dst->map && !v->recording) {
		memcpy((float *)dst->map + off, src, n * sizeof(float));
		return LMD_OK;
	}
	/* ordered with the recorded work: copy through the staging ring */
	size_t chunk = (size_t)(v->stage_cap / sizeof(float));
	for (size_t done = 0; done < n; done += chunk) {
		size_t m = n - done < chunk ? n - done : chunk;
		VkDeviceSize so;
		if (!stage_take(v, m * sizeof(float), &so) || !begin(v)) return vk_sync(be);
		memcpy(v->stage_map + so, src + done, m * sizeof(float));
		lmd_buf *bufs[NBIND] = { dst };
		hazards(v, bufs, 1, 1);
		VkBufferCopy c = { so, (off + done) * sizeof(float), m * sizeof(float) };
		vkCmdCopyBuffer(v->cb, v->stage, dst->buf, 1, &c);
		v->ncmds++;
	}
	return LMD_OK;
}

static lmd_err vk_download(lmd_be *be, lmd_buf *src, size_t off, float *dst, size_t n)
{
	vkbe *v = (vkbe *)be;
	if (v->err || v->lost) return vk_sync(be);
	if (!check_range(v, src, off, n, "download")) return vk_sync(be);
	if (n == 0) return vk_sync(be);
	if (src->map) {
		lmd_err e = vk_sync(be);
		if (e) return e;
		memcpy(dst, (const float *)src->map + off, n * sizeof(float));
		return LMD_OK;
	}
	size_t chunk = (size_t)(v->stage_cap / sizeof(float));
	for (size_t done = 0; done < n; done += chunk) {
		size_t m = n - done < chunk ? n - done : chunk;
		VkDeviceSize so;
		if (!stage_take(v, m * sizeof(float), &so) || !begin(v)) return vk_sync(be);
		lmd_buf *bufs[NBIND] = { src };
		hazards(v, bufs, 1, 0);
		VkBufferCopy c = { (off + done) * sizeof(float), so, m * sizeof(float) };
		vkCmdCopyBuffer(v->cb, src->buf, v->stage, 1, &c);
		v->ncmds++;
		if (v->npend == v->cap_pend) {
			int nc = v->cap_pend ? 2 * v->cap_pend : 16;
			struct pend *np = realloc(v->pend, (size_t)nc * sizeof *np);
			if (!np) { fail(v, LMD_ERR_NOMEM, "vulkan: out of memory"); return vk_sync(be); }
			v->pend = np;
			v->cap_pend = nc;
		}
		v->pend[v->npend++] = (struct pend){ dst + done, so, m };
	}
	return vk_sync(be);
}

/* ---- ops ------------------------------------------------------------------ */

#define U32OK(x) ((uint64_t)(x) <= 0xFFFFFFFFull)

static void vk_conv2d(lmd_be *be, lmd_buf *y, int y_cstride, int y_coff,
                      const lmd_buf *x, int x_cstride, int x_coff,
                      const lmd_buf *w, const lmd_buf *b, const lmd_buf *r,
                      int n, int cin, int h, int wd, int cout, int k, int stride, int up)
{
	vkbe *v = (vkbe *)be;
	if (v->err) return;
	if ((k != 1 && k != 3) || (stride != 1 && stride != 2) || (up != 0 && up != 1) ||
	    n < 1 || cin < 1 || h < 1 || wd < 1 || cout < 1 || x_coff < 0 || y_coff < 0 ||
	    x_coff + cin > x_cstride || y_coff + cout > y_cstride) {
		fail(v, LMD_ERR_ARG, "vulkan: conv2d: bad arguments (n %d cin %d %dx%d cout %d k %d "
		     "stride %d up %d, x %d+%d/%d, y %d+%d/%d)", n, cin, h, wd, cout, k, stride, up,
		     x_coff, cin, x_cstride, y_coff, cout, y_cstride);
		return;
	}
	uint64_t lh = (uint64_t)h << up, lw = (uint64_t)wd << up;
	uint64_t oh = (lh + stride - 1) / stride, ow = (lw + stride - 1) / stride;
	uint64_t ohw = oh * ow;
	if (!check_range(v, x, 0, (size_t)n * x_cstride * h * wd, "conv2d x") ||
	    !check_range(v, y, 0, (size_t)(n * (uint64_t)y_cstride * ohw), "conv2d y") ||
	    !check_range(v, w, 0, (size_t)cout * cin * k * k, "conv2d w") ||
	    (b && !check_range(v, b, 0, (size_t)cout, "conv2d b")) ||
	    (r && !check_range(v, r, 0, (size_t)(n * (uint64_t)cout * ohw), "conv2d r")))
		return;
	uint32_t pc[16] = { (uint32_t)n, (uint32_t)cin, (uint32_t)h, (uint32_t)wd, (uint32_t)cout,
		(uint32_t)k, (uint32_t)stride, (uint32_t)up, (uint32_t)oh, (uint32_t)ow,
		(uint32_t)x_cstride, (uint32_t)x_coff, (uint32_t)y_cstride, (uint32_t)y_coff,
		(b ? 1u : 0u) | (r ? 2u : 0u), 0 };
	lmd_buf *bufs[NBIND] = { y, (lmd_buf *)x, (lmd_buf *)w, (lmd_buf *)b, (lmd_buf *)r };
	uint64_t P = (uint64_t)n * ohw;
	/* 32x32 tiles where 64x64 ones would leave a GPU idle: fewer than 512
	 * workgroups (4 per SM/CU of a big GPU) or half-empty tiles (cout <= 32).
	 * CPU devices pay per workgroup: always 64x64 there. */
	uint64_t t64 = ((P + 63) / 64) * (((uint64_t)cout + 63) / 64);
	int small = v->conv_tile == 32 ||
	            (v->conv_tile == 0 && v->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU &&
	             (t64 < 512 || cout <= 32));
	uint64_t tile = small ? 32 : 64;
	int pipe = v->fp16 ? (small ? P_CONV_HS : P_CONV_H) : (small ? P_CONV_S : P_CONV);
	record(v, pipe, bufs, 1u, pc, sizeof pc, (P + tile - 1) / tile,
	       ((uint64_t)cout + tile - 1) / tile, 1, 15 * 4);
}

static void vk_groupnorm(lmd_be *be, lmd_buf *y, const lmd_buf *x, const lmd_buf *gamma,
                         const lmd_buf *beta, int n, int c, int hw, int groups, float eps, int silu)
{
	vkbe *v = (vkbe *)be;
	if (v->err) return;
	if (n < 1 || c < 1 || hw < 1 || groups < 1 || c % groups) {
		fail(v, LMD_ERR_ARG, "vulkan: groupnorm: bad arguments (n %d c %d hw %d groups %d)",
		     n, c, hw, groups);
		return;
	}
	size_t tot = (size_t)n * c * hw;
	if (!check_range(v, x, 0, tot, "groupnorm x") || !check_range(v, y, 0, tot, "groupnorm y") ||
	    !check_range(v, gamma, 0, (size_t)c, "groupnorm gamma") ||
	    !check_range(v, beta, 0, (size_t)c, "groupnorm beta"))
		return;
	struct { uint32_t n, c, hw, groups, silu, base; float eps; } pc =
		{ (uint32_t)n, (uint32_t)c, (uint32_t)hw, (uint32_t)groups, silu ? 1u : 0u, 0, eps };
	lmd_buf *bufs[NBIND] = { y, (lmd_buf *)x, (lmd_buf *)gamma, (lmd_buf *)beta, NULL };
	record(v, P_GN, bufs, 1u, &pc, sizeof pc, (uint64_t)n * groups, 1, 1, 5 * 4);
}

static void elt(vkbe *v, lmd_buf *const *bufs, unsigned wmask, uint32_t mode, uint64_t total,
                const uint32_t u[8], const float f[5])
{
	struct { uint32_t mode, total, u[8]; float f[5]; } pc;
	pc.mode = mode;
	pc.total = (uint32_t)total;
	memcpy(pc.u, u, sizeof pc.u);
	memcpy(pc.f, f, sizeof pc.f);
	uint64_t g = (total + WG - 1) / WG;
	if (g > v->max_stride_wg) g = v->max_stride_wg;   /* grid-stride loop covers the rest */
	record(v, P_ELT, bufs, wmask, &pc, sizeof pc, g, 1, 1, -1);
}

static void vk_add_chan(lmd_be *be, lmd_buf *y, const lmd_buf *t, size_t off_t, int n, int c, int hw)
{
	vkbe *v = (vkbe *)be;
	if (v->err) return;
	if (n < 1 || c < 1 || hw < 1) { fail(v, LMD_ERR_ARG, "vulkan: add_chan: bad sizes"); return; }
	size_t tot = (size_t)n * c * hw;
	if (!check_range(v, y, 0, tot, "add_chan y") || !check_range(v, t, off_t, (size_t)c, "add_chan t"))
		return;
	uint32_t u[8] = { (uint32_t)hw, (uint32_t)c, (uint32_t)off_t };
	float f[5] = { 0 };
	lmd_buf *bufs[NBIND] = { y, (lmd_buf *)t };
	elt(v, bufs, 1u, 0, tot, u, f);
}

static void vk_copy_chan(lmd_be *be, lmd_buf *y, int y_cstride, int y_coff, const lmd_buf *x,
                         int x_cstride, int x_coff, int n, int c_n, int hw)
{
	vkbe *v = (vkbe *)be;
	if (v->err) return;
	if (n < 1 || c_n < 1 || hw < 1 || x_coff < 0 || y_coff < 0 || x_coff + c_n > x_cstride ||
	    y_coff + c_n > y_cstride) {
		fail(v, LMD_ERR_ARG, "vulkan: copy_chan: bad arguments");
		return;
	}
	if (!check_range(v, x, 0, (size_t)n * x_cstride * hw, "copy_chan x") ||
	    !check_range(v, y, 0, (size_t)n * y_cstride * hw, "copy_chan y"))
		return;
	uint32_t u[8] = { (uint32_t)hw, (uint32_t)c_n, 0, (uint32_t)y_cstride, (uint32_t)y_coff,
	                  (uint32_t)x_cstride, (uint32_t)x_coff };
	float f[5] = { 0 };
	lmd_buf *bufs[NBIND] = { y, (lmd_buf *)x };
	elt(v, bufs, 1u, 1, (uint64_t)n * c_n * hw, u, f);
}

static void vk_replace(lmd_be *be, lmd_buf *x, const lmd_buf *x0, const lmd_buf *m,
                       const lmd_buf *z, float a, float s, size_t len)
{
	vkbe *v = (vkbe *)be;
	if (v->err || len == 0) return;
	if (!check_range(v, x, 0, len, "replace x") || !check_range(v, x0, 0, len, "replace x0") ||
	    !check_range(v, m, 0, len, "replace m") || (z && !check_range(v, z, 0, len, "replace z")))
		return;
	uint32_t u[8] = { 1, 1, 0, 0, 0, 0, 0, z ? 1u : 0u };
	float f[5] = { a, s };
	lmd_buf *bufs[NBIND] = { x, (lmd_buf *)x0, (lmd_buf *)m, (lmd_buf *)z };
	elt(v, bufs, 1u, 2, len, u, f);
}

static void vk_ddim(lmd_be *be, lmd_buf *x, const lmd_buf *e, const lmd_buf *z,
                    float a, float sa, float ap, float c1, float c2, size_t len)
{
	vkbe *v = (vkbe *)be;
	if (v->err || len == 0) return;
	if (!z && c2 != 0.0f) { fail(v, LMD_ERR_ARG, "vulkan: ddim: z is NULL but c2 != 0"); return; }
	if (!check_range(v, x, 0, len, "ddim x") || !check_range(v, e, 0, len, "ddim e") ||
	    (z && !check_range(v, z, 0, len, "ddim z")))
		return;
	uint32_t u[8] = { 1, 1, 0, 0, 0, 0, 0, z ? 1u : 0u };
	float f[5] = { a, sa, ap, c1, c2 };
	lmd_buf *bufs[NBIND] = { x, (lmd_buf *)e, (lmd_buf *)z };
	elt(v, bufs, 1u, 3, len, u, f);
}

static void vk_axpby(lmd_be *be, lmd_buf *x, const lmd_buf *z, float a, float b, size_t len)
{
	vkbe *v = (vkbe *)be;
	if (v->err || len == 0) return;
	if (!check_range(v, x, 0, len, "axpby x") || (z && !check_range(v, z, 0, len, "axpby z")))
		return;
	uint32_t u[8] = { 1, 1, 0, 0, 0, 0, 0, z ? 1u : 0u };
	float f[5] = { a, b };
	lmd_buf *bufs[NBIND] = { x, (lmd_buf *)z };
	elt(v, bufs, 1u, 4, len, u, f);
}

static void vk_attention(lmd_be *be, lmd_buf *y, const lmd_buf *qkv, int n, int c, int hw, float scale)
{
	vkbe *v = (vkbe *)be;
	if (v->err) return;
	if (n < 1 || c < 1 || hw < 1) { fail(v, LMD_ERR_ARG, "vulkan: attention: bad sizes"); return; }
	if (!check_range(v, qkv, 0, (size_t)n * 3 * c * hw, "attention qkv") ||
	    !check_range(v, y, 0, (size_t)n * c * hw, "attention y"))
		return;
	if (y == qkv) { fail(v, LMD_ERR_ARG, "vulkan: attention: y must not alias qkv"); return; }
	struct { uint32_t c, hw; float scale; uint32_t base_x; } pc = { (uint32_t)c, (uint32_t)hw, scale, 0 };
	lmd_buf *bufs[NBIND] = { y, (lmd_buf *)qkv };
	record(v, P_ATTN, bufs, 1u, &pc, sizeof pc, ((uint64_t)hw + 31) / 32, ((uint64_t)c + 63) / 64,
	       (uint64_t)n, 3 * 4);
}

static void noise(vkbe *v, lmd_buf *z, size_t len, size_t period, uint64_t seed, uint32_t stream,
                  uint32_t raw)
{
	if (v->err || len == 0) return;
	if (period < 1) { fail(v, LMD_ERR_ARG, "vulkan: noise: period 0"); return; }
	if (!check_range(v, z, 0, len, "noise")) return;
	if (period > len) period = len;
	struct { uint32_t off, len, slo, shi, stream, raw, period; } pc =
		{ 0, (uint32_t)len, (uint32_t)seed, (uint32_t)(seed >> 32), stream, raw, (uint32_t)period };
	uint64_t g = ((period + 3) / 4 + WG - 1) / WG;
	if (g > v->max_stride_wg) g = v->max_stride_wg;
	lmd_buf *bufs[NBIND] = { z };
	record(v, P_NOISE, bufs, 1u, &pc, sizeof pc, g, 1, 1, -1);
}

static void vk_noise(lmd_be *be, lmd_buf *z, size_t len, size_t period, uint64_t seed, uint32_t stream)
{
	noise((vkbe *)be, z, len, period, seed, stream, 0);
}

void lmd_vk_noise_raw(lmd_be *be, lmd_buf *z, size_t len, uint64_t seed, uint32_t stream)
{
	noise((vkbe *)be, z, len, len, seed, stream, 1);
}

int lmd_vk_validation_errors(lmd_be *be) { vkbe *v = (vkbe *)be; return v->dbg ? v->val_errors : -1; }
int lmd_vk_push_descriptors(lmd_be *be) { return ((vkbe *)be)->push_desc; }
uint64_t lmd_vk_submits(lmd_be *be) { return ((vkbe *)be)->submits; }

static const char *vk_device(lmd_be *be) { return ((vkbe *)be)->name; }

/* ---- setup and teardown -------------------------------------------------- */

static void vk_destroy(lmd_be *be)
{
	vkbe *v = (vkbe *)be;
	if (!v) return;
	if (v->dev) {
		if (v->recording && !v->lost) { v->err = LMD_OK; flush(v); }
		vkDeviceWaitIdle(v->dev);
		if (v->dummy) {
			vkDestroyBuffer(v->dev, v->dummy->buf, NULL);
			vkFreeMemory(v->dev, v->dummy->mem, NULL);
			free(v->dummy);
		}
		if (v->stage_map) vkUnmapMemory(v->dev, v->stage_mem);
		if (v->stage) vkDestroyBuffer(v->dev, v->stage, NULL);
		if (v->stage_mem) vkFreeMemory(v->dev, v->stage_mem, NULL);
		for (int i = 0; i < NPIPE; i++) {
			if (v->pipe[i]) vkDestroyPipeline(v->dev, v->pipe[i], NULL);
			if (v->mod[i]) vkDestroyShaderModule(v->dev, v->mod[i], NULL);
		}
		for (int i = 0; i < v->npools; i++) vkDestroyDescriptorPool(v->dev, v->pools[i], NULL);
		if (v->pl) vkDestroyPipelineLayout(v->dev, v->pl, NULL);
		if (v->dsl) vkDestroyDescriptorSetLayout(v->dev, v->dsl, NULL);
		if (v->fence) vkDestroyFence(v->dev, v->fence, NULL);
		if (v->cpool) vkDestroyCommandPool(v->dev, v->cpool, NULL);
		vkDestroyDevice(v->dev, NULL);
	}
	if (v->dbg) {
		PFN_vkDestroyDebugUtilsMessengerEXT f = (PFN_vkDestroyDebugUtilsMessengerEXT)
			vkGetInstanceProcAddr(v->inst, "vkDestroyDebugUtilsMessengerEXT");
		if (f) f(v->inst, v->dbg, NULL);
	}
	if (v->inst) vkDestroyInstance(v->inst, NULL);
	free(v->pools);
	free(v->pend);
	free(v);
}

static const lmd_be_ops vk_ops = {
	.name = "vulkan",
	.destroy = vk_destroy,
	.device = vk_device,
	.alloc = vk_alloc,
	.free = vk_free,
	.upload = vk_upload,
	.download = vk_download,
	.sync = vk_sync,
	.conv2d = vk_conv2d,
	.groupnorm = vk_groupnorm,
	.add_chan = vk_add_chan,
	.attention = vk_attention,
	.copy_chan = vk_copy_chan,
	.noise = vk_noise,
	.replace = vk_replace,
	.ddim = vk_ddim,
	.axpby = vk_axpby,
};

static lmd_err make_pipelines(vkbe *v)
{
	static const struct { const uint32_t *code; size_t size; const char *name; } sh[NPIPE] = {
		[P_CONV] = { spv_conv2d, sizeof spv_conv2d, "conv2d" },
		[P_CONV_S] = { spv_conv2d_s, sizeof spv_conv2d_s, "conv2d_s" },
		[P_GN] = { spv_groupnorm, sizeof spv_groupnorm, "groupnorm" },
		[P_ATTN] = { spv_attention, sizeof spv_attention, "attention" },
		[P_ELT] = { spv_eltwise, sizeof spv_eltwise, "eltwise" },
		[P_NOISE] = { spv_noise, sizeof spv_noise, "noise" },
		[P_CONV_H] = { spv_conv2d_h, sizeof spv_conv2d_h, "conv2d_h" },
		[P_CONV_HS] = { spv_conv2d_hs, sizeof spv_conv2d_hs, "conv2d_hs" },
	};
	VkDescriptorSetLayoutBinding lb[NBIND];
	for (int i = 0; i < NBIND; i++)
		lb[i] = (VkDescriptorSetLayoutBinding){ (uint32_t)i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
		                                        VK_SHADER_STAGE_COMPUTE_BIT, NULL };
	VkDescriptorSetLayoutCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.flags = v->push_desc ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
		.bindingCount = NBIND, .pBindings = lb,
	};
	VkResult r = vkCreateDescriptorSetLayout(v->dev, &dci, NULL, &v->dsl);
	if (r != VK_SUCCESS) return vkerr(r, "vkCreateDescriptorSetLayout");
	VkPushConstantRange pr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, PC_MAX };
	VkPipelineLayoutCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1, .pSetLayouts = &v->dsl,
		.pushConstantRangeCount = 1, .pPushConstantRanges = &pr,
	};
	r = vkCreatePipelineLayout(v->dev, &pci, NULL, &v->pl);
	if (r != VK_SUCCESS) return vkerr(r, "vkCreatePipelineLayout");
	for (int i = 0; i < NPIPE; i++) {
		if ((i == P_CONV_H || i == P_CONV_HS) && !v->fp16)
			continue;   /* needs shaderFloat16, enabled only when used */
		VkShaderModuleCreateInfo mi = {
			.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
			.codeSize = sh[i].size, .pCode = sh[i].code,
		};
		r = vkCreateShaderModule(v->dev, &mi, NULL, &v->mod[i]);
		if (r != VK_SUCCESS) return lmd_preferr(vkerr(r, "vkCreateShaderModule"), "shader %s", sh[i].name);
		VkComputePipelineCreateInfo ci = {
			.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
			.stage = {
				.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
				.stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = v->mod[i], .pName = "main",
			},
			.layout = v->pl,
		};
		r = vkCreateComputePipelines(v->dev, VK_NULL_HANDLE, 1, &ci, NULL, &v->pipe[i]);
		if (r != VK_SUCCESS)
			return lmd_preferr(vkerr(r, "vkCreateComputePipelines"), "shader %s", sh[i].name);
	}
	return LMD_OK;
}

static lmd_err init(vkbe *v, int device, const char *name, int reduced)
{
	lmd_err e = make_instance(&v->inst, env_true("LMDD_VK_VALIDATE"), &v->dbg, v);
	if (e) return e;
	if ((e = pick_device(v->inst, device, name, &v->pd))) return e;
	vkGetPhysicalDeviceProperties(v->pd, &v->props);
	vkGetPhysicalDeviceMemoryProperties(v->pd, &v->memp);
	snprintf(v->name, sizeof v->name, "%s", v->props.deviceName);
	compute_family(v->pd, &v->qfam);

	const VkPhysicalDeviceLimits *L = &v->props.limits;
	if (L->maxComputeWorkGroupInvocations < WG || L->maxComputeWorkGroupSize[0] < WG ||
	    L->maxComputeSharedMemorySize < 16384 || L->maxPushConstantsSize < PC_MAX ||
	    L->maxPerStageDescriptorStorageBuffers < NBIND)
		return lmd_seterr(LMD_ERR_UNSUPPORTED, "vulkan: %s: device limits too small "
		                  "(need %d invocations per workgroup, 16 KiB shared memory, %d bytes "
		                  "of push constants)", v->name, WG, PC_MAX);

	uint32_t ne = 0;
	VkResult r = vkEnumerateDeviceExtensionProperties(v->pd, NULL, &ne, NULL);
	if (r != VK_SUCCESS) return vkerr(r, "vkEnumerateDeviceExtensionProperties");
	VkExtensionProperties *ext = calloc(ne ? ne : 1, sizeof *ext);
	if (!ext) return lmd_seterr(LMD_ERR_NOMEM, "vulkan: out of memory");
	r = vkEnumerateDeviceExtensionProperties(v->pd, NULL, &ne, ext);
	if (r < 0) { free(ext); return vkerr(r, "vkEnumerateDeviceExtensionProperties"); }
	const char *dexts[3];
	uint32_t ndx = 0;
	v->push_desc = has_ext(ext, ne, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME) && !env_true("LMDD_VK_NO_PUSH");
	if (v->push_desc) dexts[ndx++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
	if (has_ext(ext, ne, "VK_KHR_portability_subset")) dexts[ndx++] = "VK_KHR_portability_subset";
	/* fp16 arithmetic: VK_KHR_shader_float16_int8 where listed, else core 1.2
	 * (features2 is core in 1.1) */
	VkPhysicalDeviceShaderFloat16Int8FeaturesKHR f16 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR,
	};
	int f16_ext = has_ext(ext, ne, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
	int f16_core = !f16_ext && v->props.apiVersion >= VK_API_VERSION_1_2;
	free(ext);
	const char *fe = getenv("LMDD_VK_FP16");   /* set: overrides reduced (tests) */
	if ((fe && *fe ? env_true("LMDD_VK_FP16") : reduced) && (f16_core || f16_ext)) {
		VkPhysicalDeviceFeatures2 pf = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16 };
		vkGetPhysicalDeviceFeatures2(v->pd, &pf);
		v->fp16 = f16.shaderFloat16 == VK_TRUE;
		if (v->fp16 && f16_ext) dexts[ndx++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
	}
	f16 = (VkPhysicalDeviceShaderFloat16Int8FeaturesKHR){
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR,
		.shaderFloat16 = VK_TRUE,
	};
	if (v->fp16)
		snprintf(v->name + strlen(v->name), sizeof v->name - strlen(v->name), " [fp16]");

	float prio = 1.0f;
	VkDeviceQueueCreateInfo qi = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = v->qfam, .queueCount = 1, .pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo di = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1, .pQueueCreateInfos = &qi,
		.enabledExtensionCount = ndx, .ppEnabledExtensionNames = dexts,
		.pNext = v->fp16 ? &f16 : NULL,
	};
	r = vkCreateDevice(v->pd, &di, NULL, &v->dev);
	if (r != VK_SUCCESS) return lmd_preferr(vkerr(r, "vkCreateDevice"), "%s", v->name);
	vkGetDeviceQueue(v->dev, v->qfam, 0, &v->q);
	if (v->push_desc) {
		v->push_fn = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(v->dev, "vkCmdPushDescriptorSetKHR");
		if (!v->push_fn) v->push_desc = 0;
	}

	/* UMA: integrated/CPU devices with a device-local, host-visible, coherent type */
	VkPhysicalDeviceType t = v->props.deviceType;
	if (t == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU || t == VK_PHYSICAL_DEVICE_TYPE_CPU) {
		for (uint32_t i = 0; i < v->memp.memoryTypeCount; i++) {
			VkMemoryPropertyFlags f = v->memp.memoryTypes[i].propertyFlags;
			VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
				VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
			if ((f & want) == want) v->uma = 1;
		}
	}
	if (env_true("LMDD_VK_NO_UMA")) v->uma = 0;   /* test the staging path */
	memcpy(v->max_wg, L->maxComputeWorkGroupCount, sizeof v->max_wg);
	const char *mx = getenv("LMDD_VK_TEST_MAX_WG_X");   /* tests: force split dispatches */
	if (mx && parse_index(mx) > 0 && (uint32_t)parse_index(mx) < v->max_wg[0])
		v->max_wg[0] = (uint32_t)parse_index(mx);
	v->max_stride_wg = t == VK_PHYSICAL_DEVICE_TYPE_CPU ? 64 : 2048;
	const char *ct = getenv("LMDD_VK_CONV_TILE");
	v->conv_tile = ct && strcmp(ct, "32") == 0 ? 32 : ct && strcmp(ct, "64") == 0 ? 64 : 0;
	if (v->max_stride_wg > v->max_wg[0]) v->max_stride_wg = v->max_wg[0];

	VkCommandPoolCreateInfo cpi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = v->qfam,
		.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
	};
	r = vkCreateCommandPool(v->dev, &cpi, NULL, &v->cpool);
	if (r != VK_SUCCESS) return vkerr(r, "vkCreateCommandPool");
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = v->cpool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1,
	};
	r = vkAllocateCommandBuffers(v->dev, &cai, &v->cb);
	if (r != VK_SUCCESS) return vkerr(r, "vkAllocateCommandBuffers");
	VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	r = vkCreateFence(v->dev, &fi, NULL, &v->fence);
	if (r != VK_SUCCESS) return vkerr(r, "vkCreateFence");

	if ((e = make_pipelines(v))) return e;

	v->dummy = calloc(1, sizeof *v->dummy);
	if (!v->dummy) return lmd_seterr(LMD_ERR_NOMEM, "vulkan: out of memory");
	v->dummy->n = 4;
	void *dm = NULL;
	if ((e = make_buffer(v, 16, 0, &v->dummy->buf, &v->dummy->mem, &dm))) return e;
	if (dm) vkUnmapMemory(v->dev, v->dummy->mem);

	v->stage_cap = STAGE_MIN;
	void *sm = NULL;
	if ((e = make_buffer(v, v->stage_cap, 1, &v->stage, &v->stage_mem, &sm))) return e;
	v->stage_map = sm;
	v->epoch = 1;
	return LMD_OK;
}

lmd_err lmd_vk_backend_new(int device, const char *name, lmd_be **out)
{
	return lmd_vk_backend_new_prec(device, name, 0, out);
}

lmd_err lmd_vk_backend_new_prec(int device, const char *name, int reduced, lmd_be **out)
{
	*out = NULL;
	vkbe *v = calloc(1, sizeof *v);
	if (!v) return lmd_seterr(LMD_ERR_NOMEM, "vulkan: out of memory");
	v->be.ops = &vk_ops;
	lmd_err e = init(v, device, name, reduced);
	if (e) {
		vk_destroy(&v->be);
		return e;
	}
	v->be.on_cpu = v->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
	*out = &v->be;
	return LMD_OK;
}
