/* `interop-fd info` (info.h): part 1 lists what is installed (as vulkaninfo
 * would, but only what matters for sharing frames); part 2 answers every
 * producer -> consumer pair by doing it: a 64x64 RGBA8 image is created,
 * described and imported with the library's own consumer API, and a timeline
 * semaphore is exported and imported. An answer is what happened; a failure's
 * reason is the library's message (ifd_last_error) or what the probe found.
 * This file holds the report's order, its output and part 2's producers; one
 * file per API does the rest (info_internal.h). Everything made here is
 * destroyed, every fd closed. */
#include "info/info.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "info/info_internal.h"

/* ------------------------------------------------------------------ output */

/* "label : value", the ':' of every line in LABEL_COLUMN. */
void info_kv(info_state *s, int indent, const char *label, const char *fmt, ...) {
  int width = LABEL_COLUMN - indent;
  fprintf(s->out, "%*s%-*s : ", indent, "", width > 0 ? width : 0, label);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(s->out, fmt, ap);
  va_end(ap);
  fputc('\n', s->out);
}

static void info_heading(info_state *s, const char *title) {
  fprintf(s->out, "\n== %s ==\n", title);
}

void info_text(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, size, fmt, ap);
  va_end(ap);
}

const char *info_yes_no(bool b) { return b ? "yes" : "no"; }

/* 8-4-4-4-12 lower-case hex. */
const char *info_uuid_text(const uint8_t u[16], char out[37]) {
  char *p = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    p += sprintf(p, "%02x", u[i]);
  }
  return out;
}

bool info_uuid_is_zero(const uint8_t u[16]) {
  static const uint8_t zero[16];
  return memcmp(u, zero, 16) == 0;
}

/* ================================================================== part 2: producers */

static void producer_open(info_state *s, producer *p) {
  if (ifd_context_create(p->backend, 0, &p->ctx) != 0) {
    info_text(p->why, sizeof(p->why), "%s", ifd_last_error());
    return;
  }
  ifd_context_native nat;
  ifd_context_native_handles(p->ctx, &nat);
  memcpy(p->uuid, nat.device_uuid, 16);
  if (info_uuid_is_zero(p->uuid) && p->backend == IFD_BACKEND_CUDA && s->cu)
    s->cu->cuDeviceGetUuid(p->uuid, nat.cu_device); /* no Vulkan beside CUDA */
  info_text(p->device, sizeof(p->device), "%s", nat.device_name);
  if (ifd_image_create(p->ctx, PROBE_SIZE, PROBE_SIZE, MAX_FMT_RGBA8, &p->image) != 0) {
    info_text(p->why, sizeof(p->why), "cannot create a %dx%d RGBA8 image: %s", PROBE_SIZE,
              PROBE_SIZE, ifd_last_error());
    return;
  }
  if (ifd_timeline_create(p->ctx, 0, &p->timeline) != 0)
    info_text(p->timeline_why, sizeof(p->timeline_why), "%s", ifd_last_error());
}

/* Each producer is closed once, at the end of its answers. */
static void producer_close(producer *p) {
  ifd_timeline_destroy(p->timeline);
  ifd_image_destroy(p->image);
  ifd_context_destroy(p->ctx);
}

void info_pair_print(info_state *s, const producer *p, const char *consumer, const pair_answer *a) {
  fprintf(s->out, "%-6s -> %-2s : %s", p->name, consumer, a->answer);
  if (a->sync[0]) fprintf(s->out, "; sync: %s", a->sync);
  fputc('\n', s->out);
  if (a->where[0]) fprintf(s->out, "%14s %s\n", "", a->where);
}

/* The sync answer: timelines if the consumer imported one (ok), else host
 * waits, which the library offers only within one process (rings without
 * timelines), and why. */
static void sync_answer(pair_answer *a, bool ok, const char *why) {
  if (ok)
    info_text(a->sync, sizeof(a->sync), "timeline semaphores (waits and signals on the GPU)");
  else
    info_text(a->sync, sizeof(a->sync), "host waits, within one process only (%s)", why);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* A new fd of the producer's timeline for one consumer; -1 with why set if
 * there is none. */
static int timeline_fd(const producer *p, char *why, size_t why_size) {
  int fd = -1;
  if (!p->timeline) {
    info_text(why, why_size, "the producer cannot export a timeline semaphore: %s",
              p->timeline_why);
  } else if (ifd_timeline_export_fd(p->timeline, &fd) != 0) {
    info_text(why, why_size, "exporting the producer's timeline semaphore failed: %s",
              ifd_last_error());
    fd = -1;
  }
  return fd;
}

void info_try_frame(const producer *p, const info_consumer *c, pair_answer *a) {
  ifd_frame_desc d;
  if (ifd_image_describe(p->image, &d) != 0) {
    info_text(a->answer, sizeof(a->answer), "NO: the producer cannot export its image: %s",
              ifd_last_error());
    return;
  }
  bool linear = false;
  if (c->import_frame(c->importer, &d, &linear) != 0)
    info_text(a->answer, sizeof(a->answer), "NO: %s", ifd_last_error());
  else
    info_text(a->answer, sizeof(a->answer), "%s", linear ? c->linear_text : c->copy_text);
  ifd_frame_desc_close(&d); /* the memory fd, unless the import consumed it */
}

void info_try_timeline(const producer *p, const info_consumer *c, pair_answer *a) {
  char why[WHY_SIZE];
  int fd = timeline_fd(p, why, sizeof(why));
  bool ok = fd >= 0 && c->import_timeline(c->importer, &fd) == 0;
  if (fd >= 0 && !ok)
    info_text(why, sizeof(why), "the consumer cannot import the producer's timeline semaphore: %s",
              ifd_last_error());
  sync_answer(a, ok, why);
  close_fd(&fd); /* still ours unless the import consumed it */
}

/* ================================================================== the report */

static void answers(info_state *s) {
  info_heading(s, "2. Answers, found by exporting and importing a 64x64 RGBA8 image and a "
                  "timeline semaphore");
  producer producers[] = {{.backend = IFD_BACKEND_CUDA, .name = "cuda"},
                          {.backend = IFD_BACKEND_VULKAN, .name = "vulkan"}};
  for (size_t i = 0; i < sizeof(producers) / sizeof(producers[0]); i++) {
    producer *p = &producers[i];
    producer_open(s, p);
    info_vk_answer(s, p);
    info_gl_answer(s, p);
    producer_close(p);
  }
}

/* ================================================================== entry */

int info_run(FILE *out) {
  info_state state = {.out = out}, *s = &state;
  fprintf(out, "interop-fd info: can frames go from a producer to a consumer here with no CPU "
               "copy, and if not, why not?\n");
  info_heading(s, "1. Backends found");
  info_cuda_report(s);
  info_vk_report(s);
  info_gl_report(s);
  answers(s);
  info_vk_unload(s);
  info_gl_unload(s);
  return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}
