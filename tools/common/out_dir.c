#include "common/out_dir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tool_error.h"

int tool_out_dir(const char *dir) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
    return tool_fail(-ENAMETOOLONG, "--out: path too long");
  for (char *s = path + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
      return tool_fail(-errno, "--out: cannot create %s: %s", path, strerror(errno));
    *s = '/';
  }
  if (mkdir(path, 0777) != 0 && errno != EEXIST)
    return tool_fail(-errno, "--out: cannot create %s: %s", path, strerror(errno));
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return tool_fail(-ENOTDIR, "--out: %s is not a folder", path);
  if (access(path, W_OK | X_OK) != 0)
    return tool_fail(-EACCES, "--out: %s is not writable: %s", path, strerror(errno));
  return 0;
}
