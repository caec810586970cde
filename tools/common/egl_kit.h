/* Headless OpenGL through EGL for the tools and tests: a surfaceless desktop
 * GL 4.5 core context on an EGL device (EGL_EXT_device_enumeration and
 * EGL_PLATFORM_DEVICE_EXT, the only platform on a GPU server with no display),
 * or on Mesa's surfaceless platform (the CPU machines), optionally checked to
 * run on a given device UUID.
 *
 * libEGL.so.1 is opened with dlopen at run time and reached through its own
 * entry points (libepoxy aborts where libEGL is missing, so it is not used
 * here), so a machine without EGL gets a message, never an abort. Callers may
 * still use libepoxy for GL once a context is current: it finds the same
 * loaded libEGL. No EGL header is needed to use this one (handles are void *).
 *
 * Every fallible function returns 0 or a negative errno and sets the message
 * of common/tool_error.h. Threads: one thread at a time (the device list is
 * shared); a context is current on the thread that opened it. */
#ifndef IFD_TOOLS_EGL_KIT_H
#define IFD_TOOLS_EGL_KIT_H

#include <stdbool.h>
#include <stdint.h>

#define EGL_KIT_SURFACELESS (-1) /* egl_kit_context.device: Mesa's surfaceless platform */
#define EGL_KIT_MAX_DEVICES 16
#define EGL_KIT_MAX_GL_UUIDS 4

typedef struct {
  void *dpy;   /* EGLDisplay; NULL when closed */
  void *ctx;   /* EGLContext */
  int device;  /* the EGL device index it runs on, or EGL_KIT_SURFACELESS */
} egl_kit_context;

/* Opens libEGL.so.1 once per process (it stays loaded). Later calls return
 * the first one's result. Errors: -ENOENT no libEGL.so.1; -ENODEV it lacks
 * an EGL 1.2 entry point. */
int egl_kit_load(void);

/* EGL's client extensions (EGL_NO_DISPLAY), or NULL where EGL has none (no
 * vendor library). Needs egl_kit_load. */
const char *egl_kit_client_extensions(void);

/* Whole-token search in a space-separated extension list (NULL: none). */
bool egl_kit_has_token(const char *list, const char *name);

/* Enumerates the EGL devices (at most EGL_KIT_MAX_DEVICES) and returns how
 * many there are; 0 where EGL cannot enumerate them (no
 * EGL_EXT_device_enumeration). Device indices below refer to this list. */
int egl_kit_device_count(void);
/* eglQueryDeviceStringEXT, or NULL (no such string, or no such device). */
const char *egl_kit_device_string(int device, int name);
/* eglQueryDeviceAttribEXT: true and *value if the device has it. */
bool egl_kit_device_attrib(int device, int attribute, intptr_t *value);
/* EGL_DEVICE_UUID_EXT (EGL_EXT_device_persistent_id): true and uuid if known. */
bool egl_kit_device_uuid(int device, uint8_t uuid[16]);

/* Makes a surfaceless GL 4.5 core context current on one display: EGL device
 * `device` (EGL_PLATFORM_DEVICE_EXT) or EGL_KIT_SURFACELESS. On failure *c is
 * closed. Errors: -ENODEV, with what was missing (the display, eglInitialize,
 * EGL_KHR_surfaceless_context, a config, the context). */
int egl_kit_open_display(egl_kit_context *c, int device);

/* The device platform first, each device in turn, then Mesa's surfaceless
 * platform; with uuid != NULL, only a context whose GL device is uuid (or
 * whose GL cannot say: no GL_EXT_memory_object) is kept. On failure *c is
 * closed. Errors: -ENODEV no display gave a context; -EXDEV GL runs on
 * another device (the message names the platform of the last one tried). */
int egl_kit_open(egl_kit_context *c, const uint8_t uuid[16]);

/* Releases the context, terminates its display and releases the calling
 * thread's EGL state (eglReleaseThread). A closed (zeroed) context is a no-op. */
void egl_kit_close(egl_kit_context *c);

/* eglReleaseThread: drops EGL's per-thread state (call when done with EGL). */
void egl_kit_release_thread(void);

/* eglGetProcAddress, for GL entry points of the current context. */
void (*egl_kit_proc(const char *name))(void);

/* The current GL context's GL_DEVICE_UUID_EXT values (GL_EXT_memory_object),
 * at most max; returns how many, 0 where GL cannot say. */
int egl_kit_gl_uuids(uint8_t uuids[][16], int max);

/* True if the current GL context runs on uuid, or GL cannot say. */
bool egl_kit_gl_on_device(const uint8_t uuid[16]);

#endif
