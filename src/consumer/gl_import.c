/* The OpenGL consumer API (interop_fd/gl.h). GL entry points come from the
 * application's get_proc (or libEGL's eglGetProcAddress): nothing links to GL. */
#include "gl_import_internal.h"

/* Why the children of a destroyed importer refuse every call. */
static const char importer_gone[] =
    "its importer was destroyed first (ifd_gl_importer_destroy took it along)";

/* GL commands go to the context current on the calling thread: with another
 * one (or none) current, names would be created in, or deleted from, the
 * wrong context. Checked where the window system says which context is
 * current; a context that merely shares objects with the importer's is
 * refused too (neither EGL nor GLX can tell that two contexts share). */
int ifd_glc_check_current(const ifd_gl_importer *imp, const char *fn) {
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
GLenum ifd_glc_error(ifd_gl_importer *imp) {
  GLenum first = imp->glGetError(), e = first;
  for (int i = 0; e != GL_NO_ERROR && i < 16; i++) e = imp->glGetError();
  return first;
}

int ifd_glc_fail(GLenum e, const char *what) {
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
  ifd_glc_error(imp); /* earlier errors are the application's */
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
  /* The COPY path's compute copy: all of OpenGL 4.3's pieces, or the upload. */
  imp->compute = major * 10 + minor >= 43;
#define LOAD_COPY(name, type) \
  if (imp->compute && !(imp->name = (type)get_proc(#name))) imp->compute = false;
  COPY_FNS(LOAD_COPY)
#undef LOAD_COPY
  if (imp->compute) {
    imp->glGetInteger64v(GL_MAX_SHADER_STORAGE_BLOCK_SIZE, &imp->max_ssbo_bytes);
    for (GLuint i = 0; i < 2; i++)
      imp->glGetIntegeri_v(GL_MAX_COMPUTE_WORK_GROUP_COUNT, i, &imp->max_groups[i]);
  }
  imp->glGetIntegerv(GL_NUM_DEVICE_UUIDS_EXT, &imp->n_uuids);
  if (imp->n_uuids > 4) imp->n_uuids = 4;
  for (GLint i = 0; i < imp->n_uuids; i++)
    imp->glGetUnsignedBytei_vEXT(GL_DEVICE_UUID_EXT, (GLuint)i, imp->uuids[i]);
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) {
    rc = ifd_glc_fail(e, "querying GL_DEVICE_UUID_EXT");
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

void ifd_gl_importer_destroy(ifd_gl_importer *imp) {
  static const char fn[] = "ifd_gl_importer_destroy";
  if (!imp || ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn) != 0) return;
  pthread_mutex_lock(&imp->lock);
  bool children = imp->frames || imp->timelines_alive || imp->rings;
  pthread_mutex_unlock(&imp->lock);
  for (size_t i = 0; i < IFD_ARRAY_LEN(imp->copy_programs); i++)
    children = children || imp->copy_programs[i] != 0;
  if (children && ifd_glc_check_current(imp, fn) != 0) {
    ifd_fail(-EINVAL, "%s: frames, timelines or rings of the importer, or its compute copy's "
                      "programs, are alive and its GL context is not current, so their GL "
                      "objects cannot be deleted: nothing was destroyed (make the context "
                      "current and call again)",
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
    ifd_glc_frame_free(f);
  }
  while (imp->timelines_alive) {
    ifd_gl_timeline *t = imp->timelines_alive;
    imp->timelines_alive = t->next;
    ifd_handle_orphan(t, importer_gone);
    imp->glDeleteSemaphoresEXT(1, &t->semaphore);
    ifd_glc_error(imp);
    free(t);
  }
  pthread_mutex_unlock(&imp->lock);
  ifd_glc_copy_release(imp);
  pthread_mutex_destroy(&imp->lock);
  if (imp->egl) dlclose(imp->egl);
  free(imp);
}

int ifd_gl_importer_has_timelines(const ifd_gl_importer *imp) {
  return imp && ifd_handle_live(imp, IFD_HANDLE_GL_IMPORTER) && imp->timelines;
}
