/* The Vulkan consumer API (interop_fd/vulkan.h): imports frames into the
 * application's own VkDevice. Entry points come from the application's
 * vkGetInstanceProcAddr (or libvulkan.so.1's) so nothing links to Vulkan. */
#include "vk_import_internal.h"

/* Why the children of a destroyed importer refuse every call. */
static const char importer_gone[] =
    "its importer was destroyed first (ifd_vk_importer_destroy took it along)";

/* ifd_vk_device_extensions and ifd_vk_required_device_extensions list the
 * same names in the same order. */
static const ifd_vk_device_extension device_extensions[] = {
    {"VK_KHR_external_memory", 1, "external memory (core in Vulkan 1.1)"},
    {"VK_KHR_external_memory_fd", 1, "importing memory fds"},
    {"VK_KHR_external_semaphore_fd", 0, "importing timeline semaphores (optional)"}};

static const char *const required_extensions[] = {
    "VK_KHR_external_memory", "VK_KHR_external_memory_fd", "VK_KHR_external_semaphore_fd"};

const ifd_vk_device_extension *ifd_vk_device_extensions(uint32_t *count) {
  if (count) *count = (uint32_t)IFD_ARRAY_LEN(device_extensions);
  return device_extensions;
}

const char *const *ifd_vk_required_device_extensions(uint32_t *count) {
  if (count) *count = (uint32_t)IFD_ARRAY_LEN(required_extensions);
  return required_extensions;
}

/* ------------------------------------------------------------------ importer */

/* The message for an entry point that vkGet{Instance,Device}ProcAddr did not
 * give. Core functions of Vulkan 1.1 and 1.2 are hidden when the application
 * created its VkInstance with a lower VkApplicationInfo::apiVersion, or when
 * the device itself is older: say which, since the application cannot tell
 * from the name alone. Other entry points belong to an extension not enabled. */
static int missing_entry_point(const ifd_vk_importer *imp, const char *name, const char *where,
                               const char *fn) {
  static const struct {
    const char *name;
    uint32_t version;
  } core[] = {{"vkGetPhysicalDeviceProperties2", VK_API_VERSION_1_1},
              {"vkGetSemaphoreCounterValue", VK_API_VERSION_1_2},
              {"vkSignalSemaphore", VK_API_VERSION_1_2}};
  uint32_t need = 0;
  for (size_t i = 0; i < IFD_ARRAY_LEN(core); i++)
    if (strcmp(core[i].name, name) == 0) need = core[i].version;
  if (!need && strcmp(where, "device") == 0)
    return ifd_fail(-EOPNOTSUPP, "%s: the device has no %s: enable VK_KHR_external_memory_fd on "
                                 "it (ifd_vk_device_extensions)", fn, name);
  if (!need)
    return ifd_fail(-EOPNOTSUPP, "%s: the instance has no %s: is get_instance_proc_addr that "
                                 "of the instance's loader?", fn, name);
  if (!imp->vkGetPhysicalDeviceProperties)
    return ifd_fail(-EOPNOTSUPP, "%s: the %s has no %s (Vulkan %u.%u): create the VkInstance "
                                 "with VkApplicationInfo.apiVersion >= VK_API_VERSION_1_2",
                    fn, where, name, VK_API_VERSION_MAJOR(need), VK_API_VERSION_MINOR(need));
  VkPhysicalDeviceProperties p;
  imp->vkGetPhysicalDeviceProperties(imp->physical, &p);
  uint32_t v = p.apiVersion;
  if (VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), 0) <
      VK_API_VERSION_1_2)
    return ifd_fail(-EOPNOTSUPP, "%s: the %s has no %s: %s supports Vulkan %u.%u.%u (its "
                                 "apiVersion), interop_fd needs 1.2", fn, where, name,
                    p.deviceName, VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
                    VK_API_VERSION_PATCH(v));
  return ifd_fail(-EOPNOTSUPP, "%s: the %s has no %s (Vulkan %u.%u): create the VkInstance with "
                               "VkApplicationInfo.apiVersion >= VK_API_VERSION_1_2 (the device "
                               "reports %u.%u.%u)", fn, where, name, VK_API_VERSION_MAJOR(need),
                  VK_API_VERSION_MINOR(need), VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
                  VK_API_VERSION_PATCH(v));
}

int ifd_vk_importer_create(const ifd_vk_device_info *info, ifd_vk_importer **out) {
  static const char fn[] = "ifd_vk_importer_create";
  if (!info || !out) return ifd_fail(-EINVAL, "%s: info or out is NULL", fn);
  if (!info->instance || !info->physical_device || !info->device)
    return ifd_fail(-EINVAL, "%s: instance, physical_device and device are all required", fn);
  ifd_vk_importer *imp = calloc(1, sizeof(*imp));
  if (!imp) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  pthread_mutex_init(&imp->lock, NULL);
  int rc = 0;
  PFN_vkGetInstanceProcAddr gipa = info->get_instance_proc_addr;
  if (!gipa) {
    imp->loader = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (imp->loader) gipa = (PFN_vkGetInstanceProcAddr)dlsym(imp->loader, "vkGetInstanceProcAddr");
    if (!gipa) {
      rc = ifd_fail(-ENODEV, "%s: no get_instance_proc_addr given and libvulkan.so.1 has none "
                             "(%s)", fn, imp->loader ? "no vkGetInstanceProcAddr" : dlerror());
      goto fail;
    }
  }
  imp->instance = info->instance;
  imp->physical = info->physical_device;
  imp->device = info->device;
  imp->family = info->queue_family_index;
#define LOAD_INSTANCE(name)                                             \
  if (!(imp->name = (PFN_##name)gipa(imp->instance, #name))) {          \
    rc = missing_entry_point(imp, #name, "instance", fn);               \
    goto fail;                                                          \
  }
  INSTANCE_FNS(LOAD_INSTANCE)
#undef LOAD_INSTANCE
  uint32_t families = 0;
  imp->vkGetPhysicalDeviceQueueFamilyProperties(imp->physical, &families, NULL);
  if (imp->family >= families) {
    rc = ifd_fail(-EINVAL, "%s: queue_family_index %u does not exist: the physical device has %u "
                           "queue famil%s (0..%u)",
                  fn, imp->family, families, families == 1 ? "y" : "ies",
                  families ? families - 1 : 0);
    goto fail;
  }
#define LOAD_DEVICE(name)                                                        \
  if (!(imp->name = (PFN_##name)imp->vkGetDeviceProcAddr(imp->device, #name))) { \
    rc = missing_entry_point(imp, #name, "device", fn);                          \
    goto fail;                                                                   \
  }
  DEVICE_FNS(LOAD_DEVICE)
#undef LOAD_DEVICE
  imp->vkImportSemaphoreFdKHR =
      (PFN_vkImportSemaphoreFdKHR)imp->vkGetDeviceProcAddr(imp->device, "vkImportSemaphoreFdKHR");
  imp->timelines = imp->vkImportSemaphoreFdKHR != NULL;

  VkPhysicalDeviceDriverProperties drv = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES,
                                     .pNext = &drv};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &id};
  imp->vkGetPhysicalDeviceProperties2(imp->physical, &p2);
  memcpy(imp->uuid, id.deviceUUID, sizeof(imp->uuid));
  imp->driver = drv.driverID;
  snprintf(imp->device_name, sizeof(imp->device_name), "%s", p2.properties.deviceName);
  imp->vkGetPhysicalDeviceMemoryProperties(imp->physical, &imp->memory);
  imp->max_storage_buffer_range = p2.properties.limits.maxStorageBufferRange;
  imp->max_group_count[0] = p2.properties.limits.maxComputeWorkGroupCount[0];
  imp->max_group_count[1] = p2.properties.limits.maxComputeWorkGroupCount[1];
  ifd_vkc_copy_init(imp);
  rc = ifd_handle_add(imp, IFD_HANDLE_VK_IMPORTER);
  if (rc != 0) goto fail;
  *out = imp;
  return 0;
fail:
  if (imp->loader) dlclose(imp->loader);
  pthread_mutex_destroy(&imp->lock);
  free(imp);
  return rc;
}

void ifd_vk_importer_destroy(ifd_vk_importer *imp) {
  if (!imp || ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer",
                               "ifd_vk_importer_destroy") != 0)
    return;
  ifd_handle_remove(imp);
  /* Children still alive go with the importer, while the device still is:
   * their handles then answer -EINVAL saying why, and their own destroy
   * calls only forget them. */
  pthread_mutex_lock(&imp->lock);
  while (imp->rings) {
    ifd_vk_ring *ring = imp->rings;
    imp->rings = ring->next;
    ifd_handle_orphan(ring, importer_gone);
    ifd_ring_progress_put(ring->progress);
    free(ring); /* its frames and timelines are in the lists below */
  }
  while (imp->frames) {
    ifd_vk_frame *f = imp->frames;
    imp->frames = f->next;
    ifd_handle_orphan(f, importer_gone);
    ifd_vkc_frame_free(f);
  }
  while (imp->timelines_alive) {
    ifd_vk_timeline *t = imp->timelines_alive;
    imp->timelines_alive = t->next;
    ifd_handle_orphan(t, importer_gone);
    imp->vkDestroySemaphore(imp->device, t->semaphore, NULL);
    free(t);
  }
  pthread_mutex_unlock(&imp->lock);
  ifd_vkc_copy_fini(imp);
  pthread_mutex_destroy(&imp->lock);
  if (imp->loader) dlclose(imp->loader);
  free(imp);
}

int ifd_vk_importer_device_uuid(const ifd_vk_importer *imp, uint8_t out[16]) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", "ifd_vk_importer_device_uuid");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_vk_importer_device_uuid: out is NULL");
  memcpy(out, imp->uuid, 16);
  return 0;
}
