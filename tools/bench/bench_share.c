/* The cross-process scenario of `interop-fd bench` (bench_share.h).
 *
 * The producer (the bench's CUDA context) serves a ring of one frame; the
 * viewer connects through the socket, imports the ring into its own Vulkan
 * device (LINEAR, no copy) and, for each frame k, submits its command buffer
 * waiting for ready = k on the device, then tells the producer "go k" over a
 * channel (a socketpair); the producer begins frame k, writes the pattern of
 * k with a kernel that stamps the GPU's global timer at its end, and ends it.
 * The viewer collects its first timestamp on the frame, checks the sampled
 * pixels, and sends it back. Latency = viewer's first command - kernel end,
 * both on CLOCK_MONOTONIC (calibrated), which is system-wide, so the same
 * arithmetic holds in both variants: the viewer as a thread of this process
 * (its own bench_vk) and as a process of its own. */
#include "bench/bench_share.h"
#include "bench/bench_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_pattern.h"
#include "common/clock.h"
#include "common/tool_error.h"
#include "interop_fd/share.h"

#define FRAMES 400
#define WARM 40

extern char **environ;

/* One message on the channel: the viewer's "go k" (start_ns 0) or "frame k
 * seen" (its first command on the host's clock; ok: every sample right).
 * k = 0: the viewer failed (why says how). */
typedef struct {
  uint64_t k;
  int64_t start_ns;
  int32_t ok;
  char why[200];
} chan_msg;

static int chan_send(int fd, const chan_msg *m) {
  return send(fd, m, sizeof(*m), MSG_NOSIGNAL) == (ssize_t)sizeof(*m)
             ? 0
             : tool_fail(-EPIPE, "the bench's viewer channel closed");
}

static int chan_recv(int fd, chan_msg *m) {
  ssize_t n = recv(fd, m, sizeof(*m), MSG_WAITALL);
  if (n != (ssize_t)sizeof(*m)) return tool_fail(-EPIPE, "the viewer went away");
  if (m->k == 0) return tool_fail(-EIO, "viewer: %s", m->why);
  return 0;
}

/* ------------------------------------------------------------------ viewer */

static int view_frames(bench_vk *vk, ifd_ring_link *link, int64_t offset, int chan,
                       uint32_t frames, uint32_t w, uint32_t h) {
  uint64_t first = ifd_ring_link_first_frame(link);
  for (uint64_t k = first; k < first + frames; k++) {
    uint32_t pos[2 * BENCH_SAMPLES];
    bench_positions((uint32_t)k, w, h, pos);
    int rc = bench_vk_ring_record(vk, k, pos);
    if (rc == 0) rc = bench_vk_ring_submit(vk, k, true);
    chan_msg m = {.k = k};
    if (rc == 0) rc = chan_send(chan, &m);
    bench_seen seen = {0};
    if (rc == 0) rc = bench_vk_ring_collect(vk, k, &seen);
    if (rc != 0) return rc;
    m.start_ns = (int64_t)seen.start_ns + offset;
    m.ok = 1;
    for (int i = 0; i < BENCH_SAMPLES && m.ok; i++) {
      unsigned want[4];
      bench_pattern_values(pos[2 * i], pos[2 * i + 1], (unsigned)k, 0, want);
      m.ok = memcmp(want, seen.texel[i], sizeof(want)) == 0;
    }
    if ((rc = chan_send(chan, &m)) != 0) return rc;
  }
  return 0;
}

/* Connects, imports, views; vk NULL: a device of its own (the process). */
static int viewer(const char *path, int chan, uint32_t frames, bench_vk *vk) {
  ifd_ring_desc d;
  ifd_ring_link *link = NULL;
  int rc = ifd_ring_connect(path, WAIT_NS, &d, &link);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  bench_vk *own = NULL;
  if (!vk) rc = bench_vk_create(d.frames[0].device_uuid, 0, &own);
  bench_vk *v = vk ? vk : own;
  int64_t offset = 0;
  uint64_t spread = 0;
  if (rc == 0) rc = bench_vk_calibrate(v, &offset, &spread);
  uint32_t w = d.frames[0].width, h = d.frames[0].height;
  if (rc == 0) rc = bench_vk_ring_import(v, &d, IFD_VK_PATH_LINEAR);
  ifd_ring_desc_close(&d);
  if (rc == 0) {
    rc = view_frames(v, link, offset, chan, frames, w, h);
    bench_vk_ring_drop(v);
  }
  ifd_ring_link_close(link);
  bench_vk_destroy(own);
  return rc;
}

static void viewer_failed(int chan) {
  chan_msg m = {0};
  snprintf(m.why, sizeof(m.why), "%s", tool_last_error());
  (void)send(chan, &m, sizeof(m), MSG_NOSIGNAL);
}

int bench_share_viewer_main(int argc, char **argv) {
  if (argc != 4) return 2;
  int chan = atoi(argv[2]);
  int rc = viewer(argv[1], chan, (uint32_t)atoi(argv[3]), NULL);
  if (rc != 0) viewer_failed(chan);
  close(chan);
  return rc == 0 ? 0 : 1;
}

typedef struct {
  const char *path;
  int chan;
  bench_vk *vk;
  bench_outcome done;
} viewer_thread_arg;

static void *viewer_thread(void *arg) {
  viewer_thread_arg *a = arg;
  int rc = viewer(a->path, a->chan, FRAMES, a->vk);
  if (rc != 0) viewer_failed(a->chan);
  bench_outcome_set(&a->done, rc);
  return NULL;
}

/* ---------------------------------------------------------------- producer */

/* Serves a new ring and produces the frames the viewer asks for; lat gets
 * the latency of every frame after the warm-up, in us. */
static int produce(bench *b, ifd_ring *ring, int chan, double *lat, size_t *n, uint64_t *wrong) {
  for (uint32_t i = 0; i < FRAMES; i++) {
    chan_msg go, seen;
    int rc = chan_recv(chan, &go);
    if (rc != 0) return rc;
    uint64_t k = 0;
    ifd_image *img = NULL;
    rc = ifd_ring_begin_frame(ring, WAIT_NS, &k, &img);
    if (rc != 0) return tool_fail(rc, "ifd_ring_begin_frame: %s", ifd_last_error());
    if (k != go.k) return tool_fail(-EIO, "the viewer asked for frame %llu, the ring is at %llu",
                                    (unsigned long long)go.k, (unsigned long long)k);
    ifd_image_native nat;
    ifd_image_native_handles(img, &nat);
    rc = bench_cuda_pattern(b->cu, nat.cu_device_ptr, nat.row_pitch, b->r->width, b->r->height, 0,
                            (uint32_t)k);
    if (rc == 0 && (rc = ifd_ring_end_frame(ring, k)) != 0)
      rc = tool_fail(rc, "ifd_ring_end_frame: %s", ifd_last_error());
    if (rc == 0) rc = chan_recv(chan, &seen);
    if (rc != 0) return rc;
    if (!seen.ok) (*wrong)++;
    uint64_t stamp = bench_cuda_stamp(b->cu, (uint32_t)k);
    if (i >= WARM && stamp)
      lat[(*n)++] = ((double)seen.start_ns - ((double)stamp + (double)b->cuda_offset)) * 1e-3;
  }
  return 0;
}

static int run_variant(bench *b, bool process, double *lat, size_t *n, uint64_t *wrong) {
  char path[108];
  const char *dir = getenv("XDG_RUNTIME_DIR");
  snprintf(path, sizeof(path), "%s/interop-fd-bench.%ld.sock", dir && dir[0] ? dir : "/tmp",
           (long)getpid());
  ifd_ring *ring = NULL;
  ifd_ring_server *srv = NULL;
  int rc = ifd_ring_create(b->ctx, 1, b->r->width, b->r->height, MAX_FMT_RGBA8, &ring);
  if (rc == 0) rc = ifd_ring_serve(ring, path, NULL, &srv);
  if (rc != 0) {
    ifd_ring_destroy(ring);
    return tool_fail(rc, "%s", ifd_last_error());
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    ifd_ring_server_destroy(srv);
    ifd_ring_destroy(ring);
    return tool_fail(-errno, "socketpair: %s", strerror(errno));
  }
  pid_t pid = -1;
  pthread_t thread;
  viewer_thread_arg a = {.path = path, .chan = sv[1], .vk = b->vk};
  if (process) {
    char fd_text[16], frames[16];
    snprintf(fd_text, sizeof(fd_text), "%d", sv[1]);
    snprintf(frames, sizeof(frames), "%d", FRAMES);
    char *args[] = {"interop-fd", "bench-share-viewer", path, fd_text, frames, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], sv[1]); /* clears close-on-exec */
    rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) rc = tool_fail(-rc, "starting the viewer process: %s", strerror(rc));
  } else if (pthread_create(&thread, NULL, viewer_thread, &a) != 0) {
    rc = tool_fail(-EAGAIN, "cannot start the viewer thread");
  }
  if (rc == 0) {
    rc = produce(b, ring, sv[0], lat, n, wrong);
    if (process) {
      int status = 0;
      if (rc != 0) kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = tool_fail(-EIO, "the viewer process failed (status %d)", status);
    } else {
      if (rc != 0) shutdown(sv[0], SHUT_RDWR);
      pthread_join(thread, NULL);
      if (rc == 0 && a.done.rc != 0) rc = tool_fail(a.done.rc, "viewer: %s", a.done.message);
    }
  }
  close(sv[0]);
  close(sv[1]);
  ifd_ring_server_destroy(srv);
  ifd_ring_destroy(ring);
  return rc;
}

int bench_share_run(bench *b, uint32_t width, uint32_t height, bench_share *out) {
  memset(out, 0, sizeof(*out));
  out->width = width;
  out->height = height;
  out->frames = FRAMES - WARM;
  /* The scenarios run before the paths calibrate: the producer's GPU timer
   * against the host's clock here (each viewer calibrates its own). */
  uint64_t spread = 0;
  if (bench_cuda_calibrate(b->cu, &b->cuda_offset, &spread) != 0) {
    snprintf(out->why, sizeof(out->why), "no calibrated timestamps: latency cannot be measured");
    return 0;
  }
  bench_result r = {.width = width, .height = height};
  bench_result *saved = b->r;
  b->r = &r;
  double *lat = calloc(FRAMES, sizeof(double));
  int rc = lat ? 0 : tool_fail(-ENOMEM, "out of host memory");
  for (int v = 0; v < 2 && rc == 0; v++) {
    size_t n = 0;
    rc = run_variant(b, v == 1, lat, &n, &out->wrong);
    if (rc != 0) break;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += lat[i];
    out->mean[v] = n ? sum / (double)n : NAN;
    out->p50[v] = bench_percentile(lat, n, 0.50);
    out->p99[v] = bench_percentile(lat, n, 0.99);
  }
  b->r = saved;
  free(lat);
  if (rc != 0) {
    snprintf(out->why, sizeof(out->why), "%s", tool_last_error());
    return rc;
  }
  out->measured = out->wrong == 0;
  if (out->wrong)
    snprintf(out->why, sizeof(out->why), "%llu frames had wrong pixels",
             (unsigned long long)out->wrong);
  return out->wrong ? tool_fail(-EIO, "%s", out->why) : 0;
}

void bench_share_print(const bench_share *s, FILE *f) {
  fprintf(f, "\nacross processes: %ux%u rgba8, one frame in flight, the ring served over a Unix "
             "socket to a Vulkan viewer (LINEAR)\n",
          s->width, s->height);
  if (!s->measured) {
    fprintf(f, "  not measured: %s\n", s->why);
    return;
  }
  fprintf(f, "  %-34s %10s %10s %10s\n", "viewer", "lat p50", "lat p99", "mean");
  static const char *const names[2] = {"a thread of the producer's process", "a process of its own"};
  for (int v = 0; v < 2; v++)
    fprintf(f, "  %-34s %8.1f us %7.1f us %7.1f us\n", names[v], s->p50[v], s->p99[v], s->mean[v]);
  fprintf(f, "  other process / same process: p50 x%.2f, p99 x%.2f (%u frames each, every one "
             "checked)\n",
          s->p50[1] / s->p50[0], s->p99[1] / s->p99[0], s->frames);
}

void bench_share_json(const bench_share *s, FILE *f) {
  fprintf(f, ",\n  \"share\": {\"measured\": %s, \"width\": %u, \"height\": %u, \"frames\": %u",
          s->measured ? "true" : "false", s->width, s->height, s->frames);
  if (s->measured)
    fprintf(f, ", \"same_process_us\": {\"p50\": %.2f, \"p99\": %.2f, \"mean\": %.2f}, "
               "\"other_process_us\": {\"p50\": %.2f, \"p99\": %.2f, \"mean\": %.2f}",
            s->p50[0], s->p99[0], s->mean[0], s->p50[1], s->p99[1], s->mean[1]);
  fprintf(f, "}");
}
