/* The uplinks' intake check (src/uplink/uplink_frame.c): TPACKET_V3 blocks
 * and AF_XDP descriptors as the kernel writes them, good and broken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_packet.h>

#include "uplink/uplink_frame.h"

#define BLK 4096u
#define SLL_OFS TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
#define MAC_OFS 80u

static uint8_t blk[BLK];

/* A block with frames of the given lengths, one after the other. */
static void build(const uint32_t *lens, unsigned n)
{
    memset(blk, 0, sizeof blk);
    struct tpacket_block_desc *bd = (struct tpacket_block_desc *)blk;
    bd->hdr.bh1.block_status = TP_STATUS_USER;
    bd->hdr.bh1.num_pkts = n;
    bd->hdr.bh1.offset_to_first_pkt = 48;
    uint32_t off = 48;
    for (unsigned i = 0; i < n; i++) {
        struct tpacket3_hdr *h = (struct tpacket3_hdr *)(blk + off);
        uint32_t step = (MAC_OFS + lens[i] + 7u) & ~7u; /* the kernel's V3 alignment: 8 */
        h->tp_next_offset = i + 1 < n ? step : 0;
        h->tp_snaplen = h->tp_len = lens[i];
        h->tp_mac = MAC_OFS;
        struct sockaddr_ll *sll = (struct sockaddr_ll *)(blk + off + SLL_OFS);
        sll->sll_pkttype = PACKET_HOST;
        memset(blk + off + MAC_OFS, 0x40 + (int)i, lens[i]);
        off += step;
    }
}

static struct tpacket3_hdr *frame_hdr(unsigned i)
{
    uint32_t off = 48;
    for (unsigned k = 0; k < i; k++)
        off += ((struct tpacket3_hdr *)(blk + off))->tp_next_offset;
    return (struct tpacket3_hdr *)(blk + off);
}

static void test_tp_good(void **state)
{
    (void)state;
    uint32_t lens[] = {65, 14, 1514}; /* 65: the next frame is 8- but not 16-aligned */
    build(lens, 3);
    struct uplink_tp_frame f[8];
    struct uplink_counters c = {0};
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(f[i].len, lens[i]);
        assert_int_equal(f[i].data[0], 0x40 + i);
    }
    assert_int_equal(c.rx_bad_desc + c.rx_runts + c.rx_oversize + c.rx_truncated, 0);
}

static void test_tp_runt_oversize_truncated(void **state)
{
    (void)state;
    uint32_t lens[] = {13, 1514, 60, 60};
    build(lens, 4);
    frame_hdr(2)->tp_snaplen = 40; /* captured less than the frame */
    struct uplink_tp_frame f[8];
    struct uplink_counters c = {0};
    /* max frame 1000: the 1514-byte frame is oversize */
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 1000, f, 8, &c), 1);
    assert_int_equal(c.rx_runts, 1);
    assert_int_equal(c.rx_oversize, 1);
    assert_int_equal(c.rx_truncated, 1);
    assert_int_equal(f[0].len, 60);
}

static void test_tp_bad_offsets(void **state)
{
    (void)state;
    uint32_t lens[] = {60, 60, 60};
    struct uplink_tp_frame f[8];
    struct uplink_counters c = {0};
    build(lens, 3);
    frame_hdr(1)->tp_mac = 0xffff; /* frame outside the block */
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 2);
    assert_int_equal(c.rx_bad_desc, 1);

    memset(&c, 0, sizeof c);
    build(lens, 3);
    frame_hdr(0)->tp_next_offset = BLK; /* next frame past the end: the walk stops */
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 1);
    assert_int_equal(c.rx_bad_desc, 1);

    memset(&c, 0, sizeof c);
    build(lens, 3);
    frame_hdr(0)->tp_next_offset = 0; /* a loop on itself would never end */
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 1);
    assert_int_equal(c.rx_bad_desc, 1);

    memset(&c, 0, sizeof c);
    build(lens, 3);
    ((struct tpacket_block_desc *)blk)->hdr.bh1.num_pkts = 1000000; /* more than there are */
    ((struct tpacket_block_desc *)blk)->hdr.bh1.offset_to_first_pkt = 0xfffffff0u;
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 0);
    assert_int_equal(c.rx_bad_desc, 1);

    memset(&c, 0, sizeof c);
    build(lens, 3);
    frame_hdr(2)->tp_snaplen = 0xffffffffu; /* snaplen past the block */
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 2);
    assert_int_equal(c.rx_bad_desc, 1);
}

static void test_tp_outgoing_and_vlan(void **state)
{
    (void)state;
    uint32_t lens[] = {60, 60};
    build(lens, 2);
    ((struct sockaddr_ll *)((uint8_t *)frame_hdr(0) + SLL_OFS))->sll_pkttype = PACKET_OUTGOING;
    struct tpacket3_hdr *h = frame_hdr(1);
    h->tp_status = TP_STATUS_VLAN_VALID;
    h->hv1.tp_vlan_tci = 0x2007;
    struct uplink_tp_frame f[8];
    struct uplink_counters c = {0};
    assert_int_equal(uplink_tp_block_parse(blk, BLK, 16384, f, 8, &c), 1);
    assert_int_equal(c.rx_outgoing, 1);
    struct iovec iov[3];
    uint8_t tag[4];
    assert_int_equal(uplink_vlan_iov(&f[0], iov, tag), 3);
    assert_int_equal(iov[0].iov_len, 12);
    assert_int_equal(iov[1].iov_len, 4);
    assert_int_equal(iov[2].iov_len, 48);
    uint8_t want[4] = {0x81, 0x00, 0x20, 0x07}; /* 802.1Q, then the TCI */
    assert_memory_equal(tag, want, 4);
}

static void test_xdp_desc(void **state)
{
    (void)state;
    uint64_t chunk;
    const uint64_t umem = 16 * 2048;
    assert_int_equal(uplink_xdp_desc_check(2048 + 256, 60, umem, 2048, 1792, &chunk),
                     UPLINK_FRAME_OK);
    assert_int_equal(chunk, 2048);
    /* crosses into the next chunk */
    assert_int_equal(uplink_xdp_desc_check(2048 + 2000, 60, umem, 2048, 1792, &chunk),
                     UPLINK_FRAME_BAD_DESC);
    assert_int_equal(chunk, 2048); /* the chunk itself is still recycled */
    /* outside the umem */
    assert_int_equal(uplink_xdp_desc_check(umem, 60, umem, 2048, 1792, &chunk),
                     UPLINK_FRAME_BAD_DESC);
    assert_true(chunk == UINT64_MAX);
    assert_int_equal(uplink_xdp_desc_check(UINT64_MAX - 10, 60, umem, 2048, 1792, &chunk),
                     UPLINK_FRAME_BAD_DESC);
    assert_int_equal(uplink_xdp_desc_check(0, 0xffffffffu, umem, 2048, 1792, &chunk),
                     UPLINK_FRAME_BAD_DESC);
    assert_int_equal(uplink_xdp_desc_check(0, 10, umem, 2048, 1792, &chunk), UPLINK_FRAME_RUNT);
    assert_int_equal(uplink_xdp_desc_check(0, 1800, umem, 2048, 1792, &chunk),
                     UPLINK_FRAME_OVERSIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tp_good),        cmocka_unit_test(test_tp_runt_oversize_truncated),
        cmocka_unit_test(test_tp_bad_offsets), cmocka_unit_test(test_tp_outgoing_and_vlan),
        cmocka_unit_test(test_xdp_desc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
