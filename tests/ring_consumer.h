/* A ring imported by either consumer (Vulkan or GL) behind one set of
 * calls, and the draw of one of its frames with every pixel compared: what
 * the MAILBOX tests (test_ring_mailbox.c) and the viewers of rings served
 * across processes (test_share.c) do with a frame. */
#ifndef IFD_TEST_RING_CONSUMER_H
#define IFD_TEST_RING_CONSUMER_H

#include "consumer_env.h"

typedef struct {
  consumer *c;
  void *ring; /* ifd_vk_ring or ifd_gl_ring */
} cring;

int cring_import(consumer *c, ifd_ring_desc *d, cring *out);
void cring_destroy(cring *r);
int cring_take(cring *r, uint64_t timeout_ns, uint64_t *k);
bool cring_has_frame(cring *r, uint64_t k);

/* Frame k: waits for ready >= k (on the device with timelines; without,
 * ifd_vk_ring_wait_ready, which waits only for a producer in this process),
 * draws it, compares every pixel with the pattern of seed k (a w x h frame
 * of fmt) and, with timelines, releases it on the device. Without timelines
 * the caller hands it back (ifd_ring_release_frame, ifd_ring_link_release).
 * Failures are counted (CHECK). */
void cring_draw(cring *r, uint64_t k, uint32_t w, uint32_t h, MAX_Format fmt);

#endif
