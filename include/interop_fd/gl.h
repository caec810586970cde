/*
 * interop_fd/gl.h: import frames (ifd_frame_desc, ifd_ring_desc) into OpenGL
 * as textures you can sample, with GL_EXT_memory_object_fd, and synchronise
 * with GL_EXT_semaphore_fd + GL_NV_timeline_semaphore.
 *
 * The conventions of interop_fd.h hold (0 or a negative errno, a message in
 * ifd_last_error(), out-pointers untouched on failure). Every call that
 * issues GL commands (imports, destroys, updates, waits, signals, acquire,
 * release) needs the importer's GL context, the one current when it was
 * created, to be current on the calling thread. Where the window system can
 * say which context is current (EGL: eglGetCurrentContext, reached through
 * the importer's get_proc or libEGL; else GLX: glXGetCurrentContext), such a
 * call with another context current, or none, fails with -EINVAL ("the
 * importer's GL context is not current") and issues nothing; destroy calls
 * then destroy nothing (the handle stays valid: call again with the context
 * current). A context that only shares objects with the importer's is
 * refused as well: EGL and GLX cannot tell that two contexts share. Where
 * neither call is reachable, or neither reports a context (e.g. a wrapper
 * that makes contexts current another way), this is not checked. GL
 * object names are given as uint32_t (GLuint) and enums as uint32_t (GLenum),
 * so this header includes no GL header and mixes with epoxy, glad or GLEW.
 *
 * Needs OpenGL 4.5 (direct state access) with GL_EXT_memory_object and
 * GL_EXT_memory_object_fd; timelines also need GL_EXT_semaphore,
 * GL_EXT_semaphore_fd and GL_NV_timeline_semaphore.
 *
 * Paths from the imported memory to what a shader reads:
 *  - IFD_GL_PATH_COPY: the memory becomes a GL buffer (glNamedBufferStorageMemEXT)
 *    and ifd_gl_frame_update copies it into an ordinary texture owned by the
 *    frame, on the GPU (no CPU copy): by a compute shader where the context
 *    can (below), else as COPY_UPLOAD. This is the texture path that works on
 *    NVIDIA, whose GL refuses GL_LINEAR_TILING_EXT.
 *    Never read such a buffer back with glGetBufferSubData: on NVIDIA that
 *    returned the first contents after later writes (docs/platform-facts.md);
 *    GPU-side use is what the buffer paths rely on, and the tests check them
 *    through what is rendered.
 *  - IFD_GL_PATH_COPY_UPLOAD: COPY as a pixel-unpack transfer
 *    (glTextureSubImage2D from the buffer), even where the compute copy could
 *    run. Far slower on NVIDIA (docs/gl-paths.md).
 *  - IFD_GL_PATH_LINEAR: a texture with GL_LINEAR_TILING_EXT directly on the
 *    memory, no copy. GL cannot be told a row pitch: this is correct only
 *    where the GL driver's own linear pitch equals the frame's row_pitch,
 *    which holds for interop_fd's exports on Mesa (llvmpipe), where the buffer
 *    import fails. Refused (-EOPNOTSUPP) where the driver refuses linear tiling.
 *  - IFD_GL_PATH_BUFFER: no texture and no copy: the frame is the GL buffer
 *    on the memory, for the application's own shader to read as a shader
 *    storage buffer (IFD_GL_BUFFER_GLSL below: pixel (x, y) of every format).
 *    ifd_gl_frame_texture (and ifd_gl_ring_acquire's *out_texture) is 0 and
 *    ifd_gl_frame_update does nothing.
 *    Refused (-EOPNOTSUPP) where GL cannot make a buffer of the memory
 *    (llvmpipe) or the frame exceeds GL_MAX_SHADER_STORAGE_BLOCK_SIZE.
 *  - IFD_GL_PATH_AUTO: COPY, and LINEAR where the buffer import fails. Never
 *    BUFFER, which needs the application's shader.
 * COPY's compute copy (GLSL 4.30, built by the driver on first use, one
 * program per texel size, deleted with the importer) reads the buffer as a
 * shader storage buffer and writes the texture with imageStore through a
 * view of the unsigned-integer format of the texel's size (GL_R8UI, GL_R16UI,
 * GL_R32UI, GL_RG32UI, GL_RGBA32UI), so the bytes land unchanged, sRGB
 * included. COPY takes it where the context has OpenGL 4.3 (compute
 * shaders, storage buffers, texture views, image load/store), the frame's
 * memory is at most GL_MAX_SHADER_STORAGE_BLOCK_SIZE bytes and its work
 * groups are within GL_MAX_COMPUTE_WORK_GROUP_COUNT; otherwise COPY uploads
 * as COPY_UPLOAD. ifd_gl_frame_native's `path` says which ran.
 *
 * Textures are GL_TEXTURE_2D with the internal format of the MAX_Format
 * (ifd_format_query: GL_R8, GL_RGBA16F, GL_SRGB8_ALPHA8, ...), swizzled so
 * that R8 samples as (r,r,r,1), RG8 as (r,g,0,1) and BGRA8 as RGBA; filters
 * GL_LINEAR, wrap GL_CLAMP_TO_EDGE. sRGB frames decode to linear on sampling.
 *
 * Waits: ifd_gl_ring_acquire and ifd_gl_timeline_wait queue device-side
 * waits (glWaitSemaphoreEXT) and never block the CPU; GL has no call that
 * reads a timeline's value, so they cannot time out. ifd_gl_ring_wait_ready
 * is the bounded host wait: it polls the producer's ring where that is in
 * this process, else waits for a GL fence queued behind the semaphore wait
 * (see there for what stays queued after a timeout).
 */
#ifndef INTEROP_FD_GL_H
#define INTEROP_FD_GL_H

#include "interop_fd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ifd_gl_importer ifd_gl_importer;
typedef struct ifd_gl_frame ifd_gl_frame;
typedef struct ifd_gl_timeline ifd_gl_timeline;
typedef struct ifd_gl_ring ifd_gl_ring;

/* The shape of eglGetProcAddress and glfwGetProcAddress. */
typedef void (*ifd_gl_proc)(void);
typedef ifd_gl_proc (*ifd_gl_get_proc_address)(const char *name);

typedef enum {
  IFD_GL_PATH_AUTO = 0,        /* COPY, else LINEAR */
  IFD_GL_PATH_COPY = 1,        /* buffer on the memory, copied into a texture
                                  on the GPU: by a compute shader where the
                                  context can (above), else as COPY_UPLOAD */
  IFD_GL_PATH_LINEAR = 2,      /* linear-tiled texture on the memory, no copy */
  IFD_GL_PATH_COPY_UPLOAD = 3, /* COPY by glTextureSubImage2D from the buffer,
                                  even where the compute copy could run */
  IFD_GL_PATH_BUFFER = 4       /* the buffer on the memory, no texture, no
                                  copy: read it with IFD_GL_BUFFER_GLSL */
} ifd_gl_path;

/* Creates an importer for the current GL context. get_proc: NULL uses
 * eglGetProcAddress from libEGL.so.1.
 * Errors: -EINVAL NULL out; -ENODEV no current context or no libEGL;
 *         -EOPNOTSUPP GL below 4.5 or no GL_EXT_memory_object_fd. */
IFD_API int ifd_gl_importer_create(ifd_gl_get_proc_address get_proc, ifd_gl_importer **out);
/* Destroys the importer and, with it, every frame, timeline and ring it made
 * that is still alive (their GL objects are deleted). Destroying the children
 * first is the normal order. Children destroyed with their importer stay
 * known: every later call with them returns -EINVAL saying "its importer was
 * destroyed first", accessors return 0/NULL, and their own destroy calls are
 * safe no-ops that issue no GL. With children alive and the importer's
 * context not current (where that can be checked), nothing is destroyed and
 * ifd_last_error() says so: make the context current and call again. */
IFD_API void ifd_gl_importer_destroy(ifd_gl_importer *importer);
/* 1 if the context can import timeline semaphores, else 0. */
IFD_API int ifd_gl_importer_has_timelines(const ifd_gl_importer *importer);

/* Imports one frame. Checks as ifd_vk_frame_import does (format, sizes,
 * pitch, an open memory fd, and that one of the context's GL_DEVICE_UUID_EXT
 * values equals desc->device_uuid unless that is all zero).
 * fd ownership: on success desc->memory_fd is consumed and set to -1; on
 * failure it is untouched. desc->timeline_fd is never touched.
 * Errors: -EINVAL bad desc, or memory_fd is of a kind no driver exports
 *         (a pipe, socket, folder, /dev/null, ...); -EXDEV another device;
 *         -EBADF fd not open; -EOPNOTSUPP path impossible here (message says
 *         why); -EIO GL refused the memory (e.g. not a memory fd). */
IFD_API int ifd_gl_frame_import(ifd_gl_importer *importer, ifd_frame_desc *desc,
                                ifd_gl_path path, ifd_gl_frame **out);
IFD_API void ifd_gl_frame_destroy(ifd_gl_frame *frame);

typedef struct {
  ifd_gl_path path;         /* COPY (by compute), COPY_UPLOAD, LINEAR or
                               BUFFER, never AUTO */
  uint32_t texture;         /* GL_TEXTURE_2D to sample; 0 for BUFFER */
  uint32_t internal_format; /* e.g. GL_RGBA8 */
  uint32_t memory_object;   /* the imported memory */
  uint32_t buffer;          /* COPY, COPY_UPLOAD, BUFFER: the buffer on the
                               memory; 0 for LINEAR */
  uint32_t width, height;
  MAX_Format max_format;    /* BUFFER: IFD_GL_BUFFER_GLSL's `format` */
  uint32_t row_pitch;       /* bytes from one row to the next in the memory
                               (BUFFER: IFD_GL_BUFFER_GLSL's `row_pitch`) */
} ifd_gl_frame_native;

IFD_API int ifd_gl_frame_native_handles(const ifd_gl_frame *frame, ifd_gl_frame_native *out);
IFD_API uint32_t ifd_gl_frame_texture(const ifd_gl_frame *frame); /* 0 if invalid */

/* Makes the texture show the memory's current contents: COPY enqueues the
 * GPU copy; LINEAR and BUFFER do nothing. Call after the wait for the frame,
 * before sampling. State it touches is restored: COPY_UPLOAD's pixel-unpack
 * buffer binding and unpack parameters; the compute copy's current program,
 * GL_SHADER_STORAGE_BUFFER binding (generic and index 0) and image unit 0.
 * The compute copy ends with glMemoryBarrier(GL_TEXTURE_FETCH_BARRIER_BIT |
 * GL_SHADER_IMAGE_ACCESS_BARRIER_BIT | GL_TEXTURE_UPDATE_BARRIER_BIT |
 * GL_FRAMEBUFFER_BARRIER_BIT), so later GL commands see the texture's new
 * contents. Blocks: no (enqueues; the first compute copy of a texel size
 * also compiles its program).
 * Errors: -EINVAL; -EIO GL raised an error or the copy's shader did not
 *         build (message has the log); -ENOMEM GL ran out of memory. */
IFD_API int ifd_gl_frame_update(ifd_gl_frame *frame);

/* IFD_GL_BUFFER_GLSL: GLSL (#version 430 or later) that reads pixel (x, y)
 * of a BUFFER frame, expanded to RGBA as the texture paths sample it: R8 as
 * (r,r,r,1), RG8 as (r,g,0,1), BGRA8 as RGBA, sRGB decoded to linear, half
 * and float formats as stored. Paste it into a shader after the #version
 * line, having defined IFD_FRAME_BINDING (the storage buffer binding, 0 if
 * not defined), and bind the frame's buffer there:
 *   glBindBufferBase(GL_SHADER_STORAGE_BUFFER, binding, native.buffer);
 * then read with ifd_frame_fetch(native.max_format, native.row_pitch,
 * ivec2(x, y)) (x < width, y < height; no filtering, no bounds check). The
 * buffer is the producer's memory itself: wait for the frame (timeline or
 * ring) before the draw that reads it, and release it after. */
#define IFD_GL_BUFFER_GLSL                                                              \
  "#ifndef IFD_FRAME_BINDING\n"                                                         \
  "#define IFD_FRAME_BINDING 0\n"                                                       \
  "#endif\n"                                                                            \
  "layout(std430, binding = IFD_FRAME_BINDING) readonly buffer IfdFrame {\n"            \
  "  uint ifd_frame_words[];\n"                                                        \
  "};\n"                                                                                \
  "vec3 ifd_srgb_to_linear(vec3 c) {\n"                                                 \
  "  return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), greaterThan(c, "        \
  "vec3(0.04045)));\n"                                                                  \
  "}\n"                                                                                 \
  "/* format: MAX_Format (1 = R8 ... 11 = RGBA32F); row_pitch in bytes. */\n"          \
  "vec4 ifd_frame_fetch(uint format, uint row_pitch, ivec2 p) {\n"                      \
  "  uint bytes = format == 1u ? 1u : format == 2u || format == 6u ? 2u\n"             \
  "             : format == 8u || format == 10u ? 8u : format == 11u ? 16u : 4u;\n"    \
  "  uint offset = uint(p.y) * row_pitch + uint(p.x) * bytes;\n"                       \
  "  uint w = offset >> 2;\n"                                                           \
  "  uint v = ifd_frame_words[w] >> ((offset & 3u) * 8u);\n"                           \
  "  switch (format) {\n"                                                               \
  "  case 1u: return vec4(vec3(unpackUnorm4x8(v).x), 1.0);\n"                          \
  "  case 2u: return vec4(unpackUnorm4x8(v).xy, 0.0, 1.0);\n"                          \
  "  case 3u: return unpackUnorm4x8(v);\n"                                              \
  "  case 4u: return unpackUnorm4x8(v).bgra;\n"                                         \
  "  case 5u: { vec4 c = unpackUnorm4x8(v); return vec4(ifd_srgb_to_linear(c.rgb), c.a); }\n" \
  "  case 6u: return vec4(vec3(unpackHalf2x16(v).x), 1.0);\n"                          \
  "  case 7u: return vec4(unpackHalf2x16(v), 0.0, 1.0);\n"                             \
  "  case 8u: return vec4(unpackHalf2x16(v), unpackHalf2x16(ifd_frame_words[w + 1u]));\n" \
  "  case 9u: return vec4(vec3(uintBitsToFloat(v)), 1.0);\n"                           \
  "  case 10u: return vec4(uintBitsToFloat(uvec2(v, ifd_frame_words[w + 1u])), 0.0, 1.0);\n" \
  "  default: return uintBitsToFloat(uvec4(v, ifd_frame_words[w + 1u],\n"             \
  "                                        ifd_frame_words[w + 2u], ifd_frame_words[w + 3u]));\n" \
  "  }\n"                                                                               \
  "}\n"

/* ---------------------------------------------------------------- timelines */

/* Imports a timeline semaphore fd (OPAQUE_FD) as a GL_NV_timeline_semaphore.
 * fd ownership: on success *fd is consumed and set to -1; on failure untouched.
 * Errors: -EINVAL; -EBADF; -EOPNOTSUPP extensions missing; -EIO refused. */
IFD_API int ifd_gl_timeline_import(ifd_gl_importer *importer, int *fd, ifd_gl_timeline **out);
IFD_API void ifd_gl_timeline_destroy(ifd_gl_timeline *timeline);
/* Enqueues, in GL's command stream, a wait until the semaphore reaches value
 * before later GL commands that use `frame` (which may be NULL) run. */
IFD_API int ifd_gl_timeline_wait(ifd_gl_timeline *timeline, uint64_t value, ifd_gl_frame *frame);
/* Enqueues "signal value" after the GL commands issued so far that use
 * `frame` (may be NULL) and flushes, so the signal reaches the GPU. */
IFD_API int ifd_gl_timeline_signal(ifd_gl_timeline *timeline, uint64_t value,
                                   ifd_gl_frame *frame);

/* ---------------------------------------------------------------- rings */

/* Imports all frames (same path), both timelines and, for a MAILBOX ring,
 * the shared state (control_fd, checked first) of desc.
 * fd ownership: on success every fd of desc is consumed and set to -1; on
 * failure none is.
 * Errors: as ifd_vk_ring_import, with GL's. */
IFD_API int ifd_gl_ring_import(ifd_gl_importer *importer, ifd_ring_desc *desc, ifd_gl_path path,
                               ifd_gl_ring **out);
IFD_API void ifd_gl_ring_destroy(ifd_gl_ring *ring);
IFD_API uint32_t ifd_gl_ring_count(const ifd_gl_ring *ring);
/* The frame holding frame number k (k >= 1), or NULL: as ifd_vk_ring_frame. */
IFD_API ifd_gl_frame *ifd_gl_ring_frame(const ifd_gl_ring *ring, uint64_t k);

/* MAILBOX rings: takes the newest frame ended since this consumer's last
 * take (interop_fd.h, "Taking a frame": blocking, errors). Then proceed as
 * in FIFO: ifd_gl_ring_acquire(k), draw, ifd_gl_ring_release(k) (without
 * timelines also ifd_ring_release_frame(k) in the producer's process).
 * Issues no GL; any thread may call. -EINVAL also for a bad ring. */
IFD_API int ifd_gl_ring_take_latest(ifd_gl_ring *ring, uint64_t timeout_ns, uint64_t *out_frame);

/* Frame k for sampling: enqueues the wait for ready >= k and
 * ifd_gl_frame_update, and returns the texture in *out_texture.
 * Without timelines nothing can be waited for on the device: where the
 * producer's ring is in this process (ifd_ring_export's note), a frame it has
 * not ended yet is refused (-EAGAIN; wait with ifd_gl_ring_wait_ready), so a
 * frame never produced is never handed out. Where the producer is elsewhere,
 * the producer must hand over only written frames.
 * Blocks: no (with timelines, a frame never signalled makes GL's queue wait;
 * use ifd_gl_ring_wait_ready first for a bound).
 * Errors: -EINVAL k == 0 or not a frame taken (MAILBOX), the importer's
 *         context not current, or the importer destroyed first; -EAGAIN
 *         frame k not produced yet (no
 *         timelines); -EPIPE the producer's ring was destroyed before
 *         producing frame k (no timelines); -EIO GL raised an error. */
IFD_API int ifd_gl_ring_acquire(ifd_gl_ring *ring, uint64_t k, uint32_t *out_texture);

/* Waits on the host, at most timeout_ns (0: only looks), until frame k is
 * ready, so that ifd_gl_ring_acquire(k) will not make GL wait:
 *  - the producer's ring is in this process (ifd_ring_export's note), or the
 *    ring is a MAILBOX ring (its shared state tells, in any process; a frame
 *    taken is ended, so this returns at once): until the producer ended
 *    frame k (with timelines: its "ready = k" is queued on the producer's
 *    queue/stream; without: the frame is written). No GL is issued; any
 *    thread may call. With timelines "queued" is not "reached": GL's wait
 *    in ifd_gl_ring_acquire(k) can still wait, and without bound if the
 *    producer's process dies before its queue signals k (a bounded wait for
 *    that case is not there yet; the Vulkan consumer's wait_ready has one).
 *  - otherwise, with timelines (GPU): queues glWaitSemaphoreEXT(ready >= k)
 *    and a fence behind it, flushes, and waits for the fence with
 *    glClientWaitSync. The fence also waits for the GL work queued before it.
 *    On -ETIMEDOUT the semaphore wait stays queued in GL, which cannot cancel
 *    it: GL work issued later runs only once the producer signals k. Needs
 *    the importer's context current.
 *  - otherwise (no timelines, producer elsewhere): nothing can be observed;
 *    returns 0 at once.
 * Blocks: yes, up to timeout_ns.
 * Errors: -ETIMEDOUT not ready in time (message says how far the producer
 *         got, where known); -EPIPE the producer's ring was destroyed before
 *         ending frame k; -EINVAL k == 0 or not a frame taken (MAILBOX), the
 *         context not current (GL case), or the importer destroyed first;
 *         -EIO GL raised an error. */
IFD_API int ifd_gl_ring_wait_ready(ifd_gl_ring *ring, uint64_t k, uint64_t timeout_ns);

/* Done with frame k: enqueues release = k after the GL commands issued so far
 * and flushes. For COPY you may release right after ifd_gl_ring_acquire (the
 * texture is a copy). Without timelines it calls glFinish instead (Blocks:
 * yes, until GL is idle), and the producer must be told some other way
 * (ifd_ring_release_frame in-process).
 * Errors: -EINVAL k == 0 or not a frame taken (MAILBOX), the importer's
 *         context not current, or the importer destroyed first; -EIO. */
IFD_API int ifd_gl_ring_release(ifd_gl_ring *ring, uint64_t k);

#ifdef __cplusplus
}
#endif

#endif /* INTEROP_FD_GL_H */
