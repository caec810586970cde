/* Inside the demo's producer (producer.h): the ops table each backend
 * implements (producer_cuda.c, producer_vk.c) and the part of a producer that
 * producer.c owns. A backend's state is a struct whose first member is a
 * `producer`; producer.c allocates ops->size bytes, zeroed, fills the common
 * part and calls ops->create. */
#ifndef IFD_TOOLS_PRODUCER_BACKEND_H
#define IFD_TOOLS_PRODUCER_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "interop_fd/interop_fd.h"
#include "producer/producer.h"

#define PRODUCER_LOCAL_SIZE 16 /* 16x16 threads per block / invocations per workgroup */

typedef struct {
  size_t size; /* of the backend's struct, which starts with a producer */
  /* Loads the kernel and what it needs; 0 or -errno with the message set.
   * On failure destroy is still called. */
  int (*create)(producer *p);
  /* Waits for the producer's work, frees the backend's objects (not p);
   * must cope with a create that stopped half-way. */
  void (*destroy)(producer *p);
  /* Enqueues the frame; img and args are checked against each other and
   * the image's format has bpp bytes per pixel. */
  int (*draw)(producer *p, const ifd_image_native *img, const cppn_frame_args *args,
              uint32_t bpp);
  int (*finish)(producer *p);
} producer_ops;

struct producer {
  const producer_ops *ops;
  ifd_context *ctx;
  ifd_context_native native;
  cppn_params params;
  uint64_t test_range; /* producer_test_limit_range; 0 = none (Vulkan) */
};

extern const producer_ops producer_cuda_ops;
extern const producer_ops producer_vk_ops;

#endif
