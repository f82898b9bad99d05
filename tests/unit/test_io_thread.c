/* The I/O thread: readiness callbacks, deadlines, and an earlier deadline
 * announced while it sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devif/io_thread.h"
#include "vpio/clock.h"

struct fake {
    int fd;
    atomic_int ready_calls, deadline_calls;
    atomic_uint_fast64_t deadline;
    uint64_t fired_at;
};

static void on_ready(void *opaque)
{
    struct fake *f = opaque;
    char c;
    ssize_t n = read(f->fd, &c, 1);
    (void)n;
    atomic_fetch_add(&f->ready_calls, 1);
}

static uint64_t next_deadline(void *opaque)
{
    struct fake *f = opaque;
    return atomic_load(&f->deadline);
}

static void on_deadline(void *opaque, uint64_t now)
{
    struct fake *f = opaque;
    f->fired_at = now;
    atomic_store(&f->deadline, UINT64_MAX);
    atomic_fetch_add(&f->deadline_calls, 1);
}

static void wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
        usleep(1000);
}

static void serves_fd_and_deadlines(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fake f = {.fd = p[0]};
    atomic_store(&f.deadline, UINT64_MAX);
    struct io_thread t;
    assert_int_equal(io_thread_init(&t), 0);
    struct io_source src = {.fd = p[0],
                            .on_ready = on_ready,
                            .next_deadline = next_deadline,
                            .on_deadline = on_deadline,
                            .opaque = &f};
    assert_int_equal(io_thread_add(&t, &src), 0);
    assert_int_equal(io_thread_start(&t), 0);

    assert_int_equal(write(p[1], "x", 1), 1);
    wait_for(&f.ready_calls, 1);
    assert_int_equal(atomic_load(&f.ready_calls), 1);

    /* The thread sleeps with no deadline; a vCPU arms one 20 ms ahead. */
    usleep(10000);
    uint64_t due = vpio_now_ns() + 20000000ull;
    atomic_store(&f.deadline, due);
    io_thread_notify(&t, due);
    wait_for(&f.deadline_calls, 1);
    assert_int_equal(atomic_load(&f.deadline_calls), 1);
    assert_true(f.fired_at >= due);
    assert_true(f.fired_at < due + 500000000ull); /* not lost until something else woke it */

    io_thread_stop(&t);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serves_fd_and_deadlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
