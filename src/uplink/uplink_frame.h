/* The intake check: every ring entry the kernel hands over is validated here
 * before anything reads the frame it describes. Pure functions over
 * untrusted bytes (the ring memory is shared with the kernel and, for a
 * hostile or buggy driver, arbitrary); fuzzed by tests/fuzz/fuzz_uplink_frame.c. */
#ifndef VPIO_UPLINK_FRAME_H
#define VPIO_UPLINK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "uplink.h"

enum uplink_verdict {
    UPLINK_FRAME_OK = 0,
    UPLINK_FRAME_RUNT,      /* < VPIO_SW_MIN_FRAME */
    UPLINK_FRAME_OVERSIZE,  /* > max_frame */
    UPLINK_FRAME_TRUNCATED, /* captured part shorter than the frame */
    UPLINK_FRAME_BAD_DESC,  /* address, offset or length outside the ring memory */
    UPLINK_FRAME_OUTGOING,  /* AF_PACKET: our host's own transmission */
};

/* Counts a verdict other than OK in c. */
void uplink_count_verdict(struct uplink_counters *c, enum uplink_verdict v);

/* A frame's length against the switch's limits. */
enum uplink_verdict uplink_frame_len_check(uint64_t len, uint32_t max_frame);

/* AF_XDP RX descriptor (aligned chunk mode): the frame [addr, addr + len)
 * must lie inside one chunk of the umem. *chunk gets the chunk's base
 * (to recycle it) when that is inside the umem, else UINT64_MAX. */
enum uplink_verdict uplink_xdp_desc_check(uint64_t addr, uint32_t len, uint64_t umem_size,
                                          uint32_t chunk_size, uint32_t max_frame, uint64_t *chunk);
/* A completion-ring address: the chunk base if valid, else UINT64_MAX. */
uint64_t uplink_xdp_chunk(uint64_t addr, uint64_t umem_size, uint32_t chunk_size);

/* One frame of a TPACKET_V3 block, validated. */
struct uplink_tp_frame {
    const uint8_t *data; /* inside the block */
    uint32_t len;
    uint32_t status;              /* tp_status of the frame (TP_STATUS_VLAN_VALID, ...) */
    uint16_t vlan_tci, vlan_tpid; /* valid when status has TP_STATUS_VLAN_VALID */
};

/* Walk a TPACKET_V3 block of blk_size bytes the kernel handed over
 * (block_status has TP_STATUS_USER): validates the block descriptor and
 * every frame header (offsets, next offsets, mac offset, snaplen, len) and
 * writes up to max good frames to out; bad ones are counted in c and
 * skipped; a broken chain ends the walk (the rest counted as bad_desc once).
 * Returns the number of frames written. */
unsigned uplink_tp_block_parse(const uint8_t *blk, size_t blk_size, uint32_t max_frame,
                               struct uplink_tp_frame *out, unsigned max,
                               struct uplink_counters *c);

/* Build the scatter list that puts a stripped VLAN tag back after the MAC
 * addresses: iov[0..3) and the 4-byte tag storage; returns iovcnt (1 with
 * no tag). */
unsigned uplink_vlan_iov(const struct uplink_tp_frame *f, struct iovec iov[3], uint8_t tag[4]);

#endif
