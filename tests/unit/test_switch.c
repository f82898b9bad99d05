/* Unit tests of the switch: MAC table, ring arithmetic, forwarding (unicast,
 * flood, learning, aging, full-ring drop, fragments, multi-sender ordering),
 * arena validation and dead-owner reclaim, pktgen argument parsing. Each test
 * uses its own switch (/dev/shm/vpio-ut<pid>-<n>) and removes it. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/pktgen.h"
#include "switch/sw_internal.h"
#include "vpio/switch.h"

static char swname[VPIO_SW_NAME_MAX];
static double mono(void);
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

/* ---- MAC table ---- */
static void test_mac_table(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct sw_arena *ar = &a->a;
    uint8_t m1[6], m2[6];
    mac_of(m1, 1);
    mac_of(m2, 2);
    uint64_t k1 = sw_mac48(m1), k2 = sw_mac48(m2);
    assert_int_equal(sw_mac_lookup(ar, k1, 1000), -1);
    sw_mac_learn(ar, k1, (unsigned)vpio_port_id(a), 1000);
    sw_mac_learn(ar, k2, (unsigned)vpio_port_id(b), 1000);
    assert_int_equal(sw_mac_lookup(ar, k1, 1000), vpio_port_id(a));
    assert_int_equal(sw_mac_lookup(ar, k2, 1001), vpio_port_id(b));
    /* moves */
    sw_mac_learn(ar, k1, (unsigned)vpio_port_id(b), 2000);
    assert_int_equal(sw_mac_lookup(ar, k1, 2000), vpio_port_id(b));
    /* aging */
    assert_int_equal(sw_mac_lookup(ar, k2, 1000 + VPIO_SW_AGE_MS), vpio_port_id(b));
    assert_int_equal(sw_mac_lookup(ar, k2, 1001 + VPIO_SW_AGE_MS), -1);
    /* multicast sources are never learned */
    uint8_t mc[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    sw_mac_learn(ar, sw_mac48(mc), (unsigned)vpio_port_id(a), 3000);
    assert_int_equal(sw_mac_lookup(ar, sw_mac48(mc), 3000), -1);
    /* out-of-range port ignored */
    sw_mac_learn(ar, k2, VPIO_SW_MAX_PORTS, 3000);
    assert_int_equal(sw_mac_lookup(ar, k2, 3000), vpio_port_id(b)); /* entry untouched */
    /* corrupted entry naming a bad port: miss, no crash */
    ar->mac[sw_mac_hash(k2)].key = k2 | (uint64_t)0xff00 << 48;
    assert_int_equal(sw_mac_lookup(ar, k2, 3000), -1);
    /* a closed port's entries are forgotten */
    sw_mac_learn(ar, k2, (unsigned)vpio_port_id(b), 3000);
    assert_int_equal(sw_mac_count(ar, 3000), 2);
    vpio_port_close(b);
    assert_int_equal(sw_mac_lookup(ar, k2, 3000), -1);
    assert_int_equal(sw_mac_lookup(ar, k1, 3000), -1);
    vpio_port_close(a);
}

/* ---- ring arithmetic ---- */
static void test_ring_arith(void **state)
{
    (void)state;
    const uint32_t N = VPIO_SW_RING_SLOTS;
    assert_int_equal(vpio_ring_next(0), 1);
    assert_int_equal(vpio_ring_next(N - 1), 0);
    assert_int_equal(vpio_ring_dist(5, 5), 0);
    assert_int_equal(vpio_ring_dist(5, 7), 2);
    assert_int_equal(vpio_ring_dist(N - 2, 1), 3);
    assert_int_equal(vpio_ring_dist(1, 0), N - 1);
    struct vpio_ring r = {.head = N - 3, .cur = N - 2, .tail = 4};
    assert_int_equal(vpio_ring_space(&r), 6);
    /* fresh rings: TX has N-1 free slots, RX none */
    struct vpio_port *a = open_port("a");
    assert_int_equal(vpio_ring_space(vpio_port_txring(a)), N - 1);
    assert_int_equal(vpio_ring_space(vpio_port_rxring(a)), 0);
    assert_non_null(vpio_ring_buf(a, vpio_port_txring(a), 0));
    assert_null(vpio_ring_buf(a, &r, 0));
    assert_ptr_equal(vpio_ring_buf(a, vpio_port_rxring(a), N),
                     vpio_ring_buf(a, vpio_port_rxring(a), 0));
    vpio_port_close(a);
}

/* ---- forwarding ---- */
static void test_flood_learn_unicast(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b"), *c = open_port("c");
    uint8_t mb[6];
    mac_of(mb, 2);
    /* unknown unicast floods to b and c, not back to a */
    assert_int_equal(send_n(a, mb, 1, 10, 60, 0), 10);
    assert_int_equal(drain(b), 10);
    assert_int_equal(drain(c), 10);
    assert_int_equal(drain(a), 0);
    /* broadcast from b: floods, and b's MAC is learned */
    assert_int_equal(send_n(b, BCAST, 2, 3, 60, 0), 3);
    assert_int_equal(drain(a), 3);
    assert_int_equal(drain(c), 3);
    /* now a -> b is unicast */
    assert_int_equal(send_n(a, mb, 1, 7, 60, 0), 7);
    assert_int_equal(drain(b), 7);
    assert_int_equal(drain(c), 0);
    /* b -> a (learned from the first flood) */
    uint8_t ma[6];
    mac_of(ma, 1);
    assert_int_equal(send_n(b, ma, 2, 5, 60, 0), 5);
    assert_int_equal(drain(a), 5);
    assert_int_equal(drain(c), 0);
    /* frames to oneself are dropped */
    assert_int_equal(send_n(a, ma, 1, 2, 60, 0), 0);
    struct vpio_port_stats st;
    vpio_port_stats(a, &st);
    assert_int_equal(st.tx_drops, 2);
    assert_int_equal(st.tx_pkts, 17);
    vpio_port_stats(b, &st);
    assert_int_equal(st.rx_pkts, 17);
    /* multicast floods */
    uint8_t mc[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    assert_int_equal(send_n(c, mc, 3, 4, 60, 0), 4);
    assert_int_equal(drain(a), 4);
    assert_int_equal(drain(b), 4);
    vpio_port_close(a);
    vpio_port_close(b);
    vpio_port_close(c);
}

static void test_aging(void **state)
{
    (void)state;
    fake_ms = 100000;
    sw_now_ms = fake_clock;
    struct vpio_port *a = open_port("a"), *b = open_port("b"), *c = open_port("c");
    uint8_t mb[6];
    mac_of(mb, 2);
    send_n(b, BCAST, 2, 1, 60, 0);
    drain(a);
    drain(c);
    send_n(a, mb, 1, 1, 60, 0);
    assert_int_equal(drain(b), 1);
    assert_int_equal(drain(c), 0);
    fake_ms += VPIO_SW_AGE_MS + 1; /* b's entry expires: flood again */
    send_n(a, mb, 1, 1, 60, 0);
    assert_int_equal(drain(b), 1);
    assert_int_equal(drain(c), 1);
    vpio_port_close(a);
    vpio_port_close(b);
    vpio_port_close(c);
}

static void test_full_ring_drop(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    unsigned ok = send_n(a, BCAST, 1, 2000, 60, 0);
    assert_int_equal(ok, VPIO_SW_RING_SLOTS - 1);
    struct vpio_port_stats st;
    vpio_port_stats(b, &st);
    assert_int_equal(st.rx_drops, 2000 - (VPIO_SW_RING_SLOTS - 1));
    assert_int_equal(st.rx_pkts, VPIO_SW_RING_SLOTS - 1);
    vpio_port_stats(a, &st);
    assert_int_equal(st.tx_drops, 2000 - (VPIO_SW_RING_SLOTS - 1));
    /* frames arrive in order */
    struct vpio_ring *r = vpio_port_rxring(b);
    assert_int_equal(vpio_port_rxsync(b), VPIO_SW_RING_SLOTS - 1);
    for (uint32_t i = 0; i < VPIO_SW_RING_SLOTS - 1; i++) {
        uint32_t seq;
        memcpy(&seq, (uint8_t *)vpio_ring_buf(b, r, i) + 14, 4);
        assert_int_equal(seq, i);
        assert_int_equal(r->slot[i].len, 60);
    }
    /* release half, the rest still there, new room for 500 */
    r->head = r->cur = 500;
    assert_int_equal(vpio_port_rxsync(b), VPIO_SW_RING_SLOTS - 1 - 500);
    assert_int_equal(send_n(a, BCAST, 1, 600, 60, 0), 500);
    assert_int_equal(drain(b), VPIO_SW_RING_SLOTS - 1);
    vpio_port_close(a);
    vpio_port_close(b);
}

static void test_fragments_and_iov(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    static uint8_t f[5000], out[VPIO_SW_MAX_FRAME];
    make_frame(f, sizeof f, BCAST, 1, 42);
    struct iovec iov[3] = {{f, 7}, {f + 7, 3000}, {f + 3007, sizeof f - 3007}};
    struct vpio_pkt pk[3] = {
        {.iovcnt = 3, .iov = iov},
        {.data = f, .len = 60},
        {.data = f, .len = 10}, /* too short: error */
    };
    assert_int_equal(vpio_port_send_batch(a, pk, 3), 2);
    struct vpio_ring *r = vpio_port_rxring(b);
    assert_int_equal(vpio_port_rxsync(b), 4); /* 3 slots + 1 */
    assert_int_equal(r->slot[0].flags & VPIO_SLOT_MOREFRAG, VPIO_SLOT_MOREFRAG);
    assert_int_equal(r->slot[1].flags & VPIO_SLOT_MOREFRAG, VPIO_SLOT_MOREFRAG);
    assert_int_equal(r->slot[2].flags & VPIO_SLOT_MOREFRAG, 0);
    struct vpio_rxpkt rp[2] = {{.buf = out, .cap = sizeof out}, {.buf = out, .cap = 100}};
    assert_int_equal(vpio_port_recv_batch(b, rp, 1), 1);
    assert_int_equal(rp[0].len, 5000);
    assert_memory_equal(out, f, 5000);
    assert_int_equal(vpio_port_recv_batch(b, rp + 1, 1), 1);
    assert_int_equal(rp[1].len, 60);
    struct vpio_port_stats st;
    vpio_port_stats(a, &st);
    assert_int_equal(st.tx_errs, 1);
    /* TX ring path with a fragment chain, and invalid slot lengths */
    struct vpio_ring *t = vpio_port_txring(a);
    uint32_t h = t->head;
    memcpy(vpio_ring_buf(a, t, h), f, 2048);
    t->slot[h] = (struct vpio_slot){.len = 2048, .flags = VPIO_SLOT_MOREFRAG};
    h = vpio_ring_next(h);
    memcpy(vpio_ring_buf(a, t, h), f + 2048, 952);
    t->slot[h] = (struct vpio_slot){.len = 952, .flags = 0};
    h = vpio_ring_next(h);
    t->slot[h] = (struct vpio_slot){.len = 4000, .flags = 0}; /* bad length */
    h = vpio_ring_next(h);
    t->head = t->cur = h;
    assert_int_equal(vpio_port_txsync(a), 1);
    assert_int_equal(t->tail, (h + VPIO_SW_RING_SLOTS - 1) % VPIO_SW_RING_SLOTS);
    rp[0] = (struct vpio_rxpkt){.buf = out, .cap = sizeof out};
    assert_int_equal(vpio_port_recv_batch(b, rp, 1), 1);
    assert_int_equal(rp[0].len, 3000);
    assert_memory_equal(out, f, 3000);
    vpio_port_stats(a, &st);
    assert_int_equal(st.tx_errs, 2);
    /* corrupted TX head: no crash, counted */
    t->head = 0xdeadbeef;
    assert_int_equal(vpio_port_txsync(a), 0);
    vpio_port_close(a);
    vpio_port_close(b);
}

/* ---- several concurrent senders to one receiver: per-sender order ---- */
struct sender_arg {
    struct vpio_port *p;
    unsigned src;
    unsigned n;
    unsigned len; /* frame length, <= 1024 */
    unsigned ok;
    int finished;
};

static void *sender(void *arg)
{
    struct sender_arg *s = arg;
    static __thread uint8_t frames[64][1024];
    struct vpio_pkt pk[64];
    uint32_t seq = 0;
    while (seq < s->n) {
        unsigned k = 0;
        for (; k < 64 && seq + k < s->n; k++) {
            make_frame(frames[k], s->len, BCAST, s->src, seq + k);
            pk[k] = (struct vpio_pkt){.data = frames[k], .len = s->len};
        }
        s->ok += vpio_port_send_batch(s->p, pk, k);
        seq += k;
    }
    __atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_multi_sender_order(void **state)
{
    (void)state;
    enum { NS = 3, PER = 100000 };
    unsigned long overtaken0 = sw_lease_overtaken;
    struct vpio_port *rx = open_port("rx");
    struct sender_arg sa[NS];
    pthread_t th[NS];
    for (int i = 0; i < NS; i++) {
        char n[16];
        snprintf(n, sizeof n, "s%d", i);
        /* long frames: each batch's copy takes microseconds, so the
         * senders' leases on the receiver's ring overlap */
        sa[i] =
            (struct sender_arg){.p = open_port(n), .src = 10u + (unsigned)i, .n = PER, .len = 1000};
    }
    for (int i = 0; i < NS; i++)
        pthread_create(&th[i], NULL, sender, &sa[i]);
    /* Other senders' ports also get each other's broadcasts: fine (they are
     * never drained, so they just fill and drop). */
    int64_t last[NS] = {-1, -1, -1};
    uint64_t got = 0, bad = 0;
    struct vpio_ring *r = vpio_port_rxring(rx);
    time_t t0 = time(NULL);
    for (;;) {
        int fin = 1;
        for (int i = 0; i < NS; i++)
            fin &= __atomic_load_n(&sa[i].finished, __ATOMIC_ACQUIRE);
        if (fin || time(NULL) - t0 > 30)
            break;
        vpio_port_poll(rx, VPIO_POLL_RX, 10);
        while (r->head != r->tail) {
            const uint8_t *f = vpio_ring_buf(rx, r, r->head);
            unsigned s = f[11] - 10u;
            uint32_t seq;
            memcpy(&seq, f + 14, 4);
            if (s >= NS || (int64_t)seq <= last[s])
                bad++;
            else
                last[s] = seq;
            got++;
            r->head = r->cur = vpio_ring_next(r->head);
        }
    }
    for (int i = 0; i < NS; i++)
        pthread_join(th[i], NULL);
    vpio_port_rxsync(rx);
    while (r->head != r->tail) { /* leftovers */
        const uint8_t *f = vpio_ring_buf(rx, r, r->head);
        unsigned s = f[11] - 10u;
        uint32_t seq;
        memcpy(&seq, f + 14, 4);
        if (s >= NS || (int64_t)seq <= last[s])
            bad++;
        else
            last[s] = seq;
        got++;
        r->head = r->cur = vpio_ring_next(r->head);
        if (r->head == r->tail)
            vpio_port_rxsync(rx);
    }
    assert_int_equal(bad, 0);
    struct vpio_port_stats st;
    vpio_port_stats(rx, &st);
    assert_int_equal(st.rx_pkts, got);
    assert_int_equal(st.rx_pkts + st.rx_drops, (uint64_t)NS * PER);
    assert_true(got > 0);
    /* copies really ran concurrently: some leases completed while an older
     * one was still being filled, and were published by its sender */
    print_message("leases overtaken: %lu\n", sw_lease_overtaken - overtaken0);
    assert_true(sw_lease_overtaken > overtaken0);
    for (int i = 0; i < NS; i++)
        vpio_port_close(sa[i].p);
    vpio_port_close(rx);
}

/* ---- leases: out-of-order completion, in-order publication ---- */
static struct vpio_port *lease_b, *lease_rx;
static int lease_hook_calls, lease_rx_seen_inside;

static void lease_order_hook(struct vpio_port *p, unsigned dst)
{
    (void)p;
    (void)dst;
    if (lease_hook_calls++)
        return; /* only inside the first sender's lease */
    /* A holds its lease (reserved, not yet copied): B reserves behind it,
     * copies and completes first, but may not publish */
    static uint8_t fb[8][60]; /* not send_n's buffers: A has not copied them yet */
    struct vpio_pkt pk[8];
    uint8_t mb[6];
    mac_of(mb, 3);
    for (unsigned i = 0; i < 8; i++) {
        make_frame(fb[i], 60, mb, 2, 1000 + i);
        pk[i] = (struct vpio_pkt){.data = fb[i], .len = 60};
    }
    assert_int_equal(vpio_port_send_batch(lease_b, pk, 8), 8);
    lease_rx_seen_inside = vpio_port_rxsync(lease_rx);
}

static void test_lease_order(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b"), *rx = open_port("rx");
    lease_b = b;
    lease_rx = rx;
    uint8_t mrx[6];
    mac_of(mrx, 3);
    send_n(rx, BCAST, 3, 1, 60, 0); /* learn rx's MAC */
    drain(a);
    drain(b);
    lease_hook_calls = 0;
    lease_rx_seen_inside = -1;
    unsigned long ot = sw_lease_overtaken;
    sw_lease_hook = lease_order_hook;
    unsigned ok = send_n(a, mrx, 1, 8, 60, 0); /* > SMALL_SLOTS: a real lease */
    sw_lease_hook = NULL;
    assert_int_equal(ok, 8);
    assert_int_equal(lease_rx_seen_inside, 0); /* B's frames waited for A's */
    assert_int_equal(sw_lease_overtaken, ot + 1);
    /* published together, A's first (reserved first), then B's */
    struct vpio_ring *r = vpio_port_rxring(rx);
    assert_int_equal(vpio_port_rxsync(rx), 16);
    for (unsigned k = 0; k < 16; k++) {
        const uint8_t *f = vpio_ring_buf(rx, r, r->head);
        uint32_t seq;
        memcpy(&seq, f + 14, 4);
        assert_int_equal(f[11], k < 8 ? 1 : 2);
        assert_int_equal(seq, k < 8 ? k : 1000 + k - 8);
        r->head = r->cur = vpio_ring_next(r->head);
    }
    vpio_port_rxsync(rx);
    struct vpio_sw_port *sp = &a->a.ports[vpio_port_id(rx)];
    assert_int_equal(sp->lease_first, sp->lease_next); /* nothing outstanding */
    assert_int_equal(sp->rx_resv, sp->rx_hwtail);
    vpio_port_close(a);
    vpio_port_close(b);
    vpio_port_close(rx);
}

/* ---- a sender dies in the middle of its lease ---- */
static void die_in_lease(struct vpio_port *p, unsigned dst)
{
    (void)p;
    (void)dst;
    _exit(0); /* reserved, nothing copied, lock released */
}

static void test_dead_sender_mid_lease(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *rx = open_port("rx");
    uint8_t mrx[6];
    mac_of(mrx, 3);
    send_n(rx, BCAST, 3, 1, 60, 0); /* learn rx's MAC */
    drain(a);
    pid_t pid = fork();
    if (pid == 0) {
        char ifname[80];
        struct vpio_port *d;
        snprintf(ifname, sizeof ifname, "%s:dying", swname);
        if (vpio_port_open(&d, ifname, 0) < 0)
            _exit(1);
        sw_lease_hook = die_in_lease;
        send_n(d, mrx, 9, 8, 60, 0);
        _exit(2);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0); /* died inside the lease */
    struct vpio_sw_port *sp = &a->a.ports[vpio_port_id(rx)];
    assert_int_equal(sp->lease_next - sp->lease_first, 1); /* the orphan */
    assert_int_equal(vpio_port_rxsync(rx), 0);
    /* a live sender behind it: reserved after the orphan */
    assert_int_equal(send_n(a, mrx, 1, 8, 60, 0), 8);
    /* the receiver's poll (or the next sender) expires the orphan once it
     * is SW_LEASE_CHECK_MS old and its owner is gone: not wedged */
    double t = mono();
    assert_int_equal(vpio_port_poll(rx, VPIO_POLL_RX, 2000), VPIO_POLL_RX);
    assert_true(mono() - t < 1.0);
    struct vpio_ring *r = vpio_port_rxring(rx);
    assert_int_equal(vpio_port_rxsync(rx), 16);
    for (unsigned k = 0; k < 16; k++) { /* 8 empty slots, then a's frames */
        uint32_t i = (r->head + k) & (VPIO_SW_RING_SLOTS - 1);
        assert_int_equal(r->slot[i].len, k < 8 ? 0 : 60);
    }
    struct vpio_port_stats s0;
    vpio_port_stats(rx, &s0);
    /* recv_batch skips the empty frames; a's frames come in order */
    static uint8_t buf[16][2048];
    struct vpio_rxpkt rp[16];
    for (int i = 0; i < 16; i++)
        rp[i] = (struct vpio_rxpkt){.buf = buf[i], .cap = sizeof buf[i]};
    assert_int_equal(vpio_port_recv_batch(rx, rp, 16), 8);
    for (uint32_t k = 0; k < 8; k++) {
        uint32_t seq;
        memcpy(&seq, buf[k] + 14, 4);
        assert_int_equal(rp[k].len, 60);
        assert_int_equal(buf[k][11], 1);
        assert_int_equal(seq, k);
    }
    struct vpio_port_stats s1;
    vpio_port_stats(rx, &s1);
    assert_int_equal(s1.rx_errs, s0.rx_errs); /* empty frames are not errors */
    assert_true(s1.rx_drops >= 8);            /* the dead sender's frames */
    assert_int_equal(s1.rx_pkts, 8);
    assert_int_equal(sp->lease_first, sp->lease_next);
    /* and traffic goes on */
    assert_int_equal(send_n(a, mrx, 1, 8, 60, 100), 8);
    assert_int_equal(drain(rx), 8);
    vpio_port_close(a);
    vpio_port_close(rx);
}

/* ---- blocking wait ---- */
static void *late_sender(void *arg)
{
    usleep(100000);
    send_n(arg, BCAST, 1, 1, 60, 0);
    return NULL;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_poll(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    double t = mono();
    assert_int_equal(vpio_port_poll(b, VPIO_POLL_RX, 50), 0);
    t = mono() - t;
    assert_true(t >= 0.045 && t < 1.0);
    assert_int_equal(vpio_port_poll(b, VPIO_POLL_TX, 0), VPIO_POLL_TX);
    pthread_t th;
    pthread_create(&th, NULL, late_sender, a);
    t = mono();
    assert_int_equal(vpio_port_poll(b, VPIO_POLL_RX, 5000), VPIO_POLL_RX);
    t = mono() - t;
    assert_true(t >= 0.05 && t < 2.0);
    pthread_join(th, NULL);
    assert_int_equal(drain(b), 1);
    vpio_port_close(a);
    vpio_port_close(b);
}

/* ---- names, EBUSY, reclaim, validation ---- */
static void test_names_and_reclaim(void **state)
{
    (void)state;
    struct vpio_port *p;
    assert_int_equal(vpio_port_open(&p, "nocolon", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, ":a", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "sw:", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "sw:a:b", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "s/w:a", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "sw:0123456789012345678901234567890123", 0), -EINVAL);
    struct vpio_port *a = open_port("a");
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:a", swname);
    assert_int_equal(vpio_port_open(&p, ifname, 0), -EBUSY);
    assert_string_equal(vpio_port_name(a), ifname);

    /* a port whose owner died: a child opens "dead" and exits */
    pid_t pid = fork();
    if (pid == 0) {
        struct vpio_port *d;
        snprintf(ifname, sizeof ifname, "%s:dead", swname);
        _exit(vpio_port_open(&d, ifname, 0) == 0 ? 0 : 1); /* no close */
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0); /* reaps */
    assert_int_equal(info.nports, 1);
    assert_string_equal(info.port[0].name, "a");
    assert_int_equal(info.port[0].pid, getpid());
    assert_true(info.port[0].alive);
    /* the name is free again */
    struct vpio_port *d = open_port("dead");
    /* removal refused while live, allowed with force */
    assert_int_equal(vpio_switch_remove(swname, 0), -EBUSY);
    vpio_port_close(d);
    vpio_port_close(a);
    char names[256][VPIO_SW_NAME_MAX];
    int n = vpio_switch_list(names, 256), found = 0;
    for (int i = 0; i < n && i < 256; i++)
        found |= !strcmp(names[i], swname);
    assert_true(found);
    assert_int_equal(vpio_switch_remove(swname, 0), 0);
    assert_int_equal(vpio_switch_info(swname, &info), -ENOENT);
}

static void test_corrupt_arena(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct sw_arena *ar = &a->a;
    struct vpio_sw_port *bp = &ar->ports[vpio_port_id(b)];
    struct vpio_ring *br = vpio_port_rxring(b);

    /* published index garbage: senders drop, the owner resyncs and counts */
    bp->rx_hwtail = 0xffffffff;
    assert_int_equal(send_n(a, BCAST, 1, 10, 60, 0), 0);
    assert_int_equal(vpio_port_rxsync(b), 0);
    struct vpio_port_stats st;
    vpio_port_stats(b, &st);
    assert_true(st.rx_errs >= 2);
    assert_int_equal(send_n(a, BCAST, 1, 10, 60, 0), 10); /* recovered */
    assert_int_equal(drain(b), 10);

    /* published index inside the owner's slots: rejected by rxsync */
    send_n(a, BCAST, 1, 5, 60, 0);
    assert_int_equal(vpio_port_rxsync(b), 5);
    bp->rx_hwtail = (br->head + 2) % VPIO_SW_RING_SLOTS; /* backwards */
    vpio_port_rxsync(b);
    assert_int_equal(drain(b), 5);

    /* owner's own ring fields garbage: rxsync/recv resets, no crash */
    br->head = 77777;
    br->cur = 5;
    vpio_port_rxsync(b);
    assert_true(br->head < VPIO_SW_RING_SLOTS);
    /* slot lengths garbage */
    send_n(a, BCAST, 1, 3, 60, 0);
    vpio_port_rxsync(b);
    br->slot[br->head].len = 60000;
    br->slot[vpio_ring_next(br->head)].flags = 0xffff;
    drain(b);

    /* rx lock held by a live foreign process (pid 1): sender gives up
     * (bounded), drops, and does not hang */
    bp->rx_lock = 1;
    double t = mono();
    assert_int_equal(send_n(a, BCAST, 1, 4, 60, 0), 0);
    assert_true(mono() - t < 2.0);
    /* ... and is then skipped without waiting (for about a second) */
    t = mono();
    for (int i = 0; i < 20; i++)
        assert_int_equal(send_n(a, BCAST, 1, 4, 60, 0), 0);
    assert_true(mono() - t < 0.04);
    a->stuck_until_ms[vpio_port_id(b)] = 0;
    /* lock held by a dead tid: taken over */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    bp->rx_lock = (uint32_t)pid;
    assert_int_equal(send_n(a, BCAST, 1, 4, 60, 0), 4);
    assert_int_equal(drain(b), 4);

    /* garbage port state / pid / MAC table */
    memset(ar->mac, 0xa5, VPIO_SW_MAC_ENTRIES * sizeof(struct vpio_sw_mac));
    ar->ports[40].state = 12345;
    ar->ports[41].state = SW_PORT_ACTIVE;
    ar->ports[41].pid = -5;
    ar->ports[41].rx_hwtail = 3;
    ar->ports[41].rx_hwcur = 99999;
    uint8_t mb[6];
    mac_of(mb, 2);
    send_n(a, mb, 1, 4, 60, 0);
    assert_int_equal(drain(b), 4);

    /* a corrupted header: new attachers refuse it */
    ar->hdr->version = 99;
    struct vpio_port *c;
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:c", swname);
    assert_int_equal(vpio_port_open(&c, ifname, 0), -EPROTO);
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), -EPROTO);
    ar->hdr->version = VPIO_SW_VERSION;
    vpio_port_close(a);
    vpio_port_close(b);
    /* a stale, invalid arena can be removed */
    assert_int_equal(vpio_switch_remove(swname, 0), 0);
}

/* live senders reclaim the ports of dead owners (about once a second) */
static void test_sender_reaps_dead_port(void **state)
{
    (void)state;
    fake_ms = 500000;
    sw_now_ms = fake_clock;
    struct vpio_port *a = open_port("a");
    pid_t pid = fork();
    if (pid == 0) {
        char ifname[80];
        struct vpio_port *d;
        snprintf(ifname, sizeof ifname, "%s:dead", swname);
        _exit(vpio_port_open(&d, ifname, 0) == 0 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(WEXITSTATUS(st), 0);
    /* the dead port still counts as a flood destination until reaped */
    struct sw_arena *ar = &a->a;
    int dead = -1;
    for (int i = 0; i < VPIO_SW_MAX_PORTS; i++)
        if (ar->ports[i].state == SW_PORT_ACTIVE && !strcmp(ar->ports[i].name, "dead"))
            dead = i;
    assert_true(dead >= 0);
    assert_int_equal(send_n(a, BCAST, 1, 3, 60, 0), 3);
    fake_ms += 1000;
    send_n(a, BCAST, 1, 1, 60, 0); /* reaps first */
    assert_int_equal(ar->ports[dead].state, SW_PORT_FREE);
    assert_int_equal(send_n(a, BCAST, 1, 3, 60, 0), 0); /* nobody left */
    vpio_port_close(a);
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

/* An owner killed but not reaped by its parent (a zombie) is dead: the
 * port is reclaimed, senders count drops, the name can be re-attached. An
 * owner whose pid exists but with another start time (a recycled pid) is
 * dead too. */
static void test_zombie_and_recycled_owner(void **state)
{
    (void)state;
    fake_ms = 700000;
    sw_now_ms = fake_clock;
    struct vpio_port *a = open_port("a");
    struct sw_arena *ar = &a->a;
    pid_t z = child_port("z");
    int zid = find_port(ar, "z");
    assert_true(zid >= 0);
    assert_int_not_equal(ar->ports[zid].pid_start, 0);
    assert_true(sw_port_owner_alive(&ar->ports[zid]));
    kill(z, SIGKILL); /* and no waitpid: a zombie */
    char path[64], stat[512] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", (int)z);
    for (int i = 0; i < 400; i++) { /* until the kernel has made it a zombie */
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = 0;
        if (strstr(stat, ") Z "))
            break;
        usleep(5000);
    }
    assert_non_null(strstr(stat, ") Z "));
    assert_int_equal(kill(z, 0), 0); /* what liveness used to be */
    assert_false(sw_pid_alive(z));
    assert_false(sw_port_owner_alive(&ar->ports[zid]));
    fake_ms += 1000;
    struct vpio_port_stats st0, st1;
    vpio_port_stats(a, &st0);
    assert_int_equal(send_n(a, BCAST, 1, 3, 60, 0), 0); /* reaps first: nobody left */
    assert_int_equal(ar->ports[zid].state, SW_PORT_FREE);
    vpio_port_stats(a, &st1);
    assert_int_equal(st1.tx_drops - st0.tx_drops, 3);
    struct vpio_port *z2 = open_port("z"); /* the name is free */
    assert_int_equal(send_n(a, BCAST, 1, 3, 60, 0), 3);
    assert_int_equal(drain(z2), 3);
    waitpid(z, NULL, 0);

    /* a live process with the owner's pid but not its start time */
    pid_t r = child_port("r");
    int rid = find_port(ar, "r");
    assert_true(rid >= 0);
    char ifname[80];
    struct vpio_port *x;
    snprintf(ifname, sizeof ifname, "%s:r", swname);
    assert_int_equal(vpio_port_open(&x, ifname, 0), -EBUSY);
    ar->ports[rid].pid_start += 1;
    assert_false(sw_port_owner_alive(&ar->ports[rid]));
    x = open_port("r"); /* taken over */
    assert_int_equal(ar->ports[rid].pid, getpid());
    kill(r, SIGKILL);
    waitpid(r, NULL, 0);
    vpio_port_close(x);
    vpio_port_close(z2);
    vpio_port_close(a);
}

/* Counters in the arena are forgeable; what a reader reports only moves
 * forward, by no more than could have been offered since its last read. */
static void test_forged_counters(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct vpio_sw_port *bp = &a->a.ports[vpio_port_id(b)];
    struct vpio_port_stats st;
    assert_int_equal(send_n(a, BCAST, 1, 10, 60, 0), 10);
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts, 10);
    assert_int_equal(st.rx_bytes, 600);
    assert_int_equal(st.rx_drops, 0);
    /* a peer writes garbage: a huge drop count, a counter going backwards */
    bp->rx_drops = 7300000000000000000ull;
    bp->rx_pkts = 3;
    bp->rx_errs = UINT64_MAX;
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts, 10);
    assert_int_equal(st.rx_drops, 0);
    assert_int_equal(st.rx_errs, 0);
    assert_int_equal(b->stats_rd.refused, 3);
    /* real increments after the forgery are counted again */
    assert_int_equal(drain(b), 10);
    assert_int_equal(send_n(a, BCAST, 1, 5, 60, 0), 5);
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts, 15);
    assert_int_equal(st.rx_drops, 0);
    /* the ring full: real drops reach the reader */
    send_n(a, BCAST, 1, 2 * VPIO_SW_RING_SLOTS, 60, 0);
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts + st.rx_drops, 15 + 2 * VPIO_SW_RING_SLOTS);
    assert_true(st.rx_drops > 0);
    /* forward, but faster than possible: refused */
    uint64_t d0 = st.rx_drops;
    bp->rx_drops += 1000000000000ull;
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_drops, d0);
    /* tools (vpio switch show) see the same bound: zeros at the owner's
     * start, so a value no port could have counted since then is refused */
    bp->tx_drops = 7300000000000000000ull;
    bp->rx_drops = 12345;
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    int found = 0;
    for (unsigned i = 0; i < info.nports; i++)
        if (info.port[i].id == vpio_port_id(b)) {
            found = 1;
            assert_int_equal(info.port[i].st.tx_drops, 0);
            assert_int_equal(info.port[i].st.rx_drops, 12345); /* plausible: kept */
        }
    assert_true(found);

    /* the reader itself, with a synthetic clock */
    struct vpio_stats_reader rd;
    struct vpio_port_stats raw = {0}, out;
    vpio_stats_reader_init(&rd, NULL, 0);
    raw.rx_drops = VPIO_SW_MAX_PPS / 1000; /* 1 ms worth */
    vpio_stats_read(&rd, &raw, 1000000, &out);
    assert_int_equal(out.rx_drops, VPIO_SW_MAX_PPS / 1000);
    raw.rx_drops += VPIO_SW_MAX_PPS / 100; /* 10 ms worth in 1 ms */
    vpio_stats_read(&rd, &raw, 2000000, &out);
    assert_int_equal(out.rx_drops, VPIO_SW_MAX_PPS / 1000);
    raw.rx_drops += 5;
    vpio_stats_read(&rd, &raw, 1000, &out); /* a clock going backwards: no credit */
    assert_int_equal(out.rx_drops, VPIO_SW_MAX_PPS / 1000 + 5);
    vpio_port_close(b);
    vpio_port_close(a);
}

/* ---- a peer truncates the arena file (SIGBUS guard) ---- */
struct trunc_victim {
    struct vpio_port *a, *b;
    int stop;
    int err; /* the first error seen by the victim thread */
    unsigned long loops;
};

static void *trunc_victim_main(void *arg)
{
    struct trunc_victim *v = arg;
    while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
        send_n(v->a, BCAST, 1, 8, 60, 0);
        int rc = vpio_port_poll(v->b, VPIO_POLL_RX, 1);
        if (rc >= 0)
            drain(v->b);
        if (rc < 0 && !v->err)
            v->err = rc;
        v->loops++;
    }
    return NULL;
}

/* Runs in a child process (exit status = result): the switch must survive
 * its own arena file being truncated while a thread forwards through it. */
static int trunc_child(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, NULL); /* not cmocka's: chain to the default */
    char ifname[80], path[80];
    struct trunc_victim v = {0};
    snprintf(ifname, sizeof ifname, "%s:a", swname);
    if (vpio_port_open(&v.a, ifname, 0) < 0)
        return 10;
    snprintf(ifname, sizeof ifname, "%s:b", swname);
    if (vpio_port_open(&v.b, ifname, 0) < 0)
        return 11;
    if (send_n(v.a, BCAST, 1, 10, 60, 0) != 10 || drain(v.b) != 10)
        return 12;
    pthread_t th;
    pthread_create(&th, NULL, trunc_victim_main, &v);
    usleep(50000);
    /* the hostile peer: shrink the file to one page (the header stays) */
    snprintf(path, sizeof path, "/vpio-%s", swname);
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0 || ftruncate(fd, 4096) < 0)
        return 13;
    usleep(200000);
    __atomic_store_n(&v.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    if (v.err != -ENXIO || !v.loops)
        return 14;
    /* every call refuses from now on, and counts */
    if (vpio_port_txsync(v.a) != -ENXIO || vpio_port_rxsync(v.b) != -ENXIO)
        return 15;
    if (send_n(v.a, BCAST, 1, 4, 60, 0) != 0 || drain(v.b) != 0)
        return 16;
    double t = mono();
    if (vpio_port_poll(v.b, VPIO_POLL_RX, -1) != -ENXIO || mono() - t > 1.0)
        return 17;
    struct vpio_port_stats st;
    if (vpio_port_stats(v.b, &st) != -ENXIO || st.rx_errs == 0 || st.rx_pkts != 0)
        return 18;
    if (vpio_port_stats(v.a, &st) != -ENXIO || st.tx_errs == 0)
        return 19;
    vpio_port_close(v.a);
    vpio_port_close(v.b);
    /* an arena mapped after the truncation of another one works normally */
    shm_unlink(path);
    close(fd);
    snprintf(ifname, sizeof ifname, "%s-2:a", swname);
    if (vpio_port_open(&v.a, ifname, 0) < 0)
        return 20;
    snprintf(ifname, sizeof ifname, "%s-2:b", swname);
    if (vpio_port_open(&v.b, ifname, 0) < 0)
        return 21;
    if (send_n(v.a, BCAST, 1, 10, 60, 0) != 10 || drain(v.b) != 10)
        return 22;
    /* truncated to nothing: the same */
    snprintf(path, sizeof path, "/vpio-%s-2", swname);
    fd = shm_open(path, O_RDWR, 0);
    if (fd < 0 || ftruncate(fd, 0) < 0)
        return 23;
    if (send_n(v.a, BCAST, 1, 10, 60, 0) != 0 || vpio_port_txsync(v.a) != -ENXIO)
        return 24;
    vpio_port_close(v.a);
    vpio_port_close(v.b);
    shm_unlink(path);
    close(fd);
    /* a SIGBUS outside every arena still kills (chained to the default) */
    pid_t pid = fork();
    if (pid == 0) {
        snprintf(path, sizeof path, "/vpio-%s-x", swname);
        int xfd = shm_open(path, O_RDWR | O_CREAT, 0600);
        shm_unlink(path);
        if (xfd < 0 || ftruncate(xfd, 4096) < 0)
            _exit(1);
        volatile uint8_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
        if (m == MAP_FAILED || ftruncate(xfd, 0) < 0)
            _exit(1);
        m[0] = 1;
        _exit(2);
    }
    int wst;
    waitpid(pid, &wst, 0);
    if (!WIFSIGNALED(wst) || WTERMSIG(wst) != SIGBUS)
        return 25;
    return 0;
}

static void test_truncated_arena(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0)
        _exit(trunc_child());
    int st;
    waitpid(pid, &st, 0);
    char path[80];
    snprintf(path, sizeof path, "/vpio-%s-2", swname);
    shm_unlink(path);
    snprintf(path, sizeof path, "/vpio-%s", swname);
    shm_unlink(path);
    if (!WIFEXITED(st))
        fail_msg("victim died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- creation protocol: concurrent first attachers, stale arena ---- */
static void test_concurrent_create(void **state)
{
    (void)state;
    enum { NCHILD = 8 };
    pid_t kids[NCHILD];
    int go[2];
    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < NCHILD; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            char c, ifname[80];
            close(go[1]);
            if (read(go[0], &c, 1) != 0) /* wait for the start (EOF) */
                _exit(3);
            snprintf(ifname, sizeof ifname, "%s:k%d", swname, i);
            struct vpio_port *p;
            int rc = vpio_port_open(&p, ifname, 0);
            if (rc < 0)
                _exit(1);
            /* every child must be on the same arena: broadcast one frame */
            uint8_t f[60];
            make_frame(f, 60, BCAST, 100 + (unsigned)i, 0);
            struct vpio_pkt pk = {.data = f, .len = 60};
            vpio_port_send_batch(p, &pk, 1);
            usleep(200000);
            vpio_port_close(p);
            _exit(0);
        }
    }
    close(go[0]);
    close(go[1]); /* all start at once */
    int ok = 0;
    for (int i = 0; i < NCHILD; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    assert_int_equal(ok, NCHILD);
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    assert_int_equal(info.nports, 0); /* all closed */
}

static void test_stale_arena(void **state)
{
    (void)state;
    /* a creator that died after O_EXCL but before publishing `ready` */
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/vpio-%s", swname);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    struct vpio_port *a = open_port("a"); /* waits ~2 s, recreates */
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    assert_int_equal(info.nports, 1);
    vpio_port_close(a);
}

/* A header corrupted under live ports (ready word, creator pid): the next
 * attacher must not unlink and recreate the switch (the live ports would
 * keep the old file: a split switch); it refuses with -EUCLEAN. Removal
 * without force is refused too; rm -f is the way out. */
static void test_corrupt_header_live_ports(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct sw_arena *ar = &a->a;
    char path[128], ifname[80];
    struct stat st0, st1;
    snprintf(path, sizeof path, "/dev/shm/vpio-%s", swname);
    assert_int_equal(stat(path, &st0), 0);
    ar->hdr->ready = 0x12345678;
    ar->hdr->creator_pid = 0;
    struct vpio_port *c = NULL;
    snprintf(ifname, sizeof ifname, "%s:c", swname);
    assert_int_equal(vpio_port_open(&c, ifname, 0), -EUCLEAN); /* after the ~2 s wait */
    assert_non_null(strstr(vpio_switch_strerror(-EUCLEAN), "rm -f"));
    assert_int_equal(stat(path, &st1), 0);
    assert_true(st0.st_ino == st1.st_ino);              /* the same file: not split */
    assert_int_equal(send_n(a, BCAST, 1, 5, 60, 0), 5); /* still one switch */
    assert_int_equal(drain(b), 5);
    assert_int_equal(vpio_switch_remove(swname, 0), -EBUSY);
    /* an invalid magic with live ports: not removed without force either */
    ar->hdr->ready = VPIO_SW_READY;
    ar->hdr->magic = 0;
    assert_int_equal(vpio_port_open(&c, ifname, 0), -EPROTO);
    assert_int_equal(vpio_switch_remove(swname, 0), -EBUSY);
    assert_int_equal(vpio_switch_remove(swname, 1), 0);
    assert_int_not_equal(stat(path, &st1), 0);
    vpio_port_close(b);
    vpio_port_close(a);
}

/* ---- pktgen argument parsing ---- */
static int parse(struct pktgen_opts *o, char *err, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    argv[argc++] = "pktgen";
    for (char *s; (s = va_arg(ap, char *));)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    return pktgen_parse(argc, argv, o, err, 256);
}

static void test_pktgen_args(void **state)
{
    (void)state;
    struct pktgen_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, "-i", "vale0:a", "-f", "tx", "-l", "1514", "-n", "1000", "-b",
                           "32", "-d", "02:00:00:00:00:0b", "-s", "02:00:00:00:00:0a", NULL),
                     0);
    assert_string_equal(o.ifname, "vale0:a");
    assert_int_equal(o.tx, 1);
    assert_int_equal(o.len, 1514);
    assert_int_equal(o.count, 1000);
    assert_int_equal(o.batch, 32);
    assert_int_equal(o.dst[5], 0x0b);
    assert_int_equal(o.src[5], 0x0a);
    assert_int_equal(parse(&o, err, "-i", "vale0:b", "-f", "rx", "-T", "2.5", "-W", "0.5", NULL),
                     0);
    assert_true(o.idle == 0.5);
    assert_int_equal(o.tx, 0);
    assert_true(o.seconds == 2.5);
    assert_int_equal(o.len, 60);
    assert_int_equal(o.batch, 256);
    assert_int_equal(o.dst[0], 0xff);
    assert_int_equal(parse(&o, err, "-f", "tx", NULL), -1);
    assert_non_null(strstr(err, "-i"));
    assert_int_equal(parse(&o, err, "-i", "vale0:a", NULL), -1);
    assert_non_null(strstr(err, "-f"));
    assert_int_equal(parse(&o, err, "-i", "vale0", "-f", "tx", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "xx", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "13", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "99999", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "12x", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-n", "0", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-n", "-5", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-T", "abc", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "rx", "-W", "0", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-b", "0", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-b", "1024", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "9000", "-b", "300", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-d", "02:00:00:00:00", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-d", "02:00:00:00:00:100", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-s", "01:00:00:00:00:01", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-Z", NULL), -1);
    assert_non_null(strstr(err, "-Z"));
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", NULL), -1);
    assert_non_null(strstr(err, "argument"));
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "extra", NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mac_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_arith, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_learn_unicast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragments_and_iov, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_sender_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_sender_mid_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_reclaim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_reaps_dead_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zombie_and_recycled_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_header_live_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pktgen_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
