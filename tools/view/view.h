/* interop-fd view: the other side of demo --serve. Connects to a producer's
 * socket (ifd_ring_connect), imports the ring it is sent into a presenter of
 * its own (tools/present) and draws its frames, in a window with the live
 * frame rate or headless as PNG files, until the producer ends, --frames are
 * drawn, or SIGINT/SIGTERM; with --wait it follows a producer that dies or
 * restarts by connecting again. */
#ifndef IFD_TOOLS_VIEW_H
#define IFD_TOOLS_VIEW_H

#include "options.h"

/* Runs `interop-fd view`; returns the process's exit status: 0 every frame
 * asked for was drawn (or, without --frames, the producer ended or the user
 * stopped the viewer), 1 an error or a producer that ended first (the
 * message is printed). */
int view_main(const tool_options *o);

#endif
