/* Rings under load: every format, odd and large sizes, ring depths 1 to 4 and
 * the three Vulkan paths (AUTO, COPY, LINEAR), for memory exported by the
 * producer backend that IFD_TEST_BACKEND names (vulkan by default, cuda).
 *
 * The consumer works as a real one does: it records and submits its use of
 * frame k before the producer has written it, with a device-side wait for
 * ready = k and a device-side signal of release = k (host hand-over where the
 * ring has no timelines), keeps up to `depth` frames in flight, and checks 32
 * texels of every frame (4 corners and 28 that move with k) against the
 * pattern of seed k. A frame of the wrong slot, a stale frame, a torn one or
 * zeros all fail. A frame whose row pitch is not a multiple of 64 bytes is
 * checked too (one frame, since a ring's pitch is the device's).
 *
 * IFD_STRESS_FILTER=a,b runs only the cases whose label contains a or b.
 * Where no case can use timelines (lavapipe), the large sizes are left out:
 * they prove nothing more there and take minutes on a CPU. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "producer.h"
#include "interop_fd/vulkan.h"
#include "test_util.h"
#include "vk_render.h"

extern const char ifd_test_sample_points_comp[];
extern const unsigned long ifd_test_sample_points_comp_size;

#define SAMPLES 32
#define MAX_DEPTH 4
#define SECOND (1000ull * 1000 * 1000)
#define IO_POS 0
#define IO_TEXEL (8 * SAMPLES)
#define IO_SLOT 1024 /* bytes per slot in the io buffer */

static const char *const path_names[] = {"auto", "copy", "linear"};

/* ------------------------------------------------------------ producer */

/* The producer of tests/producer.h, and whether its rings have timelines. */
typedef struct {
  tp_producer tp;
  bool timelines;
} producer;

static int producer_open(producer *p, ifd_backend backend) {
  memset(p, 0, sizeof(*p));
  int rc = tp_open(&p->tp, backend);
  if (rc != 0) return rc;
  ifd_timeline *probe = NULL;
  p->timelines = ifd_timeline_create(p->tp.ctx, 0, &probe) == 0;
  ifd_timeline_destroy(probe);
  return 0;
}

/* ------------------------------------------------------------ consumer */

typedef struct {
  vkr r; /* device, queue and importer */
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  VkDescriptorPool desc_pool;
  VkDescriptorSet sets[MAX_DEPTH];
  VkSampler sampler;
  VkBuffer io;
  VkDeviceMemory io_memory;
  uint8_t *io_mapped;
  VkCommandPool pool;
  VkCommandBuffer cmd[MAX_DEPTH];
  VkFence fence[MAX_DEPTH];
} consumer;

#define VK_OK(call)                                                                   \
  do {                                                                                \
    VkResult r_ = (call);                                                             \
    if (r_ != VK_SUCCESS) {                                                           \
      fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, (int)r_);  \
      return -1;                                                                      \
    }                                                                                 \
  } while (0)

static int consumer_open(consumer *c, char *why, size_t n) {
  memset(c, 0, sizeof(*c));
  if (vkr_open(&c->r, NULL, why, n) != 0) return 1;
  VkDevice dev = c->r.dev.device;
  REQUIRE(vk_kit_sampler(dev, VK_FILTER_NEAREST, &c->sampler) == 0);
  VkDescriptorSetLayoutBinding b[2] = {
      {0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
      {1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL}};
  VkDescriptorSetLayoutCreateInfo dl = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 2, .pBindings = b};
  VK_OK(vkCreateDescriptorSetLayout(dev, &dl, NULL, &c->set_layout));
  VkPipelineLayoutCreateInfo pl = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                   .setLayoutCount = 1,
                                   .pSetLayouts = &c->set_layout};
  VK_OK(vkCreatePipelineLayout(dev, &pl, NULL, &c->layout));
  REQUIRE(vk_kit_compute_pipeline(dev, ifd_test_sample_points_comp,
                                  ifd_test_sample_points_comp_size, c->layout, &c->pipeline) == 0);
  VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, MAX_DEPTH},
                                {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, MAX_DEPTH}};
  VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                    .maxSets = MAX_DEPTH, .poolSizeCount = 2, .pPoolSizes = ps};
  VK_OK(vkCreateDescriptorPool(dev, &dpi, NULL, &c->desc_pool));
  REQUIRE(vk_kit_descriptor_sets(dev, c->desc_pool, c->set_layout, MAX_DEPTH, c->sets) == 0);
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                            .size = IO_SLOT * MAX_DEPTH,
                            .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
  VK_OK(vkCreateBuffer(dev, &bci, NULL, &c->io));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev, c->io, &req);
  REQUIRE(vk_kit_allocate(c->r.dev.physical, dev, &req,
                          VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                          &c->io_memory) == 0);
  VK_OK(vkBindBufferMemory(dev, c->io, c->io_memory, 0));
  void *m = NULL;
  VK_OK(vkMapMemory(dev, c->io_memory, 0, VK_WHOLE_SIZE, 0, &m));
  c->io_mapped = m;
  REQUIRE(vk_kit_commands(dev, c->r.dev.family, MAX_DEPTH, &c->pool, c->cmd, c->fence, true) == 0);
  return 0;
}

static void consumer_close(consumer *c) {
  VkDevice dev = c->r.dev.device;
  if (dev) {
    vkDeviceWaitIdle(dev);
    for (int i = 0; i < MAX_DEPTH; i++) vkDestroyFence(dev, c->fence[i], NULL);
    vkDestroyCommandPool(dev, c->pool, NULL);
    vkDestroyBuffer(dev, c->io, NULL);
    vkFreeMemory(dev, c->io_memory, NULL);
    vkDestroyDescriptorPool(dev, c->desc_pool, NULL);
    vk_kit_pipeline_destroy(dev, c->pipeline, c->layout, c->set_layout);
    vkDestroySampler(dev, c->sampler, NULL);
  }
  vkr_close(&c->r);
  memset(c, 0, sizeof(*c));
}

static void bind_frame(consumer *c, uint32_t s, ifd_vk_frame *f) {
  ifd_vk_frame_native n;
  REQUIRE(ifd_vk_frame_native_handles(f, &n) == 0);
  vk_kit_write_sample_set(c->r.dev.device, c->sets[s], c->sampler, n.view, n.layout, c->io,
                          (VkDeviceSize)IO_SLOT * s, IO_TEXEL + 16 * SAMPLES);
}

/* The 32 texels checked in frame k: the corners, then 28 that move with k. */
static void positions(uint64_t k, uint32_t w, uint32_t h, uint32_t pos[2 * SAMPLES]) {
  for (uint32_t i = 0; i < SAMPLES; i++) {
    pos[2 * i] = i < 4 ? (i & 1) * (w - 1) : (uint32_t)((k * 31 + i * 97) % w);
    pos[2 * i + 1] = i < 4 ? (i >> 1) * (h - 1) : (uint32_t)((k * 17 + i * 53) % h);
  }
}

/* Records slot s's use of frame f (positions for frame k) and submits it:
 * waiting for ready >= k and signalling release = k on the device where the
 * ring has timelines. */
static int submit_use(consumer *c, uint32_t s, ifd_vk_frame *f, uint64_t k, uint32_t w, uint32_t h,
                      ifd_vk_timeline *ready, ifd_vk_timeline *release) {
  uint8_t *io = c->io_mapped + (size_t)IO_SLOT * s;
  uint32_t pos[2 * SAMPLES];
  positions(k, w, h, pos);
  memcpy(io + IO_POS, pos, sizeof(pos));
  memset(io + IO_TEXEL, 0xff, 16 * SAMPLES); /* NaN until the shader writes */
  VkCommandBuffer cmd = c->cmd[s];
  VK_OK(vkResetCommandBuffer(cmd, 0));
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  VK_OK(vkBeginCommandBuffer(cmd, &bi));
  if (ifd_vk_frame_cmd_acquire(f, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                               VK_ACCESS_SHADER_READ_BIT) != 0)
    return -1;
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipeline);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &c->sets[s], 0,
                          NULL);
  vkCmdDispatch(cmd, 1, 1, 1);
  if (ifd_vk_frame_cmd_release(f, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT) != 0) return -1;
  VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                        .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                       &mb, 0, NULL, 0, NULL);
  VK_OK(vkEndCommandBuffer(cmd));
  vk_kit_submission sub = {
      .cmd = cmd,
      .wait = ifd_vk_timeline_semaphore(ready),
      .wait_value = k,
      .wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
      .signal = ifd_vk_timeline_semaphore(release),
      .signal_value = k};
  REQUIRE(vk_kit_submit(c->r.dev.device, c->r.dev.queue, &sub, c->fence[s]) == 0);
  return 0;
}

/* Waits for slot s's use of frame k and counts the texels that differ from
 * the pattern of seed k. */
static uint32_t collect(consumer *c, uint32_t s, uint64_t k, MAX_Format fmt, uint32_t w,
                        uint32_t h, char *first, size_t first_size) {
  if (vkWaitForFences(c->r.dev.device, 1, &c->fence[s], VK_TRUE, 10 * SECOND) != VK_SUCCESS) {
    snprintf(first, first_size, "frame %llu: the consumer's work did not finish in 10 s",
             (unsigned long long)k);
    return SAMPLES;
  }
  const uint8_t *io = c->io_mapped + (size_t)IO_SLOT * s;
  const float *texel = (const float *)(const void *)(io + IO_TEXEL);
  uint32_t pos[2 * SAMPLES];
  positions(k, w, h, pos);
  float tol = test_tolerance(fmt);
  uint32_t bad = 0;
  for (uint32_t i = 0; i < SAMPLES; i++) {
    float want[4];
    test_expected_rgba(fmt, pos[2 * i], pos[2 * i + 1], (uint32_t)k, want);
    const float *got = texel + 4 * i;
    int ok = 1;
    for (int ch = 0; ch < 4; ch++) ok = ok && test_channel_ok(fmt, ch, got[ch], want[ch], tol);
    if (!ok && bad++ == 0)
      snprintf(first, first_size,
               "frame %llu (slot %u) texel (%u,%u): got (%g,%g,%g,%g), want (%g,%g,%g,%g)",
               (unsigned long long)k, s, pos[2 * i], pos[2 * i + 1], got[0], got[1], got[2],
               got[3], want[0], want[1], want[2], want[3]);
  }
  return bad;
}

/* ------------------------------------------------------------ one ring */

typedef struct {
  int cases, failed, unavailable;
  uint64_t frames;
} totals;

static void run_ring(producer *p, consumer *c, MAX_Format fmt, uint32_t w, uint32_t h,
                     uint32_t depth, int path, const char *label, totals *t) {
  ifd_ring *ring = NULL;
  ifd_vk_ring *vr = NULL;
  ifd_ring_desc d;
  int rc = ifd_ring_create(p->tp.ctx, depth, w, h, fmt, &ring);
  if (rc != 0) {
    fprintf(stderr, "FAIL %s: ifd_ring_create: %d (%s)\n", label, rc, ifd_last_error());
    t->failed++;
    return;
  }
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  rc = ifd_vk_ring_import(c->r.importer, &d, (ifd_vk_path)path, &vr);
  ifd_ring_desc_close(&d);
  if (rc == -EOPNOTSUPP && path == IFD_VK_PATH_LINEAR) {
    t->unavailable++; /* an explicit LINEAR the driver cannot take; AUTO must work */
    ifd_ring_destroy(ring);
    return;
  }
  if (rc != 0) {
    fprintf(stderr, "FAIL %s: ifd_vk_ring_import: %d (%s)\n", label, rc, ifd_last_error());
    t->failed++;
    ifd_ring_destroy(ring);
    return;
  }
  ifd_vk_timeline *ready = ifd_vk_ring_ready(vr), *release = ifd_vk_ring_release(vr);
  for (uint32_t s = 0; s < depth; s++) bind_frame(c, s, ifd_vk_ring_frame(vr, s + 1));

  const uint64_t frames = 3ull * depth + 2;
  tp_ring_thread a = {.p = &p->tp, .ring = ring, .frames = frames};
  pthread_t thread;
  REQUIRE(pthread_create(&thread, NULL, tp_ring_thread_main, &a) == 0);
  uint32_t bad_frames = 0, bad_slots = 0;
  char first[320] = "", msg[320];
  uint64_t collected = 0;
  rc = 0;
  for (uint64_t k = 1; k <= frames + depth && rc == 0; k++) {
    if (k > depth) { /* the use of frame k - depth, in the slot frame k needs */
      uint64_t j = ++collected;
      uint32_t s = (uint32_t)((j - 1) % depth);
      msg[0] = 0;
      if (collect(c, s, j, fmt, w, h, msg, sizeof(msg)) != 0) {
        if (bad_frames++ == 0) snprintf(first, sizeof(first), "%s", msg);
        bad_slots |= 1u << s;
      }
      if (!release && ifd_ring_release_frame(ring, j) != 0) {
        snprintf(first, sizeof(first), "ifd_ring_release_frame(%llu): %s", (unsigned long long)j,
                 ifd_last_error());
        rc = -1;
      }
    }
    if (k > frames || rc != 0) continue;
    if (!ready && tp_ring_thread_wait_ended(&a, k) != 0) {
      snprintf(first, sizeof(first), "frame %llu was not ended: %s", (unsigned long long)k,
               a.error);
      rc = -1;
      break;
    }
    if (submit_use(c, (uint32_t)((k - 1) % depth), ifd_vk_ring_frame(vr, k), k, w, h, ready,
                   release) != 0) {
      snprintf(first, sizeof(first), "frame %llu: recording or submitting failed: %s",
               (unsigned long long)k, ifd_last_error());
      rc = -1;
    }
  }
  if (rc != 0 && release) { /* unblock a producer waiting for releases */
    uint64_t now = 0;
    if (ifd_vk_timeline_value(release, &now) == 0 && now < frames)
      (void)ifd_vk_timeline_host_signal(release, frames);
  }
  if (rc != 0 && !release)
    for (uint64_t j = collected + 1; j <= frames; j++) (void)ifd_ring_release_frame(ring, j);
  pthread_join(thread, NULL);
  vkDeviceWaitIdle(c->r.dev.device);
  ifd_vk_frame_native n;
  ifd_vk_frame_native_handles(ifd_vk_ring_frame(vr, 1), &n);
  const char *taken = path_names[n.path];
  ifd_vk_ring_destroy(vr);
  ifd_ring_destroy(ring);
  t->cases++;
  t->frames += frames;
  if (rc != 0 || a.rc != 0 || bad_frames) {
    t->failed++;
    fprintf(stderr, "FAIL %s (took %s): %u of %llu frames wrong, slots 0x%x; first: %s%s%s\n",
            label, taken, bad_frames, (unsigned long long)frames, bad_slots, first,
            a.rc ? "; producer: " : "", a.rc ? a.error : "");
  }
}

/* One frame whose row pitch is one pixel more than a row (248 bytes for
 * rgba8: no multiple of 64). LINEAR works only where the driver's own pitch
 * for the image happens to be the same; otherwise it is refused and AUTO
 * must copy. */
static void run_odd_pitch(producer *p, consumer *c, MAX_Format fmt, int path, const char *label,
                          totals *t) {
  const uint32_t w = 61, h = 37;
  ifd_format_info fi;
  ifd_format_query(fmt, &fi);
  uint32_t pitch = (w + 1) * fi.bytes_per_pixel;
  uint32_t rows = (uint32_t)(((uint64_t)pitch * h + 255) / 256);
  ifd_image *backing = NULL;
  REQUIRE(ifd_image_create(p->tp.ctx, 256, rows, MAX_FMT_R8, &backing) == 0);
  t->cases++;
  t->frames++;
  if (!p->tp.cu && ifd_image_row_pitch(backing) != 256) {
    printf("odd pitch: the device pads a 256-byte R8 row to %u bytes; case %s not run\n",
           ifd_image_row_pitch(backing), label);
    ifd_image_destroy(backing);
    return;
  }
  REQUIRE(tp_write(&p->tp, backing, fmt, w, h, pitch, 5) == 0);
  tp_finish(&p->tp);
  ifd_frame_desc d;
  REQUIRE(ifd_image_describe(backing, &d) == 0);
  d.width = w;
  d.height = h;
  d.format = fmt;
  d.row_pitch = pitch;
  ifd_vk_frame *f = NULL;
  int rc = ifd_vk_frame_import(c->r.importer, &d, (ifd_vk_path)path, &f);
  if (rc == -EOPNOTSUPP && path == IFD_VK_PATH_LINEAR) {
    t->unavailable++; /* the driver lays out its linear image with another pitch */
  } else if (rc != 0) {
    fprintf(stderr, "FAIL %s: import: %d (%s)\n", label, rc, ifd_last_error());
    t->failed++;
  } else {
    bind_frame(c, 0, f);
    char first[320] = "";
    if (submit_use(c, 0, f, 5, w, h, NULL, NULL) != 0 ||
        collect(c, 0, 5, fmt, w, h, first, sizeof(first)) != 0) {
      fprintf(stderr, "FAIL %s: %s\n", label, first[0] ? first : ifd_last_error());
      t->failed++;
    }
    vkDeviceWaitIdle(c->r.dev.device);
  }
  ifd_vk_frame_destroy(f);
  ifd_frame_desc_close(&d);
  ifd_image_destroy(backing);
}

/* Whether label contains one of the comma-separated parts of filter (NULL: all). */
static bool selected(const char *filter, const char *label) {
  if (!filter) return true;
  char part[128];
  for (const char *p = filter; *p;) {
    size_t n = strcspn(p, ",");
    snprintf(part, sizeof(part), "%.*s", (int)n, p);
    if (n && strstr(label, part)) return true;
    p += n + (p[n] == ',');
  }
  return false;
}

int main(void) {
  producer p;
  int rc = producer_open(&p, test_backend_from_env());
  if (rc != 0) SKIP("no %s producer: %s", test_backend_from_env() == IFD_BACKEND_CUDA ? "CUDA" : "Vulkan",
                    ifd_last_error());
  if (getenv("IFD_TEST_NEEDS_TIMELINES") && !p.timelines) {
    tp_close(&p.tp);
    SKIP("the producer cannot export timelines here (a GPU test: it stresses device-side "
         "hand-over)");
  }
  consumer c;
  char why[512];
  if (consumer_open(&c, why, sizeof(why)) != 0) {
    tp_close(&p.tp);
    SKIP("no Vulkan consumer: %s", why);
  }
  const char *filter = getenv("IFD_STRESS_FILTER");
  static const uint32_t all_sizes[][2] = {{61, 37}, {1, 1}, {1920, 1080}, {3840, 2160}};
  const size_t n_sizes = p.timelines ? 4 : 2;
  const char *backend = p.tp.cu ? "cuda" : "vulkan";
  printf("ring stress: %s producer, consumer %s, %s; sizes:", backend,
         c.r.timelines ? "with timelines" : "without timelines",
         p.timelines ? "device-side hand-over" : "host hand-over");
  for (size_t s = 0; s < n_sizes; s++) printf(" %ux%u", all_sizes[s][0], all_sizes[s][1]);
  printf(", and a 61x37 frame with a row pitch of one pixel more than a row\n");
  fflush(stdout);
  const int fds_start = test_count_fds();
  totals t = {0};
  char label[128];
  for (int f = MAX_FMT_R8; f <= MAX_FMT_RGBA32F; f++) {
    ifd_format_info fi;
    ifd_format_query((MAX_Format)f, &fi);
    for (size_t s = 0; s < n_sizes; s++)
      for (uint32_t depth = 1; depth <= MAX_DEPTH; depth++)
        for (int path = 0; path <= 2; path++) {
          snprintf(label, sizeof(label), "%s %s %ux%u ring%u %s", backend, fi.name,
                   all_sizes[s][0], all_sizes[s][1], depth, path_names[path]);
          if (!selected(filter, label)) continue;
          run_ring(&p, &c, (MAX_Format)f, all_sizes[s][0], all_sizes[s][1], depth, path, label,
                   &t);
        }
    for (int path = 0; path <= 2; path++) {
      snprintf(label, sizeof(label), "%s %s 61x37 odd-pitch %s", backend, fi.name,
               path_names[path]);
      if (selected(filter, label)) run_odd_pitch(&p, &c, (MAX_Format)f, path, label, &t);
    }
    printf("%-8s done: %d cases so far, %d failed\n", fi.name, t.cases, t.failed);
    fflush(stdout);
  }
  printf("%d cases (%llu frames, each checked at %d texels), %d failed, %d explicit LINEAR "
         "imports refused by the driver\n",
         t.cases, (unsigned long long)t.frames, SAMPLES, t.failed, t.unavailable);
  const int fds_end = test_count_fds();
  consumer_close(&c);
  tp_close(&p.tp);
  if (fds_end != fds_start) {
    fprintf(stderr, "open fds: %d at start, %d at the end\n", fds_start, fds_end);
    test_failures++;
  }
  if (t.failed) test_failures++;
  return test_finish("ring_stress");
}
