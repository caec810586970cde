/* The OpenGL consumer API (interop_fd/gl.h). GL entry points come from the
 * application's get_proc (or libEGL's eglGetProcAddress): nothing links to GL. */
#include "interop_fd/gl.h"

#include <GL/gl.h>
#include <GL/glext.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/internal.h"
#include "import_checks.h"

typedef const GLubyte *(APIENTRYP PFN_glGetString)(GLenum name);
typedef GLenum(APIENTRYP PFN_glGetError)(void);
typedef void(APIENTRYP PFN_glGetIntegerv)(GLenum pname, GLint *data);
typedef void(APIENTRYP PFN_glPixelStorei)(GLenum pname, GLint param);
typedef void(APIENTRYP PFN_glFlush)(void);
typedef void(APIENTRYP PFN_glFinish)(void);

/* Core and EXT entry points: name, PFN type. */
#define GL_FNS(X)                                                  \
  X(glGetString, PFN_glGetString)                                  \
  X(glGetError, PFN_glGetError)                                    \
  X(glGetIntegerv, PFN_glGetIntegerv)                              \
  X(glPixelStorei, PFN_glPixelStorei)                              \
  X(glFlush, PFN_glFlush)                                          \
  X(glFinish, PFN_glFinish)                                        \
  X(glGetStringi, PFNGLGETSTRINGIPROC)                             \
  X(glBindBuffer, PFNGLBINDBUFFERPROC)                             \
  X(glCreateBuffers, PFNGLCREATEBUFFERSPROC)                       \
  X(glDeleteBuffers, PFNGLDELETEBUFFERSPROC)                       \
  X(glCreateTextures, PFNGLCREATETEXTURESPROC)                     \
  X(glDeleteTextures, PFNGLDELETETEXTURESEXTPROC)                  \
  X(glTextureParameteri, PFNGLTEXTUREPARAMETERIPROC)               \
  X(glTextureParameteriv, PFNGLTEXTUREPARAMETERIVPROC)             \
  X(glTextureStorage2D, PFNGLTEXTURESTORAGE2DPROC)                 \
  X(glTextureSubImage2D, PFNGLTEXTURESUBIMAGE2DPROC)               \
  X(glCreateMemoryObjectsEXT, PFNGLCREATEMEMORYOBJECTSEXTPROC)     \
  X(glDeleteMemoryObjectsEXT, PFNGLDELETEMEMORYOBJECTSEXTPROC)     \
  X(glImportMemoryFdEXT, PFNGLIMPORTMEMORYFDEXTPROC)               \
  X(glNamedBufferStorageMemEXT, PFNGLNAMEDBUFFERSTORAGEMEMEXTPROC) \
  X(glTextureStorageMem2DEXT, PFNGLTEXTURESTORAGEMEM2DEXTPROC)     \
  X(glGetUnsignedBytei_vEXT, PFNGLGETUNSIGNEDBYTEI_VEXTPROC)   \
  X(glFenceSync, PFNGLFENCESYNCPROC)                               \
  X(glClientWaitSync, PFNGLCLIENTWAITSYNCPROC)                     \
  X(glDeleteSync, PFNGLDELETESYNCPROC)

#define SEM_FNS(X)                                                   \
  X(glGenSemaphoresEXT, PFNGLGENSEMAPHORESEXTPROC)                   \
  X(glDeleteSemaphoresEXT, PFNGLDELETESEMAPHORESEXTPROC)             \
  X(glImportSemaphoreFdEXT, PFNGLIMPORTSEMAPHOREFDEXTPROC)           \
  X(glSemaphoreParameterui64vEXT, PFNGLSEMAPHOREPARAMETERUI64VEXTPROC) \
  X(glWaitSemaphoreEXT, PFNGLWAITSEMAPHOREEXTPROC)                   \
  X(glSignalSemaphoreEXT, PFNGLSIGNALSEMAPHOREEXTPROC)               \
  X(glCreateSemaphoresNV, PFNGLCREATESEMAPHORESNVPROC)               \
  X(glSemaphoreParameterivNV, PFNGLSEMAPHOREPARAMETERIVNVPROC)

/* eglGetCurrentContext or glXGetCurrentContext. */
typedef void *(*current_context_fn)(void);

struct ifd_gl_importer {
  void *egl; /* dlopen handle when no get_proc was given */
  current_context_fn current; /* NULL: the context cannot be checked */
  void *context;              /* the EGLContext or GLXContext current at creation */
  pthread_mutex_t lock;       /* guards the lists of children below */
  ifd_gl_frame *frames;       /* live frames (those of rings included), through next */
  ifd_gl_timeline *timelines_alive;
  ifd_gl_ring *rings;
#define DECLARE(name, type) type name;
  GL_FNS(DECLARE)
  SEM_FNS(DECLARE)
#undef DECLARE
  bool timelines;
  GLint n_uuids;
  uint8_t uuids[4][16];
  char renderer[128];
};

struct ifd_gl_frame {
  ifd_gl_importer *imp;
  ifd_gl_frame_native h;
  const ifd_format_info *info;
  uint32_t row_pitch;
  ifd_gl_frame *next; /* in imp->frames */
};

struct ifd_gl_timeline {
  ifd_gl_importer *imp;
  GLuint semaphore;
  ifd_gl_timeline *next; /* in imp->timelines_alive */
};

struct ifd_gl_ring {
  uint32_t count;
  ifd_gl_frame *frames[IFD_RING_MAX_FRAMES];
  ifd_gl_timeline *ready, *release;
  ifd_gl_importer *imp;
  ifd_gl_path path;            /* while importing */
  const char *fn;              /* while importing: the public function */
  ifd_gl_ring *next;           /* in imp->rings */
  ifd_ring_progress *progress; /* the producer's ring, when it is in this process */
};

/* Why the children of a destroyed importer refuse every call. */
static const char importer_gone[] =
    "its importer was destroyed first (ifd_gl_importer_destroy took it along)";

/* GL commands go to the context current on the calling thread: with another
 * one (or none) current, names would be created in, or deleted from, the
 * wrong context. Checked where the window system says which context is
 * current; a context that merely shares objects with the importer's is
 * refused too (neither EGL nor GLX can tell that two contexts share). */
static int check_current(const ifd_gl_importer *imp, const char *fn) {
  if (!imp->current) return 0;
  void *now = imp->current();
  if (now == imp->context) return 0;
  return ifd_fail(-EINVAL, "%s: the importer's GL context is not current on this thread (%s is): "
                           "make it current first",
                  fn, now ? "another context" : "no context");
}

/* Learns how to ask which context is current: EGL where get_proc reaches
 * eglGetCurrentContext, else GLX. A name lookup that finds neither, or a
 * context neither reports, leaves the check off. */
static void find_current_context(ifd_gl_importer *imp, ifd_gl_get_proc_address get_proc) {
  ifd_gl_proc egl = NULL;
  if (imp->egl) {
    void *sym = dlsym(imp->egl, "eglGetCurrentContext");
    memcpy(&egl, &sym, sizeof(egl));
  } else {
    egl = get_proc("eglGetCurrentContext");
  }
  /* glXGetCurrentContext is looked up only where EGL is absent: an EGL
   * get_proc may hand back a dispatch stub for any name starting "gl". */
  ifd_gl_proc fn = egl ? egl : imp->egl ? NULL : get_proc("glXGetCurrentContext");
  if (!fn) return;
  current_context_fn current = (current_context_fn)fn;
  void *ctx = current();
  if (!ctx) return;
  imp->current = current;
  imp->context = ctx;
}

static bool has_extension(ifd_gl_importer *imp, const char *name) {
  GLint n = 0;
  imp->glGetIntegerv(GL_NUM_EXTENSIONS, &n);
  for (GLint i = 0; i < n; i++) {
    const char *e = (const char *)imp->glGetStringi(GL_EXTENSIONS, (GLuint)i);
    if (e && strcmp(e, name) == 0) return true;
  }
  return false;
}

/* Returns the first GL error raised since the last drain, draining the rest. */
static GLenum gl_error(ifd_gl_importer *imp) {
  GLenum first = imp->glGetError(), e = first;
  for (int i = 0; e != GL_NO_ERROR && i < 16; i++) e = imp->glGetError();
  return first;
}

static int gl_fail(GLenum e, const char *what) {
  return ifd_fail(e == GL_OUT_OF_MEMORY ? -ENOMEM : -EIO, "%s raised GL error 0x%04x", what, e);
}

/* ------------------------------------------------------------------ importer */

int ifd_gl_importer_create(ifd_gl_get_proc_address get_proc, ifd_gl_importer **out) {
  static const char fn[] = "ifd_gl_importer_create";
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  ifd_gl_importer *imp = calloc(1, sizeof(*imp));
  if (!imp) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  pthread_mutex_init(&imp->lock, NULL);
  int rc = 0;
  if (!get_proc) {
    imp->egl = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (imp->egl) get_proc = (ifd_gl_get_proc_address)dlsym(imp->egl, "eglGetProcAddress");
    if (!get_proc) {
      rc = ifd_fail(-ENODEV, "%s: no get_proc given and no eglGetProcAddress in libEGL.so.1 (%s)",
                    fn, imp->egl ? "missing symbol" : dlerror());
      goto fail;
    }
  }
#define LOAD(name, type)                                                                   \
  if (!(imp->name = (type)get_proc(#name))) {                                              \
    rc = ifd_fail(-EOPNOTSUPP, "%s: GL has no %s (OpenGL 4.5 and GL_EXT_memory_object_fd " \
                               "are needed)", fn, #name);                                  \
    goto fail;                                                                             \
  }
  GL_FNS(LOAD)
#undef LOAD
  const char *version = (const char *)imp->glGetString(GL_VERSION);
  if (!version) {
    rc = ifd_fail(-ENODEV, "%s: no GL context is current on this thread", fn);
    goto fail;
  }
  snprintf(imp->renderer, sizeof(imp->renderer), "%s",
           (const char *)imp->glGetString(GL_RENDERER));
  find_current_context(imp, get_proc);
  gl_error(imp); /* earlier errors are the application's */
  GLint major = 0, minor = 0;
  imp->glGetIntegerv(GL_MAJOR_VERSION, &major);
  imp->glGetIntegerv(GL_MINOR_VERSION, &minor);
  if (major * 10 + minor < 45) {
    rc = ifd_fail(-EOPNOTSUPP, "%s: %s offers OpenGL %d.%d; 4.5 is needed", fn, imp->renderer,
                  major, minor);
    goto fail;
  }
  if (!has_extension(imp, "GL_EXT_memory_object") || !has_extension(imp, "GL_EXT_memory_object_fd")) {
    rc = ifd_fail(-EOPNOTSUPP, "%s: %s has no GL_EXT_memory_object_fd: it cannot import memory",
                  fn, imp->renderer);
    goto fail;
  }
  imp->timelines = has_extension(imp, "GL_EXT_semaphore") &&
                   has_extension(imp, "GL_EXT_semaphore_fd") &&
                   has_extension(imp, "GL_NV_timeline_semaphore");
#define LOAD_SEM(name, type) \
  if (imp->timelines && !(imp->name = (type)get_proc(#name))) imp->timelines = false;
  SEM_FNS(LOAD_SEM)
#undef LOAD_SEM
  imp->glGetIntegerv(GL_NUM_DEVICE_UUIDS_EXT, &imp->n_uuids);
  if (imp->n_uuids > 4) imp->n_uuids = 4;
  for (GLint i = 0; i < imp->n_uuids; i++)
    imp->glGetUnsignedBytei_vEXT(GL_DEVICE_UUID_EXT, (GLuint)i, imp->uuids[i]);
  GLenum e = gl_error(imp);
  if (e != GL_NO_ERROR) {
    rc = gl_fail(e, "querying GL_DEVICE_UUID_EXT");
    goto fail;
  }
  rc = ifd_handle_add(imp, IFD_HANDLE_GL_IMPORTER);
  if (rc != 0) goto fail;
  *out = imp;
  return 0;
fail:
  if (imp->egl) dlclose(imp->egl);
  pthread_mutex_destroy(&imp->lock);
  free(imp);
  return rc;
}

static void frame_free(ifd_gl_frame *f);

void ifd_gl_importer_destroy(ifd_gl_importer *imp) {
  static const char fn[] = "ifd_gl_importer_destroy";
  if (!imp || ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn) != 0) return;
  pthread_mutex_lock(&imp->lock);
  bool children = imp->frames || imp->timelines_alive || imp->rings;
  pthread_mutex_unlock(&imp->lock);
  if (children && check_current(imp, fn) != 0) {
    ifd_fail(-EINVAL, "%s: frames, timelines or rings of the importer are alive and its GL "
                      "context is not current, so their GL objects cannot be deleted: nothing "
                      "was destroyed (make the context current and call again)",
             fn);
    return;
  }
  ifd_handle_remove(imp);
  /* Children still alive go with the importer: their GL objects are deleted
   * now, their handles then answer -EINVAL saying why, and their own destroy
   * calls only forget them. */
  pthread_mutex_lock(&imp->lock);
  while (imp->rings) {
    ifd_gl_ring *ring = imp->rings;
    imp->rings = ring->next;
    ifd_handle_orphan(ring, importer_gone);
    ifd_ring_progress_put(ring->progress);
    free(ring); /* its frames and timelines are in the lists below */
  }
  while (imp->frames) {
    ifd_gl_frame *f = imp->frames;
    imp->frames = f->next;
    ifd_handle_orphan(f, importer_gone);
    frame_free(f);
  }
  while (imp->timelines_alive) {
    ifd_gl_timeline *t = imp->timelines_alive;
    imp->timelines_alive = t->next;
    ifd_handle_orphan(t, importer_gone);
    imp->glDeleteSemaphoresEXT(1, &t->semaphore);
    gl_error(imp);
    free(t);
  }
  pthread_mutex_unlock(&imp->lock);
  pthread_mutex_destroy(&imp->lock);
  if (imp->egl) dlclose(imp->egl);
  free(imp);
}

int ifd_gl_importer_has_timelines(const ifd_gl_importer *imp) {
  return imp && ifd_handle_live(imp, IFD_HANDLE_GL_IMPORTER) && imp->timelines;
}

/* ------------------------------------------------------------------ frames */

static void frame_free(ifd_gl_frame *f) {
  ifd_gl_importer *imp = f->imp;
  if (f->h.texture) imp->glDeleteTextures(1, &f->h.texture);
  if (f->h.buffer) imp->glDeleteBuffers(1, &f->h.buffer);
  if (f->h.memory_object) imp->glDeleteMemoryObjectsEXT(1, &f->h.memory_object);
  gl_error(imp);
  free(f);
}

static void texture_parameters(ifd_gl_frame *f) {
  ifd_gl_importer *imp = f->imp;
  GLint swizzle[4] = {f->info->gl_swizzle[0], f->info->gl_swizzle[1], f->info->gl_swizzle[2],
                      f->info->gl_swizzle[3]};
  imp->glTextureParameteriv(f->h.texture, GL_TEXTURE_SWIZZLE_RGBA, swizzle);
  imp->glTextureParameteri(f->h.texture, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  imp->glTextureParameteri(f->h.texture, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  imp->glTextureParameteri(f->h.texture, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  imp->glTextureParameteri(f->h.texture, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

/* Imports a dup of the caller's fd into a new memory object. */
static int import_memory(ifd_gl_frame *f, const ifd_frame_desc *d) {
  ifd_gl_importer *imp = f->imp;
  int fd = fcntl(d->memory_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ifd_fail(-errno, "cannot duplicate memory_fd: %s", strerror(errno));
  imp->glCreateMemoryObjectsEXT(1, &f->h.memory_object);
  imp->glImportMemoryFdEXT(f->h.memory_object, d->size, GL_HANDLE_TYPE_OPAQUE_FD_EXT, fd);
  GLenum e = gl_error(imp);
  if (e != GL_NO_ERROR) {
    close(fd); /* a failed import does not take the fd */
    gl_fail(e, "glImportMemoryFdEXT");
    return ifd_fail(-EIO, "%s refused the memory fd (is it an OPAQUE_FD memory export of this "
                          "device?): %s",
                    imp->renderer, ifd_last_error());
  }
  return 0;
}

static void release_objects(ifd_gl_frame *f) {
  ifd_gl_importer *imp = f->imp;
  if (f->h.texture) imp->glDeleteTextures(1, &f->h.texture);
  if (f->h.buffer) imp->glDeleteBuffers(1, &f->h.buffer);
  if (f->h.memory_object) imp->glDeleteMemoryObjectsEXT(1, &f->h.memory_object);
  f->h.texture = f->h.buffer = f->h.memory_object = 0;
  gl_error(imp);
}

static int setup_copy(ifd_gl_frame *f, const ifd_frame_desc *d) {
  ifd_gl_importer *imp = f->imp;
  int rc = import_memory(f, d);
  if (rc != 0) return rc;
  imp->glCreateBuffers(1, &f->h.buffer);
  imp->glNamedBufferStorageMemEXT(f->h.buffer, (GLsizeiptr)d->size, f->h.memory_object, 0);
  GLenum e = gl_error(imp);
  if (e != GL_NO_ERROR) {
    gl_fail(e, "glNamedBufferStorageMemEXT");
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a buffer of the imported memory: %s",
                    imp->renderer, ifd_last_error());
  }
  imp->glCreateTextures(GL_TEXTURE_2D, 1, &f->h.texture);
  imp->glTextureStorage2D(f->h.texture, 1, f->info->gl_internal_format, (GLsizei)d->width,
                          (GLsizei)d->height);
  texture_parameters(f);
  e = gl_error(imp);
  return e == GL_NO_ERROR ? 0 : gl_fail(e, "glTextureStorage2D");
}

static int setup_linear(ifd_gl_frame *f, const ifd_frame_desc *d) {
  ifd_gl_importer *imp = f->imp;
  imp->glCreateTextures(GL_TEXTURE_2D, 1, &f->h.texture);
  imp->glTextureParameteri(f->h.texture, GL_TEXTURE_TILING_EXT, GL_LINEAR_TILING_EXT);
  GLenum e = gl_error(imp);
  if (e != GL_NO_ERROR)
    return ifd_fail(-EOPNOTSUPP, "%s refuses GL_LINEAR_TILING_EXT (GL error 0x%04x): use the "
                                 "COPY path", imp->renderer, e);
  int rc = import_memory(f, d);
  if (rc != 0) return rc;
  imp->glTextureStorageMem2DEXT(f->h.texture, 1, f->info->gl_internal_format, (GLsizei)d->width,
                                (GLsizei)d->height, f->h.memory_object, 0);
  e = gl_error(imp);
  if (e != GL_NO_ERROR) {
    gl_fail(e, "glTextureStorageMem2DEXT");
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a linear %s texture of the memory: %s",
                    imp->renderer, f->info->name, ifd_last_error());
  }
  texture_parameters(f);
  e = gl_error(imp);
  return e == GL_NO_ERROR ? 0 : gl_fail(e, "texture parameters");
}

static int import_frame(ifd_gl_importer *imp, ifd_frame_desc *desc, ifd_gl_path path,
                        ifd_gl_frame **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if ((rc = check_current(imp, fn)) != 0) return rc;
  if (path != IFD_GL_PATH_AUTO && path != IFD_GL_PATH_COPY && path != IFD_GL_PATH_LINEAR)
    return ifd_fail(-EINVAL, "%s: unknown path %d", fn, (int)path);
  /* The memory may belong to any of the context's devices. */
  const ifd_format_info *info = NULL;
  rc = -EXDEV;
  for (GLint i = 0; i < imp->n_uuids && rc == -EXDEV; i++)
    rc = ifd_check_frame_desc(desc, imp->uuids[i], imp->renderer, &info);
  if (imp->n_uuids == 0) {
    static const uint8_t none[16];
    ifd_frame_desc unchecked = desc ? *desc : (ifd_frame_desc){0};
    memcpy(unchecked.device_uuid, none, 16); /* GL reports no UUID: cannot check */
    rc = ifd_check_frame_desc(desc ? &unchecked : NULL, none, imp->renderer, &info);
  }
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  ifd_gl_frame *f = calloc(1, sizeof(*f));
  if (!f) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  f->imp = imp;
  f->info = info;
  f->row_pitch = desc->row_pitch;
  f->h.internal_format = info->gl_internal_format;
  f->h.width = desc->width;
  f->h.height = desc->height;
  f->h.max_format = desc->format;
  gl_error(imp);
  char earlier[512]; /* an AUTO fallback that works is a success: keep the last failure's message */
  snprintf(earlier, sizeof(earlier), "%s", ifd_last_error());
  if (path == IFD_GL_PATH_LINEAR) {
    f->h.path = IFD_GL_PATH_LINEAR;
    rc = setup_linear(f, desc);
  } else {
    f->h.path = IFD_GL_PATH_COPY;
    rc = setup_copy(f, desc);
    if (rc == -EOPNOTSUPP && path == IFD_GL_PATH_AUTO) {
      char why[512];
      snprintf(why, sizeof(why), "%s", ifd_last_error());
      release_objects(f);
      f->h.path = IFD_GL_PATH_LINEAR;
      rc = setup_linear(f, desc);
      if (rc != 0) ifd_fail_prefix(rc, "copy path: %s; linear path", why);
      else ifd_fail(0, "%s", earlier);
    }
  }
  if (rc == 0) rc = ifd_handle_add(f, IFD_HANDLE_GL_FRAME);
  if (rc != 0) {
    frame_free(f);
    return ifd_fail_prefix(rc, "%s(%ux%u %s)", fn, desc->width, desc->height, info->name);
  }
  ifd_fd_close(&desc->memory_fd);
  IFD_LIST_ADD(imp, frames, f);
  *out = f;
  return 0;
}

int ifd_gl_frame_import(ifd_gl_importer *imp, ifd_frame_desc *desc, ifd_gl_path path,
                        ifd_gl_frame **out) {
  return import_frame(imp, desc, path, out, "ifd_gl_frame_import");
}

void ifd_gl_frame_destroy(ifd_gl_frame *f) {
  static const char fn[] = "ifd_gl_frame_destroy";
  if (!ifd_handle_destroy_ok(f, IFD_HANDLE_GL_FRAME, "frame", fn) ||
      check_current(f->imp, fn) != 0)
    return; /* refused: the frame stays valid */
  ifd_handle_remove(f);
  IFD_LIST_REMOVE(f->imp, frames, ifd_gl_frame, f);
  frame_free(f);
}

int ifd_gl_frame_native_handles(const ifd_gl_frame *f, ifd_gl_frame_native *out) {
  int rc = ifd_check_handle(f, IFD_HANDLE_GL_FRAME, "frame", "ifd_gl_frame_native_handles");
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "ifd_gl_frame_native_handles: out is NULL");
  *out = f->h;
  return 0;
}

uint32_t ifd_gl_frame_texture(const ifd_gl_frame *f) {
  return f && ifd_handle_live(f, IFD_HANDLE_GL_FRAME) ? f->h.texture : 0;
}

int ifd_gl_frame_update(ifd_gl_frame *f) {
  static const char fn[] = "ifd_gl_frame_update";
  int rc = ifd_check_handle(f, IFD_HANDLE_GL_FRAME, "frame", fn);
  if (rc != 0) return rc;
  if ((rc = check_current(f->imp, fn)) != 0) return rc;
  if (f->h.path != IFD_GL_PATH_COPY) return 0;
  ifd_gl_importer *imp = f->imp;
  static const GLenum state[] = {GL_PIXEL_UNPACK_BUFFER_BINDING, GL_UNPACK_ROW_LENGTH,
                                 GL_UNPACK_ALIGNMENT,           GL_UNPACK_SKIP_ROWS,
                                 GL_UNPACK_SKIP_PIXELS,         GL_UNPACK_IMAGE_HEIGHT,
                                 GL_UNPACK_SKIP_IMAGES};
  GLint saved[IFD_ARRAY_LEN(state)];
  for (size_t i = 0; i < IFD_ARRAY_LEN(state); i++) imp->glGetIntegerv(state[i], &saved[i]);
  gl_error(imp);
  imp->glBindBuffer(GL_PIXEL_UNPACK_BUFFER, f->h.buffer);
  imp->glPixelStorei(GL_UNPACK_ROW_LENGTH, (GLint)(f->row_pitch / f->info->bytes_per_pixel));
  imp->glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  imp->glPixelStorei(GL_UNPACK_SKIP_ROWS, 0);
  imp->glPixelStorei(GL_UNPACK_SKIP_PIXELS, 0);
  imp->glPixelStorei(GL_UNPACK_IMAGE_HEIGHT, 0);
  imp->glPixelStorei(GL_UNPACK_SKIP_IMAGES, 0);
  imp->glTextureSubImage2D(f->h.texture, 0, 0, 0, (GLsizei)f->h.width, (GLsizei)f->h.height,
                           f->info->gl_format, f->info->gl_type, (const void *)0);
  GLenum e = gl_error(imp);
  imp->glBindBuffer(GL_PIXEL_UNPACK_BUFFER, (GLuint)saved[0]);
  for (size_t i = 1; i < IFD_ARRAY_LEN(state); i++) imp->glPixelStorei(state[i], saved[i]);
  gl_error(imp);
  return e == GL_NO_ERROR ? 0 : gl_fail(e, "ifd_gl_frame_update: glTextureSubImage2D from the buffer");
}

/* ------------------------------------------------------------------ timelines */

static int import_timeline(ifd_gl_importer *imp, int *fd, ifd_gl_timeline **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!fd || !out) return ifd_fail(-EINVAL, "%s: fd or out is NULL", fn);
  if (*fd < 0 || fcntl(*fd, F_GETFD) < 0)
    return ifd_fail(-EBADF, "%s: fd %d is not open", fn, *fd);
  if ((rc = check_current(imp, fn)) != 0) return rc;
  if (!imp->timelines)
    return ifd_fail(-EOPNOTSUPP, "%s: %s lacks GL_EXT_semaphore_fd or GL_NV_timeline_semaphore",
                    fn, imp->renderer);
  /* Refuse what is never a semaphore rather than hand the driver an fd its
   * valid usage forbids (-EIO: what a driver refusing the fd gives). */
  rc = ifd_fd_check_kind(*fd, "fd", "a timeline semaphore fd", -EIO);
  if (rc != 0) return ifd_fail_prefix(rc, "%s", fn);
  int dup_fd = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ifd_fail(-errno, "%s: cannot duplicate fd: %s", fn, strerror(errno));
  ifd_gl_timeline *t = calloc(1, sizeof(*t));
  if (!t) {
    close(dup_fd);
    return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  }
  t->imp = imp;
  gl_error(imp);
  imp->glCreateSemaphoresNV(1, &t->semaphore);
  GLint type = GL_SEMAPHORE_TYPE_TIMELINE_NV;
  imp->glSemaphoreParameterivNV(t->semaphore, GL_SEMAPHORE_TYPE_NV, &type);
  GLenum e = gl_error(imp);
  if (e == GL_NO_ERROR) {
    imp->glImportSemaphoreFdEXT(t->semaphore, GL_HANDLE_TYPE_OPAQUE_FD_EXT, dup_fd);
    e = gl_error(imp);
    if (e == GL_NO_ERROR) dup_fd = -1;
  }
  if (e != GL_NO_ERROR) {
    gl_fail(e, "glImportSemaphoreFdEXT(timeline)");
    rc = ifd_fail(-EIO, "%s refused the fd as a timeline semaphore: %s", imp->renderer,
                  ifd_last_error());
  }
  if (rc == 0) rc = ifd_handle_add(t, IFD_HANDLE_GL_TIMELINE);
  if (rc != 0) {
    if (dup_fd >= 0) close(dup_fd);
    if (t->semaphore) imp->glDeleteSemaphoresEXT(1, &t->semaphore);
    gl_error(imp);
    free(t);
    return ifd_fail_prefix(rc, "%s", fn);
  }
  ifd_fd_close(fd);
  IFD_LIST_ADD(imp, timelines_alive, t);
  *out = t;
  return 0;
}

int ifd_gl_timeline_import(ifd_gl_importer *imp, int *fd, ifd_gl_timeline **out) {
  return import_timeline(imp, fd, out, "ifd_gl_timeline_import");
}

void ifd_gl_timeline_destroy(ifd_gl_timeline *t) {
  static const char fn[] = "ifd_gl_timeline_destroy";
  if (!ifd_handle_destroy_ok(t, IFD_HANDLE_GL_TIMELINE, "timeline", fn) ||
      check_current(t->imp, fn) != 0)
    return; /* refused: the timeline stays valid */
  ifd_handle_remove(t);
  IFD_LIST_REMOVE(t->imp, timelines_alive, ifd_gl_timeline, t);
  t->imp->glDeleteSemaphoresEXT(1, &t->semaphore);
  gl_error(t->imp);
  free(t);
}

/* Wait or signal with the frame's GL object listed, as GL_EXT_semaphore asks. */
static int wait_or_signal(ifd_gl_timeline *t, uint64_t value, ifd_gl_frame *f, bool wait,
                          const char *fn) {
  int rc = ifd_check_handle(t, IFD_HANDLE_GL_TIMELINE, "timeline", fn);
  if (rc != 0) return rc;
  if (f && (rc = ifd_check_handle(f, IFD_HANDLE_GL_FRAME, "frame", fn)) != 0) return rc;
  ifd_gl_importer *imp = t->imp;
  if ((rc = check_current(imp, fn)) != 0) return rc;
  GLuint buffers[1], textures[1];
  GLenum layouts[1] = {GL_LAYOUT_GENERAL_EXT};
  GLuint nb = 0, nt = 0;
  if (f && f->h.path == IFD_GL_PATH_COPY) buffers[nb++] = f->h.buffer;
  if (f && f->h.path == IFD_GL_PATH_LINEAR) textures[nt++] = f->h.texture;
  gl_error(imp);
  GLuint64 v = value;
  imp->glSemaphoreParameterui64vEXT(t->semaphore, GL_TIMELINE_SEMAPHORE_VALUE_NV, &v);
  if (wait) {
    imp->glWaitSemaphoreEXT(t->semaphore, nb, buffers, nt, textures, layouts);
  } else {
    imp->glSignalSemaphoreEXT(t->semaphore, nb, buffers, nt, textures, layouts);
    imp->glFlush();
  }
  GLenum e = gl_error(imp);
  return e == GL_NO_ERROR ? 0 : gl_fail(e, fn);
}

int ifd_gl_timeline_wait(ifd_gl_timeline *t, uint64_t value, ifd_gl_frame *f) {
  return wait_or_signal(t, value, f, true, "ifd_gl_timeline_wait");
}

int ifd_gl_timeline_signal(ifd_gl_timeline *t, uint64_t value, ifd_gl_frame *f) {
  return wait_or_signal(t, value, f, false, "ifd_gl_timeline_signal");
}

/* ------------------------------------------------------------------ rings */

static void ring_free(ifd_gl_ring *ring) {
  for (uint32_t i = 0; i < IFD_RING_MAX_FRAMES; i++) ifd_gl_frame_destroy(ring->frames[i]);
  ifd_gl_timeline_destroy(ring->ready);
  ifd_gl_timeline_destroy(ring->release);
  ifd_ring_progress_put(ring->progress);
  free(ring);
}

static int ring_frame(void *ring, uint32_t i, ifd_frame_desc *d) {
  ifd_gl_ring *r = ring;
  return import_frame(r->imp, d, r->path, &r->frames[i], r->fn);
}

static int ring_timeline(void *ring, bool release, int *fd) {
  ifd_gl_ring *r = ring;
  return import_timeline(r->imp, fd, release ? &r->release : &r->ready, r->fn);
}

int ifd_gl_ring_import(ifd_gl_importer *imp, ifd_ring_desc *desc, ifd_gl_path path,
                       ifd_gl_ring **out) {
  static const char fn[] = "ifd_gl_ring_import";
  static const ifd_ring_import_ops ops = {fn, ring_frame, ring_timeline};
  int rc = ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if ((rc = check_current(imp, fn)) != 0) return rc;
  ifd_gl_ring *ring = calloc(1, sizeof(*ring));
  if (!ring) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  ring->imp = imp;
  ring->path = path;
  ring->fn = fn;
  rc = ifd_ring_import_common(&ops, ring, desc, &ring->count, &ring->progress);
  if (rc == 0) rc = ifd_handle_add(ring, IFD_HANDLE_GL_RING);
  if (rc != 0) {
    ring_free(ring);
    return rc;
  }
  IFD_LIST_ADD(imp, rings, ring);
  *out = ring;
  return 0;
}

void ifd_gl_ring_destroy(ifd_gl_ring *ring) {
  static const char fn[] = "ifd_gl_ring_destroy";
  if (!ifd_handle_destroy_ok(ring, IFD_HANDLE_GL_RING, "ring", fn) ||
      check_current(ring->imp, fn) != 0)
    return; /* refused: the ring stays valid */
  ifd_handle_remove(ring);
  IFD_LIST_REMOVE(ring->imp, rings, ifd_gl_ring, ring);
  ring_free(ring);
}

uint32_t ifd_gl_ring_count(const ifd_gl_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_GL_RING) ? ring->count : 0;
}

ifd_gl_frame *ifd_gl_ring_frame(const ifd_gl_ring *ring, uint64_t k) {
  if (!ring || !ifd_handle_live(ring, IFD_HANDLE_GL_RING) || k == 0) return NULL;
  return ring->frames[(k - 1) % ring->count];
}

int ifd_gl_ring_acquire(ifd_gl_ring *ring, uint64_t k, uint32_t *out_texture) {
  static const char fn[] = "ifd_gl_ring_acquire";
  int rc = ifd_check_handle(ring, IFD_HANDLE_GL_RING, "ring", fn);
  if (rc != 0) return rc;
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  if ((rc = check_current(ring->imp, fn)) != 0) return rc;
  if (!ring->ready && ring->progress) {
    /* Nothing to wait for on the device: the frame must be produced already. */
    bool gone = false;
    uint64_t ended = ifd_ring_progress_ended(ring->progress, &gone);
    if (ended < k && gone)
      return ifd_fail(-EPIPE, "%s: the producer's ring was destroyed after frame %llu: frame %llu "
                              "will never be produced",
                      fn, (unsigned long long)ended, (unsigned long long)k);
    if (ended < k)
      return ifd_fail(-EAGAIN, "%s: frame %llu was not produced yet (the producer's last ended "
                               "frame is %llu): wait for it with ifd_gl_ring_wait_ready",
                      fn, (unsigned long long)k, (unsigned long long)ended);
  }
  ifd_gl_frame *f = ring->frames[(k - 1) % ring->count];
  if (ring->ready && (rc = ifd_gl_timeline_wait(ring->ready, k, f)) != 0) return rc;
  if ((rc = ifd_gl_frame_update(f)) != 0) return rc;
  if (out_texture) *out_texture = f->h.texture;
  return 0;
}

int ifd_gl_ring_wait_ready(ifd_gl_ring *ring, uint64_t k, uint64_t timeout_ns) {
  static const char fn[] = "ifd_gl_ring_wait_ready";
  int rc = ifd_check_handle(ring, IFD_HANDLE_GL_RING, "ring", fn);
  if (rc != 0) return rc;
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  /* The producer's own ring, in this process: no GL needed. */
  if (ring->progress) return ifd_ring_progress_wait(ring->progress, k, timeout_ns, fn);
  if (!ring->ready) return 0; /* nothing can be observed: see the header */
  /* GL cannot read a timeline's value: queue the wait, then a fence behind
   * it, and wait for the fence on the host. */
  ifd_gl_importer *imp = ring->imp;
  if ((rc = check_current(imp, fn)) != 0) return rc;
  ifd_gl_frame *f = ring->frames[(k - 1) % ring->count];
  if ((rc = wait_or_signal(ring->ready, k, f, true, fn)) != 0) return rc;
  GLsync sync = imp->glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  if (!sync) return gl_fail(gl_error(imp), "ifd_gl_ring_wait_ready: glFenceSync");
  GLenum r = imp->glClientWaitSync(sync, GL_SYNC_FLUSH_COMMANDS_BIT, (GLuint64)timeout_ns);
  imp->glDeleteSync(sync);
  if (r == GL_ALREADY_SIGNALED || r == GL_CONDITION_SATISFIED) return 0;
  if (r == GL_TIMEOUT_EXPIRED)
    return ifd_fail(-ETIMEDOUT, "%s: ready did not reach %llu within %llu ns; GL's wait for it "
                                "stays queued (GL cannot cancel it)",
                    fn, (unsigned long long)k, (unsigned long long)timeout_ns);
  return gl_fail(gl_error(imp), "ifd_gl_ring_wait_ready: glClientWaitSync");
}

int ifd_gl_ring_release(ifd_gl_ring *ring, uint64_t k) {
  static const char fn[] = "ifd_gl_ring_release";
  int rc = ifd_check_handle(ring, IFD_HANDLE_GL_RING, "ring", fn);
  if (rc != 0) return rc;
  if (k == 0) return ifd_fail(-EINVAL, "%s: frames are numbered from 1", fn);
  if ((rc = check_current(ring->imp, fn)) != 0) return rc;
  ifd_gl_frame *f = ring->frames[(k - 1) % ring->count];
  if (ring->release) return ifd_gl_timeline_signal(ring->release, k, f);
  f->imp->glFinish();
  return 0;
}
