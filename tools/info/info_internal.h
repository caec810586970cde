/* Inside `interop-fd info` (info.h): the state its parts share and the
 * functions each file gives the others. info.c: the report's order, output
 * and the producers of part 2; info_cuda.c, info_vk.c and info_gl.c: one API
 * each, its part 1 report and (Vulkan, GL) its consumer answers in part 2.
 *
 * Vulkan is reached through dlopen and its own proc-address calls
 * (VK_NO_PROTOTYPES), EGL through the EGL kit (common/egl_kit.h) and CUDA
 * through the tools' libcuda table (common/cuda_kit.h), so a machine that
 * lacks any of them gets a line saying so, never a failure to start. */
#ifndef IFD_TOOLS_INFO_INTERNAL_H
#define IFD_TOOLS_INFO_INTERNAL_H

#define VK_NO_PROTOTYPES

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <vulkan/vulkan.h>

#include "common/cuda_kit.h"
#include "common/egl_kit.h"
#include "interop_fd/interop_fd.h"

#define LABEL_COLUMN 40       /* where the ':' of every "label : value" line sits */
#define WHY_SIZE 1024         /* as long as ifd_last_error() can be */
#define MAX_VK_DEVICES 16
#define MAX_GL_DISPLAYS (EGL_KIT_MAX_DEVICES + 1) /* the devices and Mesa's surfaceless platform */
#define PROBE_SIZE 64         /* the probe image is PROBE_SIZE x PROBE_SIZE RGBA8 */

/* Vulkan entry points, all through vkGetInstanceProcAddr of the instance. */
#define VK_INSTANCE_FNS(X)                          \
  X(vkDestroyInstance)                              \
  X(vkEnumeratePhysicalDevices)                     \
  X(vkGetPhysicalDeviceProperties)                  \
  X(vkGetPhysicalDeviceProperties2)                 \
  X(vkGetPhysicalDeviceFeatures2)                   \
  X(vkEnumerateDeviceExtensionProperties)           \
  X(vkGetPhysicalDeviceQueueFamilyProperties)       \
  X(vkGetPhysicalDeviceExternalBufferProperties)    \
  X(vkGetPhysicalDeviceExternalSemaphoreProperties) \
  X(vkCreateDevice)                                 \
  X(vkDestroyDevice)                                \
  X(vkDeviceWaitIdle)

typedef struct {
#define INFO_VK_DECLARE(name) PFN_##name name;
  VK_INSTANCE_FNS(INFO_VK_DECLARE)
#undef INFO_VK_DECLARE
} vk_fns;

/* An EGL display that gave a GL 4.5 core context in part 1. */
typedef struct {
  int device;               /* EGL device index; EGL_KIT_SURFACELESS: Mesa's surfaceless platform */
  char renderer[256];
  int n_uuids;              /* GL_NUM_DEVICE_UUIDS_EXT; 0 without GL_EXT_memory_object */
  uint8_t uuids[EGL_KIT_MAX_GL_UUIDS][16];
} gl_display;

typedef struct {
  FILE *out;
  const cuda_kit *cu;       /* NULL: libcuda is not usable */
  /* Vulkan: instance is VK_NULL_HANDLE when there is none, vk_why says why. */
  void *vk_lib;
  PFN_vkGetInstanceProcAddr gipa;
  VkInstance instance;
  vk_fns vk;
  char vk_why[WHY_SIZE];
  /* EGL: egl_ok is false when libEGL is not usable, egl_why says why. */
  bool egl_ok;
  int n_devices;
  gl_display gl[MAX_GL_DISPLAYS];
  int n_gl;
  char egl_why[WHY_SIZE];
} info_state;

/* A producer under test in part 2: a context of one backend, a probe image on
 * it and, where the device can export them, a timeline semaphore. */
typedef struct {
  ifd_backend backend;
  const char *name;
  ifd_context *ctx;
  ifd_image *image;
  ifd_timeline *timeline;
  uint8_t uuid[16];          /* the producer's device; all zero if unknown */
  char device[256];
  char why[WHY_SIZE];        /* why there is no context or image ("" if there is) */
  char timeline_why[WHY_SIZE];
} producer;

/* One line of the matrix. */
typedef struct {
  char answer[2 * WHY_SIZE]; /* "YES, ..." or "NO: ..." */
  char sync[2 * WHY_SIZE];   /* the timeline answer; "" where moot */
  char where[2 * WHY_SIZE];  /* which devices took part; "" if none */
} pair_answer;

/* info.c: output */
/* "label : value", the ':' of every line in LABEL_COLUMN. */
__attribute__((format(printf, 4, 5)))
void info_kv(info_state *s, int indent, const char *label, const char *fmt, ...);
/* snprintf for messages: long ones are cut to the buffer on purpose. */
__attribute__((format(printf, 3, 4)))
void info_text(char *buf, size_t size, const char *fmt, ...);
const char *info_yes_no(bool b);
const char *info_uuid_text(const uint8_t u[16], char out[37]); /* 8-4-4-4-12 lower-case hex */
bool info_uuid_is_zero(const uint8_t u[16]);

/* info.c: part 2's shared steps */
void info_pair_print(info_state *s, const producer *p, const char *consumer,
                     const pair_answer *a);
/* A consumer of part 2 as info.c drives it. */
typedef struct {
  void *importer;
  /* Imports the frame described (taking its fd on success), notes whether it
   * took the LINEAR path, and destroys it again: 0, or -errno with
   * ifd_last_error() set. */
  int (*import_frame)(void *importer, ifd_frame_desc *d, bool *linear);
  /* Imports the timeline of *fd (-1 in *fd once taken) and destroys it again. */
  int (*import_timeline)(void *importer, int *fd);
  const char *linear_text, *copy_text; /* the YES answers of each path */
} info_consumer;

/* The frame answer: the producer's image described and imported. */
void info_try_frame(const producer *p, const info_consumer *c, pair_answer *a);
/* The sync answer: the producer's timeline exported and imported, or why
 * not (then host waits, within one process only). */
void info_try_timeline(const producer *p, const info_consumer *c, pair_answer *a);

/* info_cuda.c */
void info_cuda_report(info_state *s);

/* info_vk.c */
void info_vk_report(info_state *s);
void info_vk_answer(info_state *s, producer *p);
void info_vk_unload(info_state *s);

/* info_gl.c */
void info_gl_report(info_state *s);
void info_gl_answer(info_state *s, producer *p);
void info_gl_unload(info_state *s);

#endif
