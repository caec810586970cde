/* interop-fd demo --serve: the demo's producer without a consumer of its own;
 * its ring is served on a Unix socket (interop_fd/share.h) for a viewer in
 * another process (interop-fd view). */
#ifndef IFD_TOOLS_DEMO_SERVE_H
#define IFD_TOOLS_DEMO_SERVE_H

#include "options.h"
#include "pipeline/pipeline.h"

/* Makes the producer and its ring on ctx as cfg says (its consumer fields
 * unused), serves the ring on o->serve_path and produces frames until
 * o->frames (if given) or SIGINT/SIGTERM, printing the socket path and a
 * progress line (frames, frames/s, whether a viewer is attached). It never
 * waits for a viewer: without one the server releases every frame. A FIFO
 * viewer that holds frames only slows it down (begin_frame is retried).
 * Takes down the server, then the ring and producer; ctx stays the caller's.
 * Returns 0 or a negative errno (message in tool_last_error()). */
int demo_serve(const tool_options *o, ifd_context *ctx, pipeline_config *cfg);

#endif
