/* The self-test's proof that frames reach the consumer with no CPU copy:
 * every entry point through which interop_fd could copy or map frame memory
 * on the host is interposed and counted (the CUDA driver table the library
 * loaded, the Vulkan importer's vkGetInstanceProcAddr, the GL importer's
 * get_proc). Device-side copies (the COPY paths) are counted separately. */
#ifndef IFD_TOOLS_COPY_COUNT_H
#define IFD_TOOLS_COPY_COUNT_H

#include <vulkan/vulkan.h>

#include "interop_fd/gl.h"

/* Reroutes the library's CUDA table (no-op without libcuda). Idempotent. */
void copy_count_interpose_cuda(void);
/* To pass as the importers' loaders (present_config). */
PFN_vkVoidFunction VKAPI_CALL copy_count_gipa(VkInstance instance, const char *name);
ifd_gl_proc copy_count_get_proc(const char *name);

void copy_count_reset(void);
long copy_count_host(void);   /* host <-> device copies or host mappings */
long copy_count_device(void); /* device-side copies */

#endif
