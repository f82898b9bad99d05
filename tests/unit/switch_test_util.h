/* Shared by the switch's unit tests (tests/unit/test_switch_*.c, one per
 * source file of src/switch): a switch per test (/dev/shm/vpio-ut<pid>-<n>,
 * removed by teardown), frames, send and drain helpers, a fake clock, a
 * child process owning a port. Header-only: each test binary includes it
 * once. */
#ifndef VPIO_TEST_SWITCH_UTIL_H
#define VPIO_TEST_SWITCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "switch/sw_internal.h"
#include "vpio/switch.h"

static char swname[VPIO_SW_NAME_MAX];
static int swseq;

static uint64_t fake_ms;
static uint64_t fake_clock(void)
{
    return fake_ms;
}

static int setup(void **state)
{
    (void)state;
    snprintf(swname, sizeof swname, "ut%d-%d", (int)getpid(), ++swseq);
    sw_now_ms = sw_clock_ms;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sw_now_ms = sw_clock_ms;
    vpio_switch_remove(swname, 1);
    return 0;
}

static struct vpio_port *open_port(const char *pname)
{
    char ifname[80];
    struct vpio_port *p = NULL;
    snprintf(ifname, sizeof ifname, "%s:%s", swname, pname);
    int rc = vpio_port_open(&p, ifname, 0);
    assert_int_equal(rc, 0);
    assert_non_null(p);
    return p;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void mac_of(uint8_t m[6], unsigned n)
{
    uint8_t t[6] = {0x02, 0, 0, 0, 0, (uint8_t)n};
    memcpy(m, t, 6);
}

/* frame: dst, src(n), ethertype, payload = seq (4 bytes) + fill */
static void make_frame(uint8_t *f, uint32_t len, const uint8_t *dst, unsigned src, uint32_t seq)
{
    memset(f, 0, len);
    memcpy(f, dst, 6);
    mac_of(f + 6, src);
    f[12] = 0x88;
    f[13] = 0xb5;
    if (len >= 18)
        memcpy(f + 14, &seq, 4);
    for (uint32_t i = 18; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seq);
}

static unsigned send_n(struct vpio_port *p, const uint8_t *dst, unsigned src, unsigned n,
                       uint32_t len, uint32_t seq0)
{
    static uint8_t frames[VPIO_SW_BATCH][2048];
    struct vpio_pkt pk[VPIO_SW_BATCH];
    unsigned ok = 0;
    while (n) {
        unsigned k = n < VPIO_SW_BATCH ? n : VPIO_SW_BATCH;
        for (unsigned i = 0; i < k; i++) {
            make_frame(frames[i], len, dst, src, seq0 + i);
            pk[i] = (struct vpio_pkt){.data = frames[i], .len = len};
        }
        ok += vpio_port_send_batch(p, pk, k);
        n -= k;
        seq0 += k;
    }
    return ok;
}

static unsigned drain(struct vpio_port *p)
{
    static uint8_t buf[64][VPIO_SW_MAX_FRAME];
    struct vpio_rxpkt rp[64];
    unsigned total = 0, got;
    do {
        for (int i = 0; i < 64; i++)
            rp[i] = (struct vpio_rxpkt){.buf = buf[i], .cap = sizeof buf[i]};
        got = vpio_port_recv_batch(p, rp, 64);
        total += got;
    } while (got);
    return total;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A child that attaches port `pname` and waits (never closes); returns its
 * pid once the port is attached. */
static pid_t child_port(const char *pname)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char ifname[80];
        struct vpio_port *d;
        close(ready[0]);
        snprintf(ifname, sizeof ifname, "%s:%s", swname, pname);
        char ok = vpio_port_open(&d, ifname, 0) == 0;
        if (write(ready[1], &ok, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    close(ready[1]);
    char ok = 0;
    assert_int_equal(read(ready[0], &ok, 1), 1);
    close(ready[0]);
    assert_true(ok);
    return pid;
}

static int find_port(struct sw_arena *ar, const char *name)
{
    for (int i = 0; i < VPIO_SW_MAX_PORTS; i++)
        if (ar->ports[i].state == SW_PORT_ACTIVE && !strcmp(ar->ports[i].name, name))
            return i;
    return -1;
}

/* unused helpers in one test file are fine */
#define SWITCH_TEST_UNUSED(x) (void)(x)
static inline void switch_test_use_all(void)
{
    SWITCH_TEST_UNUSED(open_port);
    SWITCH_TEST_UNUSED(send_n);
    SWITCH_TEST_UNUSED(drain);
    SWITCH_TEST_UNUSED(mono);
    SWITCH_TEST_UNUSED(child_port);
    SWITCH_TEST_UNUSED(find_port);
    SWITCH_TEST_UNUSED(fake_clock);
    SWITCH_TEST_UNUSED(BCAST);
}

#endif
