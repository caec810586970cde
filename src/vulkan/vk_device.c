#include "vk_device.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *vk_result_name(VkResult r) {
  switch (r) {
#define CASE(x) case x: return #x;
    CASE(VK_SUCCESS) CASE(VK_NOT_READY) CASE(VK_TIMEOUT) CASE(VK_INCOMPLETE)
    CASE(VK_ERROR_OUT_OF_HOST_MEMORY) CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    CASE(VK_ERROR_INITIALIZATION_FAILED) CASE(VK_ERROR_DEVICE_LOST)
    CASE(VK_ERROR_MEMORY_MAP_FAILED) CASE(VK_ERROR_LAYER_NOT_PRESENT)
    CASE(VK_ERROR_EXTENSION_NOT_PRESENT) CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    CASE(VK_ERROR_INCOMPATIBLE_DRIVER) CASE(VK_ERROR_TOO_MANY_OBJECTS)
    CASE(VK_ERROR_FORMAT_NOT_SUPPORTED) CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
#undef CASE
    default: return "VkResult(other)";
  }
}

int ifd_vk_fail(VkResult r, const char *what) {
  int err;
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: err = -ENOMEM; break;
    case VK_ERROR_INITIALIZATION_FAILED:
    case VK_ERROR_INCOMPATIBLE_DRIVER: err = -ENODEV; break;
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_FORMAT_NOT_SUPPORTED: err = -EOPNOTSUPP; break;
    case VK_ERROR_TOO_MANY_OBJECTS: err = -EMFILE; break;
    case VK_ERROR_INVALID_EXTERNAL_HANDLE: err = -EINVAL; break;
    case VK_TIMEOUT: err = -ETIMEDOUT; break;
    default: err = -EIO; break;
  }
  return ifd_fail(err, "%s: %s (%d)", what, vk_result_name(r), (int)r);
}

int ifd_vk_memory_type(const ifd_vk_device *d, uint32_t type_bits, VkMemoryPropertyFlags want) {
  for (uint32_t i = 0; i < d->memory.memoryTypeCount; i++)
    if ((type_bits & (1u << i)) && (d->memory.memoryTypes[i].propertyFlags & want) == want)
      return (int)i;
  return -1;
}

static int first_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t type_bits,
                      const VkMemoryPropertyFlags *prefer, size_t n) {
  for (size_t p = 0; p < n; p++)
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
      if ((type_bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & prefer[p]) == prefer[p])
        return (int)i;
  return -1;
}

int ifd_vk_shared_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t type_bits) {
  static const VkMemoryPropertyFlags prefer[] = {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0};
  return first_type(mp, type_bits, prefer, IFD_ARRAY_LEN(prefer));
}

int ifd_vk_export_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t buffer_bits,
                              uint32_t linear_image_bits) {
  static const VkMemoryPropertyFlags local[] = {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT};
  int type = first_type(mp, buffer_bits & linear_image_bits, local, 1);
  return type >= 0 ? type : first_type(mp, buffer_bits, local, 1);
}

int ifd_vk_linear_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t type_bits) {
  static const VkMemoryPropertyFlags prefer[] = {
      VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT};
  return first_type(mp, type_bits, prefer, IFD_ARRAY_LEN(prefer));
}

static bool has_extension(const VkExtensionProperties *exts, uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(exts[i].extensionName, name) == 0) return true;
  return false;
}

static int load_loader(ifd_vk_device *d, PFN_vkGetInstanceProcAddr *gipa) {
  static const char *const names[] = {"libvulkan.so.1", "libvulkan.so"};
  for (size_t i = 0; i < IFD_ARRAY_LEN(names) && !d->loader; i++)
    d->loader = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!d->loader)
    return ifd_fail(-ENODEV, "cannot load the Vulkan loader libvulkan.so.1 (%s); install "
                             "libvulkan1", dlerror());
  *gipa = (PFN_vkGetInstanceProcAddr)dlsym(d->loader, "vkGetInstanceProcAddr");
  if (!*gipa) return ifd_fail(-ENODEV, "libvulkan.so.1 has no vkGetInstanceProcAddr");
  return 0;
}

static int create_instance(ifd_vk_device *d, PFN_vkGetInstanceProcAddr gipa) {
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
  PFN_vkEnumerateInstanceVersion version =
      (PFN_vkEnumerateInstanceVersion)gipa(NULL, "vkEnumerateInstanceVersion");
  uint32_t v = VK_API_VERSION_1_0;
  if (!create) return ifd_fail(-ENODEV, "the Vulkan loader has no vkCreateInstance");
  if (version) version(&v);
  if (v < VK_API_VERSION_1_2)
    return ifd_fail(-ENODEV, "the Vulkan loader supports %u.%u; interop_fd needs 1.2",
                    VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v));
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "interop_fd",
                           .pEngineName = "interop_fd",
                           .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                             .pApplicationInfo = &app};
  VkResult r = create(&ci, NULL, &d->instance);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateInstance");
  const char *missing = NULL;
#define IFD_VK_LOAD(name) \
  if (!(d->fn.name = (PFN_##name)gipa(d->instance, #name)) && !missing) missing = #name;
  IFD_VK_INSTANCE_FNS(IFD_VK_LOAD)
#undef IFD_VK_LOAD
  if (missing) return ifd_fail(-ENODEV, "the Vulkan loader lacks %s", missing);
  return 0;
}

static int pick_physical(ifd_vk_device *d, int index, const uint8_t *uuid) {
  uint32_t n = 0;
  VkResult r = d->fn.vkEnumeratePhysicalDevices(d->instance, &n, NULL);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkEnumeratePhysicalDevices");
  if (n == 0) return ifd_fail(-ENODEV, "no Vulkan device found (is a driver installed?)");
  VkPhysicalDevice *list = calloc(n, sizeof(*list));
  if (!list) return ifd_fail(-ENOMEM, "out of host memory");
  r = d->fn.vkEnumeratePhysicalDevices(d->instance, &n, list);
  int rc = 0;
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
    rc = ifd_vk_fail(r, "vkEnumeratePhysicalDevices");
  } else if (uuid) {
    d->physical = VK_NULL_HANDLE;
    for (uint32_t i = 0; i < n && !d->physical; i++) {
      VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
      VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                        .pNext = &id};
      d->fn.vkGetPhysicalDeviceProperties2(list[i], &p2);
      if (memcmp(id.deviceUUID, uuid, 16) == 0) d->physical = list[i];
    }
    if (!d->physical) rc = ifd_fail(-ENODEV, "no Vulkan device has the requested device UUID");
  } else if ((uint32_t)index >= n) {
    rc = ifd_fail(-ENODEV, "Vulkan device %d requested, %u present", index, n);
  } else {
    d->physical = list[index];
  }
  free(list);
  return rc;
}

static void probe_timeline_export(ifd_vk_device *d, bool has_sem_fd, bool timeline_feature) {
  if (!timeline_feature) {
    snprintf(d->timeline_why_not, sizeof(d->timeline_why_not),
             "%s has no timeline semaphores (Vulkan 1.2 timelineSemaphore feature)",
             d->props.deviceName);
    return;
  }
  if (!has_sem_fd) {
    snprintf(d->timeline_why_not, sizeof(d->timeline_why_not),
             "%s (%s) cannot export semaphores as fds: it lacks VK_KHR_external_semaphore_fd",
             d->props.deviceName, d->driver_name);
    return;
  }
  VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                    .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
  VkPhysicalDeviceExternalSemaphoreInfo info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .pNext = &type,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkExternalSemaphoreProperties props = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES};
  d->fn.vkGetPhysicalDeviceExternalSemaphoreProperties(d->physical, &info, &props);
  d->can_export_timeline =
      (props.externalSemaphoreFeatures & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT) != 0;
  d->can_import_timeline =
      (props.externalSemaphoreFeatures & VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT) != 0;
  if (!d->can_export_timeline)
    snprintf(d->timeline_why_not, sizeof(d->timeline_why_not),
             "%s (%s) cannot export timeline semaphores as OPAQUE_FD", d->props.deviceName,
             d->driver_name);
}

static int create_device(ifd_vk_device *d) {
  VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceDriverProperties drv = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &id};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &drv};
  d->fn.vkGetPhysicalDeviceProperties2(d->physical, &p2);
  d->props = p2.properties;
  memcpy(d->uuid, id.deviceUUID, 16);
  snprintf(d->driver_name, sizeof(d->driver_name), "%s", drv.driverName);
  d->fn.vkGetPhysicalDeviceMemoryProperties(d->physical, &d->memory);
  if (d->props.apiVersion < VK_API_VERSION_1_2)
    return ifd_fail(-ENODEV, "%s supports Vulkan %u.%u; interop_fd needs 1.2",
                    d->props.deviceName, VK_API_VERSION_MAJOR(d->props.apiVersion),
                    VK_API_VERSION_MINOR(d->props.apiVersion));

  uint32_t next = 0;
  VkResult r = d->fn.vkEnumerateDeviceExtensionProperties(d->physical, NULL, &next, NULL);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkEnumerateDeviceExtensionProperties");
  VkExtensionProperties *exts = calloc(next ? next : 1, sizeof(*exts));
  if (!exts) return ifd_fail(-ENOMEM, "out of host memory");
  r = d->fn.vkEnumerateDeviceExtensionProperties(d->physical, NULL, &next, exts);
  bool has_mem_fd = has_extension(exts, next, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
  bool has_sem_fd = has_extension(exts, next, VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME);
  d->has_dma_buf = has_extension(exts, next, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME);
  free(exts);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkEnumerateDeviceExtensionProperties");
  if (!has_mem_fd)
    return ifd_fail(-EOPNOTSUPP, "%s lacks VK_KHR_external_memory_fd: it cannot export memory "
                                 "as an fd", d->props.deviceName);

  VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                  .pNext = &f12};
  d->fn.vkGetPhysicalDeviceFeatures2(d->physical, &f2);
  probe_timeline_export(d, has_sem_fd, f12.timelineSemaphore);

  uint32_t nq = 0;
  d->fn.vkGetPhysicalDeviceQueueFamilyProperties(d->physical, &nq, NULL);
  VkQueueFamilyProperties qf[16];
  if (nq > 16) nq = 16;
  d->fn.vkGetPhysicalDeviceQueueFamilyProperties(d->physical, &nq, qf);
  uint32_t family = UINT32_MAX;
  for (uint32_t i = 0; i < nq && family == UINT32_MAX; i++)
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = i;
  if (family == UINT32_MAX)
    return ifd_fail(-ENODEV, "%s has no compute queue", d->props.deviceName);
  d->queue_family = family;

  const char *enable[3];
  uint32_t n_enable = 0;
  enable[n_enable++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
  if (has_sem_fd) enable[n_enable++] = VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME;
  if (d->has_dma_buf) enable[n_enable++] = VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME;
  VkPhysicalDeviceVulkan12Features want12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .timelineSemaphore = f12.timelineSemaphore};
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &priority};
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .pNext = &want12,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &qci,
                            .enabledExtensionCount = n_enable,
                            .ppEnabledExtensionNames = enable};
  r = d->fn.vkCreateDevice(d->physical, &dci, NULL, &d->device);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateDevice");

  const char *missing = NULL;
#define IFD_VK_LOAD(name)                                                                    \
  if (!(d->fn.name = (PFN_##name)d->fn.vkGetDeviceProcAddr(d->device, #name)) && !missing) \
    missing = #name;
  IFD_VK_DEVICE_FNS(IFD_VK_LOAD)
#undef IFD_VK_LOAD
  if (missing) return ifd_fail(-ENODEV, "the Vulkan driver lacks %s", missing);
  if (has_sem_fd) {
#define IFD_VK_LOAD(name) d->fn.name = (PFN_##name)d->fn.vkGetDeviceProcAddr(d->device, #name);
    IFD_VK_SEMAPHORE_FD_FNS(IFD_VK_LOAD)
#undef IFD_VK_LOAD
    if (!d->fn.vkGetSemaphoreFdKHR || !d->fn.vkImportSemaphoreFdKHR) {
      d->can_export_timeline = d->can_import_timeline = false;
      snprintf(d->timeline_why_not, sizeof(d->timeline_why_not),
               "%s lists VK_KHR_external_semaphore_fd but lacks its entry points",
               d->props.deviceName);
    }
  }
  d->fn.vkGetDeviceQueue(d->device, family, 0, &d->queue);
  return 0;
}

static int create_commands(ifd_vk_device *d) {
  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                 .queueFamilyIndex = d->queue_family};
  VkResult r = d->fn.vkCreateCommandPool(d->device, &pci, NULL, &d->pool);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateCommandPool");
  VkCommandBuffer cmds[2];
  VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                    .commandPool = d->pool,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                    .commandBufferCount = 2};
  r = d->fn.vkAllocateCommandBuffers(d->device, &ai, cmds);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkAllocateCommandBuffers");
  d->cmd = cmds[0];
  d->barrier_cmd = cmds[1];
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  r = d->fn.vkCreateFence(d->device, &fci, NULL, &d->fence);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateFence");

  /* A semaphore wait only orders the commands of its own batch; this barrier,
   * submitted in the waiting batch, extends the wait to everything after. */
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT};
  r = d->fn.vkBeginCommandBuffer(d->barrier_cmd, &bi);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkBeginCommandBuffer");
  VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                        .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
                        .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT};
  d->fn.vkCmdPipelineBarrier(d->barrier_cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                             VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
  r = d->fn.vkEndCommandBuffer(d->barrier_cmd);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkEndCommandBuffer");
  return 0;
}

int ifd_vk_device_open(ifd_vk_device *d, int device_index, const uint8_t *uuid) {
  memset(d, 0, sizeof(*d));
  PFN_vkGetInstanceProcAddr gipa = NULL;
  int rc = load_loader(d, &gipa);
  if (rc == 0) rc = create_instance(d, gipa);
  if (rc == 0) rc = pick_physical(d, device_index, uuid);
  if (rc == 0) rc = create_device(d);
  if (rc == 0) rc = create_commands(d);
  if (rc != 0) ifd_vk_device_close(d);
  return rc;
}

void ifd_vk_device_close(ifd_vk_device *d) {
  if (d->device) {
    d->fn.vkDeviceWaitIdle(d->device);
    if (d->fence) d->fn.vkDestroyFence(d->device, d->fence, NULL);
    if (d->pool) d->fn.vkDestroyCommandPool(d->device, d->pool, NULL);
    d->fn.vkDestroyDevice(d->device, NULL);
  }
  if (d->instance) d->fn.vkDestroyInstance(d->instance, NULL);
  if (d->loader) dlclose(d->loader);
  memset(d, 0, sizeof(*d));
}

void ifd_vk_device_fill_native(const ifd_vk_device *d, ifd_context_native *out) {
  out->vk_instance = (void *)d->instance;
  out->vk_physical_device = (void *)d->physical;
  out->vk_device = (void *)d->device;
  out->vk_queue = (void *)d->queue;
  out->vk_queue_family = d->queue_family;
  memcpy(out->device_uuid, d->uuid, 16);
  snprintf(out->device_name, sizeof(out->device_name), "%s", d->props.deviceName);
}

int ifd_vk_submit_and_wait(ifd_vk_device *d, VkCommandBuffer cmd) {
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                     .commandBufferCount = 1,
                     .pCommandBuffers = &cmd};
  VkResult r = d->fn.vkResetFences(d->device, 1, &d->fence);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkResetFences");
  r = d->fn.vkQueueSubmit(d->queue, 1, &si, d->fence);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkQueueSubmit");
  r = d->fn.vkWaitForFences(d->device, 1, &d->fence, VK_TRUE, UINT64_MAX);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkWaitForFences");
  return 0;
}

/* The pitch and minimum size of the device's own linear image of this format
 * and size, so a consumer can alias a VK_IMAGE_TILING_LINEAR image onto the
 * exported memory. Returns false where the device has no such image. */
static bool linear_layout(ifd_vk_device *d, const ifd_image *image, uint64_t *pitch,
                          uint64_t *size, uint32_t *type_bits) {
  VkPhysicalDeviceExternalImageFormatInfo ext = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkPhysicalDeviceImageFormatInfo2 fi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .pNext = &ext,
      .format = (VkFormat)image->info->vk_format,
      .type = VK_IMAGE_TYPE_2D,
      .tiling = VK_IMAGE_TILING_LINEAR,
      .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT};
  VkExternalImageFormatProperties eprops = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES};
  VkImageFormatProperties2 props = {.sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
                                    .pNext = &eprops};
  if (d->fn.vkGetPhysicalDeviceImageFormatProperties2(d->physical, &fi, &props) != VK_SUCCESS)
    return false;
  VkExtent3D max = props.imageFormatProperties.maxExtent;
  if (image->width > max.width || image->height > max.height) return false;

  VkExternalMemoryImageCreateInfo eci = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkImageCreateInfo ci = ifd_vk_image_2d(&eci, fi.format, image->width, image->height,
                                         VK_IMAGE_TILING_LINEAR, fi.usage);
  VkImage probe;
  if (d->fn.vkCreateImage(d->device, &ci, NULL, &probe) != VK_SUCCESS) return false;
  VkImageSubresource sub = {.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT};
  VkSubresourceLayout layout;
  VkMemoryRequirements req;
  d->fn.vkGetImageSubresourceLayout(d->device, probe, &sub, &layout);
  d->fn.vkGetImageMemoryRequirements(d->device, probe, &req);
  d->fn.vkDestroyImage(d->device, probe, NULL);
  uint32_t bpp = image->info->bytes_per_pixel;
  if (layout.offset != 0 || layout.rowPitch < (uint64_t)image->width * bpp ||
      layout.rowPitch % bpp != 0 || layout.rowPitch > UINT32_MAX)
    return false;
  *pitch = layout.rowPitch;
  *size = req.size;
  *type_bits = req.memoryTypeBits;
  return true;
}

void ifd_vk_image_layout(ifd_vk_device *d, const ifd_image *image, uint64_t granularity,
                         uint64_t *pitch, uint64_t *size, uint32_t *type_bits) {
  uint64_t linear_size = 0;
  *pitch = (((uint64_t)image->width * image->info->bytes_per_pixel) + 255) / 256 * 256;
  *type_bits = UINT32_MAX;
  if (d) linear_layout(d, image, pitch, &linear_size, type_bits);
  /* Some drivers (llvmpipe) pad linear images to a multiple of 4 rows. */
  uint64_t s = *pitch * ((image->height + 3u) / 4u * 4u);
  if (linear_size > s) s = linear_size;
  *size = (s + granularity - 1) / granularity * granularity;
}
