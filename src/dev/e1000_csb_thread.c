/* The per-NIC CSB I/O thread (see e1000_csb_thread.h, docs/csb.md). */
#include "dev/e1000_csb_thread.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devif/io_cpus.h"
#include "vpio/clock.h"

static void drain(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

int e1000_csb_waiter_init(struct e1000_csb_waiter *w, unsigned poll_us)
{
    *w = (struct e1000_csb_waiter){.doorbell_fd = -1, .stop_fd = -1};
    w->poll_us = poll_us == 0                     ? E1000_CSB_POLL_US_DEFAULT
                 : poll_us == E1000_CSB_POLL_NONE ? 0
                                                  : poll_us;
    w->doorbell_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->doorbell_fd < 0 || w->stop_fd < 0) {
        e1000_csb_waiter_destroy(w);
        return -1;
    }
    return 0;
}

void e1000_csb_waiter_destroy(struct e1000_csb_waiter *w)
{
    if (w->doorbell_fd >= 0)
        close(w->doorbell_fd);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    w->doorbell_fd = w->stop_fd = -1;
}

/* Sleeps until a doorbell, backend input, stop, or the next deadline. */
static void sleep_once(struct e1000 *dev, struct e1000_csb_waiter *w)
{
    struct pollfd p[3] = {{.fd = w->doorbell_fd, .events = POLLIN},
                          {.fd = w->stop_fd, .events = POLLIN},
                          {.fd = -1, .events = POLLIN}};
    int be = dev->backend ? net_poll_fd(dev->backend) : -1;
    if (be >= 0 && e1000_csb_enabled(dev))
        p[2].fd = be;
    uint64_t dl = e1000_next_deadline_ns(dev);
    struct timespec ts, *tp = NULL;
    if (dl != UINT64_MAX) {
        uint64_t now = e1000_now(dev), rel = dl > now ? dl - now : 0;
        ts.tv_sec = (time_t)(rel / 1000000000ull);
        ts.tv_nsec = (long)(rel % 1000000000ull);
        tp = &ts;
    }
    atomic_fetch_add(&w->sleeps, 1);
    int r = ppoll(p, 3, tp, NULL);
    atomic_fetch_add(&w->wakeups, 1);
    if (r > 0 && (p[0].revents & POLLIN)) {
        drain(w->doorbell_fd);
        atomic_fetch_add(&w->doorbell_wakeups, 1);
    }
    if (r > 0 && (p[2].revents & POLLIN))
        atomic_fetch_add(&w->backend_wakeups, 1);
    e1000_csb_wake(dev);
    if (dl != UINT64_MAX) {
        uint64_t now = e1000_now(dev);
        if (now >= dl) {
            atomic_fetch_add(&w->timer_wakeups, 1);
            e1000_timer_expired(dev, now);
        }
    }
}

bool e1000_csb_thread_turn(struct e1000 *dev, struct e1000_csb_waiter *w, uint64_t *idle_since)
{
    unsigned n = e1000_csb_tx_serve(dev);
    n += e1000_csb_rx_serve(dev);
    if (n) {
        atomic_fetch_add(&w->work_rounds, 1);
        *idle_since = 0;
        return true;
    }
    uint64_t now = vpio_now_ns();
    if (!*idle_since)
        *idle_since = now;
    if (now - *idle_since < (uint64_t)w->poll_us * 1000) {
        /* Poll without holding the core: if the guest's vCPU (or anyone)
         * is runnable on this CPU, it runs now -- on a machine with few
         * cores it is often the one that will produce our next work. */
        sched_yield();
        return false;
    }
    if (e1000_csb_prepare_sleep(dev))
        sleep_once(dev, w);
    *idle_since = 0;
    return false;
}

void e1000_csb_thread_run(struct e1000 *dev, struct e1000_csb_waiter *w)
{
    e1000_csb_attach(dev, w->doorbell_fd);
    uint64_t idle_since = 0;
    while (!atomic_load(&w->stop))
        e1000_csb_thread_turn(dev, w, &idle_since);
    e1000_csb_attach(dev, -1);
}

static void *thread_main(void *arg)
{
    struct e1000_csb_waiter *w = arg;
    pthread_setname_np(pthread_self(), "csb-io");
    io_cpus_place_self();
    e1000_csb_thread_run(w->dev, w);
    return NULL;
}

int e1000_csb_thread_start(struct e1000_csb_waiter *w, struct e1000 *dev)
{
    w->dev = dev;
    atomic_store(&w->stop, false);
    if (pthread_create(&w->tid, NULL, thread_main, w) != 0)
        return -1;
    w->running = true;
    return 0;
}

void e1000_csb_thread_stop(struct e1000_csb_waiter *w)
{
    if (!w->running)
        return;
    atomic_store(&w->stop, true);
    uint64_t one = 1;
    ssize_t r = write(w->stop_fd, &one, sizeof(one));
    (void)r;
    pthread_join(w->tid, NULL);
    w->running = false;
    drain(w->stop_fd);
}
