/* libFuzzer target for the e1000 model.
 *
 * The input is a program of operations on one device: register writes and
 * reads (BAR0 and the I/O BAR), guest memory contents (descriptor rings and
 * buffers), frames arriving from the backend, receive polls and clock
 * advances with timer runs, and the CSB extension (docs/csb.md): CSBAL/CSBAH
 * writes anywhere, CSB fields (indices, flags) with any value, and the
 * serving calls of the CSB I/O thread. The device starts with rings set up at known
 * addresses so that the fuzzer reaches TX/RX quickly; it may reprogram
 * anything. The irq sink and the backend do nothing but count. Every
 * operation is bounded; the program is cut at MAX_OPS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/e1000.h"

#define RAM (256u << 10)
#define MAX_OPS 2048
#define MAX_QUEUED 64

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

/* the backend: sends are counted, receives come from a queue */
struct fbe {
    struct net_backend be;
    uint8_t *q[MAX_QUEUED];
    uint32_t qlen[MAX_QUEUED];
    unsigned head, count;
    uint64_t sent;
};

static unsigned fbe_send(struct net_backend *be, const struct vpio_pkt *fr, unsigned n)
{
    struct fbe *b = (struct fbe *)be;
    for (unsigned i = 0; i < n; i++) {
        volatile uint8_t x = fr[i].len ? ((const uint8_t *)fr[i].data)[0] ^ ((const uint8_t *)fr[i].data)[fr[i].len - 1] : 0;
        (void)x;
    }
    b->sent += n;
    return n - (n > 3 && (b->sent & 7) == 0); /* sometimes refuse one */
}

static ssize_t fbe_recv(struct net_backend *be, void *buf, size_t cap)
{
    struct fbe *b = (struct fbe *)be;
    if (!b->count)
        return 0;
    unsigned i = b->head;
    b->head = (b->head + 1) % MAX_QUEUED;
    b->count--;
    ssize_t len = b->qlen[i] <= cap ? (ssize_t)b->qlen[i] : 0;
    if (len)
        memcpy(buf, b->q[i], (size_t)len);
    free(b->q[i]);
    b->q[i] = NULL;
    return len;
}

static void fbe_close(struct net_backend *be)
{
    (void)be;
}

static const struct net_backend_ops fbe_ops = {
    .kind = "fuzz", .send_batch = fbe_send, .recv = fbe_recv, .close = fbe_close};

static uint64_t fz_clock_ns;
static uint64_t fz_clock(void *o)
{
    (void)o;
    return fz_clock_ns;
}

static void irq_sink(void *o, unsigned gsi, int level)
{
    (void)o, (void)gsi, (void)level;
}

/* Registers the fuzzer picks by index (a raw offset is possible too). */
static const uint32_t regs[] = {
    E1000_CTRL,  E1000_STATUS, E1000_EECD,  E1000_EERD,  E1000_MDIC, E1000_ICR,   E1000_ITR,
    E1000_ICS,   E1000_IMS,    E1000_IMC,   E1000_RCTL,  E1000_TCTL, E1000_RDBAL, E1000_RDBAH,
    E1000_RDLEN, E1000_RDH,    E1000_RDT,   E1000_RDTR,  E1000_RADV, E1000_TDBAL, E1000_TDBAH,
    E1000_TDLEN, E1000_TDH,    E1000_TDT,   E1000_TIDV,  E1000_TADV, E1000_RA,    E1000_RA + 4,
    E1000_MTA,   E1000_VFTA,   E1000_GORCL, E1000_GORCH, E1000_MPC,  E1000_VET,   E1000_RXCSUM,
    E1000_CSBAL, E1000_CSBAH,
};
#define CSB_GPA 0x3000u
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static void wr32(struct e1000 *d, uint32_t off, uint32_t v)
{
    e1000_reg_write(d, off, v);
}

/* Devices and RAM are set up once (big allocations per run would dominate
 * the run time under ASan) and brought back to power-on state with a device
 * reset (CTRL.RST) and a cleared RAM at the start of every run. */
static uint8_t *ram;
static struct guest_mem mem;
static struct fbe b;
static struct e1000 devs[2]; /* mitigation off, on */
static bool ready[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    if (!ram) {
        ram = calloc(1, RAM);
        mem = (struct guest_mem){ram, RAM};
        b.be.ops = &fbe_ops;
    }
    memset(ram, 0, RAM);
    fz_clock_ns = 1000000;
    int m = take8(&f) & 1;
    struct e1000 *d = &devs[m];
    if (!ready[m]) {
        struct e1000_config cfg = {.mac = {0x52, 0x54, 0, 1, 2, 3},
                                   .mitigation = m,
                                   .rx_backlog_max = 8,
                                   .clock = fz_clock,
                                   .csb = true};
        struct irq_line irq = {.set_level = irq_sink};
        if (e1000_init(d, &cfg, &mem, irq, &b.be) < 0)
            return 0;
        ready[m] = true;
    }
    e1000_reg_write(d, E1000_CTRL, E1000_CTRL_RST);
#define dev (*d)
    /* a ready-made set-up: TX ring at 0x1000 (64), RX ring at 0x2000 (64) */
    wr32(&dev, E1000_TDBAL, 0x1000);
    wr32(&dev, E1000_TDLEN, 64 * 16);
    wr32(&dev, E1000_TCTL, E1000_TCTL_EN);
    wr32(&dev, E1000_RDBAL, 0x2000);
    wr32(&dev, E1000_RDLEN, 64 * 16);
    wr32(&dev, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE);
    wr32(&dev, E1000_IMS, 0xFFFF);
    for (int i = 0; i < 64; i++) { /* RX buffers at 0x8000 + 2 KiB * i */
        uint64_t a = 0x8000 + 2048u * (uint64_t)i;
        memcpy(ram + 0x2000 + 16 * i, &a, 8);
    }
    if (take8(&f) & 1) /* half the runs start with the CSB on at 0x3000 */
        wr32(&dev, E1000_CSBAL, CSB_GPA | E1000_CSBAL_ENABLE);

    for (int op = 0; op < MAX_OPS && f.n; op++) {
        uint8_t k = take8(&f);
        switch (k % 12) {
        case 0: /* write a known register */
        case 1: {
            uint32_t off = regs[take8(&f) % NREGS];
            wr32(&dev, off, take32(&f));
            break;
        }
        case 2: { /* raw MMIO access, any width and offset */
            uint32_t off = take32(&f) % (E1000_MMIO_SIZE + 16);
            uint8_t buf[8] = {0};
            uint32_t len = 1u << (take8(&f) % 4);
            if (k & 0x80) {
                uint32_t v = take32(&f);
                memcpy(buf, &v, 4);
                e1000_mmio_write(&dev, off, buf, len);
            } else {
                e1000_mmio_read(&dev, off, buf, len);
            }
            break;
        }
        case 3: /* read a known register, or a whole Microwire EEPROM read */
            if (k & 0x80) {
                uint32_t cmd = take16(&f) & 0x1FF, e = E1000_EECD_CS | E1000_EECD_REQ;
                wr32(&dev, E1000_EECD, e);
                for (int bit = 8; bit >= -16; bit--) {
                    uint32_t di = bit >= 0 && ((cmd >> bit) & 1) ? E1000_EECD_DI : 0;
                    wr32(&dev, E1000_EECD, e | di | E1000_EECD_SK);
                    e1000_reg_read(&dev, E1000_EECD);
                    wr32(&dev, E1000_EECD, e | di);
                }
                wr32(&dev, E1000_EECD, 0);
            } else {
                e1000_reg_read(&dev, regs[take8(&f) % NREGS]);
            }
            break;
        case 4: { /* TX or RX descriptor */
            uint8_t d[16];
            uint32_t base = (k & 0x80) ? 0x2000 : 0x1000;
            uint32_t idx = take8(&f) % 64;
            for (int i = 0; i < 16; i++)
                d[i] = take8(&f);
            if (!(k & 0x40)) { /* keep buffer addresses mostly inside RAM */
                uint64_t a = take16(&f) * 4u;
                memcpy(d, &a, 8);
            }
            memcpy(ram + base + 16 * idx, d, 16);
            break;
        }
        case 5: { /* guest memory bytes */
            uint32_t addr = (take16(&f) * 4u) % RAM;
            uint32_t len = take8(&f);
            for (uint32_t i = 0; i < len && addr + i < RAM; i++)
                ram[addr + i] = take8(&f);
            break;
        }
        case 6: { /* a frame arrives from the backend */
            uint32_t len = take16(&f) % 20000;
            if (b.count == MAX_QUEUED)
                break;
            uint8_t *fr = malloc(len ? len : 1);
            for (uint32_t i = 0; i < len; i++)
                fr[i] = f.n ? take8(&f) : (uint8_t)i;
            unsigned slot = (b.head + b.count) % MAX_QUEUED;
            b.q[slot] = fr;
            b.qlen[slot] = len;
            b.count++;
            break;
        }
        case 7:
            e1000_rx_poll(&dev);
            break;
        case 8: { /* time passes; the VMM runs the timers */
            fz_clock_ns += (uint64_t)take16(&f) * 64;
            uint64_t dl = e1000_next_deadline_ns(&dev);
            if (dl <= fz_clock_ns)
                e1000_timer_expired(&dev, fz_clock_ns);
            break;
        }
        case 9: { /* the I/O BAR */
            uint8_t buf[4];
            uint32_t v = take32(&f);
            memcpy(buf, &v, 4);
            uint32_t off = (k & 0x40) ? 4 : (k & 0x20) ? 0 : take8(&f) % 64;
            uint32_t len = (k & 0x10) ? 2 : 4;
            if (k & 0x80)
                e1000_io_write(&dev, off, buf, len);
            else
                e1000_io_read(&dev, off, buf, len);
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
                e1000_csb_tx_serve(&dev);
                break;
            case 1:
                e1000_csb_rx_serve(&dev);
                break;
            case 2:
                e1000_csb_prepare_sleep(&dev);
                break;
            case 3:
                e1000_csb_wake(&dev);
                break;
            default:
                e1000_csb_attach(&dev, -1); /* serves what was published */
                break;
            }
            break;
        }
    }
    /* the model's invariants */
    if (dev.backlog_n > dev.backlog_max || dev.tx_batch_n != 0 || dev.depth != 0)
        abort();
    if (dev.csb.enabled && (dev.csb.page < ram || dev.csb.page + 4096 > ram + RAM))
        abort(); /* the CSB page is always inside guest RAM */
#undef dev
    while (b.count) {
        free(b.q[b.head]);
        b.q[b.head] = NULL;
        b.head = (b.head + 1) % MAX_QUEUED;
        b.count--;
    }
    return 0;
}
