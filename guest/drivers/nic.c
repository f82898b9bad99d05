/* Either NIC behind one small interface (see nic.h). */
#include "nic.h"

static bool is_e1000(const struct pci_dev *d)
{
    return d->vendor == 0x8086 && d->device == 0x100e;
}

static bool parse_index(const char *s, int *out)
{
    u64 v;
    if (!parse_u64(s, &v) || v >= NIC_MAX)
        return false;
    *out = (int)v;
    return true;
}

int nic_select(const char *spec, int def, enum nic_kind *kind, int *index)
{
    int want = def;
    if (spec && !strncmp(spec, "e1000", 5) && (!spec[5] || spec[5] == ':')) {
        *kind = NIC_E1000;
        *index = 0;
        if (!spec[5] || parse_index(spec + 6, index))
            return 0;
    } else if (spec && !strncmp(spec, "virtio", 6) && (!spec[6] || spec[6] == ':')) {
        *kind = NIC_VIRTIO_NET;
        *index = 0;
        if (!spec[6] || parse_index(spec + 7, index))
            return 0;
    } else if (!spec || parse_index(spec, &want)) {
        /* The want-th supported NIC in PCI order. */
        int e = 0, v = 0, asked = want;
        for (int i = 0; i < pci_ndevs; i++) {
            const struct pci_dev *d = &pci_devs[i];
            bool ed = is_e1000(d), vd = vnet_pci_match(d);
            if (!ed && !vd)
                continue;
            if (want-- == 0) {
                *kind = ed ? NIC_E1000 : NIC_VIRTIO_NET;
                *index = ed ? e : v;
                return 0;
            }
            ed ? e++ : v++;
        }
        /* None there: the e1000 probe says what is missing. */
        *kind = NIC_E1000;
        *index = asked;
        return 0;
    }
    printf("nic: error: nic=%s (I | e1000[:I] | virtio[:I], I < %d)\n", spec, NIC_MAX);
    return -1;
}

int nic_probe(struct nic *n, const char *spec, int def, const struct cmdline *cl)
{
    enum nic_kind kind;
    int index;
    memset(n, 0, sizeof(*n));
    if (nic_select(spec, def, &kind, &index) < 0)
        return -1;
    n->kind = kind;
    if (kind == NIC_E1000) {
        if (e1000_probe(&n->e1000, index, cl) < 0)
            return -1;
        n->irq_slot = n->e1000.index;
        n->mac = n->e1000.mac;
    } else {
        if (vnet_probe(&n->vnet, index, cl) < 0)
            return -1;
        n->irq_slot = n->vnet.irq_slot;
        n->mac = n->vnet.mac;
    }
    return 0;
}

const char *nic_kind_name(enum nic_kind k)
{
    return k == NIC_E1000 ? "e1000" : "virtio-net";
}

void nic_open(struct nm_port *p, struct nic *n)
{
    if (n->kind == NIC_E1000)
        nm_open(p, &n->e1000);
    else
        nm_open_vnet(p, &n->vnet);
}

void nic_counts(const struct nic *n, struct nic_counts *c)
{
    if (n->kind == NIC_E1000) {
        const struct e1000 *e = &n->e1000;
        *c =
            (struct nic_counts){e->tx_pkts, e->tx_bytes,   e->rx_pkts,   e->rx_bytes,  e->rx_errors,
                                e->tx_full, e->tdt_writes, e->reg_reads, e->reg_writes};
    } else {
        const struct vnet *v = &n->vnet;
        *c = (struct nic_counts){v->tx_pkts,   v->tx_bytes,     v->rx_pkts,
                                 v->rx_bytes,  v->rx_errors,    v->tx_full,
                                 v->txq.kicks, v->vp.reg_reads, vnet_reg_writes(v)};
    }
}

int nic_stats_str(struct nic *n, char *buf, size_t size)
{
    return n->kind == NIC_E1000 ? e1000_stats_str(&n->e1000, buf, size)
                                : vnet_stats_str(&n->vnet, buf, size);
}

void nic_stats_reset(struct nic *n)
{
    if (n->kind == NIC_E1000)
        e1000_stats_reset(&n->e1000);
    else
        vnet_stats_reset(&n->vnet);
}

u64 nic_missed(struct nic *n)
{
    return n->kind == NIC_E1000 ? e1000_missed(&n->e1000) : 0;
}

void nic_tx_flush(struct nic *n)
{
    if (n->kind == NIC_E1000)
        e1000_tx_flush(&n->e1000);
}

void nic_set_promisc(struct nic *n, bool on)
{
    if (n->kind == NIC_E1000)
        e1000_set_promisc(&n->e1000, on);
}

void nic_set_mac(struct nic *n, const u8 mac[6])
{
    memcpy(n->mac, mac, 6);
    if (n->kind == NIC_E1000) {
        /* Receive address 0 (RAL0/RAH0 with Address Valid). */
        e1000_write(&n->e1000, 0x5400, mac[0] | mac[1] << 8 | mac[2] << 16 | (u32)mac[3] << 24);
        e1000_write(&n->e1000, 0x5404, mac[4] | mac[5] << 8 | 1u << 31);
    }
}
