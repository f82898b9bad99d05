/* Two e1000 models connected through a vpio switch (switch-port backends):
 * a batch sent by one arrives in the other's RX ring, in order, delivered by
 * the backend's receive thread (net_start_rx -> e1000_rx_arrived); frames
 * the guest has no room for wait in the switch and are pulled by its RDT
 * writes; an arrival notice is left to a guest that is pulling. */
#include <poll.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_e1000_harness.h"
#include "vpio/switch.h"

static uint64_t arrived(void *opaque)
{
    return e1000_rx_arrived(opaque);
}

struct pair {
    char sw[32];
    struct h *a, *b;
    struct net_backend *ba, *bb;
};

static void pair_open(struct pair *p)
{
    char pa[64], pb[64], err[256] = "";
    snprintf(p->sw, sizeof(p->sw), "te1h%d", (int)getpid());
    snprintf(pa, sizeof(pa), "%s:a", p->sw);
    snprintf(pb, sizeof(pb), "%s:b", p->sw);
    p->a = h_new(false), p->b = h_new(false);
    p->ba = net_backend_open(pa, err, sizeof(err));
    p->bb = net_backend_open(pb, err, sizeof(err));
    if (!p->ba || !p->bb)
        fail_msg("%s", err);
    p->a->dev.backend = p->ba;
    p->b->dev.backend = p->bb;
}

static void pair_close(struct pair *p)
{
    p->a->dev.backend = &p->a->fb.be;
    p->b->dev.backend = &p->b->fb.be;
    net_backend_close(p->ba);
    net_backend_close(p->bb);
    vpio_switch_remove(p->sw, 1);
    h_free(p->a);
    h_free(p->b);
}

static void send_frames(struct h *a, unsigned n, uint32_t first_tag)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = a->ram + TX_BUF + i * 2048;
        make_frame(p, 60, BCAST, (uint8_t)i);
        p[14] = (uint8_t)(first_tag + i);
        tx_legacy(a, i, TX_BUF + i * 2048, 60, E1000_TXD_CMD_EOP);
    }
    wr(a, E1000_TDH, 0);
    wr(a, E1000_TDT, n);
}

/* The guest has 15 free descriptors, 40 frames come: 15 are delivered, 25
 * wait in the switch (not in the model's backlog, no MPC); the guest's RDT
 * writes pull them, in order; an arrival notice while the guest pulls is
 * deferred (e1000_rx_arrived asks to be called again) until the grace
 * period has passed. */
static void test_switch_holds_frames_guest_pulls(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p);
    tx_setup(p.a, 64);
    rx_setup(p.b, 16, 0); /* RDT 15: 15 free descriptors */
    send_frames(p.a, 40, 0);
    assert_int_equal(e1000_rx_poll(&p.b->dev), 15);
    assert_int_equal(net_rx_pending(p.bb), 1);
    struct e1000_stats s = st(p.b);
    assert_int_equal(s.rx_backlogged, 0);
    assert_int_equal(rd(p.b, E1000_MPC), 0);
    /* nothing more while there is no room */
    assert_int_equal(e1000_rx_poll(&p.b->dev), 0);
    assert_int_equal(e1000_rx_arrived(&p.b->dev), E1000_RX_NODESC_RETRY_NS);
    unsigned seen = 0;
    uint32_t head = 0;
    for (int round = 0; round < 10 && seen < 40; round++) {
        uint32_t rdh = rd(p.b, E1000_RDH);
        while (head != rdh) {
            uint8_t *buf = p.b->ram + RX_BUF + head * RX_BUF_STRIDE;
            assert_int_equal(buf[14], seen);
            rxd(p.b, head)[12] = 0;
            seen++;
            head = (head + 1) % 16;
        }
        wr(p.b, E1000_RDT, (head + 15) % 16); /* the pull: delivers inside the write */
        if (seen < 40 && round == 0) {
            /* it pulled frames just now: a notice is left to the guest */
            uint64_t again = e1000_rx_arrived(&p.b->dev);
            assert_true(again > 0 && again <= E1000_RX_PULL_GRACE_NS);
            assert_int_equal(st(p.b).rx_arrivals_deferred, 1);
        }
    }
    assert_int_equal(seen, 40);
    assert_int_equal(net_rx_pending(p.bb), 0);
    /* after the grace period a notice delivers by itself */
    send_frames(p.a, 5, 100);
    assert_true(e1000_rx_arrived(&p.b->dev) > 0); /* still within grace: same clock */
    p.b->now += E1000_RX_PULL_GRACE_NS;
    assert_int_equal(e1000_rx_arrived(&p.b->dev), 0);
    assert_int_equal(rd(p.b, E1000_RDH), (head + 5) % 16);
    pair_close(&p);
}

/* Frames the switch drops because the guest's port ring is full (the guest
 * gave no buffers for long enough) are this NIC's missed frames: MPC and
 * RXO, as a real NIC counts what its full FIFO drops. */
static void test_switch_drops_are_missed(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p);
    tx_setup(p.a, 2048);
    rx_setup(p.b, 16, 0);
    wr(p.b, E1000_IMS, E1000_ICR_RXO);
    /* The port ring holds VPIO_SW_RING_SLOTS - 1; 77 more are sent, in
     * passes of 1500 (the TX buffers must stay below the harness's RX area). */
    const unsigned total = VPIO_SW_RING_SLOTS + 76, held = VPIO_SW_RING_SLOTS - 1;
    for (unsigned sent = 0; sent < total;) {
        unsigned k = total - sent < 1500 ? total - sent : 1500;
        send_frames(p.a, k, sent);
        sent += k;
    }
    assert_int_equal(e1000_rx_poll(&p.b->dev), 15);
    assert_int_equal(rd(p.b, E1000_MPC), total - held);
    assert_int_equal(st(p.b).drops[E1000_DROP_RX_NO_DESC], total - held);
    assert_true(rd(p.b, E1000_ICR) & E1000_ICR_RXO);
    assert_int_equal(rd(p.b, E1000_MPC), 0); /* clear on read; reported once */
    e1000_rx_poll(&p.b->dev);
    assert_int_equal(rd(p.b, E1000_MPC), 0);
    pair_close(&p);
}

/* The CSB page of the receiving model, in its RAM (the ring areas are above). */
#define CSB_GPA 0x8000u
static uint32_t *csb_field(struct h *h, size_t off)
{
    return (uint32_t *)(void *)(h->ram + CSB_GPA + off);
}

/* With the CSB on and its I/O thread asleep, frames that wait in the switch
 * for buffers must arm host_need_rxkick from the arrival notice, so that the
 * guest's refill kicks the thread (docs/csb.md): nothing else would deliver
 * them before the next retry (E1000_RX_NODESC_RETRY_NS), while the switch
 * ring overflows. A refill that came before the flag was seen is caught by
 * the re-check instead (deliver again at once, flag cleared). An awake thread
 * arms the flag itself before it sleeps. */
static void test_csb_waiting_frames_arm_rx_kick(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p);
    struct h *b = p.b;
    b->dev.cfg.csb = true;
    tx_setup(p.a, 64);
    rx_setup(b, 16, 0); /* RDT 15: 15 free descriptors */
    *csb_field(b, offsetof(struct e1000_csb, guest_rdt)) = 15;
    *csb_field(b, offsetof(struct e1000_csb, guest_need_rxintr)) = 1;
    wr(b, E1000_CSBAH, 0);
    wr(b, E1000_CSBAL, CSB_GPA | E1000_CSBAL_ENABLE);
    assert_true(rd(b, E1000_CSBAL) & E1000_CSBAL_ENABLE);
    int doorbell = eventfd(0, EFD_NONBLOCK);
    assert_true(doorbell >= 0);
    e1000_csb_attach(&b->dev, doorbell);
    uint32_t *need_rxkick = csb_field(b, offsetof(struct e1000_csb, host_need_rxkick));
    uint32_t *guest_rdt = csb_field(b, offsetof(struct e1000_csb, guest_rdt));

    /* awake thread: no arming from the notice */
    send_frames(p.a, 40, 0);
    assert_int_equal(e1000_rx_arrived(&b->dev), E1000_RX_NODESC_RETRY_NS);
    assert_int_equal(*need_rxkick, 0);
    assert_int_equal(st(b).csb_rx_kick_arms, 0);
    assert_int_equal(rd(b, E1000_RDH), 15);

    /* the thread sleeps with frames waiting: it arms the flag itself */
    assert_true(e1000_csb_prepare_sleep(&b->dev));
    assert_true(*need_rxkick != 0);
    e1000_csb_wake(&b->dev);
    *need_rxkick = 0;
    /* ... the same sleep decided while nothing waited, then frames came */
    b->dev.csb.sleeping = true;
    assert_int_equal(e1000_rx_arrived(&b->dev), E1000_RX_NODESC_RETRY_NS);
    assert_true(*need_rxkick != 0);
    assert_int_equal(st(b).csb_rx_kick_arms, 1);
    /* the guest refills, sees the flag, kicks: the doorbell rings */
    *guest_rdt = 14;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (*need_rxkick)
        wr(b, E1000_RDT, 14);
    uint64_t kicks = 0;
    assert_int_equal(read(doorbell, &kicks, sizeof(kicks)), (ssize_t)sizeof(kicks));
    assert_int_equal(kicks, 1);

    /* a refill before the re-check: no flag left up, deliver now */
    e1000_csb_wake(&b->dev);
    b->dev.csb.sleeping = true;
    pthread_mutex_lock(&b->dev.lock);
    *guest_rdt = 13;
    assert_true(e1000_csb_rx_kick_arm(&b->dev));
    pthread_mutex_unlock(&b->dev.lock);
    assert_int_equal(*need_rxkick, 0);
    assert_int_equal(st(b).csb_rx_kick_arms, 1);

    e1000_csb_attach(&b->dev, -1);
    close(doorbell);
    pair_close(&p);
}

static void test_e1000_to_e1000_through_switch(void **state)
{
    (void)state;
    char sw[32], pa[64], pb[64], err[256] = "";
    snprintf(sw, sizeof(sw), "te1k%d", (int)getpid());
    snprintf(pa, sizeof(pa), "%s:a", sw);
    snprintf(pb, sizeof(pb), "%s:b", sw);
    struct h *a = h_new(false), *b = h_new(false);
    struct net_backend *ba = net_backend_open(pa, err, sizeof(err));
    if (!ba)
        fail_msg("%s: %s", pa, err);
    struct net_backend *bb = net_backend_open(pb, err, sizeof(err));
    if (!bb)
        fail_msg("%s: %s", pb, err);
    a->dev.backend = ba;
    b->dev.backend = bb;

    tx_setup(a, 256);
    rx_setup(b, 64, 0);
    wr(b, E1000_IMS, E1000_ICR_RXT0);
    const unsigned n = 150;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = a->ram + TX_BUF + i * 2048;
        make_frame(p, 60 + i, BCAST, (uint8_t)i);
        p[14] = (uint8_t)i;
        tx_legacy(a, i, TX_BUF + i * 2048, (uint16_t)(60 + i), E1000_TXD_CMD_EOP);
    }
    wr(a, E1000_TDT, n);
    assert_int_equal(st(a).tx_batches, 1);
    assert_int_equal(ba->stats.tx_frames, n);

    /* the backend's thread delivers; the guest: consume, refill */
    assert_int_equal(net_start_rx(bb, arrived, &b->dev), 0);
    unsigned seen = 0;
    uint32_t head = 0;
    for (int iter = 0; iter < 1000 && seen < n; iter++) {
        usleep(2000);
        uint32_t rdh = rd(b, E1000_RDH);
        while (head != rdh) {
            uint8_t *d = rxd(b, head);
            assert_true(d[12] & E1000_RXD_STAT_DD);
            uint8_t *buf = b->ram + RX_BUF + head * RX_BUF_STRIDE;
            assert_int_equal(buf[14], seen % 256);
            assert_int_equal(e1000_le16(d + 8), 60 + seen);
            d[12] = 0;
            seen++;
            head = (head + 1) % 64;
        }
        wr(b, E1000_RDT, (head + 63) % 64);
    }
    assert_int_equal(seen, n);
    struct e1000_stats s = st(b);
    assert_int_equal(s.rx_frames, n);
    assert_int_equal(s.drops[E1000_DROP_RX_NO_DESC], 0);
    assert_true(b->edges >= 1);

    net_stop_rx(bb);
    a->dev.backend = &a->fb.be;
    b->dev.backend = &b->fb.be;
    net_backend_close(ba);
    net_backend_close(bb);
    vpio_switch_remove(sw, 1);
    h_free(a);
    h_free(b);
}

/* A failed assertion leaves a test early: its switch is removed here. */
static int remove_test_switches(void **state)
{
    (void)state;
    char sw[32];
    snprintf(sw, sizeof(sw), "te1h%d", (int)getpid());
    vpio_switch_remove(sw, 1);
    snprintf(sw, sizeof(sw), "te1k%d", (int)getpid());
    vpio_switch_remove(sw, 1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_e1000_to_e1000_through_switch, remove_test_switches),
        cmocka_unit_test_teardown(test_switch_holds_frames_guest_pulls, remove_test_switches),
        cmocka_unit_test_teardown(test_switch_drops_are_missed, remove_test_switches),
        cmocka_unit_test_teardown(test_csb_waiting_frames_arm_rx_kick, remove_test_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
