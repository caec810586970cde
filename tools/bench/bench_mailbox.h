/* The mailbox scenario of `interop-fd bench` (bench_mailbox.c): what a
 * consumer taking the newest frame of a MAILBOX ring at 60, 120 and 240
 * frames/s costs a CUDA producer that never waits for it, against the
 * platform's floor for the same rates: the same producer beside a bare Vulkan
 * queue that submits a tiny fill at that rate, with no interop. */
#ifndef IFD_TOOLS_BENCH_MAILBOX_H
#define IFD_TOOLS_BENCH_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAILBOX_RATES 3

typedef struct {
  uint32_t rate;                         /* the consumer's frames/s asked */
  double fps, consumer_fps;              /* producer's frames/s; frames taken per s */
  double floor_fps, floor_consumer_fps;  /* the same beside the bare fill */
} bench_mailbox_row;

typedef struct {
  bool measured;
  char why[320];
  uint32_t width, height, count; /* the frames and the ring's count */
  double alone_fps; /* the producer with no consumer */
  bench_mailbox_row rows[BENCH_MAILBOX_RATES];
} bench_mailbox;

/* The table, with each rate's loss next to the floor's. */
void bench_mailbox_print(const bench_mailbox *m, FILE *f);
/* ,"mailbox": {...} */
void bench_mailbox_json(const bench_mailbox *m, FILE *f);

#endif
