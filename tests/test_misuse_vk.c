/* misuse_vk: the Vulkan consumer API used wrongly gets an error with a
 * message, never a crash or a silent success.
 *   test_misuse_vk cpu      : importer destroyed before its rings and frames,
 *       a queue family that does not exist, a frame never produced on a ring
 *       without timelines, a description imported twice, a stale description
 *       (fds closed). Runs on lavapipe.
 *   test_misuse_vk timeline : a lower signal value on a real timeline (needs
 *       exportable timeline semaphores: skips with the reason elsewhere).
 * The producer is IFD_TEST_BACKEND (vulkan by default). */
#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "common/tool_error.h"
#include "harness/vk_device.h"
#include "test_util.h"

/* A consumer's own device: Vulkan 1.2, external memory fds, and external
 * semaphore fds with timelines where the device has them. */
typedef struct {
  test_vk_device dev;
  uint32_t families;
  bool timelines;
} app;

static void app_open(app *a) {
  memset(a, 0, sizeof(*a));
  if (vk_kit_create_instance(NULL, VK_API_VERSION_1_2, NULL, 0, &a->dev.instance) != 0)
    SKIP("no Vulkan instance: %s", tool_last_error());
  if (vk_kit_pick_physical(a->dev.instance, NULL, &a->dev.physical, NULL) != 0)
    SKIP("no Vulkan device");
  a->families = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(a->dev.physical, &a->families, NULL);
  REQUIRE(vk_kit_queue_family(a->dev.physical, VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT,
                              &a->dev.family) == 0);
  VkPhysicalDeviceVulkan12Features have12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 have = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &have12};
  vkGetPhysicalDeviceFeatures2(a->dev.physical, &have);
  a->timelines =
      have12.timelineSemaphore &&
      vk_kit_has_device_extension(a->dev.physical,
                                  VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME);
  const char *exts[] = {VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME,
                        VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME};
  VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .timelineSemaphore = a->timelines};
  vk_kit_device_config dc = {.physical = a->dev.physical,
                             .family = a->dev.family,
                             .extensions = exts,
                             .extension_count = a->timelines ? 2 : 1,
                             .features = &f12};
  REQUIRE(vk_kit_create_device(&dc, &a->dev.device, &a->dev.queue) == 0);
}

static void app_close(app *a) {
  vkDeviceWaitIdle(a->dev.device);
  test_vk_device_destroy(&a->dev);
}

/* An importer on the app's device, as every case but queue_family makes one. */
static ifd_vk_importer *open_importer(app *a) {
  ifd_vk_device_info info = test_vk_device_info(&a->dev);
  ifd_vk_importer *imp = NULL;
  REQUIRE(ifd_vk_importer_create(&info, &imp) == 0);
  return imp;
}

/* What the ring cases start from: an importer on the app's device, a 2-frame
 * 32x16 ring of ctx exported into d, and d imported into vr through `path`.
 * Returns the import's result (vr stays NULL where it failed). */
typedef struct {
  ifd_vk_importer *imp;
  ifd_ring *ring;
  ifd_ring_desc d;
  ifd_vk_ring *vr;
} imported_ring;

static int imported_ring_open(imported_ring *r, app *a, ifd_context *ctx, MAX_Format format,
                              ifd_vk_path path) {
  r->imp = open_importer(a);
  REQUIRE(ifd_ring_create(ctx, 2, 32, 16, format, &r->ring) == 0);
  REQUIRE(ifd_ring_export(r->ring, &r->d) == 0);
  r->vr = NULL;
  return ifd_vk_ring_import(r->imp, &r->d, path, &r->vr);
}

/* Where the import failed: closes the description's fds, destroys the ring
 * and the importer. */
static void imported_ring_abandon(imported_ring *r) {
  ifd_ring_desc_close(&r->d);
  ifd_ring_destroy(r->ring);
  ifd_vk_importer_destroy(r->imp);
}

static void queue_family(app *a) {
  ifd_vk_device_info info = test_vk_device_info(&a->dev);
  ifd_vk_importer *imp = NULL;
  info.queue_family_index = a->families; /* one past the last */
  CHECK_RC(ifd_vk_importer_create(&info, &imp), -EINVAL);
  test_check_message("ifd_vk_importer_create", "does not exist");
  CHECK(imp == NULL);
  info.queue_family_index = VK_QUEUE_FAMILY_IGNORED;
  CHECK_RC(ifd_vk_importer_create(&info, &imp), -EINVAL);
  test_check_message("ifd_vk_importer_create", "queue_family_index");
  CHECK(imp == NULL);
  info.queue_family_index = a->dev.family;
  CHECK_RC(ifd_vk_importer_create(&info, &imp), 0);
  ifd_vk_importer_destroy(imp);
}

static void importer_destroyed_first(app *a, ifd_context *ctx) {
  imported_ring r;
  CHECK_RC(imported_ring_open(&r, a, ctx, MAX_FMT_RGBA8, IFD_VK_PATH_COPY), 0);
  ifd_frame_desc fd;
  REQUIRE(ifd_image_describe(ifd_ring_image(r.ring, 0), &fd) == 0);
  ifd_vk_frame *frame = NULL;
  CHECK_RC(ifd_vk_frame_import(r.imp, &fd, IFD_VK_PATH_AUTO, &frame), 0);
  ifd_vk_timeline *tl = NULL;
  if (ifd_ring_ready(r.ring)) {
    int tfd = -1;
    REQUIRE(ifd_timeline_export_fd(ifd_ring_ready(r.ring), &tfd) == 0);
    CHECK_RC(ifd_vk_timeline_import(r.imp, &tfd, &tl), 0);
    if (tfd >= 0) close(tfd);
  }
  ifd_vk_frame *ring_frame = ifd_vk_ring_frame(r.vr, 1);
  CHECK(ring_frame != NULL);

  ifd_vk_importer_destroy(r.imp); /* the wrong order */

  CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 1, 1000000ull), -EINVAL);
  test_check_message("ifd_vk_ring_wait_ready", "importer was destroyed first");
  ifd_vk_frame_native native;
  CHECK_RC(ifd_vk_frame_native_handles(frame, &native), -EINVAL);
  test_check_message("ifd_vk_frame_native_handles", "importer was destroyed first");
  CHECK_RC(ifd_vk_frame_native_handles(ring_frame, &native), -EINVAL);
  /* Refused before the command buffer (never used here) is looked at. */
  CHECK_RC(ifd_vk_frame_cmd_acquire(frame, (VkCommandBuffer)(uintptr_t)1, 0, 0), -EINVAL);
  test_check_message("ifd_vk_frame_cmd_acquire", "importer was destroyed first");
  CHECK(ifd_vk_ring_frame(r.vr, 1) == NULL && ifd_vk_ring_count(r.vr) == 0);
  CHECK(ifd_vk_ring_ready(r.vr) == NULL);
  if (tl) {
    uint64_t v;
    CHECK_RC(ifd_vk_timeline_value(tl, &v), -EINVAL);
    test_check_message("ifd_vk_timeline_value", "importer was destroyed first");
    CHECK(ifd_vk_timeline_semaphore(tl) == VK_NULL_HANDLE);
  }
  /* Destroys after the importer only forget the handles; twice is harmless. */
  ifd_vk_ring_destroy(r.vr);
  ifd_vk_frame_destroy(frame);
  ifd_vk_timeline_destroy(tl);
  ifd_vk_ring_destroy(r.vr);
  ifd_vk_frame_destroy(frame);
  CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 1, 0), -EINVAL);
  test_check_message("ifd_vk_ring_wait_ready", "not a live handle");
  ifd_ring_desc_close(&r.d);
  ifd_frame_desc_close(&fd);
  ifd_ring_destroy(r.ring);
}

static void never_produced(app *a, ifd_context *ctx) {
  imported_ring r;
  int rc = imported_ring_open(&r, a, ctx, MAX_FMT_RGBA8, IFD_VK_PATH_AUTO);
  if (rc == -EOPNOTSUPP) { /* timelines the consumer device cannot import */
    printf("never_produced: not run: %s\n", ifd_last_error());
    imported_ring_abandon(&r);
    return;
  }
  REQUIRE(rc == 0);
  bool timelines = ifd_vk_ring_ready(r.vr) != NULL;
  printf("never_produced: ring %s timelines\n", timelines ? "with" : "without");

  /* Frame 1 was never begun: the wait ends with -ETIMEDOUT, in time. */
  uint64_t t0 = test_now_ns();
  CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 1, 20000000ull), -ETIMEDOUT);
  uint64_t waited = test_now_ns() - t0;
  CHECK(waited >= 20000000ull && waited < 2000000000ull);
  printf("never_produced: wait for frame 1: %s\n", ifd_last_error());
  uint64_t k = 0;
  ifd_image *img = NULL;
  REQUIRE(ifd_ring_begin_frame(r.ring, 1000000000ull, &k, &img) == 0 && k == 1);
  CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 1, 0), -ETIMEDOUT); /* begun is not produced */
  REQUIRE(ifd_ring_end_frame(r.ring, 1) == 0);
  CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 1, 5000000000ull), 0);
  CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 2, 1000000ull), -ETIMEDOUT);
  /* A producer gone before frame 2: no one can ever produce it. */
  ifd_ring_destroy(r.ring);
  if (!timelines) {
    t0 = test_now_ns();
    CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 2, 10000000000ull), -EPIPE);
    test_check_message("ifd_vk_ring_wait_ready", "destroyed after frame 1");
    CHECK(test_now_ns() - t0 < 1000000000ull); /* at once, not after the timeout */
    CHECK_RC(ifd_vk_ring_wait_ready(r.vr, 1, 0), 0); /* frame 1 was produced */
  }
  ifd_vk_ring_destroy(r.vr);
  ifd_vk_importer_destroy(r.imp);
}

static void stale_descriptions(app *a, ifd_context *ctx) {
  /* The same description twice: the first import consumed its fds. */
  imported_ring r;
  int rc = imported_ring_open(&r, a, ctx, MAX_FMT_R8, IFD_VK_PATH_COPY);
  if (rc == -EOPNOTSUPP) {
    imported_ring_abandon(&r);
    SKIP("the consumer device cannot import the ring: %s", ifd_last_error());
  }
  ifd_vk_ring *again = NULL;
  REQUIRE(rc == 0);
  CHECK(r.d.frames[0].memory_fd == -1 && r.d.ready_fd == -1);
  CHECK_RC(ifd_vk_ring_import(r.imp, &r.d, IFD_VK_PATH_COPY, &again), -EBADF);
  test_check_message("ifd_vk_ring_import", "memory_fd -1 is not an open fd");
  CHECK(again == NULL);
  ifd_frame_desc f;
  REQUIRE(ifd_image_describe(ifd_ring_image(r.ring, 0), &f) == 0);
  ifd_vk_frame *frame = NULL, *frame2 = NULL;
  CHECK_RC(ifd_vk_frame_import(r.imp, &f, IFD_VK_PATH_COPY, &frame), 0);
  CHECK_RC(ifd_vk_frame_import(r.imp, &f, IFD_VK_PATH_COPY, &frame2), -EBADF);
  test_check_message("ifd_vk_frame_import", "not an open fd");
  CHECK(frame2 == NULL);

  /* A stale copy: its fds were closed through the original. */
  int fds_before = test_count_fds();
  REQUIRE(ifd_ring_export(r.ring, &r.d) == 0);
  ifd_ring_desc stale = r.d;
  ifd_ring_desc_close(&r.d);
  CHECK_RC(ifd_vk_ring_import(r.imp, &stale, IFD_VK_PATH_COPY, &again), -EBADF);
  test_check_message("ifd_vk_ring_import", "is not an open fd");
  /* ...and its numbers reused by something that is not memory. */
  int p[2];
  REQUIRE(pipe(p) == 0);
  if (p[0] == stale.frames[0].memory_fd || p[1] == stale.frames[0].memory_fd) {
    CHECK_RC(ifd_vk_ring_import(r.imp, &stale, IFD_VK_PATH_COPY, &again), -EINVAL);
    test_check_message("ifd_vk_ring_import", "pipe");
  }
  CHECK(again == NULL);
  close(p[0]);
  close(p[1]);
  CHECK(test_count_fds() == fds_before);

  ifd_vk_frame_destroy(frame);
  ifd_vk_ring_destroy(r.vr);
  ifd_ring_destroy(r.ring);
  ifd_vk_importer_destroy(r.imp);
}

/* A frame wider than the device's largest image: refused on both paths with
 * -EOPNOTSUPP before any image is made (an image past the device's extent is
 * invalid usage that drivers need not report). The memory is a real 256x256
 * RGBA8 image, described as one row of 65,536 pixels. */
static void larger_than_device(app *a, ifd_context *ctx) {
  ifd_vk_importer *imp = open_importer(a);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(ctx, 256, 256, MAX_FMT_RGBA8, &img) == 0);
  ifd_frame_desc f;
  REQUIRE(ifd_image_describe(img, &f) == 0);
  REQUIRE(f.size >= 256u * 256u * 4u);
  f.width = 65536;
  f.height = 1;
  f.row_pitch = 65536 * 4;
  ifd_vk_frame *frame = NULL;
  CHECK_RC(ifd_vk_frame_import(imp, &f, IFD_VK_PATH_COPY, &frame), -EOPNOTSUPP);
  test_check_message("ifd_vk_frame_import", "largest image extent");
  CHECK_RC(ifd_vk_frame_import(imp, &f, IFD_VK_PATH_AUTO, &frame), -EOPNOTSUPP);
  CHECK(frame == NULL && f.memory_fd >= 0);
  ifd_frame_desc_close(&f);
  ifd_image_destroy(img);
  ifd_vk_importer_destroy(imp);
}

/* Values only grow, on every path that signals a real timeline. */
static void lower_values(app *a, ifd_context *ctx) {
  ifd_timeline *tl = NULL;
  int rc = ifd_timeline_create(ctx, 0, &tl);
  if (rc == -EOPNOTSUPP) SKIP("the producer cannot export timelines: %s", ifd_last_error());
  REQUIRE(rc == 0);
  if (!a->timelines) {
    ifd_timeline_destroy(tl);
    SKIP("the consumer device has no external timeline semaphores");
  }
  CHECK_RC(ifd_timeline_signal(tl, 5), 0);
  CHECK_RC(ifd_timeline_signal(tl, 3), -EINVAL);
  test_check_message("ifd_timeline_signal", "not above 5");
  CHECK_RC(ifd_timeline_host_wait(tl, 5, 5000000000ull), 0);

  int sem = -1;
  REQUIRE(AsyncRT_Create_timeline_semaphore_fd(ctx, 10, &sem) == 0);
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem, 9), -EINVAL);
  test_check_message("AsyncRT_Signal_timeline_semaphore_fd", "not above 10");
  CHECK_RC(AsyncRT_Signal_timeline_semaphore_fd(sem, 11), 0);

  ifd_vk_importer *imp = open_importer(a);
  int efd = -1;
  REQUIRE(ifd_timeline_export_fd(tl, &efd) == 0);
  ifd_vk_timeline *vt = NULL;
  CHECK_RC(ifd_vk_timeline_import(imp, &efd, &vt), 0);
  CHECK_RC(ifd_vk_timeline_host_wait(vt, 5, 5000000000ull), 0);
  CHECK_RC(ifd_vk_timeline_host_signal(vt, 4), -EINVAL);
  test_check_message("ifd_vk_timeline_host_signal", "not above the current value 5");
  CHECK_RC(ifd_vk_timeline_host_signal(vt, 5), -EINVAL);
  CHECK_RC(ifd_vk_timeline_host_signal(vt, 6), 0);
  uint64_t v = 0;
  CHECK_RC(ifd_timeline_host_wait(tl, 6, 5000000000ull), 0);
  CHECK_RC(ifd_timeline_value(tl, &v), 0);
  CHECK(v == 6);
  ifd_vk_timeline_destroy(vt);
  ifd_vk_importer_destroy(imp);
  if (efd >= 0) close(efd);
  close(sem);
  ifd_timeline_destroy(tl);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "cpu";
  /* Count fds from after one context: the CUDA driver keeps the fds it opens
   * for the first context (/dev/nvidia*) until the process exits. */
  ifd_context_destroy(test_producer_context_or_skip());
  int fds_before = test_count_fds();
  app a;
  app_open(&a);
  ifd_context *ctx = test_producer_context_or_skip();
  if (strcmp(mode, "timeline") == 0) {
    lower_values(&a, ctx);
  } else {
    queue_family(&a);
    importer_destroyed_first(&a, ctx);
    never_produced(&a, ctx);
    stale_descriptions(&a, ctx);
    larger_than_device(&a, ctx);
  }
  ifd_context_destroy(ctx);
  app_close(&a);
  CHECK(test_count_fds() == fds_before);
  return test_finish("misuse_vk");
}
