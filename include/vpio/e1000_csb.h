/* The CSB ABI of vpio's e1000: the one definition of the Communication
 * Status Block page and of its registers, shared by the device model
 * (src/dev/e1000_csb.c) and the guest driver (guest/drivers/e1000_csb.c).
 * docs/csb.md is the protocol; this is its layout.
 *
 * Freestanding: only <stdint.h> and <stddef.h> (the guest kernel builds it
 * with -ffreestanding).
 *
 * THE PAGE. One 4 KiB page of guest RAM, page aligned, its guest-physical
 * address in CSBAL/CSBAH. All fields little-endian uint32_t, accessed with
 * atomic 32-bit loads and stores only. Guest-written fields are on the
 * first 64-byte cache line, host-written fields on the second, so the two
 * sides never write the same line (as netmap's nm_csb_atok / nm_csb_ktoa).
 * Each field below says who writes it (W) and who reads it (R).
 *
 * INVARIANTS, stated once:
 *  - An index (guest_tdt, guest_rdt, host_tdh, host_rdh) is a descriptor
 *    number in [0, ring size). Its writer publishes it with a release store
 *    after the descriptors (or write-backs) it covers; its reader takes it
 *    with an acquire load before it reads them. Every reader checks the
 *    range: the device treats an index >= ring size as a guest error and
 *    ignores it; the guest treats one as "no progress".
 *  - A "need" flag is set by the side about to sleep, then a full barrier,
 *    then that side re-reads the peer's index and sleeps only if there is
 *    still no work. The producer publishes its index, full barrier, then
 *    reads the peer's flag and notifies only if it is set (docs/csb.md
 *    "Memory ordering").
 *  - guest_need_*intr are 0 (do not interrupt me) or 1 (interrupt me).
 *  - host_need_*kick are 0 (awake: no kick needed) or a sleep value:
 *    non-zero and different every time the device goes to sleep, so a guest
 *    that already kicked for the value it reads need not kick again. */
#ifndef VPIO_E1000_CSB_H
#define VPIO_E1000_CSB_H

#include <stddef.h>
#include <stdint.h>

/* ---- Registers (BAR0 offsets) and PCI identification ---- */
#define E1000_CSB_SUBSYS_VENDOR 0x8086
#define E1000_CSB_SUBSYS_ID 0x1101 /* PCI subsystem ID advertising the CSB */
#define E1000_CSBAL 0x2830         /* address bits 31..12; bit 0 enable; bit 1 edge */
#define E1000_CSBAH 0x2834         /* address bits 63..32 (taken at the next CSBAL write) */
#define E1000_CSBAL_ENABLE 1u      /* W: guest; reads back set only if the page is in RAM */
#define E1000_CSBAL_EDGE 2u        /* W: guest asks for edge interrupts; reads back if granted */

#define E1000_CSB_PAGE_SIZE 4096u
#define E1000_CSB_LINE 64u

/* ---- The page ---- */
struct e1000_csb {
    /* 0x00: guest line. W: guest driver. R: device (CSB I/O thread or a
     * vCPU exit, under the device lock). */
    uint32_t guest_tdt;         /* TX tail: descriptors before it are ready */
    uint32_t guest_rdt;         /* RX tail: descriptors before it are free */
    uint32_t guest_need_txintr; /* 1: interrupt me when TX descriptors complete */
    uint32_t guest_need_rxintr; /* 1: interrupt me when frames arrive (I sleep) */
    uint32_t guest_pad[12];
    /* 0x40: host line. W: device. R: guest driver. */
    uint32_t host_tdh;         /* TX head: consumed before it (DD written first) */
    uint32_t host_rdh;         /* RX head: frames before it (DD, length written first) */
    uint32_t host_need_txkick; /* sleep value: TX side sleeps, write TDT after publishing */
    uint32_t host_need_rxkick; /* sleep value: RX side has no buffers and sleeps, write RDT */
    uint32_t host_pad[12];
    uint8_t unused[E1000_CSB_PAGE_SIZE - 2 * E1000_CSB_LINE];
};

_Static_assert(offsetof(struct e1000_csb, guest_tdt) == 0x00, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, guest_rdt) == 0x04, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, guest_need_txintr) == 0x08, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, guest_need_rxintr) == 0x0C, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, host_tdh) == 0x40, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, host_rdh) == 0x44, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, host_need_txkick) == 0x48, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, host_need_rxkick) == 0x4C, "CSB ABI");
_Static_assert(offsetof(struct e1000_csb, host_tdh) % E1000_CSB_LINE == 0,
               "host fields start a cache line");
_Static_assert(sizeof(struct e1000_csb) == E1000_CSB_PAGE_SIZE, "CSB ABI: one page");

#endif
