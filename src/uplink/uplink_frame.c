/* The intake check of the uplinks (see uplink_frame.h). The kernel is the
 * writer of every field read here; nothing is trusted: offsets are checked
 * against the block or umem before the bytes they point at are read, and
 * arithmetic is done in 64 bits so that no sum can wrap. */
#include "uplink_frame.h"

#include <linux/if_packet.h>
#include <string.h>

void uplink_count_verdict(struct uplink_counters *c, enum uplink_verdict v)
{
    switch (v) {
    case UPLINK_FRAME_OK:
        break;
    case UPLINK_FRAME_RUNT:
        c->rx_runts++;
        break;
    case UPLINK_FRAME_OVERSIZE:
        c->rx_oversize++;
        break;
    case UPLINK_FRAME_TRUNCATED:
        c->rx_truncated++;
        break;
    case UPLINK_FRAME_BAD_DESC:
        c->rx_bad_desc++;
        break;
    case UPLINK_FRAME_OUTGOING:
        c->rx_outgoing++;
        break;
    }
}

enum uplink_verdict uplink_frame_len_check(uint64_t len, uint32_t max_frame)
{
    if (len < VPIO_SW_MIN_FRAME)
        return UPLINK_FRAME_RUNT;
    if (len > max_frame)
        return UPLINK_FRAME_OVERSIZE;
    return UPLINK_FRAME_OK;
}

uint64_t uplink_xdp_chunk(uint64_t addr, uint64_t umem_size, uint32_t chunk_size)
{
    if (!chunk_size || (chunk_size & (chunk_size - 1)) || addr >= umem_size)
        return UINT64_MAX;
    uint64_t base = addr & ~(uint64_t)(chunk_size - 1);
    return base + chunk_size <= umem_size ? base : UINT64_MAX;
}

enum uplink_verdict uplink_xdp_desc_check(uint64_t addr, uint32_t len, uint64_t umem_size,
                                          uint32_t chunk_size, uint32_t max_frame, uint64_t *chunk)
{
    *chunk = uplink_xdp_chunk(addr, umem_size, chunk_size);
    if (*chunk == UINT64_MAX)
        return UPLINK_FRAME_BAD_DESC;
    if ((addr - *chunk) + (uint64_t)len > chunk_size)
        return UPLINK_FRAME_BAD_DESC;
    return uplink_frame_len_check(len, max_frame);
}

/* TPACKET_V3 layout: the block descriptor, then frames, each a struct
 * tpacket3_hdr, its struct sockaddr_ll at TPACKET_ALIGN(sizeof hdr), the
 * frame at tp_mac (from the header), the next at tp_next_offset. */
#define TP_SLL_OFS TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
/* the kernel places V3 frames at 8-byte boundaries (V3_ALIGNMENT in
 * net/packet/af_packet.c), not TPACKET_ALIGNMENT (16) */
#define TP_V3_ALIGN 8u

static enum uplink_verdict tp_frame_check(const uint8_t *blk, size_t blk_size, uint64_t off,
                                          uint32_t max_frame, struct uplink_tp_frame *f)
{
    struct tpacket3_hdr h;
    memcpy(&h, blk + off, sizeof h); /* caller checked off + sizeof h <= blk_size */
    uint64_t room = blk_size - off;
    if (h.tp_mac < TP_SLL_OFS + sizeof(struct sockaddr_ll) || h.tp_mac > room ||
        (uint64_t)h.tp_snaplen > room - h.tp_mac)
        return UPLINK_FRAME_BAD_DESC;
    struct sockaddr_ll sll;
    memcpy(&sll, blk + off + TP_SLL_OFS, sizeof sll);
    if (sll.sll_pkttype == PACKET_OUTGOING)
        return UPLINK_FRAME_OUTGOING;
    if (h.tp_snaplen < h.tp_len) {
        /* a frame bigger than the block is cut: still oversize if it is */
        if (h.tp_len > max_frame)
            return UPLINK_FRAME_OVERSIZE;
        return UPLINK_FRAME_TRUNCATED;
    }
    if (h.tp_snaplen != h.tp_len)
        return UPLINK_FRAME_BAD_DESC;
    enum uplink_verdict v = uplink_frame_len_check(h.tp_len, max_frame);
    if (v != UPLINK_FRAME_OK)
        return v;
    f->data = blk + off + h.tp_mac;
    f->len = h.tp_len;
    f->status = h.tp_status;
    f->vlan_tci = (uint16_t)h.hv1.tp_vlan_tci;
    f->vlan_tpid = (h.tp_status & TP_STATUS_VLAN_TPID_VALID) ? h.hv1.tp_vlan_tpid : 0x8100;
    /* with the tag re-inserted the frame grows by 4 bytes */
    if ((h.tp_status & TP_STATUS_VLAN_VALID) && (uint64_t)h.tp_len + 4 > max_frame)
        return UPLINK_FRAME_OVERSIZE;
    return UPLINK_FRAME_OK;
}

unsigned uplink_tp_block_parse(const uint8_t *blk, size_t blk_size, uint32_t max_frame,
                               struct uplink_tp_frame *out, unsigned max, struct uplink_counters *c)
{
    struct tpacket_block_desc bd;
    if (blk_size < sizeof bd) {
        c->rx_bad_desc++;
        return 0;
    }
    memcpy(&bd, blk, sizeof bd);
    uint32_t npkts = bd.hdr.bh1.num_pkts;
    uint64_t off = bd.hdr.bh1.offset_to_first_pkt;
    unsigned got = 0;
    for (uint32_t i = 0; i < npkts; i++) {
        if (off < sizeof bd || off > blk_size || blk_size - off < sizeof(struct tpacket3_hdr) ||
            (off & (TP_V3_ALIGN - 1))) {
            c->rx_bad_desc++; /* the rest of the chain cannot be found */
            break;
        }
        struct uplink_tp_frame f;
        enum uplink_verdict v = tp_frame_check(blk, blk_size, off, max_frame, &f);
        if (v == UPLINK_FRAME_OK && got < max)
            out[got++] = f;
        else if (v == UPLINK_FRAME_OK)
            c->rx_kernel_drops++; /* no room in out: cannot happen with a right-sized out */
        else
            uplink_count_verdict(c, v);
        uint32_t next;
        memcpy(&next, blk + off + offsetof(struct tpacket3_hdr, tp_next_offset), sizeof next);
        if (i + 1 < npkts) {
            if (next == 0) {
                c->rx_bad_desc++;
                break;
            }
            off += next;
        }
    }
    return got;
}

unsigned uplink_vlan_iov(const struct uplink_tp_frame *f, struct iovec iov[3], uint8_t tag[4])
{
    if (!(f->status & TP_STATUS_VLAN_VALID) || f->len < 12) {
        iov[0].iov_base = (void *)f->data;
        iov[0].iov_len = f->len;
        return 1;
    }
    tag[0] = (uint8_t)(f->vlan_tpid >> 8);
    tag[1] = (uint8_t)f->vlan_tpid;
    tag[2] = (uint8_t)(f->vlan_tci >> 8);
    tag[3] = (uint8_t)f->vlan_tci;
    iov[0].iov_base = (void *)f->data;
    iov[0].iov_len = 12;
    iov[1].iov_base = tag;
    iov[1].iov_len = 4;
    iov[2].iov_base = (void *)(f->data + 12);
    iov[2].iov_len = f->len - 12;
    return 3;
}
