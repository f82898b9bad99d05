/* Unit tests of forwarding (src/switch/forward.c): unicast, flood, learning, full-ring drop,
 * fragments, multi-sender order, leases, a sender dying mid-lease, senders reaping dead ports. */
#include "switch_test_util.h"

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

static void test_full_ring_drop(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    const unsigned sent = VPIO_SW_RING_SLOTS + 977; /* more than a ring holds */
    unsigned ok = send_n(a, BCAST, 1, sent, 60, 0);
    assert_int_equal(ok, VPIO_SW_RING_SLOTS - 1);
    struct vpio_port_stats st;
    vpio_port_stats(b, &st);
    assert_int_equal(st.rx_drops, sent - (VPIO_SW_RING_SLOTS - 1));
    assert_int_equal(st.rx_pkts, VPIO_SW_RING_SLOTS - 1);
    vpio_port_stats(a, &st);
    assert_int_equal(st.tx_drops, sent - (VPIO_SW_RING_SLOTS - 1));
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

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flood_learn_unicast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragments_and_iov, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_sender_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_sender_mid_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_reaps_dead_port, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
