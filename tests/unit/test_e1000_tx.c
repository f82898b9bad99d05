/* e1000 model: transmit (legacy, context + data, checksum offload, TSO, batching). */
#include "test_e1000_harness.h"

static const uint8_t DST[6] = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0x02};

static void test_tx_legacy_one_frame(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    wr(h, E1000_IMS, E1000_ICR_TXDW);
    uint8_t f[128];
    make_frame(f, sizeof(f), DST, 7);
    memcpy(h->ram + TX_BUF, f, sizeof(f));
    tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS);
    wr(h, E1000_TDT, 1);
    assert_int_equal(h->fb.ncap, 1);
    assert_int_equal(h->fb.batches, 1);
    assert_int_equal(h->fb.cap[0].len, sizeof(f));
    assert_memory_equal(h->fb.cap[0].data, f, sizeof(f));
    assert_int_equal(rd(h, E1000_TDH), 1);
    assert_true(txd(h, 0)[12] & E1000_TXD_STAT_DD);
    assert_int_equal(h->level, 1);
    assert_int_equal(rd(h, E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);
    struct e1000_stats s = st(h);
    assert_int_equal(s.tx_frames, 1);
    assert_int_equal(s.tx_bytes, sizeof(f));
    assert_int_equal(s.tx_descs, 1);
    /* no RS: no DD */
    tx_legacy(h, 1, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 2);
    assert_false(txd(h, 1)[12] & E1000_TXD_STAT_DD);
    assert_int_equal(h->fb.ncap, 2);
    h_free(h);
}

/* The common frame is sent from the guest's own buffer (no copy), so its
 * descriptor's DD -- which gives the buffer back -- is written only after
 * the backend has taken the batch. The send hook looks at the ring while
 * the backend holds the batch. */
static int dd_seen_during_send;
static const uint8_t *zc_ram;
static size_t zc_ram_size;
static int zc_frames_in_guest_ram;
static void check_dd_during_send(struct fake_be *fb)
{
    for (uint32_t i = 0; i < 4; i++)
        dd_seen_during_send += (txd(fb->h, i)[12] & E1000_TXD_STAT_DD) != 0;
}
static unsigned zc_send(struct net_backend *be, const struct vpio_pkt *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        zc_frames_in_guest_ram += (const uint8_t *)f[i].data >= zc_ram &&
                                  (const uint8_t *)f[i].data < zc_ram + zc_ram_size;
    return fb_send(be, f, n);
}
static void test_tx_zero_copy_dd_after_send(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    struct net_backend_ops ops = *h->fb.be.ops;
    ops.send_batch = zc_send;
    h->fb.be.ops = &ops;
    zc_ram = h->ram, zc_ram_size = RAM_SIZE;
    zc_frames_in_guest_ram = dd_seen_during_send = 0;
    h->fb.on_send = check_dd_during_send;
    tx_setup(h, 8);
    uint8_t f[100];
    make_frame(f, sizeof(f), DST, 3);
    memcpy(h->ram + TX_BUF, f, sizeof(f));
    memcpy(h->ram + TX_BUF + 2048, f, sizeof(f));
    /* two plain frames (sent from guest memory) and one short frame the
     * device must pad (TCTL.PSP): copied */
    tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    tx_legacy(h, 1, TX_BUF + 2048, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    tx_legacy(h, 2, TX_BUF, 40, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    wr(h, E1000_TCTL, rd(h, E1000_TCTL) | E1000_TCTL_PSP);
    wr(h, E1000_TDT, 3);
    assert_int_equal(h->fb.batches, 1);
    assert_int_equal(h->fb.ncap, 3);
    assert_int_equal(zc_frames_in_guest_ram, 2);
    assert_int_equal(dd_seen_during_send, 0);
    for (uint32_t i = 0; i < 3; i++)
        assert_true(txd(h, i)[12] & E1000_TXD_STAT_DD);
    assert_memory_equal(h->fb.cap[1].data, f, sizeof(f));
    assert_int_equal(h->fb.cap[2].len, 60);
    h->fb.on_send = NULL;
    h->fb.be.ops = &fb_ops;
    h_free(h);
}

static void test_tx_many_frames_one_batch(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 256);
    for (uint32_t i = 0; i < 200; i++) {
        uint8_t *b = h->ram + TX_BUF + i * 2048;
        make_frame(b, 60 + i, DST, (uint8_t)i);
        tx_legacy(h, i, TX_BUF + i * 2048, (uint16_t)(60 + i),
                  E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    }
    wr(h, E1000_TDT, 200);
    assert_int_equal(h->fb.batches, 1);
    assert_int_equal(h->fb.last_batch, 200);
    assert_int_equal(h->fb.ncap, 200);
    for (uint32_t i = 0; i < 200; i++) {
        assert_int_equal(h->fb.cap[i].len, 60 + i);
        assert_memory_equal(h->fb.cap[i].data, h->ram + TX_BUF + i * 2048, 60 + i);
        assert_true(txd(h, i)[12] & E1000_TXD_STAT_DD);
    }
    assert_int_equal(rd(h, E1000_TDH), 200);
    /* wrap around the ring end */
    for (uint32_t i = 200; i < 256 + 10; i++)
        tx_legacy(h, i % 256, TX_BUF, 64, E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 10);
    assert_int_equal(rd(h, E1000_TDH), 10);
    assert_int_equal(h->fb.ncap, 266);
    assert_int_equal(h->fb.batches, 2);
    assert_int_equal(st(h).tdt_writes, 3); /* tx_setup wrote TDT once */
    h_free(h);
}

static void test_tx_multi_descriptor_frame(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    uint8_t f[3000];
    make_frame(f, sizeof(f), DST, 3);
    memcpy(h->ram + TX_BUF, f, 1000);
    memcpy(h->ram + TX_BUF + 0x10000, f + 1000, 1);
    memcpy(h->ram + TX_BUF + 0x20000, f + 1001, 1999);
    tx_legacy(h, 0, TX_BUF, 1000, 0);
    tx_legacy(h, 1, TX_BUF + 0x10000, 1, 0);
    tx_legacy(h, 2, 0, 0, 0); /* an empty descriptor in between is fine */
    tx_legacy(h, 3, TX_BUF + 0x20000, 1999, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    /* the guest may publish half a frame first */
    wr(h, E1000_TDT, 2);
    assert_int_equal(h->fb.ncap, 0);
    wr(h, E1000_TDT, 4);
    assert_int_equal(h->fb.ncap, 1);
    assert_int_equal(h->fb.cap[0].len, 3000);
    assert_memory_equal(h->fb.cap[0].data, f, 3000);
    h_free(h);
}

static void test_tx_pad_short(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    uint8_t f[42];
    make_frame(f, sizeof(f), DST, 3);
    memcpy(h->ram + TX_BUF, f, sizeof(f));
    tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP);
    wr(h, E1000_TDT, 1);
    assert_int_equal(h->fb.cap[0].len, 60);
    assert_memory_equal(h->fb.cap[0].data, f, sizeof(f));
    assert_int_equal(h->fb.cap[0].data[59], 0);
    h_free(h);
}

/* IPv4 + UDP/TCP test packets */
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
    uint32_t s = e1000_csum_add(0, ip + 12, 8);
    return s + proto + l4len;
}

static uint16_t fold_nocompl(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)s;
}

/* eth + ipv4 + (udp|tcp) + payload; checksums left as a driver leaves them. */
static uint32_t build_ip(uint8_t *p, bool tcp, uint32_t paylen, bool tso)
{
    uint32_t l4h = tcp ? 20 : 8, len = 14 + 20 + l4h + paylen;
    memset(p, 0, len);
    memcpy(p, DST, 6);
    memcpy(p + 6, TEST_MAC, 6);
    put16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    ip[0] = 0x45;
    put16(ip + 2, tso ? 0 : (uint16_t)(20 + l4h + paylen));
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 1;
    ip[16] = 198, ip[17] = 18, ip[18] = 0, ip[19] = 2;
    uint8_t *l4 = ip + 20;
    put16(l4, 1000);
    put16(l4 + 2, 2000);
    if (tcp) {
        l4[4] = 0x11, l4[5] = 0x22, l4[6] = 0x33, l4[7] = 0x44; /* seq */
        l4[12] = 0x50;
        l4[13] = 0x18 | 0x01; /* ACK PSH FIN */
        put16(l4 + 14, 65535);
        put16(l4 + 16, fold_nocompl(pseudo_sum(ip, 6, tso ? 0 : 20 + paylen)));
    } else {
        put16(l4 + 4, (uint16_t)(8 + paylen));
        put16(l4 + 6, fold_nocompl(pseudo_sum(ip, 17, 8 + paylen)));
    }
    for (uint32_t i = 0; i < paylen; i++)
        l4[l4h + i] = (uint8_t)(i * 7 + 1);
    return len;
}

static void check_ip_l4(const uint8_t *p, uint32_t len, bool tcp)
{
    const uint8_t *ip = p + 14;
    assert_int_equal(e1000_be16(ip + 2), len - 14);
    assert_int_equal(csum_check(ip, 20, 0), 0);
    uint32_t l4len = len - 34;
    assert_int_equal(csum_check(ip + 20, l4len, pseudo_sum(ip, tcp ? 6 : 17, l4len)), 0);
}

static void test_tx_checksum_offload(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 16);
    for (int tcp = 0; tcp < 2; tcp++) {
        uint8_t *b = h->ram + TX_BUF + (uint32_t)tcp * 0x1000;
        uint32_t len = build_ip(b, tcp, 333, false);
        uint32_t i = (uint32_t)tcp * 3;
        tx_ctx(h, i, 14, 24, 33, 34, tcp ? 50 : 40, 0, 0,
               tcp ? (E1000_TUCMD_TCP | E1000_TUCMD_IP) : E1000_TUCMD_IP, 0, 0);
        /* split the frame over two data descriptors */
        tx_data(h, i + 1, TX_BUF + (uint32_t)tcp * 0x1000, 20, 0,
                E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM);
        tx_data(h, i + 2, TX_BUF + (uint32_t)tcp * 0x1000 + 20, len - 20,
                E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0);
        wr(h, E1000_TDT, i + 3);
        assert_int_equal(h->fb.ncap, (unsigned)tcp + 1);
        assert_int_equal(h->fb.cap[tcp].len, len);
        check_ip_l4(h->fb.cap[tcp].data, len, tcp);
        /* guest memory untouched: the model works on its copy */
        assert_int_equal(e1000_be16(b + 24), 0);
        assert_true(txd(h, i + 2)[12] & E1000_TXD_STAT_DD);
    }
    assert_int_equal(st(h).guest_errors[E1000_GERR_CSUM], 0);
    h_free(h);
}

static void test_tx_legacy_ic_checksum(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    uint8_t *b = h->ram + TX_BUF;
    uint32_t len = build_ip(b, false, 100, false);
    tx_legacy(h, 0, TX_BUF, (uint16_t)len, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC);
    txd(h, 0)[10] = 40; /* CSO */
    txd(h, 0)[13] = 34; /* CSS */
    put16(b + 24, 0);
    b[24] = 0, b[25] = 0;
    /* IP header checksum computed by "software" */
    uint16_t ipc = csum_check(b + 14, 20, 0);
    put16(b + 24, ipc);
    wr(h, E1000_TDT, 1);
    check_ip_l4(h->fb.cap[0].data, len, false);
    h_free(h);
}

static void test_tx_tso_split(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 16);
    wr(h, E1000_IMS, E1000_ICR_TXDW);
    uint8_t *b = h->ram + TX_BUF;
    const uint32_t pay = 350, mss = 100, hdr = 54;
    uint32_t len = build_ip(b, true, pay, true);
    tx_ctx(h, 0, 14, 24, 33, 34, 50, 0, pay, E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TUCMD_TSE,
           (uint8_t)hdr, (uint16_t)mss);
    tx_data(h, 1, TX_BUF, hdr, E1000_TXD_CMD_TSE, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM);
    tx_data(h, 2, TX_BUF + hdr, len - hdr, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS,
            0);
    wr(h, E1000_TDT, 3);
    assert_int_equal(h->fb.ncap, 4);
    assert_int_equal(h->fb.batches, 1);
    uint32_t seq = 0x11223344;
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *s = h->fb.cap[i].data;
        uint32_t plen = i < 3 ? mss : pay - 3 * mss;
        assert_int_equal(h->fb.cap[i].len, hdr + plen);
        check_ip_l4(s, hdr + plen, true);
        assert_int_equal(e1000_be16(s + 18), 0x1234 + i); /* IP id */
        assert_int_equal(e1000_be32(s + 38), seq + i * mss);
        assert_int_equal(s[47] & 0x09, i < 3 ? 0 : 0x09); /* FIN/PSH only last */
        assert_memory_equal(s + hdr, b + hdr + i * mss, plen);
    }
    assert_int_equal(st(h).tx_tso_segments, 4);
    assert_int_equal(rd(h, E1000_TSCTC), 1);
    assert_int_equal(h->level, 1);
    h_free(h);
}

static void test_tx_disabled_and_vlan(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    wr(h, E1000_TCTL, 0);
    uint8_t f[64];
    make_frame(f, sizeof(f), DST, 1);
    memcpy(h->ram + TX_BUF, f, sizeof(f));
    tx_legacy(h, 0, TX_BUF, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_VLE);
    txd(h, 0)[14] = 0x05; /* VLAN 5 */
    wr(h, E1000_TDT, 1);
    assert_int_equal(h->fb.ncap, 0); /* TCTL.EN clear: nothing sent */
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_VME);
    wr(h, E1000_TCTL, E1000_TCTL_EN); /* enabling transmits what waits */
    assert_int_equal(h->fb.ncap, 1);
    const uint8_t *o = h->fb.cap[0].data;
    assert_int_equal(h->fb.cap[0].len, 68);
    assert_int_equal(e1000_be16(o + 12), 0x8100);
    assert_int_equal(e1000_be16(o + 14), 5);
    assert_memory_equal(o + 16, f + 12, sizeof(f) - 12);
    h_free(h);
}

static void test_tx_backend_refuses(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    h->fb.accept_limit = 2;
    for (uint32_t i = 0; i < 5; i++) {
        make_frame(h->ram + TX_BUF, 64, DST, 1);
        tx_legacy(h, i, TX_BUF, 64, E1000_TXD_CMD_EOP);
    }
    wr(h, E1000_TDT, 5);
    assert_int_equal(h->fb.ncap, 2);
    assert_int_equal(st(h).drops[E1000_DROP_TX_BACKEND], 3);
    h_free(h);
}

/* TSO over IPv6 + UDP (UFO-style): payload length and UDP length per segment,
 * UDP checksum 0 sent as 0xFFFF. */
static void test_tx_tso_ipv6_udp(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 16);
    uint8_t *p = h->ram + TX_BUF;
    const uint32_t hdr = 14 + 40 + 8, pay = 250, mss = 100;
    memset(p, 0, hdr + pay);
    memcpy(p, DST, 6);
    memcpy(p + 6, TEST_MAC, 6);
    put16(p + 12, 0x86DD);
    uint8_t *ip6 = p + 14;
    ip6[0] = 0x60;
    ip6[6] = 17; /* next header UDP */
    ip6[7] = 64;
    for (int i = 0; i < 16; i++)
        ip6[8 + i] = (uint8_t)(i + 1), ip6[24 + i] = (uint8_t)(0x80 + i);
    uint8_t *udp = ip6 + 40;
    put16(udp, 7), put16(udp + 2, 9);
    /* pseudo-header seed without the length (as for TSO) */
    uint32_t ps = e1000_csum_add(0, ip6 + 8, 32) + 17;
    put16(udp + 6, fold_nocompl(ps));
    for (uint32_t i = 0; i < pay; i++)
        p[hdr + i] = (uint8_t)(i ^ 0x5A);
    tx_ctx(h, 0, 14, 0, 0, 54, 60, 0, pay, E1000_TUCMD_TSE, (uint8_t)hdr, (uint16_t)mss);
    tx_data(h, 1, TX_BUF, hdr + pay, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, E1000_TXD_POPTS_TXSM);
    wr(h, E1000_TDT, 2);
    assert_int_equal(h->fb.ncap, 3);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *s = h->fb.cap[i].data;
        uint32_t plen = i < 2 ? mss : pay - 2 * mss, l4 = 8 + plen;
        assert_int_equal(h->fb.cap[i].len, hdr + plen);
        assert_int_equal(e1000_be16(s + 14 + 4), l4);      /* IPv6 payload length */
        assert_int_equal(e1000_be16(s + 14 + 40 + 4), l4); /* UDP length */
        uint32_t seed = e1000_csum_add(0, s + 14 + 8, 32) + 17 + l4;
        assert_int_equal(csum_check(s + 54, l4, seed), 0);
        assert_memory_equal(s + hdr, p + hdr + i * mss, plen);
    }
    h_free(h);
}

/* A UDP checksum that computes to 0 is sent as 0xFFFF (0 means "none"). */
static void test_tx_udp_zero_checksum(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 8);
    uint8_t *b = h->ram + TX_BUF;
    uint32_t len = build_ip(b, false, 2, false);
    /* choose the two payload bytes so that the sum folds to 0xFFFF -> ~ = 0 */
    b[42] = b[43] = 0;
    uint32_t sum = e1000_csum_add(0, b + 34, len - 34);
    uint16_t c = e1000_csum_fold(sum); /* what the payload must add */
    put16(b + 42, c);
    assert_int_equal(e1000_csum_fold(e1000_csum_add(0, b + 34, len - 34)), 0);
    tx_ctx(h, 0, 14, 24, 33, 34, 40, 0, 0, E1000_TUCMD_IP, 0, 0);
    tx_data(h, 1, TX_BUF, len, E1000_TXD_CMD_EOP, E1000_TXD_POPTS_TXSM);
    wr(h, E1000_TDT, 2);
    assert_int_equal(h->fb.ncap, 1);
    assert_int_equal(e1000_be16(h->fb.cap[0].data + 40), 0xFFFF);
    h_free(h);
}

/* Frames beyond the 1 MiB staging arena flush it early: two batches, nothing lost. */
static void test_tx_arena_flush(void **state)
{
    (void)state;
    struct h *h = h_new(false);
    tx_setup(h, 64);
    for (uint32_t i = 0; i < 20; i++)
        tx_data(h, i, TX_BUF, 60000, E1000_TXD_CMD_EOP, 0);
    make_frame(h->ram + TX_BUF, 60000, DST, 1);
    wr(h, E1000_TDT, 20);
    assert_int_equal(h->fb.ncap, 20);
    assert_int_equal(h->fb.batches, 2);
    for (uint32_t i = 0; i < 20; i++)
        assert_memory_equal(h->fb.cap[i].data, h->ram + TX_BUF, 60000);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_legacy_one_frame),
        cmocka_unit_test(test_tx_zero_copy_dd_after_send),
        cmocka_unit_test(test_tx_many_frames_one_batch),
        cmocka_unit_test(test_tx_multi_descriptor_frame),
        cmocka_unit_test(test_tx_pad_short),
        cmocka_unit_test(test_tx_checksum_offload),
        cmocka_unit_test(test_tx_legacy_ic_checksum),
        cmocka_unit_test(test_tx_tso_split),
        cmocka_unit_test(test_tx_disabled_and_vlan),
        cmocka_unit_test(test_tx_backend_refuses),
        cmocka_unit_test(test_tx_tso_ipv6_udp),
        cmocka_unit_test(test_tx_udp_zero_checksum),
        cmocka_unit_test(test_tx_arena_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
