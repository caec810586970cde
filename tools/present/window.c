#include "present/window.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h> /* constants and types only: the functions are loaded below */

#include "common/tool_error.h"

/* X(return type, name, parameters) for every GLFW function the tool calls. */
#define GLFW_FUNCTIONS(X)                                                              \
  X(int, glfwInit, (void))                                                              \
  X(void, glfwTerminate, (void))                                                        \
  X(int, glfwGetError, (const char **))                                                 \
  X(void, glfwWindowHint, (int, int))                                                   \
  X(GLFWwindow *, glfwCreateWindow, (int, int, const char *, GLFWmonitor *, GLFWwindow *)) \
  X(void, glfwDestroyWindow, (GLFWwindow *))                                            \
  X(int, glfwWindowShouldClose, (GLFWwindow *))                                         \
  X(void, glfwPollEvents, (void))                                                       \
  X(int, glfwGetKey, (GLFWwindow *, int))                                               \
  X(void, glfwSetWindowTitle, (GLFWwindow *, const char *))                             \
  X(void, glfwGetFramebufferSize, (GLFWwindow *, int *, int *))                         \
  X(void, glfwMakeContextCurrent, (GLFWwindow *))                                       \
  X(void, glfwSwapBuffers, (GLFWwindow *))                                              \
  X(void, glfwSwapInterval, (int))                                                      \
  X(GLFWglproc, glfwGetProcAddress, (const char *))                                     \
  X(int, glfwVulkanSupported, (void))                                                   \
  X(const char **, glfwGetRequiredInstanceExtensions, (uint32_t *))                     \
  X(VkResult, glfwCreateWindowSurface,                                                  \
    (VkInstance, GLFWwindow *, const VkAllocationCallbacks *, VkSurfaceKHR *))

typedef struct {
#define MEMBER(ret, name, params) ret(*name) params;
  GLFW_FUNCTIONS(MEMBER)
#undef MEMBER
} glfw_api;

struct window {
  void *lib;
  glfw_api f;
  GLFWwindow *handle;
  bool gl;
};

/* glfwGetProcAddress needs no window, but the importer's callback has no
 * user pointer: the one open GL window's loader is kept here. */
static GLFWglproc (*current_get_proc)(const char *);

bool window_display_present(void) {
  const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
  return (x && *x) || (wl && *wl);
}

static const char *glfw_message(window *win) {
  const char *msg = NULL;
  win->f.glfwGetError(&msg);
  return msg ? msg : "no reason given";
}

int window_open(const char *title, int w, int h, bool gl, window **out) {
  *out = NULL;
  if (!window_display_present()) return tool_fail(-ENODEV, "no display (DISPLAY is not set)");
  window *win = calloc(1, sizeof(*win));
  if (!win) return tool_fail(-ENOMEM, "out of memory");
  win->gl = gl;
  win->lib = dlopen("libglfw.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!win->lib) {
    free(win);
    return tool_fail(-ENODEV, "libglfw.so.3 not found (Debian package libglfw3): %s", dlerror());
  }
#define LOAD(ret, name, params)                                                                \
  if (!(*(void **)&win->f.name = dlsym(win->lib, #name))) {                               \
    free(win); /* not dlclose()d: see window_close */                                     \
    return tool_fail(-ENODEV, "libglfw.so.3 lacks %s (GLFW 3.3 or newer needed)", #name); \
  }
  GLFW_FUNCTIONS(LOAD)
#undef LOAD
  if (!win->f.glfwInit()) {
    int rc = tool_fail(-ENODEV, "GLFW cannot start: %s", glfw_message(win));
    win->f.glfwTerminate();
    free(win); /* libglfw stays loaded, as in window_close */
    return rc;
  }
  if (gl) {
    win->f.glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_API);
    win->f.glfwWindowHint(GLFW_CONTEXT_CREATION_API, GLFW_EGL_CONTEXT_API);
    win->f.glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 4);
    win->f.glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 5);
    win->f.glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  } else {
    if (!win->f.glfwVulkanSupported()) {
      int rc = tool_fail(-ENODEV, "GLFW finds no Vulkan loader with surface support");
      window_close(win);
      return rc;
    }
    win->f.glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
  }
  win->handle = win->f.glfwCreateWindow(w, h, title, NULL, NULL);
  if (!win->handle) {
    int rc = tool_fail(-ENODEV, "no window: %s", glfw_message(win));
    window_close(win);
    return rc;
  }
  if (gl) {
    win->f.glfwMakeContextCurrent(win->handle);
    current_get_proc = win->f.glfwGetProcAddress;
  }
  *out = win;
  return 0;
}

void window_close(window *win) {
  if (!win) return;
  if (win->handle) {
    if (win->gl) {
      win->f.glfwMakeContextCurrent(NULL);
      current_get_proc = NULL;
    }
    win->f.glfwDestroyWindow(win->handle);
  }
  win->f.glfwTerminate();
  /* libglfw stays loaded: drivers it pulled in may still have exit handlers. */
  free(win);
}

bool window_should_close(window *win) {
  return win->f.glfwWindowShouldClose(win->handle) ||
         win->f.glfwGetKey(win->handle, GLFW_KEY_ESCAPE) == GLFW_PRESS;
}

void window_poll(window *win) { win->f.glfwPollEvents(); }

void window_set_title(window *win, const char *title) {
  win->f.glfwSetWindowTitle(win->handle, title);
}

void window_framebuffer_size(window *win, uint32_t *w, uint32_t *h) {
  int iw = 0, ih = 0;
  win->f.glfwGetFramebufferSize(win->handle, &iw, &ih);
  *w = iw > 0 ? (uint32_t)iw : 0;
  *h = ih > 0 ? (uint32_t)ih : 0;
}

void window_swap(window *win) { win->f.glfwSwapBuffers(win->handle); }

void window_swap_interval(window *win, int interval) { win->f.glfwSwapInterval(interval); }

static ifd_gl_proc get_proc(const char *name) {
  return current_get_proc ? (ifd_gl_proc)current_get_proc(name) : NULL;
}

ifd_gl_get_proc_address window_gl_get_proc(window *win) {
  return win && win->gl ? get_proc : NULL;
}

const char **window_vk_instance_extensions(window *win, uint32_t *count) {
  return win->f.glfwGetRequiredInstanceExtensions(count);
}

int window_vk_surface(window *win, VkInstance instance, VkSurfaceKHR *out) {
  VkResult r = win->f.glfwCreateWindowSurface(instance, win->handle, NULL, out);
  if (r != VK_SUCCESS)
    return tool_fail(-ENODEV, "glfwCreateWindowSurface failed (VkResult %d): %s", (int)r,
                     glfw_message(win));
  return 0;
}
