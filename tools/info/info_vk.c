/* `interop-fd info`, Vulkan: part 1 (the loader, each physical device, its
 * external memory and semaphore support) and part 2's Vulkan consumer (a
 * device on the producer's deviceUUID importing through ifd_vk_importer).
 * libvulkan.so.1 is opened with dlopen and reached through its own
 * proc-address calls, so a machine without a loader gets a line saying so. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "info/info_internal.h"
#include "interop_fd/vulkan.h"

/* ------------------------------------------------------------------ part 1 */

/* Loads libvulkan.so.1 and creates the instance used by parts 1 and 2. */
static bool vk_load(info_state *s, uint32_t *loader_version) {
  s->vk_lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!s->vk_lib) {
    info_text(s->vk_why, sizeof(s->vk_why), "no Vulkan loader: %s", dlerror());
    return false;
  }
  s->gipa = (PFN_vkGetInstanceProcAddr)dlsym(s->vk_lib, "vkGetInstanceProcAddr");
  PFN_vkCreateInstance create =
      s->gipa ? (PFN_vkCreateInstance)s->gipa(VK_NULL_HANDLE, "vkCreateInstance") : NULL;
  if (!create) {
    info_text(s->vk_why, sizeof(s->vk_why), "libvulkan.so.1 has no vkCreateInstance");
    return false;
  }
  PFN_vkEnumerateInstanceVersion version =
      (PFN_vkEnumerateInstanceVersion)s->gipa(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
  *loader_version = VK_API_VERSION_1_0;
  if (version) version(loader_version);
  if (*loader_version < VK_API_VERSION_1_1) {
    info_text(s->vk_why, sizeof(s->vk_why), "the Vulkan loader offers 1.0; 1.1 is needed");
    return false;
  }
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "interop-fd info",
                           .apiVersion = VK_API_VERSION_1_3};
  VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                              .pApplicationInfo = &app};
  VkResult r = create(&ici, NULL, &s->instance);
  if (r != VK_SUCCESS) {
    s->instance = VK_NULL_HANDLE;
    info_text(s->vk_why, sizeof(s->vk_why), "vkCreateInstance failed (%d)%s", (int)r,
              r == VK_ERROR_INCOMPATIBLE_DRIVER ? ": no Vulkan driver (ICD) found" : "");
    return false;
  }
  const char *missing = NULL;
#define INFO_VK_LOAD(name)                                                  \
  s->vk.name = (PFN_##name)s->gipa(s->instance, #name);                     \
  if (!s->vk.name && !missing) missing = #name;
  VK_INSTANCE_FNS(INFO_VK_LOAD)
#undef INFO_VK_LOAD
  if (missing) {
    info_text(s->vk_why, sizeof(s->vk_why), "the Vulkan instance has no %s", missing);
    PFN_vkDestroyInstance destroy =
        (PFN_vkDestroyInstance)s->gipa(s->instance, "vkDestroyInstance");
    if (destroy) destroy(s->instance, NULL);
    s->instance = VK_NULL_HANDLE;
    return false;
  }
  return true;
}

void info_vk_unload(info_state *s) {
  if (s->instance) s->vk.vkDestroyInstance(s->instance, NULL);
  s->instance = VK_NULL_HANDLE;
  if (s->vk_lib) dlclose(s->vk_lib);
  s->vk_lib = NULL;
}

/* Up to MAX_VK_DEVICES physical devices; 0 on failure. */
static uint32_t vk_devices(info_state *s, VkPhysicalDevice list[MAX_VK_DEVICES]) {
  uint32_t n = MAX_VK_DEVICES;
  VkResult r = s->vk.vkEnumeratePhysicalDevices(s->instance, &n, list);
  return r == VK_SUCCESS || r == VK_INCOMPLETE ? n : 0;
}

static bool vk_has_ext(info_state *s, VkPhysicalDevice pd, const char *name) {
  uint32_t n = 0;
  if (s->vk.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return false;
  VkExtensionProperties *e = calloc(n, sizeof(*e));
  if (!e) return false;
  bool found = false;
  if (s->vk.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
  free(e);
  return found;
}

/* What part 1 prints about a physical device. */
typedef struct {
  VkPhysicalDeviceProperties props;
  bool has_id;                 /* Vulkan 1.1: deviceUUID known */
  uint8_t uuid[VK_UUID_SIZE];
  bool has_driver;             /* Vulkan 1.2 or VK_KHR_driver_properties */
  char driver_name[VK_MAX_DRIVER_NAME_SIZE];
  char driver_info[VK_MAX_DRIVER_INFO_SIZE];
  bool timeline;               /* the timelineSemaphore feature */
} vk_facts;

static void vk_query_facts(info_state *s, VkPhysicalDevice pd, vk_facts *f) {
  memset(f, 0, sizeof(*f));
  s->vk.vkGetPhysicalDeviceProperties(pd, &f->props);
  uint32_t api = f->props.apiVersion;
  if (api < VK_API_VERSION_1_1) return;
  f->has_driver = api >= VK_API_VERSION_1_2 || vk_has_ext(s, pd, "VK_KHR_driver_properties");
  VkPhysicalDeviceDriverProperties drv = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES,
                                     .pNext = f->has_driver ? &drv : NULL};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &id};
  s->vk.vkGetPhysicalDeviceProperties2(pd, &p2);
  f->has_id = true;
  memcpy(f->uuid, id.deviceUUID, VK_UUID_SIZE);
  memcpy(f->driver_name, drv.driverName, sizeof(f->driver_name));
  memcpy(f->driver_info, drv.driverInfo, sizeof(f->driver_info));
  f->driver_name[sizeof(f->driver_name) - 1] = f->driver_info[sizeof(f->driver_info) - 1] = '\0';
  if (api >= VK_API_VERSION_1_2 || vk_has_ext(s, pd, "VK_KHR_timeline_semaphore")) {
    VkPhysicalDeviceTimelineSemaphoreFeatures tf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &tf};
    s->vk.vkGetPhysicalDeviceFeatures2(pd, &f2);
    f->timeline = tf.timelineSemaphore == VK_TRUE;
  }
}

static const char *vk_type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software)";
    default: return "other";
  }
}

/* "export, import", "export only", "import only" or "no", from feature bits. */
static const char *caps_text(bool exportable, bool importable, bool dedicated_only) {
  if (exportable && importable)
    return dedicated_only ? "export, import (dedicated allocations only)" : "export, import";
  if (exportable) return dedicated_only ? "export only (dedicated only)" : "export only";
  if (importable) return dedicated_only ? "import only (dedicated only)" : "import only";
  return "no";
}

static const char *vk_buffer_caps(info_state *s, VkPhysicalDevice pd,
                                  VkExternalMemoryHandleTypeFlagBits type) {
  VkPhysicalDeviceExternalBufferInfo bi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .handleType = type};
  VkExternalBufferProperties p = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES};
  s->vk.vkGetPhysicalDeviceExternalBufferProperties(pd, &bi, &p);
  VkExternalMemoryFeatureFlags f = p.externalMemoryProperties.externalMemoryFeatures;
  return caps_text(f & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT,
                   f & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT,
                   f & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT);
}

static const char *vk_timeline_caps(info_state *s, VkPhysicalDevice pd,
                                    VkExternalSemaphoreHandleTypeFlagBits type) {
  VkSemaphoreTypeCreateInfo ti = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                  .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
  VkPhysicalDeviceExternalSemaphoreInfo si = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .pNext = &ti,
      .handleType = type};
  VkExternalSemaphoreProperties p = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES};
  s->vk.vkGetPhysicalDeviceExternalSemaphoreProperties(pd, &si, &p);
  VkExternalSemaphoreFeatureFlags f = p.externalSemaphoreFeatures;
  return caps_text(f & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT,
                   f & VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT, false);
}

static void vk_report_external(info_state *s, VkPhysicalDevice pd, const vk_facts *f) {
  static const char *const exts[] = {"VK_KHR_external_memory_fd", "VK_EXT_external_memory_dma_buf",
                                     "VK_KHR_external_semaphore_fd"};
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
    info_kv(s, 4, exts[i], "%s", info_yes_no(vk_has_ext(s, pd, exts[i])));
  info_kv(s, 4, "timeline semaphores", "%s", info_yes_no(f->timeline));
  info_kv(s, 4, "buffer memory as OPAQUE_FD", "%s",
          vk_buffer_caps(s, pd, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT));
  if (vk_has_ext(s, pd, "VK_EXT_external_memory_dma_buf"))
    info_kv(s, 4, "buffer memory as DMA_BUF", "%s",
            vk_buffer_caps(s, pd, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT));
  else
    info_kv(s, 4, "buffer memory as DMA_BUF", "no (no VK_EXT_external_memory_dma_buf)");
  if (!f->timeline) {
    info_kv(s, 4, "timeline semaphore as fd", "no (no timeline semaphores)");
    return;
  }
  info_kv(s, 4, "timeline semaphore as OPAQUE_FD", "%s",
          vk_timeline_caps(s, pd, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT));
  info_kv(s, 4, "timeline semaphore as SYNC_FD", "%s",
          vk_timeline_caps(s, pd, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT));
}

static void vk_report_device(info_state *s, uint32_t index, VkPhysicalDevice pd) {
  vk_facts f;
  vk_query_facts(s, pd, &f);
  char label[32], text[37];
  info_text(label, sizeof(label), "device %u", index);
  info_kv(s, 2, label, "%s", f.props.deviceName);
  info_kv(s, 4, "type", "%s", vk_type_name(f.props.deviceType));
  if (f.has_driver) info_kv(s, 4, "driver", "%s, %s", f.driver_name, f.driver_info);
  uint32_t api = f.props.apiVersion;
  info_kv(s, 4, "API version", "%u.%u.%u", VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api),
          VK_API_VERSION_PATCH(api));
  if (!f.has_id) {
    info_kv(s, 4, "external memory", "no: a Vulkan 1.0 device (1.1 is needed)");
    return;
  }
  info_kv(s, 4, "deviceUUID", "%s", info_uuid_text(f.uuid, text));
  vk_report_external(s, pd, &f);
}

void info_vk_report(info_state *s) {
  fprintf(s->out, "Vulkan\n");
  uint32_t version = 0;
  if (!vk_load(s, &version)) {
    info_kv(s, 2, "loader", "%s", s->vk_why);
    info_vk_unload(s);
    return;
  }
  info_kv(s, 2, "loader", "libvulkan.so.1, Vulkan %u.%u.%u", VK_API_VERSION_MAJOR(version),
          VK_API_VERSION_MINOR(version), VK_API_VERSION_PATCH(version));
  VkPhysicalDevice list[MAX_VK_DEVICES];
  uint32_t n = vk_devices(s, list);
  info_kv(s, 2, "physical devices", "%u%s", n, n ? "" : " (no Vulkan driver sees a device)");
  for (uint32_t i = 0; i < n; i++) vk_report_device(s, i, list[i]);
}

/* ------------------------------------------------------------------ part 2: the Vulkan consumer */

typedef struct {
  VkDevice device;
  ifd_vk_importer *importer;
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
} vk_consumer;

/* The physical device whose deviceUUID is uuid (any, if uuid is all zero);
 * VK_NULL_HANDLE if none, with the devices there are listed in why. */
static VkPhysicalDevice vk_find_device(info_state *s, const uint8_t uuid[16], char *why,
                                       size_t why_size) {
  VkPhysicalDevice list[MAX_VK_DEVICES];
  uint32_t n = vk_devices(s, list);
  char names[WHY_SIZE] = "";
  for (uint32_t i = 0; i < n; i++) {
    vk_facts f;
    vk_query_facts(s, list[i], &f);
    if (f.has_id && (info_uuid_is_zero(uuid) || memcmp(f.uuid, uuid, 16) == 0)) return list[i];
    size_t len = strlen(names);
    info_text(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", f.props.deviceName);
  }
  char text[37];
  info_text(why, why_size,
            "different device: no Vulkan device here has the producer's deviceUUID %s, so "
            "Vulkan cannot share its memory (Vulkan devices: %s)",
            info_uuid_text(uuid, text), n ? names : "none");
  return VK_NULL_HANDLE;
}

static uint32_t vk_queue_family(info_state *s, VkPhysicalDevice pd) {
  VkQueueFamilyProperties qf[16];
  uint32_t n = 16;
  s->vk.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
  for (uint32_t i = 0; i < n; i++)
    if (qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) return i;
  return 0;
}

/* A device as a consumer application would make it: the importer's
 * extensions where present, timeline semaphores where supported. */
static VkResult vk_create_device(info_state *s, VkPhysicalDevice pd, uint32_t family,
                                 VkDevice *out) {
  uint32_t n_req = 0;
  const char *const *req = ifd_vk_required_device_extensions(&n_req);
  const char *enable[8];
  uint32_t n_enable = 0;
  for (uint32_t i = 0; i < n_req && n_enable < 8; i++)
    if (vk_has_ext(s, pd, req[i])) enable[n_enable++] = req[i];
  vk_facts f;
  vk_query_facts(s, pd, &f);
  VkPhysicalDeviceTimelineSemaphoreFeatures tf = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      .timelineSemaphore = VK_TRUE};
  float prio = 1.0f;
  VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &prio};
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .pNext = f.timeline ? &tf : NULL,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &qci,
                            .enabledExtensionCount = n_enable,
                            .ppEnabledExtensionNames = enable};
  return s->vk.vkCreateDevice(pd, &dci, NULL, out);
}

static int vk_consumer_open(info_state *s, const uint8_t uuid[16], vk_consumer *c, char *why,
                            size_t why_size) {
  memset(c, 0, sizeof(*c));
  if (!s->instance) {
    info_text(why, why_size, "no Vulkan here: %s", s->vk_why);
    return -1;
  }
  VkPhysicalDevice pd = vk_find_device(s, uuid, why, why_size);
  if (!pd) return -1;
  VkPhysicalDeviceProperties props;
  s->vk.vkGetPhysicalDeviceProperties(pd, &props);
  info_text(c->name, sizeof(c->name), "%s", props.deviceName);
  uint32_t family = vk_queue_family(s, pd);
  VkResult r = vk_create_device(s, pd, family, &c->device);
  if (r != VK_SUCCESS) {
    c->device = VK_NULL_HANDLE;
    info_text(why, why_size, "vkCreateDevice on %s failed (%d)", c->name, (int)r);
    return -1;
  }
  ifd_vk_device_info di = {.instance = s->instance,
                           .physical_device = pd,
                           .device = c->device,
                           .queue_family_index = family,
                           .get_instance_proc_addr = s->gipa};
  if (ifd_vk_importer_create(&di, &c->importer) != 0) {
    info_text(why, why_size, "%s", ifd_last_error());
    s->vk.vkDestroyDevice(c->device, NULL);
    c->device = VK_NULL_HANDLE;
    return -1;
  }
  return 0;
}

static void vk_consumer_close(info_state *s, vk_consumer *c) {
  ifd_vk_importer_destroy(c->importer);
  if (c->device) {
    s->vk.vkDeviceWaitIdle(c->device);
    s->vk.vkDestroyDevice(c->device, NULL);
  }
  memset(c, 0, sizeof(*c));
}

static int vk_import_frame(void *importer, ifd_frame_desc *d, bool *linear) {
  ifd_vk_frame *f = NULL;
  int rc = ifd_vk_frame_import(importer, d, IFD_VK_PATH_AUTO, &f);
  if (rc != 0) return rc;
  ifd_vk_frame_native h = {0};
  ifd_vk_frame_native_handles(f, &h);
  *linear = h.path == IFD_VK_PATH_LINEAR;
  ifd_vk_frame_destroy(f);
  return 0;
}

static int vk_import_timeline(void *importer, int *fd) {
  ifd_vk_timeline *t = NULL;
  int rc = ifd_vk_timeline_import(importer, fd, &t);
  ifd_vk_timeline_destroy(t);
  return rc;
}

void info_vk_answer(info_state *s, producer *p) {
  pair_answer a = {.answer = "", .sync = "", .where = ""};
  vk_consumer c;
  char why[WHY_SIZE], text[37];
  if (p->why[0]) {
    info_text(a.answer, sizeof(a.answer), "NO: %s", p->why);
  } else if (vk_consumer_open(s, p->uuid, &c, why, sizeof(why)) != 0) {
    info_text(a.answer, sizeof(a.answer), "NO: %s", why);
  } else {
    if (info_uuid_is_zero(p->uuid))
      info_text(why, sizeof(why), "the producer's UUID is unknown: not checked");
    else
      info_text(why, sizeof(why), "same deviceUUID %s", info_uuid_text(p->uuid, text));
    info_text(a.where, sizeof(a.where), "producer: %s; consumer: Vulkan device %s (%s)", p->device,
              c.name, why);
    const info_consumer ic = {
        c.importer, vk_import_frame, vk_import_timeline,
        "YES, zero-copy, LINEAR path (imported image sampled directly, no copy)",
        "YES, zero-copy with one GPU copy per frame, COPY path (memory imported as a buffer, "
        "copied on the GPU into an optimal image; no CPU copy)"};
    info_try_frame(p, &ic, &a);
    info_try_timeline(p, &ic, &a);
    vk_consumer_close(s, &c);
  }
  info_pair_print(s, p, "vk", &a);
}
