/* Maps the fds handed out by AsyncRT_Create_timeline_semaphore_fd back to
 * their timeline, for AsyncRT_Signal_timeline_semaphore_fd (which gets only an
 * fd). For each returned fd the library keeps a private dup. An fd matches an
 * entry if it refers to the same open file description as that dup: kcmp(2)
 * says so exactly. Without kcmp (ENOSYS, EPERM) the fd number must equal the
 * one returned and fstat must show the same device and inode. A closed fd
 * fails fstat (EBADF); anything else is -EINVAL. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

typedef struct {
  int fd;          /* number returned to the caller */
  int keep;        /* private dup, same open file description */
  dev_t dev;
  ino_t ino;
  ifd_timeline *tl;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;
static size_t count, capacity;

int ifd_semfd_register(int fd, ifd_timeline *tl) {
  struct stat st;
  if (fstat(fd, &st) != 0) return ifd_fail(-errno, "fstat of semaphore fd %d: %s", fd, strerror(errno));
  int keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (keep < 0) return ifd_fail(-errno, "cannot duplicate semaphore fd %d: %s", fd, strerror(errno));
  pthread_mutex_lock(&lock);
  if (count == capacity) {
    size_t n = capacity ? capacity * 2 : 16;
    entry *grown = realloc(entries, n * sizeof(*grown));
    if (!grown) {
      pthread_mutex_unlock(&lock);
      close(keep);
      return ifd_fail(-ENOMEM, "out of host memory for the semaphore fd table");
    }
    entries = grown;
    capacity = n;
  }
  entries[count++] = (entry){fd, keep, st.st_dev, st.st_ino, tl};
  pthread_mutex_unlock(&lock);
  return 0;
}

void ifd_semfd_forget(const ifd_timeline *tl) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count;) {
    if (entries[i].tl == tl) {
      close(entries[i].keep);
      entries[i] = entries[--count];
    } else {
      i++;
    }
  }
  if (count == 0) {
    free(entries);
    entries = NULL;
    capacity = 0;
  }
  pthread_mutex_unlock(&lock);
}

/* 1 same file, 0 different, -1 kcmp unavailable */
static int same_file(int a, int b) {
  pid_t pid = getpid();
  long r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, (unsigned long)a, (unsigned long)b);
  if (r == 0) return 1;
  if (r > 0) return 0;
  return (errno == ENOSYS || errno == EPERM || errno == EACCES) ? -1 : 0;
}

int ifd_semfd_lookup(int fd, ifd_timeline **out) {
  struct stat st;
  if (fd < 0) return ifd_fail(-EBADF, "semaphore fd %d is not an fd", fd);
  if (fstat(fd, &st) != 0) {
    int err = errno;
    return ifd_fail(-err, "semaphore fd %d: %s%s", fd, strerror(err),
                    err == EBADF ? " (closed? importers such as vkImportSemaphoreFdKHR close the "
                                   "fd they import: give them a dup())"
                                 : "");
  }
  int result = -EINVAL;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count; i++) {
    const entry *e = &entries[i];
    if (e->dev != st.st_dev || e->ino != st.st_ino) continue;
    int same = same_file(fd, e->keep);
    if (same == 1 || (same < 0 && fd == e->fd)) {
      *out = e->tl;
      result = 0;
      break;
    }
  }
  pthread_mutex_unlock(&lock);
  if (result != 0)
    ifd_fail(-EINVAL, "fd %d is not a timeline semaphore fd made by "
                      "AsyncRT_Create_timeline_semaphore_fd (or its semaphore's context was "
                      "destroyed)", fd);
  return result;
}
