#ifndef IFD_TOOLS_SELFTEST_H
#define IFD_TOOLS_SELFTEST_H

#include "options.h"

/* Runs `interop-fd selftest`: prints a pass/fail/skip table; returns 0 if
 * nothing failed, else 1. */
int selftest_main(const tool_options *o);

#endif
