/* io_cpus: an I/O thread moves itself to the --io-cpus set when it starts,
 * whatever affinity it inherited; without a set it stays where it is. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "devif/io_cpus.h"

struct probe {
    int rc;
    cpu_set_t got;
};

static void *thread_main(void *arg)
{
    struct probe *p = arg;
    p->rc = io_cpus_place_self();
    pthread_getaffinity_np(pthread_self(), sizeof(p->got), &p->got);
    return NULL;
}

static struct probe run_thread(void)
{
    struct probe p = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_main, &p), 0);
    pthread_join(t, NULL);
    return p;
}

static void places_new_threads(void **state)
{
    cpu_set_t all;
    assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all))
            last = c;
    assert_true(last >= 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    io_cpus_set(&one);
    struct probe p = run_thread();
    assert_int_equal(p.rc, 0);
    assert_int_equal(CPU_COUNT(&p.got), 1);
    assert_true(CPU_ISSET(last, &p.got));
    /* no set: the thread keeps what it inherited */
    io_cpus_set(NULL);
    p = run_thread();
    assert_int_equal(p.rc, 0);
    assert_true(CPU_EQUAL(&p.got, &all));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(places_new_threads)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
