/* The demo's window: GLFW, loaded at run time (libglfw.so.3), so the tool
 * starts on machines without GLFW or X11 libraries and runs headless there. */
#ifndef IFD_TOOLS_WINDOW_H
#define IFD_TOOLS_WINDOW_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "interop_fd/gl.h"

typedef struct window window;

/* True when a display is announced (DISPLAY or WAYLAND_DISPLAY is set). */
bool window_display_present(void);

/* Opens a w x h window. gl: with a current desktop GL 4.5 core context made
 * through EGL (so interop_fd's GL importer and libepoxy find it); otherwise
 * with no client API, for a Vulkan surface.
 * Errors: -ENODEV no libglfw.so.3, no display, or no context (message says). */
int window_open(const char *title, int w, int h, bool gl, window **out);
void window_close(window *win); /* NULL ok */

bool window_should_close(window *win); /* closed, or Escape pressed */
void window_poll(window *win);
void window_set_title(window *win, const char *title);
void window_framebuffer_size(window *win, uint32_t *w, uint32_t *h);

/* GL windows. interval 0: no vsync. */
void window_swap(window *win);
void window_swap_interval(window *win, int interval);
ifd_gl_get_proc_address window_gl_get_proc(window *win);

/* Vulkan windows: the instance extensions a surface needs, and the surface. */
const char **window_vk_instance_extensions(window *win, uint32_t *count);
int window_vk_surface(window *win, VkInstance instance, VkSurfaceKHR *out);

#endif
