/* Error reporting inside the interop-fd tool: functions return 0 or a negative
 * errno and leave a message for the caller to print, like the library does. */
#ifndef IFD_TOOLS_TOOL_ERROR_H
#define IFD_TOOLS_TOOL_ERROR_H

/* Stores the message (printf-style) for this thread and returns err. */
int tool_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message stored on this thread ("" if none). */
const char *tool_last_error(void);

#endif
