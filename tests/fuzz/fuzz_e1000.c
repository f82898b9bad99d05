/* libFuzzer target for the e1000 model.
 *
 * The input is a program of operations on one device behind its PCI glue:
 *   - register writes and reads (BAR0, the I/O BAR, raw widths/offsets),
 *     with values often taken from a table of interesting ones (ring bases
 *     that wrap 2^64, addresses at the end of RAM, RCTL/CSBAL modes);
 *   - guest memory contents (descriptors, buffers) in a 2 MiB RAM whose
 *     pages are materialised only when touched (MADV_DONTNEED per run);
 *   - frames of any length (0 .. 70000 bytes) queued in the backend, which
 *     drops and counts the ones longer than the room it is given, as
 *     backend.h says: the direct path's oversize and "never fits" cases;
 *   - backend flavours: recv only, recv_batch, and a switch-port-like one
 *     that holds frames (rx_pending) and reports frames it had to drop
 *     (rx_dropped: the missed-frame path), or no backend at all;
 *   - callbacks into the device from inside the backend (re-entry);
 *   - receive polls, e1000_rx_arrived (the backend thread's notice), clock
 *     advances with timer runs;
 *   - PCI configuration space through ports 0xCF8/0xCFC (BAR sizing and
 *     moves, command register) and accesses through the MMIO/PIO buses;
 *   - the CSB extension: CSBAL/CSBAH, CSB fields with any value, the I/O
 *     thread's serving calls, and the thread's own loop driven one turn at
 *     a time (e1000_csb_thread_turn) with a real eventfd doorbell;
 *   - ready-made TX programs: a big ring filled with one descriptor
 *     template (DD list full, arena full, work bounds) and TSO frames with
 *     any MSS (beyond 4096 segments).
 * After every operation the interrupt line's invariants are checked: the
 * level the sink saw is the model's, it never repeats a level, it is high
 * only while ICR & IMS != 0 and edges are off, and low with ICR & IMS != 0
 * only while ITR holds the assertion back; pulses only in CSB edge mode.
 * Every operation is bounded (heavy ones are limited per run); the program
 * is cut at MAX_OPS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/e1000.h"
#include "dev/e1000_csb_thread.h"
#include "dev/e1000_pci.h"
#include "vmm/bus.h"
#include "vmm/pci.h"

#define RAM (2u << 20)
#define MAX_OPS 2048
#define MAX_QUEUED 64
#define MAX_HEAVY 3 /* big-ring TX and TSO programs per run */
#define MAX_FRAME 70000

#define TX_RING 0x1000u
#define RX_RING 0x2000u
#define CSB_GPA 0x3000u
#define RX_BUFS 0x8000u
#define TSO_BUF 0x40000u
#define BIG_RING 0x100000u

struct fz {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct fz *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}
static uint16_t take16(struct fz *f)
{
    return (uint16_t)(take8(f) | (take8(f) << 8));
}
static uint32_t take32(struct fz *f)
{
    return (uint32_t)take16(f) | ((uint32_t)take16(f) << 16);
}

/* Values worth trying in any register: a random 32-bit value almost never
 * is one of these. */
static const uint32_t interesting[] = {
    0,
    1,
    0xFFFFFFFFu,
    0xFFFFFFF0u,
    0xFFFFF000u,
    0x80000000u,
    0x7FFFFFFFu,
    RAM,
    RAM - 16,
    RAM - 4096,
    RAM - 1,
    64 * 16,
    4096 * 16,
    65536 * 16,
    BIG_RING,
    E1000_CTRL_RST,
    CSB_GPA | E1000_CSBAL_ENABLE,
    CSB_GPA | E1000_CSBAL_ENABLE | E1000_CSBAL_EDGE,
    (RAM - 4096) | E1000_CSBAL_ENABLE,
    E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_LPE,
    E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_LPE | E1000_RCTL_BSEX | (1u << 16),
    E1000_RCTL_EN | E1000_RCTL_UPE | (3u << 16),
    E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_LPE |
        (3u << 16), /* 256-byte buffers, long frames */
    128,
    E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_SECRC,
    E1000_TCTL_EN | E1000_TCTL_PSP,
    0x04200000u, /* MDIC: write PHY 1 register 0 */
    0x04210000u, /* MDIC: write a read-only PHY register */
    0x08220000u, /* MDIC: read PHY 1 register 2 */
};
#define N_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

static uint32_t take_val(struct fz *f)
{
    uint8_t sel = take8(f);
    if (sel < 2 * N_INTERESTING)
        return interesting[sel % N_INTERESTING];
    return take32(f);
}

/* Frame lengths at the limits of the RX paths. */
static const uint32_t frame_lens[] = {0,     1,     13,    14,    59,    60,       1514,
                                      1518,  1519,  1522,  1523,  2044,  2048,     4096,
                                      16380, 16381, 16384, 16385, 65536, MAX_FRAME};
#define N_FRAME_LENS (sizeof(frame_lens) / sizeof(frame_lens[0]))

/* ---- the backend ---- */
enum { BE_RECV, BE_BATCH, BE_HOLD_BATCH, BE_HOLD_RECV };

struct fbe {
    struct net_backend be;
    uint8_t *q[MAX_QUEUED];
    uint32_t qlen[MAX_QUEUED];
    unsigned head, count;
    uint64_t sent;
    uint64_t dropped;     /* rx_dropped: frames it "could not hold" */
    unsigned refuse_mask; /* send_batch refuses the last frame when sent & mask == 0 */
    uint8_t reenter;      /* a call back into the device at the next callback */
    uint32_t reenter_val;
    int in_callback;
};

static struct e1000 *cur; /* the device of this run (for re-entry) */

static void reenter(struct fbe *b)
{
    uint8_t what = b->reenter;
    if (!what || b->in_callback)
        return;
    b->reenter = 0;
    b->in_callback++;
    switch (what % 12) {
    case 0:
        e1000_reg_write(cur, E1000_TDT, b->reenter_val % 64);
        break;
    case 1:
        e1000_reg_read(cur, E1000_ICR);
        break;
    case 2:
        e1000_rx_poll(cur);
        break;
    case 3:
        e1000_csb_tx_serve(cur);
        break;
    case 4:
        e1000_csb_rx_serve(cur);
        break;
    case 5:
        e1000_rx_arrived(cur);
        break;
    case 6:
        e1000_timer_expired(cur, e1000_now(cur) + b->reenter_val);
        break;
    case 7:
        e1000_reg_write(cur, E1000_CTRL, E1000_CTRL_RST);
        break;
    case 8:
        e1000_csb_attach(cur, -1);
        break;
    case 9:
        e1000_csb_prepare_sleep(cur);
        break;
    case 10:
        e1000_reg_write(cur, E1000_RDT, b->reenter_val % 64);
        break;
    default:
        e1000_reg_write(cur, E1000_CSBAL, 0);
        break;
    }
    b->in_callback--;
}

static unsigned fbe_send(struct net_backend *be, const struct vpio_pkt *fr, unsigned n)
{
    struct fbe *b = (struct fbe *)be;
    for (unsigned i = 0; i < n; i++) {
        volatile uint8_t x = fr[i].len ? ((const uint8_t *)fr[i].data)[0] ^
                                             ((const uint8_t *)fr[i].data)[fr[i].len - 1]
                                       : 0;
        (void)x;
    }
    reenter(b);
    b->sent += n;
    return n - (n > 1 && (b->sent & b->refuse_mask) == 0); /* sometimes refuse one */
}

/* Pops the next frame; NULL if none. */
static uint8_t *fbe_pop(struct fbe *b, uint32_t *len)
{
    if (!b->count)
        return NULL;
    unsigned i = b->head;
    uint8_t *fr = b->q[i];
    *len = b->qlen[i];
    b->q[i] = NULL;
    b->head = (b->head + 1) % MAX_QUEUED;
    b->count--;
    return fr;
}

/* backend.h: a frame longer than cap is dropped, counted, the next one tried. */
static ssize_t fbe_recv(struct net_backend *be, void *buf, size_t cap)
{
    struct fbe *b = (struct fbe *)be;
    reenter(b);
    uint32_t len;
    uint8_t *fr;
    while ((fr = fbe_pop(b, &len))) {
        if (len > cap) {
            be->stats.rx_drops++;
            free(fr);
            continue;
        }
        memcpy(buf, fr, len);
        free(fr);
        be->stats.rx_frames++;
        return len;
    }
    return 0;
}

static unsigned fbe_recv_batch(struct net_backend *be, struct vpio_rxpkt *rb, unsigned n)
{
    struct fbe *b = (struct fbe *)be;
    reenter(b);
    unsigned got = 0;
    uint32_t len;
    uint8_t *fr;
    while (got < n && (fr = fbe_pop(b, &len))) {
        if (len > rb[got].cap) {
            be->stats.rx_drops++;
        } else {
            memcpy(rb[got].buf, fr, len);
            rb[got++].len = len;
            be->stats.rx_frames++;
        }
        free(fr);
    }
    return got;
}

static int fbe_rx_pending(struct net_backend *be)
{
    struct fbe *b = (struct fbe *)be;
    reenter(b);
    return b->count > 0;
}

static uint64_t fbe_rx_dropped(struct net_backend *be)
{
    return ((struct fbe *)be)->dropped;
}

static void fbe_close(struct net_backend *be)
{
    (void)be;
}

static const struct net_backend_ops fbe_ops[4] = {
    [BE_RECV] = {.kind = "fuzz", .send_batch = fbe_send, .recv = fbe_recv, .close = fbe_close},
    [BE_BATCH] = {.kind = "fuzz",
                  .send_batch = fbe_send,
                  .recv = fbe_recv,
                  .recv_batch = fbe_recv_batch,
                  .close = fbe_close},
    [BE_HOLD_BATCH] = {.kind = "fuzz",
                       .send_batch = fbe_send,
                       .recv = fbe_recv,
                       .recv_batch = fbe_recv_batch,
                       .rx_pending = fbe_rx_pending,
                       .rx_dropped = fbe_rx_dropped,
                       .close = fbe_close},
    [BE_HOLD_RECV] = {.kind = "fuzz",
                      .send_batch = fbe_send,
                      .recv = fbe_recv,
                      .rx_pending = fbe_rx_pending,
                      .rx_dropped = fbe_rx_dropped,
                      .close = fbe_close},
};

static void fbe_push(struct fbe *b, uint8_t *fr, uint32_t len)
{
    unsigned slot = (b->head + b->count) % MAX_QUEUED;
    b->q[slot] = fr;
    b->qlen[slot] = len;
    b->count++;
}

static void fbe_clear(struct fbe *b)
{
    uint32_t len;
    uint8_t *fr;
    while ((fr = fbe_pop(b, &len)))
        free(fr);
    b->head = 0;
}

/* ---- clock and interrupt line ---- */
static uint64_t fz_clock_ns;
static uint64_t fz_clock(void *o)
{
    (void)o;
    return fz_clock_ns;
}

struct irq_rec {
    int level; /* what the sink last saw */
    uint64_t sets, pulses;
};
static struct irq_rec irq_rec;

static void irq_sink(void *o, unsigned gsi, int level)
{
    (void)o, (void)gsi;
    if (level == irq_rec.level)
        abort(); /* the model never repeats a level */
    irq_rec.level = level;
    irq_rec.sets++;
}

static void irq_pulse_sink(void *o, unsigned gsi)
{
    (void)o, (void)gsi;
    /* called with the device lock held, from inside the model */
    if (!cur->csb.enabled || !cur->csb.edge || cur->irq_level)
        abort(); /* pulses only in CSB edge mode, with the level low */
    irq_rec.pulses++;
}

static void check_irq(struct e1000 *d)
{
    uint32_t pending = d->regs[E1000_ICR >> 2] & d->regs[E1000_IMS >> 2];
    if (irq_rec.level != d->irq_level || e1000_irq_level(d) != d->irq_level)
        abort(); /* the line the sink saw is the model's */
    if (e1000_csb_enabled(d) != d->csb.enabled)
        abort();
    if (d->irq_level && (!pending || (d->csb.enabled && d->csb.edge)))
        abort(); /* asserted without a pending unmasked cause, or in edge mode */
    if (!d->irq_level && pending && !(d->cfg.mitigation && d->t.itr_pending))
        abort(); /* a pending unmasked cause not signalled, and ITR does not hold it */
}

/* ---- registers the fuzzer picks by index (a raw offset is possible too) ---- */
static const uint32_t regs[] = {
    E1000_CTRL,     E1000_STATUS, E1000_EECD,  E1000_EERD,  E1000_MDIC, E1000_ICR,    E1000_ITR,
    E1000_ICS,      E1000_IMS,    E1000_IMC,   E1000_RCTL,  E1000_TCTL, E1000_RDBAL,  E1000_RDBAH,
    E1000_RDLEN,    E1000_RDH,    E1000_RDT,   E1000_RDTR,  E1000_RADV, E1000_TDBAL,  E1000_TDBAH,
    E1000_TDLEN,    E1000_TDH,    E1000_TDT,   E1000_TIDV,  E1000_TADV, E1000_RA,     E1000_RA + 4,
    E1000_MTA,      E1000_VFTA,   E1000_GORCL, E1000_GORCH, E1000_MPC,  E1000_VET,    E1000_RXCSUM,
    E1000_CSBAL,    E1000_CSBAH,  E1000_ROC,   E1000_RLEC,  E1000_TIPG, E1000_RXDCTL, E1000_TXDCTL,
    E1000_CTRL_EXT,
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- state kept across runs (big allocations per run would dominate) ---- */
static uint8_t *ram;
static struct guest_mem mem;
static struct fbe b;
static struct e1000_pci nics[2]; /* mitigation off, on */
static struct e1000_csb_waiter waiters[2];
static bool ready[2];
static FILE *devnull;
static struct bus pio, mmio;
static struct pci_host host;

static void pci_reset(struct e1000_pci *nic)
{
    memset(&pio, 0, sizeof(pio));
    memset(&mmio, 0, sizeof(mmio));
    memset(&host, 0, sizeof(host));
    pio.name = "pio";
    mmio.name = "mmio";
    if (pci_host_init(&host, &pio, &mmio) < 0)
        abort();
    e1000_pci_fill(nic, 0);
    if (pci_add_device(&host, &nic->pci) < 0)
        abort();
    nic->dev.irq.gsi = nic->pci.irq_line;
}

static void drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

/* A big TX ring at BIG_RING, every descriptor from one template. */
static void tx_big_ring(struct e1000 *d, struct fz *f)
{
    uint32_t n = 2 + take16(f) % 4095;
    uint8_t t[16];
    for (int i = 0; i < 16; i++)
        t[i] = take8(f);
    switch (take8(f) % 4) { /* descriptor kinds that are not random bytes */
    case 1: /* context descriptors with RS: DD write-backs, no frame (the DD list fills) */
        t[8] = t[9] = 0;
        t[10] = (uint8_t)(E1000_TXD_DTYP_CTX << 4);
        t[11] = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_RS;
        break;
    case 2: /* legacy pieces of one endless frame, RS on each */
        t[10] = 0;
        t[11] = E1000_TXD_CMD_RS;
        break;
    case 3: /* legacy frames that are copied (IC), RS */
        t[11] = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC | E1000_TXD_CMD_RS;
        break;
    default:
        break;
    }
    uint64_t addr = (take16(f) * 32u) % RAM, stride = take8(f) * 64u;
    if (take8(f) & 1) { /* 16 KiB frames: 72 overflow the 1 MiB arena */
        t[8] = 0x00;
        t[9] = 0x40;
        if (n > 72)
            n = 72;
    }
    /* Keep the copying (and checksumming) to ~2 MiB: a pass stops at 8 MiB
     * and goes on from every later entry (tx_pending), which a long program
     * would turn into seconds per run. */
    uint32_t len = (uint32_t)t[8] | (uint32_t)t[9] << 8 | (uint32_t)(t[10] & 0xF) << 16;
    if (n > 2 && (uint64_t)n * len > (2u << 20))
        n = 2 + (2u << 20) / (len + 1);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = ram + BIG_RING + 16 * i;
        memcpy(p, t, 16);
        put_le64(p, (addr + stride * i) % RAM);
    }
    e1000_reg_write(d, E1000_TCTL, 0);
    e1000_reg_write(d, E1000_TDBAL, BIG_RING);
    e1000_reg_write(d, E1000_TDBAH, 0);
    e1000_reg_write(d, E1000_TDLEN, n * 16);
    e1000_reg_write(d, E1000_TDH, 0);
    e1000_reg_write(d, E1000_TDT, 0);
    e1000_reg_write(d, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    uint32_t tail = n - 1 - take8(f) % 2;
    if (d->csb.enabled)
        memcpy(ram + CSB_GPA, &tail, 4); /* guest_tdt */
    e1000_reg_write(d, E1000_TDT, tail);
}

static void place_ring(struct e1000 *d, struct fz *f, uint8_t k)
{
    static const uint64_t bases[] = {
        0xFFFFFFFFFFFFFFF0ull, 0xFFFFFFFFFFFFF000ull, RAM - 512, RAM - 16, 0x100000000ull, RAM};
    uint64_t base = bases[take8(f) % (sizeof(bases) / sizeof(bases[0]))];
    bool rx = k & 0x80;
    e1000_reg_write(d, rx ? E1000_RDBAH : E1000_TDBAH, (uint32_t)(base >> 32));
    e1000_reg_write(d, rx ? E1000_RDBAL : E1000_TDBAL, (uint32_t)base);
    e1000_reg_write(d, rx ? E1000_RDLEN : E1000_TDLEN, 128u << (take8(f) % 4));
    e1000_reg_write(d, rx ? E1000_RDH : E1000_TDH, 0);
    e1000_reg_write(d, rx ? E1000_RDT : E1000_TDT, 1 + take8(f) % 7);
}

/* One TSO frame (context + data descriptor) on the default ring. */
static void tx_tso(struct e1000 *d, struct fz *f)
{
    uint32_t hdr = 54, mss = 1 + take16(f) % 1500;
    uint32_t len = hdr + take16(f) + ((take8(f) & 3) == 0 ? 65536u : 0u);
    uint8_t *p = ram + TSO_BUF; /* Ethernet + IPv4 + TCP header, payload as it is */
    memset(p, 0, hdr);
    memcpy(p, "\x52\x54\x00\x01\x02\x03\x52\x54\x00\x09\x09\x09\x08\x00", 14);
    p[14] = 0x45;
    p[23] = 6;
    p[14 + 20 + 12] = 0x50;
    uint8_t popts = take8(f) & 3;
    bool ipv4 = !(take8(f) & 0x80);
    uint32_t tdt = e1000_reg_read(d, E1000_TDT) % 64;
    uint8_t *c = ram + TX_RING + 16 * tdt;
    memset(c, 0, 16);
    c[0] = 14;      /* ipcss */
    c[1] = 14 + 10; /* ipcso */
    c[4] = 34;      /* tucss */
    c[5] = 34 + 16; /* tucso */
    put_le32(c + 8,
             ((len - hdr) & 0xFFFFF) | ((uint32_t)(E1000_TXD_CMD_DEXT | E1000_TUCMD_TCP |
                                                   E1000_TUCMD_TSE | (ipv4 ? E1000_TUCMD_IP : 0))
                                        << 24));
    c[13] = (uint8_t)hdr;
    c[14] = (uint8_t)mss;
    c[15] = (uint8_t)(mss >> 8);
    uint8_t *dd = ram + TX_RING + 16 * ((tdt + 1) % 64);
    memset(dd, 0, 16);
    put_le64(dd, TSO_BUF);
    put_le32(dd + 8, (len & 0xFFFFF) | (1u << 20) |
                         ((uint32_t)(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP |
                                     E1000_TXD_CMD_RS)
                          << 24));
    dd[13] = popts;
    uint32_t tail = (tdt + 2) % 64;
    if (d->csb.enabled)
        memcpy(ram + CSB_GPA, &tail, 4);
    e1000_reg_write(d, E1000_TDT, tail);
}

/* A configuration space access through ports 0xCF8/0xCFC. */
static void pci_config_op(struct fz *f, uint8_t k)
{
    uint8_t sel = take8(f);
    uint32_t slot = sel % 4, func = (sel & 0x80) ? (sel >> 4) & 7 : 0;
    uint8_t reg = take8(f);
    if (k & 0x40) /* mostly the BARs and the command register */
        reg = (uint8_t)(((sel >> 2) & 1) ? 0x10 + 4 * (reg % 6) : 0x04);
    uint32_t addr = 0x80000000u | (slot << 11) | (func << 8) | (reg & 0xFC);
    if (sel & 0x40)
        addr &= ~0x80000000u; /* configuration access disabled */
    uint8_t buf[4];
    put_le32(buf, addr);
    bus_access(&pio, 0xCF8, buf, 4, true);
    uint32_t len = 1u << (take8(f) % 3), off = reg & 3;
    if (off + len > 4)
        off = 0;
    if (k & 0x80) {
        uint32_t v = take_val(f);
        if ((k & 0x20) && (reg & 0xFC) >= 0x10 && (reg & 0xFC) < 0x18)
            v = 0xFFFFFFFFu; /* BAR sizing */
        put_le32(buf, v);
        bus_access(&pio, 0xCFC + off, buf, len, true);
    } else {
        bus_access(&pio, 0xCFC + off, buf, len, false);
    }
}

/* An access through the buses, where the guest believes the BARs are. */
static void bar_op(struct e1000_pci *nic, struct fz *f, uint8_t k)
{
    int bar = k & 0x40 ? 1 : 0;
    const struct pci_bar *pb = &nic->pci.bars[bar];
    uint64_t addr = pb->mapped ? pb->mapped_addr : pb->addr;
    addr += take32(f) % (pb->size + 8);
    if (k & 0x20)
        addr = take32(f);
    uint8_t buf[8] = {0};
    uint32_t len = 1u << (take8(f) % 4), v = take_val(f);
    memcpy(buf, &v, 4);
    bus_access(bar ? &pio : &mmio, addr, buf, len, (k & 0x80) != 0);
}

/* What the CSB I/O thread does, without the thread. */
static void csb_thread_op(struct e1000 *d, struct e1000_csb_waiter *w, struct fz *f, uint8_t k,
                          uint64_t *idle)
{
    uint64_t one = 1;
    switch ((k >> 4) % 6) {
    case 0:
        e1000_csb_attach(d, w->doorbell_fd);
        break;
    case 1:
        e1000_csb_attach(d, -1);
        break;
    case 2: /* one turn; stop_fd readable, so a sleep returns at once */
    case 3:
        if (write(w->stop_fd, &one, sizeof(one)) < 0)
            break;
        e1000_csb_thread_turn(d, w, idle);
        drain_fd(w->stop_fd);
        break;
    case 4: /* the guest's kick through the ioeventfd */
        if (write(w->doorbell_fd, &one, sizeof(one)) < 0)
            break;
        break;
    default: { /* a turn with a poll time: the yield path */
        w->poll_us = 1000000;
        if (write(w->stop_fd, &one, sizeof(one)) < 0)
            break;
        e1000_csb_thread_turn(d, w, idle);
        drain_fd(w->stop_fd);
        w->poll_us = 0;
        break;
    }
    }
    (void)f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    if (!ram) {
        ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
        if (ram == MAP_FAILED)
            abort();
        madvise(ram, RAM, MADV_NOHUGEPAGE); /* zeroing per run costs only touched pages */
        mem = (struct guest_mem){ram, RAM};
    }
    madvise(ram, RAM, MADV_DONTNEED); /* all zero again */
    fz_clock_ns = 1000000;
    uint8_t mode = take8(&f);
    int m = mode & 1;
    struct e1000_pci *nic = &nics[m];
    struct e1000 *d = &nic->dev;
    struct e1000_csb_waiter *w = &waiters[m];
    if (!ready[m]) {
        struct e1000_config cfg = {.mac = {0x52, 0x54, 0, 1, 2, 3},
                                   .mitigation = m,
                                   .rx_backlog_max = 8,
                                   .clock = fz_clock,
                                   .csb = true};
        struct irq_line irq = {.set_level = irq_sink};
        if (e1000_init(d, &cfg, &mem, irq, &b.be) < 0)
            return 0;
        if (e1000_csb_waiter_init(w, E1000_CSB_POLL_NONE) < 0)
            abort();
        ready[m] = true;
    }
    cur = d;
    b.be.ops = &fbe_ops[(mode >> 2) & 3];
    b.be.stats = (struct net_backend_stats){0};
    b.dropped = 0;
    b.reenter = 0;
    b.refuse_mask = (mode & 0x10) ? 7 : 0xFFFF;
    irq_rec = (struct irq_rec){.level = d->irq_level}; /* one recorder, two devices */
    d->irq.pulse = (mode & 0x80) ? irq_pulse_sink : NULL;
    e1000_reg_write(d, E1000_CTRL, E1000_CTRL_RST);
    d->backend = (mode & 0x60) == 0x60 ? NULL : &b.be;
    d->rx_be_dropped = 0;
    d->rx_last_pull_ns = 0;
    pci_reset(nic);

    /* a ready-made set-up: TX ring at 0x1000 (64), RX ring at 0x2000 (64) */
    e1000_reg_write(d, E1000_TDBAL, TX_RING);
    e1000_reg_write(d, E1000_TDLEN, 64 * 16);
    e1000_reg_write(d, E1000_TCTL, E1000_TCTL_EN);
    e1000_reg_write(d, E1000_RDBAL, RX_RING);
    e1000_reg_write(d, E1000_RDLEN, 64 * 16);
    e1000_reg_write(d, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE);
    e1000_reg_write(d, E1000_IMS, 0xFFFF);
    for (int i = 0; i < 64; i++) { /* RX buffers at 0x8000 + 2 KiB * i */
        uint64_t a = RX_BUFS + 2048u * (uint64_t)i;
        memcpy(ram + RX_RING + 16 * i, &a, 8);
    }
    if (mode & 2) /* half the runs start with the CSB on at 0x3000 */
        e1000_reg_write(d, E1000_CSBAL, CSB_GPA | E1000_CSBAL_ENABLE);
    check_irq(d);

    unsigned heavy = 0;
    uint64_t idle = 0;
    for (int op = 0; op < MAX_OPS && f.n; op++) {
        uint8_t k = take8(&f);
        switch (k % 21) {
        case 0: /* write a known register */
        case 1: {
            uint32_t off = regs[take8(&f) % NREGS];
            e1000_reg_write(d, off, take_val(&f));
            break;
        }
        case 2: { /* raw MMIO access, any width and offset */
            uint32_t off = take32(&f) % (E1000_MMIO_SIZE + 16);
            uint8_t buf[8] = {0};
            uint32_t len = 1u << (take8(&f) % 4);
            if (k & 0x80) {
                uint32_t v = take32(&f);
                memcpy(buf, &v, 4);
                e1000_mmio_write(d, off, buf, len);
            } else {
                e1000_mmio_read(d, off, buf, len);
            }
            break;
        }
        case 3: /* read a known register, or a whole Microwire EEPROM read */
            if (k & 0x80) {
                uint32_t cmd = take16(&f) & 0x1FF, e = E1000_EECD_CS | E1000_EECD_REQ;
                e1000_reg_write(d, E1000_EECD, e);
                for (int bit = 8; bit >= -16; bit--) {
                    uint32_t di = bit >= 0 && ((cmd >> bit) & 1) ? E1000_EECD_DI : 0;
                    e1000_reg_write(d, E1000_EECD, e | di | E1000_EECD_SK);
                    e1000_reg_read(d, E1000_EECD);
                    e1000_reg_write(d, E1000_EECD, e | di);
                }
                e1000_reg_write(d, E1000_EECD, 0);
            } else if (k & 0x40) { /* what --stats shows */
                struct e1000_stats st;
                e1000_get_stats(d, &st);
                if (!devnull)
                    devnull = fopen("/dev/null", "w");
                if (devnull && (k & 0x20))
                    e1000_print_stats(d, "fuzz", devnull);
            } else {
                e1000_reg_read(d, regs[take8(&f) % NREGS]);
            }
            break;
        case 4: { /* TX or RX descriptor */
            uint8_t desc[16];
            uint32_t base = (k & 0x80) ? RX_RING : TX_RING;
            uint32_t idx = take8(&f) % 64;
            for (int i = 0; i < 16; i++)
                desc[i] = take8(&f);
            if (!(k & 0x40)) { /* keep buffer addresses mostly inside RAM */
                uint64_t a = (take16(&f) * 32u) % RAM;
                memcpy(desc, &a, 8);
            }
            memcpy(ram + base + 16 * idx, desc, 16);
            break;
        }
        case 5: { /* guest memory bytes */
            uint32_t addr = (take16(&f) * 32u) % RAM;
            uint32_t len = take8(&f);
            for (uint32_t i = 0; i < len && addr + i < RAM; i++)
                ram[addr + i] = take8(&f);
            break;
        }
        case 6: { /* a frame arrives in the backend, any length */
            uint32_t len = (k & 0x80) ? frame_lens[take8(&f) % N_FRAME_LENS] : take16(&f) % 20000;
            if (b.count == MAX_QUEUED)
                break;
            uint8_t *fr = malloc(len ? len : 1);
            if (!fr)
                abort();
            memset(fr, (uint8_t)len, len); /* the headers from the input */
            for (uint32_t i = 0; i < len && i < 64 && f.n; i++)
                fr[i] = take8(&f);
            if (len >= 6 && (k & 0x40))
                memcpy(fr, "\x52\x54\x00\x01\x02\x03", 6); /* to this NIC */
            fbe_push(&b, fr, len);
            for (unsigned extra = (k & 0x20) ? take8(&f) % 16 : 0; extra && b.count < MAX_QUEUED;
                 extra--) { /* a burst of copies: more than the backlog holds */
                uint8_t *c = malloc(len ? len : 1);
                if (!c)
                    abort();
                memcpy(c, fr, len);
                fbe_push(&b, c, len);
            }
            break;
        }
        case 7:
            e1000_rx_poll(d);
            break;
        case 8: { /* time passes; the VMM runs the timers */
            fz_clock_ns += (uint64_t)take16(&f) * 64;
            uint64_t dl = e1000_next_deadline_ns(d);
            if (dl <= fz_clock_ns)
                e1000_timer_expired(d, fz_clock_ns);
            break;
        }
        case 9: { /* the I/O BAR */
            uint8_t buf[4];
            uint32_t v = take32(&f);
            memcpy(buf, &v, 4);
            uint32_t off = (k & 0x40) ? 4 : (k & 0x20) ? 0 : take8(&f) % 64;
            uint32_t len = (k & 0x10) ? 2 : 4;
            if (k & 0x80)
                e1000_io_write(d, off, buf, len);
            else
                e1000_io_read(d, off, buf, len);
            break;
        }
        case 10: { /* a CSB field, any value (the guest's or the host's line) */
            uint32_t field = (take8(&f) % 8) * 4;
            uint32_t off = CSB_GPA + (field < 16 ? field : 0x40 + field - 16);
            uint32_t v = (k & 0x80) ? take32(&f) : take8(&f) % 80;
            memcpy(ram + off, &v, 4);
            break;
        }
        case 11: /* what the CSB I/O thread does */
            switch ((k >> 4) % 5) {
            case 0:
                e1000_csb_tx_serve(d);
                break;
            case 1:
                e1000_csb_rx_serve(d);
                break;
            case 2:
                e1000_csb_prepare_sleep(d);
                break;
            case 3:
                e1000_csb_wake(d);
                break;
            default:
                e1000_csb_attach(d, -1); /* serves what was published */
                break;
            }
            break;
        case 12: { /* the backend thread's arrival notice; maybe its retry */
            uint64_t retry = e1000_rx_arrived(d);
            if ((k & 0x80) && retry && retry < 100000000ull) {
                fz_clock_ns += retry;
                e1000_rx_arrived(d);
            }
            break;
        }
        case 13: /* the switch port dropped frames it could not hold */
            if (k & 0x80)
                b.dropped -= b.dropped ? take8(&f) % (b.dropped + 1) : 0; /* a counter reset */
            else
                b.dropped += take8(&f);
            break;
        case 14: /* the backend calls into the device at its next callback */
            b.reenter = take8(&f);
            b.reenter_val = take32(&f);
            break;
        case 15:
            pci_config_op(&f, k);
            break;
        case 16:
            bar_op(nic, &f, k);
            break;
        case 17:
            csb_thread_op(d, w, &f, k, &idle);
            break;
        case 18:
            if (heavy++ < MAX_HEAVY)
                tx_big_ring(d, &f);
            break;
        case 19:
            if (heavy++ < MAX_HEAVY)
                tx_tso(d, &f);
            break;
        case 20: /* a ring moved to an edge: wrapping 2^64, straddling RAM's end, above 4 GiB */
            place_ring(d, &f, k);
            break;
        }
        check_irq(d);
    }
    /* the model's invariants */
    if (d->backlog_n > d->backlog_max || d->tx_batch_n != 0 || d->depth != 0)
        abort();
    if (d->csb.enabled && (d->csb.page < ram || d->csb.page + 4096 > ram + RAM))
        abort(); /* the CSB page is always inside guest RAM */
    if (d->tx_dd_n != 0 || d->tx_arena_used != 0)
        abort(); /* every batch went out, every DD was written */
    e1000_csb_attach(d, -1);
    drain_fd(w->doorbell_fd);
    drain_fd(w->stop_fd);
    check_irq(d);
    fbe_clear(&b);
    return 0;
}
