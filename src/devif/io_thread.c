/* The I/O thread loop (see io_thread.h). */
#include "devif/io_thread.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devif/io_cpus.h"
#include "vpio/clock.h"

int io_thread_init(struct io_thread *t)
{
    memset(t, 0, sizeof(*t));
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    atomic_init(&t->stop, false);
    atomic_init(&t->sleep_until, 0);
    return t->wake_fd < 0 ? -1 : 0;
}

int io_thread_add(struct io_thread *t, const struct io_source *src)
{
    if (t->running || t->count >= IO_THREAD_MAX_SOURCES)
        return -1;
    t->sources[t->count++] = *src;
    return 0;
}

static void kick(struct io_thread *t)
{
    uint64_t one = 1;
    ssize_t n = write(t->wake_fd, &one, sizeof(one));
    (void)n; /* EAGAIN: the counter is already non-zero, the thread will wake */
}

void io_thread_notify(struct io_thread *t, uint64_t deadline_ns)
{
    if (deadline_ns < atomic_load_explicit(&t->sleep_until, memory_order_acquire))
        kick(t);
}

/* Runs expired deadlines; returns the earliest one still ahead. */
static uint64_t run_deadlines(struct io_thread *t)
{
    uint64_t earliest = UINT64_MAX;
    uint64_t now = vpio_now_ns();
    for (int i = 0; i < t->count; i++) {
        struct io_source *s = &t->sources[i];
        if (!s->next_deadline)
            continue;
        uint64_t d = s->next_deadline(s->opaque);
        if (d <= now) {
            t->deadline_runs++;
            s->on_deadline(s->opaque, now);
            d = s->next_deadline(s->opaque);
            now = vpio_now_ns();
        }
        if (d < earliest)
            earliest = d;
    }
    return earliest;
}

static void *loop(void *arg)
{
    struct io_thread *t = arg;
    pthread_setname_np(pthread_self(), "io");
    io_cpus_place_self();
    struct pollfd fds[IO_THREAD_MAX_SOURCES + 1];
    int owner[IO_THREAD_MAX_SOURCES + 1];
    int n = 0;
    fds[n] = (struct pollfd){.fd = t->wake_fd, .events = POLLIN};
    owner[n++] = -1;
    for (int i = 0; i < t->count; i++)
        if (t->sources[i].fd >= 0) {
            fds[n] = (struct pollfd){.fd = t->sources[i].fd, .events = POLLIN};
            owner[n++] = i;
        }
    while (!atomic_load(&t->stop)) {
        /* Publish the deadline before computing it from the sources, so a
         * vCPU that arms an earlier timer meanwhile either is seen here or
         * sees a deadline it beats, and kicks. */
        atomic_store(&t->sleep_until, 0);
        uint64_t deadline = run_deadlines(t);
        atomic_store(&t->sleep_until, deadline);
        deadline = run_deadlines(t);
        struct timespec ts, *timeout = NULL;
        if (deadline != UINT64_MAX) {
            uint64_t now = vpio_now_ns();
            uint64_t wait = deadline > now ? deadline - now : 0;
            ts.tv_sec = wait / 1000000000ull;
            ts.tv_nsec = wait % 1000000000ull;
            timeout = &ts;
        }
        int r = ppoll(fds, n, timeout, NULL);
        t->wakeups++;
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; r > 0 && i < n; i++) {
            if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
                continue;
            if (owner[i] < 0) {
                uint64_t v;
                ssize_t got = read(t->wake_fd, &v, sizeof(v));
                (void)got;
            } else {
                t->ready_runs++;
                t->sources[owner[i]].on_ready(t->sources[owner[i]].opaque);
            }
        }
    }
    return NULL;
}

int io_thread_start(struct io_thread *t)
{
    /* The thread must not take the vCPU's SIGALRM (the --timeout signal). */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int r = pthread_create(&t->tid, NULL, loop, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return -1;
    t->running = true;
    return 0;
}

void io_thread_stop(struct io_thread *t)
{
    if (t->running) {
        atomic_store(&t->stop, true);
        kick(t);
        pthread_join(t->tid, NULL);
        t->running = false;
    }
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    t->wake_fd = -1;
}
