/* `interop-fd info`: part 1 lists what is installed (as vulkaninfo would, but
 * only what matters for sharing frames); part 2 answers every producer ->
 * consumer pair by doing it: a 64x64 RGBA8 image is created, described and
 * imported with the library's own consumer API, and a timeline semaphore is
 * exported and imported. An answer is what happened; a failure's reason is the
 * library's message (ifd_last_error) or what the probe found.
 *
 * Vulkan and EGL are reached through dlopen and their own proc-address calls
 * (VK_NO_PROTOTYPES, EGL_EGL_PROTOTYPES 0), CUDA through the library's loader,
 * so a machine that lacks any of them gets a line saying so, never a failure
 * to start or an abort (libepoxy aborts where libEGL is missing, so it is not
 * used here). Everything made here is destroyed, every fd closed. */
#define VK_NO_PROTOTYPES
#define EGL_EGL_PROTOTYPES 0

#include "info/info.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interop_fd/gl.h"
#include "interop_fd/interop_fd.h"
#include "interop_fd/vulkan.h"
#include "../src/cuda/cuda_api.h"

/* CUDA device attributes that cuda_api.h does not declare (values of cuda.h). */
#define INFO_CU_COMPUTE_CAPABILITY_MAJOR 75
#define INFO_CU_COMPUTE_CAPABILITY_MINOR 76

/* The few GL enums queried here (values of GL/glext.h), so no GL header is needed. */
#define INFO_GL_VENDOR 0x1F00
#define INFO_GL_RENDERER 0x1F01
#define INFO_GL_VERSION 0x1F02
#define INFO_GL_EXTENSIONS 0x1F03
#define INFO_GL_NUM_EXTENSIONS 0x821D
#define INFO_GL_NUM_DEVICE_UUIDS_EXT 0x9596
#define INFO_GL_DEVICE_UUID_EXT 0x9597

#define LABEL_COLUMN 40       /* where the ':' of every "label : value" line sits */
#define WHY_SIZE 1024         /* as long as ifd_last_error() can be */
#define MAX_VK_DEVICES 16
#define MAX_EGL_DEVICES 8
#define MAX_GL_DISPLAYS (MAX_EGL_DEVICES + 1) /* the devices and Mesa's surfaceless platform */
#define MAX_GL_UUIDS 4
#define PROBE_SIZE 64         /* the probe image is PROBE_SIZE x PROBE_SIZE RGBA8 */

/* ------------------------------------------------------------------ tables */

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

/* EGL 1.2 entry points every libEGL exports, then extensions (may be NULL). */
#define EGL_CORE_FNS(X)                             \
  X(eglGetError, PFNEGLGETERRORPROC)                \
  X(eglQueryString, PFNEGLQUERYSTRINGPROC)          \
  X(eglInitialize, PFNEGLINITIALIZEPROC)            \
  X(eglTerminate, PFNEGLTERMINATEPROC)              \
  X(eglBindAPI, PFNEGLBINDAPIPROC)                  \
  X(eglChooseConfig, PFNEGLCHOOSECONFIGPROC)        \
  X(eglCreateContext, PFNEGLCREATECONTEXTPROC)      \
  X(eglDestroyContext, PFNEGLDESTROYCONTEXTPROC)    \
  X(eglMakeCurrent, PFNEGLMAKECURRENTPROC)          \
  X(eglReleaseThread, PFNEGLRELEASETHREADPROC)
#define EGL_EXT_FNS(X)                                            \
  X(eglQueryDevicesEXT, PFNEGLQUERYDEVICESEXTPROC)                \
  X(eglQueryDeviceStringEXT, PFNEGLQUERYDEVICESTRINGEXTPROC)      \
  X(eglQueryDeviceAttribEXT, PFNEGLQUERYDEVICEATTRIBEXTPROC)      \
  X(eglQueryDeviceBinaryEXT, PFNEGLQUERYDEVICEBINARYEXTPROC)      \
  X(eglGetPlatformDisplayEXT, PFNEGLGETPLATFORMDISPLAYEXTPROC)

typedef struct {
#define INFO_EGL_DECLARE(name, type) type name;
  EGL_CORE_FNS(INFO_EGL_DECLARE)
  EGL_EXT_FNS(INFO_EGL_DECLARE)
#undef INFO_EGL_DECLARE
} egl_fns;

/* GL queries, through eglGetProcAddress. */
typedef struct {
  const unsigned char *(*GetString)(unsigned name);
  const unsigned char *(*GetStringi)(unsigned name, unsigned index);
  void (*GetIntegerv)(unsigned name, int *value);
  void (*GetUnsignedBytei_vEXT)(unsigned target, unsigned index, unsigned char *data);
  unsigned (*GetError)(void);
} gl_fns;

/* An EGL display that gave a GL 4.5 core context in part 1. */
typedef struct {
  int device;               /* EGL device index; -1: Mesa's surfaceless platform */
  char renderer[256];
  int n_uuids;              /* GL_NUM_DEVICE_UUIDS_EXT; 0 without GL_EXT_memory_object */
  uint8_t uuids[MAX_GL_UUIDS][16];
} gl_display;

typedef struct {
  FILE *out;
  const ifd_cuda_api *cu;   /* NULL: libcuda is not usable */
  /* Vulkan: instance is VK_NULL_HANDLE when there is none, vk_why says why. */
  void *vk_lib;
  PFN_vkGetInstanceProcAddr gipa;
  VkInstance instance;
  vk_fns vk;
  char vk_why[WHY_SIZE];
  /* EGL: egl_lib is NULL when libEGL is not usable, egl_why says why. */
  void *egl_lib;
  PFNEGLGETPROCADDRESSPROC egl_get_proc;
  egl_fns egl;
  EGLDeviceEXT devices[MAX_EGL_DEVICES];
  int n_devices;
  gl_display gl[MAX_GL_DISPLAYS];
  int n_gl;
  char egl_why[WHY_SIZE];
} info_state;

/* ------------------------------------------------------------------ output */

/* "label : value", the ':' of every line in LABEL_COLUMN. */
__attribute__((format(printf, 4, 5)))
static void kv(info_state *s, int indent, const char *label, const char *fmt, ...) {
  int width = LABEL_COLUMN - indent;
  fprintf(s->out, "%*s%-*s : ", indent, "", width > 0 ? width : 0, label);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(s->out, fmt, ap);
  va_end(ap);
  fputc('\n', s->out);
}

static void heading(info_state *s, const char *title) { fprintf(s->out, "\n== %s ==\n", title); }

/* snprintf for messages: long ones are cut to the buffer on purpose. */
__attribute__((format(printf, 3, 4)))
static void set_text(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, size, fmt, ap);
  va_end(ap);
}

static const char *yes_no(bool b) { return b ? "yes" : "no"; }

/* 8-4-4-4-12 lower-case hex. */
static const char *uuid_text(const uint8_t u[16], char out[37]) {
  char *p = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    p += sprintf(p, "%02x", u[i]);
  }
  return out;
}

static bool uuid_is_zero(const uint8_t u[16]) {
  static const uint8_t zero[16];
  return memcmp(u, zero, 16) == 0;
}

/* Whole-token search in a space-separated extension list (NULL: none). */
static bool has_token(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
  return false;
}

/* The first line of a small text file, or "" (e.g. a sysfs attribute). */
static void read_first_line(const char *path, char *buf, size_t n) {
  buf[0] = '\0';
  FILE *f = fopen(path, "re");
  if (!f) return;
  if (!fgets(buf, (int)n, f)) buf[0] = '\0';
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
}

/* ================================================================== part 1: CUDA */

static void cuda_report_device(info_state *s, int index) {
  const ifd_cuda_api *cu = s->cu;
  CUdevice dev = 0;
  char name[256] = "?";
  if (cu->cuDeviceGet(&dev, index) != CUDA_SUCCESS) {
    kv(s, 2, "device", "%d: cuDeviceGet failed", index);
    return;
  }
  cu->cuDeviceGetName(name, (int)sizeof(name), dev);
  char label[32], text[37];
  set_text(label, sizeof(label), "device %d", index);
  kv(s, 2, label, "%s", name);
  uint8_t uuid[16];
  if (cu->cuDeviceGetUuid(uuid, dev) == CUDA_SUCCESS) kv(s, 4, "UUID", "%s", uuid_text(uuid, text));
  int major = 0, minor = 0;
  cu->cuDeviceGetAttribute(&major, INFO_CU_COMPUTE_CAPABILITY_MAJOR, dev);
  cu->cuDeviceGetAttribute(&minor, INFO_CU_COMPUTE_CAPABILITY_MINOR, dev);
  kv(s, 4, "compute capability", "%d.%d", major, minor);
  static const struct {
    int attr;
    const char *name;
    const char *meaning;
  } attrs[] = {
      {CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
       "HANDLE_TYPE_POSIX_FILE_DESCRIPTOR", "memory export as an fd"},
      {CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, "VIRTUAL_MEMORY_MANAGEMENT",
       "cuMemCreate, needed for fd export"},
      {CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED, "TIMELINE_SEMAPHORE_INTEROP",
       "imports Vulkan timeline semaphores"},
      {CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED, "DMA_BUF", "dma-buf export"},
  };
  fprintf(s->out, "    CU_DEVICE_ATTRIBUTE_..._SUPPORTED:\n");
  for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
    int v = 0;
    CUresult r = cu->cuDeviceGetAttribute(&v, attrs[i].attr, dev);
    if (r != CUDA_SUCCESS)
      kv(s, 6, attrs[i].name, "unknown (query failed: %d)", r);
    else
      kv(s, 6, attrs[i].name, "%-3s (%s)", yes_no(v != 0), attrs[i].meaning);
  }
}

static void cuda_report(info_state *s) {
  fprintf(s->out, "CUDA\n");
  int err = 0;
  s->cu = ifd_cuda_api_get(&err);
  if (!s->cu) {
    kv(s, 2, "libcuda.so.1", "not usable: %s", ifd_last_error());
    return;
  }
  int version = 0;
  s->cu->cuDriverGetVersion(&version);
  kv(s, 2, "libcuda.so.1", "loaded, CUDA driver API %d.%d", version / 1000, version % 1000 / 10);
  char module[64];
  read_first_line("/sys/module/nvidia/version", module, sizeof(module));
  if (module[0]) kv(s, 2, "NVIDIA kernel module", "%s", module);
  int count = 0;
  CUresult r = s->cu->cuDeviceGetCount(&count);
  if (r != CUDA_SUCCESS) {
    kv(s, 2, "devices", "none (cuDeviceGetCount failed: %d)", r);
    return;
  }
  kv(s, 2, "devices", "%d", count);
  for (int i = 0; i < count; i++) cuda_report_device(s, i);
}

/* ================================================================== part 1: Vulkan */

/* Loads libvulkan.so.1 and creates the instance used by parts 1 and 2. */
static bool vk_load(info_state *s, uint32_t *loader_version) {
  s->vk_lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!s->vk_lib) {
    set_text(s->vk_why, sizeof(s->vk_why), "no Vulkan loader: %s", dlerror());
    return false;
  }
  s->gipa = (PFN_vkGetInstanceProcAddr)dlsym(s->vk_lib, "vkGetInstanceProcAddr");
  PFN_vkCreateInstance create =
      s->gipa ? (PFN_vkCreateInstance)s->gipa(VK_NULL_HANDLE, "vkCreateInstance") : NULL;
  if (!create) {
    set_text(s->vk_why, sizeof(s->vk_why), "libvulkan.so.1 has no vkCreateInstance");
    return false;
  }
  PFN_vkEnumerateInstanceVersion version =
      (PFN_vkEnumerateInstanceVersion)s->gipa(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
  *loader_version = VK_API_VERSION_1_0;
  if (version) version(loader_version);
  if (*loader_version < VK_API_VERSION_1_1) {
    set_text(s->vk_why, sizeof(s->vk_why), "the Vulkan loader offers 1.0; 1.1 is needed");
    return false;
  }
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "interop-fd info",
                           .apiVersion = VK_API_VERSION_1_3};
  VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                              .pApplicationInfo = &app};
  VkResult r = create(&ici, NULL, &s->instance);
  if (r != VK_SUCCESS) {
    s->instance = VK_NULL_HANDLE;
    set_text(s->vk_why, sizeof(s->vk_why), "vkCreateInstance failed (%d)%s", (int)r,
             r == VK_ERROR_INCOMPATIBLE_DRIVER ? ": no Vulkan driver (ICD) found" : "");
    return false;
  }
  /* Keep Mesa's lavapipe loaded until exit (a no-op elsewhere; the handle is
   * never closed, on purpose): unloaded at vkDestroyInstance, it leaves blocks
   * that LeakSanitizer reports. */
  (void)dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  const char *missing = NULL;
#define INFO_VK_LOAD(name)                                                  \
  s->vk.name = (PFN_##name)s->gipa(s->instance, #name);                     \
  if (!s->vk.name && !missing) missing = #name;
  VK_INSTANCE_FNS(INFO_VK_LOAD)
#undef INFO_VK_LOAD
  if (missing) {
    set_text(s->vk_why, sizeof(s->vk_why), "the Vulkan instance has no %s", missing);
    PFN_vkDestroyInstance destroy =
        (PFN_vkDestroyInstance)s->gipa(s->instance, "vkDestroyInstance");
    if (destroy) destroy(s->instance, NULL);
    s->instance = VK_NULL_HANDLE;
    return false;
  }
  return true;
}

static void vk_unload(info_state *s) {
  if (s->instance) s->vk.vkDestroyInstance(s->instance, NULL);
  s->instance = VK_NULL_HANDLE;
  if (s->vk_lib) dlclose(s->vk_lib);
  s->vk_lib = NULL;
}

/* Up to MAX_VK_DEVICES physical devices; 0 on failure. */
static uint32_t vk_devices(info_state *s, VkPhysicalDevice list[MAX_VK_DEVICES]) {
  uint32_t n = MAX_VK_DEVICES;
  VkResult r = s->vk.vkEnumeratePhysicalDevices(s->instance, &n, list);
  return r == VK_SUCCESS || r == VK_INCOMPLETE ? n : 0;
}

static bool vk_has_ext(info_state *s, VkPhysicalDevice pd, const char *name) {
  uint32_t n = 0;
  if (s->vk.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return false;
  VkExtensionProperties *e = calloc(n, sizeof(*e));
  if (!e) return false;
  bool found = false;
  if (s->vk.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
  free(e);
  return found;
}

/* What part 1 prints about a physical device. */
typedef struct {
  VkPhysicalDeviceProperties props;
  bool has_id;                 /* Vulkan 1.1: deviceUUID known */
  uint8_t uuid[VK_UUID_SIZE];
  bool has_driver;             /* Vulkan 1.2 or VK_KHR_driver_properties */
  char driver_name[VK_MAX_DRIVER_NAME_SIZE];
  char driver_info[VK_MAX_DRIVER_INFO_SIZE];
  bool timeline;               /* the timelineSemaphore feature */
} vk_facts;

static void vk_query_facts(info_state *s, VkPhysicalDevice pd, vk_facts *f) {
  memset(f, 0, sizeof(*f));
  s->vk.vkGetPhysicalDeviceProperties(pd, &f->props);
  uint32_t api = f->props.apiVersion;
  if (api < VK_API_VERSION_1_1) return;
  f->has_driver = api >= VK_API_VERSION_1_2 || vk_has_ext(s, pd, "VK_KHR_driver_properties");
  VkPhysicalDeviceDriverProperties drv = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES,
                                     .pNext = f->has_driver ? &drv : NULL};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &id};
  s->vk.vkGetPhysicalDeviceProperties2(pd, &p2);
  f->has_id = true;
  memcpy(f->uuid, id.deviceUUID, VK_UUID_SIZE);
  memcpy(f->driver_name, drv.driverName, sizeof(f->driver_name));
  memcpy(f->driver_info, drv.driverInfo, sizeof(f->driver_info));
  f->driver_name[sizeof(f->driver_name) - 1] = f->driver_info[sizeof(f->driver_info) - 1] = '\0';
  if (api >= VK_API_VERSION_1_2 || vk_has_ext(s, pd, "VK_KHR_timeline_semaphore")) {
    VkPhysicalDeviceTimelineSemaphoreFeatures tf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &tf};
    s->vk.vkGetPhysicalDeviceFeatures2(pd, &f2);
    f->timeline = tf.timelineSemaphore == VK_TRUE;
  }
}

static const char *vk_type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software)";
    default: return "other";
  }
}

/* "export, import", "export only", "import only" or "no", from feature bits. */
static const char *caps_text(bool exportable, bool importable, bool dedicated_only) {
  if (exportable && importable)
    return dedicated_only ? "export, import (dedicated allocations only)" : "export, import";
  if (exportable) return dedicated_only ? "export only (dedicated only)" : "export only";
  if (importable) return dedicated_only ? "import only (dedicated only)" : "import only";
  return "no";
}

static const char *vk_buffer_caps(info_state *s, VkPhysicalDevice pd,
                                  VkExternalMemoryHandleTypeFlagBits type) {
  VkPhysicalDeviceExternalBufferInfo bi = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .handleType = type};
  VkExternalBufferProperties p = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES};
  s->vk.vkGetPhysicalDeviceExternalBufferProperties(pd, &bi, &p);
  VkExternalMemoryFeatureFlags f = p.externalMemoryProperties.externalMemoryFeatures;
  return caps_text(f & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT,
                   f & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT,
                   f & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT);
}

static const char *vk_timeline_caps(info_state *s, VkPhysicalDevice pd,
                                    VkExternalSemaphoreHandleTypeFlagBits type) {
  VkSemaphoreTypeCreateInfo ti = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                  .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
  VkPhysicalDeviceExternalSemaphoreInfo si = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .pNext = &ti,
      .handleType = type};
  VkExternalSemaphoreProperties p = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES};
  s->vk.vkGetPhysicalDeviceExternalSemaphoreProperties(pd, &si, &p);
  VkExternalSemaphoreFeatureFlags f = p.externalSemaphoreFeatures;
  return caps_text(f & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT,
                   f & VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT, false);
}

static void vk_report_external(info_state *s, VkPhysicalDevice pd, const vk_facts *f) {
  static const char *const exts[] = {"VK_KHR_external_memory_fd", "VK_EXT_external_memory_dma_buf",
                                     "VK_KHR_external_semaphore_fd"};
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
    kv(s, 4, exts[i], "%s", yes_no(vk_has_ext(s, pd, exts[i])));
  kv(s, 4, "timeline semaphores", "%s", yes_no(f->timeline));
  kv(s, 4, "buffer memory as OPAQUE_FD", "%s",
     vk_buffer_caps(s, pd, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT));
  if (vk_has_ext(s, pd, "VK_EXT_external_memory_dma_buf"))
    kv(s, 4, "buffer memory as DMA_BUF", "%s",
       vk_buffer_caps(s, pd, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT));
  else
    kv(s, 4, "buffer memory as DMA_BUF", "no (no VK_EXT_external_memory_dma_buf)");
  if (!f->timeline) {
    kv(s, 4, "timeline semaphore as fd", "no (no timeline semaphores)");
    return;
  }
  kv(s, 4, "timeline semaphore as OPAQUE_FD", "%s",
     vk_timeline_caps(s, pd, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT));
  kv(s, 4, "timeline semaphore as SYNC_FD", "%s",
     vk_timeline_caps(s, pd, VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT));
}

static void vk_report_device(info_state *s, uint32_t index, VkPhysicalDevice pd) {
  vk_facts f;
  vk_query_facts(s, pd, &f);
  char label[32], text[37];
  set_text(label, sizeof(label), "device %u", index);
  kv(s, 2, label, "%s", f.props.deviceName);
  kv(s, 4, "type", "%s", vk_type_name(f.props.deviceType));
  if (f.has_driver) kv(s, 4, "driver", "%s, %s", f.driver_name, f.driver_info);
  uint32_t api = f.props.apiVersion;
  kv(s, 4, "API version", "%u.%u.%u", VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api),
     VK_API_VERSION_PATCH(api));
  if (!f.has_id) {
    kv(s, 4, "external memory", "no: a Vulkan 1.0 device (1.1 is needed)");
    return;
  }
  kv(s, 4, "deviceUUID", "%s", uuid_text(f.uuid, text));
  vk_report_external(s, pd, &f);
}

static void vk_report(info_state *s) {
  fprintf(s->out, "Vulkan\n");
  uint32_t version = 0;
  if (!vk_load(s, &version)) {
    kv(s, 2, "loader", "%s", s->vk_why);
    vk_unload(s);
    return;
  }
  kv(s, 2, "loader", "libvulkan.so.1, Vulkan %u.%u.%u", VK_API_VERSION_MAJOR(version),
     VK_API_VERSION_MINOR(version), VK_API_VERSION_PATCH(version));
  VkPhysicalDevice list[MAX_VK_DEVICES];
  uint32_t n = vk_devices(s, list);
  kv(s, 2, "physical devices", "%u%s", n, n ? "" : " (no Vulkan driver sees a device)");
  for (uint32_t i = 0; i < n; i++) vk_report_device(s, i, list[i]);
}

/* ================================================================== part 1: EGL and GL */

static bool egl_load(info_state *s) {
  s->egl_lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!s->egl_lib) {
    set_text(s->egl_why, sizeof(s->egl_why), "cannot load libEGL.so.1: %s", dlerror());
    return false;
  }
  s->egl_get_proc = (PFNEGLGETPROCADDRESSPROC)dlsym(s->egl_lib, "eglGetProcAddress");
  const char *missing = s->egl_get_proc ? NULL : "eglGetProcAddress";
#define INFO_EGL_CORE(name, type)                                              \
  s->egl.name = (type)dlsym(s->egl_lib, #name);                                \
  if (!s->egl.name && !missing) missing = #name;
  EGL_CORE_FNS(INFO_EGL_CORE)
#undef INFO_EGL_CORE
  if (missing) {
    set_text(s->egl_why, sizeof(s->egl_why), "libEGL.so.1 lacks %s", missing);
    dlclose(s->egl_lib);
    s->egl_lib = NULL;
    return false;
  }
#define INFO_EGL_EXT(name, type) s->egl.name = (type)s->egl_get_proc(#name);
  EGL_EXT_FNS(INFO_EGL_EXT)
#undef INFO_EGL_EXT
  return true;
}

static void egl_unload(info_state *s) {
  if (!s->egl_lib) return;
  s->egl.eglReleaseThread();
  dlclose(s->egl_lib);
  s->egl_lib = NULL;
}

/* A current GL 4.5 core context on one EGL display, with no surface. */
typedef struct {
  EGLDisplay dpy;
  EGLContext ctx;
  gl_fns gl;
} gl_ctx;

static EGLDisplay egl_display(info_state *s, int device) {
  if (!s->egl.eglGetPlatformDisplayEXT) return EGL_NO_DISPLAY;
  if (device >= 0)
    return s->egl.eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, s->devices[device], NULL);
  return s->egl.eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
}

static void gl_close(info_state *s, gl_ctx *c) {
  if (c->dpy == EGL_NO_DISPLAY) return;
  s->egl.eglMakeCurrent(c->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (c->ctx != EGL_NO_CONTEXT) s->egl.eglDestroyContext(c->dpy, c->ctx);
  s->egl.eglTerminate(c->dpy);
  c->dpy = EGL_NO_DISPLAY;
  c->ctx = EGL_NO_CONTEXT;
}

static bool gl_load(info_state *s, gl_fns *gl) {
  gl->GetString = (const unsigned char *(*)(unsigned))s->egl_get_proc("glGetString");
  gl->GetStringi = (const unsigned char *(*)(unsigned, unsigned))s->egl_get_proc("glGetStringi");
  gl->GetIntegerv = (void (*)(unsigned, int *))s->egl_get_proc("glGetIntegerv");
  gl->GetError = (unsigned (*)(void))s->egl_get_proc("glGetError");
  gl->GetUnsignedBytei_vEXT = (void (*)(unsigned, unsigned, unsigned char *))s->egl_get_proc(
      "glGetUnsignedBytei_vEXT");
  return gl->GetString && gl->GetStringi && gl->GetIntegerv && gl->GetError;
}

/* Makes a GL 4.5 core context current on the display of EGL device `device`
 * (-1: Mesa's surfaceless platform). On failure nothing is left and why says why. */
static int gl_open(info_state *s, int device, gl_ctx *c, char *why, size_t why_size) {
  memset(c, 0, sizeof(*c));
  c->dpy = egl_display(s, device);
  if (c->dpy == EGL_NO_DISPLAY) {
    set_text(why, why_size, "no EGL display (0x%04x)", s->egl.eglGetError());
    return -1;
  }
  if (!s->egl.eglInitialize(c->dpy, NULL, NULL)) {
    set_text(why, why_size, "eglInitialize failed (0x%04x)", s->egl.eglGetError());
    c->dpy = EGL_NO_DISPLAY;
    return -1;
  }
  const char *ext = s->egl.eglQueryString(c->dpy, EGL_EXTENSIONS);
  EGLConfig cfg = EGL_NO_CONFIG_KHR;
  EGLint ncfg = 0;
  const EGLint cfg_attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE};
  const EGLint ctx_attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 4, EGL_CONTEXT_MINOR_VERSION, 5,
                              EGL_CONTEXT_OPENGL_PROFILE_MASK,
                              EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE};
  if (!has_token(ext, "EGL_KHR_surfaceless_context")) {
    set_text(why, why_size, "the display has no EGL_KHR_surfaceless_context");
  } else if (!has_token(ext, "EGL_KHR_no_config_context") &&
             (!s->egl.eglChooseConfig(c->dpy, cfg_attrs, &cfg, 1, &ncfg) || ncfg < 1)) {
    set_text(why, why_size, "no EGL config renders desktop OpenGL");
  } else if (!s->egl.eglBindAPI(EGL_OPENGL_API) ||
             (c->ctx = s->egl.eglCreateContext(c->dpy, cfg, EGL_NO_CONTEXT, ctx_attrs)) ==
                 EGL_NO_CONTEXT) {
    set_text(why, why_size, "no OpenGL 4.5 core context (0x%04x)", s->egl.eglGetError());
  } else if (!s->egl.eglMakeCurrent(c->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, c->ctx)) {
    set_text(why, why_size, "eglMakeCurrent failed (0x%04x)", s->egl.eglGetError());
  } else if (!gl_load(s, &c->gl)) {
    set_text(why, why_size, "eglGetProcAddress gives no glGetString/glGetStringi/glGetIntegerv");
  } else {
    return 0;
  }
  gl_close(s, c);
  return -1;
}

static bool gl_has_ext(const gl_ctx *c, const char *name) {
  int n = 0;
  c->gl.GetIntegerv(INFO_GL_NUM_EXTENSIONS, &n);
  for (int i = 0; i < n; i++) {
    const char *e = (const char *)c->gl.GetStringi(INFO_GL_EXTENSIONS, (unsigned)i);
    if (e && strcmp(e, name) == 0) return true;
  }
  return false;
}

static const char *gl_string(const gl_ctx *c, unsigned name) {
  const char *v = (const char *)c->gl.GetString(name);
  return v ? v : "?";
}

/* Reads the context's GL_DEVICE_UUID_EXT values into g (none without
 * GL_EXT_memory_object). */
static void gl_read_uuids(const gl_ctx *c, gl_display *g) {
  g->n_uuids = 0;
  if (!c->gl.GetUnsignedBytei_vEXT || !gl_has_ext(c, "GL_EXT_memory_object")) return;
  while (c->gl.GetError() != 0) continue; /* earlier errors are not ours */
  int n = 0;
  c->gl.GetIntegerv(INFO_GL_NUM_DEVICE_UUIDS_EXT, &n);
  if (n > MAX_GL_UUIDS) n = MAX_GL_UUIDS;
  for (int i = 0; i < n; i++)
    c->gl.GetUnsignedBytei_vEXT(INFO_GL_DEVICE_UUID_EXT, (unsigned)i, g->uuids[i]);
  g->n_uuids = c->gl.GetError() == 0 ? n : 0;
}

/* Opens a context on the display, prints what it offers and remembers it for
 * part 2. Returns true if a context was made. */
static bool gl_report_display(info_state *s, int device) {
  gl_ctx c;
  char why[WHY_SIZE];
  if (gl_open(s, device, &c, why, sizeof(why)) != 0) {
    kv(s, 4, "OpenGL 4.5 core context", "no: %s", why);
    return false;
  }
  kv(s, 4, "OpenGL 4.5 core context", "yes");
  kv(s, 4, "GL_VENDOR", "%s", gl_string(&c, INFO_GL_VENDOR));
  kv(s, 4, "GL_RENDERER", "%s", gl_string(&c, INFO_GL_RENDERER));
  kv(s, 4, "GL_VERSION", "%s", gl_string(&c, INFO_GL_VERSION));
  static const char *const exts[] = {"GL_EXT_memory_object", "GL_EXT_memory_object_fd",
                                     "GL_EXT_semaphore_fd", "GL_NV_timeline_semaphore"};
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
    kv(s, 4, exts[i], "%s", yes_no(gl_has_ext(&c, exts[i])));
  gl_display *g = &s->gl[s->n_gl++];
  g->device = device;
  set_text(g->renderer, sizeof(g->renderer), "%s", gl_string(&c, INFO_GL_RENDERER));
  gl_read_uuids(&c, g);
  char text[37];
  for (int i = 0; i < g->n_uuids; i++)
    kv(s, 4, "GL_DEVICE_UUID_EXT", "%s", uuid_text(g->uuids[i], text));
  if (g->n_uuids == 0) kv(s, 4, "GL_DEVICE_UUID_EXT", "none (needs GL_EXT_memory_object)");
  gl_close(s, &c);
  return true;
}

static void egl_report_device(info_state *s, int index) {
  EGLDeviceEXT dev = s->devices[index];
  const char *ext = s->egl.eglQueryDeviceStringEXT
                        ? s->egl.eglQueryDeviceStringEXT(dev, EGL_EXTENSIONS)
                        : NULL;
  char label[32], text[37];
  set_text(label, sizeof(label), "EGL device %d", index);
  const char *name = has_token(ext, "EGL_EXT_device_query_name")
                         ? s->egl.eglQueryDeviceStringEXT(dev, EGL_RENDERER_EXT)
                         : NULL;
  kv(s, 2, label, "%s", name ? name : has_token(ext, "EGL_MESA_device_software")
                                          ? "software renderer (EGL_MESA_device_software)"
                                          : "(no name)");
  if (has_token(ext, "EGL_EXT_device_drm")) {
    const char *node = s->egl.eglQueryDeviceStringEXT(dev, EGL_DRM_DEVICE_FILE_EXT);
    kv(s, 4, "DRM device", "%s", node ? node : "none");
  }
  EGLAttrib cuda = -1;
  if (has_token(ext, "EGL_NV_device_cuda") && s->egl.eglQueryDeviceAttribEXT &&
      s->egl.eglQueryDeviceAttribEXT(dev, EGL_CUDA_DEVICE_NV, &cuda))
    kv(s, 4, "CUDA device", "%ld (EGL_NV_device_cuda)", (long)cuda);
  uint8_t uuid[16];
  EGLint size = 0;
  if (has_token(ext, "EGL_EXT_device_persistent_id") && s->egl.eglQueryDeviceBinaryEXT &&
      s->egl.eglQueryDeviceBinaryEXT(dev, EGL_DEVICE_UUID_EXT, 16, uuid, &size) && size == 16)
    kv(s, 4, "EGL_DEVICE_UUID_EXT", "%s", uuid_text(uuid, text));
  s->egl.eglGetError(); /* queries the device lacks leave an error behind */
}

/* EGL devices (EGL_EXT_device_enumeration), each tried with
 * EGL_PLATFORM_DEVICE_EXT; Mesa's surfaceless platform if none gave a context. */
static void egl_report_devices(info_state *s, const char *client) {
  if (!s->egl.eglQueryDevicesEXT || !(has_token(client, "EGL_EXT_device_enumeration") ||
                                       has_token(client, "EGL_EXT_device_base"))) {
    kv(s, 2, "EGL devices", "not enumerable (no EGL_EXT_device_enumeration)");
  } else {
    EGLint n = 0;
    if (!s->egl.eglQueryDevicesEXT(MAX_EGL_DEVICES, s->devices, &n)) n = 0;
    s->n_devices = n;
    kv(s, 2, "EGL devices", "%d", n);
    bool platform = has_token(client, "EGL_EXT_platform_device");
    for (int i = 0; i < s->n_devices; i++) {
      egl_report_device(s, i);
      if (platform) gl_report_display(s, i);
    }
    if (!platform && n > 0)
      kv(s, 4, "OpenGL 4.5 core context", "not tried: no EGL_EXT_platform_device");
  }
  if (s->n_gl > 0) return;
  if (!has_token(client, "EGL_MESA_platform_surfaceless")) {
    set_text(s->egl_why, sizeof(s->egl_why),
             "no EGL device gave an OpenGL 4.5 core context and there is no "
             "EGL_MESA_platform_surfaceless");
    return;
  }
  kv(s, 2, "EGL_PLATFORM_SURFACELESS_MESA", "tried, as no EGL device gave a GL context");
  if (!gl_report_display(s, -1))
    set_text(s->egl_why, sizeof(s->egl_why),
             "neither an EGL device nor Mesa's surfaceless platform gave an OpenGL 4.5 core "
             "context");
}

static void egl_report(info_state *s) {
  fprintf(s->out, "EGL / OpenGL\n");
  if (!egl_load(s)) {
    kv(s, 2, "libEGL.so.1", "not usable: %s", s->egl_why);
    return;
  }
  const char *client = s->egl.eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  s->egl.eglGetError();
  kv(s, 2, "libEGL.so.1", "loaded");
  if (!client || !client[0]) {
    set_text(s->egl_why, sizeof(s->egl_why),
             "EGL reports no client extensions (is an EGL vendor library, e.g. Mesa's or "
             "NVIDIA's, installed?)");
    kv(s, 2, "EGL displays", "none: %s", s->egl_why);
    return;
  }
  static const char *const wanted[] = {"EGL_EXT_device_base", "EGL_EXT_device_enumeration",
                                       "EGL_EXT_platform_device", "EGL_MESA_platform_surfaceless"};
  for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
    kv(s, 2, wanted[i], "%s", yes_no(has_token(client, wanted[i])));
  if (!s->egl.eglGetPlatformDisplayEXT || !has_token(client, "EGL_EXT_platform_base")) {
    set_text(s->egl_why, sizeof(s->egl_why), "EGL has no EGL_EXT_platform_base: no display "
                                             "without a window system");
    kv(s, 2, "EGL displays", "none: %s", s->egl_why);
    return;
  }
  egl_report_devices(s, client);
}

/* ================================================================== part 2: answers */

/* A producer under test: a context of one backend, a probe image on it and,
 * where the device can export them, a timeline semaphore. */
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

static void producer_open(info_state *s, producer *p) {
  if (ifd_context_create(p->backend, 0, &p->ctx) != 0) {
    set_text(p->why, sizeof(p->why), "%s", ifd_last_error());
    return;
  }
  ifd_context_native nat;
  ifd_context_native_handles(p->ctx, &nat);
  memcpy(p->uuid, nat.device_uuid, 16);
  if (uuid_is_zero(p->uuid) && p->backend == IFD_BACKEND_CUDA && s->cu)
    s->cu->cuDeviceGetUuid(p->uuid, nat.cu_device); /* no Vulkan beside CUDA */
  set_text(p->device, sizeof(p->device), "%s", nat.device_name);
  if (ifd_image_create(p->ctx, PROBE_SIZE, PROBE_SIZE, MAX_FMT_RGBA8, &p->image) != 0) {
    set_text(p->why, sizeof(p->why), "cannot create a %dx%d RGBA8 image: %s", PROBE_SIZE,
             PROBE_SIZE, ifd_last_error());
    return;
  }
  if (ifd_timeline_create(p->ctx, 0, &p->timeline) != 0)
    set_text(p->timeline_why, sizeof(p->timeline_why), "%s", ifd_last_error());
}

static void producer_close(producer *p) {
  ifd_timeline_destroy(p->timeline);
  ifd_image_destroy(p->image);
  ifd_context_destroy(p->ctx);
  p->timeline = NULL;
  p->image = NULL;
  p->ctx = NULL;
}

static void pair_print(info_state *s, const producer *p, const char *consumer,
                       const pair_answer *a) {
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
    set_text(a->sync, sizeof(a->sync), "timeline semaphores (waits and signals on the GPU)");
  else
    set_text(a->sync, sizeof(a->sync), "host waits, within one process only (%s)", why);
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
    set_text(why, why_size, "the producer cannot export a timeline semaphore: %s",
             p->timeline_why);
  } else if (ifd_timeline_export_fd(p->timeline, &fd) != 0) {
    set_text(why, why_size, "exporting the producer's timeline semaphore failed: %s",
             ifd_last_error());
    fd = -1;
  }
  return fd;
}

/* ---------------------------------------------------------------- Vulkan consumer */

typedef struct {
  VkDevice device;
  ifd_vk_importer *importer;
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
} vk_consumer;

/* The physical device whose deviceUUID is uuid (any, if uuid is all zero);
 * VK_NULL_HANDLE if none, with the devices there are listed in why. */
static VkPhysicalDevice vk_find_device(info_state *s, const uint8_t uuid[16], char *why,
                                       size_t why_size) {
  VkPhysicalDevice list[MAX_VK_DEVICES];
  uint32_t n = vk_devices(s, list);
  char names[WHY_SIZE] = "";
  for (uint32_t i = 0; i < n; i++) {
    vk_facts f;
    vk_query_facts(s, list[i], &f);
    if (f.has_id && (uuid_is_zero(uuid) || memcmp(f.uuid, uuid, 16) == 0)) return list[i];
    size_t len = strlen(names);
    set_text(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", f.props.deviceName);
  }
  char text[37];
  set_text(why, why_size,
           "different device: no Vulkan device here has the producer's deviceUUID %s, so "
           "Vulkan cannot share its memory (Vulkan devices: %s)",
           uuid_text(uuid, text), n ? names : "none");
  return VK_NULL_HANDLE;
}

static uint32_t vk_queue_family(info_state *s, VkPhysicalDevice pd) {
  VkQueueFamilyProperties qf[16];
  uint32_t n = 16;
  s->vk.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
  for (uint32_t i = 0; i < n; i++)
    if (qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) return i;
  return 0;
}

/* A device as a consumer application would make it: the importer's
 * extensions where present, timeline semaphores where supported. */
static VkResult vk_create_device(info_state *s, VkPhysicalDevice pd, uint32_t family,
                                 VkDevice *out) {
  uint32_t n_req = 0;
  const char *const *req = ifd_vk_required_device_extensions(&n_req);
  const char *enable[8];
  uint32_t n_enable = 0;
  for (uint32_t i = 0; i < n_req && n_enable < 8; i++)
    if (vk_has_ext(s, pd, req[i])) enable[n_enable++] = req[i];
  vk_facts f;
  vk_query_facts(s, pd, &f);
  VkPhysicalDeviceTimelineSemaphoreFeatures tf = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      .timelineSemaphore = VK_TRUE};
  float prio = 1.0f;
  VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &prio};
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                            .pNext = f.timeline ? &tf : NULL,
                            .queueCreateInfoCount = 1,
                            .pQueueCreateInfos = &qci,
                            .enabledExtensionCount = n_enable,
                            .ppEnabledExtensionNames = enable};
  return s->vk.vkCreateDevice(pd, &dci, NULL, out);
}

static int vk_consumer_open(info_state *s, const uint8_t uuid[16], vk_consumer *c, char *why,
                            size_t why_size) {
  memset(c, 0, sizeof(*c));
  if (!s->instance) {
    set_text(why, why_size, "no Vulkan here: %s", s->vk_why);
    return -1;
  }
  VkPhysicalDevice pd = vk_find_device(s, uuid, why, why_size);
  if (!pd) return -1;
  VkPhysicalDeviceProperties props;
  s->vk.vkGetPhysicalDeviceProperties(pd, &props);
  set_text(c->name, sizeof(c->name), "%s", props.deviceName);
  uint32_t family = vk_queue_family(s, pd);
  VkResult r = vk_create_device(s, pd, family, &c->device);
  if (r != VK_SUCCESS) {
    c->device = VK_NULL_HANDLE;
    set_text(why, why_size, "vkCreateDevice on %s failed (%d)", c->name, (int)r);
    return -1;
  }
  ifd_vk_device_info di = {.instance = s->instance,
                           .physical_device = pd,
                           .device = c->device,
                           .queue_family_index = family,
                           .get_instance_proc_addr = s->gipa};
  if (ifd_vk_importer_create(&di, &c->importer) != 0) {
    set_text(why, why_size, "%s", ifd_last_error());
    s->vk.vkDestroyDevice(c->device, NULL);
    c->device = VK_NULL_HANDLE;
    return -1;
  }
  return 0;
}

static void vk_consumer_close(info_state *s, vk_consumer *c) {
  ifd_vk_importer_destroy(c->importer);
  if (c->device) {
    s->vk.vkDeviceWaitIdle(c->device);
    s->vk.vkDestroyDevice(c->device, NULL);
  }
  memset(c, 0, sizeof(*c));
}

static void vk_try_frame(const producer *p, vk_consumer *c, pair_answer *a) {
  ifd_frame_desc d;
  if (ifd_image_describe(p->image, &d) != 0) {
    set_text(a->answer, sizeof(a->answer), "NO: the producer cannot export its image: %s",
             ifd_last_error());
    return;
  }
  ifd_vk_frame *f = NULL;
  if (ifd_vk_frame_import(c->importer, &d, IFD_VK_PATH_AUTO, &f) != 0) {
    set_text(a->answer, sizeof(a->answer), "NO: %s", ifd_last_error());
  } else {
    ifd_vk_frame_native h = {0};
    ifd_vk_frame_native_handles(f, &h);
    set_text(a->answer, sizeof(a->answer), "%s",
             h.path == IFD_VK_PATH_LINEAR
                 ? "YES, zero-copy, LINEAR path (imported image sampled directly, no copy)"
                 : "YES, zero-copy with one GPU copy per frame, COPY path (memory imported as a "
                   "buffer, copied on the GPU into an optimal image; no CPU copy)");
    ifd_vk_frame_destroy(f);
  }
  ifd_frame_desc_close(&d); /* the memory fd, unless the import consumed it */
}

static void vk_try_timeline(const producer *p, vk_consumer *c, pair_answer *a) {
  char why[WHY_SIZE];
  int fd = timeline_fd(p, why, sizeof(why));
  ifd_vk_timeline *t = NULL;
  if (fd >= 0 && ifd_vk_timeline_import(c->importer, &fd, &t) != 0)
    set_text(why, sizeof(why), "the consumer cannot import the producer's timeline semaphore: %s",
             ifd_last_error());
  sync_answer(a, t != NULL, why);
  ifd_vk_timeline_destroy(t);
  close_fd(&fd); /* still ours unless the import consumed it */
}

static void answer_vk(info_state *s, producer *p) {
  pair_answer a = {.answer = "", .sync = "", .where = ""};
  vk_consumer c;
  char why[WHY_SIZE], text[37];
  if (p->why[0]) {
    set_text(a.answer, sizeof(a.answer), "NO: %s", p->why);
  } else if (vk_consumer_open(s, p->uuid, &c, why, sizeof(why)) != 0) {
    set_text(a.answer, sizeof(a.answer), "NO: %s", why);
  } else {
    if (uuid_is_zero(p->uuid))
      set_text(why, sizeof(why), "the producer's UUID is unknown: not checked");
    else
      set_text(why, sizeof(why), "same deviceUUID %s", uuid_text(p->uuid, text));
    set_text(a.where, sizeof(a.where), "producer: %s; consumer: Vulkan device %s (%s)",
             p->device, c.name, why);
    vk_try_frame(p, &c, &a);
    vk_try_timeline(p, &c, &a);
    vk_consumer_close(s, &c);
  }
  pair_print(s, p, "vk", &a);
}

/* ---------------------------------------------------------------- GL consumer */

static bool gl_has_uuid(const gl_display *g, const uint8_t uuid[16]) {
  for (int i = 0; i < g->n_uuids; i++)
    if (memcmp(g->uuids[i], uuid, 16) == 0) return true;
  return false;
}

/* The display to import on: one whose GL device UUID is the producer's, else
 * one whose GL reports no UUID (the import then says what it lacks). NULL if
 * every GL is on another device; why says so. */
static const gl_display *gl_pick(info_state *s, const producer *p, char *why, size_t why_size) {
  if (s->n_gl == 0) {
    set_text(why, why_size, "no OpenGL here: %s", s->egl_why);
    return NULL;
  }
  if (uuid_is_zero(p->uuid)) return &s->gl[0];
  for (int i = 0; i < s->n_gl; i++)
    if (gl_has_uuid(&s->gl[i], p->uuid)) return &s->gl[i];
  for (int i = 0; i < s->n_gl; i++)
    if (s->gl[i].n_uuids == 0) return &s->gl[i];
  char a[37], b[37];
  set_text(why, why_size,
           "different device: OpenGL renders on %s (device UUID %s), the producer is %s "
           "(UUID %s), so GL cannot share its memory",
           s->gl[0].renderer, uuid_text(s->gl[0].uuids[0], a), p->device, uuid_text(p->uuid, b));
  return NULL;
}

static void gl_try_frame(const producer *p, ifd_gl_importer *imp, pair_answer *a) {
  ifd_frame_desc d;
  if (ifd_image_describe(p->image, &d) != 0) {
    set_text(a->answer, sizeof(a->answer), "NO: the producer cannot export its image: %s",
             ifd_last_error());
    return;
  }
  ifd_gl_frame *f = NULL;
  if (ifd_gl_frame_import(imp, &d, IFD_GL_PATH_AUTO, &f) != 0) {
    set_text(a->answer, sizeof(a->answer), "NO: %s", ifd_last_error());
  } else {
    ifd_gl_frame_native h = {0};
    ifd_gl_frame_native_handles(f, &h);
    set_text(a->answer, sizeof(a->answer), "%s",
             h.path == IFD_GL_PATH_LINEAR
                 ? "YES, zero-copy, LINEAR path (linear texture on the imported memory, sampled "
                   "directly, no copy)"
                 : "YES, zero-copy with one GPU copy per frame, COPY path (memory imported as a "
                   "buffer, copied on the GPU into a texture; no CPU copy)");
    ifd_gl_frame_destroy(f);
  }
  ifd_frame_desc_close(&d);
}

static void gl_try_timeline(const producer *p, ifd_gl_importer *imp, pair_answer *a) {
  char why[WHY_SIZE];
  int fd = timeline_fd(p, why, sizeof(why));
  ifd_gl_timeline *t = NULL;
  if (fd >= 0 && ifd_gl_timeline_import(imp, &fd, &t) != 0)
    set_text(why, sizeof(why), "the consumer cannot import the producer's timeline semaphore: %s",
             ifd_last_error());
  sync_answer(a, t != NULL, why);
  ifd_gl_timeline_destroy(t);
  close_fd(&fd); /* still ours unless the import consumed it */
}

static void gl_where(const producer *p, const gl_display *g, pair_answer *a) {
  char text[37], same[128];
  if (uuid_is_zero(p->uuid))
    set_text(same, sizeof(same), "producer's UUID unknown");
  else if (gl_has_uuid(g, p->uuid))
    set_text(same, sizeof(same), "same device UUID %s", uuid_text(p->uuid, text));
  else
    set_text(same, sizeof(same), "GL reports no device UUID: not checked");
  char via[64];
  if (g->device >= 0)
    set_text(via, sizeof(via), "EGL device %d", g->device);
  else
    set_text(via, sizeof(via), "EGL_PLATFORM_SURFACELESS_MESA");
  set_text(a->where, sizeof(a->where), "producer: %s; consumer: OpenGL on %s via %s (%s)",
           p->device, g->renderer, via, same);
}

static void answer_gl(info_state *s, producer *p) {
  pair_answer a = {.answer = "", .sync = "", .where = ""};
  char why[WHY_SIZE];
  const gl_display *g = NULL;
  gl_ctx c;
  if (p->why[0]) {
    set_text(a.answer, sizeof(a.answer), "NO: %s", p->why);
  } else if (!(g = gl_pick(s, p, why, sizeof(why)))) {
    set_text(a.answer, sizeof(a.answer), "NO: %s", why);
  } else if (gl_open(s, g->device, &c, why, sizeof(why)) != 0) {
    set_text(a.answer, sizeof(a.answer), "NO: the GL context failed this time: %s", why);
  } else {
    gl_where(p, g, &a);
    ifd_gl_importer *imp = NULL;
    if (ifd_gl_importer_create((ifd_gl_get_proc_address)s->egl_get_proc, &imp) != 0) {
      set_text(a.answer, sizeof(a.answer), "NO: %s", ifd_last_error());
    } else {
      gl_try_frame(p, imp, &a);
      gl_try_timeline(p, imp, &a);
      ifd_gl_importer_destroy(imp);
    }
    gl_close(s, &c);
  }
  pair_print(s, p, "gl", &a);
}

static void answers(info_state *s) {
  heading(s, "2. Answers, found by exporting and importing a 64x64 RGBA8 image and a timeline "
             "semaphore");
  producer producers[] = {{.backend = IFD_BACKEND_CUDA, .name = "cuda"},
                          {.backend = IFD_BACKEND_VULKAN, .name = "vulkan"}};
  for (size_t i = 0; i < sizeof(producers) / sizeof(producers[0]); i++) {
    producer *p = &producers[i];
    producer_open(s, p);
    answer_vk(s, p);
    answer_gl(s, p);
    producer_close(p);
  }
}

/* ================================================================== entry */

int info_run(FILE *out) {
  info_state state = {.out = out}, *s = &state;
  fprintf(out, "interop-fd info: can frames go from a producer to a consumer here with no CPU "
               "copy, and if not, why not?\n");
  heading(s, "1. Backends found");
  cuda_report(s);
  vk_report(s);
  egl_report(s);
  answers(s);
  vk_unload(s);
  egl_unload(s);
  return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}
