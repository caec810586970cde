/* The folder a command writes into (--out). */
#ifndef IFD_TOOLS_OUT_DIR_H
#define IFD_TOOLS_OUT_DIR_H

/* Creates dir (and its parents) and checks it is a writable folder.
 * Errors (message in tool_last_error()): -ENAMETOOLONG, -ENOTDIR, -EACCES,
 * or mkdir's -errno. */
int tool_out_dir(const char *dir);

#endif
