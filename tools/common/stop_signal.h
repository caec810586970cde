/* SIGINT and SIGTERM as a request to stop: the long-running commands across
 * processes (demo --serve, view) end their loop, take down what they made in
 * order (server, ring, context; presenter, link) and exit normally, so a
 * socket file or a viewer's frames are never left half done by Ctrl-C. */
#ifndef IFD_TOOLS_STOP_SIGNAL_H
#define IFD_TOOLS_STOP_SIGNAL_H

#include <stdbool.h>

/* Installs the handlers (without SA_RESTART, so a blocking call returns
 * early with EINTR); a second signal of either kind ends the process at once,
 * for a loop that does not get round to looking. */
void stop_signal_install(void);

/* True once SIGINT or SIGTERM arrived. */
bool stop_signal_received(void);

#endif
