/* The Vulkan consumer's frames (interop_fd/vulkan.h): memory imports, the
 * LINEAR and COPY paths, and the commands that hand a frame between queues. */
#include "vk_import_internal.h"

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

static int create_view(ifd_vk_frame *f, VkImageUsageFlags usage) {
  ifd_vk_importer *imp = f->imp;
  /* The sampled view of an image that also has an integer storage view
   * (COPY by compute) leaves storage out: its own format may not allow it. */
  VkImageViewUsageCreateInfo view_usage = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_USAGE_CREATE_INFO,
      .usage = usage & ~(VkImageUsageFlags)VK_IMAGE_USAGE_STORAGE_BIT};
  VkImageViewCreateInfo vci = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .pNext = &view_usage,
      .image = f->h.image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D,
      .format = f->h.format,
      .components = {vk_swizzle(f->info->vk_swizzle[0]), vk_swizzle(f->info->vk_swizzle[1]),
                     vk_swizzle(f->info->vk_swizzle[2]), vk_swizzle(f->info->vk_swizzle[3])},
      .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
  VkResult r = imp->vkCreateImageView(imp->device, &vci, NULL, &f->h.view);
  return r == VK_SUCCESS ? 0 : ifd_vk_fail(r, "vkCreateImageView");
}

void ifd_vkc_frame_free(ifd_vk_frame *f) {
  ifd_vk_importer *imp = f->imp;
  ifd_vkc_copy_free(f);
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
                       VkImageTiling tiling, VkImageUsageFlags usage, VkImageCreateFlags flags) {
  VkImageFormatProperties p;
  if (imp->vkGetPhysicalDeviceImageFormatProperties(imp->physical, format, VK_IMAGE_TYPE_2D,
                                                    tiling, usage, flags, &p) != VK_SUCCESS)
    return false;
  return d->width <= p.maxExtent.width && d->height <= p.maxExtent.height;
}

/* A linear image of d's size in `format` on external memory, as the LINEAR
 * path binds and as the Vulkan backend's exporter probes.
 * VK_ERROR_FORMAT_NOT_SUPPORTED where the device cannot make one that large. */
static const VkImageUsageFlags linear_usage =
    VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;

static VkResult create_linear_image(ifd_vk_importer *imp, const ifd_frame_desc *d,
                                    VkFormat format, VkImage *out) {
  if (!image_fits(imp, d, format, VK_IMAGE_TILING_LINEAR, linear_usage, 0))
    return VK_ERROR_FORMAT_NOT_SUPPORTED;
  VkExternalMemoryImageCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  /* UNDEFINED at creation (VUID-VkImageCreateInfo-pNext-01443): a
   * placeholder; the true layout is the one the acquire from
   * VK_QUEUE_FAMILY_EXTERNAL names. */
  VkImageCreateInfo ici =
      ifd_vk_image_2d(&ext, format, d->width, d->height, VK_IMAGE_TILING_LINEAR, linear_usage);
  return imp->vkCreateImage(imp->device, &ici, NULL, out);
}

/* A buffer of d's size on external memory, with `usage`: the COPY path's
 * view of the memory, and the exporter's buffer that import_type probes. */
static VkResult create_external_buffer(ifd_vk_importer *imp, const ifd_frame_desc *d,
                                       VkBufferUsageFlags usage, VkBuffer *out) {
  VkExternalMemoryBufferCreateInfo ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT};
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .pNext = &ext,
                            .size = d->size,
                            .usage = usage};
  return imp->vkCreateBuffer(imp->device, &bci, NULL, out);
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
  const VkBufferUsageFlags exporter_usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                            VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkMemoryRequirements req;
  VkBuffer b = VK_NULL_HANDLE;
  if (create_external_buffer(imp, d, exporter_usage, &b) != VK_SUCCESS) return -1;
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
  return create_view(f, linear_usage);
}

/* COPY: a buffer on the memory and an OPTIMAL image of our own, filled by
 * the compute copy (vk_copy.c) where `compute` and the device allows it,
 * else by vkCmdCopyBufferToImage (f->h.path says which). The buffer and the
 * image allow the transfer copy either way, so a compute copy that cannot
 * be set up (its pipeline, view or descriptors) falls back to it. */
static int setup_copy(ifd_vk_frame *f, const ifd_frame_desc *d, int fd, bool compute) {
  ifd_vk_importer *imp = f->imp;
  VkFormatProperties fp;
  imp->vkGetPhysicalDeviceFormatProperties(imp->physical, f->h.format, &fp);
  VkFormatFeatureFlags need = VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
  if ((fp.optimalTilingFeatures & need) != need)
    return ifd_fail(-EOPNOTSUPP, "%s cannot sample and copy into an optimal %s image",
                    imp->device_name, f->info->name);
  VkImageUsageFlags usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                            VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
  /* The compute copy writes through an integer view: the image is
   * MUTABLE_FORMAT, and EXTENDED_USAGE lets storage be a usage of that view
   * only (sRGB formats have no storage). */
  const VkImageCreateFlags mutable = VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT |
                                     VK_IMAGE_CREATE_EXTENDED_USAGE_BIT;
  compute = compute && ifd_vkc_copy_compute_usable(imp, d, f->info) &&
            image_fits(imp, d, f->h.format, VK_IMAGE_TILING_OPTIMAL,
                       usage | VK_IMAGE_USAGE_STORAGE_BIT, mutable);
  if (compute) usage |= VK_IMAGE_USAGE_STORAGE_BIT;
  f->h.path = compute ? IFD_VK_PATH_COPY : IFD_VK_PATH_COPY_TRANSFER;
  if (!image_fits(imp, d, f->h.format, VK_IMAGE_TILING_OPTIMAL, usage, compute ? mutable : 0))
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a %ux%u optimal %s image (past its largest "
                                 "image extent)",
                    imp->device_name, d->width, d->height, f->info->name);
  VkResult r = create_external_buffer(
      imp, d,
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | (compute ? VK_BUFFER_USAGE_STORAGE_BUFFER_BIT : 0),
      &f->h.buffer);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkCreateBuffer(external)");
  VkMemoryRequirements req;
  imp->vkGetBufferMemoryRequirements(imp->device, f->h.buffer, &req);
  int rc = import_memory(imp, fd, d->size,
                         import_type(imp, d, f->info, req.memoryTypeBits, false), &f->h.memory);
  if (rc != 0) return rc;
  r = imp->vkBindBufferMemory(imp->device, f->h.buffer, f->h.memory, 0);
  if (r != VK_SUCCESS) return ifd_vk_fail(r, "vkBindBufferMemory");

  uint32_t view_index;
  const VkFormat formats[] = {f->h.format, ifd_vkc_copy_view_format(f->info, &view_index)};
  VkImageFormatListCreateInfo list = {.sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO,
                                      .viewFormatCount = IFD_ARRAY_LEN(formats),
                                      .pViewFormats = formats};
  VkImageCreateInfo ici = ifd_vk_image_2d(compute ? &list : NULL, f->h.format, d->width,
                                          d->height, VK_IMAGE_TILING_OPTIMAL, usage);
  if (compute) ici.flags = mutable;
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
  rc = create_view(f, usage);
  if (rc == 0 && compute && ifd_vkc_copy_setup(f) != 0) f->h.path = IFD_VK_PATH_COPY_TRANSFER;
  return rc;
}

static const char *path_name(ifd_vk_path path) {
  switch (path) {
    case IFD_VK_PATH_COPY: return "copy";
    case IFD_VK_PATH_LINEAR: return "linear";
    case IFD_VK_PATH_COPY_TRANSFER: return "copy-transfer";
    default: return "auto";
  }
}

int ifd_vkc_import_frame(ifd_vk_importer *imp, ifd_frame_desc *desc, ifd_vk_path path,
                         ifd_vk_frame **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_VK_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if (path != IFD_VK_PATH_AUTO && path != IFD_VK_PATH_COPY && path != IFD_VK_PATH_LINEAR &&
      path != IFD_VK_PATH_COPY_TRANSFER)
    return ifd_fail(-EINVAL, "%s: unknown path %d", fn, (int)path);
  const ifd_format_info *info = NULL;
  rc = ifd_check_frame_desc(desc, imp->uuid, imp->device_name, &info);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);

  int fd = -1;
  ifd_vk_frame *f = ifd_import_begin(desc->memory_fd, sizeof(*f), fn, &fd, &rc);
  if (!f) return rc;
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
  if (path == IFD_VK_PATH_AUTO || path == IFD_VK_PATH_LINEAR) {
    f->h.path = IFD_VK_PATH_LINEAR;
    rc = setup_linear(f, desc, fd);
    if (rc != 0 && path == IFD_VK_PATH_AUTO && !f->h.memory) {
      /* Nothing imported yet: release the image and fall back to COPY. */
      if (f->h.view) imp->vkDestroyImageView(imp->device, f->h.view, NULL);
      if (f->h.image) imp->vkDestroyImage(imp->device, f->h.image, NULL);
      f->h.view = VK_NULL_HANDLE;
      f->h.image = VK_NULL_HANDLE;
      rc = setup_copy(f, desc, fd, true);
    }
  } else {
    rc = setup_copy(f, desc, fd, path == IFD_VK_PATH_COPY);
  }
  if (f->h.memory) fd = -1; /* the driver owns the dup now */
  if (rc == 0) rc = ifd_handle_add(f, IFD_HANDLE_VK_FRAME);
  if (rc != 0) {
    if (fd >= 0) close(fd);
    ifd_vkc_frame_free(f);
    return ifd_fail_prefix(rc, "%s(%ux%u %s, %s path)", fn, desc->width, desc->height,
                           info->name, path_name(path));
  }
  ifd_fd_close(&desc->memory_fd);
  IFD_LIST_ADD(imp, frames, f);
  *out = f;
  return 0;
}

int ifd_vk_frame_import(ifd_vk_importer *imp, ifd_frame_desc *desc, ifd_vk_path path,
                        ifd_vk_frame **out) {
  return ifd_vkc_import_frame(imp, desc, path, out, "ifd_vk_frame_import");
}

void ifd_vk_frame_destroy(ifd_vk_frame *f) {
  if (!ifd_handle_destroy_ok(f, IFD_HANDLE_VK_FRAME, "frame", "ifd_vk_frame_destroy"))
    return;
  IFD_CHILD_FORGET(f, frames, ifd_vk_frame);
  ifd_vkc_frame_free(f);
}

int ifd_vk_frame_native_handles(const ifd_vk_frame *f, ifd_vk_frame_native *out) {
  int rc = ifd_check_handle(f, IFD_HANDLE_VK_FRAME, "frame", "ifd_vk_frame_native_handles");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_vk_frame_native_handles: out is NULL");
  *out = f->h;
  return 0;
}

static const VkImageSubresourceRange whole = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};

/* How the COPY path's copy into the frame's own image runs: at which stage,
 * reading the buffer and writing the image with which access, the image in
 * which layout meanwhile. */
typedef struct {
  VkPipelineStageFlags stage;
  VkAccessFlags read, write;
  VkImageLayout layout;
} copy_route;

static const copy_route transfer_route = {VK_PIPELINE_STAGE_TRANSFER_BIT,
                                          VK_ACCESS_TRANSFER_READ_BIT,
                                          VK_ACCESS_TRANSFER_WRITE_BIT,
                                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL};
static const copy_route compute_route = {VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                         VK_ACCESS_SHADER_READ_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                                         VK_IMAGE_LAYOUT_GENERAL};

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
  /* COPY, by the compute copy where it was set up (vk_copy.c), else by
   * vkCmdCopyBufferToImage: acquire the buffer; the image's old contents are
   * discarded, after every earlier read of it (ALL_COMMANDS, no access:
   * execution dependency). */
  const copy_route *route = f->copy_pipeline ? &compute_route : &transfer_route;
  VkBufferMemoryBarrier bb = {.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
                              .dstAccessMask = route->read,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL,
                              .dstQueueFamilyIndex = imp->family,
                              .buffer = f->h.buffer,
                              .size = VK_WHOLE_SIZE};
  VkImageMemoryBarrier ib = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                             .dstAccessMask = route->write,
                             .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                             .newLayout = route->layout,
                             .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                             .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                             .image = f->h.image,
                             .subresourceRange = whole};
  imp->vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, route->stage, 0, 0, NULL, 1,
                            &bb, 1, &ib);
  if (f->copy_pipeline) {
    ifd_vkc_copy_record(f, cmd);
  } else {
    VkBufferImageCopy region = {.bufferRowLength = f->row_pitch / f->info->bytes_per_pixel,
                                .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {f->h.width, f->h.height, 1}};
    imp->vkCmdCopyBufferToImage(cmd, f->h.buffer, f->h.image,
                                VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
  }
  /* Release the buffer back to the producer; the image to its readers. */
  bb.srcAccessMask = route->read;
  bb.dstAccessMask = 0;
  bb.srcQueueFamilyIndex = imp->family;
  bb.dstQueueFamilyIndex = VK_QUEUE_FAMILY_EXTERNAL;
  ib.srcAccessMask = route->write;
  ib.dstAccessMask = dst_access;
  ib.oldLayout = route->layout;
  ib.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
  imp->vkCmdPipelineBarrier(cmd, route->stage, dst_stages | VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                            0, 0, NULL, 1, &bb, 1, &ib);
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
