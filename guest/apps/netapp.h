/* What the network applications share: NIC probe, addresses from the
 * command line, the stack on top, and the poll loop (see docs/guest-net.md).
 *   nic=I  ip=A.B.C.D  [peer=A.B.C.D]  [mac=MAC]  [arp_wait=S] */
#ifndef GUEST_APPS_NETAPP_H
#define GUEST_APPS_NETAPP_H
#include "apps.h"
#include "drivers/nic.h"
#include "net/netif_e1000.h"
#include "net/netif_virtio.h"

struct netapp {
    const char *name; /* the app, for messages */
    struct nic nic;         /* e1000 or virtio-net (nic= on the command line) */
    struct netif_e1000 ne;  /* the glue of whichever it is */
    struct netif_virtio nv;
    struct netif *nif;
    struct net_stack *st;
    u32 ip, peer;
    u8 peer_mac[6];
    u64 next_timer_tsc; /* next net_poll */
};

/* Probes the NIC (nic=: drivers/nic.h), reads the addresses, starts the stack and, when
 * need_peer, resolves the peer (waiting up to arp_wait seconds, 30 by
 * default). Returns 0, or the EXIT_* code to end with (an error line and a
 * RESULT line with ok=0 are printed). */
int netapp_open(struct netapp *na, const struct cmdline *cl, const char *name, bool need_peer);
/* Takes up to budget received frames into the stack, runs its timers.
 * Returns frames taken. */
unsigned netapp_service(struct netapp *na, unsigned budget);
/* Sleeps until an interrupt unless frames are waiting. */
void netapp_wait(struct netapp *na);
/* Waits up to ms for the NIC to finish transmitting what it was given. */
void netapp_tx_drain(struct netapp *na, u64 ms);
/* The driver's discipline and register counters since set-up
 * ("txmode=... tdt_writes=... reg_accesses=... csb=..."), for RESULT lines. */
const char *netapp_nic_stats(struct netapp *na);
/* Frames that found the TX ring full and waited (either glue). */
u64 netapp_tx_waits(const struct netapp *na);
/* Prints the stack's and the NIC's counters. */
void netapp_report(struct netapp *na);

/* n events over ns nanoseconds, per second (no overflow below 2^44 events). */
static inline u64 netapp_rate(u64 n, u64 ns)
{
    u64 us = ns / 1000;
    return us ? n * 1000000 / us : 0;
}
static inline u64 netapp_tsc_ms(u64 ms)
{
    return tsc_hz / 1000 * ms;
}
#endif
