/* An I/O thread: serves device work that does not come from a vCPU exit —
 * a backend fd that became readable, a moderation timer that expired.
 *
 * Sources register an fd (or -1) and a deadline function. The thread sleeps
 * in ppoll() until an fd is readable, the earliest deadline passes, or
 * io_thread_notify() is told of an earlier deadline (a vCPU armed a timer). */
#ifndef VPIO_IO_THREAD_H
#define VPIO_IO_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IO_THREAD_MAX_SOURCES 8

struct io_source {
    int fd;                                  /* polled for readability, or -1 */
    void (*on_ready)(void *opaque);          /* fd readable */
    uint64_t (*next_deadline)(void *opaque); /* absolute CLOCK_MONOTONIC ns, UINT64_MAX = none */
    void (*on_deadline)(void *opaque, uint64_t now_ns);
    void *opaque;
};

struct io_thread {
    pthread_t tid;
    bool running;
    int wake_fd; /* eventfd */
    atomic_bool stop;
    atomic_uint_fast64_t sleep_until; /* deadline the thread sleeps towards */
    struct io_source sources[IO_THREAD_MAX_SOURCES];
    int count;
    uint64_t wakeups, deadline_runs, ready_runs; /* counters */
};

int io_thread_init(struct io_thread *t);
/* Before io_thread_start() only. */
int io_thread_add(struct io_thread *t, const struct io_source *src);
int io_thread_start(struct io_thread *t);
/* Called after a vCPU changed a source's deadline: wakes the thread if the
 * new deadline is earlier than the one it sleeps towards. Cheap otherwise. */
void io_thread_notify(struct io_thread *t, uint64_t deadline_ns);
void io_thread_stop(struct io_thread *t);

#endif
