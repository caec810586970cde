/* Rings served across processes (interop_fd/share.h), with real processes:
 * this program is run again as the viewer (--viewer) or the producer
 * (--producer) of a scenario. Internal: the fake peers encode wire messages
 * (src/share/wire.h) to send what no well-behaved peer would.
 *
 *   pixels API MODE      a viewer process (Vulkan or GL consumer) draws frames
 *                        of a FIFO or MAILBOX ring that this process produces,
 *                        every pixel compared with the pattern of its number
 *   viewer-killed MODE   kill -9 of an attached viewer: the producer goes on
 *   viewer-stopped MODE  SIGSTOP of an attached viewer: a FIFO producer stalls
 *                        no longer than its begin_frame timeout each time, a
 *                        MAILBOX producer not at all
 *   producer-killed API  kill -9 of the producer: the viewer (this process)
 *                        sees -EPIPE, connects to the restarted producer and
 *                        draws its frames
 *   cycles               1,000 connect/close cycles by a viewer process; no fd
 *                        grows on either side
 *   protocol             refusals (busy, another uid, versions, malformed and
 *                        silent peers), a fake server's bad fds, the socket's
 *                        mode, stale and live sockets, misuse
 *
 * IFD_TEST_BACKEND picks the producer's backend. */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interop_fd/share.h"
#include "ring_consumer.h"
#include "share/sock.h"
#include "share/wire.h"

#define W 40
#define H 24
#define FMT MAX_FMT_RGBA8
#define SECOND (1000ull * 1000 * 1000)
#define MS (1000ull * 1000)

extern char **environ;

/* A socket path under XDG_RUNTIME_DIR (created if it is missing: CTest's
 * runtime folder is an empty folder of the build, which a copy of the build
 * may lack), else /tmp. */
static void socket_path(char *buf, size_t n, const char *tag) {
  const char *dir = getenv("XDG_RUNTIME_DIR");
  if (!dir || !dir[0] || (mkdir(dir, 0700) != 0 && errno != EEXIST)) dir = "/tmp";
  snprintf(buf, n, "%s/test_share.%s.%ld.sock", dir, tag, (long)getpid());
}

static pid_t spawn_self(char **args) {
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) == 0);
  return pid;
}

static int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static ifd_ring_server_stats stats_of(ifd_ring_server *s) {
  ifd_ring_server_stats st;
  REQUIRE(ifd_ring_server_stats_get(s, &st) == 0);
  return st;
}

/* Begins, writes the pattern of its number into, and ends one frame. */
static int produce(tp_producer *p, ifd_ring *ring, uint64_t timeout_ns, uint64_t *k) {
  ifd_image *img = NULL;
  int rc = ifd_ring_begin_frame(ring, timeout_ns, k, &img);
  if (rc != 0) return rc;
  rc = tp_fill(p, img, (uint32_t)*k);
  if (rc == 0) rc = ifd_ring_end_frame(ring, *k);
  return rc;
}

/* --------------------------------------------------------------- viewer */

typedef struct {
  consumer c;
  ifd_ring_link *link;
  cring r;
  bool timelines, mailbox, open;
} viewer;

static int viewer_connect(viewer *v, const char *path, uint64_t timeout_ns) {
  ifd_ring_desc d;
  int rc = ifd_ring_connect(path, timeout_ns, &d, &v->link);
  if (rc != 0) return rc;
  v->timelines = ifd_ring_link_has_timelines(v->link) == 1;
  v->mailbox = d.mode == IFD_RING_MAILBOX;
  CHECK(d.count >= 1 && d.frames[0].width == W && d.frames[0].height == H &&
        d.frames[0].format == FMT);
  rc = cring_import(&v->c, &d, &v->r);
  ifd_ring_desc_close(&d);
  if (rc != 0) {
    ifd_ring_link_close(v->link);
    return rc;
  }
  v->open = true;
  return 0;
}

static void viewer_disconnect(viewer *v) {
  if (!v->open) return;
  if (v->c.gl) glFinish();
  cring_destroy(&v->r); /* waits for the draws: then the link may go */
  ifd_ring_link_close(v->link);
  v->open = false;
}

/* Draws one frame: the next in order (FIFO) or the newest (MAILBOX).
 * 0, or the error that stopped it (-EPIPE: the producer is gone). */
static int viewer_frame(viewer *v, uint64_t *next) {
  uint64_t k = *next;
  int rc;
  if (v->mailbox) {
    while ((rc = cring_take(&v->r, 100 * MS, &k)) == -ETIMEDOUT)
      if ((rc = ifd_ring_link_poll(v->link)) != 0) return rc;
    if (rc != 0) return rc;
  }
  /* Wait on the host first, so no device wait is ever queued for a frame a
   * dead producer will not signal. */
  for (;;) {
    /* The ready message; Vulkan with timelines reads the value itself. */
    rc = v->timelines && !v->c.gl ? ifd_vk_ring_wait_ready(v->r.ring, k, 100 * MS)
                                   : ifd_ring_link_wait_ready(v->link, k, 100 * MS);
    if (rc != -ETIMEDOUT) break;
    if ((rc = ifd_ring_link_poll(v->link)) != 0) return rc;
  }
  if (rc != 0) return rc;
  cring_draw(&v->r, k, W, H, FMT);
  if (!v->timelines) CHECK_RC(ifd_ring_link_release(v->link, k), 0);
  *next = k + 1;
  return 0;
}

/* A viewer that crashes says where (addresses for addr2line -e test_share). */
static void on_crash(int sig) {
  void *frames[32];
  int n = backtrace(frames, 32);
  char line[64];
  int len = snprintf(line, sizeof(line), "viewer: signal %d, backtrace:\n", sig);
  if (write(2, line, (size_t)len) < 0) _exit(128 + sig);
  backtrace_symbols_fd(frames, n, 2);
  _exit(128 + sig);
}

/* --viewer API PATH FRAMES DELAY_MS: draws FRAMES frames (0: until the
 * producer goes) and prints how many. */
static int viewer_main(char **argv) {
  signal(SIGSEGV, on_crash);
  signal(SIGBUS, on_crash);
  signal(SIGABRT, on_crash);
  viewer v = {0};
  char why[512];
  bool gl = strcmp(argv[0], "gl") == 0;
  if (consumer_open(&v.c, gl, NULL, NULL, why, sizeof(why)) != 0) {
    fprintf(stderr, "viewer: no %s consumer: %s\n", argv[0], why);
    return 3;
  }
  uint64_t frames = strtoull(argv[2], NULL, 10), delay = strtoull(argv[3], NULL, 10);
  int rc = viewer_connect(&v, argv[1], 10 * SECOND);
  fprintf(stderr, "viewer: connected and imported: %d\n", rc);
  if (rc != 0) {
    fprintf(stderr, "viewer: %s\n", ifd_last_error());
    consumer_close(&v.c);
    return 4;
  }
  uint64_t next = ifd_ring_link_first_frame(v.link), drawn = 0;
  while (frames == 0 || drawn < frames) {
    rc = viewer_frame(&v, &next);
    if (rc != 0) break;
    drawn++;
    if (delay) test_sleep_ns(delay * MS);
  }
  CHECK(rc == 0 || (frames == 0 && rc == -EPIPE));
  printf("viewer: drew %llu frames (%s, %s)\n", (unsigned long long)drawn, v.mailbox ? "MAILBOX" : "FIFO",
         v.timelines ? "timelines" : "ready/release messages");
  viewer_disconnect(&v);
  consumer_close(&v.c);
  return test_finish("share viewer");
}

/* ------------------------------------------------------------- producer */

static ifd_ring *served_ring(tp_producer *p, ifd_ring_mode mode, const char *path,
                             ifd_ring_server **srv) {
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create_mode(p->ctx, mode == IFD_RING_MAILBOX ? 4 : 3, W, H, FMT, mode, &ring) ==
          0);
  ifd_serve_options o = {.hello_timeout_ms = 300}; /* the silent peer's test waits for it */
  REQUIRE(ifd_ring_serve(ring, path, &o, srv) == 0);
  return ring;
}

/* --producer PATH: serves a FIFO ring and produces until killed. */
static int producer_main(char **argv) {
  tp_producer p;
  if (tp_open(&p, test_backend_from_env()) != 0) return 3;
  ifd_ring_server *srv = NULL;
  ifd_ring *ring = served_ring(&p, IFD_RING_FIFO, argv[0], &srv);
  printf("producer %ld: serving %s\n", (long)getpid(), argv[0]);
  for (;;) {
    uint64_t k = 0;
    int rc = produce(&p, ring, SECOND, &k);
    if (rc != 0 && rc != -ETIMEDOUT) {
      fprintf(stderr, "producer: %s\n", ifd_last_error());
      return 1;
    }
    test_sleep_ns(2 * MS);
  }
}

/* The producer's side of a viewer process: the scenario's ring, served, and
 * a viewer spawned on it. */
typedef struct {
  tp_producer p;
  ifd_ring *ring;
  ifd_ring_server *srv;
  char path[108];
  pid_t viewer;
  int fds;
} served;

static void served_open(served *s, ifd_ring_mode mode, const char *api, const char *frames,
                        const char *delay) {
  int rc = tp_open(&s->p, test_backend_from_env());
  if (rc == -ENODEV || rc == -EOPNOTSUPP) SKIP("no producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  tp_close(&s->p); /* drivers keep fds of their first use to exit */
  s->fds = test_count_fds();
  REQUIRE(tp_open(&s->p, test_backend_from_env()) == 0);
  socket_path(s->path, sizeof(s->path), mode == IFD_RING_MAILBOX ? "mailbox" : "fifo");
  s->ring = served_ring(&s->p, mode, s->path, &s->srv);
  s->viewer = -1;
  if (api) {
    char *args[] = {"test_share", "--viewer", (char *)api, s->path, (char *)frames, (char *)delay,
                    NULL};
    s->viewer = spawn_self(args);
  }
}

/* Produces until the viewer is attached and `after` frames more are ended. */
static uint64_t produce_attached(served *s, uint64_t after, uint64_t timeout_ns) {
  uint64_t k = 0, seen = 0;
  test_watch("waiting for the viewer to attach and draw", 60);
  while (seen < after) {
    int rc = produce(&s->p, s->ring, timeout_ns, &k);
    if (rc == 0 && stats_of(s->srv).attached) seen++;
    REQUIRE(rc == 0 || rc == -ETIMEDOUT);
    if (rc == -ETIMEDOUT) test_sleep_ns(MS);
  }
  test_unwatch();
  return k;
}

static void served_close(served *s) {
  ifd_ring_server_destroy(s->srv);
  ifd_ring_destroy(s->ring);
  tp_close(&s->p);
  if (s->fds < 0) return; /* not counted (size-lie) */
  int now = test_count_fds();
  if (now != s->fds) {
    fprintf(stderr, "%d fds open, %d at the start\n", now, s->fds);
    test_print_fds("after");
  }
  CHECK(now == s->fds);
}

static ifd_ring_mode mode_arg(const char *m) {
  if (strcmp(m, "mailbox") == 0) return IFD_RING_MAILBOX;
  REQUIRE(strcmp(m, "fifo") == 0);
  return IFD_RING_FIFO;
}

/* ------------------------------------------------------------- scenarios */

static void scenario_pixels(const char *api, ifd_ring_mode mode) {
  served s;
  served_open(&s, mode, api, "12", "0");
  uint64_t k = 0;
  int status = -1;
  test_watch("the viewer drawing 12 frames", 120);
  while (status < 0) {
    int rc = produce(&s.p, s.ring, 100 * MS, &k);
    REQUIRE(rc == 0 || rc == -ETIMEDOUT);
    int st = 0;
    if (waitpid(s.viewer, &st, WNOHANG) == s.viewer)
      status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (mode == IFD_RING_MAILBOX) test_sleep_ns(MS); /* let it take more than one */
  }
  test_unwatch();
  if (status == 3) SKIP("the viewer process has no %s consumer", api);
  if (status != 0) fprintf(stderr, "the viewer process exited with %d\n", status);
  CHECK(status == 0);
  ifd_ring_server_stats st = stats_of(s.srv);
  CHECK(st.viewers == 1 && st.dropped == 0 && st.refused == 0);
  printf("pixels %s %s: producer ended %llu frames; the viewer process %s\n",
         api, mode == IFD_RING_MAILBOX ? "mailbox" : "fifo", (unsigned long long)k,
         status == 0 ? "drew 12, every pixel as expected" : "failed");
  served_close(&s);
}

/* A viewer process that draws until it is killed, attached and drawing.
 * MAILBOX: begin_frame never waits for it, so timeout 0 must always do. */
static uint64_t serve_viewer(served *s, ifd_ring_mode mode) {
  served_open(s, mode, "vk", "0", "3");
  return produce_attached(s, 10, mode == IFD_RING_MAILBOX ? 0 : 5 * SECOND);
}

static void kill_viewer(served *s) {
  REQUIRE(kill(s->viewer, SIGKILL) == 0);
  CHECK(wait_exit(s->viewer) == 128 + SIGKILL);
}

static void scenario_viewer_killed(ifd_ring_mode mode) {
  served s;
  uint64_t k = serve_viewer(&s, mode);
  bool mailbox = mode == IFD_RING_MAILBOX;
  kill_viewer(&s);
  double worst = 0;
  for (int i = 0; i < 30; i++) {
    double t0 = test_now_s();
    CHECK_RC(produce(&s.p, s.ring, mailbox ? 0 : 2 * SECOND, &k), 0);
    if (test_now_s() - t0 > worst) worst = test_now_s() - t0;
  }
  for (int i = 0; i < 100 && stats_of(s.srv).attached; i++) test_sleep_ns(10 * MS);
  ifd_ring_server_stats st = stats_of(s.srv);
  CHECK(st.attached == 0 && st.viewers == 1);
  CHECK(st.released_for_viewers > 0);
  printf("viewer killed (%s): 30 more frames after kill -9, the longest begin+end %.1f ms; frames "
         "released for viewers: %llu\n",
         mailbox ? "mailbox" : "fifo", worst * 1e3, (unsigned long long)st.released_for_viewers);
  served_close(&s);
}

static void scenario_viewer_stopped(ifd_ring_mode mode) {
  served s;
  uint64_t k = serve_viewer(&s, mode);
  bool mailbox = mode == IFD_RING_MAILBOX;
  REQUIRE(kill(s.viewer, SIGSTOP) == 0);
  test_sleep_ns(20 * MS);
  const uint64_t timeout = 300 * MS;
  int timeouts = 0;
  double worst = 0;
  test_watch("producing beside a stopped viewer", 60);
  for (int i = 0; i < (mailbox ? 60 : 24) && timeouts < 3; i++) {
    /* Frames nobody reads: begun and ended unwritten (the Vulkan producer's
     * write is a host upload, which waits for the queue, which waits for
     * the stopped viewer's release). */
    double t0 = test_now_s();
    ifd_image *img = NULL;
    int rc = ifd_ring_begin_frame(s.ring, mailbox ? 0 : timeout, &k, &img);
    double t = test_now_s() - t0;
    if (rc == 0) rc = ifd_ring_end_frame(s.ring, k);
    if (t > worst) worst = t;
    if (rc == -ETIMEDOUT) timeouts++;
    else CHECK_RC(rc, 0);
  }
  test_unwatch();
  if (mailbox) {
    CHECK(timeouts == 0);
  } else {
    CHECK(timeouts > 0); /* the stopped viewer holds its frames */
    CHECK(worst < (double)timeout * 1e-9 + 0.5);
  }
  kill_viewer(&s);
  test_watch("producing once the stopped viewer is killed", 30);
  CHECK_RC(produce(&s.p, s.ring, 5 * SECOND, &k), 0); /* going again once it is gone */
  test_unwatch();
  printf("viewer stopped (%s): %d begin_frame timeouts of %.0f ms, the longest call %.1f ms\n",
         mailbox ? "mailbox" : "fifo", timeouts, (double)timeout * 1e-6, worst * 1e3);
  served_close(&s);
}

static pid_t start_producer(const char *path) {
  char *args[] = {"test_share", "--producer", (char *)path, NULL};
  return spawn_self(args);
}

static void scenario_producer_killed(const char *api) {
  viewer v = {0};
  char why[512];
  ifd_context *probe = NULL; /* before the consumer: GL's context stays current */
  int rc = ifd_context_create(test_backend_from_env(), 0, &probe);
  if (rc == -ENODEV || rc == -EOPNOTSUPP) SKIP("no producer device: %s", ifd_last_error());
  ifd_context_destroy(probe);
  if (consumer_open(&v.c, strcmp(api, "gl") == 0, NULL, NULL, why, sizeof(why)) != 0)
    SKIP("no %s consumer: %s", api, why);
  const int fds = test_count_fds(); /* the consumer's driver fds included */
  char path[108];
  socket_path(path, sizeof(path), "restart");
  for (int run = 0; run < 2; run++) {
    pid_t child = start_producer(path);
    test_watch("connecting to the producer process", 60);
    REQUIRE(viewer_connect(&v, path, 20 * SECOND) == 0);
    uint64_t next = ifd_ring_link_first_frame(v.link);
    for (int i = 0; i < 5; i++) CHECK_RC(viewer_frame(&v, &next), 0);
    test_unwatch();
    REQUIRE(kill(child, SIGKILL) == 0);
    CHECK(wait_exit(child) == 128 + SIGKILL);
    double t0 = test_now_s();
    while ((rc = ifd_ring_link_poll(v.link)) == 0 && test_now_s() - t0 < 5) test_sleep_ns(MS);
    CHECK_FAILS(rc, -EPIPE);
    CHECK(ifd_ring_link_poll(v.link) == -EPIPE); /* and stays so */
    CHECK(ifd_ring_link_ended_cleanly(v.link) == 0); /* it died: no word */
    printf("run %d: 5 frames drawn, then kill -9 of the producer seen as -EPIPE after %.1f ms\n",
           run + 1, (test_now_s() - t0) * 1e3);
    viewer_disconnect(&v);
  }
  unlink(path); /* the killed producer's socket file */
  int now = test_count_fds();
  if (now != fds) test_print_fds("after");
  CHECK(now == fds);
  consumer_close(&v.c);
}

/* --cycles PATH N: N connect/close cycles; its own fds must not grow. */
static int cycles_main(char **argv) {
  int n = atoi(argv[1]);
  ifd_ring_desc d;
  ifd_ring_link *link = NULL;
  REQUIRE(ifd_ring_connect(argv[0], 10 * SECOND, &d, &link) == 0); /* warm-up */
  ifd_ring_desc_close(&d);
  ifd_ring_link_close(link);
  const int fds = test_count_fds();
  int fails = 0;
  for (int i = 0; i < n; i++) {
    /* The server sees the last close a moment later: busy until then. */
    int rc;
    while ((rc = ifd_ring_connect(argv[0], SECOND, &d, &link)) == -EBUSY) test_sleep_ns(100000);
    if (rc != 0) {
      if (fails++ == 0) fprintf(stderr, "cycle %d: %s\n", i, ifd_last_error());
      continue;
    }
    ifd_ring_desc_close(&d);
    ifd_ring_link_close(link);
  }
  CHECK(fails == 0);
  int now = test_count_fds();
  if (now != fds) test_print_fds("viewer after the cycles");
  CHECK(now == fds);
  printf("viewer: %d cycles, %d fds before and after\n", n, fds);
  return test_finish("share cycles (viewer)");
}

static bool wait_stat(ifd_ring_server *srv, size_t offset, uint64_t want);

static void scenario_cycles(void) {
  served s;
  served_open(&s, IFD_RING_FIFO, NULL, NULL, NULL); /* the cycles process is the viewer */
  uint64_t k = 0;
  for (int i = 0; i < 5; i++) REQUIRE(produce(&s.p, s.ring, SECOND, &k) == 0);
  const int before = test_count_fds();
  char *args[] = {"test_share", "--cycles", s.path, "1000", NULL};
  double t0 = test_now_s();
  test_watch("1000 connect/close cycles", 240);
  pid_t c = spawn_self(args);
  CHECK(wait_exit(c) == 0);
  test_unwatch();
  /* The server counts a viewer once its copies of the fds are closed, and
   * sees the last one leave a moment after it went. */
  CHECK(wait_stat(s.srv, offsetof(ifd_ring_server_stats, viewers), 1001));
  for (int i = 0; i < 100 && stats_of(s.srv).attached; i++) test_sleep_ns(10 * MS);
  ifd_ring_server_stats st = stats_of(s.srv);
  CHECK(st.viewers == 1001 && st.dropped == 0 && st.attached == 0);
  int after = test_count_fds();
  if (after != before) test_print_fds("producer after the cycles");
  CHECK(after == before);
  printf("server: %llu viewers, %llu refused, %llu dropped, attached %u\n",
         (unsigned long long)st.viewers, (unsigned long long)st.refused,
         (unsigned long long)st.dropped, st.attached);
  printf("cycles: 1001 viewers served in %.2f s; producer fds %d before, %d after\n",
         test_now_s() - t0, before, after);
  served_close(&s);
}

/* ------------------------------------------------------------- protocol */

/* A raw connection to path (no hello). */
static int raw_connect(const char *path) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
  REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
  return fd;
}

/* Sends m with fds[0, nfds) attached, as many as the message claims or not
 * (the fake server's lies), with the library's own sender. */
static void raw_send(int fd, const ifd_wire_msg *m, const int *fds, uint32_t nfds) {
  REQUIRE(ifd_sock_send(fd, m, fds, nfds) == 0);
}

/* Reads one message (blocking up to 2 s); its type, or -1 if closed. */
static int raw_recv(int fd, ifd_wire_msg *m) {
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  uint8_t buf[IFD_WIRE_MAX_MESSAGE];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  if (n <= 0) return -1;
  return ifd_wire_parse(buf, (size_t)n, 0, false, m) == 0 ? (int)m->type : -2;
}

static ifd_wire_msg hello(uint32_t min, uint32_t max) {
  ifd_wire_msg m = {.type = IFD_WIRE_HELLO};
  m.u.hello.min_version = min;
  m.u.hello.max_version = max;
  snprintf(m.u.hello.name, sizeof(m.u.hello.name), "fake viewer");
  return m;
}

static bool wait_stat(ifd_ring_server *srv, size_t offset, uint64_t want) {
  for (int i = 0; i < 300; i++) {
    ifd_ring_server_stats st = stats_of(srv);
    uint64_t v;
    memcpy(&v, (const char *)&st + offset, sizeof(v));
    if (v >= want) return true;
    test_sleep_ns(10 * MS);
  }
  return false;
}

/* Peers that break the protocol are refused or dropped, and the server
 * goes on serving. */
static void protocol_server_side(served *s) {
  ifd_ring_desc d;
  ifd_ring_link *a = NULL, *b = NULL;
  /* Busy: one viewer at a time. */
  REQUIRE(ifd_ring_connect(s->path, SECOND, &d, &a) == 0);
  ifd_ring_desc_close(&d);
  CHECK_FAILS(ifd_ring_connect(s->path, SECOND, &d, &b), -EBUSY);
  test_check_message("ifd_ring_connect", "another viewer");
  CHECK(ifd_ring_link_first_frame(a) >= 1 && ifd_ring_link_poll(a) == 0);
  if (ifd_ring_link_has_timelines(a) == 1) CHECK_FAILS(ifd_ring_link_release(a, 1), -EINVAL);
  else CHECK_FAILS(ifd_ring_link_release(a, ifd_ring_link_ended(a) + 1), -EINVAL);
  CHECK_FAILS(ifd_ring_link_wait_ready(a, ifd_ring_link_ended(a) + 1, 0), -EAGAIN);
  CHECK_RC(ifd_ring_link_wait_ready(a, ifd_ring_link_ended(a), 0), 0);
  CHECK_FAILS(ifd_ring_link_release(a, 0), -EINVAL);
  CHECK_FAILS(ifd_ring_link_release(NULL, 1), -EINVAL);
  CHECK_FAILS(ifd_ring_link_poll(NULL), -EINVAL);
  ifd_ring_link_close(a);
  /* A closed link is refused (checked before anything can reuse its address). */
  CHECK_FAILS(ifd_ring_link_poll(a), -EINVAL);
  test_check_message("ifd_ring_link_poll", "not a live handle");
  CHECK_FAILS(ifd_ring_link_release(a, 1), -EINVAL);
  CHECK(ifd_ring_link_ended(a) == 0 && ifd_ring_link_first_frame(a) == 0);
  ifd_ring_link_close(a); /* twice: refused, no crash */
  ifd_ring_link_close(NULL);
  int rc;
  for (int i = 0; i < 100 && (rc = ifd_ring_connect(s->path, SECOND, &d, &b)) == -EBUSY; i++)
    test_sleep_ns(10 * MS);
  CHECK_RC(rc, 0); /* the first left: the next is accepted */
  if (rc == 0) ifd_ring_desc_close(&d);

  /* Malformed and silent peers beside an attached viewer. */
  uint64_t dropped = stats_of(s->srv).dropped, refused = stats_of(s->srv).refused;
  int junk = raw_connect(s->path);
  REQUIRE(send(junk, "garbage", 7, MSG_NOSIGNAL) == 7);
  ifd_wire_msg m;
  CHECK(raw_recv(junk, &m) == IFD_WIRE_REFUSE && m.u.refuse.error == EPROTO);
  close(junk);
  CHECK(wait_stat(s->srv, offsetof(ifd_ring_server_stats, dropped), dropped + 1));
  int future = raw_connect(s->path);
  m = hello(2, 3);
  raw_send(future, &m, NULL, 0);
  CHECK(raw_recv(future, &m) == IFD_WIRE_REFUSE && m.u.refuse.error == EPROTO);
  CHECK(strstr(m.u.refuse.reason, "2..3") != NULL);
  close(future);
  int silent = raw_connect(s->path);
  CHECK(raw_recv(silent, &m) == -1); /* dropped after the hello timeout */
  close(silent);
  CHECK(wait_stat(s->srv, offsetof(ifd_ring_server_stats, refused), refused + 2));
  CHECK(ifd_ring_link_poll(b) == 0); /* the attached viewer is unharmed */
  ifd_ring_link_close(b);

  /* An attached viewer that sends what it must not is dropped. */
  for (int i = 0; i < 100 && stats_of(s->srv).attached; i++) test_sleep_ns(10 * MS);
  dropped = stats_of(s->srv).dropped;
  int rogue = raw_connect(s->path);
  m = hello(1, 1);
  raw_send(rogue, &m, NULL, 0);
  ifd_wire_msg ring_msg;
  int fds[IFD_WIRE_MAX_FDS];
  char cbuf[CMSG_SPACE(sizeof(fds))];
  uint8_t buf[IFD_WIRE_MAX_MESSAGE];
  struct iovec iov = {buf, sizeof(buf)};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                      .msg_controllen = sizeof(cbuf)};
  ssize_t n = recvmsg(rogue, &mh, MSG_CMSG_CLOEXEC);
  REQUIRE(n > 0);
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  uint32_t got = c ? (uint32_t)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0;
  if (c) memcpy(fds, CMSG_DATA(c), got * sizeof(int));
  CHECK_RC(ifd_wire_parse(buf, (size_t)n, got, false, &ring_msg), 0);
  CHECK(ring_msg.type == IFD_WIRE_RING && got == ifd_wire_ring_fds(&ring_msg.u.ring));
  for (uint32_t i = 0; i < got; i++) close(fds[i]);
  m = (ifd_wire_msg){.type = IFD_WIRE_RELEASE};
  m.u.frame = 1000000; /* never ended */
  raw_send(rogue, &m, NULL, 0);
  CHECK(raw_recv(rogue, &m) == -1); /* dropped */
  close(rogue);
  CHECK(wait_stat(s->srv, offsetof(ifd_ring_server_stats, dropped), dropped + 1));
  for (int i = 0; i < 100 && stats_of(s->srv).attached; i++) test_sleep_ns(10 * MS);
  CHECK(stats_of(s->srv).attached == 0);
}

/* --uid-connect PATH WANT: as user nobody, connects; exits 0 if the result
 * is WANT (0, or -EACCES with the server's reason). */
static int uid_connect_main(char **argv) {
  if (setuid(65534) != 0) return 10;
  ifd_ring_desc d;
  ifd_ring_link *l = NULL;
  int rc = ifd_ring_connect(argv[0], SECOND, &d, &l);
  if (rc == 0) {
    ifd_ring_desc_close(&d);
    ifd_ring_link_close(l);
  }
  fprintf(stderr, "as uid 65534: %d %s\n", rc, rc ? ifd_last_error() : "");
  if (rc == -EACCES && !strstr(ifd_last_error(), "another user")) return 12;
  return rc == atoi(argv[1]) ? 0 : 11;
}

/* Another uid: refused after SO_PEERCRED, unless the server allows it. */
static void protocol_uid(served *s) {
  if (geteuid() != 0) {
    printf("another uid: not checked (needs root to run a viewer as another user)\n");
    return;
  }
  char path[108];
  socket_path(path, sizeof(path), "anyuid");
  ifd_ring *ring2 = NULL;
  ifd_ring_server *other = NULL;
  REQUIRE(ifd_ring_create(s->p.ctx, 1, W, H, FMT, &ring2) == 0);
  ifd_serve_options o = {.flags = IFD_SERVE_ANY_UID};
  REQUIRE(ifd_ring_serve(ring2, path, &o, &other) == 0);
  /* Past the socket file's own permission check, to the server's. */
  REQUIRE(chmod(s->path, 0666) == 0 && chmod(path, 0666) == 0);
  char eacces[8];
  snprintf(eacces, sizeof(eacces), "%d", -EACCES);
  char *refused[] = {"test_share", "--uid-connect", s->path, eacces, NULL};
  char *allowed[] = {"test_share", "--uid-connect", path, "0", NULL};
  CHECK(wait_exit(spawn_self(refused)) == 0);
  CHECK(wait_exit(spawn_self(allowed)) == 0);
  REQUIRE(chmod(s->path, 0600) == 0);
  ifd_ring_server_destroy(other);
  ifd_ring_destroy(ring2);
  printf("another uid: refused by default, accepted with IFD_SERVE_ANY_UID\n");
}

/* A fake server that answers the hello with `answer` and its fds. */
typedef struct {
  int listen_fd;
  ifd_wire_msg answer;
  int fds[IFD_WIRE_MAX_FDS];
  uint32_t nfds;
  bool raw_garbage;
} fake_server;

static void *fake_server_main(void *arg) {
  fake_server *f = arg;
  int c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return NULL;
  ifd_wire_msg m;
  (void)raw_recv(c, &m);
  if (f->raw_garbage) {
    REQUIRE(send(c, "\x01\x02\x03", 3, MSG_NOSIGNAL) == 3);
  } else {
    ifd_wire_msg m2 = f->answer;
    if (m2.type == IFD_WIRE_RING) m2.nfds = ifd_wire_ring_fds(&m2.u.ring);
    raw_send(c, &m2, f->fds, f->nfds); /* f->nfds may differ from what it says */
  }
  test_sleep_ns(50 * MS);
  close(c);
  return NULL;
}

static int fake_connect(fake_server *f, const char *path) {
  f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
  unlink(path);
  REQUIRE(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(f->listen_fd, 1) == 0);
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, fake_server_main, f) == 0);
  ifd_ring_desc d;
  ifd_ring_link *l = NULL;
  int rc = ifd_ring_connect(path, SECOND, &d, &l);
  if (rc == 0) {
    ifd_ring_desc_close(&d);
    ifd_ring_link_close(l);
  }
  pthread_join(t, NULL);
  close(f->listen_fd);
  for (uint32_t i = 0; i < f->nfds; i++) close(f->fds[i]);
  unlink(path);
  return rc;
}

static ifd_wire_msg fake_ring(uint64_t size) {
  ifd_wire_msg m = {.type = IFD_WIRE_RING};
  ifd_wire_ring *r = &m.u.ring;
  r->count = 1;
  r->width = W;
  r->height = H;
  r->format = FMT;
  r->row_pitch = W * 4;
  r->size = size;
  r->mode = IFD_RING_FIFO;
  r->exporter = IFD_BACKEND_VULKAN;
  return m;
}

/* What the viewer checks before it uses anything a server sent. */
static void protocol_client_side(void) {
  char path[108];
  socket_path(path, sizeof(path), "fake");
  const int fds = test_count_fds();
  fake_server f = {0};
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  f.answer = fake_ring(W * 4 * H);
  f.fds[0] = p[0];
  f.nfds = 1;
  close(p[1]);
  CHECK_FAILS(fake_connect(&f, path), -EBADF); /* a pipe is no memory */
  test_check_message("ifd_ring_connect", "pipe");
  f = (fake_server){0};
  f.answer = fake_ring(W * 4 * H);
  f.fds[0] = memfd_create("small", MFD_CLOEXEC);
  REQUIRE(f.fds[0] >= 0 && ftruncate(f.fds[0], 100) == 0);
  f.nfds = 1;
  CHECK_FAILS(fake_connect(&f, path), -EBADF); /* smaller than the frame */
  test_check_message("ifd_ring_connect", "less than the frame");
  f = (fake_server){0};
  f.answer = fake_ring(W * 4 * H);
  f.answer.u.ring.count = 2; /* says 2 fds, sends 1 */
  f.fds[0] = memfd_create("frame", MFD_CLOEXEC);
  REQUIRE(f.fds[0] >= 0 && ftruncate(f.fds[0], W * 4 * H) == 0);
  f.nfds = 1;
  CHECK_FAILS(fake_connect(&f, path), -EPROTO);
  f = (fake_server){0};
  f.raw_garbage = true;
  CHECK_FAILS(fake_connect(&f, path), -EPROTO);
  f = (fake_server){0};
  f.answer.type = IFD_WIRE_REFUSE;
  f.answer.u.refuse.error = EBUSY;
  snprintf(f.answer.u.refuse.reason, sizeof(f.answer.u.refuse.reason), "fake busy");
  CHECK_FAILS(fake_connect(&f, path), -EBUSY);
  test_check_message("ifd_ring_connect", "fake busy");
  int now = test_count_fds();
  if (now != fds) test_print_fds("after the fake servers");
  CHECK(now == fds);
}

/* A server that lies about a real frame's height: the viewer must refuse it
 * before use (a memfd's size is known) or its import must (a driver handle,
 * e.g. NVIDIA's, has no size a viewer can read). Never a success. */
static void scenario_size_lie(const char *api) {
  served s;
  served_open(&s, IFD_RING_FIFO, NULL, NULL, NULL);
  consumer c; /* after the producer (NVIDIA: a GL context made current before a
                 Vulkan device was created was no longer current after it) */
  char why[512];
  if (consumer_open(&c, strcmp(api, "gl") == 0, NULL, NULL, why, sizeof(why)) != 0)
    SKIP("no %s consumer: %s", api, why);
  ifd_ring_desc real;
  REQUIRE(ifd_ring_export(s.ring, &real) == 0);
  char path[108];
  socket_path(path, sizeof(path), "liar");
  fake_server f = {0};
  f.answer = fake_ring(0);
  ifd_wire_ring *r = &f.answer.u.ring;
  r->row_pitch = real.frames[0].row_pitch;
  r->height = H * 64;
  r->size = (uint64_t)r->row_pitch * r->height;
  r->exporter = real.frames[0].exporter;
  memcpy(r->device_uuid, real.frames[0].device_uuid, 16);
  f.fds[0] = real.frames[0].memory_fd;
  real.frames[0].memory_fd = -1;
  f.nfds = 1;
  struct stat st;
  REQUIRE(fstat(f.fds[0], &st) == 0);
  bool sized = S_ISREG(st.st_mode); /* a memfd: connect itself must refuse it */
  /* fake_connect closes what it connected; here the import is tried first. */
  f.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
  unlink(path);
  REQUIRE(bind(f.listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(f.listen_fd, 1) == 0);
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, fake_server_main, &f) == 0);
  ifd_ring_desc d;
  ifd_ring_link *l = NULL;
  int rc = ifd_ring_connect(path, SECOND, &d, &l);
  const char *where = "connect";
  if (rc == 0) {
    cring cr;
    where = "import";
    rc = cring_import(&c, &d, &cr);
    if (rc == 0) cring_destroy(&cr);
    ifd_ring_desc_close(&d);
    ifd_ring_link_close(l);
  }
  printf("a frame claimed 64x taller than its memory: %s at %s with %d (%s)\n",
         rc ? "refused" : "NOT refused", where, rc, rc ? ifd_last_error() : "accepted");
  /* A memfd's size is known: connect itself refuses. A driver's handle
   * (NVIDIA's /dev/nvidiactl) has no size a viewer can read, and NVIDIA's
   * driver (580) imported such a lie: share.h says so; this prints it. */
  if (sized) CHECK(rc == -EBADF && strcmp(where, "connect") == 0);
  pthread_join(t, NULL);
  close(f.listen_fd);
  close(f.fds[0]);
  unlink(path);
  ifd_ring_desc_close(&real);
  /* The consumer first (NVIDIA: the producer's Vulkan device going leaves no
   * GL context current). Its driver keeps fds of what it imported (a lie it
   * accepted, its shader cache): the fd count is the other scenarios'. */
  consumer_close(&c);
  s.fds = -1;
  served_close(&s);
}

static void scenario_protocol(void) {
  served s;
  served_open(&s, IFD_RING_FIFO, NULL, NULL, NULL);
  uint64_t k = 0;
  for (int i = 0; i < 2; i++) REQUIRE(produce(&s.p, s.ring, SECOND, &k) == 0);

  struct stat st;
  REQUIRE(stat(s.path, &st) == 0);
  CHECK(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
  CHECK(strcmp(ifd_ring_server_path(s.srv), s.path) == 0);

  /* Bad arguments and places. */
  ifd_ring_server *x = NULL;
  CHECK_FAILS(ifd_ring_serve(NULL, s.path, NULL, &x), -EINVAL);
  CHECK_FAILS(ifd_ring_serve(s.ring, s.path, NULL, NULL), -EINVAL);
  char other[108];
  socket_path(other, sizeof(other), "other");
  CHECK_FAILS(ifd_ring_serve(s.ring, other, NULL, &x), -EINVAL); /* already served */
  test_check_message("ifd_ring_serve", "already served");
  ifd_serve_options bad = {.flags = 0x80};
  CHECK_FAILS(ifd_ring_serve(s.ring, other, &bad, &x), -EINVAL);
  ifd_ring *ring2 = NULL;
  REQUIRE(ifd_ring_create(s.p.ctx, 1, W, H, FMT, &ring2) == 0);
  CHECK_FAILS(ifd_ring_serve(ring2, s.path, NULL, &x), -EADDRINUSE); /* a live server */
  char longpath[200];
  memset(longpath, 'a', sizeof(longpath) - 1);
  longpath[0] = '/';
  longpath[sizeof(longpath) - 1] = 0;
  CHECK_FAILS(ifd_ring_serve(ring2, longpath, NULL, &x), -ENAMETOOLONG);
  int file = open(other, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  REQUIRE(file >= 0);
  close(file);
  CHECK_FAILS(ifd_ring_serve(ring2, other, NULL, &x), -EEXIST); /* not a socket */
  unlink(other);
  int stale = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", other);
  REQUIRE(bind(stale, (struct sockaddr *)&a, sizeof(a)) == 0);
  close(stale); /* a socket file nobody accepts on: replaced */
  CHECK_RC(ifd_ring_serve(ring2, other, NULL, &x), 0);
  /* A ring destroyed before its server: the viewer is told. */
  ifd_ring_desc d;
  ifd_ring_link *l = NULL;
  CHECK_RC(ifd_ring_connect(other, SECOND, &d, &l), 0);
  if (l) {
    ifd_ring_desc_close(&d);
    ifd_ring_destroy(ring2);
    int rc = 0;
    for (int i = 0; i < 200 && (rc = ifd_ring_link_poll(l)) == 0; i++) test_sleep_ns(5 * MS);
    CHECK_FAILS(rc, -EPIPE);
    CHECK(ifd_ring_link_ended_cleanly(l) == 1); /* the ring ended: the server said so */
    ifd_ring_link_close(l);
  } else {
    ifd_ring_destroy(ring2);
  }
  ifd_ring_server_destroy(x);
  ifd_ring_server_stats st2;
  CHECK_FAILS(ifd_ring_server_stats_get(x, &st2), -EINVAL); /* destroyed: refused */
  CHECK(ifd_ring_server_path(x) == NULL);
  ifd_ring_server_destroy(x); /* twice: refused, no crash */
  CHECK(access(other, F_OK) != 0); /* the socket file went with the server */
  CHECK_FAILS(ifd_ring_connect(other, 0, &d, &l), -ENOENT);
  CHECK_FAILS(ifd_ring_connect(other, 50 * MS, &d, &l), -ETIMEDOUT);
  CHECK_FAILS(ifd_ring_connect(NULL, 0, NULL, &l), -EINVAL);

  protocol_server_side(&s);
  protocol_uid(&s);
  protocol_client_side();
  served_close(&s);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc == 6 && strcmp(argv[1], "--viewer") == 0) return viewer_main(argv + 2);
  if (argc == 3 && strcmp(argv[1], "--producer") == 0) return producer_main(argv + 2);
  if (argc == 4 && strcmp(argv[1], "--cycles") == 0) return cycles_main(argv + 2);
  if (argc == 4 && strcmp(argv[1], "--uid-connect") == 0) return uid_connect_main(argv + 2);
  const char *s = argc > 1 ? argv[1] : "";
  if (argc == 4 && strcmp(s, "pixels") == 0) scenario_pixels(argv[2], mode_arg(argv[3]));
  else if (argc == 3 && strcmp(s, "viewer-killed") == 0) scenario_viewer_killed(mode_arg(argv[2]));
  else if (argc == 3 && strcmp(s, "viewer-stopped") == 0) scenario_viewer_stopped(mode_arg(argv[2]));
  else if (argc == 3 && strcmp(s, "producer-killed") == 0) scenario_producer_killed(argv[2]);
  else if (argc == 2 && strcmp(s, "cycles") == 0) scenario_cycles();
  else if (argc == 3 && strcmp(s, "size-lie") == 0) scenario_size_lie(argv[2]);
  else if (argc == 2 && strcmp(s, "protocol") == 0) scenario_protocol();
  else {
    fprintf(stderr, "usage: test_share pixels vk|gl fifo|mailbox | viewer-killed MODE | "
                    "viewer-stopped MODE | producer-killed vk|gl | cycles | protocol\n");
    return 2;
  }
  return test_finish(s);
}
