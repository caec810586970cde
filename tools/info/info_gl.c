/* `interop-fd info`, EGL and OpenGL: part 1 (EGL's client extensions, each
 * EGL device, and on each display that gives one a GL 4.5 core context: its
 * extensions and device UUIDs) and part 2's GL consumer (an ifd_gl_importer on
 * the display whose GL runs on the producer's device). Contexts come from the
 * EGL kit (common/egl_kit.h), GL queries through eglGetProcAddress, so no GL
 * library is linked and a machine without libEGL gets a line saying so. */
#define EGL_EGL_PROTOTYPES 0

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <string.h>

#include "common/tool_error.h"
#include "info/info_internal.h"
#include "interop_fd/gl.h"

/* The few GL enums queried here (values of GL/glext.h), so no GL header is needed. */
#define INFO_GL_VENDOR 0x1F00
#define INFO_GL_RENDERER 0x1F01
#define INFO_GL_VERSION 0x1F02
#define INFO_GL_EXTENSIONS 0x1F03
#define INFO_GL_NUM_EXTENSIONS 0x821D

/* GL queries, through eglGetProcAddress. */
typedef struct {
  const unsigned char *(*GetString)(unsigned name);
  const unsigned char *(*GetStringi)(unsigned name, unsigned index);
  void (*GetIntegerv)(unsigned name, int *value);
} gl_fns;

/* A current GL 4.5 core context on one EGL display, with no surface. */
typedef struct {
  egl_kit_context egl;
  gl_fns gl;
} gl_ctx;

static void gl_close(gl_ctx *c) { egl_kit_close(&c->egl); }

/* Makes a GL 4.5 core context current on the display of EGL device `device`
 * (EGL_KIT_SURFACELESS: Mesa's surfaceless platform). On failure nothing is
 * left and why says why. */
static int gl_open(int device, gl_ctx *c, char *why, size_t why_size) {
  memset(c, 0, sizeof(*c));
  if (egl_kit_open_display(&c->egl, device) != 0) {
    info_text(why, why_size, "%s", tool_last_error());
    return -1;
  }
  c->gl.GetString = (const unsigned char *(*)(unsigned))egl_kit_proc("glGetString");
  c->gl.GetStringi = (const unsigned char *(*)(unsigned, unsigned))egl_kit_proc("glGetStringi");
  c->gl.GetIntegerv = (void (*)(unsigned, int *))egl_kit_proc("glGetIntegerv");
  if (!c->gl.GetString || !c->gl.GetStringi || !c->gl.GetIntegerv) {
    info_text(why, why_size, "eglGetProcAddress gives no glGetString/glGetStringi/glGetIntegerv");
    gl_close(c);
    return -1;
  }
  return 0;
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

/* Opens a context on the display, prints what it offers and remembers it for
 * part 2. Returns true if a context was made. */
static bool gl_report_display(info_state *s, int device) {
  gl_ctx c;
  char why[WHY_SIZE];
  if (gl_open(device, &c, why, sizeof(why)) != 0) {
    info_kv(s, 4, "OpenGL 4.5 core context", "no: %s", why);
    return false;
  }
  info_kv(s, 4, "OpenGL 4.5 core context", "yes");
  info_kv(s, 4, "GL_VENDOR", "%s", gl_string(&c, INFO_GL_VENDOR));
  info_kv(s, 4, "GL_RENDERER", "%s", gl_string(&c, INFO_GL_RENDERER));
  info_kv(s, 4, "GL_VERSION", "%s", gl_string(&c, INFO_GL_VERSION));
  static const char *const exts[] = {"GL_EXT_memory_object", "GL_EXT_memory_object_fd",
                                     "GL_EXT_semaphore_fd", "GL_NV_timeline_semaphore"};
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
    info_kv(s, 4, exts[i], "%s", info_yes_no(gl_has_ext(&c, exts[i])));
  gl_display *g = &s->gl[s->n_gl++];
  g->device = device;
  info_text(g->renderer, sizeof(g->renderer), "%s", gl_string(&c, INFO_GL_RENDERER));
  g->n_uuids = egl_kit_gl_uuids(g->uuids, EGL_KIT_MAX_GL_UUIDS);
  char text[37];
  for (int i = 0; i < g->n_uuids; i++)
    info_kv(s, 4, "GL_DEVICE_UUID_EXT", "%s", info_uuid_text(g->uuids[i], text));
  if (g->n_uuids == 0) info_kv(s, 4, "GL_DEVICE_UUID_EXT", "none (needs GL_EXT_memory_object)");
  gl_close(&c);
  return true;
}

/* ------------------------------------------------------------------ part 1 */

static void egl_report_device(info_state *s, int index) {
  const char *ext = egl_kit_device_string(index, EGL_EXTENSIONS);
  char label[32], text[37];
  info_text(label, sizeof(label), "EGL device %d", index);
  const char *name = egl_kit_has_token(ext, "EGL_EXT_device_query_name")
                         ? egl_kit_device_string(index, EGL_RENDERER_EXT)
                         : NULL;
  info_kv(s, 2, label, "%s", name ? name : egl_kit_has_token(ext, "EGL_MESA_device_software")
                                               ? "software renderer (EGL_MESA_device_software)"
                                               : "(no name)");
  if (egl_kit_has_token(ext, "EGL_EXT_device_drm")) {
    const char *node = egl_kit_device_string(index, EGL_DRM_DEVICE_FILE_EXT);
    info_kv(s, 4, "DRM device", "%s", node ? node : "none");
  }
  intptr_t cuda = -1;
  if (egl_kit_has_token(ext, "EGL_NV_device_cuda") &&
      egl_kit_device_attrib(index, EGL_CUDA_DEVICE_NV, &cuda))
    info_kv(s, 4, "CUDA device", "%ld (EGL_NV_device_cuda)", (long)cuda);
  uint8_t uuid[16];
  if (egl_kit_device_uuid(index, uuid))
    info_kv(s, 4, "EGL_DEVICE_UUID_EXT", "%s", info_uuid_text(uuid, text));
}

/* EGL devices (EGL_EXT_device_enumeration), each tried with
 * EGL_PLATFORM_DEVICE_EXT; Mesa's surfaceless platform if none gave a context. */
static void egl_report_devices(info_state *s, const char *client) {
  if (!(egl_kit_has_token(client, "EGL_EXT_device_enumeration") ||
        egl_kit_has_token(client, "EGL_EXT_device_base"))) {
    info_kv(s, 2, "EGL devices", "not enumerable (no EGL_EXT_device_enumeration)");
  } else {
    int n = egl_kit_device_count();
    s->n_devices = n;
    info_kv(s, 2, "EGL devices", "%d", n);
    bool platform = egl_kit_has_token(client, "EGL_EXT_platform_device");
    for (int i = 0; i < s->n_devices; i++) {
      egl_report_device(s, i);
      if (platform) gl_report_display(s, i);
    }
    if (!platform && n > 0)
      info_kv(s, 4, "OpenGL 4.5 core context", "not tried: no EGL_EXT_platform_device");
  }
  if (s->n_gl > 0) return;
  if (!egl_kit_has_token(client, "EGL_MESA_platform_surfaceless")) {
    info_text(s->egl_why, sizeof(s->egl_why),
              "no EGL device gave an OpenGL 4.5 core context and there is no "
              "EGL_MESA_platform_surfaceless");
    return;
  }
  info_kv(s, 2, "EGL_PLATFORM_SURFACELESS_MESA", "tried, as no EGL device gave a GL context");
  if (!gl_report_display(s, EGL_KIT_SURFACELESS))
    info_text(s->egl_why, sizeof(s->egl_why),
              "neither an EGL device nor Mesa's surfaceless platform gave an OpenGL 4.5 core "
              "context");
}

void info_gl_report(info_state *s) {
  fprintf(s->out, "EGL / OpenGL\n");
  if (egl_kit_load() != 0) {
    info_text(s->egl_why, sizeof(s->egl_why), "%s", tool_last_error());
    info_kv(s, 2, "libEGL.so.1", "not usable: %s", s->egl_why);
    return;
  }
  s->egl_ok = true;
  const char *client = egl_kit_client_extensions();
  info_kv(s, 2, "libEGL.so.1", "loaded");
  if (!client) {
    info_text(s->egl_why, sizeof(s->egl_why),
              "EGL reports no client extensions (is an EGL vendor library, e.g. Mesa's or "
              "NVIDIA's, installed?)");
    info_kv(s, 2, "EGL displays", "none: %s", s->egl_why);
    return;
  }
  static const char *const wanted[] = {"EGL_EXT_device_base", "EGL_EXT_device_enumeration",
                                       "EGL_EXT_platform_device", "EGL_MESA_platform_surfaceless"};
  for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
    info_kv(s, 2, wanted[i], "%s", info_yes_no(egl_kit_has_token(client, wanted[i])));
  if (!egl_kit_has_token(client, "EGL_EXT_platform_base")) {
    info_text(s->egl_why, sizeof(s->egl_why), "EGL has no EGL_EXT_platform_base: no display "
                                              "without a window system");
    info_kv(s, 2, "EGL displays", "none: %s", s->egl_why);
    return;
  }
  egl_report_devices(s, client);
}

void info_gl_unload(info_state *s) {
  if (s->egl_ok) egl_kit_release_thread();
  s->egl_ok = false;
}

/* ------------------------------------------------------------------ part 2: the GL consumer */

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
    info_text(why, why_size, "no OpenGL here: %s", s->egl_why);
    return NULL;
  }
  if (info_uuid_is_zero(p->uuid)) return &s->gl[0];
  for (int i = 0; i < s->n_gl; i++)
    if (gl_has_uuid(&s->gl[i], p->uuid)) return &s->gl[i];
  for (int i = 0; i < s->n_gl; i++)
    if (s->gl[i].n_uuids == 0) return &s->gl[i];
  char a[37], b[37];
  info_text(why, why_size,
            "different device: OpenGL renders on %s (device UUID %s), the producer is %s "
            "(UUID %s), so GL cannot share its memory",
            s->gl[0].renderer, info_uuid_text(s->gl[0].uuids[0], a), p->device,
            info_uuid_text(p->uuid, b));
  return NULL;
}

static int gl_import_frame(void *importer, ifd_frame_desc *d, bool *linear) {
  ifd_gl_frame *f = NULL;
  int rc = ifd_gl_frame_import(importer, d, IFD_GL_PATH_AUTO, &f);
  if (rc != 0) return rc;
  ifd_gl_frame_native h = {0};
  ifd_gl_frame_native_handles(f, &h);
  *linear = h.path == IFD_GL_PATH_LINEAR;
  ifd_gl_frame_destroy(f);
  return 0;
}

static int gl_import_timeline(void *importer, int *fd) {
  ifd_gl_timeline *t = NULL;
  int rc = ifd_gl_timeline_import(importer, fd, &t);
  ifd_gl_timeline_destroy(t);
  return rc;
}

static void gl_where(const producer *p, const gl_display *g, pair_answer *a) {
  char text[37], same[128];
  if (info_uuid_is_zero(p->uuid))
    info_text(same, sizeof(same), "producer's UUID unknown");
  else if (gl_has_uuid(g, p->uuid))
    info_text(same, sizeof(same), "same device UUID %s", info_uuid_text(p->uuid, text));
  else
    info_text(same, sizeof(same), "GL reports no device UUID: not checked");
  char via[64];
  if (g->device != EGL_KIT_SURFACELESS)
    info_text(via, sizeof(via), "EGL device %d", g->device);
  else
    info_text(via, sizeof(via), "EGL_PLATFORM_SURFACELESS_MESA");
  info_text(a->where, sizeof(a->where), "producer: %s; consumer: OpenGL on %s via %s (%s)",
            p->device, g->renderer, via, same);
}

void info_gl_answer(info_state *s, producer *p) {
  pair_answer a = {.answer = "", .sync = "", .where = ""};
  char why[WHY_SIZE];
  const gl_display *g = NULL;
  gl_ctx c;
  if (p->why[0]) {
    info_text(a.answer, sizeof(a.answer), "NO: %s", p->why);
  } else if (!(g = gl_pick(s, p, why, sizeof(why)))) {
    info_text(a.answer, sizeof(a.answer), "NO: %s", why);
  } else if (gl_open(g->device, &c, why, sizeof(why)) != 0) {
    info_text(a.answer, sizeof(a.answer), "NO: the GL context failed this time: %s", why);
  } else {
    gl_where(p, g, &a);
    ifd_gl_importer *imp = NULL;
    if (ifd_gl_importer_create(egl_kit_proc, &imp) != 0) {
      info_text(a.answer, sizeof(a.answer), "NO: %s", ifd_last_error());
    } else {
      const info_consumer ic = {
          imp, gl_import_frame, gl_import_timeline,
          "YES, zero-copy, LINEAR path (linear texture on the imported memory, sampled directly, "
          "no copy)",
          "YES, zero-copy with one GPU copy per frame, COPY path (memory imported as a buffer, "
          "copied on the GPU into a texture; no CPU copy)"};
      info_try_frame(p, &ic, &a);
      info_try_timeline(p, &ic, &a);
      ifd_gl_importer_destroy(imp);
    }
    gl_close(&c);
  }
  info_pair_print(s, p, "gl", &a);
}
