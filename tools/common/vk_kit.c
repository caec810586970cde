#include "common/vk_kit.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tool_error.h"

#define VK_KIT_DEFINE_(name) PFN_##name name;
PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
VK_KIT_GLOBAL_COMMANDS(VK_KIT_DEFINE_)
VK_KIT_INSTANCE_COMMANDS(VK_KIT_DEFINE_)
VK_KIT_DEVICE_COMMANDS(VK_KIT_DEFINE_)
#undef VK_KIT_DEFINE_

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *loader;

int vk_kit_load(void) {
  pthread_mutex_lock(&lock);
  int rc = 0;
  if (!loader) {
    void *lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    PFN_vkGetInstanceProcAddr gipa =
        lib ? (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr") : NULL;
    if (!gipa) {
      rc = tool_fail(-ENOENT, "no Vulkan loader is installed (libvulkan.so.1: %s)",
                     lib ? "no vkGetInstanceProcAddr" : dlerror());
      if (lib) dlclose(lib);
    } else {
      vkGetInstanceProcAddr = gipa;
#define LOAD_(name) name = (PFN_##name)gipa(VK_NULL_HANDLE, #name);
      VK_KIT_GLOBAL_COMMANDS(LOAD_)
#undef LOAD_
      loader = lib;
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

void vk_kit_load_instance(VkInstance instance) {
  if (!instance || !vkGetInstanceProcAddr) return;
  pthread_mutex_lock(&lock);
#define LOAD_(name)                                                          \
  {                                                                          \
    PFN_##name f_ = (PFN_##name)vkGetInstanceProcAddr(instance, #name);      \
    if (f_ && f_ != name) name = f_;                                         \
  }
  VK_KIT_INSTANCE_COMMANDS(LOAD_)
  VK_KIT_DEVICE_COMMANDS(LOAD_)
#undef LOAD_
  pthread_mutex_unlock(&lock);
}

void vk_kit_load_device(VkDevice device) {
  if (!device || !vkGetDeviceProcAddr) return;
  pthread_mutex_lock(&lock);
#define LOAD_(name) \
  if (!name) name = (PFN_##name)vkGetDeviceProcAddr(device, #name);
  VK_KIT_DEVICE_COMMANDS(LOAD_)
#undef LOAD_
  pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------ errors */

const char *vk_kit_result_name(VkResult r) {
  switch (r) {
#define NAME_(x) \
  case x:        \
    return #x;
    NAME_(VK_SUCCESS)
    NAME_(VK_NOT_READY)
    NAME_(VK_TIMEOUT)
    NAME_(VK_EVENT_SET)
    NAME_(VK_EVENT_RESET)
    NAME_(VK_INCOMPLETE)
    NAME_(VK_SUBOPTIMAL_KHR)
    NAME_(VK_ERROR_OUT_OF_HOST_MEMORY)
    NAME_(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME_(VK_ERROR_INITIALIZATION_FAILED)
    NAME_(VK_ERROR_DEVICE_LOST)
    NAME_(VK_ERROR_MEMORY_MAP_FAILED)
    NAME_(VK_ERROR_LAYER_NOT_PRESENT)
    NAME_(VK_ERROR_EXTENSION_NOT_PRESENT)
    NAME_(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME_(VK_ERROR_INCOMPATIBLE_DRIVER)
    NAME_(VK_ERROR_TOO_MANY_OBJECTS)
    NAME_(VK_ERROR_FORMAT_NOT_SUPPORTED)
    NAME_(VK_ERROR_FRAGMENTED_POOL)
    NAME_(VK_ERROR_UNKNOWN)
    NAME_(VK_ERROR_OUT_OF_POOL_MEMORY)
    NAME_(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    NAME_(VK_ERROR_FRAGMENTATION)
    NAME_(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    NAME_(VK_ERROR_SURFACE_LOST_KHR)
    NAME_(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR)
    NAME_(VK_ERROR_OUT_OF_DATE_KHR)
    NAME_(VK_ERROR_VALIDATION_FAILED_EXT)
#undef NAME_
  default: {
    static _Thread_local char buf[32];
    snprintf(buf, sizeof(buf), "VkResult %d", (int)r);
    return buf;
  }
  }
}

int vk_kit_errno(VkResult r) {
  switch (r) {
  case VK_SUCCESS: return 0;
  case VK_ERROR_OUT_OF_HOST_MEMORY:
  case VK_ERROR_OUT_OF_DEVICE_MEMORY:
  case VK_ERROR_OUT_OF_POOL_MEMORY:
  case VK_ERROR_FRAGMENTED_POOL:
  case VK_ERROR_FRAGMENTATION:
  case VK_ERROR_MEMORY_MAP_FAILED: return -ENOMEM;
  case VK_ERROR_LAYER_NOT_PRESENT:
  case VK_ERROR_EXTENSION_NOT_PRESENT:
  case VK_ERROR_FEATURE_NOT_PRESENT:
  case VK_ERROR_FORMAT_NOT_SUPPORTED: return -EOPNOTSUPP;
  case VK_ERROR_INCOMPATIBLE_DRIVER:
  case VK_ERROR_SURFACE_LOST_KHR: return -ENODEV;
  case VK_ERROR_INVALID_EXTERNAL_HANDLE: return -EBADF;
  case VK_ERROR_NOT_PERMITTED_KHR: return -EPERM;
  case VK_TIMEOUT: return -ETIMEDOUT;
  case VK_NOT_READY: return -EAGAIN;
  default: return -EIO;
  }
}

int vk_kit_fail(VkResult r, const char *what) {
  return tool_fail(vk_kit_errno(r), "%s: %s", what, vk_kit_result_name(r));
}

/* ------------------------------------------------------------------ set-up */

int vk_kit_create_instance(const char *app_name, uint32_t api_version,
                           const char *const *extensions, uint32_t extension_count,
                           VkInstance *out) {
  *out = VK_NULL_HANDLE;
  int rc = vk_kit_load();
  if (rc != 0) return rc;
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = app_name,
                           .apiVersion = api_version ? api_version : VK_API_VERSION_1_2};
  VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                              .pApplicationInfo = &app,
                              .enabledExtensionCount = extension_count,
                              .ppEnabledExtensionNames = extensions};
  VkResult r = vkCreateInstance(&ici, NULL, out);
  if (r != VK_SUCCESS) {
    *out = VK_NULL_HANDLE;
    return tool_fail(-ENODEV, "no Vulkan instance (no driver?): %s", vk_kit_result_name(r));
  }
  vk_kit_load_instance(*out);
  return 0;
}

int vk_kit_pick_physical(VkInstance instance, const uint8_t *uuid, VkPhysicalDevice *out,
                         VkPhysicalDeviceProperties *props) {
  *out = VK_NULL_HANDLE;
  VkPhysicalDevice devs[16];
  uint32_t n = 16;
  VkResult r = vkEnumeratePhysicalDevices(instance, &n, devs);
  if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0)
    return tool_fail(-ENODEV, "no Vulkan physical device");
  for (uint32_t i = 0; i < n; i++) {
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &id};
    if (uuid) {
      vkGetPhysicalDeviceProperties2(devs[i], &p2);
      if (memcmp(id.deviceUUID, uuid, VK_UUID_SIZE) != 0) continue;
    } else {
      vkGetPhysicalDeviceProperties(devs[i], &p2.properties);
    }
    if (props) *props = p2.properties;
    *out = devs[i];
    return 0;
  }
  return tool_fail(-EXDEV, "no Vulkan device has the producer's device UUID");
}

bool vk_kit_has_device_extension(VkPhysicalDevice physical, const char *name) {
  uint32_t n = 0;
  if (vkEnumerateDeviceExtensionProperties(physical, NULL, &n, NULL) != VK_SUCCESS) return false;
  VkExtensionProperties *e = calloc(n ? n : 1, sizeof(*e));
  if (!e) return false;
  bool found = false;
  if (vkEnumerateDeviceExtensionProperties(physical, NULL, &n, e) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
  free(e);
  return found;
}

int vk_kit_enable_extensions(VkPhysicalDevice physical, const char *const *names, uint32_t n,
                             uint32_t required, const char **enable, uint32_t *count) {
  for (uint32_t i = 0; i < n; i++) {
    if (vk_kit_has_device_extension(physical, names[i])) {
      enable[(*count)++] = names[i];
    } else if (i < required) {
      VkPhysicalDeviceProperties props;
      vkGetPhysicalDeviceProperties(physical, &props);
      return tool_fail(-ENODEV, "%s has no %s", props.deviceName, names[i]);
    }
  }
  return 0;
}

int vk_kit_queue_family(VkPhysicalDevice physical, VkQueueFlags any, uint32_t *out) {
  VkQueueFamilyProperties qf[16];
  uint32_t n = 16;
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &n, qf);
  for (uint32_t i = 0; i < n; i++)
    if (qf[i].queueFlags & any) {
      *out = i;
      return 0;
    }
  *out = UINT32_MAX;
  return tool_fail(-ENODEV, "no queue family with flags 0x%x", (unsigned)any);
}

int vk_kit_create_device(const vk_kit_device_config *cfg, VkDevice *device, VkQueue *queue) {
  *device = VK_NULL_HANDLE;
  float prio = 1.0f;
  VkDeviceQueueGlobalPriorityCreateInfoKHR gp = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_GLOBAL_PRIORITY_CREATE_INFO_KHR,
      .globalPriority = cfg->priority};
  VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .pNext = cfg->priority ? &gp : NULL,
                                 .queueFamilyIndex = cfg->family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &prio};
  /* The feature chain: 1.2's, 1.3's (each if asked for), then the caller's. */
  const void *chain = cfg->features;
  VkPhysicalDeviceVulkan13Features f13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                          .pNext = (void *)chain,
                                          .dynamicRendering = VK_TRUE};
  if (cfg->dynamic_rendering) chain = &f13;
  VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                          .pNext = (void *)chain,
                                          .timelineSemaphore = VK_TRUE};
  if (cfg->timelines) chain = &f12;
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .pNext = chain,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &qci,
                            .enabledExtensionCount = cfg->extension_count,
                            .ppEnabledExtensionNames = cfg->extensions};
  VkResult r = vkCreateDevice(cfg->physical, &dci, NULL, device);
  if (r != VK_SUCCESS) {
    *device = VK_NULL_HANDLE;
    return vk_kit_fail(r, "vkCreateDevice");
  }
  vk_kit_load_device(*device);
  vkGetDeviceQueue(*device, cfg->family, 0, queue);
  return 0;
}

const char *vk_kit_priority_name(VkQueueGlobalPriorityKHR p) {
  switch (p) {
  case VK_QUEUE_GLOBAL_PRIORITY_REALTIME_KHR: return "REALTIME";
  case VK_QUEUE_GLOBAL_PRIORITY_HIGH_KHR: return "HIGH";
  case VK_QUEUE_GLOBAL_PRIORITY_MEDIUM_KHR: return "MEDIUM";
  case VK_QUEUE_GLOBAL_PRIORITY_LOW_KHR: return "LOW";
  default: return "default";
  }
}

int vk_kit_create_device_prioritized(const vk_kit_device_config *cfg, VkQueueGlobalPriorityKHR want,
                                     VkQueueGlobalPriorityKHR *got, char *why, size_t why_size,
                                     VkDevice *device, VkQueue *queue) {
  *got = 0;
  const char *ext = vk_kit_has_device_extension(cfg->physical, VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME)
                        ? VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME
                    : vk_kit_has_device_extension(cfg->physical, VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME)
                        ? VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME
                        : NULL;
  if (!ext) {
    snprintf(why, why_size, "the device has neither %s nor %s", VK_KHR_GLOBAL_PRIORITY_EXTENSION_NAME,
             VK_EXT_GLOBAL_PRIORITY_EXTENSION_NAME);
    return vk_kit_create_device(cfg, device, queue);
  }
  const char *names[16];
  if (cfg->extension_count >= 16) return tool_fail(-E2BIG, "vk_kit: too many device extensions");
  for (uint32_t i = 0; i < cfg->extension_count; i++) names[i] = cfg->extensions[i];
  names[cfg->extension_count] = ext;
  vk_kit_device_config c = *cfg;
  c.extensions = names;
  c.extension_count = cfg->extension_count + 1;
  for (c.priority = want; c.priority >= VK_QUEUE_GLOBAL_PRIORITY_HIGH_KHR; c.priority /= 2) {
    int rc = vk_kit_create_device(&c, device, queue);
    if (rc == 0) {
      *got = c.priority;
      if (c.priority == want) why[0] = '\0'; /* else why names the refusal above it */
      return 0;
    }
    /* VK_ERROR_NOT_PERMITTED is the answer the extensions name; a driver
     * may refuse a priority its queue family lacks otherwise. Either way the
     * default queue is what is left. */
    snprintf(why, why_size, "%s: %s refused (%s)", ext, vk_kit_priority_name(c.priority),
             tool_last_error());
  }
  return vk_kit_create_device(cfg, device, queue);
}

int vk_kit_commands(VkDevice device, uint32_t family, uint32_t count, VkCommandPool *pool,
                    VkCommandBuffer *cmds, VkFence *fences, bool signaled) {
  for (uint32_t i = 0; fences && i < count; i++) fences[i] = VK_NULL_HANDLE;
  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                 .queueFamilyIndex = family};
  VK_KIT_TRY(vkCreateCommandPool(device, &pci, NULL, pool));
  VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = *pool,
                                     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = count};
  VK_KIT_TRY(vkAllocateCommandBuffers(device, &cai, cmds));
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
                           .flags = signaled ? VK_FENCE_CREATE_SIGNALED_BIT : 0};
  for (uint32_t i = 0; fences && i < count; i++) VK_KIT_TRY(vkCreateFence(device, &fci, NULL, &fences[i]));
  return 0;
}

int vk_kit_memory_type(VkPhysicalDevice physical, uint32_t bits, VkMemoryPropertyFlags want) {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(physical, &mp);
  for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
    if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return (int)i;
  return tool_fail(-ENOENT, "no memory type with flags 0x%x among types 0x%x", (unsigned)want,
                   (unsigned)bits);
}

int vk_kit_allocate(VkPhysicalDevice physical, VkDevice device, const VkMemoryRequirements *req,
                    VkMemoryPropertyFlags want, VkDeviceMemory *out) {
  int type = vk_kit_memory_type(physical, req->memoryTypeBits, want);
  if (type < 0) return type;
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req->size,
                             .memoryTypeIndex = (uint32_t)type};
  VkResult r = vkAllocateMemory(device, &ai, NULL, out);
  return r == VK_SUCCESS ? 0 : vk_kit_fail(r, "vkAllocateMemory");
}

int vk_kit_descriptor_sets(VkDevice device, VkDescriptorPool pool, VkDescriptorSetLayout layout,
                           uint32_t count, VkDescriptorSet *sets) {
  VkDescriptorSetLayout layouts[VK_KIT_MAX_SETS];
  if (count > VK_KIT_MAX_SETS)
    return tool_fail(-EINVAL, "%u descriptor sets asked for, at most %u", count, VK_KIT_MAX_SETS);
  for (uint32_t i = 0; i < count; i++) layouts[i] = layout;
  VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                     .descriptorPool = pool,
                                     .descriptorSetCount = count,
                                     .pSetLayouts = layouts};
  VK_KIT_TRY(vkAllocateDescriptorSets(device, &dai, sets));
  return 0;
}

int vk_kit_submit(VkDevice device, VkQueue queue, const vk_kit_submission *s, VkFence fence) {
  VkTimelineSemaphoreSubmitInfo ts = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                      .waitSemaphoreValueCount = s->wait ? 1 : 0,
                                      .pWaitSemaphoreValues = &s->wait_value,
                                      .signalSemaphoreValueCount = s->signal ? 1 : 0,
                                      .pSignalSemaphoreValues = &s->signal_value};
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                     .pNext = s->wait || s->signal ? &ts : NULL,
                     .waitSemaphoreCount = s->wait ? 1 : 0,
                     .pWaitSemaphores = &s->wait,
                     .pWaitDstStageMask = &s->wait_stage,
                     .commandBufferCount = s->cmd ? 1 : 0,
                     .pCommandBuffers = &s->cmd,
                     .signalSemaphoreCount = s->signal ? 1 : 0,
                     .pSignalSemaphores = &s->signal};
  if (fence) VK_KIT_TRY(vkResetFences(device, 1, &fence));
  VK_KIT_TRY(vkQueueSubmit(queue, 1, &si, fence));
  return 0;
}

int vk_kit_image_2d(VkDevice device, const void *next, VkFormat format, uint32_t width,
                    uint32_t height, VkImageTiling tiling, VkImageUsageFlags usage, VkImage *out) {
  VkImageCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
                           .pNext = next,
                           .imageType = VK_IMAGE_TYPE_2D,
                           .format = format,
                           .extent = {width, height, 1},
                           .mipLevels = 1,
                           .arrayLayers = 1,
                           .samples = VK_SAMPLE_COUNT_1_BIT,
                           .tiling = tiling,
                           .usage = usage,
                           .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
  VkResult r = vkCreateImage(device, &ici, NULL, out);
  if (r == VK_SUCCESS) return 0;
  *out = VK_NULL_HANDLE;
  return vk_kit_fail(r, "vkCreateImage");
}
