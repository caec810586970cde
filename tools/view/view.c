/* interop-fd view: draws a ring served by another process (view.h).
 *
 * One connection at a time: connect (ifd_ring_connect), a presenter made for
 * the description's device, the ring imported into it, then frames:
 *   FIFO     every frame from ifd_ring_link_first_frame on, in order. The
 *            viewer waits on the link for "ready k" first (so no draw waits on
 *            the device for a frame a dead producer never ends). Without
 *            timelines it hands frame k back with ifd_ring_link_release once
 *            drawn; with them the presenter waits and signals on its device.
 *   MAILBOX  the newest frame (presenter_take); released through the link
 *            without timelines, on the device with them.
 * The link is polled every frame; -EPIPE ends the connection (the producer
 * ended or died). The presenter is finished and destroyed before the link
 * closes, since the server releases everything once the link is gone. */
#include "view/view.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/out_dir.h"
#include "common/png_write.h"
#include "common/progress.h"
#include "common/tool_error.h"
#include "interop_fd/share.h"
#include "present/present.h"
#include "common/stop_signal.h"

#define DEFAULT_OUT_DIR "interop-fd-view"
#define SLICE_NS (50ull * 1000 * 1000) /* one wait for a frame; then the link, window, signals */
#define LINK_LAG_NS (2000ull * 1000 * 1000) /* a taken frame's ready message, at most */
#define RETRY_NS (20ull * 1000 * 1000) /* a reset connection is tried again after */
#define RELEASE_TRIES 200              /* -EAGAIN: the socket is full; 1 ms apart */
#define NS_PER_S 1e9

typedef struct {
  ifd_ring_link *link;
  presenter *pres;
  bool timelines, mailbox;
  uint64_t next; /* FIFO: the next frame to draw */
} connection;

typedef struct {
  const tool_options *o;
  window *win;
  bool headless;
  char out_dir[PATH_MAX];
  uint8_t *rgba; /* headless: the read-back of one frame */
  size_t rgba_size;
  uint64_t want;  /* frames to draw over all connections; 0: until the producer ends */
  uint64_t drawn; /* over all connections */
  uint64_t last_k;
  uint32_t connections, saved;
  double start_s, conn_start_s, last_title_s;
  uint64_t conn_drawn;
  progress prog;
  char first_png[PATH_MAX], last_png[PATH_MAX];
} viewer;

static uint64_t seconds_ns(double s) { return (uint64_t)(s * NS_PER_S); }


static double conn_fps(const viewer *v) {
  double t = tool_now_s() - v->conn_start_s;
  return t > 0 ? (double)v->conn_drawn / t : 0.0;
}

static void show_progress(viewer *v, bool final) {
  double now = tool_now_s();
  if (v->win && (final || now - v->last_title_s >= 0.5)) {
    char title[PATH_MAX + 64];
    snprintf(title, sizeof(title), "interop-fd view - %s - frame %llu - %.0f frames/s",
             v->o->connect_path, (unsigned long long)v->last_k, conn_fps(v));
    window_set_title(v->win, title);
    v->last_title_s = now;
  }
  if (!final && !progress_due(&v->prog)) return;
  progress_print(&v->prog, "frame %llu  drawn %llu  %.0f frames/s  %.1f s",
                 (unsigned long long)v->last_k, (unsigned long long)v->drawn, conn_fps(v),
                 progress_elapsed(&v->prog));
  if (final) progress_end(&v->prog, true);
}

/* frame-<k>.png, written under a hidden name and renamed into place, so a
 * viewer stopped mid-write (kill -9) never leaves half a PNG file. */
static int save_frame(viewer *v, uint64_t k, uint32_t w, uint32_t h) {
  char path[PATH_MAX], tmp[PATH_MAX + 8];
  snprintf(path, sizeof(path), "%s/frame-%06llu.png", v->out_dir, (unsigned long long)k);
  snprintf(tmp, sizeof(tmp), "%s/.frame-%06llu.png", v->out_dir, (unsigned long long)k);
  int rc = png_write_rgba(tmp, v->rgba, w, h);
  if (rc != 0) return rc;
  if (rename(tmp, path) != 0) {
    rc = tool_fail(-errno, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    unlink(tmp);
    return rc;
  }
  if (v->saved++ == 0) snprintf(v->first_png, sizeof(v->first_png), "%s", path);
  snprintf(v->last_png, sizeof(v->last_png), "%s", path);
  return 0;
}

/* The window, at the first connection (its size is the ring's); where none
 * can be opened the viewer goes on headless, as the demo does. */
static int open_output(viewer *v, uint32_t w, uint32_t h) {
  if (!v->headless && !v->win) {
    int rc = window_open("interop-fd view", (int)w, (int)h, v->o->consumer == CONSUMER_GL, &v->win);
    if (rc != 0) {
      fprintf(stderr, "interop-fd view: no window (%s); running headless\n", tool_last_error());
      v->headless = true;
      if ((rc = tool_out_dir(DEFAULT_OUT_DIR)) != 0) return rc;
      if (!realpath(DEFAULT_OUT_DIR, v->out_dir))
        snprintf(v->out_dir, sizeof(v->out_dir), "%s", DEFAULT_OUT_DIR);
    }
  }
  size_t need = (size_t)w * h * 4;
  if (v->headless && need > v->rgba_size) {
    uint8_t *p = realloc(v->rgba, need);
    if (!p) return tool_fail(-ENOMEM, "out of memory");
    v->rgba = p;
    v->rgba_size = need;
  }
  return 0;
}

/* Finishes the presenter's draws, destroys it (and the imported ring), then
 * closes the link: only now may the server release the frames. */
static int disconnect(connection *c) {
  int rc = c->pres ? presenter_finish(c->pres) : 0;
  presenter_destroy(c->pres);
  ifd_ring_link_close(c->link);
  memset(c, 0, sizeof(*c));
  return rc;
}

static int connect_ring(viewer *v, connection *c, uint64_t timeout_ns) {
  memset(c, 0, sizeof(*c));
  ifd_ring_desc desc;
  /* A producer that dies between accepting and answering (kill -9 while the
   * viewer reconnects: its listening socket closes a moment after the
   * viewer's connection) resets the connection, -EPIPE: try again, within
   * the same timeout, as for a socket nobody accepts on yet. */
  uint64_t deadline = tool_now_ns() + timeout_ns;
  int rc;
  while ((rc = ifd_ring_connect(v->o->connect_path, timeout_ns, &desc, &c->link)) == -EPIPE &&
         timeout_ns && tool_now_ns() + RETRY_NS < deadline && !stop_signal_received()) {
    tool_sleep_ms(RETRY_NS / 1000000);
    timeout_ns = deadline - tool_now_ns();
  }
  if (rc != 0)
    return tool_fail(rc, "cannot connect to %s: %s", v->o->connect_path, ifd_last_error());
  const ifd_frame_desc *f = &desc.frames[0];
  c->timelines = ifd_ring_link_has_timelines(c->link) == 1;
  c->mailbox = desc.mode == IFD_RING_MAILBOX;
  c->next = ifd_ring_link_first_frame(c->link);
  present_config pc = {.api = v->o->consumer, .vsync = v->o->vsync};
  memcpy(pc.device_uuid, f->device_uuid, sizeof(pc.device_uuid));
  if ((rc = open_output(v, f->width, f->height)) == 0) {
    pc.win = v->win;
    rc = presenter_create(&pc, &c->pres);
  }
  if (rc == 0) rc = presenter_import(c->pres, &desc);
  if (rc != 0) {
    ifd_ring_desc_close(&desc); /* a failed import consumed nothing */
    disconnect(c);
    return rc;
  }
  ifd_format_info fi;
  ifd_format_query(f->format, &fi);
  v->connections++;
  v->conn_start_s = tool_now_s();
  v->conn_drawn = 0;
  printf("connected: %s (connection %u): %ux%u %s, %s ring of %u, sync %s; first frame %llu\n",
         v->o->connect_path, v->connections, f->width, f->height, fi.name,
         c->mailbox ? "MAILBOX" : "FIFO", desc.count,
         c->timelines ? "by timeline semaphores on the devices" : "by messages on the socket",
         (unsigned long long)c->next);
  printf("consumer:  %s on %s, %s path\n", v->o->consumer == CONSUMER_GL ? "gl" : "vk",
         presenter_device_name(c->pres), presenter_path_name(c->pres));
  fflush(stdout);
  return 0;
}

/* The next frame to draw: 0 with *k; -EAGAIN none yet (after a wait of up to
 * SLICE_NS); else an error. */
static int next_frame(connection *c, uint64_t *k) {
  int rc;
  if (c->mailbox) {
    rc = presenter_take(c->pres, SLICE_NS, k);
    if (rc != 0 || c->timelines) return rc == -ETIMEDOUT ? -EAGAIN : rc;
    /* The shared page shows a frame ended before its "ready k" message
     * reaches the link, which refuses to release a frame it has not seen
     * ended: wait for the message (already on its way). */
    rc = ifd_ring_link_wait_ready(c->link, *k, LINK_LAG_NS);
    return rc == 0 ? 0 : tool_fail(rc, "%s", ifd_last_error());
  }
  /* The producer's "ready k" (with timelines: ready = k is queued on its
   * device, which the draw then waits for): no draw is ever queued for a
   * frame a producer that died would never end. */
  rc = ifd_ring_link_wait_ready(c->link, c->next, SLICE_NS);
  if (rc == -ETIMEDOUT || rc == -EAGAIN) return -EAGAIN;
  if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
  *k = c->next;
  return 0;
}

/* Rings without timelines: frame k (and those before) back to the producer. */
static int release_frame(connection *c, uint64_t k) {
  int rc;
  for (int tries = 0; (rc = ifd_ring_link_release(c->link, k)) == -EAGAIN && tries < RELEASE_TRIES;
       tries++)
    tool_sleep_ms(1);
  return rc == 0 ? 0 : tool_fail(rc, "%s", ifd_last_error());
}

/* Draws frame k and, where hand_back and the ring has no timelines, releases
 * it through the link (the draw is done on return). */
static int draw_frame(viewer *v, connection *c, uint64_t k, bool hand_back) {
  int rc = presenter_draw(c->pres, k, v->headless ? v->rgba : NULL);
  if (rc == 0 && hand_back && !c->timelines) rc = release_frame(c, k);
  if (rc != 0) return rc;
  if (!c->mailbox) c->next = k + 1;
  v->drawn++;
  v->conn_drawn++;
  v->last_k = k;
  if (v->headless) {
    const presenter *p = c->pres;
    if ((rc = save_frame(v, k, p->width, p->height)) != 0) return rc;
  }
  show_progress(v, false);
  return 0;
}

static bool done(const viewer *v) { return stop_signal_received() || (v->want && v->drawn >= v->want); }

/* The producer is gone, but the frames it ended are in memory this viewer
 * imported: a FIFO viewer draws those it has not drawn yet (up to the last
 * the link was told of), a MAILBOX viewer the newest if it is still in the
 * box (the server may have taken it when the viewer's reads stopped
 * counting). With timelines only if the producer said it ended (a producer
 * that died may never signal a frame it ended, and a draw waiting for it
 * would wait on the device for ever). Nothing is released: the producer no
 * longer reads releases. */
static int drain(viewer *v, connection *c) {
  if (c->timelines && ifd_ring_link_ended_cleanly(c->link) != 1) return 0;
  uint64_t ended = ifd_ring_link_ended(c->link);
  while (!done(v)) {
    uint64_t k = c->next;
    if (c->mailbox ? presenter_take(c->pres, 0, &k) != 0 : k > ended) return 0;
    int rc = draw_frame(v, c, k, false);
    if (rc != 0) return rc;
  }
  return 0;
}

typedef enum { RUN_DONE, RUN_ENDED } run_end; /* asked-for frames drawn or stopped; producer ended */

/* Draws frames from one connection until the viewer is done (RUN_DONE) or the
 * producer ends (RUN_ENDED). Errors: the presenter's and the link's. */
static int run_connection(viewer *v, connection *c, run_end *end) {
  double idle_since = tool_now_s();
  for (;;) {
    if (done(v)) return *end = RUN_DONE, 0;
    if (v->win) {
      window_poll(v->win);
      if (window_should_close(v->win)) return *end = RUN_DONE, 0;
    }
    int rc = ifd_ring_link_poll(c->link);
    if (rc == -EPIPE) return *end = RUN_ENDED, drain(v, c);
    if (rc != 0) return tool_fail(rc, "%s", ifd_last_error());
    uint64_t k = 0;
    rc = next_frame(c, &k);
    if (rc == -EAGAIN) {
      if (tool_now_s() - idle_since > v->o->timeout_s)
        return tool_fail(-ETIMEDOUT, "no frame from the producer for %.1f s (--timeout)",
                         v->o->timeout_s);
      continue;
    }
    if (rc == 0) rc = draw_frame(v, c, k, true);
    /* A producer that died while a frame was on its way shows as -EPIPE
     * here (the link) or as a failed wait; the link says which. */
    if (rc != 0 && ifd_ring_link_poll(c->link) == -EPIPE) return *end = RUN_ENDED, drain(v, c);
    if (rc != 0) return rc;
    idle_since = tool_now_s();
  }
}

static int view_loop(viewer *v) {
  connection c;
  int rc = connect_ring(v, &c, seconds_ns(v->o->timeout_s));
  if (rc != 0) return rc;
  progress_begin(&v->prog);
  for (;;) {
    run_end end = RUN_DONE;
    rc = run_connection(v, &c, &end);
    char ended[64] = ""; /* without timelines the link knows the producer's last frame */
    if (!c.timelines)
      snprintf(ended, sizeof(ended), " after ending frame %llu",
               (unsigned long long)ifd_ring_link_ended(c.link));
    int rc2 = disconnect(&c);
    if (rc == 0) rc = rc2;
    if (rc != 0 || end == RUN_DONE) break;
    progress_end(&v->prog, true);
    printf("the producer ended or died%s (last frame drawn: %llu, %llu drawn so far)\n", ended,
           (unsigned long long)v->last_k, (unsigned long long)v->drawn);
    if (!v->o->wait || done(v)) {
      if (v->want && v->drawn < v->want)
        rc = tool_fail(-EPIPE, "the producer ended after %llu of %llu frames",
                       (unsigned long long)v->drawn, (unsigned long long)v->want);
      break;
    }
    printf("waiting up to %.1f s for it to serve again (--wait)\n", v->o->timeout_s);
    fflush(stdout);
    if ((rc = connect_ring(v, &c, seconds_ns(v->o->timeout_s))) != 0) break;
  }
  show_progress(v, true);
  return rc;
}

int view_main(const tool_options *o) {
  viewer v = {.o = o, .want = o->frames_given ? o->frames : 0};
  v.headless = o->headless || o->out_dir || !window_display_present();
  int rc = 0;
  if (v.headless) {
    const char *dir = o->out_dir ? o->out_dir : DEFAULT_OUT_DIR;
    if ((rc = tool_out_dir(dir)) != 0) goto out;
    if (!realpath(dir, v.out_dir)) snprintf(v.out_dir, sizeof(v.out_dir), "%s", dir);
  }
  stop_signal_install();
  v.start_s = tool_now_s();
  rc = view_loop(&v);
  double t = tool_now_s() - v.start_s;
  printf("drew %llu frame%s in %.2f s over %u connection%s\n", (unsigned long long)v.drawn,
         v.drawn == 1 ? "" : "s", t, v.connections, v.connections == 1 ? "" : "s");
  if (v.saved)
    printf("wrote %u frame%s as PNG to %s/ (%s%s%s)\n", v.saved, v.saved == 1 ? "" : "s",
           v.out_dir, strrchr(v.first_png, '/') + 1, v.saved > 1 ? " ... " : "",
           v.saved > 1 ? strrchr(v.last_png, '/') + 1 : "");
out:
  window_close(v.win);
  free(v.rgba);
  if (rc == 0) return 0;
  fprintf(stderr, "interop-fd view: %s\n", tool_last_error());
  return 1;
}
