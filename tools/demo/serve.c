#include "demo/serve.h"

#include <errno.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/progress.h"
#include "common/tool_error.h"
#include "interop_fd/share.h"
#include "common/stop_signal.h"

/* How long one begin_frame waits for a FIFO viewer to hand a slot back
 * before the loop looks at signals and tries again. */
#define BEGIN_SLICE_NS (100ull * 1000 * 1000)

typedef struct {
  pipeline *pl;
  ifd_ring_server *server;
  uint64_t frames; /* 0: until stopped */
  uint64_t made, waits;
  uint32_t attached; /* as last seen */
  double start_s;
  progress prog;
} serve_run;

static ifd_ring_server_stats stats_of(const serve_run *s) {
  ifd_ring_server_stats st = {0};
  ifd_ring_server_stats_get(s->server, &st);
  return st;
}

static void show_progress(serve_run *s, bool final) {
  ifd_ring_server_stats st = stats_of(s);
  if (st.attached != s->attached) {
    progress_end(&s->prog, true);
    printf("%s at frame %llu\n", st.attached ? "a viewer attached" : "the viewer left",
           (unsigned long long)s->made);
    fflush(stdout);
    s->attached = st.attached;
  }
  if (!final && !progress_due(&s->prog)) return;
  double t = tool_now_s() - s->start_s;
  progress_print(&s->prog, "frame %llu  %.0f frames/s  %s  %.1f s", (unsigned long long)s->made,
                 t > 0 ? (double)s->made / t : 0.0, st.attached ? "viewer attached" : "no viewer",
                 progress_elapsed(&s->prog));
  if (final) progress_end(&s->prog, true);
}

static int produce_frames(serve_run *s) {
  pipeline *pl = s->pl;
  s->start_s = tool_now_s();
  progress_begin(&s->prog);
  int rc = 0;
  while ((s->frames == 0 || s->made < s->frames) && !stop_signal_received()) {
    cppn_frame_args args;
    cppn_frame_args_init(&args, pl->width, pl->height, pl->pitch, pl->format, s->made);
    uint64_t k = 0;
    rc = pipeline_produce(pl, &args, &k);
    if (rc == -ETIMEDOUT) { /* a FIFO viewer still reads every slot: not an error */
      s->waits++;
      rc = 0;
    } else if (rc != 0) {
      break;
    } else {
      s->made = k; /* frame k shows the network at time (k - 1) / 60 s, as in the demo */
    }
    show_progress(s, false);
  }
  show_progress(s, true);
  return rc;
}

int demo_serve(const tool_options *o, ifd_context *ctx, pipeline_config *cfg) {
  serve_run s = {.frames = o->frames_given ? o->frames : 0};
  pipeline pl;
  cfg->no_presenter = true;
  cfg->begin_timeout_ns = BEGIN_SLICE_NS;
  stop_signal_install();
  int rc = pipeline_create(&pl, ctx, cfg);
  if (rc != 0) return rc;
  s.pl = &pl;
  if ((rc = ifd_ring_serve(pl.ring, o->serve_path, NULL, &s.server)) != 0) {
    tool_fail(rc, "cannot serve on %s: %s", o->serve_path, ifd_last_error());
    goto out;
  }
  ifd_format_info fi;
  ifd_format_query(pl.format, &fi);
  printf("frames:   %ux%u %s, %s ring of %u, sync %s\n", pl.width, pl.height, fi.name,
         cfg->mode == IFD_RING_MAILBOX ? "MAILBOX" : "FIFO", cfg->ring,
         pl.timelines ? "by timeline semaphores on the GPU" : "by messages on the socket");
  printf("serving:  %s (interop-fd view --connect %s draws it); %s\n",
         ifd_ring_server_path(s.server), ifd_ring_server_path(s.server),
         s.frames ? "until --frames" : "until Ctrl-C");
  fflush(stdout);
  if (o->wait) { /* --wait: the first frame once a viewer is attached */
    while (!stats_of(&s).attached && !stop_signal_received()) tool_sleep_ms(5);
    show_progress(&s, false);
  }
  rc = produce_frames(&s);
  int rc2 = pipeline_finish(&pl);
  if (rc == 0) rc = rc2;
  double t = tool_now_s() - s.start_s;
  ifd_ring_server_stats st = stats_of(&s);
  printf("served %llu frames in %.2f s (%.0f frames/s); viewers %llu, refused %llu, dropped %llu; "
         "%llu frames released by the server for absent viewers\n",
         (unsigned long long)s.made, t, t > 0 ? (double)s.made / t : 0.0,
         (unsigned long long)st.viewers, (unsigned long long)st.refused,
         (unsigned long long)st.dropped, (unsigned long long)st.released_for_viewers);
  if (s.waits)
    printf("(%llu waits of %.1f s for a FIFO viewer to hand a frame back)\n",
           (unsigned long long)s.waits, (double)BEGIN_SLICE_NS * 1e-9);
out:
  ifd_ring_server_destroy(s.server); /* first: the viewer is told the ring ended */
  pipeline_destroy(&pl);
  return rc;
}
