/* The consumer side of the demo and the self-test: an application with its own
 * Vulkan device or GL context (as a consumer in another process would have)
 * that imports a ring of frames through interop_fd's consumer API and draws
 * each frame into a window or, headless, into an offscreen RGBA8 target that
 * can be read back for PNG files and checks. */
#ifndef IFD_TOOLS_PRESENT_H
#define IFD_TOOLS_PRESENT_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "interop_fd/gl.h"
#include "interop_fd/interop_fd.h"
#include "present/window.h"

typedef enum { CONSUMER_VK = 0, CONSUMER_GL = 1 } consumer_api;

typedef struct {
  consumer_api api;
  uint8_t device_uuid[16]; /* the producer's device: the consumer uses the same one */
  window *win;             /* NULL: headless, an offscreen target of the frame's size */
  bool vsync;              /* window: wait for the display's refresh */
  /* Vulkan: the queue's global priority to ask (0: the driver's default;
   * the highest granted from it down to HIGH, else the default). */
  VkQueueGlobalPriorityKHR priority;
  /* For the self-test's copy counting; NULL: the library's defaults. */
  PFN_vkGetInstanceProcAddr importer_gipa;
  ifd_gl_get_proc_address importer_get_proc;
} present_config;

typedef struct presenter presenter;

/* Errors: -ENODEV no usable device/context (message says why); -EXDEV no
 * consumer device has the producer's UUID; -EIO. */
int presenter_create(const present_config *cfg, presenter **out);
void presenter_destroy(presenter *p); /* NULL ok; waits for its work */

/* Imports the ring: on success every fd in desc is consumed; on failure none. */
int presenter_import(presenter *p, ifd_ring_desc *desc);

const char *presenter_device_name(const presenter *p);
/* The Vulkan queue's global priority as granted, and why not more ("" for GL). */
const char *presenter_priority(const presenter *p);
/* "LINEAR", "COPY (compute)", "COPY (transfer)", "COPY (upload)"; for a
 * MAILBOX ring known once a frame was drawn ("?" before). */
const char *presenter_path_name(const presenter *p);
bool presenter_has_timelines(const presenter *p);

/* Draws frame k: waits (on the device) for ready >= k, draws, signals
 * release = k. Does not block, except: without timelines it returns only once
 * the draw is done (so the caller may hand the frame back with
 * ifd_ring_release_frame), and with rgba != NULL (headless only) it reads the
 * target back into rgba (width * height * 4 bytes, row 0 at the top). */
int presenter_draw(presenter *p, uint64_t k, uint8_t *rgba);

/* A MAILBOX ring: takes the newest frame ended since the last take (the
 * library's take_latest: -EAGAIN/-ETIMEDOUT when none is newer after
 * timeout_ns), to be drawn next with presenter_draw. */
int presenter_take(presenter *p, uint64_t timeout_ns, uint64_t *k);

/* Blocks until every draw is done. */
int presenter_finish(presenter *p);

/* A frame's path (an ifd_vk_path or ifd_gl_path) as presenter_path_name
 * gives it. */
const char *present_path_label(consumer_api api, int path);

/* Implementations: presenter_create allocates `size` bytes (the backend's
 * struct, a presenter first), zeroed, sets ops and calls create; on failure
 * it calls destroy, which must take a presenter that create left half made.
 * destroy frees the presenter. */
typedef struct {
  size_t size;
  int (*create)(presenter *p, const present_config *cfg);
  void (*destroy)(presenter *p);
  int (*import)(presenter *p, ifd_ring_desc *desc);
  int (*draw)(presenter *p, uint64_t k, uint8_t *rgba);
  int (*take)(presenter *p, uint64_t timeout_ns, uint64_t *k);
  int (*finish)(presenter *p);
} present_ops;

struct presenter {
  const present_ops *ops;
  char device_name[256];
  const char *path_name;
  char priority[192];
  bool timelines;
  bool srgb_frames; /* the frames are SRGBA8: the draw encodes again */
  uint32_t width, height;
};

extern const present_ops present_vk_ops;
extern const present_ops present_gl_ops;

#endif
