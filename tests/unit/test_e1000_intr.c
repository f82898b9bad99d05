/* e1000 model: interrupt moderation (ITR, TIDV/TADV, RDTR/RADV) with an
 * injected clock, and the mitigation=off baseline. */
#include "test_e1000_harness.h"

static const uint8_t DST[6] = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0x02};

static void rx_one(struct h *h)
{
    uint8_t f[64];
    make_frame(f, 64, TEST_MAC, 1);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
}

/* The guest's handler: reads ICR (clears, lowers INTx), returns buffers. */
static uint32_t guest_isr(struct h *h)
{
    uint32_t icr = rd(h, E1000_ICR);
    wr(h, E1000_RDT, (rd(h, E1000_RDH) + 7) % 8);
    return icr;
}

static void test_mitigation_off_irq_per_packet(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    rx_setup(h, 8, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    /* moderation registers are ignored */
    wr(h, E1000_ITR, 5000);
    wr(h, E1000_RDTR, 100);
    wr(h, E1000_RADV, 100);
    for (int i = 0; i < 20; i++) {
        h->now += 1000;
        rx_one(h);
        assert_int_equal(h->level, 1);
        assert_true(guest_isr(h) & E1000_ICR_RXT0);
        assert_int_equal(h->level, 0);
    }
    assert_int_equal(h->edges, 20);
    assert_int_equal(st(h).irqs_suppressed, 0);
    assert_int_equal(e1000_next_deadline_ns(&h->dev), UINT64_MAX);
    h_free(h);
}

static void test_itr_spacing(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    rx_setup(h, 8, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    wr(h, E1000_ITR, 1000); /* 256 us */
    uint64_t t0 = h->now;
    rx_one(h);
    assert_int_equal(h->edges, 1);
    guest_isr(h);
    h->now = t0 + 10000;
    rx_one(h);
    assert_int_equal(h->level, 0); /* held back */
    assert_int_equal(e1000_next_deadline_ns(&h->dev), t0 + 256000);
    h->now = t0 + 100000;
    rx_one(h); /* collects in ICR */
    e1000_timer_expired(&h->dev, t0 + 255999);
    assert_int_equal(h->level, 0);
    h->now = t0 + 256000;
    e1000_timer_expired(&h->dev, h->now);
    assert_int_equal(h->level, 1);
    assert_int_equal(h->edges, 2);
    assert_true(guest_isr(h) & E1000_ICR_RXT0);
    assert_int_equal(st(h).itr_deferrals, 1);
    assert_true(st(h).irqs_suppressed >= 1);
    /* after the interval an event asserts at once */
    h->now = t0 + 256000 * 3;
    rx_one(h);
    assert_int_equal(h->edges, 3);
    h_free(h);
}

static void tx_ide(struct h *h, uint32_t i)
{
    make_frame(h->ram + TX_BUF, 64, DST, 1);
    tx_legacy(h, i % 8, TX_BUF, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IDE);
    wr(h, E1000_TDT, (i + 1) % 8);
}

static void test_tidv_tadv(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    tx_setup(h, 8);
    wr(h, E1000_IMS, E1000_ICR_TXDW);
    wr(h, E1000_TIDV, 8);  /* 8.192 us, re-armed per packet */
    wr(h, E1000_TADV, 32); /* 32.768 us from the first */
    uint64_t t0 = h->now;
    tx_ide(h, 0);
    assert_int_equal(h->level, 0);
    assert_int_equal(e1000_next_deadline_ns(&h->dev), t0 + 8192);
    /* a packet every 5 us keeps pushing TIDV; TADV caps the delay */
    for (uint32_t i = 1; i < 7; i++) {
        h->now = t0 + 5000 * i;
        e1000_timer_expired(&h->dev, h->now);
        tx_ide(h, i);
        assert_int_equal(h->level, h->now >= t0 + 32768 ? 1 : 0);
    }
    assert_int_equal(e1000_next_deadline_ns(&h->dev), t0 + 32768); /* TADV */
    h->now = t0 + 32768;
    e1000_timer_expired(&h->dev, h->now);
    assert_int_equal(h->level, 1);
    assert_int_equal(h->edges, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_TXDW);
    assert_true(st(h).irqs_suppressed >= 5);
    /* TIDV alone: one packet, fires after 8.192 us */
    h->now += 100000;
    tx_ide(h, 7);
    assert_int_equal(h->level, 0);
    h->now += 8192;
    e1000_timer_expired(&h->dev, h->now);
    assert_int_equal(h->level, 1);
    /* without IDE: at once */
    rd(h, E1000_ICR);
    make_frame(h->ram + TX_BUF, 64, DST, 1);
    tx_legacy(h, 0, TX_BUF, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    wr(h, E1000_TDT, 1);
    assert_int_equal(h->level, 1);
    h_free(h);
}

static void test_rdtr_radv(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    rx_setup(h, 64, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    wr(h, E1000_RDTR, 10); /* 10.24 us */
    wr(h, E1000_RADV, 20); /* 20.48 us */
    uint64_t t0 = h->now;
    rx_one(h);
    assert_int_equal(h->level, 0);
    assert_int_equal(e1000_next_deadline_ns(&h->dev), t0 + 10240);
    h->now = t0 + 8000;
    rx_one(h); /* RDTR re-armed to 18240, RADV stays 20480 */
    assert_int_equal(e1000_next_deadline_ns(&h->dev), t0 + 18240);
    h->now = t0 + 16000;
    rx_one(h); /* RDTR now 26240: RADV (20480) is earlier */
    assert_int_equal(e1000_next_deadline_ns(&h->dev), t0 + 20480);
    e1000_timer_expired(&h->dev, t0 + 20480);
    assert_int_equal(h->level, 1);
    assert_int_equal(h->edges, 1);
    assert_int_equal(e1000_next_deadline_ns(&h->dev), UINT64_MAX);
    /* RDTR with FPD flushes at once */
    rd(h, E1000_ICR);
    rx_one(h);
    assert_int_equal(h->level, 0);
    wr(h, E1000_RDTR, 10 | 0x80000000u);
    assert_int_equal(h->level, 1);
    assert_int_equal(rd(h, E1000_RDTR), 10);
    /* RDTR 0: immediate */
    rd(h, E1000_ICR);
    wr(h, E1000_RDTR, 0);
    rx_one(h);
    assert_int_equal(h->level, 1);
    h_free(h);
}

static uint64_t notified;
static void on_deadline(void *o, uint64_t d)
{
    (void)o;
    notified = d;
}

static void test_deadline_notification_and_lazy_timers(void **state)
{
    (void)state;
    struct h *h = h_new(true);
    h->dev.cfg.deadline_changed = on_deadline;
    tx_setup(h, 8);
    wr(h, E1000_IMS, E1000_ICR_TXDW);
    wr(h, E1000_TIDV, 8);
    uint64_t t0 = h->now;
    notified = 0;
    tx_ide(h, 0);
    assert_int_equal(notified, t0 + 8192);
    /* a register access after the deadline runs the timer (lazy check) */
    h->now = t0 + 9000;
    assert_true(rd(h, E1000_ICR) & E1000_ICR_TXDW);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mitigation_off_irq_per_packet),
        cmocka_unit_test(test_itr_spacing),
        cmocka_unit_test(test_tidv_tadv),
        cmocka_unit_test(test_rdtr_radv),
        cmocka_unit_test(test_deadline_notification_and_lazy_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
