/* e1000 model: receive (single and multi-descriptor frames, filters,
 * ring-full backlog and MPC, the Firecracker #293 scenario). */
#include "test_e1000_harness.h"

static uint8_t *rxbuf(struct h *h, uint32_t i)
{
    return h->ram + RX_BUF + i * RX_BUF_STRIDE;
}

static void test_rx_single(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    rx_setup(h, 8, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    uint8_t f[200];
    make_frame(f, sizeof(f), TEST_MAC, 9);
    inject(h, f, sizeof(f));
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
    assert_memory_equal(rxbuf(h, 0), f, sizeof(f));
    assert_int_equal(e1000_le16(rxd(h, 0) + 8), sizeof(f));
    assert_int_equal(rxd(h, 0)[12] & 3, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    assert_int_equal(rd(h, E1000_RDH), 1);
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXT0);
    assert_int_equal(rd(h, E1000_GPRC), 1);
    struct e1000_stats s = st(h);
    assert_int_equal(s.rx_frames, 1);
    assert_int_equal(s.rx_bytes, sizeof(f));
    h_free(h);
}

static void test_rx_fcs_and_padding(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    rx_setup(h, 8, 0);
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) & ~E1000_RCTL_SECRC); /* keep the FCS */
    uint8_t f[42];
    make_frame(f, sizeof(f), TEST_MAC, 9);
    memset(rxbuf(h, 0), 0xEE, 100);
    inject(h, f, sizeof(f));
    e1000_rx_poll(&h->dev);
    assert_int_equal(e1000_le16(rxd(h, 0) + 8), 64); /* padded to 60 + 4 FCS bytes */
    assert_memory_equal(rxbuf(h, 0), f, sizeof(f));
    assert_int_equal(rxbuf(h, 0)[50], 0);
    assert_int_equal(rxbuf(h, 0)[64], 0xEE); /* nothing beyond */
    h_free(h);
}

static void test_rx_multi_descriptor_lpe(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    /* 256-byte buffers, long packets enabled */
    rx_setup(h, 64, E1000_RCTL_LPE | (3u << E1000_RCTL_BSIZE_SHIFT));
    static uint8_t f[9000];
    make_frame(f, sizeof(f), TEST_MAC, 5);
    inject(h, f, sizeof(f));
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
    uint32_t need = (9000 + 255) / 256; /* 36 */
    for (uint32_t i = 0; i < need; i++) {
        uint32_t chunk = i + 1 < need ? 256 : 9000 - 256 * (need - 1);
        assert_int_equal(e1000_le16(rxd(h, i) + 8), chunk);
        assert_memory_equal(rxbuf(h, i), f + 256 * i, chunk);
        assert_int_equal(rxd(h, i)[12] & E1000_RXD_STAT_EOP,
                         i + 1 == need ? E1000_RXD_STAT_EOP : 0);
        assert_true(rxd(h, i)[12] & E1000_RXD_STAT_DD);
    }
    assert_int_equal(rd(h, E1000_RDH), need);
    /* BSEX: 16384-byte buffers take it in one */
    struct h *h2 = h_new(false);
    rx_setup(h2, 8, E1000_RCTL_LPE | E1000_RCTL_BSEX | (1u << E1000_RCTL_BSIZE_SHIFT));
    inject(h2, f, sizeof(f));
    assert_int_equal(e1000_rx_poll(&h2->dev), 1);
    assert_int_equal(e1000_le16(rxd(h2, 0) + 8), 9000);
    assert_int_equal(rd(h2, E1000_RDH), 1);
    h_free(h2);
    h_free(h);
}

static void test_rx_filters(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    rx_setup(h, 64, 0);
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC); /* no BAM */
    uint8_t f[64];
    const uint8_t other[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x99};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5E, 0x00, 0x12, 0x34};
    make_frame(f, 64, TEST_MAC, 1);
    inject(h, f, 64); /* ours: accepted */
    make_frame(f, 64, other, 1);
    inject(h, f, 64); /* other unicast: dropped */
    make_frame(f, 64, BCAST, 1);
    inject(h, f, 64); /* broadcast without BAM: dropped */
    make_frame(f, 64, mcast, 1);
    inject(h, f, 64); /* multicast not in MTA: dropped */
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
    assert_int_equal(st(h).drops[E1000_DROP_RX_FILTER], 3);

    /* second receive address, BAM, MTA bit for mcast (MO = 0: bits 47:36) */
    wr(h, E1000_RA + 8, 0x00005452);
    wr(h, E1000_RA + 12, 0x9900 | E1000_RAH_AV);
    uint32_t hash = ((mcast[4] >> 4) | (mcast[5] << 4)) & 0xFFF;
    wr(h, E1000_MTA + 4 * (hash >> 5), 1u << (hash & 31));
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_BAM);
    make_frame(f, 64, other, 1);
    inject(h, f, 64);
    make_frame(f, 64, BCAST, 1);
    inject(h, f, 64);
    make_frame(f, 64, mcast, 1);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 3);
    assert_int_equal(rd(h, E1000_BPRC), 1);
    assert_int_equal(rd(h, E1000_MPRC), 1);
    /* MO = 3 changes the hash: now dropped */
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | (3u << E1000_RCTL_MO_SHIFT));
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 0);
    /* promiscuous */
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_UPE | E1000_RCTL_MPE);
    const uint8_t stranger[6] = {0x02, 1, 2, 3, 4, 5};
    make_frame(f, 64, stranger, 1);
    inject(h, f, 64);
    make_frame(f, 64, mcast, 1);
    inject(h, f, 64);
    make_frame(f, 64, BCAST, 1);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 3);
    /* VLAN filter */
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_VFE);
    make_frame(f, 64, TEST_MAC, 1);
    f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x07; /* VLAN 7 */
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 0);
    wr(h, E1000_VFTA, 1u << 7);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
    h_free(h);
}

/* Firecracker #293: fill the RX ring, stop refilling, keep frames coming,
 * resume: every deferred frame arrives in order or is counted as dropped. */
static void test_rx_ring_full_deferred_delivery(void **state)
{
    (void)state;
    struct h *h = h_new_cfg(false, 16);
    rx_setup(h, 8, 0); /* 7 usable descriptors (RDT = 7) */
    uint8_t f[100];
    const unsigned total = 40;
    for (unsigned i = 0; i < total; i++) {
        make_frame(f, sizeof(f), TEST_MAC, (uint8_t)i);
        f[20] = (uint8_t)i;
        inject(h, f, sizeof(f));
    }
    assert_int_equal(e1000_rx_poll(&h->dev), 7);
    struct e1000_stats s = st(h);
    assert_int_equal(s.rx_backlogged, 16);
    assert_int_equal(s.drops[E1000_DROP_RX_NO_DESC], total - 7 - 16);
    assert_int_equal(rd(h, E1000_MPC), total - 7 - 16);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXO);
    assert_int_equal(h->fb.inj_n, 0); /* the backend was drained: no busy fd */
    unsigned seen = 0;
    uint32_t head = 0;
    /* the guest consumes and gives buffers back a few at a time (RDT writes) */
    for (int round = 0; round < 10 && seen < 7 + 16; round++) {
        uint32_t rdh = rd(h, E1000_RDH);
        while (head != rdh) {
            assert_true(rxd(h, head)[12] & E1000_RXD_STAT_DD);
            assert_int_equal(rxbuf(h, head)[20], seen); /* in order */
            rxd(h, head)[12] = 0;
            seen++;
            head = (head + 1) % 8;
        }
        wr(h, E1000_RDT, (head + 7) % 8); /* delivers from the backlog */
    }
    assert_int_equal(seen, 7 + 16);
    s = st(h);
    assert_int_equal(s.rx_frames + s.drops[E1000_DROP_RX_NO_DESC], total);
    h_free(h);
}

static void test_rx_disabled_and_unset_ring(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    uint8_t f[64];
    make_frame(f, 64, TEST_MAC, 1);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 0); /* RCTL.EN clear */
    assert_int_equal(st(h).drops[E1000_DROP_RX_DISABLED], 1);
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC);
    inject(h, f, 64);
    assert_int_equal(e1000_rx_poll(&h->dev), 0); /* no ring yet: waits */
    assert_int_equal(st(h).rx_backlogged, 1);
    rx_setup(h, 8, 0); /* RDT write delivers it */
    assert_int_equal(st(h).rx_frames, 1);
    h_free(h);
}

/* A VLAN-tagged frame of the full Ethernet size: 1518 bytes as the backend
 * carries it (no FCS), 1522 on the wire, the 8254x limit without RCTL.LPE
 * (RLEC/ROC: "over 1522 bytes ... from <Destination Address> through
 * <CRC>"). */
static void make_vlan_frame(uint8_t *f, uint32_t len, uint16_t vid)
{
    make_frame(f, len, TEST_MAC, 3);
    memmove(f + 16, f + 12, len - 16); /* the tag goes in after the addresses */
    e1000_put_be16(f + 12, 0x8100);
    e1000_put_be16(f + 14, vid);
}

static void test_rx_vlan_full_size_without_lpe(void **state)
{
    (void)state;
    static uint8_t f[1600];
    make_vlan_frame(f, sizeof(f), 100);
    /* direct path: 2048-byte buffers, the FCS kept, the VLAN filter on */
    struct h *h = h_new(false);
    rx_setup(h, 8, E1000_RCTL_VFE);
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) & ~E1000_RCTL_SECRC);
    wr(h, E1000_VFTA + 4 * (100 >> 5), 1u << (100 & 31));
    inject(h, f, 1518);
    inject(h, f, 1519); /* 1523 on the wire: a length error */
    inject(h, f, 1518);
    assert_int_equal(e1000_rx_poll(&h->dev), 2);
    assert_int_equal(e1000_le16(rxd(h, 0) + 8), 1522); /* 1518 + FCS */
    assert_memory_equal(rxbuf(h, 0), f, 1518);
    assert_int_equal(e1000_le16(rxd(h, 1) + 8), 1522);
    assert_int_equal(rd(h, E1000_RDH), 2);
    assert_int_equal(st(h).drops[E1000_DROP_RX_OVERSIZE], 1);
    assert_int_equal(rd(h, E1000_ROC), 1);
    assert_int_equal(rd(h, E1000_RLEC), 1);
    assert_int_equal(rd(h, E1000_ROC), 0); /* statistics clear on read */
    assert_int_equal(rd(h, E1000_GPRC), 2);
    h_free(h);

    /* staged path: 1024-byte buffers, FCS kept: 1522 bytes over two descriptors */
    h = h_new(false);
    rx_setup(h, 8, 1u << E1000_RCTL_BSIZE_SHIFT);
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) & ~E1000_RCTL_SECRC);
    inject(h, f, 1519);
    inject(h, f, 1518);
    assert_int_equal(e1000_rx_poll(&h->dev), 1);
    assert_int_equal(e1000_le16(rxd(h, 0) + 8), 1024);
    assert_int_equal(e1000_le16(rxd(h, 1) + 8), 1522 - 1024);
    assert_true(rxd(h, 1)[12] & E1000_RXD_STAT_EOP);
    assert_memory_equal(rxbuf(h, 0), f, 1024);
    assert_memory_equal(rxbuf(h, 1), f + 1024, 1518 - 1024);
    assert_int_equal(rd(h, E1000_ROC), 1);
    assert_int_equal(rd(h, E1000_RLEC), 1);
    h_free(h);
}

/* With LPE the limit is 16384 bytes on the wire: 16380 without the FCS.
 * Longer frames are dropped by the backend (longer than the room the model
 * gives it) or by the model, and counted either way. */
static void test_rx_lpe_limit(void **state)
{
    (void)state;
    static uint8_t f[16400];
    make_frame(f, sizeof(f), TEST_MAC, 7);
    for (int secrc = 0; secrc < 2; secrc++) { /* staged (FCS kept), direct (stripped) */
        struct h *h = h_new(false);
        rx_setup(h, 8, E1000_RCTL_LPE | E1000_RCTL_BSEX | (1u << E1000_RCTL_BSIZE_SHIFT));
        if (!secrc)
            wr(h, E1000_RCTL, rd(h, E1000_RCTL) & ~E1000_RCTL_SECRC);
        inject(h, f, 16380);
        inject(h, f, 16381);
        inject(h, f, 16400);
        inject(h, f, 16380);
        assert_int_equal(e1000_rx_poll(&h->dev), 2);
        assert_int_equal(e1000_le16(rxd(h, 0) + 8), secrc ? 16380 : 16384);
        assert_memory_equal(rxbuf(h, 1), f, 16380);
        assert_int_equal(st(h).drops[E1000_DROP_RX_OVERSIZE], 2);
        assert_int_equal(rd(h, E1000_ROC), 2);
        assert_int_equal(rd(h, E1000_RLEC), 2);
        h_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rx_single),
        cmocka_unit_test(test_rx_fcs_and_padding),
        cmocka_unit_test(test_rx_multi_descriptor_lpe),
        cmocka_unit_test(test_rx_filters),
        cmocka_unit_test(test_rx_ring_full_deferred_delivery),
        cmocka_unit_test(test_rx_disabled_and_unset_ring),
        cmocka_unit_test(test_rx_vlan_full_size_without_lpe),
        cmocka_unit_test(test_rx_lpe_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
