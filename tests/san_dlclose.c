/*
 * san_dlclose.c — linked into the sanitizer build only (make SAN=1): makes
 * dlclose() a no-op, so the shared objects the Vulkan loader opens (the
 * driver, e.g. Mesa's lavapipe) stay mapped until the process exits.
 *
 * Why: LeakSanitizer looks for unreferenced heap blocks at exit. A driver
 * that keeps a heap block only in its own static data, and is unloaded
 * before then, leaves the block unreferenced: "Direct leak of 128 byte(s)
 * ... (<unknown module>)", a report that cannot even name the library,
 * since it is gone. Seen on every vkDestroyInstance with Debian 12's Mesa
 * 22.3.6-1+deb12u2 lavapipe (the loader dlcloses the driver there); with the
 * driver kept mapped the block is reachable and nothing is reported. A real
 * leak, ours or a driver's, is still reported, now with the driver's
 * symbols. Nothing in lmdd relies on a library being unloaded.
 */
#include <dlfcn.h>

int dlclose(void *handle)
{
	(void)handle;
	return 0;
}
