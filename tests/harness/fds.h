/* Open-fd accounting: every test checks that it leaves no fd behind. Counts
 * for the simple case, snapshots (fd, file, what it points at) where a driver
 * may close an fd of its own between two counts or where a failed count must
 * name what leaked. */
#ifndef IFD_TEST_FDS_H
#define IFD_TEST_FDS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Number of open fds of this process. */
static inline int test_count_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)))
    if (e->d_name[0] != '.') n++;
  closedir(dir);
  return n - 1; /* the directory's own fd */
}

/* Lists the open fds and what each is, for a failed fd count. */
static inline void test_print_fds(const char *label) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    char path[64], target[256];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = 0;
    fprintf(stderr, "%s: fd %s -> %s\n", label, e->d_name, target);
  }
  closedir(dir);
}

/* The open fds of this process, each by number, by the file it refers to and
 * by what /proc says it points at. Large: keep one static or on the heap. */
#define TEST_MAX_FDS 1024
typedef struct {
  int n;
  struct {
    int fd;
    dev_t dev;
    ino_t ino;
    char target[160];
  } open[TEST_MAX_FDS];
} test_fd_set;

static inline void test_fd_snapshot(test_fd_set *s) {
  s->n = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return;
  struct dirent *e;
  struct stat st;
  while ((e = readdir(dir)) && s->n < TEST_MAX_FDS) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == dirfd(dir) || fstat(fd, &st) != 0) continue;
    s->open[s->n].fd = fd;
    s->open[s->n].dev = st.st_dev;
    s->open[s->n].ino = st.st_ino;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t len = readlink(path, s->open[s->n].target, sizeof(s->open[0].target) - 1);
    s->open[s->n].target[len > 0 ? len : 0] = '\0';
    s->n++;
  }
  closedir(dir);
}

/* Whether fd i of `a` is open in `b` as the same file. */
static inline bool test_fd_set_has(const test_fd_set *b, const test_fd_set *a, int i) {
  for (int j = 0; j < b->n; j++)
    if (b->open[j].fd == a->open[i].fd && b->open[j].dev == a->open[i].dev &&
        b->open[j].ino == a->open[i].ino)
      return true;
  return false;
}

/* How many fds are open now that were not open (as the same file) in
 * `before`; each is listed on stderr under `label`. With `also_gone`, fds of
 * `before` that are closed now (someone closed an fd it did not own) are
 * listed and counted too. New fds whose target starts with `tolerated` (a
 * driver's device nodes, "/dev/nvidia"; NULL for none) are listed, not
 * counted. */
static inline int test_fds_changed_since(const test_fd_set *before, const char *label,
                                         bool also_gone, const char *tolerated) {
  test_fd_set *now = (test_fd_set *)malloc(sizeof(*now));
  if (!now) return -1;
  test_fd_snapshot(now);
  int changed = 0;
  for (int i = 0; i < now->n; i++) {
    if (test_fd_set_has(before, now, i)) continue;
    bool ok = tolerated && strncmp(now->open[i].target, tolerated, strlen(tolerated)) == 0;
    fprintf(stderr, "%s: new fd %d -> %s%s\n", label, now->open[i].fd, now->open[i].target,
            ok ? " (driver node, tolerated here)" : "");
    changed += !ok;
  }
  for (int i = 0; also_gone && i < before->n; i++) {
    if (test_fd_set_has(now, before, i)) continue;
    fprintf(stderr, "%s: fd %d -> %s was open before and is gone\n", label, before->open[i].fd,
            before->open[i].target);
    changed++;
  }
  free(now);
  return changed;
}

static inline int test_fds_new_since(const test_fd_set *before, const char *label) {
  return test_fds_changed_since(before, label, false, NULL);
}

#endif
