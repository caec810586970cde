/* The set of live handles. Every public entry point checks its handle here
 * before touching it, so a destroyed handle is refused instead of read. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
  const void *p;
  ifd_handle_kind kind;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;
static size_t count, capacity;

int ifd_handle_add(const void *p, ifd_handle_kind kind) {
  pthread_mutex_lock(&lock);
  if (count == capacity) {
    size_t n = capacity ? capacity * 2 : 64;
    entry *grown = realloc(entries, n * sizeof(*grown));
    if (!grown) {
      pthread_mutex_unlock(&lock);
      return ifd_fail(-ENOMEM, "out of host memory for the handle table");
    }
    entries = grown;
    capacity = n;
  }
  entries[count++] = (entry){p, kind};
  pthread_mutex_unlock(&lock);
  return 0;
}

void ifd_handle_remove(const void *p) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count; i++) {
    if (entries[i].p == p) {
      entries[i] = entries[--count];
      break;
    }
  }
  if (count == 0) { /* release the table so leak checkers see nothing */
    free(entries);
    entries = NULL;
    capacity = 0;
  }
  pthread_mutex_unlock(&lock);
}

bool ifd_handle_live(const void *p, ifd_handle_kind kind) {
  bool live = false;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count && !live; i++) live = entries[i].p == p && entries[i].kind == kind;
  pthread_mutex_unlock(&lock);
  return live;
}

int ifd_check_handle(const void *p, ifd_handle_kind kind, const char *what, const char *fn) {
  if (!p) return ifd_fail(-EINVAL, "%s: %s is NULL", fn, what);
  if (!ifd_handle_live(p, kind))
    return ifd_fail(-EINVAL, "%s: %s %p is not a live handle (destroyed, or never created)", fn,
                    what, p);
  return 0;
}

int ifd_check_context(const ifd_context *ctx, const char *fn) {
  return ifd_check_handle(ctx, IFD_HANDLE_CONTEXT, "context", fn);
}
int ifd_check_image(const ifd_image *image, const char *fn) {
  return ifd_check_handle(image, IFD_HANDLE_IMAGE, "image", fn);
}
int ifd_check_timeline(const ifd_timeline *tl, const char *fn) {
  return ifd_check_handle(tl, IFD_HANDLE_TIMELINE, "timeline", fn);
}
