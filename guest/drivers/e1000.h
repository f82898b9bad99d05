/* Ring-3 driver for the Intel 82540EM (8086:100E) as QEMU and vpio emulate
 * it. Rings, buffers and BAR0 are identity mapped and user-accessible. The
 * ring-0 part is the NIC interrupt stub in arch/entry.S: it reads ICR (which
 * deasserts the level-triggered INTx line), ORs it into nic_icr[index],
 * counts nic_irqs[index] and EOIs; this driver takes nic_icr with xchg.
 *
 * Transmit disciplines (txmode= on the command line, docs/guest.md "Ring API
 * and transmit disciplines"):
 *   classic  one TDT write per packet (e1000_tx) or per ring sync (nm_ring);
 *   sc       send combining: while a TDT write's TX interrupt is pending, new
 *            descriptors only advance the software tail; the pending tail is
 *            written once the interrupt has arrived (any NIC interrupt counted
 *            by the ring-0 stub after the write), when the ring would stall
 *            (full, or e1000_tx_flush), or after sc_timeout_us;
 *   csb      the paravirtual CSB (docs/csb.md): indices through shared
 *            memory, TDT/RDT written only when the host says it sleeps;
 *            falls back to sc (with a console line) on a device without it.
 * Every register access goes through e1000_read/e1000_write and is counted
 * (reg_reads, reg_writes): each one is a VM exit. The ring-0 stub's ICR read
 * is one more per interrupt (nic_irqs). */
#ifndef GUEST_E1000_H
#define GUEST_E1000_H
#include "kernel.h"
#include "e1000_csb.h"

/* Descriptors per ring (TX and RX alike): ring=N on the command line, a
 * power of two in [E1000_RING_MIN, E1000_RING_MAX]. Deep rings mean fewer
 * syncs (each a TDT/RDT write, an exit, unless the CSB is on): a batch of up
 * to N-1 frames per TDT write, and on vpio an RDT write pulls up to N-1
 * frames in one exit. Each ring costs N x E1000_BUF of guest RAM. */
#define E1000_RING_MIN 256 /* one page of descriptors */
#define E1000_RING_MAX 4096
#define E1000_NTX 1024 /* the default (ring= not given), TX ... */
#define E1000_NRX 1024 /* ... and RX: QEMU drops what a flush of its queue cannot place */
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
    u32 ntx, nrx;                       /* descriptors per ring (ring=) */
    u32 tx_tail, tx_clean;              /* next to fill, next to reclaim */
    u32 rx_next;                        /* next to read */
    u32 rx_pending;                     /* consumed since the last refill */
    u64 tx_pkts, tx_bytes, tx_full, rx_pkts, rx_bytes, rx_errors;

    /* Discipline (after the CSB fallback) and its state. */
    int txmode;                         /* enum e1000_txmode */
    int txmode_requested;
    bool irqs_on;                       /* INTx routed and IMS set */
    u8 txd_cmd;                         /* EOP|IFCS|RS (+IDE when tidv/tadv) */
    u32 tx_hw_tail;                     /* last tail given to the device */
    bool sc_pending;                    /* a TX interrupt is expected */
    u32 sc_irq_mark;                    /* nic_irqs before that TDT write */
    u64 sc_t0, sc_timeout;              /* TSC of the write; bound (TSC ticks) */
    struct e1000_csb *csb;              /* non-NULL while the CSB is on */
    u32 csb_txkick_seen, csb_rxkick_seen; /* need-kick values already kicked for */
    u32 itr, tidv, tadv, rdtr, radv;    /* moderation written at probe */
    bool rdt_flush;                     /* read STATUS after RDT writes (QEMU coalesces them) */
    bool csb_edge;                      /* csb: edge interrupts asked for (csb_irq=edge), then granted */
    bool napi;                          /* napi=1: mask interrupts while polling */
    u32 napi_mask;                      /* causes masked while polling (0: none, csb) */
    u32 napi_armed;                     /* of those, unmasked now (the driver sleeps) */

    /* Counters: every register access is an exit. */
    u64 reg_reads, reg_writes;
    u64 tdt_writes, rdt_writes;         /* kicks in csb mode */
    u64 tx_commits;                     /* times new descriptors were handed over */
    u64 sc_deferred, sc_stalls, sc_timeouts;
};

/* Probes the index-th e1000 on bus 0: reset, MAC from EEPROM, link up,
 * rings, filters, interrupts (IOAPIC GSI from the interrupt-line register,
 * level-triggered, polarity IOAPIC_HIGH unless irqpol=low). 0 or -1. */
int e1000_probe(struct e1000 *nic, int index, const struct cmdline *cl);
u32 e1000_read(struct e1000 *nic, u32 reg);
void e1000_write(struct e1000 *nic, u32 reg, u32 v);

/* Copies a frame (without FCS) into the next TX slot and writes TDT.
 * Returns -1 if the ring is full (after reclaiming what it could). */
int e1000_tx(struct e1000 *nic, const void *frame, u32 len);
/* Reclaims completed descriptors (DD) and, in sc mode, writes a deferred
 * tail once the interrupt has come: call it from poll loops. Returns the
 * descriptors still in flight (handed over or deferred). */
u32 e1000_tx_reclaim(struct e1000 *nic);

/* Descriptors up to tx_tail are filled: hand them to the device following
 * the discipline (classic: TDT write; sc: maybe defer; csb: guest_tdt and a
 * kick only if the host sleeps). e1000_tx and nm_txsync call it. */
void e1000_tx_commit(struct e1000 *nic);
/* Hands over any deferred descriptors now (sc: end of a burst, before
 * waiting for completion). */
void e1000_tx_flush(struct e1000 *nic);
/* The TX ring is full: sleeps until the device has completed descriptors
 * (TXDW; csb: guest_need_txintr, barrier, re-check host_tdh) or the timer
 * ticks, instead of spinning on a core the device's I/O thread may need.
 * Returns at once if there is room after a reclaim. */
void e1000_tx_wait(struct e1000 *nic);
/* Free TX descriptors (one is always kept empty). */
static inline u32 e1000_tx_space(const struct e1000 *nic)
{
    return (nic->tx_clean + nic->ntx - 1 - nic->tx_tail) % nic->ntx;
}

/* RX: peek the next received frame; advance past it; refill gives consumed
 * descriptors back with one RDT write (plus, on QEMU, a STATUS read, which
 * flushes its coalesced MMIO so the RDT write takes effect) once a quarter
 * of the ring was consumed or nothing is left to read. */
bool e1000_rx_peek(struct e1000 *nic, const u8 **data, u32 *len);
void e1000_rx_advance(struct e1000 *nic);
void e1000_rx_refill(struct e1000 *nic);
/* Gives RX descriptors back to the device up to (not including) rdt: new RDT = rdt (classic/sc: RDT
 * write and a STATUS read; csb: guest_rdt, RDT only if the host sleeps). */
void e1000_rx_give(struct e1000 *nic, u32 rdt);
/* Sleeps until an interrupt if nothing has arrived at rx_next: the race-free
 * wait (read irq_seq; in csb mode set guest_need_rxintr, barrier; re-check
 * DD; only then sys_wait). Returns after an interrupt or at once if a frame is
 * there. The timer tick also wakes it. */
void e1000_rx_wait(struct e1000 *nic);
/* The same over several NICs (a forwarder): sleeps only if none of them has
 * a frame at rx_next (csb: each one's flag set and re-checked). */
void e1000_rx_wait_any(struct e1000 *const *nics, unsigned n);
/* The race-free sleep in two halves, for a sleep over NICs of different
 * kinds (nm_rx_wait_any): after the caller read irq_seq, arm this NIC's RX
 * wake-up (csb flag or NAPI unmask) and say whether it is still empty; after
 * the sleep, mask again. e1000_rx_wait_any is these two around sys_wait. */
bool e1000_rx_sleep_arm(struct e1000 *nic);
void e1000_rx_sleep_end(struct e1000 *nic);
/* RCTL.UPE|MPE on or off: every unicast and multicast frame (a bridge or
 * middlebox; probe sets it only with promisc=1). */
void e1000_set_promisc(struct e1000 *nic, bool on);

/* Interrupt causes accumulated by the ring-0 stub since the last call. */
u32 e1000_take_icr(struct e1000 *nic);
u32 e1000_missed(struct e1000 *nic);       /* MPC, clear on read */
/* "txmode=sc tdt_writes=... reg_reads=... reg_writes=... reg_accesses=...
 * irqs=..." for RESULT lines (no leading or trailing space). */
int e1000_stats_str(struct e1000 *nic, char *buf, size_t size);
/* Zeroes the access and discipline counters (after probe, before a run). */
void e1000_stats_reset(struct e1000 *nic);
#endif
