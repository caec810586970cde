#include "present/present.h"

#include <errno.h>

#include "common/tool_error.h"

int presenter_create(const present_config *cfg, presenter **out) {
  *out = NULL;
  switch (cfg->api) {
  case CONSUMER_VK: return present_vk_create(cfg, out);
  case CONSUMER_GL: return present_gl_create(cfg, out);
  }
  return tool_fail(-EINVAL, "unknown consumer %d", (int)cfg->api);
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
const char *presenter_path_name(const presenter *p) { return p->path_name ? p->path_name : "?"; }
bool presenter_has_timelines(const presenter *p) { return p->timelines; }

int presenter_draw(presenter *p, uint64_t k, uint8_t *rgba) { return p->ops->draw(p, k, rgba); }
int presenter_finish(presenter *p) { return p->ops->finish(p); }
