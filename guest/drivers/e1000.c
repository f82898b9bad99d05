/* The 82540EM driver, ring 3. Register names and bits from the 8254x
 * Software Developer's Manual; the probe follows what a stock driver does
 * (Linux e1000: reset, EEPROM MAC, link, rings, filters, interrupts). */
#include "e1000.h"
#include "io.h"

#define RING_NEXT(i, n) ((i) + 1 == (n) ? 0 : (i) + 1)

enum {
    CTRL = 0x0000, STATUS = 0x0008, EERD = 0x0014, ICR = 0x00c0, ITR = 0x00c4,
    IMS = 0x00d0, IMC = 0x00d8, RCTL = 0x0100, TCTL = 0x0400, TIPG = 0x0410,
    RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818,
    RDTR = 0x2820, RADV = 0x282c, TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808,
    TDH = 0x3810, TDT = 0x3818, TIDV = 0x3820, TADV = 0x382c, MPC = 0x4010,
    MTA = 0x5200, RAL0 = 0x5400, RAH0 = 0x5404,
};

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_LRST (1u << 3)
#define CTRL_ILOS (1u << 7)
#define CTRL_RST (1u << 26)
#define CTRL_PHY_RST (1u << 31)
#define STATUS_LU (1u << 1)
#define EERD_START 1u
#define EERD_DONE (1u << 4)
#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26)           /* BSIZE 00 = 2048 bytes */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TCTL_CT (0x0fu << 4)
#define TCTL_COLD (0x40u << 12)         /* full duplex */
#define ICR_TXDW (1u << 0)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)
#define TXD_EOP 0x01
#define TXD_IFCS 0x02
#define TXD_RS 0x08
#define TXD_IDE 0x80
#define DESC_DD 0x01
#define RXD_EOP 0x02

static u8 routed_gsi[NIC_MAX];            /* GSI each probed NIC index owns, 0 = none */

u32 e1000_read(struct e1000 *nic, u32 reg)
{
    nic->reg_reads++;
    return mmio_read32(nic->mmio + reg);
}

void e1000_write(struct e1000 *nic, u32 reg, u32 v)
{
    nic->reg_writes++;
    mmio_write32(nic->mmio + reg, v);
}

static bool wait_bit(struct e1000 *nic, u32 reg, u32 bit, bool set, u64 us)
{
    u64 end = rdtsc() + tsc_hz / 1000000 * us;
    while (((e1000_read(nic, reg) & bit) != 0) != set)
        if ((int64_t)(rdtsc() - end) > 0)
            return false;
    return true;
}

static int eeprom_read(struct e1000 *nic, u8 word, u16 *out)
{
    e1000_write(nic, EERD, (u32)word << 8 | EERD_START);
    if (!wait_bit(nic, EERD, EERD_DONE, true, 10000))
        return -1;
    *out = e1000_read(nic, EERD) >> 16;
    return 0;
}

/* txmode=csb: detect (PCI subsystem 8086:1101), initialise the page, enable
 * (CSBAH, then CSBAL with the enable bit), read CSBAL back. Returns the mode
 * to use: csb, or sc when the device does not offer or accept it. */
static int csb_enable(struct e1000 *nic)
{
    u16 svid = pci_read16(nic->pci, 0x2c), ssid = pci_read16(nic->pci, 0x2e);
    bool offered = csb_offered(svid, ssid), ok = false;
    struct e1000_csb *c = offered ? alloc_pages(1, 1) : NULL;
    if (c) {
        u64 pa = (u64)(uintptr_t)c;     /* identity mapped: physical == virtual */
        csb_init(c, 0, nic->nrx - 1);   /* the TDT and RDT just programmed */
        e1000_write(nic, E1000_CSBAH, (u32)(pa >> 32));
        e1000_write(nic, E1000_CSBAL,
                    (u32)pa | E1000_CSBAL_ENABLE | (nic->csb_edge ? E1000_CSBAL_EDGE : 0));
        u32 back = e1000_read(nic, E1000_CSBAL);
        ok = csb_readback_ok(back, pa);
        if (ok) {
            nic->csb = c;
            nic->csb_txkick_seen = nic->csb_rxkick_seen = 0;
            nic->csb_edge = (back & E1000_CSBAL_EDGE) != 0; /* granted or not */
        } else {
            free_pages(c, 1);
        }
    }
    int mode = e1000_txmode_resolve(E1000_TX_CSB, offered, ok);
    if (mode != E1000_TX_CSB)
        printf("e1000: txmode=csb: %s (PCI subsystem %04x:%04x, CSB wants %04x:%04x); "
               "falling back to txmode=sc\n",
               !offered ? "the device does not offer the CSB extension"
                        : c ? "the device did not enable the CSB (CSBAL read back)"
                            : "no memory for the CSB page",
               svid, ssid, E1000_CSB_SUBSYS_VENDOR, E1000_CSB_SUBSYS_ID);
    else
        printf("e1000: CSB enabled at 0x%lx\n", (u64)(uintptr_t)c);
    return mode;
}

/* The probe, split the way Linux's e1000 splits it (probe / configure_tx /
 * configure_rx / request_irq); the device sees the same register writes in
 * the same order as one long function would make. */

/* Driver options that need no device: txmode, moderation, send combining. */
static int parse_options(struct e1000 *nic, const struct cmdline *cl)
{
    int mode = e1000_txmode_parse(cmdline_get(cl, "txmode"));
    if (mode < 0) {
        printf("e1000: error: txmode=%s (classic|sc|csb)\n", cmdline_get(cl, "txmode"));
        return -1;
    }
    nic->txmode_requested = mode;
    u64 v = 0;
    nic->itr = cmdline_u64(cl, "itr", &v) ? (u32)v & 0xffff : 0;
    nic->tidv = cmdline_u64(cl, "tidv", &v) ? (u32)v & 0xffff : 0;
    nic->tadv = cmdline_u64(cl, "tadv", &v) ? (u32)v & 0xffff : 0;
    nic->rdtr = cmdline_u64(cl, "rdtr", &v) ? (u32)v & 0xffff : 0;
    nic->radv = cmdline_u64(cl, "radv", &v) ? (u32)v & 0xffff : 0;
    u64 sc_us = 1000;
    cmdline_u64(cl, "sc_timeout_us", &sc_us);
    nic->sc_timeout = tsc_hz / 1000000 * (sc_us ? sc_us : 1);
    nic->txd_cmd = TXD_EOP | TXD_IFCS | TXD_RS | (nic->tidv || nic->tadv ? TXD_IDE : 0);
    u64 ring = E1000_NTX;
    if (cmdline_u64(cl, "ring", &ring) &&
        (ring < E1000_RING_MIN || ring > E1000_RING_MAX || (ring & (ring - 1)))) {
        printf("e1000: error: ring=%lu (a power of two, %u..%u)\n", ring, E1000_RING_MIN,
               E1000_RING_MAX);
        return -1;
    }
    nic->ntx = nic->nrx = (u32)ring;
    return 0;
}

/* Finds the PCI function and takes the options that depend on it. */
static int find_device(struct e1000 *nic, int index, const struct cmdline *cl)
{
    nic->pci = pci_find(0x8086, 0x100e, index);
    if (!nic->pci) {
        printf("e1000: no 8086:100e number %d on bus 0\n", index);
        return -1;
    }
    /* QEMU (subsystem vendor 1AF4) coalesces RDT writes: they take effect at
     * the next exit that is not coalesced, so after each RDT write the
     * driver reads STATUS (one more exit). vpio applies RDT at once and
     * skips it. rdt_flush=0|1 overrides. */
    nic->rdt_flush = pci_read16(nic->pci, 0x2c) == 0x1af4;
    /* csb_irq=edge (default) | level: with the CSB, interrupts as edges
     * that need no ICR read (docs/csb.md), if the device grants it. */
    const char *ci = cmdline_get(cl, "csb_irq");
    if (ci && strcmp(ci, "edge") && strcmp(ci, "level")) {
        printf("e1000: error: csb_irq=%s (edge|level)\n", ci);
        return -1;
    }
    nic->csb_edge = !ci || !strcmp(ci, "edge");
    /* napi=1 (default): interrupts masked while the driver polls (napi_arm). */
    u64 v = 0;
    nic->napi = !cmdline_u64(cl, "napi", &v) || v != 0;
    if (cmdline_u64(cl, "rdt_flush", &v))
        nic->rdt_flush = v != 0;
    return 0;
}

/* BAR0, PCI command (memory space, bus master, INTx), device reset, MAC
 * address, link up. */
static int reset_device(struct e1000 *nic)
{
    nic->mmio = pci_bar_addr(nic->pci, 0);
    if (!nic->mmio || nic->mmio >= (4ull << 30) - 0x20000) {
        printf("e1000: BAR0 0x%lx not usable (must be below 4 GiB)\n", nic->mmio);
        return -1;
    }
    /* Memory space + bus master; INTx enabled (command bit 10 clear). */
    u16 cmd = pci_read16(nic->pci, 0x04);
    pci_write16(nic->pci, 0x04, (cmd | 0x6) & ~0x400);

    /* Reset: interrupts off, RST, wait for it to self-clear. */
    e1000_write(nic, IMC, 0xffffffff);
    e1000_write(nic, CTRL, e1000_read(nic, CTRL) | CTRL_RST);
    delay_us(1000);
    if (!wait_bit(nic, CTRL, CTRL_RST, false, 100000)) {
        printf("e1000: reset did not complete\n");
        return -1;
    }
    e1000_write(nic, IMC, 0xffffffff);
    (void)e1000_read(nic, ICR);

    /* MAC: EEPROM words 0-2 through EERD; if EERD does not answer, the
     * address the device loaded into RAR0 at reset. */
    for (int i = 0; i < 3; i++) {
        u16 w;
        if (eeprom_read(nic, (u8)i, &w) < 0) {
            u32 lo = e1000_read(nic, RAL0), hi = e1000_read(nic, RAH0);
            printf("e1000: EEPROM read timed out, using RAR0\n");
            for (int b = 0; b < 4; b++)
                nic->mac[b] = (u8)(lo >> (8 * b));
            nic->mac[4] = (u8)hi;
            nic->mac[5] = (u8)(hi >> 8);
            break;
        }
        nic->mac[2 * i] = w & 0xff;
        nic->mac[2 * i + 1] = w >> 8;
    }

    /* Link up: set link up, auto speed, no PHY/link reset, no loss-of-signal
     * inversion. */
    u32 ctrl = e1000_read(nic, CTRL);
    ctrl = (ctrl | CTRL_SLU | CTRL_ASDE) & ~(CTRL_LRST | CTRL_PHY_RST | CTRL_ILOS);
    e1000_write(nic, CTRL, ctrl);
    return 0;
}

/* Rings and buffers from the page allocator (physical == virtual). */
static int alloc_rings(struct e1000 *nic)
{
    nic->tx = alloc_pages(nic->ntx * 16 / PAGE_SIZE, 1);
    nic->rx = alloc_pages(nic->nrx * 16 / PAGE_SIZE, 1); /* 128-byte aligned at least */
    nic->txbuf = alloc_pages(nic->ntx * E1000_BUF / PAGE_SIZE, 1);
    nic->rxbuf = alloc_pages(nic->nrx * E1000_BUF / PAGE_SIZE, 1);
    if (!nic->tx || !nic->rx || !nic->txbuf || !nic->rxbuf) {
        printf("e1000: out of memory for rings (ring=%u: %u KiB of buffers per ring)\n", nic->ntx,
               nic->ntx * E1000_BUF / 1024);
        return -1;
    }
    for (u32 i = 0; i < nic->nrx; i++)
        nic->rx[i].addr = (u64)(uintptr_t)(nic->rxbuf + i * E1000_BUF);
    for (u32 i = 0; i < nic->ntx; i++)
        nic->tx[i].addr = (u64)(uintptr_t)(nic->txbuf + i * E1000_BUF);
    return 0;
}

/* Receive side, up to enabling: address filters (our MAC in RAR0, multicast
 * table clear) and the RX ring. RCTL comes later (enable_rx). */
static void configure_rx(struct e1000 *nic)
{
    e1000_write(nic, RAL0, nic->mac[0] | nic->mac[1] << 8 | nic->mac[2] << 16 |
                               (u32)nic->mac[3] << 24);
    e1000_write(nic, RAH0, nic->mac[4] | nic->mac[5] << 8 | 1u << 31);
    for (u32 i = 0; i < 128; i++)
        e1000_write(nic, MTA + 4 * i, 0);
    e1000_write(nic, RDBAL, (u32)(uintptr_t)nic->rx);
    e1000_write(nic, RDBAH, 0);
    e1000_write(nic, RDLEN, nic->nrx * 16);
    e1000_write(nic, RDH, 0);
    e1000_write(nic, RDT, nic->nrx - 1);
}

/* Transmit side, up to enabling: the TX ring. TCTL comes later (enable_tx). */
static void configure_tx(struct e1000 *nic)
{
    e1000_write(nic, TDBAL, (u32)(uintptr_t)nic->tx);
    e1000_write(nic, TDBAH, 0);
    e1000_write(nic, TDLEN, nic->ntx * 16);
    e1000_write(nic, TDH, 0);
    e1000_write(nic, TDT, 0);
}

/* Interrupt moderation (itr=, tidv=, tadv=, rdtr=, radv=) and TIPG. */
static void configure_moderation(struct e1000 *nic)
{
    e1000_write(nic, RDTR, nic->rdtr);
    e1000_write(nic, RADV, nic->radv);
    e1000_write(nic, TIDV, nic->tidv);
    e1000_write(nic, TADV, nic->tadv);
    e1000_write(nic, ITR, nic->itr);
    e1000_write(nic, TIPG, 10 | 8 << 10 | 6 << 20);
}

/* RX and TX on (promisc=1: every frame). After the CSB (docs/csb.md). */
static void enable_rx_tx(struct e1000 *nic, const struct cmdline *cl)
{
    u64 promisc = 0;
    cmdline_u64(cl, "promisc", &promisc);
    e1000_write(nic, RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC |
                               (promisc ? RCTL_UPE | RCTL_MPE : 0));
    e1000_write(nic, TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
}

/* Interrupts: the GSI the firmware/VMM wrote to the interrupt-line
 * register, level-triggered (PCI INTx), to this NIC's vector; with CSB edge
 * interrupts an edge-triggered route to the stub that does not read ICR
 * (the device consumed the causes with the edge). Returns the polarity. */
static int request_irq(struct e1000 *nic, int index, const struct cmdline *cl)
{
    nic->gsi = nic->pci->irq_line;
    const char *pol = cmdline_get(cl, "irqpol");
    int polarity = pol && !strcmp(pol, "low") ? IOAPIC_LOW : IOAPIC_HIGH;
    nic_icr_addr[index] = nic->mmio + ICR;
    nic_icr[index] = 0;
    bool edge = nic->csb && nic->csb_edge;
    /* Each vector's ring-0 stub reads one NIC's ICR: two NICs on one GSI
     * cannot share it (the other's level line would stay asserted). The
     * later NIC then runs without interrupts (polling, timer tick). */
    int shared = -1;
    routed_gsi[index] = 0;
    for (int i = 0; i < NIC_MAX; i++)
        if (i != index && routed_gsi[i] && routed_gsi[i] == nic->gsi)
            shared = i;
    if (shared >= 0) {
        printf("e1000: nic%d shares gsi %u with nic%d: no interrupts for nic%d (polling)\n",
               index, nic->gsi, shared, index);
    } else if (nic->gsi && nic->gsi != 0xff && nic->gsi < ioapic_pins()) {
        routed_gsi[index] = nic->gsi;
        if (edge)
            ioapic_route(nic->gsi, VEC_NIC_EDGE_FIRST + index, IOAPIC_EDGE, IOAPIC_HIGH);
        else
            ioapic_route(nic->gsi, VEC_NIC_FIRST + index, IOAPIC_LEVEL, polarity);
        /* NAPI (see napi_arm): the RX causes, and TXDW unless send combining
         * needs it as its signal, start masked; csb has its own flags. */
        u32 causes = ICR_RXT0 | ICR_RXO | ICR_RXDMT0 | ICR_LSC | ICR_TXDW;
        if (nic->napi && !nic->csb)
            nic->napi_mask =
                ICR_RXT0 | ICR_RXO | ICR_RXDMT0 | (nic->txmode == E1000_TX_SC ? 0 : ICR_TXDW);
        e1000_write(nic, IMS, causes & ~nic->napi_mask);
        nic->irqs_on = true;
    } else if (nic->txmode == E1000_TX_SC) {
        printf("e1000: no usable interrupt line: txmode=sc writes TDT as classic does\n");
    }
    return polarity;
}

int e1000_probe(struct e1000 *nic, int index, const struct cmdline *cl)
{
    memset(nic, 0, sizeof(*nic));
    nic->index = index;
    if (index < 0 || index >= NIC_MAX)
        return -1;
    if (parse_options(nic, cl) < 0 || find_device(nic, index, cl) < 0 || reset_device(nic) < 0 ||
        alloc_rings(nic) < 0)
        return -1;
    /* Rings, then moderation, then (csb) the CSB page, then RX/TX enable:
     * docs/csb.md wants the CSB on before RCTL.EN/TCTL.EN. */
    configure_rx(nic);
    configure_tx(nic);
    configure_moderation(nic);
    int mode = nic->txmode_requested;
    nic->txmode = mode == E1000_TX_CSB ? csb_enable(nic) : mode;
    enable_rx_tx(nic, cl);
    int polarity = request_irq(nic, index, cl);

    bool up = wait_bit(nic, STATUS, STATUS_LU, true, 500000);
    printf("e1000: nic%d %02x:%02x.%x bar0 0x%lx mac %02x:%02x:%02x:%02x:%02x:%02x gsi %u "
           "vector 0x%x level/%s link %s\n",
           index, nic->pci->bus, nic->pci->slot, nic->pci->fn, nic->mmio, nic->mac[0],
           nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5], nic->gsi,
           VEC_NIC_FIRST + index, polarity == IOAPIC_LOW ? "low" : "high", up ? "up" : "DOWN");
    printf("e1000: nic%d txmode %s itr %u tidv %u tadv %u rdtr %u radv %u%s\n", index,
           e1000_txmode_name(nic->txmode), nic->itr, nic->tidv, nic->tadv, nic->rdtr, nic->radv,
           nic->csb && nic->csb_edge && nic->irqs_on ? " edge-irq" : "");
    return 0;
}

/* Hands descriptors [tx_hw_tail, tx_tail) to the device per the
 * discipline. stall: the caller cannot go on without it (sc writes now). */
static void tx_hand_over(struct e1000 *nic, bool stall)
{
    u32 tail = nic->tx_tail;
    if (tail == nic->tx_hw_tail)
        return;
    wmb();                                  /* descriptors before the index */
    if (nic->txmode == E1000_TX_CSB) {
        nic->tx_hw_tail = tail;
        nic->tx_commits++;
        if (csb_tx_publish_once(nic->csb, tail, &nic->csb_txkick_seen)) { /* host sleeps: kick */
            e1000_write(nic, TDT, tail);
            nic->tdt_writes++;
        }
        return;
    }
    if (nic->txmode == E1000_TX_SC) {
        u64 now = rdtsc();
        u32 irqs = nic_irqs[nic->index];
        if (!sc_should_write(nic->sc_pending, nic->sc_irq_mark, irqs, stall, now - nic->sc_t0,
                             nic->sc_timeout)) {
            nic->sc_deferred++;
            return;
        }
        if (nic->sc_pending && irqs == nic->sc_irq_mark)
            stall ? nic->sc_stalls++ : nic->sc_timeouts++;
        /* Mark before the write: an interrupt after it changes nic_irqs. */
        nic->sc_irq_mark = irqs;
        nic->sc_t0 = now;
        nic->sc_pending = nic->irqs_on;
        barrier();
    }
    nic->tx_hw_tail = tail;
    nic->tx_commits++;
    e1000_write(nic, TDT, tail);
    nic->tdt_writes++;
}

void e1000_tx_commit(struct e1000 *nic) { tx_hand_over(nic, false); }
void e1000_tx_flush(struct e1000 *nic) { tx_hand_over(nic, true); }

u32 e1000_tx_reclaim(struct e1000 *nic)
{
    u32 clean = nic->tx_clean;
    while (clean != nic->tx_hw_tail && (nic->tx[clean].status & DESC_DD)) {
        nic->tx[clean].status = 0;
        clean = RING_NEXT(clean, nic->ntx);
    }
    nic->tx_clean = clean;
    if (nic->tx_tail != nic->tx_hw_tail)
        tx_hand_over(nic, false);           /* sc: the interrupt may have come */
    u32 head = nic->tx_clean, tail = nic->tx_tail; /* in flight, without a division */
    return tail >= head ? tail - head : tail + nic->ntx - head;
}

int e1000_tx(struct e1000 *nic, const void *frame, u32 len)
{
    u32 next = RING_NEXT(nic->tx_tail, nic->ntx);
    if (next == nic->tx_clean) {
        e1000_tx_reclaim(nic);
        if (next == nic->tx_clean) {
            tx_hand_over(nic, true);        /* sc: the ring would stall */
            nic->tx_full++;
            return -1;
        }
    }
    if (len > E1000_BUF)
        len = E1000_BUF;
    volatile struct e1000_tx_desc *d = &nic->tx[nic->tx_tail];
    memcpy((void *)(uintptr_t)d->addr, frame, len);
    d->length = (u16)len;
    d->cso = 0;
    d->css = 0;
    d->special = 0;
    d->status = 0;
    d->cmd = nic->txd_cmd;
    nic->tx_tail = next;
    nic->tx_pkts++;
    nic->tx_bytes += len;
    tx_hand_over(nic, false);               /* classic: one doorbell per packet */
    return 0;
}

bool e1000_rx_peek(struct e1000 *nic, const u8 **data, u32 *len)
{
    volatile struct e1000_rx_desc *d = &nic->rx[nic->rx_next];
    if (!(d->status & DESC_DD))
        return false;
    barrier();
    *data = (const u8 *)(uintptr_t)d->addr;
    *len = d->length;
    return true;
}

void e1000_rx_advance(struct e1000 *nic)
{
    volatile struct e1000_rx_desc *d = &nic->rx[nic->rx_next];
    if (d->errors || !(d->status & RXD_EOP))
        nic->rx_errors++;
    else {
        nic->rx_pkts++;
        nic->rx_bytes += d->length;
    }
    d->status = 0;
    nic->rx_next = RING_NEXT(nic->rx_next, nic->nrx);
    nic->rx_pending++;
}

void e1000_rx_give(struct e1000 *nic, u32 rdt)
{
    wmb();                                  /* cleared descriptors before the tail */
    if (nic->csb) {
        if (csb_rx_publish_once(nic->csb, rdt, &nic->csb_rxkick_seen)) { /* out of buffers */
            e1000_write(nic, RDT, rdt);
            nic->rdt_writes++;
        }
        return;
    }
    e1000_write(nic, RDT, rdt);
    nic->rdt_writes++;
    if (nic->rdt_flush)
        (void)e1000_read(nic, STATUS);      /* flush coalesced MMIO (QEMU/KVM) */
}

static bool rx_empty(struct e1000 *nic) { return !(nic->rx[nic->rx_next].status & DESC_DD); }

void e1000_rx_refill(struct e1000 *nic)
{
    if (!nic->rx_pending)
        return;
    /* An RDT write is a VM exit (and, on vpio, the pull that brings the
     * next frames in): buffers go back a quarter ring at a time, or all at
     * once when nothing is left to read (before the driver sleeps). */
    if (nic->rx_pending < nic->nrx / 4 && !rx_empty(nic))
        return;
    nic->rx_pending = 0;
    e1000_rx_give(nic, (nic->rx_next + nic->nrx - 1) % nic->nrx);
}

void e1000_rx_wait(struct e1000 *nic) { e1000_rx_wait_any(&nic, 1); }

/* NAPI, as Linux's e1000 driver does it: while the driver polls, the
 * causes in napi_mask stay masked (IMC), so a guest that keeps finding work
 * takes no interrupts; it unmasks them (IMS) only on its way to sleep, and
 * masks them again when it wakes. ICR latches causes while they are masked,
 * so one that came meanwhile interrupts at the unmask: no lost wake-up. */
static void napi_arm(struct e1000 *nic, u32 causes)
{
    causes &= nic->napi_mask & ~nic->napi_armed;
    if (!causes || !nic->irqs_on)
        return;
    nic->napi_armed |= causes;
    e1000_write(nic, IMS, causes);
}

static void napi_disarm(struct e1000 *nic)
{
    if (!nic->napi_armed)
        return;
    e1000_write(nic, IMC, nic->napi_armed);
    nic->napi_armed = 0;
}

bool e1000_rx_sleep_arm(struct e1000 *nic)
{
    /* csb: host_rdh as it is before this look at DD. The re-check compares
     * with it, not with rx_next: the guest reads by DD, ahead of the host's
     * end-of-pass publication, and comparing with rx_next made a guest
     * spin (never sleep) on the core its host threads need. */
    u32 rdh = nic->csb ? csb_host_rdh(nic->csb, nic->nrx, nic->rx_next) : 0;
    bool sleep = rx_empty(nic);
    if (sleep && nic->csb) {            /* flag, barrier, re-check (docs/csb.md) */
        sleep = csb_rx_sleep_ok(nic->csb, rdh, nic->nrx) && rx_empty(nic);
    } else if (sleep && nic->napi_mask) { /* unmask, then look once more */
        napi_arm(nic, ICR_RXT0 | ICR_RXO | ICR_RXDMT0);
        sleep = rx_empty(nic);
    }
    return sleep;
}

void e1000_rx_sleep_end(struct e1000 *nic)
{
    if (nic->csb)
        csb_rx_awake(nic->csb);             /* polling again: no interrupts wanted */
    napi_disarm(nic);
}

void e1000_rx_wait_any(struct e1000 *const *nics, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        e1000_take_icr(nics[k]);
    u64 seen = irq_seq_read();
    bool sleep = true;
    for (unsigned k = 0; sleep && k < n; k++)
        sleep = e1000_rx_sleep_arm(nics[k]);
    if (sleep)
        sys_wait(seen);
    for (unsigned k = 0; k < n; k++)
        e1000_rx_sleep_end(nics[k]);
}

void e1000_tx_wait(struct e1000 *nic)
{
    u64 seen = irq_seq_read();
    /* csb: host_tdh before the reclaim (by DD, which runs ahead of the
     * host's end-of-pass publication): the re-check compares with it. */
    u32 tdh = nic->csb ? csb_host_tdh(nic->csb, nic->ntx, nic->tx_clean) : 0;
    e1000_tx_reclaim(nic);
    if (e1000_tx_space(nic))
        return;
    tx_hand_over(nic, true); /* sc: nothing stays deferred while we sleep */
    bool sleep = nic->irqs_on;
    if (sleep && nic->csb) { /* flag, barrier, re-check (docs/csb.md) */
        sleep =
            csb_tx_sleep_ok(nic->csb, tdh, nic->ntx) && !(nic->tx[nic->tx_clean].status & DESC_DD);
    } else if (sleep && (nic->napi_mask & ICR_TXDW)) { /* unmask, then look once more */
        napi_arm(nic, ICR_TXDW);
        sleep = !(nic->tx[nic->tx_clean].status & DESC_DD);
    }
    if (sleep)
        sys_wait(seen);
    if (nic->csb)
        csb_tx_awake(nic->csb);
    napi_disarm(nic);
}

void e1000_set_promisc(struct e1000 *nic, bool on)
{
    u32 rctl = e1000_read(nic, RCTL);
    rctl = on ? rctl | RCTL_UPE | RCTL_MPE : rctl & ~(RCTL_UPE | RCTL_MPE);
    e1000_write(nic, RCTL, rctl);
}

u32 e1000_take_icr(struct e1000 *nic)
{
    return __atomic_exchange_n(&nic_icr[nic->index], 0, __ATOMIC_SEQ_CST);
}

u32 e1000_missed(struct e1000 *nic) { return e1000_read(nic, MPC); }

int e1000_stats_str(struct e1000 *nic, char *buf, size_t size)
{
    return snprintf(buf, size,
                    "txmode=%s tdt_writes=%lu rdt_writes=%lu reg_reads=%lu reg_writes=%lu "
                    "reg_accesses=%lu sc_deferred=%lu sc_stalls=%lu sc_timeouts=%lu csb=%d",
                    e1000_txmode_name(nic->txmode), nic->tdt_writes, nic->rdt_writes,
                    nic->reg_reads, nic->reg_writes, nic->reg_reads + nic->reg_writes,
                    nic->sc_deferred, nic->sc_stalls, nic->sc_timeouts, nic->csb != NULL);
}

void e1000_stats_reset(struct e1000 *nic)
{
    nic->reg_reads = nic->reg_writes = 0;
    nic->tdt_writes = nic->rdt_writes = nic->tx_commits = 0;
    nic->sc_deferred = nic->sc_stalls = nic->sc_timeouts = 0;
}
