#include "pipeline/pipeline.h"

#include <errno.h>
#include <string.h>

#include "common/tool_error.h"
#include "common/vk_kit.h"

#define BEGIN_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

const char *backend_name(ifd_backend b) {
  return b == IFD_BACKEND_CUDA ? "cuda" : b == IFD_BACKEND_VULKAN ? "vulkan" : "auto";
}

const char *consumer_name(consumer_api c) { return c == CONSUMER_GL ? "gl" : "vk"; }

bool device_is_cpu(const ifd_context_native *n) {
  if (!n->vk_physical_device || n->backend != IFD_BACKEND_VULKAN) return false;
  if (vk_kit_load() != 0) return false; /* the context has a device: the loader is there */
  vk_kit_load_instance((VkInstance)n->vk_instance);
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties((VkPhysicalDevice)n->vk_physical_device, &props);
  return props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

int pipeline_create(pipeline *pl, ifd_context *ctx, const pipeline_config *cfg) {
  memset(pl, 0, sizeof(*pl));
  pl->ctx = ctx;
  pl->width = cfg->width;
  pl->height = cfg->height;
  pl->format = cfg->format;
  int rc = ifd_context_native_handles(ctx, &pl->native);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  cppn_params_init(&pl->params, 1);
  if ((rc = producer_create(ctx, &pl->params, &pl->prod)) != 0) goto fail;
  rc = ifd_ring_create_mode(ctx, cfg->ring, cfg->width, cfg->height, cfg->format, cfg->mode,
                            &pl->ring);
  if (rc != 0) {
    tool_fail(rc, "%s", ifd_last_error());
    goto fail;
  }
  pl->timelines = ifd_ring_ready(pl->ring) != NULL;
  pl->pitch = ifd_image_row_pitch(ifd_ring_image(pl->ring, 0));
  pl->begin_timeout_ns = cfg->begin_timeout_ns ? cfg->begin_timeout_ns : BEGIN_TIMEOUT_NS;
  if (cfg->no_presenter) return 0;
  present_config pc = {.api = cfg->consumer,
                       .win = cfg->win,
                       .vsync = cfg->vsync,
                       .priority = cfg->priority,
                       .importer_gipa = cfg->importer_gipa,
                       .importer_get_proc = cfg->importer_get_proc};
  memcpy(pc.device_uuid, pl->native.device_uuid, 16);
  if ((rc = presenter_create(&pc, &pl->pres)) != 0) goto fail;
  ifd_ring_desc desc;
  if ((rc = ifd_ring_export(pl->ring, &desc)) != 0) {
    tool_fail(rc, "%s", ifd_last_error());
    goto fail;
  }
  if ((rc = presenter_import(pl->pres, &desc)) != 0) {
    ifd_ring_desc_close(&desc); /* a failed import consumed nothing */
    goto fail;
  }
  return 0;
fail:
  pipeline_destroy(pl);
  return rc;
}

void pipeline_destroy(pipeline *pl) {
  /* Each destroy waits for its own work; the consumer goes first, so the
   * ring's images are no longer read when they are freed. */
  presenter_destroy(pl->pres);
  ifd_ring_destroy(pl->ring);
  producer_destroy(pl->prod);
  pl->pres = NULL;
  pl->ring = NULL;
  pl->prod = NULL;
}

int pipeline_produce(pipeline *pl, cppn_frame_args *args, uint64_t *out_k) {
  uint64_t k = 0;
  ifd_image *img = NULL;
  int rc = ifd_ring_begin_frame(pl->ring, pl->begin_timeout_ns, &k, &img);
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  args->width = pl->width;
  args->height = pl->height;
  args->row_pitch = pl->pitch;
  args->format = (uint32_t)pl->format;
  if ((rc = producer_draw(pl->prod, img, args)) != 0) return rc;
  if ((rc = ifd_ring_end_frame(pl->ring, k)) != 0) return tool_fail(rc, "%s", ifd_last_error());
  *out_k = k;
  return 0;
}

int pipeline_draw(pipeline *pl, uint64_t k, uint8_t *rgba) {
  /* Without timelines the draw has finished on return: hand the frame back. */
  int rc = presenter_draw(pl->pres, k, rgba);
  if (rc == 0 && !pl->timelines && (rc = ifd_ring_release_frame(pl->ring, k)) != 0)
    return tool_fail(rc, "%s", ifd_last_error());
  return rc;
}

int pipeline_step(pipeline *pl, cppn_frame_args *args, uint8_t *rgba, uint64_t *out_k) {
  uint64_t k = 0;
  int rc = pipeline_produce(pl, args, &k);
  if (rc == 0) rc = pipeline_draw(pl, k, rgba);
  if (rc == 0 && out_k) *out_k = k;
  return rc;
}

int pipeline_take(pipeline *pl, uint64_t timeout_ns, uint64_t *out_k) {
  return presenter_take(pl->pres, timeout_ns, out_k);
}

int pipeline_finish(pipeline *pl) {
  int rc = pl->pres ? presenter_finish(pl->pres) : 0;
  int rc2 = producer_finish(pl->prod);
  return rc != 0 ? rc : rc2;
}
