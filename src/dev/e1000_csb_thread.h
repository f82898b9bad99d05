/* The per-NIC CSB I/O thread (docs/csb.md "Device side"). Pure POSIX.
 *
 * Loop: serve TX and RX while there is work; when idle, keep polling the CSB
 * for poll_us; then e1000_csb_prepare_sleep() (flags, full barrier, re-check)
 * and sleep in ppoll() on
 *   - doorbell_fd: an eventfd the guest's kicks reach. Under KVM the VMM binds
 *     it with KVM_IOEVENTFD to BAR0+0x3818 (TDT) and BAR0+0x2818 (RDT), 4 bytes,
 *     no datamatch, while the CSB is enabled; kicks that still reach the model
 *     as MMIO exits (no ioeventfd) are forwarded to it by the model itself;
 *   - the backend's poll fd (new frames), while the CSB is enabled;
 *   - stop_fd (e1000_csb_thread_stop);
 *   - with a timeout at the model's next moderation deadline (the thread runs
 *     e1000_timer_expired() itself).
 * On waking it clears the need-kick flags (e1000_csb_wake) and polls again. */
#ifndef VPIO_E1000_CSB_THREAD_H
#define VPIO_E1000_CSB_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/e1000.h"

#define E1000_CSB_POLL_US_DEFAULT 50

struct e1000_csb_waiter {
    int doorbell_fd;  /* eventfd, EFD_NONBLOCK: bind with KVM_IOEVENTFD */
    int stop_fd;      /* eventfd */
    unsigned poll_us; /* busy-poll time before sleeping */
    atomic_bool stop;
    pthread_t tid;
    bool running;
    struct e1000 *dev;
    /* counters (written by the thread; read after stop, or racy-but-harmless) */
    atomic_uint_fast64_t sleeps, wakeups, doorbell_wakeups, backend_wakeups, timer_wakeups;
    atomic_uint_fast64_t work_rounds; /* serve rounds that made progress */
};

/* Creates the eventfds. poll_us 0 = E1000_CSB_POLL_US_DEFAULT; use
 * E1000_CSB_POLL_NONE for "never poll" (sleep as soon as idle). 0 or -1. */
#define E1000_CSB_POLL_NONE UINT32_MAX
int e1000_csb_waiter_init(struct e1000_csb_waiter *w, unsigned poll_us);
void e1000_csb_waiter_destroy(struct e1000_csb_waiter *w); /* closes the fds */

/* The loop; returns when stopped. Attaches the doorbell to dev on entry and
 * detaches it on exit (then kicks are served inside exits again). */
void e1000_csb_thread_run(struct e1000 *dev, struct e1000_csb_waiter *w);

/* One turn of that loop, for tests and fuzzers that drive it without a
 * thread (after e1000_csb_attach(dev, w->doorbell_fd)): serves TX and RX;
 * when idle for poll_us, the sleeper's double check and, if it allows, one
 * sleep (which returns at once if stop_fd or doorbell_fd is readable).
 * *idle_since: the caller's state, 0 at first. true if it served work. */
bool e1000_csb_thread_turn(struct e1000 *dev, struct e1000_csb_waiter *w, uint64_t *idle_since);

/* Runs the loop in a new pthread / stops and joins it. */
int e1000_csb_thread_start(struct e1000_csb_waiter *w, struct e1000 *dev);
void e1000_csb_thread_stop(struct e1000_csb_waiter *w);

#endif
