#include "present/present.h"

#include <errno.h>
#include <stdlib.h>

#include "common/tool_error.h"
#include "interop_fd/vulkan.h"

int presenter_create(const present_config *cfg, presenter **out) {
  *out = NULL;
  const present_ops *ops = cfg->api == CONSUMER_VK   ? &present_vk_ops
                           : cfg->api == CONSUMER_GL ? &present_gl_ops
                                                     : NULL;
  if (!ops) return tool_fail(-EINVAL, "unknown consumer %d", (int)cfg->api);
  presenter *p = calloc(1, ops->size);
  if (!p) return tool_fail(-ENOMEM, "out of memory");
  p->ops = ops;
  int rc = ops->create(p, cfg);
  if (rc != 0) {
    ops->destroy(p);
    return rc;
  }
  *out = p;
  return 0;
}

void presenter_destroy(presenter *p) {
  if (p) p->ops->destroy(p);
}

int presenter_import(presenter *p, ifd_ring_desc *desc) {
  if (desc->count == 0) return tool_fail(-EINVAL, "empty ring");
  MAX_Format f = desc->frames[0].format;
  p->srgb_frames = f == MAX_FMT_SRGBA8;
  p->width = desc->frames[0].width;
  p->height = desc->frames[0].height;
  return p->ops->import(p, desc);
}

const char *presenter_device_name(const presenter *p) { return p->device_name; }
const char *presenter_priority(const presenter *p) { return p->priority; }

const char *present_path_label(consumer_api api, int path) {
  if (api == CONSUMER_VK)
    return path == IFD_VK_PATH_LINEAR          ? "LINEAR"
           : path == IFD_VK_PATH_COPY_TRANSFER ? "COPY (transfer)"
                                               : "COPY (compute)";
  return path == IFD_GL_PATH_LINEAR        ? "LINEAR"
         : path == IFD_GL_PATH_COPY_UPLOAD ? "COPY (upload)"
                                           : "COPY (compute)";
}
const char *presenter_path_name(const presenter *p) { return p->path_name ? p->path_name : "?"; }
bool presenter_has_timelines(const presenter *p) { return p->timelines; }

int presenter_draw(presenter *p, uint64_t k, uint8_t *rgba) { return p->ops->draw(p, k, rgba); }
int presenter_take(presenter *p, uint64_t timeout_ns, uint64_t *k) {
  return p->ops->take(p, timeout_ns, k);
}
int presenter_finish(presenter *p) { return p->ops->finish(p); }
