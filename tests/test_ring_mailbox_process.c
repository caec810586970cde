/* A MAILBOX ring across two processes: the state that control_fd carries is
 * all the consumer needs. The producer (this process) runs free with
 * begin_frame timeout 0 while a consumer process (this program run again
 * with --consumer, the description's fds inherited) takes at a slow rate,
 * draws every frame it takes through Vulkan and compares every pixel with
 * the pattern of its frame number, and checks that its takes strictly
 * increase. Without timelines the consumer cannot release on the device:
 * it sends the frame number back through a pipe, and the producer releases
 * it (ifd_ring_release_frame), as a socket would carry it between two
 * processes. The producer must never have waited, and the open fds of this
 * process must be back where they were. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "consumer_env.h"

#define COUNT 4
#define TAKES 30
#define SECOND (1000ull * 1000 * 1000)

extern char **environ;

/* ------------------------------------------------------------ consumer */

static int consumer_main(const char *hex, int release_fd) {
  ifd_ring_desc d;
  if (strlen(hex) != 2 * sizeof(d)) return 2;
  uint8_t *b = (uint8_t *)&d;
  for (size_t i = 0; i < sizeof(d); i++) {
    unsigned v = 0;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return 2;
    b[i] = (uint8_t)v;
  }
  consumer c;
  char why[512];
  if (consumer_open(&c, false, NULL, NULL, why, sizeof(why)) != 0) {
    fprintf(stderr, "consumer process: no Vulkan consumer: %s\n", why);
    return 3;
  }
  ifd_vk_ring *ring = NULL;
  REQUIRE(ifd_vk_ring_import(c.vk.importer, &d, IFD_VK_PATH_AUTO, &ring) == 0);
  const uint32_t w = d.frames[0].width, h = d.frames[0].height;
  uint64_t last = 0;
  for (int i = 0; i < TAKES; i++) {
    uint64_t k = 0;
    int rc = ifd_vk_ring_take_latest(ring, 5 * SECOND, &k);
    CHECK_RC(rc, 0);
    if (rc != 0) break;
    CHECK(k > last);
    last = k;
    CHECK_RC(ifd_vk_ring_wait_ready(ring, k, 5 * SECOND), 0);
    ifd_vk_frame *f = ifd_vk_ring_frame(ring, k);
    REQUIRE(f != NULL);
    if (vkr_draw(&c.vk, f, VK_NULL_HANDLE, 0, VK_NULL_HANDLE, 0) == 0) {
      char label[48];
      snprintf(label, sizeof(label), "consumer process: frame %llu", (unsigned long long)k);
      test_compare_image(label, c.vk.mapped, d.frames[0].format, w, h, (uint32_t)k);
    } else {
      test_failures++;
    }
    REQUIRE(write(release_fd, &k, sizeof(k)) == (ssize_t)sizeof(k)); /* "release k" */
    test_sleep_ns(5 * TEST_MS);
  }
  ifd_vk_ring_destroy(ring);
  consumer_close(&c);
  close(release_fd);
  return test_finish("ring_mailbox_process (consumer)");
}

/* ------------------------------------------------------------ producer */

/* The description's fds, made inheritable (they are close-on-exec). */
static void inheritable(const ifd_ring_desc *d) {
  for (uint32_t i = 0; i < d->count; i++)
    REQUIRE(fcntl(d->frames[i].memory_fd, F_SETFD, 0) == 0);
  REQUIRE(fcntl(d->control_fd, F_SETFD, 0) == 0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 4 && strcmp(argv[1], "--consumer") == 0)
    return consumer_main(argv[2], atoi(argv[3]));
  ifd_context *ctx = NULL;
  int rc = ifd_context_create(IFD_BACKEND_VULKAN, 0, &ctx);
  if (rc == -ENODEV || rc == -EOPNOTSUPP) SKIP("no Vulkan producer device: %s", ifd_last_error());
  REQUIRE(rc == 0);
  ifd_context_destroy(ctx); /* drivers keep fds of their first use to exit */
  const int fds = test_count_fds();
  tp_producer p;
  REQUIRE(tp_open(&p, IFD_BACKEND_VULKAN) == 0);
  test_watch("the two-process MAILBOX run", 240);
  ifd_ring *ring = NULL;
  REQUIRE(ifd_ring_create_mode(p.ctx, COUNT, 40, 24, MAX_FMT_RGBA8, IFD_RING_MAILBOX, &ring) == 0);
  if (ifd_ring_release(ring)) {
    /* The consumer process would release on its device; this test sends
     * releases back by hand, which only a ring without timelines needs. */
    ifd_ring_destroy(ring);
    tp_close(&p);
    SKIP("the producer's ring has timelines: the consumer process releases on the device "
         "(ring_mailbox_cuda covers it in one process)");
  }
  ifd_ring_desc d;
  REQUIRE(ifd_ring_export(ring, &d) == 0);
  inheritable(&d);
  char hex[2 * sizeof(d) + 1];
  for (size_t i = 0; i < sizeof(d); i++) snprintf(hex + 2 * i, 3, "%02x", ((uint8_t *)&d)[i]);
  int releases[2];
  REQUIRE(pipe(releases) == 0);
  REQUIRE(fcntl(releases[0], F_SETFD, FD_CLOEXEC) == 0 &&
          fcntl(releases[0], F_SETFL, O_NONBLOCK) == 0);
  char fd_text[16];
  snprintf(fd_text, sizeof(fd_text), "%d", releases[1]);
  char *child_argv[] = {argv[0], "--consumer", hex, fd_text, NULL};
  pid_t child = -1;
  REQUIRE(posix_spawn(&child, "/proc/self/exe", NULL, NULL, child_argv, environ) == 0);
  close(releases[1]);
  ifd_ring_desc_close(&d); /* the child holds its own copies */

  /* Free-running producer; releases from the consumer process as they come. */
  uint64_t k = 0, released = 0;
  int timeouts = 0, errors = 0;
  for (;;) {
    uint64_t got = 0;
    ssize_t n;
    while ((n = read(releases[0], &got, sizeof(got))) == (ssize_t)sizeof(got)) {
      CHECK_RC(ifd_ring_release_frame(ring, got), 0);
      released = got;
    }
    if (n == 0) break; /* the consumer process is done */
    ifd_image *img = NULL;
    rc = ifd_ring_begin_frame(ring, 0, &k, &img);
    if (rc == -ETIMEDOUT) {
      timeouts++;
      test_sleep_ns(TEST_MS);
      continue;
    }
    if (rc == 0) rc = tp_fill(&p, img, (uint32_t)k);
    if (rc == 0) rc = ifd_ring_end_frame(ring, k);
    if (rc != 0 && errors++ == 0) fprintf(stderr, "producer: %s\n", ifd_last_error());
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  test_unwatch();
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(timeouts == 0 && errors == 0);
  CHECK(released > 0 && k > released);
  printf("producer: %llu frames, never waited (%d timeouts); the consumer process took %d, "
         "the last %llu\n",
         (unsigned long long)k, timeouts, TAKES, (unsigned long long)released);
  close(releases[0]);
  ifd_ring_destroy(ring);
  tp_close(&p);
  int now = test_count_fds();
  if (now != fds) {
    fprintf(stderr, "%d fds open, %d at the start\n", now, fds);
    test_print_fds("after");
  }
  CHECK(now == fds);
  return test_finish("ring_mailbox_process");
}
