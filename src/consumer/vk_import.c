/* The Vulkan consumer API (interop_fd/vulkan.h): imports frames into the
 * application's own VkDevice. Entry points come from the application's
 * vkGetInstanceProcAddr (or libvulkan.so.1's) so nothing links to Vulkan. */
#define VK_NO_PROTOTYPES
#include "interop_fd/vulkan.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/internal.h"
#include "../vulkan/vk_device.h" /* ifd_vk_fail: the one VkResult -> errno mapping */
#include "import_checks.h"

#define INSTANCE_FNS(X)                        \
  X(vkGetPhysicalDeviceProperties)             \
  X(vkGetPhysicalDeviceProperties2)            \
  X(vkGetPhysicalDeviceMemoryProperties)       \
  X(vkGetPhysicalDeviceFormatProperties)       \
  X(vkGetPhysicalDeviceImageFormatProperties)  \
  X(vkGetPhysicalDeviceQueueFamilyProperties)  \
  X(vkGetDeviceProcAddr)

#define DEVICE_FNS(X)                 \
  X(vkAllocateMemory)                 \
  X(vkFreeMemory)                     \
  X(vkCreateBuffer)                   \
  X(vkDestroyBuffer)                  \
  X(vkGetBufferMemoryRequirements)    \
  X(vkBindBufferMemory)               \
  X(vkCreateImage)                    \
  X(vkDestroyImage)                   \
  X(vkGetImageMemoryRequirements)     \
  X(vkGetImageSubresourceLayout)      \
  X(vkBindImageMemory)                \
  X(vkCreateImageView)                \
  X(vkDestroyImageView)               \
  X(vkCmdPipelineBarrier)             \
  X(vkCmdCopyBufferToImage)           \
  X(vkCreateSemaphore)                \
  X(vkDestroySemaphore)               \
  X(vkGetSemaphoreCounterValue)       \
  X(vkSignalSemaphore)                \
  X(vkWaitSemaphores)                 \
  X(vkGetMemoryFdPropertiesKHR)

#define SEMAPHORE_FD_FNS(X) X(vkImportSemaphoreFdKHR)

struct ifd_vk_importer {
  void *loader; /* dlopen handle when the application gave no entry point */
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  uint32_t family;
#define DECLARE(name) PFN_##name name;
  INSTANCE_FNS(DECLARE)
  DEVICE_FNS(DECLARE)
  SEMAPHORE_FD_FNS(DECLARE)
#undef DECLARE
  VkPhysicalDeviceMemoryProperties memory;
  uint8_t uuid[16];
  char device_name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  VkDriverId driver;
  bool timelines; /* VK_KHR_external_semaphore_fd and Vulkan 1.2 entry points */
  pthread_mutex_t lock; /* guards the lists of children below */
  ifd_vk_frame *frames; /* live frames (those of rings included), through next */
  ifd_vk_timeline *timelines_alive;
  ifd_vk_ring *rings;
};

/* Why the children of a destroyed importer refuse every call. */
static const char importer_gone[] =
    "its importer was destroyed first (ifd_vk_importer_destroy took it along)";

struct ifd_vk_frame {
  ifd_vk_importer *imp;
  ifd_vk_frame_native h;
  const ifd_format_info *info;
  uint32_t row_pitch;
  VkDeviceMemory image_memory; /* COPY: the OPTIMAL image's own memory */
  ifd_vk_frame *next;          /* in imp->frames */
};

struct ifd_vk_timeline {
  ifd_vk_importer *imp;
  VkSemaphore semaphore;
  ifd_vk_timeline *next; /* in imp->timelines_alive */
};

struct ifd_vk_ring {
  uint32_t count;
  ifd_vk_frame *frames[IFD_RING_MAX_FRAMES];
  ifd_vk_timeline *ready, *release;
  ifd_vk_importer *imp;
  ifd_vk_path path;           /* while importing */
  const char *fn;             /* while importing: the public function */
  ifd_vk_ring *next;            /* in imp->rings */
  ifd_ring_progress *progress;  /* the producer's ring, when it is in this process */
};

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

static void frame_free(ifd_vk_frame *f);

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
    frame_free(f);
  }
  while (imp->timelines_alive) {
    ifd_vk_timeline *t = imp->timelines_alive;
    imp->timelines_alive = t->next;
    ifd_handle_orphan(t, importer_gone);
    imp->vkDestroySemaphore(imp->device, t->semaphore, NULL);
    free(t);
  }
  pthread_mutex_unlock(&imp->lock);
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

/* ------------------------------------------------------------------ frames */

/* Imports fd (a dup the caller made: consumed on success, closed by the
 * caller otherwise) as `size` bytes usable for resources with type `bits`. */
static int import_memory(ifd_vk_importer *imp, int fd, uint64_t size, int type,
                         VkDeviceMemory *out) {
  if (type < 0)
    return ifd_fail(-EOPNOTSUPP, "no memory type of this device accepts the imported resource "
                                 "(Vulkan-exported memory: the type its exporter allocated with)");
  VkImportMemoryFdInfoKHR import = {.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
                                    .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
                                    .fd = fd};
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .pNext = &import,
                             .allocationSize = size,
                             .memoryTypeIndex = (uint32_t)type};
  VkResult r = imp->vkAllocateMemory(imp->device, &ai, NULL, out);
  if (r != VK_SUCCESS) {
    int rc = ifd_vk_fail(r, "vkAllocateMemory(import OPAQUE_FD)");
    return ifd_fail(rc == -ENOMEM ? rc : -EIO, "the driver refused the memory fd (is it an "
                                                "OPAQUE_FD memory export of this device?): %s",
                    ifd_last_error());
  }
  return 0;
}

static VkComponentSwizzle vk_swizzle(uint8_t s) {
  switch (s) {
    case IFD_SWIZZLE_R: return VK_COMPONENT_SWIZZLE_R;
    case IFD_SWIZZLE_G: return VK_COMPONENT_SWIZZLE_G;
    case IFD_SWIZZLE_B: return VK_COMPONENT_SWIZZLE_B;
    case IFD_SWIZZLE_A: return VK_COMPONENT_SWIZZLE_A;
    case IFD_SWIZZLE_ZERO: return VK_COMPONENT_SWIZZLE_ZERO;
    default: return VK_COMPONENT_SWIZZLE_ONE;
  }
}

static int create_view(ifd_vk_frame *f) {
  ifd_vk_importer *imp = f->imp;
  VkImageViewCreateInfo vci = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .image = f->h.image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D,
      .format = f->h.format,
      .components = {vk_swizzle(f->info->vk_swizzle[0]), vk_swizzle(f->info->vk_swizzle[1]),
                     vk_swizzle(f->info->vk_swizzle[2]), vk_swizzle(f->info->vk_swizzle[3])},
      .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  VkResult r = imp->vkCreateImageView(imp->device, &vci, NULL, &f->h.view);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkCreateImageView");
}

static void frame_free(ifd_vk_frame *f) {
  ifd_vk_importer *imp = f->imp;
  if (f->h.view) imp->vkDestroyImageView(imp->device, f->h.view, NULL);
  if (f->h.image) imp->vkDestroyImage(imp->device, f->h.image, NULL);
  if (f->h.buffer) imp->vkDestroyBuffer(imp->device, f->h.buffer, NULL);
  if (f->image_memory) imp->vkFreeMemory(imp->device, f->image_memory, NULL);
  if (f->h.memory) imp->vkFreeMemory(imp->device, f->h.memory, NULL);
  free(f);
}

/* Where aliasing a linear image on imported memory was verified to sample
 * exactly (every format, sizes from 1x1 to 4K, rings of 1 to 4, through
 * rendering; tests/test_ring_stress.c): NVIDIA's driver with CUDA-exported
 * memory imported with a host-visible type, and Mesa's lavapipe. On NVIDIA,
 * Vulkan-exported memory has a type the host cannot map, and setup_linear
 * refuses it. Returns 1 verified, 0 unverified. */
static int linear_verdict(const ifd_vk_importer *imp, ifd_backend exporter) {
  if (imp->driver == VK_DRIVER_ID_NVIDIA_PROPRIETARY) return exporter == IFD_BACKEND_CUDA;
  if (imp->driver == VK_DRIVER_ID_MESA_LLVMPIPE) return 1;
  return 0;
}

/* Whether the device can create a 2D image of d's size with this format,
 * tiling and usage (its imageCreateMaxExtent): an image past it is invalid
 * usage, not an error the driver must report. */
static bool image_fits(ifd_vk_importer *imp, const ifd_frame_desc *d, VkFormat format,
                       VkImageTiling tiling, VkImageUsageFlags usage) {
  VkImageFormatProperties p;
  if (imp->vkGetPhysicalDeviceImageFormatProperties(imp->physical, format, VK_IMAGE_TYPE_2D,
                                                    tiling, usage, 0, &p) != VK_SUCCESS)
    return false;
  return d->width <= p.maxExtent.width && d->height <= p.maxExtent.height;
}

/* A linear image of d's size in `format` on external memory, as the LINEAR
 * path binds and as the Vulkan backend's exporter probes.
 * VK_ERROR_FORMAT_NOT_SUPPORTED where the device cannot make one that large. */
static VkResult create_linear_image(ifd_vk_importer *imp, const ifd_frame_desc *d,
                                    VkFormat format, VkImage *out) {
  const VkImageUsageFlags usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
  if (!image_fits(imp, d, format, VK_IMAGE_TILING_LINEAR, usage))
    return VK_ERROR_FORMAT_NOT_SUPPORTED;
  VkExternalMemoryImageCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  /* UNDEFINED at creation (VUID-VkImageCreateInfo-pNext-01443): a
   * placeholder; the true layout is the one the acquire from
   * VK_QUEUE_FAMILY_EXTERNAL names. */
  VkImageCreateInfo ici =
      ifd_vk_image_2d(&ext, format, d->width, d->height, VK_IMAGE_TILING_LINEAR, usage);
  return imp->vkCreateImage(imp->device, &ici, NULL, out);
}

/* The memory type an import of d names: for memory a Vulkan device exported,
 * the type its exporter allocated with, worked out again on this device by
 * the exporter's rule (ifd_vk_export_memory_type over the bits of a buffer with
 * the exporter's usage and of a linear image of the frame), since OPAQUE_FD
 * imports must name it; -1 if that type is not in `bits` (what the importing
 * resource allows). For other exporters, the first device-local type of
 * `bits` (`linear`: a host-visible one, ifd_vk_linear_memory_type). */
static int import_type(ifd_vk_importer *imp, const ifd_frame_desc *d, const ifd_format_info *info,
                       uint32_t bits, bool linear) {
  if (d->exporter != IFD_BACKEND_VULKAN)
    return linear ? ifd_vk_linear_memory_type(&imp->memory, bits)
                  : ifd_vk_shared_memory_type(&imp->memory, bits);
  VkExternalMemoryBufferCreateInfo ebi = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .pNext = &ebi,
                            .size = d->size,
                            .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
  VkMemoryRequirements req;
  VkBuffer b = VK_NULL_HANDLE;
  if (imp->vkCreateBuffer(imp->device, &bci, NULL, &b) != VK_SUCCESS) return -1;
  imp->vkGetBufferMemoryRequirements(imp->device, b, &req);
  imp->vkDestroyBuffer(imp->device, b, NULL);
  uint32_t buffer_bits = req.memoryTypeBits, linear_bits = UINT32_MAX;
  VkImage probe = VK_NULL_HANDLE;
  if (create_linear_image(imp, d, (VkFormat)info->vk_format, &probe) == VK_SUCCESS) {
    imp->vkGetImageMemoryRequirements(imp->device, probe, &req);
    imp->vkDestroyImage(imp->device, probe, NULL);
    linear_bits = req.memoryTypeBits;
  }
  int type = ifd_vk_export_memory_type(&imp->memory, buffer_bits, linear_bits);
  return type >= 0 && (bits & (1u << type)) ? type : -1;
}

/* LINEAR: an image aliasing the memory. -EOPNOTSUPP (nothing consumed) where
 * the driver's linear layout does not match the frame. */
static int setup_linear(ifd_vk_frame *f, const ifd_frame_desc *d, int fd) {
  ifd_vk_importer *imp = f->imp;
  VkFormatProperties fp;
  imp->vkGetPhysicalDeviceFormatProperties(imp->physical, f->h.format, &fp);
  if (!(fp.linearTilingFeatures & VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT))
    return ifd_fail(-EOPNOTSUPP, "%s cannot sample %s with linear tiling", imp->device_name,
                    f->info->name);
  VkResult r = create_linear_image(imp, d, f->h.format, &f->h.image);
  if (r != VK_SUCCESS) {
    ifd_vk_fail(r, "vkCreateImage(LINEAR)");
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a linear %s image: %s", imp->device_name,
                    f->info->name, ifd_last_error());
  }
  VkImageSubresource sub = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0};
  VkSubresourceLayout lay;
  imp->vkGetImageSubresourceLayout(imp->device, f->h.image, &sub, &lay);
  VkMemoryRequirements req;
  imp->vkGetImageMemoryRequirements(imp->device, f->h.image, &req);
  if (lay.offset != 0 || lay.rowPitch != d->row_pitch)
    return ifd_fail(-EOPNOTSUPP, "%s lays out a linear %ux%u %s image with row pitch %llu at "
                                 "offset %llu, the frame has pitch %u at 0: use the COPY path",
                    imp->device_name, d->width, d->height, f->info->name,
                    (unsigned long long)lay.rowPitch, (unsigned long long)lay.offset,
                    d->row_pitch);
  if (req.size > d->size)
    return ifd_fail(-EOPNOTSUPP, "%s needs %llu bytes for a linear %ux%u %s image, the frame "
                                 "has %llu: use the COPY path",
                    imp->device_name, (unsigned long long)req.size, d->width, d->height,
                    f->info->name, (unsigned long long)d->size);
  /* A linear image reads the memory as the producer wrote it only through a
   * type the host could map (ifd_vk_linear_memory_type). Memory a Vulkan
   * device made must be imported with the type it was made with, so there
   * that type itself must be one. */
  int type = import_type(imp, d, f->info, req.memoryTypeBits, true);
  if (type < 0 || !(imp->memory.memoryTypes[type].propertyFlags &
                    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
    return ifd_fail(-EOPNOTSUPP, "%s would alias a linear %s image on %s memory of a type the "
                                 "host cannot map, where linear images can read wrong bytes: "
                                 "use the COPY path",
                    imp->device_name, f->info->name,
                    d->exporter == IFD_BACKEND_VULKAN ? "Vulkan-exported" : "imported");
  int rc = import_memory(imp, fd, d->size, type, &f->h.memory);
  if (rc != 0) return rc;
  r = imp->vkBindImageMemory(imp->device, f->h.image, f->h.memory, 0);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkBindImageMemory");
  f->h.layout = VK_IMAGE_LAYOUT_GENERAL;
  return create_view(f);
}

/* COPY: a buffer on the memory and an OPTIMAL image of our own. */
static int setup_copy(ifd_vk_frame *f, const ifd_frame_desc *d, int fd) {
  ifd_vk_importer *imp = f->imp;
  VkFormatProperties fp;
  imp->vkGetPhysicalDeviceFormatProperties(imp->physical, f->h.format, &fp);
  VkFormatFeatureFlags need = VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
  if ((fp.optimalTilingFeatures & need) != need)
    return ifd_fail(-EOPNOTSUPP, "%s cannot sample and copy into an optimal %s image",
                    imp->device_name, f->info->name);
  const VkImageUsageFlags usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                                  VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
  if (!image_fits(imp, d, f->h.format, VK_IMAGE_TILING_OPTIMAL, usage))
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a %ux%u optimal %s image (past its largest "
                                 "image extent)",
                    imp->device_name, d->width, d->height, f->info->name);
  VkExternalMemoryBufferCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .pNext = &ext,
                            .size = d->size,
                            .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT};
  VkResult r = imp->vkCreateBuffer(imp->device, &bci, NULL, &f->h.buffer);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateBuffer(external)");
  VkMemoryRequirements req;
  imp->vkGetBufferMemoryRequirements(imp->device, f->h.buffer, &req);
  int rc = import_memory(imp, fd, d->size,
                         import_type(imp, d, f->info, req.memoryTypeBits, false), &f->h.memory);
  if (rc != 0) return rc;
  r = imp->vkBindBufferMemory(imp->device, f->h.buffer, f->h.memory, 0);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkBindBufferMemory");

  VkImageCreateInfo ici =
      ifd_vk_image_2d(NULL, f->h.format, d->width, d->height, VK_IMAGE_TILING_OPTIMAL, usage);
  r = imp->vkCreateImage(imp->device, &ici, NULL, &f->h.image);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateImage(OPTIMAL)");
  imp->vkGetImageMemoryRequirements(imp->device, f->h.image, &req);
  int type = ifd_vk_shared_memory_type(&imp->memory, req.memoryTypeBits);
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = (uint32_t)type};
  if (type < 0) return ifd_fail(-EOPNOTSUPP, "no memory type for the optimal image");
  r = imp->vkAllocateMemory(imp->device, &ai, NULL, &f->image_memory);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkAllocateMemory(optimal image)");
  r = imp->vkBindImageMemory(imp->device, f->h.image, f->image_memory, 0);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkBindImageMemory");
  f->h.layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
  return create_view(f);
}

static int import_frame(ifd_vk_importer *imp, ifd_frame_desc *desc, ifd_vk_path path,
                        ifd_vk_frame **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if (path != IFD_VK_PATH_AUTO && path != IFD_VK_PATH_COPY && path != IFD_VK_PATH_LINEAR)
    return ifd_fail(-EINVAL, "%s: unknown path %d", fn, (int)path);
  const ifd_format_info *info = NULL;
  rc = ifd_check_frame_desc(desc, imp->uuid, imp->device_name, &info);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);

  /* Work on a dup, so the caller's fd is consumed only on full success. */
  int fd = fcntl(desc->memory_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ifd_fail(-errno, "%s: cannot duplicate memory_fd: %s", fn, strerror(errno));
  ifd_vk_frame *f = calloc(1, sizeof(*f));
  if (!f) {
    close(fd);
    return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  }
  f->imp = imp;
  f->info = info;
  f->row_pitch = desc->row_pitch;
  f->h.format = (VkFormat)info->vk_format;
  f->h.width = desc->width;
  f->h.height = desc->height;
  f->h.max_format = desc->format;

  rc = -EOPNOTSUPP;
  if (path == IFD_VK_PATH_AUTO && !linear_verdict(imp, desc->exporter))
    path = IFD_VK_PATH_COPY; /* AUTO aliases only where verified */
  if (path != IFD_VK_PATH_COPY) {
    f->h.path = IFD_VK_PATH_LINEAR;
    rc = setup_linear(f, desc, fd);
    if (rc != 0 && path == IFD_VK_PATH_AUTO && !f->h.memory) {
      /* Nothing imported yet: release the image and fall back to COPY. */
      if (f->h.view) imp->vkDestroyImageView(imp->device, f->h.view, NULL);
      if (f->h.image) imp->vkDestroyImage(imp->device, f->h.image, NULL);
      f->h.view = VK_NULL_HANDLE;
      f->h.image = VK_NULL_HANDLE;
      f->h.path = IFD_VK_PATH_COPY;
      rc = setup_copy(f, desc, fd);
    }
  } else {
    f->h.path = IFD_VK_PATH_COPY;
    rc = setup_copy(f, desc, fd);
  }
  if (f->h.memory) fd = -1; /* the driver owns the dup now */
  if (rc == 0) rc = ifd_handle_add(f, IFD_HANDLE_VK_FRAME);
  if (rc != 0) {
    if (fd >= 0) close(fd);
    frame_free(f);
    return ifd_fail_prefix(rc, "%s(%ux%u %s, %s path)", fn, desc->width, desc->height,
                           info->name, path == IFD_VK_PATH_COPY     ? "copy"
                                       : path == IFD_VK_PATH_LINEAR ? "linear"
                                                                    : "auto");
  }
  ifd_fd_close(&desc->memory_fd);
  IFD_LIST_ADD(imp, frames, f);
  *out = f;
  return 0;
}

int ifd_vk_frame_import(ifd_vk_importer *imp, ifd_frame_desc *desc, ifd_vk_path path,
                        ifd_vk_frame **out) {
  return import_frame(imp, desc, path, out, "ifd_vk_frame_import");
}

void ifd_vk_frame_destroy(ifd_vk_frame *f) {
  if (!ifd_handle_destroy_ok(f, IFD_HANDLE_VK_FRAME, "frame", "ifd_vk_frame_destroy"))
    return;
  ifd_handle_remove(f);
  IFD_LIST_REMOVE(f->imp, frames, ifd_vk_frame, f);
  frame_free(f);
}

int ifd_vk_frame_native_handles(const ifd_vk_frame *f, ifd_vk_frame_native *out) {
  int rc = ifd_check_handle(f, IFD_HANDLE_VK_FRAME, "frame", "ifd_vk_frame_native_handles");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_vk_frame_native_handles: out is NULL");
  *out = f->h;
  return 0;
}

static const VkImageSubresourceRange whole = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};

int ifd_vk_frame_cmd_acquire(ifd_vk_frame *f, VkCommandBuffer cmd, VkPipelineStageFlags dst_stages,
                             VkAccessFlags dst_access) {
  static const char fn[] = "ifd_vk_frame_cmd_acquire";
  int rc = ifd_check_handle(f, IFD_HANDLE_VK_FRAME, "frame", fn);
  if (rc != 0) return rc;
  if (!cmd) return ifd_fail(-EINVAL, "%s: cmd is NULL", fn);
  if (!dst_stages) dst_stages = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  ifd_vk_importer *imp = f->imp;
  if (f->h.path == IFD_VK_PATH_LINEAR) {
    /* The producer writes the memory as a linear buffer, with no layout: for
     * a linear image that is GENERAL, and the external side keeps it so. The
     * acquire names GENERAL every time, the first one included (an image on
     * external memory starts in a placeholder UNDEFINED, which the acquire
     * replaces), so nothing depends on which recorded acquire runs first. */
    VkImageMemoryBarrier ib = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .dstAccessMask = dst_access,
        .oldLayout = VK_IMAGE_LAYOUT_GENERAL,
        .newLayout = VK_IMAGE_LAYOUT_GENERAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
        .dstQueueFamilyIndex = imp->family,
        .image = f->h.image,
        .subresourceRange = whole};
    imp->vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, dst_stages, 0, 0, NULL, 0,
                              NULL, 1, &ib);
    return 0;
  }
  /* COPY: acquire the buffer; the image's old contents are discarded, after
   * every earlier read of it (ALL_COMMANDS, no access: execution dependency). */
  VkBufferMemoryBarrier bb = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                              .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                              .dstQueueFamilyIndex = imp->family,
                              .buffer = f->h.buffer,
                              .size = VK_WHOLE_SIZE};
  VkImageMemoryBarrier ib = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                             .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                             .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                             .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                             .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                             .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                             .image = f->h.image,
                             .subresourceRange = whole};
  imp->vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                            0, 0, NULL, 1, &bb, 1, &ib);
  VkBufferImageCopy region = {.bufferRowLength = f->row_pitch / f->info->bytes_per_pixel,
                              .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                              .imageExtent = {f->h.width, f->h.height, 1}};
  imp->vkCmdCopyBufferToImage(cmd, f->h.buffer, f->h.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                              1, &region);
  bb.srcAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
  bb.dstAccessMask = 0;
  bb.srcQueueFamilyIndex = imp->family;
  bb.dstQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL;
  ib.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  ib.dstAccessMask = dst_access;
  ib.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
  ib.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
  imp->vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                            dst_stages | VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 1, &bb,
                            1, &ib);
  return 0;
}

int ifd_vk_frame_cmd_release(ifd_vk_frame *f, VkCommandBuffer cmd, VkPipelineStageFlags src_stages) {
  static const char fn[] = "ifd_vk_frame_cmd_release";
  int rc = ifd_check_handle(f, IFD_HANDLE_VK_FRAME, "frame", fn);
  if (rc != 0) return rc;
  if (!cmd) return ifd_fail(-EINVAL, "%s: cmd is NULL", fn);
  if (f->h.path != IFD_VK_PATH_LINEAR) return 0;
  if (!src_stages) src_stages = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
  ifd_vk_importer *imp = f->imp;
  VkImageMemoryBarrier ib = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                             .oldLayout = VK_IMAGE_LAYOUT_GENERAL,
                             .newLayout = VK_IMAGE_LAYOUT_GENERAL,
                             .srcQueueFamilyIndex = imp->family,
                             .dstQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                             .image = f->h.image,
                             .subresourceRange = whole};
  imp->vkCmdPipelineBarrier(cmd, src_stages, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0,
                            NULL, 1, &ib);
  return 0;
}

/* ------------------------------------------------------------------ timelines */

static int import_timeline(ifd_vk_importer *imp, int *fd, ifd_vk_timeline **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!fd || !out) return ifd_fail(-EINVAL, "%s: fd or out is NULL", fn);
  if (*fd < 0 || fcntl(*fd, F_GETFD) < 0)
    return ifd_fail(-EBADF, "%s: fd %d is not open", fn, *fd);
  if (!imp->timelines)
    return ifd_fail(-EOPNOTSUPP, "%s: the device has no vkImportSemaphoreFdKHR: enable "
                                 "VK_KHR_external_semaphore_fd", fn);
  /* Refuse what is never a semaphore rather than hand the driver an fd its
   * valid usage forbids (-EIO: what a driver refusing the fd gives). */
  rc = ifd_fd_check_kind(*fd, "fd", "a timeline semaphore fd", -EIO);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  int dup_fd = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ifd_fail(-errno, "%s: cannot duplicate fd: %s", fn, strerror(errno));
  ifd_vk_timeline *t = calloc(1, sizeof(*t));
  if (!t) {
    close(dup_fd);
    return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  }
  t->imp = imp;
  VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                    .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
  VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
  VkResult r = imp->vkCreateSemaphore(imp->device, &sci, NULL, &t->semaphore);
  if (r != VK_SUCCESS) {
    rc = ifd_vk_fail(r, "vkCreateSemaphore(timeline): is the timelineSemaphore feature enabled?");
  } else {
    VkImportSemaphoreFdInfoKHR info = {.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
                                       .semaphore = t->semaphore,
                                       .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
                                       .fd = dup_fd};
    r = imp->vkImportSemaphoreFdKHR(imp->device, &info);
    if (r == VK_SUCCESS) {
      dup_fd = -1;
    } else {
      ifd_vk_fail(r, "vkImportSemaphoreFdKHR");
      rc = ifd_fail(-EIO, "the driver refused the fd as a timeline semaphore: %s",
                    ifd_last_error());
    }
  }
  if (rc == 0) rc = ifd_handle_add(t, IFD_HANDLE_VK_TIMELINE);
  if (rc != 0) {
    if (dup_fd >= 0) close(dup_fd);
    if (t->semaphore) imp->vkDestroySemaphore(imp->device, t->semaphore, NULL);
    free(t);
    return ifd_fail_prefix(rc, "%s", fn);
  }
  ifd_fd_close(fd);
  IFD_LIST_ADD(imp, timelines_alive, t);
  *out = t;
  return 0;
}

int ifd_vk_timeline_import(ifd_vk_importer *imp, int *fd, ifd_vk_timeline **out) {
  return import_timeline(imp, fd, out, "ifd_vk_timeline_import");
}

void ifd_vk_timeline_destroy(ifd_vk_timeline *t) {
  if (!ifd_handle_destroy_ok(t, IFD_HANDLE_VK_TIMELINE, "timeline", "ifd_vk_timeline_destroy"))
    return;
  ifd_handle_remove(t);
  IFD_LIST_REMOVE(t->imp, timelines_alive, ifd_vk_timeline, t);
  t->imp->vkDestroySemaphore(t->imp->device, t->semaphore, NULL);
  free(t);
}

VkSemaphore ifd_vk_timeline_semaphore(const ifd_vk_timeline *t) {
  return t && ifd_handle_live(t, IFD_HANDLE_VK_TIMELINE) ? t->semaphore : VK_NULL_HANDLE;
}

int ifd_vk_timeline_value(ifd_vk_timeline *t, uint64_t *out) {
  int rc = ifd_check_handle(t, IFD_HANDLE_VK_TIMELINE, "timeline", "ifd_vk_timeline_value");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_vk_timeline_value: out is NULL");
  VkResult r = t->imp->vkGetSemaphoreCounterValue(t->imp->device, t->semaphore, out);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
}

typedef struct {
  ifd_vk_timeline *t;
  uint64_t value, seen;
} reach_arg;

static int reached(void *p) {
  reach_arg *a = p;
  VkResult r = a->t->imp->vkGetSemaphoreCounterValue(a->t->imp->device, a->t->semaphore, &a->seen);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
  return a->seen >= a->value;
}

int ifd_vk_timeline_host_wait(ifd_vk_timeline *t, uint64_t value, uint64_t timeout_ns) {
  static const char fn[] = "ifd_vk_timeline_host_wait";
  int rc = ifd_check_handle(t, IFD_HANDLE_VK_TIMELINE, "timeline", fn);
  if (rc != 0) return rc;
  reach_arg a = {t, value, 0};
  rc = ifd_poll(reached, &a, timeout_ns);
  if (rc == -ETIMEDOUT)
    return ifd_fail(rc, "%s: timeline still at %llu, not %llu, after %llu ns", fn,
                    (unsigned long long)a.seen, (unsigned long long)value,
                    (unsigned long long)timeout_ns);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  /* The value is reached: a wait with no timeout returns at once, and tells
   * tools that track submissions (the validation layer) that the batches
   * signalling it are done, so their command buffers may be reused. */
  VkSemaphoreWaitInfo wi = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                            .semaphoreCount = 1,
                            .pSemaphores = &t->semaphore,
                            .pValues = &value};
  (void)t->imp->vkWaitSemaphores(t->imp->device, &wi, 0);
  return 0;
}

int ifd_vk_timeline_host_signal(ifd_vk_timeline *t, uint64_t value) {
  static const char fn[] = "ifd_vk_timeline_host_signal";
  int rc = ifd_check_handle(t, IFD_HANDLE_VK_TIMELINE, "timeline", fn);
  if (rc != 0) return rc;
  uint64_t now = 0;
  VkResult r = t->imp->vkGetSemaphoreCounterValue(t->imp->device, t->semaphore, &now);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkGetSemaphoreCounterValue");
  if (value <= now)
    return ifd_fail(-EINVAL, "%s: %llu is not above the current value %llu", fn,
                    (unsigned long long)value, (unsigned long long)now);
  VkSemaphoreSignalInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                              .semaphore = t->semaphore,
                              .value = value};
  r = t->imp->vkSignalSemaphore(t->imp->device, &si);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkSignalSemaphore");
}

/* ------------------------------------------------------------------ rings */

static void ring_free(ifd_vk_ring *ring) {
  for (uint32_t i = 0; i < IFD_RING_MAX_FRAMES; i++) ifd_vk_frame_destroy(ring->frames[i]);
  ifd_vk_timeline_destroy(ring->ready);
  ifd_vk_timeline_destroy(ring->release);
  ifd_ring_progress_put(ring->progress);
  free(ring);
}

static int ring_frame(void *ring, uint32_t i, ifd_frame_desc *d) {
  ifd_vk_ring *r = ring;
  return import_frame(r->imp, d, r->path, &r->frames[i], r->fn);
}

static int ring_timeline(void *ring, bool release, int *fd) {
  ifd_vk_ring *r = ring;
  return import_timeline(r->imp, fd, release ? &r->release : &r->ready, r->fn);
}

int ifd_vk_ring_import(ifd_vk_importer *imp, ifd_ring_desc *desc, ifd_vk_path path,
                       ifd_vk_ring **out) {
  static const char fn[] = "ifd_vk_ring_import";
  static const ifd_ring_import_ops ops = {fn, ring_frame, ring_timeline};
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  ifd_vk_ring *ring = calloc(1, sizeof(*ring));
  if (!ring) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  ring->imp = imp;
  ring->path = path;
  ring->fn = fn;
  rc = ifd_ring_import_common(&ops, ring, desc, &ring->count, &ring->progress);
  if (rc == 0) rc = ifd_handle_add(ring, IFD_HANDLE_VK_RING);
  if (rc != 0) {
    ring_free(ring);
    return rc;
  }
  IFD_LIST_ADD(imp, rings, ring);
  *out = ring;
  return 0;
}

void ifd_vk_ring_destroy(ifd_vk_ring *ring) {
  if (!ifd_handle_destroy_ok(ring, IFD_HANDLE_VK_RING, "ring", "ifd_vk_ring_destroy"))
    return;
  ifd_handle_remove(ring);
  IFD_LIST_REMOVE(ring->imp, rings, ifd_vk_ring, ring);
  ring_free(ring);
}

uint32_t ifd_vk_ring_count(const ifd_vk_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_VK_RING) ? ring->count : 0;
}

ifd_vk_frame *ifd_vk_ring_frame(const ifd_vk_ring *ring, uint64_t k) {
  if (!ring || !ifd_handle_live(ring, IFD_HANDLE_VK_RING) || k == 0) return NULL;
  return ring->frames[(k - 1) % ring->count];
}

ifd_vk_timeline *ifd_vk_ring_ready(const ifd_vk_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_VK_RING) ? ring->ready : NULL;
}

ifd_vk_timeline *ifd_vk_ring_release(const ifd_vk_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_VK_RING) ? ring->release : NULL;
}

int ifd_vk_ring_wait_ready(ifd_vk_ring *ring, uint64_t k, uint64_t timeout_ns) {
  static const char fn[] = "ifd_vk_ring_wait_ready";
  int rc = ifd_check_handle(ring, IFD_HANDLE_VK_RING, "ring", fn);
  if (rc != 0) return rc;
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  if (!ring->ready) /* the producer's own ring tells, where it is in this process */
    return ring->progress ? ifd_ring_progress_wait(ring->progress, k, timeout_ns, fn) : 0;
  return ifd_vk_timeline_host_wait(ring->ready, k, timeout_ns);
}
