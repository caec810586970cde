#include "common/vk_kit.h"
#include "selftest/copy_count.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* The one place in tools/ that includes a private header of the library: the
 * self-test counts host copies by rewriting the library's own CUDA table
 * (src/cuda/cuda_api.h), which the public API does not expose. Only this file
 * has src/ on its include path (tools/CMakeLists.txt). */
#include "cuda/cuda_api.h"

static atomic_long n_host, n_device;

void copy_count_reset(void) {
  atomic_store(&n_host, 0);
  atomic_store(&n_device, 0);
}
long copy_count_host(void) { return atomic_load(&n_host); }
long copy_count_device(void) { return atomic_load(&n_device); }

/* ------------------------------------------------------------------ CUDA */

static CUresult (*real_cuMemcpy2DAsync)(const CUDA_MEMCPY2D *, CUstream);
static CUresult (*real_cuMemAllocHost)(void **, size_t);
static CUresult count_cuMemcpy2DAsync(const CUDA_MEMCPY2D *c, CUstream s) {
  atomic_fetch_add(&n_host, 1);
  return real_cuMemcpy2DAsync(c, s);
}
static CUresult count_cuMemAllocHost(void **p, size_t n) {
  atomic_fetch_add(&n_host, 1);
  return real_cuMemAllocHost(p, n);
}

void copy_count_interpose_cuda(void) {
  int err = 0;
  /* The library's private, writable table (the tool links the static
   * library): replacing entries reroutes every call the library makes. */
  ifd_cuda_api *t = (ifd_cuda_api *)ifd_cuda_api_get(&err);
  if (!t || t->cuMemcpy2DAsync == count_cuMemcpy2DAsync) return;
  real_cuMemcpy2DAsync = t->cuMemcpy2DAsync;
  real_cuMemAllocHost = t->cuMemAllocHost;
  t->cuMemcpy2DAsync = count_cuMemcpy2DAsync;
  t->cuMemAllocHost = count_cuMemAllocHost;
}

/* ------------------------------------------------------------------ Vulkan */

static PFN_vkGetDeviceProcAddr real_gdpa;
static PFN_vkMapMemory real_vkMapMemory;
static PFN_vkCmdCopyBufferToImage real_vkCmdCopyBufferToImage;
static PFN_vkCmdDispatch real_vkCmdDispatch;

static VKAPI_ATTR VkResult VKAPI_CALL count_vkMapMemory(VkDevice d, VkDeviceMemory m, VkDeviceSize o,
                                                        VkDeviceSize s, VkMemoryMapFlags f, void **p) {
  atomic_fetch_add(&n_host, 1);
  return real_vkMapMemory(d, m, o, s, f, p);
}
static VKAPI_ATTR void VKAPI_CALL count_vkCmdCopyBufferToImage(VkCommandBuffer c, VkBuffer b,
                                                               VkImage i, VkImageLayout l,
                                                               uint32_t n,
                                                               const VkBufferImageCopy *r) {
  atomic_fetch_add(&n_device, 1);
  real_vkCmdCopyBufferToImage(c, b, i, l, n, r);
}
/* The importer dispatches only its COPY path's compute copy. */
static VKAPI_ATTR void VKAPI_CALL count_vkCmdDispatch(VkCommandBuffer c, uint32_t x, uint32_t y,
                                                      uint32_t z) {
  atomic_fetch_add(&n_device, 1);
  real_vkCmdDispatch(c, x, y, z);
}
static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL count_gdpa(VkDevice d, const char *name) {
  PFN_vkVoidFunction f = real_gdpa(d, name);
  if (!f) return f;
  if (strcmp(name, "vkMapMemory") == 0) {
    real_vkMapMemory = (PFN_vkMapMemory)f;
    return (PFN_vkVoidFunction)count_vkMapMemory;
  }
  if (strcmp(name, "vkCmdCopyBufferToImage") == 0) {
    real_vkCmdCopyBufferToImage = (PFN_vkCmdCopyBufferToImage)f;
    return (PFN_vkVoidFunction)count_vkCmdCopyBufferToImage;
  }
  if (strcmp(name, "vkCmdDispatch") == 0) {
    real_vkCmdDispatch = (PFN_vkCmdDispatch)f;
    return (PFN_vkVoidFunction)count_vkCmdDispatch;
  }
  return f;
}

PFN_vkVoidFunction VKAPI_CALL copy_count_gipa(VkInstance instance, const char *name) {
  if (vk_kit_load() != 0) return NULL; /* the loader, through the kit */
  PFN_vkVoidFunction f = vkGetInstanceProcAddr(instance, name);
  if (f && strcmp(name, "vkGetDeviceProcAddr") == 0) {
    real_gdpa = (PFN_vkGetDeviceProcAddr)f;
    return (PFN_vkVoidFunction)count_gdpa;
  }
  return f;
}

/* ------------------------------------------------------------------ GL */

/* glTextureSubImage2D is the COPY path's device-side copy when a pixel-unpack
 * buffer is bound, and a host upload otherwise. */
static void(APIENTRY *real_glTextureSubImage2D)(GLuint, GLint, GLint, GLint, GLsizei, GLsizei,
                                                 GLenum, GLenum, const void *);
static void APIENTRY count_glTextureSubImage2D(GLuint t, GLint l, GLint x, GLint y, GLsizei w,
                                               GLsizei h, GLenum f, GLenum ty, const void *p) {
  GLint pbo = 0;
  glGetIntegerv(GL_PIXEL_UNPACK_BUFFER_BINDING, &pbo);
  atomic_fetch_add(pbo ? &n_device : &n_host, 1);
  real_glTextureSubImage2D(t, l, x, y, w, h, f, ty, p);
}
/* The importer dispatches only its COPY path's compute copy. */
static void(APIENTRY *real_glDispatchCompute)(GLuint, GLuint, GLuint);
static void APIENTRY count_glDispatchCompute(GLuint x, GLuint y, GLuint z) {
  atomic_fetch_add(&n_device, 1);
  real_glDispatchCompute(x, y, z);
}
/* Handed out for every host-copy entry point: if the importer ever calls
 * one, the count shows it; the call does nothing and returns NULL/0 (every
 * such entry point returns void, a pointer or nothing it needs). */
static void *APIENTRY host_copy_called(void) {
  atomic_fetch_add(&n_host, 1000000);
  return NULL;
}

ifd_gl_proc copy_count_get_proc(const char *name) {
  static const char *const host_side[] = {
      "glReadPixels", "glGetTexImage", "glGetTextureImage", "glGetTextureSubImage",
      "glGetBufferSubData", "glGetNamedBufferSubData", "glMapBuffer", "glMapBufferRange",
      "glMapNamedBuffer", "glMapNamedBufferRange", "glBufferSubData", "glNamedBufferSubData",
      "glBufferData", "glNamedBufferData", "glTexSubImage2D", "glTexImage2D"};
  for (size_t i = 0; i < sizeof(host_side) / sizeof(host_side[0]); i++)
    if (strcmp(name, host_side[i]) == 0) return (ifd_gl_proc)host_copy_called;
  ifd_gl_proc f = (ifd_gl_proc)eglGetProcAddress(name);
  if (f && strcmp(name, "glTextureSubImage2D") == 0) {
    real_glTextureSubImage2D = (void(APIENTRY *)(GLuint, GLint, GLint, GLint, GLsizei, GLsizei,
                                                  GLenum, GLenum, const void *))f;
    return (ifd_gl_proc)count_glTextureSubImage2D;
  }
  if (f && strcmp(name, "glDispatchCompute") == 0) {
    real_glDispatchCompute = (void(APIENTRY *)(GLuint, GLuint, GLuint))f;
    return (ifd_gl_proc)count_glDispatchCompute;
  }
  return f;
}
