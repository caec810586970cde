#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int ifd_fd_hand_out(int fd, int *out_fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    return ifd_fail(-err, "cannot set FD_CLOEXEC on exported fd %d: %s", fd, strerror(err));
  }
  *out_fd = fd;
  return 0;
}

void ifd_fd_close(int *fd) {
  if (*fd >= 0) {
    /* Linux closes the fd even when close() reports EINTR: never retry. */
    close(*fd);
    *fd = -1;
  }
}

int ifd_fd_check_kind(int fd, const char *what, const char *kind, int err) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return ifd_fail(-EBADF, "%s %d is not an open fd", what, fd);
  const char *is = S_ISFIFO(st.st_mode)   ? "a pipe"
                   : S_ISSOCK(st.st_mode) ? "a socket"
                   : S_ISDIR(st.st_mode)  ? "a folder"
                   : S_ISBLK(st.st_mode)  ? "a block device"
                   : S_ISCHR(st.st_mode) && major(st.st_rdev) == 1
                       ? "a memory device (/dev/null, /dev/zero, ...)"
                       : NULL;
  if (is) return ifd_fail(err, "%s %d is %s, not %s", what, fd, is, kind);
  return 0;
}
