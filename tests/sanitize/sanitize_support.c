/* Linked into every test program and into the interop-fd tool in the
 * sanitizer build (IFD_SANITIZE=ON) only; never into the library.
 *
 * Two things make LeakSanitizer's verdict the same on every CPU:
 *  - __lsan_default_suppressions returns tests/sanitize/lsan.supp (embedded at
 *    build time), so the driver suppressions apply without any environment
 *    variable;
 *  - dlclose is interposed (the executable exports it): a handle to a module
 *    that lsan.supp names is made RTLD_NODELETE before the real dlclose runs.
 *    The Vulkan loader unloads lavapipe in vkDestroyInstance, and eglTerminate
 *    unloads llvmpipe; a leak made inside them would otherwise be reported at
 *    exit from an `<unknown module>`, which no suppression can match, and how
 *    much they leak depends on the code LLVM generated for this CPU.
 * Every call still goes to the next dlclose (AddressSanitizer's interceptor,
 * then glibc's), so reference counts and the sanitizer's bookkeeping stay
 * exact; a pinned module is simply never unmapped. */
#include <dlfcn.h>
#include <fnmatch.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The text of tests/sanitize/lsan.supp, NUL-terminated (cmake/embed_file.cmake). */
extern const char ifd_lsan_supp[];

/* Default visibility: the build hides symbols, and these must be exported. */
#define IFD_EXPORTED __attribute__((visibility("default")))

IFD_EXPORTED const char *__lsan_default_suppressions(void);
IFD_EXPORTED int dlclose(void *handle);

const char *__lsan_default_suppressions(void) { return ifd_lsan_supp; }

/* Whether `path` contains the pattern of one `leak:` line of lsan.supp, the
 * way LeakSanitizer matches a module name (a substring; `*` matches any text). */
static bool is_driver_module(const char *path) {
  static const char prefix[] = "leak:";
  for (const char *line = ifd_lsan_supp; *line;) {
    size_t len = strcspn(line, "\n");
    if (len > sizeof(prefix) - 1 && len < 200 && strncmp(line, prefix, sizeof(prefix) - 1) == 0) {
      char glob[208];
      size_t n = len - (sizeof(prefix) - 1);
      glob[0] = '*';
      memcpy(glob + 1, line + sizeof(prefix) - 1, n);
      glob[n + 1] = '*';
      glob[n + 2] = '\0';
      if (fnmatch(glob, path, 0) == 0) return true;
    }
    line += len;
    if (*line == '\n') line++;
  }
  return false;
}

int dlclose(void *handle) {
  int (*next)(void *) = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
  if (!next) return -1;
  struct link_map *map = NULL;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name &&
      map->l_name[0] && is_driver_module(map->l_name)) {
    /* RTLD_NOLOAD returns the loaded module with one more reference and
     * RTLD_NODELETE set: it now stays mapped until the process exits. */
    void *pin = dlopen(map->l_name, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    if (pin) next(pin);
  }
  return next(handle);
}
