/* The GL consumer's timelines and rings (interop_fd/gl.h). */
#include "gl_import_internal.h"

/* ------------------------------------------------------------------ timelines */

static int import_timeline(ifd_gl_importer *imp, int *fd, ifd_gl_timeline **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!fd || !out) return ifd_fail(-EINVAL, "%s: fd or out is NULL", fn);
  if (*fd < 0 || fcntl(*fd, F_GETFD) < 0)
    return ifd_fail(-EBADF, "%s: fd %d is not open", fn, *fd);
  if ((rc = ifd_glc_check_current(imp, fn)) != 0) return rc;
  if (!imp->timelines)
    return ifd_fail(-EOPNOTSUPP, "%s: %s lacks GL_EXT_semaphore_fd or GL_NV_timeline_semaphore",
                    fn, imp->renderer);
  if ((rc = ifd_check_semaphore_fd(*fd, fn)) != 0) return rc;
  int dup_fd = -1;
  ifd_gl_timeline *t = ifd_import_begin(*fd, sizeof(*t), fn, &dup_fd, &rc);
  if (!t) return rc;
  t->imp = imp;
  ifd_glc_error(imp);
  imp->glCreateSemaphoresNV(1, &t->semaphore);
  GLint type = GL_SEMAPHORE_TYPE_TIMELINE_NV;
  imp->glSemaphoreParameterivNV(t->semaphore, GL_SEMAPHORE_TYPE_NV, &type);
  GLenum e = ifd_glc_error(imp);
  if (e == GL_NO_ERROR) {
    imp->glImportSemaphoreFdEXT(t->semaphore, GL_HANDLE_TYPE_OPAQUE_FD_EXT, dup_fd);
    e = ifd_glc_error(imp);
    if (e == GL_NO_ERROR) dup_fd = -1;
  }
  if (e != GL_NO_ERROR) {
    ifd_glc_fail(e, "glImportSemaphoreFdEXT(timeline)");
    rc = ifd_fail(-EIO, "%s refused the fd as a timeline semaphore: %s", imp->renderer,
                  ifd_last_error());
  }
  if (rc == 0) rc = ifd_handle_add(t, IFD_HANDLE_GL_TIMELINE);
  if (rc != 0) {
    if (dup_fd >= 0) close(dup_fd);
    if (t->semaphore) imp->glDeleteSemaphoresEXT(1, &t->semaphore);
    ifd_glc_error(imp);
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
  if (!IFD_GLC_DESTROY_OK(t, IFD_HANDLE_GL_TIMELINE, "timeline", "ifd_gl_timeline_destroy"))
    return; /* refused: the timeline stays valid */
  IFD_CHILD_FORGET(t, timelines_alive, ifd_gl_timeline);
  t->imp->glDeleteSemaphoresEXT(1, &t->semaphore);
  ifd_glc_error(t->imp);
  free(t);
}

/* Wait or signal with the frame's GL object listed, as GL_EXT_semaphore asks. */
static int wait_or_signal(ifd_gl_timeline *t, uint64_t value, ifd_gl_frame *f, bool wait,
                          const char *fn) {
  int rc = ifd_check_handle(t, IFD_HANDLE_GL_TIMELINE, "timeline", fn);
  if (rc != 0) return rc;
  if (f && (rc = ifd_check_handle(f, IFD_HANDLE_GL_FRAME, "frame", fn)) != 0) return rc;
  ifd_gl_importer *imp = t->imp;
  if ((rc = ifd_glc_check_current(imp, fn)) != 0) return rc;
  GLuint buffers[1], textures[1];
  GLenum layouts[1] = {GL_LAYOUT_GENERAL_EXT};
  GLuint nb = 0, nt = 0;
  if (f && f->h.buffer) buffers[nb++] = f->h.buffer;
  if (f && f->h.path == IFD_GL_PATH_LINEAR) textures[nt++] = f->h.texture;
  ifd_glc_error(imp);
  GLuint64 v = value;
  imp->glSemaphoreParameterui64vEXT(t->semaphore, GL_TIMELINE_SEMAPHORE_VALUE_NV, &v);
  if (wait) {
    imp->glWaitSemaphoreEXT(t->semaphore, nb, buffers, nt, textures, layouts);
  } else {
    imp->glSignalSemaphoreEXT(t->semaphore, nb, buffers, nt, textures, layouts);
    imp->glFlush();
  }
  GLenum e = ifd_glc_error(imp);
  return e == GL_NO_ERROR ? 0 : ifd_glc_fail(e, fn);
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

static int ring_frame(void *ring, uint32_t i, ifd_frame_desc *d, const char *fn) {
  ifd_gl_ring *r = ring;
  return ifd_glc_import_frame(r->imp, d, r->path, &r->frames[i], fn);
}

static int ring_timeline(void *ring, bool release, int *fd, const char *fn) {
  ifd_gl_ring *r = ring;
  return import_timeline(r->imp, fd, release ? &r->release : &r->ready, fn);
}

int ifd_gl_ring_import(ifd_gl_importer *imp, ifd_ring_desc *desc, ifd_gl_path path,
                       ifd_gl_ring **out) {
  static const char fn[] = "ifd_gl_ring_import";
  static const ifd_ring_import_ops ops = {fn, ring_frame, ring_timeline};
  int rc = ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if ((rc = ifd_glc_check_current(imp, fn)) != 0) return rc;
  ifd_gl_ring *ring = calloc(1, sizeof(*ring));
  if (!ring) return ifd_fail(-ENOMEM, "%s: out of host memory", fn);
  ring->imp = imp;
  ring->path = path;
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
  if (!IFD_GLC_DESTROY_OK(ring, IFD_HANDLE_GL_RING, "ring", "ifd_gl_ring_destroy"))
    return; /* refused: the ring stays valid */
  IFD_CHILD_FORGET(ring, rings, ifd_gl_ring);
  ring_free(ring);
}

uint32_t ifd_gl_ring_count(const ifd_gl_ring *ring) {
  return ring && ifd_handle_live(ring, IFD_HANDLE_GL_RING) ? ring->count : 0;
}

ifd_gl_frame *ifd_gl_ring_frame(const ifd_gl_ring *ring, uint64_t k) {
  if (!ring || !ifd_handle_live(ring, IFD_HANDLE_GL_RING)) return NULL;
  int slot = ifd_ring_progress_slot(ring->progress, ring->count, k, "ifd_gl_ring_frame");
  return slot < 0 ? NULL : ring->frames[slot];
}

int ifd_gl_ring_take_latest(ifd_gl_ring *ring, uint64_t timeout_ns, uint64_t *out_frame) {
  static const char fn[] = "ifd_gl_ring_take_latest";
  int rc = ifd_check_handle(ring, IFD_HANDLE_GL_RING, "ring", fn);
  if (rc != 0) return rc;
  if (!out_frame) return ifd_fail(-EINVAL, "%s: out_frame is NULL", fn);
  return ifd_ring_progress_take(ring->progress, timeout_ns, out_frame, fn);
}

/* The frame of a live ring that holds frame k, for the calls below; NULL
 * with *rc and the message set where the ring, k or the context is wrong. */
static ifd_gl_frame *ring_frame_of(ifd_gl_ring *ring, uint64_t k, const char *fn, int *rc) {
  *rc = ifd_check_handle(ring, IFD_HANDLE_GL_RING, "ring", fn);
  int slot = *rc == 0 ? ifd_ring_progress_slot(ring->progress, ring->count, k, fn) : *rc;
  if (slot < 0) {
    *rc = slot;
    return NULL;
  }
  *rc = ifd_glc_check_current(ring->imp, fn);
  return *rc == 0 ? ring->frames[slot] : NULL;
}

int ifd_gl_ring_acquire(ifd_gl_ring *ring, uint64_t k, uint32_t *out_texture) {
  static const char fn[] = "ifd_gl_ring_acquire";
  int rc;
  ifd_gl_frame *f = ring_frame_of(ring, k, fn, &rc);
  if (!f) return rc;
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
  if (ring->ready && (rc = ifd_gl_timeline_wait(ring->ready, k, f)) != 0) return rc;
  if ((rc = ifd_gl_frame_update(f)) != 0) return rc;
  if (out_texture) *out_texture = f->h.texture;
  return 0;
}

int ifd_gl_ring_wait_ready(ifd_gl_ring *ring, uint64_t k, uint64_t timeout_ns) {
  static const char fn[] = "ifd_gl_ring_wait_ready";
  int rc = ifd_check_handle(ring, IFD_HANDLE_GL_RING, "ring", fn);
  if (rc != 0) return rc;
  int slot = ifd_ring_progress_slot(ring->progress, ring->count, k, fn);
  if (slot < 0) return slot;
  /* The producer's own ring (or a MAILBOX ring's shared state): no GL needed. */
  if (ring->progress) return ifd_ring_progress_wait(ring->progress, k, timeout_ns, fn);
  if (!ring->ready) return 0; /* nothing can be observed: see the header */
  /* GL cannot read a timeline's value: queue the wait, then a fence behind
   * it, and wait for the fence on the host. */
  ifd_gl_importer *imp = ring->imp;
  if ((rc = ifd_glc_check_current(imp, fn)) != 0) return rc;
  if ((rc = wait_or_signal(ring->ready, k, ring->frames[slot], true, fn)) != 0) return rc;
  GLsync sync = imp->glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  if (!sync) return ifd_glc_fail(ifd_glc_error(imp), "ifd_gl_ring_wait_ready: glFenceSync");
  GLenum r = imp->glClientWaitSync(sync, GL_SYNC_FLUSH_COMMANDS_BIT, (GLuint64)timeout_ns);
  imp->glDeleteSync(sync);
  if (r == GL_ALREADY_SIGNALED || r == GL_CONDITION_SATISFIED) return 0;
  if (r == GL_TIMEOUT_EXPIRED)
    return ifd_fail(-ETIMEDOUT, "%s: ready did not reach %llu within %llu ns; GL's wait for it "
                                "stays queued (GL cannot cancel it)",
                    fn, (unsigned long long)k, (unsigned long long)timeout_ns);
  return ifd_glc_fail(ifd_glc_error(imp), "ifd_gl_ring_wait_ready: glClientWaitSync");
}

int ifd_gl_ring_release(ifd_gl_ring *ring, uint64_t k) {
  static const char fn[] = "ifd_gl_ring_release";
  int rc;
  ifd_gl_frame *f = ring_frame_of(ring, k, fn, &rc);
  if (!f) return rc;
  if (ring->release) return ifd_gl_timeline_signal(ring->release, k, f);
  f->imp->glFinish();
  return 0;
}
