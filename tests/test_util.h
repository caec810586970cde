/* The test harness: checks (harness/check.h), time and the watchdog
 * (harness/clock.h), open-fd accounting (harness/fds.h), a run on one
 * context (harness/context.h) and reference patterns (harness/pattern.h). Every test includes this one header. */
#ifndef IFD_TEST_UTIL_H
#define IFD_TEST_UTIL_H

#include "harness/check.h"
#include "harness/clock.h"
#include "harness/context.h"
#include "harness/fds.h"
#include "harness/pattern.h"

#endif
