/* One NIC of either kind, for the applications: an e1000 (8086:100E) or a
 * virtio-net (1af4:1041, 1af4:1000), chosen by what is on PCI bus 0 or by
 * the command line:
 *   nic=I          the I-th supported NIC in PCI order (either kind)
 *   nic=e1000[:I]  the I-th e1000 (default 0)
 *   nic=virtio[:I] the I-th virtio-net
 * With only e1000s on the bus, nic=I means what it always meant. */
#ifndef GUEST_NIC_H
#define GUEST_NIC_H
#include "e1000.h"
#include "nm_ring.h"
#include "virtio_net.h"

enum nic_kind { NIC_E1000, NIC_VIRTIO_NET };

struct nic {
    enum nic_kind kind;
    int irq_slot; /* nic_irqs[] index of its interrupts */
    u8 *mac;      /* the driver's MAC (mac= overrides it) */
    struct e1000 e1000;
    struct vnet vnet;
};

/* What the apps print, from either driver. */
struct nic_counts {
    u64 tx_pkts, tx_bytes, rx_pkts, rx_bytes, rx_errors, tx_full;
    u64 tx_kicks;              /* TDT writes / TX notifies */
    u64 reg_reads, reg_writes; /* every register access (kicks included): exits */
};

/* Resolves a nic= value (NULL: def) to a kind and per-kind index. 0, or -1
 * with a console line (unknown form, no such NIC). */
int nic_select(const char *spec, int def, enum nic_kind *kind, int *index);
/* nic_select, then the driver's probe. */
int nic_probe(struct nic *n, const char *spec, int def, const struct cmdline *cl);
const char *nic_kind_name(enum nic_kind k); /* "e1000", "virtio-net" */
void nic_open(struct nm_port *p, struct nic *n);
void nic_counts(const struct nic *n, struct nic_counts *c);
int nic_stats_str(struct nic *n, char *buf, size_t size);
void nic_stats_reset(struct nic *n);
u64 nic_missed(struct nic *n); /* e1000: MPC (clear on read); virtio-net: 0, it has none */
void nic_tx_flush(struct nic *n);
void nic_set_promisc(struct nic *n, bool on);
/* The MAC the NIC receives for (e1000: RAR0; virtio-net: the device
 * delivers everything, the stack filters). */
void nic_set_mac(struct nic *n, const u8 mac[6]);
#endif
