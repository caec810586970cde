/*
 * vk_consumer.c: a producer and a Vulkan consumer of interop_fd, end to end.
 *
 * The producer is an interop_fd context (CUDA where it works, else the Vulkan
 * reference backend) with a ring of 3 frames. Each frame is filled with one
 * 32-bit value on the context's own stream or queue. The consumer is a
 * separate VkInstance + VkDevice, as in an application: it imports the ring,
 * copies 4 pixels of every frame into a host-visible buffer and checks them.
 *
 * Two ways to synchronise, chosen by what the devices can do:
 *  1. with timelines (NVIDIA, most GPUs): the consumer's submit waits for
 *     ready = k and signals release = k, both on the device;
 *  2. without (Mesa's lavapipe cannot export semaphores): ifd_ring_end_frame
 *     returns once frame k is written; the consumer submits with a fence,
 *     waits for it and hands the frame back with ifd_ring_release_frame.
 *
 * Build: cc vk_consumer.c $(pkg-config --cflags --libs interop_fd vulkan) -ldl
 * Run:   ./vk_consumer [--backend auto|cuda|vulkan]
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <interop_fd/interop_fd.h>
#include <interop_fd/vulkan.h>

#define WIDTH 64
#define HEIGHT 48
#define RING_FRAMES 3
#define FRAMES 30
#define TIMEOUT_NS 5000000000ull /* 5 s */

/* CUDA without cuda.h: the three driver functions the producer needs. */
typedef int (*PFN_cuCtxPushCurrent)(void *ctx);
typedef int (*PFN_cuCtxPopCurrent)(void **ctx);
typedef int (*PFN_cuMemsetD32Async)(unsigned long long dst, unsigned value, size_t n, void *stream);

static struct {
  /* producer */
  ifd_context *ctx;
  ifd_context_native native;
  ifd_ring *ring;
  ifd_ring_desc desc;
  void *libcuda;
  PFN_cuCtxPushCurrent cuCtxPushCurrent;
  PFN_cuCtxPopCurrent cuCtxPopCurrent;
  PFN_cuMemsetD32Async cuMemsetD32Async;
  VkCommandPool producer_pool; /* Vulkan backend: on the context's VkDevice */
  VkCommandBuffer producer_cmd;
  /* consumer */
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t family;
  VkCommandPool pool;
  VkCommandBuffer cmd;
  VkFence fence;
  VkBuffer readback;
  VkDeviceMemory readback_memory;
  uint32_t *pixels; /* the mapped readback buffer */
  ifd_vk_importer *importer;
  ifd_vk_ring *vr;
} app = {.desc = {.ready_fd = -1, .release_fd = -1}};

/* Destroys everything that exists, consumer first, in reverse order of creation. */
static void cleanup(void) {
  if (app.device) vkDeviceWaitIdle(app.device);
  ifd_vk_ring_destroy(app.vr);
  ifd_vk_importer_destroy(app.importer);
  if (app.device) {
    vkDestroyBuffer(app.device, app.readback, NULL);
    vkFreeMemory(app.device, app.readback_memory, NULL); /* unmaps it */
    vkDestroyFence(app.device, app.fence, NULL);
    vkDestroyCommandPool(app.device, app.pool, NULL);
    vkDestroyDevice(app.device, NULL);
  }
  if (app.instance) vkDestroyInstance(app.instance, NULL);
  ifd_ring_desc_close(&app.desc); /* the fds no import took */
  ifd_ring_destroy(app.ring);
  if (app.producer_pool) vkDestroyCommandPool(app.native.vk_device, app.producer_pool, NULL);
  ifd_context_destroy(app.ctx);
  if (app.libcuda) dlclose(app.libcuda);
}

static _Noreturn void fail(const char *what, const char *why) {
  fprintf(stderr, "vk_consumer: %s: %s\n", what, why);
  cleanup();
  exit(1);
}
#define IFD_CHECK(call) do { if ((call) != 0) fail(#call, ifd_last_error()); } while (0)
#define VK_CHECK(call) do { VkResult r_ = (call); if (r_ != VK_SUCCESS) { \
    char s_[32]; snprintf(s_, sizeof(s_), "VkResult %d", r_); fail(#call, s_); } } while (0)

/* What frame k holds, in every pixel: one RGBA8 pixel as a 32-bit word. */
static uint32_t frame_value(uint64_t k) { return 0xff000000u | (uint32_t)(k * 0x030507u & 0xffffff); }

/* The producer writes frame k into img on the context's stream or queue, so
 * that ifd_ring_end_frame's "ready = k", queued after it, covers it. */
static void produce(ifd_image *img, uint64_t k) {
  ifd_image_native h;
  IFD_CHECK(ifd_image_native_handles(img, &h));
  size_t words = h.size / 4;
  if (app.native.backend == IFD_BACKEND_CUDA) {
    void *popped;
    int r = app.cuCtxPushCurrent(app.native.cu_context);
    if (r == 0) {
      r = app.cuMemsetD32Async(h.cu_device_ptr, frame_value(k), words, app.native.cu_stream);
      app.cuCtxPopCurrent(&popped);
    }
    if (r != 0) {
      char why[32];
      snprintf(why, sizeof(why), "CUresult %d", r);
      fail("cuMemsetD32Async", why);
    }
    return;
  }
  /* Vulkan backend: a fill on the context's VkQueue, under its lock. The one
   * command buffer is free again: frame k - 1 was read, after its fill. */
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_CHECK(vkBeginCommandBuffer(app.producer_cmd, &bi));
  VkBuffer buffer = (VkBuffer)(uintptr_t)h.vk_buffer;
  vkCmdFillBuffer(app.producer_cmd, buffer, 0, words * 4, frame_value(k));
  VK_CHECK(vkEndCommandBuffer(app.producer_cmd));
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                     .pCommandBuffers = &app.producer_cmd};
  IFD_CHECK(ifd_context_lock(app.ctx));
  VkResult r = vkQueueSubmit((VkQueue)app.native.vk_queue, 1, &si, VK_NULL_HANDLE);
  ifd_context_unlock(app.ctx);
  VK_CHECK(r);
}

static VkCommandBuffer command_buffer(VkDevice device, uint32_t family, VkCommandPool *pool) {
  VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                .queueFamilyIndex = family};
  VK_CHECK(vkCreateCommandPool(device, &pi, NULL, pool));
  VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                    .commandPool = *pool, .commandBufferCount = 1,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY};
  VkCommandBuffer cmd;
  VK_CHECK(vkAllocateCommandBuffers(device, &ai, &cmd));
  return cmd;
}

static void producer_create(ifd_backend backend, int skip_if_unavailable) {
  int rc = ifd_context_create(backend, 0, &app.ctx);
  if (rc != 0 && skip_if_unavailable && (rc == -ENODEV || rc == -EOPNOTSUPP)) {
    printf("SKIP: no producer on this backend: %s\n", ifd_last_error());
    exit(77); /* CTest's "skipped" */
  }
  if (rc != 0) fail("ifd_context_create", ifd_last_error());
  IFD_CHECK(ifd_context_native_handles(app.ctx, &app.native));
  IFD_CHECK(ifd_ring_create(app.ctx, RING_FRAMES, WIDTH, HEIGHT, MAX_FMT_RGBA8, &app.ring));
  IFD_CHECK(ifd_ring_export(app.ring, &app.desc));
  if (app.native.backend == IFD_BACKEND_CUDA) {
    app.libcuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!app.libcuda) fail("dlopen(libcuda.so.1)", dlerror());
    *(void **)&app.cuCtxPushCurrent = dlsym(app.libcuda, "cuCtxPushCurrent_v2");
    *(void **)&app.cuCtxPopCurrent = dlsym(app.libcuda, "cuCtxPopCurrent_v2");
    *(void **)&app.cuMemsetD32Async = dlsym(app.libcuda, "cuMemsetD32Async");
    if (!app.cuCtxPushCurrent || !app.cuCtxPopCurrent || !app.cuMemsetD32Async)
      fail("dlsym", "libcuda.so.1 lacks a function");
  } else {
    app.producer_cmd = command_buffer((VkDevice)app.native.vk_device, app.native.vk_queue_family,
                                      &app.producer_pool);
  }
}

/* The consumer's own instance and device: the physical device with the
 * producer's UUID, the extensions interop_fd asks for (optional ones only
 * where the device has them), timeline semaphores where supported. */
static void consumer_create(void) {
  VkApplicationInfo ai = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                          .apiVersion = VK_API_VERSION_1_2}; /* 1.2 at least */
  VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                              .pApplicationInfo = &ai};
  VK_CHECK(vkCreateInstance(&ici, NULL, &app.instance));
  VkPhysicalDevice list[16];
  uint32_t n = 16;
  VkResult r = vkEnumeratePhysicalDevices(app.instance, &n, list);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) VK_CHECK(r);
  for (uint32_t i = 0; i < n && !app.physical; i++) {
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 p = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                     .pNext = &id};
    vkGetPhysicalDeviceProperties2(list[i], &p);
    if (memcmp(id.deviceUUID, app.desc.frames[0].device_uuid, VK_UUID_SIZE) == 0)
      app.physical = list[i];
  }
  if (!app.physical) fail("consumer", "no Vulkan device has the producer's UUID");

  VkQueueFamilyProperties families[16];
  n = 16;
  vkGetPhysicalDeviceQueueFamilyProperties(app.physical, &n, families);
  app.family = UINT32_MAX;
  for (uint32_t i = 0; i < n && app.family == UINT32_MAX; i++)
    if (families[i].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) app.family = i;
  if (app.family == UINT32_MAX) fail("consumer", "no graphics or compute queue");

  VkExtensionProperties have[512];
  uint32_t have_count = 512, want_count, enabled = 0;
  r = vkEnumerateDeviceExtensionProperties(app.physical, NULL, &have_count, have);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) VK_CHECK(r);
  const ifd_vk_device_extension *want = ifd_vk_device_extensions(&want_count);
  const char *names[16];
  for (uint32_t i = 0; i < want_count && enabled < 16; i++) {
    int found = 0;
    for (uint32_t j = 0; j < have_count && !found; j++)
      found = strcmp(have[j].extensionName, want[i].name) == 0;
    if (found) names[enabled++] = want[i].name;
    else if (want[i].required) fail(want[i].name, "the device lacks this required extension");
    else printf("vk_consumer: no %s here: %s is off\n", want[i].name, want[i].purpose);
  }
  VkPhysicalDeviceVulkan12Features has12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                  .pNext = &has12};
  vkGetPhysicalDeviceFeatures2(app.physical, &f2);
  VkPhysicalDeviceVulkan12Features on12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .timelineSemaphore = has12.timelineSemaphore};
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                .queueFamilyIndex = app.family, .queueCount = 1,
                                .pQueuePriorities = &priority};
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &on12,
                            .queueCreateInfoCount = 1, .pQueueCreateInfos = &qi,
                            .enabledExtensionCount = enabled, .ppEnabledExtensionNames = names};
  VK_CHECK(vkCreateDevice(app.physical, &dci, NULL, &app.device));
  vkGetDeviceQueue(app.device, app.family, 0, &app.queue);

  app.cmd = command_buffer(app.device, app.family, &app.pool);
  VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VK_CHECK(vkCreateFence(app.device, &fi, NULL, &app.fence));

  /* A host-visible buffer for the 4 pixels read back per frame. */
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 16,
                            .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
  VK_CHECK(vkCreateBuffer(app.device, &bci, NULL, &app.readback));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(app.device, app.readback, &req);
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(app.physical, &mp);
  VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                               VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t type = UINT32_MAX;
  for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
    if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & host) == host)
      type = i;
  if (type == UINT32_MAX) fail("consumer", "no host-visible coherent memory");
  VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                              .allocationSize = req.size, .memoryTypeIndex = type};
  VK_CHECK(vkAllocateMemory(app.device, &mai, NULL, &app.readback_memory));
  VK_CHECK(vkBindBufferMemory(app.device, app.readback, app.readback_memory, 0));
  VK_CHECK(vkMapMemory(app.device, app.readback_memory, 0, 16, 0, (void **)&app.pixels));
}

/* Records: acquire frame k, copy 4 corner pixels to the readback buffer, release. */
static void record_read(ifd_vk_frame *frame) {
  ifd_vk_frame_native f;
  IFD_CHECK(ifd_vk_frame_native_handles(frame, &f));
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_CHECK(vkBeginCommandBuffer(app.cmd, &bi));
  IFD_CHECK(ifd_vk_frame_cmd_acquire(frame, app.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                     VK_ACCESS_TRANSFER_READ_BIT));
  VkImageLayout layout = f.layout; /* GENERAL (LINEAR path) can be copied from as is */
  if (layout != VK_IMAGE_LAYOUT_GENERAL) {
    VkImageMemoryBarrier to_src = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT, .oldLayout = layout,
        .newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .image = f.image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(app.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, NULL, 0, NULL, 1, &to_src);
    layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
  }
  VkBufferImageCopy corners[4];
  for (int i = 0; i < 4; i++)
    corners[i] = (VkBufferImageCopy){
        .bufferOffset = 4 * i, .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageOffset = {(i & 1) ? WIDTH - 1 : 0, (i & 2) ? HEIGHT - 1 : 0, 0},
        .imageExtent = {1, 1, 1}};
  vkCmdCopyImageToBuffer(app.cmd, f.image, layout, app.readback, 4, corners);
  IFD_CHECK(ifd_vk_frame_cmd_release(frame, app.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT));
  VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                             .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                             .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(app.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                       &to_host, 0, NULL, 0, NULL);
  VK_CHECK(vkEndCommandBuffer(app.cmd));
}

int main(int argc, char **argv) {
  ifd_backend backend = IFD_BACKEND_AUTO;
  int skip_if_unavailable = 0; /* for the test suite: exit 77 where the backend is missing */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
      const char *b = argv[++i];
      backend = !strcmp(b, "cuda") ? IFD_BACKEND_CUDA : !strcmp(b, "vulkan") ? IFD_BACKEND_VULKAN
              : !strcmp(b, "auto") ? IFD_BACKEND_AUTO : (ifd_backend)-1;
    } else if (strcmp(argv[i], "--skip-if-unavailable") == 0) {
      skip_if_unavailable = 1;
    } else {
      backend = (ifd_backend)-1;
    }
    if (backend == (ifd_backend)-1) {
      fprintf(stderr, "usage: %s [--backend auto|cuda|vulkan] [--skip-if-unavailable]\n", argv[0]);
      return 2;
    }
  }
  producer_create(backend, skip_if_unavailable);
  consumer_create();
  ifd_vk_device_info info = {.instance = app.instance, .physical_device = app.physical,
                             .device = app.device, .queue_family_index = app.family};
  IFD_CHECK(ifd_vk_importer_create(&info, &app.importer));
  IFD_CHECK(ifd_vk_ring_import(app.importer, &app.desc, IFD_VK_PATH_AUTO, &app.vr)); /* takes the fds */
  ifd_vk_timeline *ready = ifd_vk_ring_ready(app.vr), *release = ifd_vk_ring_release(app.vr);
  ifd_vk_frame_native f0;
  IFD_CHECK(ifd_vk_frame_native_handles(ifd_vk_ring_frame(app.vr, 1), &f0));
  printf("vk_consumer: %s producer on %s, %s path, %s\n",
         app.native.backend == IFD_BACKEND_CUDA ? "CUDA" : "Vulkan", app.native.device_name,
         f0.path == IFD_VK_PATH_LINEAR ? "LINEAR" : "COPY",
         ready ? "timelines (device-side waits)" : "no timelines (host-side hand-over)");

  for (uint64_t n = 1; n <= FRAMES; n++) {
    /* Producer: frame k into the next slot of the ring. */
    uint64_t k;
    ifd_image *img;
    IFD_CHECK(ifd_ring_begin_frame(app.ring, TIMEOUT_NS, &k, &img));
    produce(img, k);
    IFD_CHECK(ifd_ring_end_frame(app.ring, k)); /* queues ready = k (or waits, without timelines) */

    /* Consumer: read frame k. */
    record_read(ifd_vk_ring_frame(app.vr, k));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &app.cmd};
    if (ready) {
      /* Branch 1, timelines: wait for ready = k and signal release = k on the device. */
      VkSemaphore wait = ifd_vk_timeline_semaphore(ready), signal = ifd_vk_timeline_semaphore(release);
      VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
      VkTimelineSemaphoreSubmitInfo values = {
          .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
          .waitSemaphoreValueCount = 1, .pWaitSemaphoreValues = &k,
          .signalSemaphoreValueCount = 1, .pSignalSemaphoreValues = &k};
      si.pNext = &values;
      si.waitSemaphoreCount = 1;
      si.pWaitSemaphores = &wait;
      si.pWaitDstStageMask = &stage;
      si.signalSemaphoreCount = 1;
      si.pSignalSemaphores = &signal;
      VK_CHECK(vkQueueSubmit(app.queue, 1, &si, app.fence));
      VK_CHECK(vkWaitForFences(app.device, 1, &app.fence, VK_TRUE, TIMEOUT_NS)); /* to check pixels */
    } else {
      /* Branch 2, no timelines: ifd_ring_end_frame returned once frame k was
       * written, so submit now, wait, and hand frame k back from the host. */
      VK_CHECK(vkQueueSubmit(app.queue, 1, &si, app.fence));
      VK_CHECK(vkWaitForFences(app.device, 1, &app.fence, VK_TRUE, TIMEOUT_NS));
      IFD_CHECK(ifd_ring_release_frame(app.ring, k));
    }
    VK_CHECK(vkResetFences(app.device, 1, &app.fence));

    for (int i = 0; i < 4; i++)
      if (app.pixels[i] != frame_value(k)) {
        char why[128];
        snprintf(why, sizeof(why), "pixel (%d, %d) reads 0x%08x, expected 0x%08x",
                 (i & 1) ? WIDTH - 1 : 0, (i & 2) ? HEIGHT - 1 : 0, app.pixels[i], frame_value(k));
        fail("frame check", why);
      }
    if (k == 1 || k % 10 == 0)
      printf("vk_consumer: frame %llu: 4 pixels = 0x%08x, as written\n", (unsigned long long)k,
             frame_value(k));
  }
  cleanup();
  printf("vk_consumer: %d frames checked\n", FRAMES);
  return 0;
}
