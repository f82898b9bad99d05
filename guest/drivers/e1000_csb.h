/* The pure parts of the e1000 driver's transmit disciplines: the CSB page
 * (docs/csb.md: protocol and memory ordering; vpio/e1000_csb.h: the layout), the guest side of
 * its race-free kick/interrupt protocol, the choice of discipline (with the
 * fallback when the device does not offer the CSB) and the send-combining
 * decision. No MMIO and no guest kernel calls here: the functions return
 * "write TDT now" / "you may sleep" and the driver (e1000.c) acts, so the same
 * file builds into the guest and into a host unit test
 * (tests/unit/test_guest_csb.c, which plays the device in a thread).
 *
 * Every shared CSB field is read and written with __atomic builtins: a
 * release store publishes an index (after the descriptors it covers), an
 * acquire load reads the peer's index (before the descriptors), and a
 * seq_cst fence (mfence on x86) separates "publish my index / set my flag"
 * from "read the peer's flag / index" in the two-sided double check. */
#ifndef GUEST_E1000_CSB_H
#define GUEST_E1000_CSB_H
#include "types.h"

/* The CSB page (struct e1000_csb), its registers (E1000_CSBAL, E1000_CSBAH,
 * E1000_CSBAL_ENABLE, E1000_CSBAL_EDGE) and its PCI identification
 * (E1000_CSB_SUBSYS_VENDOR, E1000_CSB_SUBSYS_ID): the one ABI shared with
 * the device model, include/vpio/e1000_csb.h. */
#include "vpio/e1000_csb.h"

/* Transmit (and receive) disciplines, txmode= on the command line. */
enum e1000_txmode {
    E1000_TX_CLASSIC = 0, /* one TDT write per packet / per ring sync */
    E1000_TX_SC = 1,      /* send combining: no TDT write while a TX irq is pending */
    E1000_TX_CSB = 2,     /* indices through the CSB; kicks only when the host sleeps */
};
/* "classic" | "sc" | "csb" (NULL or "" = classic); -1 if unknown. */
int e1000_txmode_parse(const char *s);
const char *e1000_txmode_name(int mode);

/* Detection and fallback. offered: the PCI subsystem IDs say 0x1101.
 * readback_ok: CSBAL read back after enabling holds the enable bit and the
 * page address written. The resolved mode is csb only if both hold; a csb
 * request on a device without the extension falls back to sc. */
bool csb_offered(u16 subsys_vendor, u16 subsys_id);
bool csb_readback_ok(u32 csbal_read, u64 csb_phys);
int e1000_txmode_resolve(int requested, bool offered, bool readback_ok);

/* The initial guest half, written before CSBAL enables the page (the host
 * half is the device's: it writes host_* on enable). */
void csb_init(struct e1000_csb *c, u32 tdt, u32 rdt);

/* Producer side. Publish a new tail (release store after the caller's
 * descriptor writes), full barrier, then read the host's need-kick flag:
 * true = the host sleeps, the caller must write the register (TDT / RDT). */
bool csb_tx_publish(struct e1000_csb *c, u32 tdt);
bool csb_rx_publish(struct e1000_csb *c, u32 rdt);

/* Kick once per host sleep. The host's need-kick flag is 0 while it is
 * awake and a value that changes with every sleep (docs/csb.md); a guest
 * that kicked for value v need not kick again until the flag changes: its
 * first kick already woke the host (or will). *last is the guest-private
 * value of the last kick. Returns true if the caller must kick now. */
bool csb_kick_once(u32 flag, u32 *last);
/* As csb_tx_publish/csb_rx_publish, with the kick-once rule. */
bool csb_tx_publish_once(struct e1000_csb *c, u32 tdt, u32 *last);
bool csb_rx_publish_once(struct e1000_csb *c, u32 rdt, u32 *last);

/* Acquire loads of the host's indices; an index >= n (a broken host) reads
 * as "no progress" (returns fallback). */
u32 csb_host_tdh(const struct e1000_csb *c, u32 n, u32 fallback);
u32 csb_host_rdh(const struct e1000_csb *c, u32 n, u32 fallback);

/* Sleeper side, RX: the guest found nothing at rx_next and wants to sleep.
 * Sets guest_need_rxintr, full barrier, re-reads host_rdh. Returns true if
 * the guest may sleep (host_rdh still equals seen: the value the caller read
 * before its last look at the ring); false if the host published since, in
 * which case the flag is cleared again and the caller goes on polling. A
 * guest that reads by DD passes the host_rdh it read before that look (it
 * may be ahead of the host's publication; the host reads the flag after
 * its next one); a guest that follows host_rdh passes rx_next. */
bool csb_rx_sleep_ok(struct e1000_csb *c, u32 seen, u32 n);
/* After waking (or while busy polling): interrupts not wanted. */
void csb_rx_awake(struct e1000_csb *c);

/* Sleeper side, TX: the ring is full at tx_clean (the oldest descriptor not
 * yet reclaimed). Sets guest_need_txintr, full barrier, re-reads host_tdh.
 * true = host_tdh still equals seen (read before the last reclaim; as for
 * RX), may sleep; false = flag cleared, go on. */
bool csb_tx_sleep_ok(struct e1000_csb *c, u32 seen, u32 n);
void csb_tx_awake(struct e1000_csb *c);

/* Send combining: should the pending software tail be written to TDT now?
 *   pending    a TDT write asked for a TX interrupt that has not come yet
 *   irq_mark   the NIC's interrupt count read just before that TDT write
 *   irqs       the interrupt count now (any NIC interrupt after the write
 *              read ICR, which consumed that TXDW: it "arrived")
 *   stall      the caller would otherwise wait (ring full, end of burst)
 *   waited / timeout  TSC ticks since the write / bound after which a lost
 *              interrupt is assumed (never stall on a lost interrupt)
 * Returns true: write TDT now (and the caller starts a new pending period). */
bool sc_should_write(bool pending, u32 irq_mark, u32 irqs, bool stall, u64 waited, u64 timeout);
#endif
