#ifndef IFD_TOOLS_DEMO_H
#define IFD_TOOLS_DEMO_H

#include "options.h"

/* Runs `interop-fd demo`. Returns 0 or a negative errno (message in tool_last_error()). */
int demo_run_main(const tool_options *o);

#endif
