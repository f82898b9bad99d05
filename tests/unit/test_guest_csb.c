/* Unit tests of the guest e1000 driver's discipline logic
 * (guest/drivers/e1000_csb.c), built for the host: txmode parsing, the CSB
 * detection/fallback decision, the send-combining decision, the CSB layout,
 * an exhaustive check of the two-sided sleep/kick protocol over every
 * interleaving of its memory operations, and two threaded simulations in
 * which a thread plays the device side of docs/csb.md (TX: an I/O thread that
 * sleeps on a doorbell; RX: a producer that sleeps when out of buffers and
 * interrupts only when the guest asked) while the test thread runs the guest
 * side through the real functions, over random bursts and idle gaps. A lost
 * wake-up shows up as a bounded wait timing out with work pending.
 *
 * CSB_TEST_SECONDS (default 1) sets how long each threaded test runs;
 * CSB_TEST_SEED its random seed. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../guest/drivers/e1000_csb.c"
#include "vpio/clock.h"

/* ---- pure decisions ---- */

static void test_txmode_parse(void **state)
{
    assert_int_equal(e1000_txmode_parse(NULL), E1000_TX_CLASSIC);
    assert_int_equal(e1000_txmode_parse(""), E1000_TX_CLASSIC);
    assert_int_equal(e1000_txmode_parse("classic"), E1000_TX_CLASSIC);
    assert_int_equal(e1000_txmode_parse("sc"), E1000_TX_SC);
    assert_int_equal(e1000_txmode_parse("csb"), E1000_TX_CSB);
    assert_int_equal(e1000_txmode_parse("CSB"), -1);
    assert_int_equal(e1000_txmode_parse("s"), -1);
    assert_int_equal(e1000_txmode_parse("scx"), -1);
    assert_string_equal(e1000_txmode_name(E1000_TX_SC), "sc");
    assert_string_equal(e1000_txmode_name(E1000_TX_CSB), "csb");
    assert_string_equal(e1000_txmode_name(7), "?");
}

static void test_detection_and_fallback(void **state)
{
    assert_true(csb_offered(0x8086, 0x1101));
    assert_false(csb_offered(0x1af4, 0x1100)); /* QEMU's e1000 */
    assert_false(csb_offered(0x8086, 0x100e)); /* plain vpio e1000 */
    assert_false(csb_offered(0x1af4, 0x1101));
    /* CSBAL read back: enable bit and the page address must both be there. */
    assert_true(csb_readback_ok(0x00345001, 0x00345000));
    assert_false(csb_readback_ok(0x00345000, 0x00345000)); /* device refused */
    assert_false(csb_readback_ok(0x00000001, 0x00345000)); /* address lost */
    assert_false(csb_readback_ok(0xffffffff, 0x00345000)); /* no device / all ones */
    /* csb only if offered and accepted; otherwise sc; other modes untouched. */
    assert_int_equal(e1000_txmode_resolve(E1000_TX_CSB, true, true), E1000_TX_CSB);
    assert_int_equal(e1000_txmode_resolve(E1000_TX_CSB, false, false), E1000_TX_SC);
    assert_int_equal(e1000_txmode_resolve(E1000_TX_CSB, true, false), E1000_TX_SC);
    assert_int_equal(e1000_txmode_resolve(E1000_TX_CSB, false, true), E1000_TX_SC);
    assert_int_equal(e1000_txmode_resolve(E1000_TX_SC, true, true), E1000_TX_SC);
    assert_int_equal(e1000_txmode_resolve(E1000_TX_CLASSIC, true, true), E1000_TX_CLASSIC);
}

static void test_sc_decision(void **state)
{
    /* No interrupt pending: write. */
    assert_true(sc_should_write(false, 5, 5, false, 0, 100));
    /* Pending, no interrupt since the write: defer. */
    assert_false(sc_should_write(true, 5, 5, false, 10, 100));
    /* The interrupt came (count moved, also across wrap): write. */
    assert_true(sc_should_write(true, 5, 6, false, 10, 100));
    assert_true(sc_should_write(true, 0xffffffffu, 0, false, 10, 100));
    /* Ring would stall: write even though pending. */
    assert_true(sc_should_write(true, 5, 5, true, 10, 100));
    /* Lost interrupt: bounded by the timeout. */
    assert_false(sc_should_write(true, 5, 5, false, 99, 100));
    assert_true(sc_should_write(true, 5, 5, false, 100, 100));
}

static void test_layout_and_init(void **state)
{
    static struct e1000_csb c __attribute__((aligned(4096)));
    assert_int_equal(sizeof(c), 4096);
    assert_int_equal(offsetof(struct e1000_csb, guest_tdt), 0x00);
    assert_int_equal(offsetof(struct e1000_csb, guest_rdt), 0x04);
    assert_int_equal(offsetof(struct e1000_csb, guest_need_txintr), 0x08);
    assert_int_equal(offsetof(struct e1000_csb, guest_need_rxintr), 0x0c);
    assert_int_equal(offsetof(struct e1000_csb, host_tdh), 0x40);
    assert_int_equal(offsetof(struct e1000_csb, host_rdh), 0x44);
    assert_int_equal(offsetof(struct e1000_csb, host_need_txkick), 0x48);
    assert_int_equal(offsetof(struct e1000_csb, host_need_rxkick), 0x4c);
    memset(&c, 0xa5, sizeof(c));
    csb_init(&c, 3, 1023);
    assert_int_equal(c.guest_tdt, 3);
    assert_int_equal(c.guest_rdt, 1023);
    assert_int_equal(c.guest_need_txintr, 0);
    assert_int_equal(c.guest_need_rxintr, 1); /* first frame is announced */
    /* Host indices out of range read as "no progress". */
    c.host_tdh = 300;
    c.host_rdh = 5000;
    assert_int_equal(csb_host_tdh(&c, 256, 17), 17);
    assert_int_equal(csb_host_rdh(&c, 1024, 9), 9);
    c.host_tdh = 255;
    assert_int_equal(csb_host_tdh(&c, 256, 17), 255);
}

static void test_publish_and_sleep_checks(void **state)
{
    static struct e1000_csb c __attribute__((aligned(4096)));
    memset(&c, 0, sizeof(c));
    csb_init(&c, 0, 1023);
    /* Host awake: publishing needs no kick. */
    c.host_need_txkick = 0;
    assert_false(csb_tx_publish(&c, 10));
    assert_int_equal(c.guest_tdt, 10);
    /* Host asleep: kick. */
    c.host_need_txkick = 1;
    assert_true(csb_tx_publish(&c, 11));
    c.host_need_rxkick = 0;
    assert_false(csb_rx_publish(&c, 20));
    c.host_need_rxkick = 1;
    assert_true(csb_rx_publish(&c, 21));
    assert_int_equal(c.guest_rdt, 21);
    /* RX sleep: nothing new (host_rdh == rx_next) -> may sleep, flag stays. */
    c.host_rdh = 7;
    c.guest_need_rxintr = 0;
    assert_true(csb_rx_sleep_ok(&c, 7, 1024));
    assert_int_equal(c.guest_need_rxintr, 1);
    csb_rx_awake(&c);
    assert_int_equal(c.guest_need_rxintr, 0);
    /* Frames appeared: do not sleep, flag cleared again. */
    c.host_rdh = 9;
    assert_false(csb_rx_sleep_ok(&c, 7, 1024));
    assert_int_equal(c.guest_need_rxintr, 0);
    /* TX full at tx_clean: host has not moved -> sleep; has moved -> go on. */
    c.host_tdh = 40;
    assert_true(csb_tx_sleep_ok(&c, 40, 256));
    assert_int_equal(c.guest_need_txintr, 1);
    csb_tx_awake(&c);
    c.host_tdh = 45;
    assert_false(csb_tx_sleep_ok(&c, 40, 256));
    assert_int_equal(c.guest_need_txintr, 0);
}

/* ---- every interleaving of the two-sided protocol ----
 * Producer P: (p1) store index, (p2) fence + load peer flag -> notify if set.
 * Sleeper S: (s1) store flag, (s2) fence + load index -> sleep if unchanged.
 * Program order p1<p2, s1<s2; under the fences the outcome is that of some
 * interleaving of the four (sequential consistency). For each of the six,
 * run the real guest functions for the guest's steps and the model for the
 * host's: never "sleeper sleeps and producer does not notify". */
struct ilv_state {
    struct e1000_csb c;
    bool notified, slept;
};

/* Guest produces TX (csb_tx_publish = p1+p2 fused, so only the orders with
 * p1,p2 adjacent are reachable with the real function); host sleeps. */
static void run_tx_order(const char *order)
{
    static struct ilv_state st __attribute__((aligned(4096)));
    memset(&st, 0, sizeof(st));
    csb_init(&st.c, 0, 0);
    u32 host_seen_tdh = 0;
    for (const char *o = order; *o; o++) {
        switch (*o) {
        case 'P': /* guest: publish (p1 p2) */
            st.notified = csb_tx_publish(&st.c, 1);
            break;
        case 's': /* host: set need_txkick */
            __atomic_store_n(&st.c.host_need_txkick, 1, __ATOMIC_RELEASE);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            break;
        case 'S': /* host: re-read, decide */
            st.slept = __atomic_load_n(&st.c.guest_tdt, __ATOMIC_ACQUIRE) == host_seen_tdh;
            if (!st.slept)
                st.c.host_need_txkick = 0;
            break;
        }
    }
    assert_false(st.slept && !st.notified);
}

/* Host produces RX (model, split p1/p2); guest sleeps with the real
 * csb_rx_sleep_ok (s1+s2 fused). */
static void run_rx_order(const char *order)
{
    static struct ilv_state st __attribute__((aligned(4096)));
    memset(&st, 0, sizeof(st));
    csb_init(&st.c, 0, 0);
    st.c.guest_need_rxintr = 0; /* guest was polling */
    for (const char *o = order; *o; o++) {
        switch (*o) {
        case 'p': /* host: publish rdh */
            __atomic_store_n(&st.c.host_rdh, 1, __ATOMIC_RELEASE);
            break;
        case 'q': /* host: fence, read flag */
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            st.notified = __atomic_load_n(&st.c.guest_need_rxintr, __ATOMIC_ACQUIRE) != 0;
            break;
        case 'S': /* guest: flag, fence, re-check */
            st.slept = csb_rx_sleep_ok(&st.c, 0, 1024);
            break;
        }
    }
    assert_false(st.slept && !st.notified);
}

static void test_all_interleavings(void **state)
{
    /* TX: host steps s,S split; guest P fused: P can go before s, between, after. */
    run_tx_order("PsS");
    run_tx_order("sPS");
    run_tx_order("sSP");
    /* RX: host steps p,q split; guest S fused. */
    run_rx_order("Spq");
    run_rx_order("pSq");
    run_rx_order("pqS");
    /* And the full 6 interleavings with both sides split (the model alone),
     * as a check of the reasoning in docs/csb.md. */
    const char *six[] = {"abAB", "aAbB", "aABb", "AabB", "AaBb", "ABab"};
    for (int i = 0; i < 6; i++) {
        u32 idx = 0, flag = 0;
        bool notified = false, slept = false;
        for (const char *o = six[i]; *o; o++) {
            if (*o == 'a')
                idx = 1; /* producer publishes */
            else if (*o == 'b')
                notified = flag; /* producer reads flag */
            else if (*o == 'A')
                flag = 1; /* sleeper sets flag */
            else
                slept = idx == 0; /* sleeper re-reads */
        }
        assert_false(slept && !notified);
    }
}

/* ---- threaded simulations ---- */

/* An eventfd-like counter: signal adds, wait returns when it moved past
 * `seen` or after timeout_ms (returns false on timeout). */
struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    u64 n;
};

static void counter_init(struct counter *k)
{
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    k->n = 0;
}

static void counter_signal(struct counter *k)
{
    pthread_mutex_lock(&k->mu);
    k->n++;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static u64 counter_get(struct counter *k)
{
    pthread_mutex_lock(&k->mu);
    u64 n = k->n;
    pthread_mutex_unlock(&k->mu);
    return n;
}

static bool counter_wait(struct counter *k, u64 seen, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->mu);
    int rc = 0;
    while (k->n == seen && rc == 0)
        rc = pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    bool moved = k->n != seen;
    pthread_mutex_unlock(&k->mu);
    return moved;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned rnd(unsigned *seed, unsigned n)
{
    return (unsigned)rand_r(seed) % n;
}

static void short_gap(unsigned *seed)
{
    unsigned r = rnd(seed, 10);
    if (r < 4)
        return; /* back to back */
    if (r < 8) {
        for (unsigned i = rnd(seed, 2000); i; i--)
            __asm__ volatile("pause");
        return;
    }
    struct timespec ts = {0, (long)rnd(seed, 300) * 1000L}; /* up to 300 us idle */
    nanosleep(&ts, NULL);
}

static double test_seconds(void)
{
    const char *e = getenv("CSB_TEST_SECONDS");
    double s = e ? atof(e) : 1.0;
    return s > 0 ? s : 1.0;
}

static unsigned test_seed(void)
{
    const char *e = getenv("CSB_TEST_SEED");
    return e ? (unsigned)strtoul(e, NULL, 0) : 12345u;
}

#define NTX 256
#define NRX 256

struct sim {
    struct e1000_csb csb __attribute__((aligned(4096)));
    u32 desc[NRX > NTX ? NRX : NTX]; /* "descriptor" payload: a sequence */
    struct counter doorbell;         /* TDT/RDT writes (ioeventfd) */
    struct counter irq;              /* interrupts to the guest */
    volatile int stop;
    u64 processed, bad, host_sleeps, irqs_sent, host_stuck;
    u32 total; /* RX: frames the host produces */
    unsigned seed;
};

/* The device sleeps on its doorbell. If the guest's index has moved and no
 * kick came for a whole second, the wake-up was lost: count it and wake up
 * anyway so the test ends (and fails). */
static void host_sleep(struct sim *s, u64 seen, u32 *guest_index, u32 old)
{
    int stuck_ms = 0;
    while (!s->stop && !counter_wait(&s->doorbell, seen, 100)) {
        if (__atomic_load_n(guest_index, __ATOMIC_ACQUIRE) == old) {
            stuck_ms = 0;
            continue;
        }
        if ((stuck_ms += 100) >= 1000) {
            s->host_stuck++;
            return;
        }
    }
}

/* The device's TX I/O thread, per docs/csb.md: serve while there is work,
 * poll briefly, then set host_need_txkick, fence, re-check guest_tdt, sleep
 * on the doorbell. It never trusts an index >= NTX. */
static void *tx_device(void *arg)
{
    struct sim *s = arg;
    struct e1000_csb *c = &s->csb;
    u32 tdh = 0, expect = 0;
    while (!s->stop) {
        u32 tdt = __atomic_load_n(&c->guest_tdt, __ATOMIC_ACQUIRE);
        if (tdt < NTX && tdt != tdh) {
            while (tdh != tdt) {
                if (s->desc[tdh] != expect)
                    s->bad++;
                expect++;
                s->processed++;
                tdh = (tdh + 1) % NTX;
            }
            __atomic_store_n(&c->host_tdh, tdh, __ATOMIC_RELEASE);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (__atomic_load_n(&c->guest_need_txintr, __ATOMIC_ACQUIRE)) {
                s->irqs_sent++;
                counter_signal(&s->irq);
            }
            continue;
        }
        bool work = false;
        for (int i = 0; i < 50 && !work; i++) { /* bounded poll */
            __asm__ volatile("pause");
            work = __atomic_load_n(&c->guest_tdt, __ATOMIC_ACQUIRE) != tdh;
        }
        if (work)
            continue;
        u64 seen = counter_get(&s->doorbell);
        __atomic_store_n(&c->host_need_txkick, 1, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&c->guest_tdt, __ATOMIC_ACQUIRE) == tdh) {
            s->host_sleeps++;
            /* Sleeping with work pending would be a lost wake-up: the guest
             * checks for that with a bounded wait on its side. */
            host_sleep(s, seen, &c->guest_tdt, tdh);
        }
        __atomic_store_n(&c->host_need_txkick, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void test_tx_no_lost_wakeup(void **state)
{
    static struct sim s;
    memset(&s, 0, sizeof(s));
    counter_init(&s.doorbell);
    counter_init(&s.irq);
    csb_init(&s.csb, 0, 0);
    s.csb.host_need_txkick = 1; /* the device's enable values */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tx_device, &s), 0);

    unsigned seed = test_seed();
    u32 tail = 0, clean = 0, seq = 0;
    u64 publishes = 0, kicks = 0, tx_sleeps = 0, sent = 0, stalls = 0;
    double end = now_s() + test_seconds();
    while (now_s() < end) {
        unsigned burst = 1 + rnd(&seed, 3 * NTX);
        unsigned per_publish = 1 + rnd(&seed, 64);
        unsigned filled = 0;
        while (burst) {
            clean = csb_host_tdh(&s.csb, NTX, clean);
            u32 space = (clean + NTX - 1 - tail) % NTX;
            if (!space) {
                if (filled) { /* publish what we have first */
                    publishes++;
                    if (csb_tx_publish(&s.csb, tail)) {
                        kicks++;
                        counter_signal(&s.doorbell);
                    }
                    filled = 0;
                    continue;
                }
                /* Ring full: the double check, then wait for the TX interrupt. */
                u64 seen = counter_get(&s.irq);
                if (csb_tx_sleep_ok(&s.csb, clean, NTX)) {
                    tx_sleeps++;
                    if (!counter_wait(&s.irq, seen, 2000))
                        stalls++;
                    csb_tx_awake(&s.csb);
                }
                continue;
            }
            s.desc[tail] = seq++;
            tail = (tail + 1) % NTX;
            sent++;
            burst--;
            if (++filled >= per_publish || !burst) {
                publishes++;
                if (csb_tx_publish(&s.csb, tail)) {
                    kicks++;
                    counter_signal(&s.doorbell);
                }
                filled = 0;
            }
        }
        short_gap(&seed);
    }
    /* Everything published must be consumed without another kick. */
    double deadline = now_s() + 2.0;
    while (__atomic_load_n(&s.csb.host_tdh, __ATOMIC_ACQUIRE) != tail && now_s() < deadline)
        sched_yield();
    u32 final_tdh = __atomic_load_n(&s.csb.host_tdh, __ATOMIC_ACQUIRE);
    s.stop = 1;
    counter_signal(&s.doorbell);
    pthread_join(th, NULL);
    print_message("tx: %llu frames, %llu publishes, %llu kicks, %llu host sleeps, %llu guest "
                  "tx sleeps, %llu irqs\n",
                  (unsigned long long)sent, (unsigned long long)publishes,
                  (unsigned long long)kicks, (unsigned long long)s.host_sleeps,
                  (unsigned long long)tx_sleeps, (unsigned long long)s.irqs_sent);
    assert_int_equal(final_tdh, tail);
    assert_int_equal(s.processed, sent);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.host_stuck, 0);
    assert_int_equal(stalls, 0);
    assert_true(kicks <= publishes);
    assert_true(kicks >= 1); /* the first one is announced */
}

/* The device's RX side: frames arrive in random bursts with idle gaps; it
 * fills free buffers [rdh, guest_rdt), publishes host_rdh, and interrupts
 * only if guest_need_rxintr; out of buffers it sets host_need_rxkick, fences,
 * re-checks guest_rdt and sleeps on the doorbell. */
static void *rx_device(void *arg)
{
    struct sim *s = arg;
    struct e1000_csb *c = &s->csb;
    unsigned seed = s->seed;
    u32 rdh = 0, seq = 0;
    while (seq < s->total && !s->stop) {
        unsigned burst = 1 + rnd(&seed, 2 * NRX);
        while (burst && seq < s->total && !s->stop) {
            u32 rdt = __atomic_load_n(&c->guest_rdt, __ATOMIC_ACQUIRE);
            if (rdt >= NRX)
                rdt = rdh; /* invalid: treat as no buffers */
            u32 produced = 0;
            while (rdh != rdt && burst && seq < s->total) {
                s->desc[rdh] = seq++;
                rdh = (rdh + 1) % NRX;
                burst--;
                produced++;
            }
            if (produced) {
                __atomic_store_n(&c->host_rdh, rdh, __ATOMIC_RELEASE);
                __atomic_thread_fence(__ATOMIC_SEQ_CST);
                if (__atomic_load_n(&c->guest_need_rxintr, __ATOMIC_ACQUIRE)) {
                    s->irqs_sent++;
                    counter_signal(&s->irq);
                }
                continue;
            }
            /* Out of buffers: sleep until the guest refills (RDT kick). */
            u64 seen = counter_get(&s->doorbell);
            __atomic_store_n(&c->host_need_rxkick, 1, __ATOMIC_RELEASE);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (__atomic_load_n(&c->guest_rdt, __ATOMIC_ACQUIRE) == rdt) {
                s->host_sleeps++;
                host_sleep(s, seen, &c->guest_rdt, rdt);
            }
            __atomic_store_n(&c->host_need_rxkick, 0, __ATOMIC_RELEASE);
        }
        short_gap(&seed);
    }
    return NULL;
}

static void test_rx_no_lost_wakeup(void **state)
{
    static struct sim s;
    memset(&s, 0, sizeof(s));
    counter_init(&s.doorbell);
    counter_init(&s.irq);
    s.seed = test_seed() ^ 0x9e3779b9u;
    /* Enough frames for about test_seconds() of bursts and gaps. */
    s.total = (u32)(test_seconds() * 200000);
    csb_init(&s.csb, 0, NRX - 1);
    s.csb.host_need_rxkick = 1;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, rx_device, &s), 0);

    unsigned seed = test_seed();
    u32 next = 0, got = 0, bad = 0;
    u64 sleeps = 0, lost = 0, refills = 0, kicks = 0;
    while (got < s.total) {
        u32 rdh = csb_host_rdh(&s.csb, NRX, next);
        u32 n = 0;
        unsigned budget = 1 + rnd(&seed, NRX);
        while (next != rdh && n < budget) {
            if (s.desc[next] != got)
                bad++;
            got++;
            n++;
            next = (next + 1) % NRX;
        }
        if (n) {
            refills++;
            if (csb_rx_publish(&s.csb, (next + NRX - 1) % NRX)) {
                kicks++;
                counter_signal(&s.doorbell);
            }
            if (rnd(&seed, 8) == 0)
                short_gap(&seed); /* a slow guest, now and then */
            continue;
        }
        /* Nothing: the race-free sleep ("cli" = read the irq count first). */
        u64 seen = counter_get(&s.irq);
        if (csb_rx_sleep_ok(&s.csb, next, NRX)) {
            sleeps++;
            if (!counter_wait(&s.irq, seen, 2000)) {
                /* 2 s without an interrupt: a lost wake-up if frames wait. */
                if (csb_host_rdh(&s.csb, NRX, next) != next)
                    lost++;
                break;
            }
        }
        csb_rx_awake(&s.csb);
    }
    s.stop = 1;
    counter_signal(&s.doorbell);
    pthread_join(th, NULL);
    print_message("rx: %u frames, %llu refills, %llu kicks, %llu guest sleeps, %llu irqs, "
                  "%llu host sleeps\n",
                  got, (unsigned long long)refills, (unsigned long long)kicks,
                  (unsigned long long)sleeps, (unsigned long long)s.irqs_sent,
                  (unsigned long long)s.host_sleeps);
    assert_int_equal(lost, 0);
    assert_int_equal(got, s.total);
    assert_int_equal(bad, 0);
    assert_int_equal(s.host_stuck, 0);
    assert_true(kicks <= refills);
}

/* Kick once per host sleep: repeated publishes against the same sleeping
 * flag value kick once; a new sleep (new value) kicks again; an awake host
 * (0) never. */
static void kick_once_per_sleep(void **state)
{
    (void)state;
    u32 last = 0;
    assert_false(csb_kick_once(0, &last));
    assert_true(csb_kick_once(7, &last));
    assert_false(csb_kick_once(7, &last));
    assert_false(csb_kick_once(7, &last));
    assert_false(csb_kick_once(0, &last));
    assert_true(csb_kick_once(8, &last));
    struct e1000_csb c;
    csb_init(&c, 0, 0);
    last = 0;
    __atomic_store_n(&c.host_need_txkick, 3, __ATOMIC_SEQ_CST);
    assert_true(csb_tx_publish_once(&c, 1, &last));
    assert_false(csb_tx_publish_once(&c, 2, &last));
    assert_int_equal(c.guest_tdt, 2);
    __atomic_store_n(&c.host_need_rxkick, 5, __ATOMIC_SEQ_CST);
    u32 rlast = 0;
    assert_true(csb_rx_publish_once(&c, 9, &rlast));
    assert_false(csb_rx_publish_once(&c, 10, &rlast));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kick_once_per_sleep),
        cmocka_unit_test(test_txmode_parse),
        cmocka_unit_test(test_detection_and_fallback),
        cmocka_unit_test(test_sc_decision),
        cmocka_unit_test(test_layout_and_init),
        cmocka_unit_test(test_publish_and_sleep_checks),
        cmocka_unit_test(test_all_interleavings),
        cmocka_unit_test(test_tx_no_lost_wakeup),
        cmocka_unit_test(test_rx_no_lost_wakeup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
