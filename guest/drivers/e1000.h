/* Ring-3 driver for the Intel 82540EM (8086:100E) as QEMU and vpio emulate
 * it. Rings, buffers and BAR0 are identity mapped and user-accessible. The
 * ring-0 part is the NIC interrupt stub in arch/entry.S: it reads ICR (which
 * deasserts the level-triggered INTx line), ORs it into nic_icr[index],
 * counts nic_irqs[index] and EOIs; this driver takes nic_icr with xchg.
 *
 * Transmit discipline "classic": one TDT write per packet. */
#ifndef GUEST_E1000_H
#define GUEST_E1000_H
#include "kernel.h"

#define E1000_NTX 256
#define E1000_NRX 1024             /* deep: QEMU drops what a flush of its queue cannot place */
#define E1000_BUF 2048

struct e1000_tx_desc {
    u64 addr;
    u16 length;
    u8 cso, cmd, status, css;
    u16 special;
};

struct e1000_rx_desc {
    u64 addr;
    u16 length, csum;
    u8 status, errors;
    u16 special;
};

struct e1000 {
    int index;                          /* which 8086:100E, and its vector */
    const struct pci_dev *pci;
    u64 mmio;                           /* BAR0 */
    u8 mac[6];
    u8 gsi;
    volatile struct e1000_tx_desc *tx;
    volatile struct e1000_rx_desc *rx;
    u8 *txbuf, *rxbuf;                  /* E1000_BUF per slot */
    u32 tx_tail, tx_clean;              /* next to fill, next to reclaim */
    u32 rx_next;                        /* next to read */
    u32 rx_pending;                     /* consumed since the last refill */
    u64 tx_pkts, tx_bytes, tx_full, rx_pkts, rx_bytes, rx_errors;
};

/* Probes the index-th e1000 on bus 0: reset, MAC from EEPROM, link up,
 * rings, filters, interrupts (IOAPIC GSI from the interrupt-line register,
 * level-triggered, polarity IOAPIC_HIGH unless irqpol=low). 0 or -1. */
int e1000_probe(struct e1000 *nic, int index, const struct cmdline *cl);
u32 e1000_read(const struct e1000 *nic, u32 reg);
void e1000_write(const struct e1000 *nic, u32 reg, u32 v);

/* Copies a frame (without FCS) into the next TX slot and writes TDT.
 * Returns -1 if the ring is full (after reclaiming what it could). */
int e1000_tx(struct e1000 *nic, const void *frame, u32 len);
u32 e1000_tx_reclaim(struct e1000 *nic);   /* returns slots still in flight */

/* RX: peek the next received frame; advance past it; refill gives consumed
 * descriptors back with one RDT write (plus a STATUS read, which flushes
 * QEMU's coalesced MMIO so the RDT write takes effect). */
bool e1000_rx_peek(struct e1000 *nic, const u8 **data, u32 *len);
void e1000_rx_advance(struct e1000 *nic);
void e1000_rx_refill(struct e1000 *nic);

/* Interrupt causes accumulated by the ring-0 stub since the last call. */
u32 e1000_take_icr(struct e1000 *nic);
u32 e1000_missed(struct e1000 *nic);       /* MPC, clear on read */
#endif
