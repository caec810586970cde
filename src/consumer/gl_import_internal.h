/* What the GL consumer's files share (gl_import.c: the importer and the
 * current-context check, gl_frame.c: frames, gl_sync.c: timelines and rings):
 * the entry points each importer resolves and the objects' layouts. Private to
 * the library. */
#ifndef IFD_GL_IMPORT_INTERNAL_H
#define IFD_GL_IMPORT_INTERNAL_H

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
#include "gl_copy.h"
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

/* The COPY path's compute copy (gl_copy.c): core since OpenGL 4.3. Loaded
 * apart, so that a context lacking one only loses that route. */
#define COPY_FNS(X)                                          \
  X(glGetInteger64v, PFNGLGETINTEGER64VPROC)                 \
  X(glGetIntegeri_v, PFNGLGETINTEGERI_VPROC)                 \
  X(glGetInteger64i_v, PFNGLGETINTEGER64I_VPROC)             \
  X(glGenTextures, PFNGLGENTEXTURESEXTPROC)                  \
  X(glTextureView, PFNGLTEXTUREVIEWPROC)                     \
  X(glCreateShader, PFNGLCREATESHADERPROC)                   \
  X(glShaderSource, PFNGLSHADERSOURCEPROC)                   \
  X(glCompileShader, PFNGLCOMPILESHADERPROC)                 \
  X(glGetShaderiv, PFNGLGETSHADERIVPROC)                     \
  X(glGetShaderInfoLog, PFNGLGETSHADERINFOLOGPROC)           \
  X(glDeleteShader, PFNGLDELETESHADERPROC)                   \
  X(glCreateProgram, PFNGLCREATEPROGRAMPROC)                 \
  X(glAttachShader, PFNGLATTACHSHADERPROC)                   \
  X(glLinkProgram, PFNGLLINKPROGRAMPROC)                     \
  X(glGetProgramiv, PFNGLGETPROGRAMIVPROC)                   \
  X(glGetProgramInfoLog, PFNGLGETPROGRAMINFOLOGPROC)         \
  X(glDeleteProgram, PFNGLDELETEPROGRAMPROC)                 \
  X(glUseProgram, PFNGLUSEPROGRAMPROC)                       \
  X(glProgramUniform3ui, PFNGLPROGRAMUNIFORM3UIPROC)         \
  X(glBindBufferBase, PFNGLBINDBUFFERBASEPROC)               \
  X(glBindBufferRange, PFNGLBINDBUFFERRANGEPROC)             \
  X(glBindImageTexture, PFNGLBINDIMAGETEXTUREPROC)           \
  X(glDispatchCompute, PFNGLDISPATCHCOMPUTEPROC)             \
  X(glMemoryBarrier, PFNGLMEMORYBARRIERPROC)

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
  COPY_FNS(DECLARE)
#undef DECLARE
  bool timelines;
  bool compute;                /* COPY_FNS all loaded and OpenGL >= 4.3 */
  GLuint copy_programs[5];     /* the compute copy per texel size (1, 2, 4, 8,
                                  16 bytes), made on first use */
  GLint64 max_ssbo_bytes;      /* GL_MAX_SHADER_STORAGE_BLOCK_SIZE */
  GLint max_groups[2];         /* GL_MAX_COMPUTE_WORK_GROUP_COUNT x, y */
  GLint n_uuids;
  uint8_t uuids[4][16];
  char renderer[128];
};

struct ifd_gl_frame {
  ifd_gl_importer *imp;
  ifd_gl_frame_native h;
  const ifd_format_info *info;
  uint32_t row_pitch;
  GLuint view; /* COPY by compute: the texture as the integer format of its
                  texel's size, for imageStore */
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
  ifd_gl_ring *next;           /* in imp->rings */
  ifd_ring_progress *progress; /* the producer's ring, when it is in this process;
                                  MAILBOX: the shared state and this consumer's takes */
};

/* gl_import.c */
/* 0 where the importer's context (as the window system reports it) is
 * current on this thread, else -EINVAL saying which is; `fn` names the public
 * function. */
int ifd_glc_check_current(const ifd_gl_importer *imp, const char *fn);
/* Whether a GL child (frame, timeline, ring) may be destroyed now: its
 * handle is live (a stale one is ignored, as the destroy calls promise) and
 * its importer's context is current (else the destroy is refused with that
 * message, and the child stays valid). The handle is checked before obj->imp
 * is read. */
#define IFD_GLC_DESTROY_OK(obj, type, what, fn) \
  (ifd_handle_destroy_ok(obj, type, what, fn) && ifd_glc_check_current((obj)->imp, fn) == 0)
/* The first GL error raised since the last drain, draining the rest. */
GLenum ifd_glc_error(ifd_gl_importer *imp);
/* -ENOMEM for GL_OUT_OF_MEMORY, else -EIO, with "what raised GL error 0x...". */
int ifd_glc_fail(GLenum e, const char *what);

/* gl_frame.c */
/* Validates desc, imports it on `path` and registers the frame. */
int ifd_glc_import_frame(ifd_gl_importer *imp, ifd_frame_desc *desc, ifd_gl_path path,
                         ifd_gl_frame **out, const char *fn);
/* Deletes a frame's GL objects (not its handle entry). */
void ifd_glc_frame_free(ifd_gl_frame *f);

#endif
