/* e1000 model: one regression test per entry of docs/e1000-security.md
 * (device-model bugs known from other hypervisors, and the general
 * untrusted-guest rules). Each must end in a drop, an error counter or a
 * stopped ring -- never a crash, a hang or an access outside guest RAM
 * (run under ASan/UBSan by `make check`). */
#include "test_e1000_harness.h"

static const uint8_t DST[6] = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0x02};

/* CVE-2016-1981: TDH/RDH at or beyond the ring length made the walk spin. */
static void test_sec_cve_2016_1981_head_beyond_ring(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    wr(h, E1000_TDH, 100);
    wr(h, E1000_TDT, 5);
    assert_int_equal(h->fb.ncap, 0);
    wr(h, E1000_TDH, 0);
    wr(h, E1000_TDT, 9); /* tail beyond */
    assert_int_equal(st(h).guest_errors[E1000_GERR_RING_INDEX], 2);
    assert_int_equal(rd(h, E1000_TDH), 0);
    /* RX: RDH beyond the ring -> treated as no free descriptor */
    rx_setup(h, 8, 0);
    wr(h, E1000_RDH, 50);
    uint8_t f[64];
    make_frame(f, 64, TEST_MAC, 1);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 0);
    assert_int_equal(st(h).guest_errors[E1000_GERR_RING_INDEX], 3);
    assert_int_equal(st(h).rx_backlogged, 1); /* kept, not lost */
    wr(h, E1000_RDH, 0);
    wr(h, E1000_RDT, 7);
    assert_int_equal(st(h).rx_frames, 1);
    h_free(h);
}

/* CVE-2015-6815: TSO with MSS or header length zero looped forever. */
static void test_sec_cve_2015_6815_tso_zero_mss_hdr(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 16);
    make_frame(h->ram + TX_BUF, 1000, DST, 1);
    const uint8_t tucmd = E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TUCMD_TSE;
    tx_ctx(h, 0, 14, 24, 33, 34, 50, 0, 946, tucmd, 54, 0); /* mss 0 */
    tx_data(h, 1, TX_BUF, 1000, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 3);
    tx_ctx(h, 2, 14, 24, 33, 34, 50, 0, 946, tucmd, 0, 100); /* hdr_len 0 */
    tx_data(h, 3, TX_BUF, 1000, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, 3);
    tx_ctx(h, 4, 14, 24, 33, 34, 50, 0, 946, tucmd, 255, 100); /* hdr beyond frame parts */
    tx_data(h, 5, TX_BUF, 100, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, 3);
    tx_ctx(h, 6, 14, 24, 33, 34, 50, 0, 60000, tucmd, 54, 1); /* mss 1: too many segments */
    tx_data(h, 7, TX_BUF, 60000, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, 3);
    wr(h, E1000_TDT, 8);
    assert_int_equal(h->fb.ncap, 0);
    assert_int_equal(rd(h, E1000_TDH), 8);
    assert_int_equal(st(h).guest_errors[E1000_GERR_TSO], 4);
    assert_int_equal(st(h).drops[E1000_DROP_TX_BAD], 4);
    assert_true(txd(h, 1)[12] & E1000_TXD_STAT_DD); /* the ring still advances */
    h_free(h);
}

/* CVE-2012-6075: a received frame longer than the guest allows overflowed. */
static void test_sec_cve_2012_6075_rx_oversize_without_lpe(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    rx_setup(h, 8, 0); /* 2048-byte buffers, LPE off */
    static uint8_t f[9000];
    make_frame(f, sizeof(f), TEST_MAC, 1);
    memset(h->ram + RX_BUF, 0xAB, 2 * RX_BUF_STRIDE);
    inject(h, f, 1519);
    inject(h, f, 9000);
    assert_int_equal(e1000_rx_poll(&h->dev), 0);
    assert_int_equal(st(h).drops[E1000_DROP_RX_OVERSIZE], 2);
    assert_int_equal(rd(h, E1000_ROC), 2);
    /* No descriptor completed, nothing written past the first buffer (its
     * bytes belong to the device until DD: it may hold part of a dropped
     * frame, as on real hardware). */
    assert_false(rxd(h, 0)[12] & E1000_RXD_STAT_DD);
    assert_int_equal(h->ram[RX_BUF + RX_BUF_STRIDE], 0xAB);
    assert_int_equal(rd(h, E1000_RDH), 0);
    inject(h, f, 1518); /* the largest allowed still fits */
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
    /* LPE, but the ring could never hold it (7 usable descriptors x 256 bytes) */
    struct h *h2 = h_new(false);
    rx_setup(h2, 8, E1000_RCTL_LPE | (3u << E1000_RCTL_BSIZE_SHIFT));
    inject(h2, f, 9000);
    assert_int_equal(e1000_rx_poll(&h2->dev), 0);
    assert_int_equal(st(h2).drops[E1000_DROP_RX_OVERSIZE], 1);
    h_free(h2);
    h_free(h);
}

/* CVE-2021-20257: a crafted mix of context/data and legacy descriptors
 * underflowed a size and looped. */
static void test_sec_cve_2021_20257_mixed_descriptors(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 16);
    make_frame(h->ram + TX_BUF, 200, DST, 1);
    const uint8_t tucmd = E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TUCMD_TSE;
    tx_ctx(h, 0, 14, 24, 33, 34, 50, 0, 146, tucmd, 54, 100);
    tx_data(h, 1, TX_BUF, 40, E1000_TXD_CMD_TSE, 3);        /* TSO frame begins */
    tx_legacy(h, 2, TX_BUF + 40, 160, E1000_TXD_CMD_EOP);   /* legacy ends it */
    tx_legacy(h, 3, TX_BUF, 30, 0);                         /* legacy begins */
    tx_ctx(h, 4, 14, 24, 33, 34, 50, 0, 0, tucmd, 54, 100); /* context inside */
    tx_data(h, 5, TX_BUF, 100, E1000_TXD_CMD_EOP, 0);       /* data alone: fine */
    tx_legacy(h, 6, TX_BUF, 10, 0);                         /* legacy begins */
    tx_data(h, 7, TX_BUF, 100, E1000_TXD_CMD_EOP, 0);       /* data ends it */
    txd(h, 8)[11] = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_EOP; /* unknown DTYP */
    txd(h, 8)[10] = 0xF0;
    tx_legacy(h, 9, TX_BUF, 200, E1000_TXD_CMD_EOP); /* a good frame after */
    wr(h, E1000_TDT, 10);
    assert_int_equal(rd(h, E1000_TDH), 10);
    assert_int_equal(h->fb.ncap, 2); /* desc 5 and desc 9 */
    assert_int_equal(h->fb.cap[0].len, 100);
    assert_int_equal(h->fb.cap[1].len, 200);
    assert_true(st(h).guest_errors[E1000_GERR_MIXED_DESC] >= 3);
    h_free(h);
}

/* CVE-2021-3416: loopback re-entered the device through DMA and recursed. */
static struct h *reenter_h;
static void reenter(struct fake_be *fb)
{
    (void)fb;
    wr(reenter_h, E1000_TDT, 0);
    e1000_rx_poll(&reenter_h->dev);
    uint8_t b[4];
    e1000_mmio_read(&reenter_h->dev, E1000_ICR, b, 4);
}

static void test_sec_cve_2021_3416_no_reentry(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    reenter_h = h;
    tx_setup(h, 8);
    rx_setup(h, 8, E1000_RCTL_UPE | (1u << 6) /* LBM: loopback requested */);
    h->fb.on_send = reenter;
    make_frame(h->ram + TX_BUF, 64, TEST_MAC, 1);
    tx_legacy(h, 0, TX_BUF, 64, E1000_TXD_CMD_EOP);
    tx_legacy(h, 1, TX_BUF, 64, E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 2);
    assert_int_equal(h->fb.ncap, 2);
    assert_int_equal(rd(h, E1000_TDH), 2);
    assert_int_equal(st(h).guest_errors[E1000_GERR_REENTRY], 3);
    assert_int_equal(st(h).rx_frames, 0); /* no loopback into our own RX */
    h_free(h);
}

/* Descriptor rings outside guest RAM, including addresses that wrap. */
static void test_sec_descriptors_outside_ram(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    wr(h, E1000_TDBAL, RAM_SIZE - 32); /* descriptors 2.. are outside */
    make_frame(h->ram + TX_BUF, 64, DST, 1);
    uint8_t *d0 = h->ram + RAM_SIZE - 32;
    memset(d0, 0, 32);
    put_le64(d0, TX_BUF);
    d0[8] = 64;
    d0[11] = E1000_TXD_CMD_EOP;
    memcpy(d0 + 16, d0, 16);
    wr(h, E1000_TDT, 5);
    assert_int_equal(h->fb.ncap, 2);
    assert_int_equal(rd(h, E1000_TDH), 2); /* stopped at the bad one */
    assert_int_equal(st(h).guest_errors[E1000_GERR_DESC_DMA], 1);
    wr(h, E1000_TDBAH, 0xFFFFFFFF); /* base near 2^64: wraps */
    wr(h, E1000_TDBAL, 0xFFFFFFF0);
    wr(h, E1000_TDT, 7);
    assert_int_equal(st(h).guest_errors[E1000_GERR_DESC_DMA], 2);
    /* RX ring outside RAM */
    rx_setup(h, 8, 0);
    wr(h, E1000_RDBAH, 1);
    uint8_t f[64];
    make_frame(f, 64, TEST_MAC, 1);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 0);
    assert_int_equal(st(h).drops[E1000_DROP_RX_DMA], 1);
    assert_int_equal(rd(h, E1000_RDH), 0);
    h_free(h);
}

/* Buffers outside guest RAM or straddling its end. */
static void test_sec_buffers_outside_ram(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    tx_legacy(h, 0, RAM_SIZE - 10, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    tx_legacy(h, 1, 0xFFFFFFFFFFFFFFF0ull, 64, E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 2);
    assert_int_equal(h->fb.ncap, 0);
    assert_int_equal(st(h).guest_errors[E1000_GERR_BUF_DMA], 2);
    assert_int_equal(st(h).drops[E1000_DROP_TX_BAD], 2);
    assert_true(txd(h, 0)[12] & E1000_TXD_STAT_DD);
    /* RX: second buffer of a multi-descriptor frame outside RAM */
    rx_setup(h, 8, E1000_RCTL_LPE | (3u << E1000_RCTL_BSIZE_SHIFT));
    put_le64(rxd(h, 1), RAM_SIZE - 100);
    static uint8_t f[600];
    make_frame(f, sizeof(f), TEST_MAC, 1);
    memset(h->ram + RX_BUF, 0xCD, 16);
    inject(h, f, sizeof(f));
    assert_int_equal(e1000_rx_poll(&h->dev), 0);
    assert_int_equal(st(h).guest_errors[E1000_GERR_BUF_DMA], 3);
    assert_int_equal(rd(h, E1000_RDH), 0);  /* nothing consumed */
    assert_int_equal(h->ram[RX_BUF], 0xCD); /* nothing written */
    assert_int_equal(rxd(h, 0)[12], 0);
    h_free(h);
}

/* Zero and huge lengths: empty frames, frames over 64 KiB, zero-length rings. */
static void test_sec_zero_and_huge_lengths(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 16);
    tx_legacy(h, 0, TX_BUF, 0, E1000_TXD_CMD_EOP); /* empty frame */
    for (uint32_t i = 1; i < 4; i++)               /* 3 x 40000 bytes = over 64 KiB */
        tx_legacy(h, i, TX_BUF, 40000, i == 3 ? E1000_TXD_CMD_EOP : 0);
    tx_data(h, 4, TX_BUF, 0xFFFFF, E1000_TXD_CMD_EOP, 0); /* 1 MiB data descriptor */
    tx_legacy(h, 5, TX_BUF, 100, E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 6);
    assert_int_equal(h->fb.ncap, 1);
    assert_int_equal(h->fb.cap[0].len, 100);
    assert_int_equal(st(h).drops[E1000_DROP_TX_EMPTY], 1);
    assert_int_equal(st(h).drops[E1000_DROP_TX_OVERSIZE], 2);
    /* zero-length rings */
    wr(h, E1000_TDLEN, 0);
    wr(h, E1000_TDT, 3);
    assert_int_equal(st(h).guest_errors[E1000_GERR_RING_LEN], 1);
    wr(h, E1000_TDLEN, 0x7F); /* below 128: masked to 0 */
    assert_int_equal(rd(h, E1000_TDLEN), 0);
    h_free(h);
}

/* Register storms and huge rings: one exit does bounded work. */
static void test_sec_bounded_work_per_exit(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    const uint32_t n = 65528; /* TDLEN 1 MiB - 128: the largest ring */
    wr(h, E1000_TDBAL, 0x200000);
    wr(h, E1000_TDLEN, n * 16);
    wr(h, E1000_TDH, 0);
    wr(h, E1000_TCTL, E1000_TCTL_EN);
    make_frame(h->ram + TX_BUF, 60, DST, 1);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *d = h->ram + 0x200000 + 16 * i;
        put_le64(d, TX_BUF);
        d[8] = 60;
        d[11] = E1000_TXD_CMD_EOP;
    }
    wr(h, E1000_TDT, n - 1);
    /* (read the register file directly: a register access would itself run
     * the deferred work, one more bounded pass) */
    assert_int_equal(R(&h->dev, E1000_TDH), 4096);
    assert_int_equal(e1000_next_deadline_ns(&h->dev), 0); /* more work: "now" */
    int passes = 1;
    while (e1000_next_deadline_ns(&h->dev) == 0 && passes < 100) {
        e1000_timer_expired(&h->dev, h->now);
        passes++;
    }
    assert_int_equal(rd(h, E1000_TDH), n - 1);
    assert_int_equal(st(h).tx_frames, n - 1);
    assert_true(passes >= 16);
    assert_true(st(h).guest_errors[E1000_GERR_WORK_BOUND] >= 15);
    /* TSO amplification: 64 KiB frames cut into 16-byte segments stage ~17x
     * their size; the pass stops once ~8 MiB were staged */
    struct h *t = h_new(false);
    tx_setup(t, 256);
    uint8_t *pk = t->ram + TX_BUF;
    memset(pk, 0, 65535);
    pk[12] = 0x08, pk[14] = 0x45;
    const uint8_t tso = E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TUCMD_TSE;
    for (uint32_t i = 0; i < 254; i += 2) {
        tx_ctx(t, i, 14, 24, 33, 34, 50, 0, 65535 - 254, tso, 254, 16);
        tx_data(t, i + 1, TX_BUF, 65535, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, 3);
    }
    wr(t, E1000_TDT, 254);
    struct e1000_stats ts = st(t);
    assert_true(ts.tx_bytes <= (8u << 20) + (2u << 20));
    assert_true(ts.tx_bytes >= (8u << 20));
    assert_int_equal(e1000_next_deadline_ns(&t->dev), 0);
    h_free(t);

    /* RX: a poll moves at most E1000_RX_POLL_BUDGET frames */
    /* More free descriptors than the budget; 2 KiB buffers, so that they
     * fit the harness's RAM (rx_setup spaces them 16 KiB apart). */
    const uint32_t nrx = E1000_RX_POLL_BUDGET + 256;
    for (uint32_t i = 0; i < nrx; i++) {
        uint8_t *d = h->ram + RX_RING + 16 * i;
        memset(d, 0, 16);
        put_le64(d, RX_BUF + (uint64_t)i * 2048);
    }
    wr(h, E1000_RDBAL, RX_RING);
    wr(h, E1000_RDLEN, nrx * 16);
    wr(h, E1000_RDH, 0);
    wr(h, E1000_RDT, nrx - 1);
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    uint8_t f[64];
    make_frame(f, 64, TEST_MAC, 1);
    for (int i = 0; i < E1000_RX_POLL_BUDGET + 100; i++)
        inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), E1000_RX_POLL_BUDGET);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sec_cve_2016_1981_head_beyond_ring),
        cmocka_unit_test(test_sec_cve_2015_6815_tso_zero_mss_hdr),
        cmocka_unit_test(test_sec_cve_2012_6075_rx_oversize_without_lpe),
        cmocka_unit_test(test_sec_cve_2021_20257_mixed_descriptors),
        cmocka_unit_test(test_sec_cve_2021_3416_no_reentry),
        cmocka_unit_test(test_sec_descriptors_outside_ram),
        cmocka_unit_test(test_sec_buffers_outside_ram),
        cmocka_unit_test(test_sec_zero_and_huge_lengths),
        cmocka_unit_test(test_sec_bounded_work_per_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
