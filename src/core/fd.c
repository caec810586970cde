#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int ifd_fd_set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    return ifd_fail(-err, "cannot set FD_CLOEXEC on exported fd %d: %s", fd, strerror(err));
  }
  return 0;
}

void ifd_fd_close(int *fd) {
  if (*fd >= 0) {
    /* Linux closes the fd even when close() reports EINTR: never retry. */
    close(*fd);
    *fd = -1;
  }
}
