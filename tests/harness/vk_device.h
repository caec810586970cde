/* A Vulkan device of the test's own, as an application in another process
 * would open it: what the tests' Vulkan consumers (vk_consumer.h,
 * vk_render.h, test_misuse_vk.c) are built on, and what an interop_fd
 * importer is created on. Not included by test_util.h: only programs that
 * link the kit's Vulkan (tools/common/vk_kit.h) use it. */
#ifndef IFD_TEST_VK_DEVICE_H
#define IFD_TEST_VK_DEVICE_H

#include <string.h>

#include "common/vk_kit.h"
#include "interop_fd/vulkan.h"

typedef struct {
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t family;
} test_vk_device;

/* What ifd_vk_importer_create needs to know of d (the library's own
 * vkGetInstanceProcAddr). */
static inline ifd_vk_device_info test_vk_device_info(const test_vk_device *d) {
  return (ifd_vk_device_info){.instance = d->instance,
                              .physical_device = d->physical,
                              .device = d->device,
                              .queue_family_index = d->family};
}

/* Destroys the device and the instance, those that exist; everything made
 * on the device must be destroyed (and idle) first. */
static inline void test_vk_device_destroy(test_vk_device *d) {
  if (d->device) vkDestroyDevice(d->device, NULL);
  if (d->instance) vkDestroyInstance(d->instance, NULL);
  memset(d, 0, sizeof(*d));
}

#endif
