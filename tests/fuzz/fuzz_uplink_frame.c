/* libFuzzer target for the uplinks' intake check (src/uplink/uplink_frame.c):
 * the input is what the kernel would have written into shared ring memory.
 * Byte 0 picks the path:
 *   even: a TPACKET_V3 RX block (the rest of the input, copied into a block
 *         of BLOCK bytes, zero-padded): every frame handed out must lie
 *         inside the block and within the length limits, and the VLAN
 *         scatter list must describe exactly the frame plus 4 bytes;
 *   odd:  AF_XDP descriptors, 12 bytes each (addr 8, len 4): a frame passed
 *         as OK must lie inside one chunk of the umem. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_packet.h>

#include "uplink/uplink_frame.h"

#define BLOCK 8192u
#define MAXF 1024u
#define UMEM (64u * 2048u)

static void check_tp(const uint8_t *data, size_t size)
{
    static uint8_t blk[BLOCK];
    memset(blk, 0, sizeof blk);
    memcpy(blk, data, size < BLOCK ? size : BLOCK);
    static struct uplink_tp_frame out[MAXF];
    struct uplink_counters c;
    memset(&c, 0, sizeof c);
    uint32_t max_frame = 1 + (size ? data[size - 1] : 0) * 64u; /* vary the limit too */
    unsigned n = uplink_tp_block_parse(blk, BLOCK, max_frame, out, MAXF, &c);
    if (n > MAXF)
        abort();
    for (unsigned i = 0; i < n; i++) {
        const struct uplink_tp_frame *f = &out[i];
        if (f->data < blk || f->data + f->len > blk + BLOCK || f->len < VPIO_SW_MIN_FRAME ||
            f->len > max_frame)
            abort();
        struct iovec iov[3];
        uint8_t tag[4];
        unsigned cnt = uplink_vlan_iov(f, iov, tag);
        size_t total = 0;
        for (unsigned k = 0; k < cnt; k++)
            total += iov[k].iov_len;
        if (cnt == 3 ? total != (size_t)f->len + 4 || f->len + 4 > max_frame : total != f->len)
            abort();
    }
}

static void check_xdp(const uint8_t *data, size_t size)
{
    struct uplink_counters c;
    memset(&c, 0, sizeof c);
    for (size_t off = 0; off + 12 <= size; off += 12) {
        uint64_t addr;
        uint32_t len;
        memcpy(&addr, data + off, 8);
        memcpy(&len, data + off + 8, 4);
        uint64_t chunk;
        enum uplink_verdict v = uplink_xdp_desc_check(addr, len, UMEM, 2048, 1792, &chunk);
        if (chunk != UINT64_MAX && (chunk % 2048 || chunk + 2048 > UMEM))
            abort();
        if (v == UPLINK_FRAME_OK &&
            (chunk == UINT64_MAX || addr < chunk || addr + len > chunk + 2048 || len > 1792 ||
             len < VPIO_SW_MIN_FRAME))
            abort();
        uplink_count_verdict(&c, v);
        if (uplink_xdp_chunk(addr, UMEM, 2048) != chunk)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        check_xdp(data + 1, size - 1);
    else
        check_tp(data + 1, size - 1);
    return 0;
}
