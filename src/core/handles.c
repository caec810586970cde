/* The set of live handles. Every public entry point checks its handle here
 * before touching it, so a destroyed handle is refused instead of read. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
  const void *p;
  ifd_handle_kind kind;
  const char *gone; /* NULL while live; else why it went (ifd_handle_orphan) */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;
static size_t count, capacity;

/* Removes entry i; releases the table once empty. Called with lock held. */
static void remove_at(size_t i) {
  entries[i] = entries[--count];
  if (count == 0) { /* release the table so leak checkers see nothing */
    free(entries);
    entries = NULL;
    capacity = 0;
  }
}

int ifd_handle_add(const void *p, ifd_handle_kind kind) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count; i++) { /* the address of an orphan, reused */
    if (entries[i].p == p && entries[i].gone) {
      remove_at(i);
      break;
    }
  }
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
  entries[count++] = (entry){p, kind, NULL};
  pthread_mutex_unlock(&lock);
  return 0;
}

void ifd_handle_remove(const void *p) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count; i++) {
    if (entries[i].p == p && !entries[i].gone) {
      remove_at(i);
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}

void ifd_handle_orphan(const void *p, const char *why) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count; i++) {
    if (entries[i].p == p && !entries[i].gone) {
      entries[i].gone = why;
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}

bool ifd_handle_drop_orphan(const void *p, ifd_handle_kind kind) {
  bool dropped = false;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count && !dropped; i++) {
    if (entries[i].p == p && entries[i].kind == kind && entries[i].gone) {
      remove_at(i);
      dropped = true;
    }
  }
  pthread_mutex_unlock(&lock);
  return dropped;
}

/* The entry of p of this kind: 1 live, 0 none, -1 orphaned (*why set). */
static int lookup(const void *p, ifd_handle_kind kind, const char **why) {
  int state = 0;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < count && state == 0; i++) {
    if (entries[i].p == p && entries[i].kind == kind) {
      state = entries[i].gone ? -1 : 1;
      if (why) *why = entries[i].gone;
    }
  }
  pthread_mutex_unlock(&lock);
  return state;
}

bool ifd_handle_live(const void *p, ifd_handle_kind kind) { return lookup(p, kind, NULL) == 1; }

int ifd_check_handle(const void *p, ifd_handle_kind kind, const char *what, const char *fn) {
  if (!p) return ifd_fail(-EINVAL, "%s: %s is NULL", fn, what);
  const char *why = NULL;
  int state = lookup(p, kind, &why);
  if (state < 0)
    return ifd_fail(-EINVAL, "%s: %s %p is gone: %s; only its destroy call is valid now", fn,
                    what, p, why);
  if (state == 0)
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

bool ifd_handle_destroy_ok(const void *p, ifd_handle_kind kind, const char *what, const char *fn) {
  return p && !ifd_handle_drop_orphan(p, kind) && ifd_check_handle(p, kind, what, fn) == 0;
}
