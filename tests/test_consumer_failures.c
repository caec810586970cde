/* The consumer API refuses what it must: bad descriptions, foreign devices,
 * non-memory fds, waits that never complete. Each gives an error with a
 * message, leaks no fd and leaves the caller's fds untouched; on the Vulkan
 * and the GL consumer, whichever can be opened. And what it must not
 * refuse: a COPY import on a device that cannot make the compute copy's
 * pipeline goes by the transfer copy. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "consumer_env.h"


/* Imports `d` and expects error `want`, with the fd untouched and no fd leaked. */
static void expect_import_error(consumer *c, ifd_frame_desc *d, int want, const char *what) {
  int fd = d ? d->memory_fd : -1, fds = test_count_fds();
  void *frame = NULL;
  int rc = consumer_import(c, d, 0, &frame);
  const char *msg = ifd_last_error();
  printf("%-3s %-40s -> %d (%s)\n", c->gl ? "gl" : "vk", what, rc, msg);
  if (rc != want) {
    fprintf(stderr, "%s: got %d, expected %d\n", what, rc, want);
    test_failures++;
  }
  CHECK(frame == NULL);
  CHECK(msg[0] != '\0');
  CHECK(!d || d->memory_fd == fd);
  if (fd >= 0 && fcntl(fd, F_GETFD) < 0 && want != -EBADF) {
    fprintf(stderr, "%s: the failed import closed the caller's fd\n", what);
    test_failures++;
  }
  if (rc == 0) consumer_destroy(c, frame);
  CHECK(test_count_fds() == fds);
}

static void failures_for(producer *p, consumer *c) {
  ifd_image *img = NULL;
  REQUIRE(ifd_image_create(p->ctx, 64, 64, MAX_FMT_RGBA8, &img) == 0);
  ifd_frame_desc good;
  REQUIRE(ifd_image_describe(img, &good) == 0);
  ifd_frame_desc d = good;

  d.device_uuid[0] ^= 0xff;
  d.device_uuid[15] ^= 0x5a;
  expect_import_error(c, &d, -EXDEV, "device UUID of another device");
  d = good;
  d.size = (uint64_t)d.row_pitch * d.height - 1;
  expect_import_error(c, &d, -EINVAL, "size below row_pitch x height");
  d = good;
  d.row_pitch = 64 * 4 - 4;
  expect_import_error(c, &d, -EINVAL, "row pitch shorter than a row");
  d = good;
  d.format = (MAX_Format)0;
  expect_import_error(c, &d, -EINVAL, "format 0");
  d.format = (MAX_Format)12;
  expect_import_error(c, &d, -EINVAL, "format 12");
  d = good;
  d.width = 0;
  expect_import_error(c, &d, -EINVAL, "width 0");
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  d = good;
  d.memory_fd = pipefd[0];
  expect_import_error(c, &d, -EINVAL, "a pipe as memory fd");
  close(pipefd[0]);
  close(pipefd[1]);
  d = good;
  d.memory_fd = pipefd[0]; /* closed now */
  expect_import_error(c, &d, -EBADF, "a closed fd");
  d = good;
  d.memory_fd = -1;
  expect_import_error(c, &d, -EBADF, "fd -1");
  d = good;
  expect_import_error(c, NULL, -EINVAL, "NULL description");
  /* The good description still imports, and only now is its fd consumed. */
  void *frame = NULL;
  CHECK_RC(consumer_import(c, &good, 0, &frame), 0);
  CHECK(good.memory_fd == -1);
  consumer_destroy(c, frame);
  ifd_frame_desc_close(&good);
  ifd_image_destroy(img);
}

/* Ring ownership: a ring import that fails on its last frame consumes nothing. */
static void ring_ownership(producer *p, consumer *c) {
  if (c->gl) return; /* the same code path is shared; Vulkan is enough */
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create(p->ctx, 3, 32, 32, MAX_FMT_RGBA8, &ring) == 0);
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  ifd_ring_desc saved = d;
  d.frames[2].device_uuid[3] ^= 1;
  ifd_vk_ring *vr = NULL;
  int fds = test_count_fds();
  CHECK_RC(ifd_vk_ring_import(c->vk.importer, &d, IFD_VK_PATH_AUTO, &vr), -EXDEV);
  CHECK(test_count_fds() == fds);
  for (uint32_t i = 0; i < 3; i++) CHECK(d.frames[i].memory_fd == saved.frames[i].memory_fd &&
                                         fd_open(d.frames[i].memory_fd));
  CHECK(d.ready_fd == saved.ready_fd && d.release_fd == saved.release_fd);
  d.frames[2].device_uuid[3] ^= 1;
  CHECK_RC(ifd_vk_ring_import(c->vk.importer, &d, IFD_VK_PATH_AUTO, &vr), 0);
  for (uint32_t i = 0; i < 3; i++) CHECK(d.frames[i].memory_fd == -1);
  CHECK(d.ready_fd == -1 && d.release_fd == -1);
  ifd_vk_ring_destroy(vr);
  ifd_ring_desc_close(&d);

  /* The producer's wait for a release that never comes times out: at once
   * without timelines; with them, frames 4..6 only enqueue device-side waits
   * and the host blocks at frame 7. */
  uint64_t k = 0;
  ifd_image *img = NULL;
  bool timelines = ifd_ring_release(ring) != NULL;
  uint64_t free_frames = timelines ? 6 : 3;
  for (uint64_t i = 0; i < free_frames; i++) {
    CHECK_RC(ifd_ring_begin_frame(ring, TEST_SEC, &k, &img), 0);
    CHECK_RC(ifd_ring_end_frame(ring, k), 0);
  }
  double t0 = test_now_s();
  int rc = ifd_ring_begin_frame(ring, 50 * 1000 * 1000, &k, &img);
  double dt = test_now_s() - t0;
  printf("ring full, no release: %d after %.0f ms (%s)\n", rc, dt * 1e3, ifd_last_error());
  CHECK(rc == -ETIMEDOUT && dt >= 0.045 && dt < 1.0);
  CHECK(strstr(ifd_last_error(), "did not release frame 1") != NULL);
  uint64_t next = free_frames + 1;
  CHECK_RC(ifd_ring_end_frame(ring, next), -EINVAL);     /* never began */
  CHECK_RC(ifd_ring_release_frame(ring, next + 1), -EINVAL); /* not ended */
  /* With timelines the stream already waits for release 1: it is signalled
   * from the host, or the stream would never get past its wait. */
  CHECK_RC(ifd_ring_release_frame(ring, 1), 0);
  CHECK_RC(ifd_ring_release_frame(ring, 1), -EINVAL);  /* values only grow */
  if (timelines) CHECK_RC(ifd_timeline_host_wait(ifd_ring_release(ring), 1, TEST_SEC), 0);
  CHECK_RC(ifd_ring_begin_frame(ring, TEST_SEC, &k, &img), 0);
  CHECK(k == next && img == ifd_ring_image(ring, 0));
  CHECK_RC(ifd_ring_begin_frame(ring, TEST_SEC, &k, &img), -EINVAL); /* still open */
  /* Destroying the ring releases the stream's waits (frames 4..7 wait for
   * releases 1..4 that never come); the context then goes idle. */
  CHECK_RC(ifd_ring_end_frame(ring, next), 0);
  ifd_ring_destroy(ring);
}

/* A timeline that never reaches the value: the host wait times out cleanly. */
static void timeline_timeout(producer *p, consumer *c, bool count_fds) {
  ifd_timeline *tl = NULL;
  int fds = test_count_fds(); /* before: drivers may hold an fd per exportable semaphore */
  int rc = ifd_timeline_create(p->ctx, 0, &tl);
  if (rc == -EOPNOTSUPP) {
    printf("timeline timeout: not run, the producer cannot export timelines (%s)\n",
           ifd_last_error());
    return;
  }
  REQUIRE(rc == 0);
  int fd = -1;
  REQUIRE(ifd_timeline_export_fd(tl, &fd) == 0);
  if (c->gl) {
    ifd_gl_timeline *gt = NULL;
    if (ifd_gl_importer_has_timelines(c->gli)) {
      CHECK_RC(ifd_gl_timeline_import(c->gli, &fd, &gt), 0);
      CHECK(fd == -1);
      ifd_gl_timeline_destroy(gt);
      gt = NULL;
    }
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    int bad = pipefd[0];
    rc = ifd_gl_timeline_import(c->gli, &bad, &gt);
    printf("gl  timeline import of a pipe -> %d (%s)\n", rc, ifd_last_error());
    CHECK(rc != 0 && gt == NULL && bad == pipefd[0] && fd_open(bad));
    close(pipefd[0]);
    close(pipefd[1]);
  } else {
    ifd_vk_timeline *vt = NULL;
    CHECK_RC(ifd_vk_timeline_import(c->vk.importer, &fd, &vt), 0);
    CHECK(fd == -1);
    double t0 = test_now_s();
    rc = ifd_vk_timeline_host_wait(vt, 5, 50 * 1000 * 1000);
    double dt = test_now_s() - t0;
    printf("vk  host wait for 5 on a timeline at 0 -> %d after %.0f ms (%s)\n", rc, dt * 1e3,
           ifd_last_error());
    CHECK(rc == -ETIMEDOUT && dt >= 0.045 && dt < 1.0);
    CHECK(strstr(ifd_last_error(), "not 5") != NULL);
    CHECK_RC(ifd_vk_timeline_host_signal(vt, 0), -EINVAL); /* not above the current value */
    CHECK_RC(ifd_vk_timeline_host_signal(vt, 5), 0);
    CHECK_RC(ifd_vk_timeline_host_wait(vt, 5, TEST_SEC), 0);
    CHECK_RC(ifd_timeline_host_wait(tl, 5, TEST_SEC), 0); /* the producer sees it too */
    ifd_vk_timeline_destroy(vt);
  }
  if (fd >= 0) close(fd);
  ifd_timeline_destroy(tl);
  if (count_fds && test_count_fds() != fds) {
    fprintf(stderr, "timeline round: %d fds before, %d after\n", fds, test_count_fds());
    test_failures++;
  }
}

/* A device that cannot make the compute copy's pipeline (out of memory, or
 * refusing the shader): the COPY import still succeeds, by the transfer
 * copy, and draws the frame's pixels. Through an importer whose
 * vkCreateComputePipelines always fails. */
static PFN_vkGetDeviceProcAddr real_gdpa;
static int pipelines_refused;

static VKAPI_ATTR VkResult VKAPI_CALL refuse_pipelines(VkDevice device, VkPipelineCache cache,
                                                       uint32_t n,
                                                       const VkComputePipelineCreateInfo *info,
                                                       const VkAllocationCallbacks *alloc,
                                                       VkPipeline *out) {
  (void)device, (void)cache, (void)info, (void)alloc;
  for (uint32_t i = 0; i < n; i++) out[i] = VK_NULL_HANDLE;
  pipelines_refused++;
  return VK_ERROR_OUT_OF_DEVICE_MEMORY;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL refusing_gdpa(VkDevice device, const char *name) {
  if (strcmp(name, "vkCreateComputePipelines") == 0) return (PFN_vkVoidFunction)refuse_pipelines;
  return real_gdpa(device, name);
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL refusing_gipa(VkInstance instance,
                                                              const char *name) {
  PFN_vkVoidFunction f = vkGetInstanceProcAddr(instance, name);
  if (f && strcmp(name, "vkGetDeviceProcAddr") == 0) {
    real_gdpa = (PFN_vkGetDeviceProcAddr)f;
    return (PFN_vkVoidFunction)refusing_gdpa;
  }
  return f;
}

static void compute_copy_refused(producer *p) {
  consumer c;
  char why[512];
  if (consumer_open(&c, false, refusing_gipa, NULL, why, sizeof(why)) != 0) {
    printf("compute copy refused: not run: %s\n", why);
    return;
  }
  const int failures = test_failures, by_compute = copies_by_compute;
  static const MAX_Format formats[] = {MAX_FMT_RGBA8, MAX_FMT_R8, MAX_FMT_RGBA32F};
  /* Two rounds, fds counted over the second: the driver opens fds of its
   * own on first use and keeps them until the device goes. */
  int fds = 0;
  for (int round = 0; round < 2; round++) {
    if (round == 1) fds = test_count_fds();
    for (size_t i = 0; i < ARRAY_LEN(formats); i++)
      run_case(p, &c, formats[i], 61, 37, IFD_VK_PATH_COPY, 7 + (uint32_t)i, round == 1);
  }
  CHECK(test_count_fds() == fds);
  CHECK(copies_by_compute == by_compute); /* every frame went by transfer */
  printf("compute copy refused: %d pipeline creations refused (each import tries), %s\n", pipelines_refused,
         test_failures == failures ? "every frame imported and drawn by the transfer copy"
                                   : "FAILED");
  if (pipelines_refused == 0)
    printf("compute copy refused: this device never takes the compute copy, so nothing was "
           "refused\n");
  consumer_close(&c);
}

int main(void) {
  producer p;
  int rc = tp_open(&p, test_backend_from_env());
  if (rc == -ENODEV) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  int ran = 0;
  for (int gl = 0; gl <= 1; gl++) {
    consumer c;
    char why[512];
    if (consumer_open(&c, gl, NULL, NULL, why, sizeof(why)) != 0) {
      printf("%s consumer not run: %s\n", gl ? "GL" : "Vulkan", why);
      continue;
    }
    /* Two rounds: drivers open fds of their own on first use of semaphores
     * and keep them; the second round must leave the count unchanged. */
    for (int round = 0; round < 2; round++) {
      const int fds = test_count_fds();
      failures_for(&p, &c);
      ring_ownership(&p, &c);
      timeline_timeout(&p, &c, round == 1);
      if (round == 1 && test_count_fds() != fds) {
        fprintf(stderr, "open fds: %d before, %d after\n", fds, test_count_fds());
        test_failures++;
      }
    }
    consumer_close(&c);
    ran++;
  }
  compute_copy_refused(&p);
  /* Calls on destroyed or NULL handles are refused, not dereferenced. */
  CHECK_RC(ifd_vk_frame_cmd_acquire(NULL, VK_NULL_HANDLE, 0, 0), -EINVAL);
  CHECK_RC(ifd_gl_frame_update(NULL), -EINVAL);
  CHECK_RC(ifd_vk_importer_create(NULL, NULL), -EINVAL);
  tp_close(&p);
  if (!ran) SKIP("neither a Vulkan nor a GL consumer could be opened");
  return test_finish("consumer_failures");
}
