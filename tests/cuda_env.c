/* Shared set-up of the CUDA backend's GPU tests: cuda_env.h says what. */
#include "cuda_env.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

const cuda_kit *g_cu;

static int uuid_is_zero(const uint8_t uuid[16]) {
  for (int i = 0; i < 16; i++)
    if (uuid[i]) return 0;
  return 1;
}

ifd_context *create_cuda_or_skip(void) {
  ifd_context *ctx = test_context_or_skip(IFD_BACKEND_CUDA);
  if (!g_cu) REQUIRE(cuda_kit_load(&g_cu) == 0); /* a CUDA context exists: the driver loads */
  return ctx;
}

void env_open(cuda_env *e) {
  memset(e, 0, sizeof(*e));
  e->ctx = create_cuda_or_skip();
  REQUIRE(ifd_context_native_handles(e->ctx, &e->nat) == 0);
  REQUIRE(e->nat.backend == IFD_BACKEND_CUDA && e->nat.cu_context != NULL);
  e->stream = (CUstream)e->nat.cu_stream;
  CU_REQUIRE(g_cu->cuCtxPushCurrent((CUcontext)e->nat.cu_context));
  CU_REQUIRE(tk_load(g_cu, &e->k));
}

void env_close(cuda_env *e) {
  tk_unload(&e->k);
  CUcontext popped = NULL;
  g_cu->cuCtxPopCurrent(&popped);
  ifd_context_destroy(e->ctx);
  memset(e, 0, sizeof(*e));
}

/* A Vulkan ifd context on the same GPU as the CUDA one (matched by UUID), or a
 * skip where there is none. */
ifd_context *create_vulkan_ctx_on(const ifd_context_native *cuda_nat) {
  for (int i = 0; i < 8; i++) {
    ifd_context *vk = NULL;
    int rc = ifd_context_create(IFD_BACKEND_VULKAN, i, &vk);
    if (rc == -ENODEV && i == 0) SKIP("no Vulkan device: %s", ifd_last_error());
    if (rc != 0) break;
    ifd_context_native nat;
    REQUIRE(ifd_context_native_handles(vk, &nat) == 0);
    if (uuid_is_zero(cuda_nat->device_uuid) ||
        memcmp(nat.device_uuid, cuda_nat->device_uuid, 16) == 0)
      return vk;
    ifd_context_destroy(vk);
  }
  SKIP("no Vulkan device has the CUDA device's UUID");
}

/* The consumer side: a second VkDevice on the CUDA device, as another process
 * would open it. */
void open_consumer_on(vkc *c, const ifd_context_native *cuda_nat) {
  for (int i = 0; i < 8; i++) {
    if (vkc_open(c, i) != 0) {
      if (i == 0) SKIP("no Vulkan device to import into (vkc_open failed)");
      break;
    }
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &id};
    vkGetPhysicalDeviceProperties2(c->dev.physical, &p2);
    if (uuid_is_zero(cuda_nat->device_uuid) ||
        memcmp(id.deviceUUID, cuda_nat->device_uuid, 16) == 0)
      return;
    vkc_close(c);
  }
  SKIP("no Vulkan device has the CUDA device's UUID");
}

/* The driver opens some fds once per process (cuInit, the first context, the
 * Vulkan ICD) and keeps them. One full cycle before counting makes the fd
 * check catch what leaks per object, not what the driver caches. Also the
 * skip check: no CUDA device, no test. */
static void warm_up(void) {
  cuda_env e;
  env_open(&e);
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(e.ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_image_native in;
  REQUIRE(ifd_image_native_handles(img, &in) == 0);
  CU_REQUIRE(tk_fill_pattern(&e.k, e.stream, in.cu_device_ptr, in.row_pitch, 64, 64,
                             MAX_FMT_RGBA8, 1));
  uint8_t buf[64 * 64 * 4];
  REQUIRE(ifd_image_download(img, buf, 64 * 4) == 0);
  int fd = -1;
  uint64_t size;
  uint32_t pitch, w, h;
  MAX_Format f;
  if (AsyncRT_DeviceBuffer_export_fd(img, &fd, &size, &pitch, &w, &h, &f) == 0) close(fd);
  ifd_timeline *tl = NULL;
  if (ifd_timeline_create(e.ctx, 0, &tl) == 0) {
    ifd_timeline_signal(tl, 1);
    ifd_timeline_host_wait(tl, 1, 5 * SEC);
    ifd_timeline_destroy(tl);
  }
  ifd_image_destroy(img);
  ifd_context *vk = NULL;
  if (ifd_context_create(IFD_BACKEND_VULKAN, 0, &vk) == 0) ifd_context_destroy(vk);
  vkc c;
  if (vkc_open(&c, 0) == 0) vkc_close(&c);
  env_close(&e);
}


int cuda_test_main(const char *name, void (*run)(void), bool tolerate_driver_nodes) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr in order in CTest's log */
  test_watch(name, 240);            /* CTest's TIMEOUT is 300 s */
  warm_up();                        /* skips here where there is no CUDA device */

  static test_fd_set before;
  test_fd_snapshot(&before);
  int fds = test_count_fds();
  run();
  int now = test_count_fds();
  if (tolerate_driver_nodes) {
    int leaks = now != fds ? test_fds_changed_since(&before, name, true, "/dev/nvidia") : 0;
    CHECK(leaks == 0);
  } else {
    CHECK(now == fds);
    if (now != fds) test_fds_changed_since(&before, name, true, NULL);
  }
  return test_finish(name);
}
