/* The GL consumer's frames (interop_fd/gl.h): memory objects, the LINEAR,
 * COPY (compute copy in gl_copy.c), COPY_UPLOAD and BUFFER paths. */
#include "gl_import_internal.h"

/* ------------------------------------------------------------------ frames */

/* Deletes the frame's GL objects, leaving their names 0. */
static void release_objects(ifd_gl_frame *f) {
  ifd_gl_importer *imp = f->imp;
  if (f->view) imp->glDeleteTextures(1, &f->view);
  if (f->h.texture) imp->glDeleteTextures(1, &f->h.texture);
  if (f->h.buffer) imp->glDeleteBuffers(1, &f->h.buffer);
  if (f->h.memory_object) imp->glDeleteMemoryObjectsEXT(1, &f->h.memory_object);
  f->view = f->h.texture = f->h.buffer = f->h.memory_object = 0;
  ifd_glc_error(imp);
}

void ifd_glc_frame_free(ifd_gl_frame *f) {
  release_objects(f);
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
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) {
    close(fd); /* a failed import does not take the fd */
    ifd_glc_fail(e, "glImportMemoryFdEXT");
    return ifd_fail(-EIO, "%s refused the memory fd (is it an OPAQUE_FD memory export of this "
                          "device?): %s",
                    imp->renderer, ifd_last_error());
  }
  return 0;
}

/* The memory as a GL buffer: what COPY, COPY_UPLOAD and BUFFER start from. */
static int setup_buffer(ifd_gl_frame *f, const ifd_frame_desc *d) {
  ifd_gl_importer *imp = f->imp;
  int rc = import_memory(f, d);
  if (rc != 0) return rc;
  imp->glCreateBuffers(1, &f->h.buffer);
  imp->glNamedBufferStorageMemEXT(f->h.buffer, (GLsizeiptr)d->size, f->h.memory_object, 0);
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) {
    ifd_glc_fail(e, "glNamedBufferStorageMemEXT");
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a buffer of the imported memory: %s",
                    imp->renderer, ifd_last_error());
  }
  if (f->h.path == IFD_GL_PATH_BUFFER) {
    GLint64 max = 0;
    imp->glGetInteger64v(GL_MAX_SHADER_STORAGE_BLOCK_SIZE, &max);
    ifd_glc_error(imp);
    if ((uint64_t)max < d->size)
      return ifd_fail(-EOPNOTSUPP, "%s: the frame's %llu bytes exceed "
                                   "GL_MAX_SHADER_STORAGE_BLOCK_SIZE (%lld), so a shader cannot "
                                   "read it as one storage buffer: use a COPY path",
                      imp->renderer, (unsigned long long)d->size, (long long)max);
  }
  return 0;
}

/* COPY (`path` COPY: the compute copy where it fits, else the upload) and
 * COPY_UPLOAD: the buffer and a texture of the frame's format. */
static int setup_copy(ifd_gl_frame *f, const ifd_frame_desc *d, ifd_gl_path path) {
  ifd_gl_importer *imp = f->imp;
  int rc = setup_buffer(f, d);
  if (rc != 0) return rc;
  imp->glCreateTextures(GL_TEXTURE_2D, 1, &f->h.texture);
  imp->glTextureStorage2D(f->h.texture, 1, f->info->gl_internal_format, (GLsizei)d->width,
                          (GLsizei)d->height);
  texture_parameters(f);
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) return ifd_glc_fail(e, "glTextureStorage2D");
  f->h.path = IFD_GL_PATH_COPY_UPLOAD;
  if (path == IFD_GL_PATH_COPY_UPLOAD ||
      !ifd_glc_copy_fits(imp, f->info->bytes_per_pixel, d->size, d->width, d->height, NULL, 0))
    return 0;
  /* A view that GL refuses leaves the upload, which needs none. */
  if (ifd_glc_copy_view(imp, f->h.texture, f->info->bytes_per_pixel, &f->view) == 0)
    f->h.path = IFD_GL_PATH_COPY;
  return 0;
}

static int setup_linear(ifd_gl_frame *f, const ifd_frame_desc *d) {
  ifd_gl_importer *imp = f->imp;
  imp->glCreateTextures(GL_TEXTURE_2D, 1, &f->h.texture);
  imp->glTextureParameteri(f->h.texture, GL_TEXTURE_TILING_EXT, GL_LINEAR_TILING_EXT);
  GLenum e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR)
    return ifd_fail(-EOPNOTSUPP, "%s refuses GL_LINEAR_TILING_EXT (GL error 0x%04x): use the "
                                 "COPY path", imp->renderer, e);
  int rc = import_memory(f, d);
  if (rc != 0) return rc;
  imp->glTextureStorageMem2DEXT(f->h.texture, 1, f->info->gl_internal_format, (GLsizei)d->width,
                                (GLsizei)d->height, f->h.memory_object, 0);
  e = ifd_glc_error(imp);
  if (e != GL_NO_ERROR) {
    ifd_glc_fail(e, "glTextureStorageMem2DEXT");
    return ifd_fail(-EOPNOTSUPP, "%s cannot make a linear %s texture of the memory: %s",
                    imp->renderer, f->info->name, ifd_last_error());
  }
  texture_parameters(f);
  e = ifd_glc_error(imp);
  return e == GL_NO_ERROR ? 0 : ifd_glc_fail(e, "texture parameters");
}

int ifd_glc_import_frame(ifd_gl_importer *imp, ifd_frame_desc *desc, ifd_gl_path path,
                         ifd_gl_frame **out, const char *fn) {
  int rc = ifd_check_handle(imp, IFD_HANDLE_GL_IMPORTER, "importer", fn);
  if (rc != 0) return rc;
  if (!out) return ifd_fail(-EINVAL, "%s: out is NULL", fn);
  if ((rc = ifd_glc_check_current(imp, fn)) != 0) return rc;
  if (path < IFD_GL_PATH_AUTO || path > IFD_GL_PATH_BUFFER)
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
  f->h.row_pitch = desc->row_pitch;
  f->h.internal_format = info->gl_internal_format;
  f->h.width = desc->width;
  f->h.height = desc->height;
  f->h.max_format = desc->format;
  ifd_glc_error(imp);
  char earlier[512]; /* an AUTO fallback that works is a success: keep the last failure's message */
  snprintf(earlier, sizeof(earlier), "%s", ifd_last_error());
  if (path == IFD_GL_PATH_LINEAR) {
    f->h.path = IFD_GL_PATH_LINEAR;
    rc = setup_linear(f, desc);
  } else if (path == IFD_GL_PATH_BUFFER) {
    f->h.path = IFD_GL_PATH_BUFFER;
    rc = setup_buffer(f, desc);
  } else {
    rc = setup_copy(f, desc, path);
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
    ifd_glc_frame_free(f);
    return ifd_fail_prefix(rc, "%s(%ux%u %s)", fn, desc->width, desc->height, info->name);
  }
  ifd_fd_close(&desc->memory_fd);
  IFD_LIST_ADD(imp, frames, f);
  *out = f;
  return 0;
}

int ifd_gl_frame_import(ifd_gl_importer *imp, ifd_frame_desc *desc, ifd_gl_path path,
                        ifd_gl_frame **out) {
  return ifd_glc_import_frame(imp, desc, path, out, "ifd_gl_frame_import");
}

void ifd_gl_frame_destroy(ifd_gl_frame *f) {
  if (!IFD_GLC_DESTROY_OK(f, IFD_HANDLE_GL_FRAME, "frame", "ifd_gl_frame_destroy"))
    return; /* refused: the frame stays valid */
  IFD_CHILD_FORGET(f, frames, ifd_gl_frame);
  ifd_glc_frame_free(f);
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
  if ((rc = ifd_glc_check_current(f->imp, fn)) != 0) return rc;
  ifd_gl_importer *imp = f->imp;
  if (f->h.path == IFD_GL_PATH_COPY) {
    rc = ifd_glc_copy_run(imp, f->h.buffer, f->view, f->info->bytes_per_pixel, f->h.width,
                          f->h.height, f->row_pitch);
    return rc == 0 ? 0 : ifd_fail_prefix(rc, "%s", fn);
  }
  if (f->h.path != IFD_GL_PATH_COPY_UPLOAD) return 0;
  static const GLenum state[] = {GL_PIXEL_UNPACK_BUFFER_BINDING, GL_UNPACK_ROW_LENGTH,
                                 GL_UNPACK_ALIGNMENT,           GL_UNPACK_SKIP_ROWS,
                                 GL_UNPACK_SKIP_PIXELS,         GL_UNPACK_IMAGE_HEIGHT,
                                 GL_UNPACK_SKIP_IMAGES};
  GLint saved[IFD_ARRAY_LEN(state)];
  for (size_t i = 0; i < IFD_ARRAY_LEN(state); i++) imp->glGetIntegerv(state[i], &saved[i]);
  ifd_glc_error(imp);
  imp->glBindBuffer(GL_PIXEL_UNPACK_BUFFER, f->h.buffer);
  imp->glPixelStorei(GL_UNPACK_ROW_LENGTH, (GLint)(f->row_pitch / f->info->bytes_per_pixel));
  imp->glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  imp->glPixelStorei(GL_UNPACK_SKIP_ROWS, 0);
  imp->glPixelStorei(GL_UNPACK_SKIP_PIXELS, 0);
  imp->glPixelStorei(GL_UNPACK_IMAGE_HEIGHT, 0);
  imp->glPixelStorei(GL_UNPACK_SKIP_IMAGES, 0);
  imp->glTextureSubImage2D(f->h.texture, 0, 0, 0, (GLsizei)f->h.width, (GLsizei)f->h.height,
                           f->info->gl_format, f->info->gl_type, (const void *)0);
  GLenum e = ifd_glc_error(imp);
  imp->glBindBuffer(GL_PIXEL_UNPACK_BUFFER, (GLuint)saved[0]);
  for (size_t i = 1; i < IFD_ARRAY_LEN(state); i++) imp->glPixelStorei(state[i], saved[i]);
  ifd_glc_error(imp);
  if (e == GL_NO_ERROR) return 0;
  return ifd_glc_fail(e, "ifd_gl_frame_update: glTextureSubImage2D from the buffer");
}
