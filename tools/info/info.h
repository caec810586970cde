/* `interop-fd info`: what this machine offers for sharing frames without CPU
 * copies, like vulkaninfo but for one question: "can I zero-copy from X to Y
 * here, and if not, why not". */
#ifndef IFD_TOOLS_INFO_H
#define IFD_TOOLS_INFO_H

#include <stdio.h>

/* Prints to out, in two parts:
 *  1. the backends found: CUDA (libcuda, its devices and the attributes that
 *     export needs), Vulkan (each physical device, its external memory and
 *     semaphore support) and EGL/OpenGL (EGL devices, the GL context's
 *     extensions and device UUID);
 *  2. one answer per producer (cuda, vulkan) and consumer (vk, gl), found by
 *     creating a 64x64 RGBA8 image and importing it with the library's
 *     consumer API, and by exporting and importing a timeline semaphore.
 * A missing piece (no GPU, no libcuda, no Vulkan loader, no EGL) is a line of
 * output, not an error. Every object made is destroyed and every fd opened is
 * closed before it returns (drivers loaded on the way, libcuda among them,
 * stay loaded and may keep their own fds).
 * Blocks: yes, while drivers initialise and devices are created (about a
 * second). Threads: call from one thread at a time; it makes EGL contexts
 * current on the calling thread and leaves none current.
 * Returns 0, or -EIO if writing to out failed. */
int info_run(FILE *out);

#endif
