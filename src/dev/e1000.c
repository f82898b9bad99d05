/* e1000 model: life cycle, the register file and MMIO/I/O dispatch.
 * TX, RX, EEPROM/PHY and interrupts live in their own files. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/e1000_internal.h"
#include "vpio/clock.h"

static uint64_t monotonic_ns(void *opaque)
{
    (void)opaque;
    return vpio_now_ns();
}

uint64_t e1000_now_locked(struct e1000 *dev)
{
    return dev->cfg.clock(dev->cfg.clock_opaque);
}

uint64_t e1000_now(struct e1000 *dev)
{
    return e1000_now_locked(dev);
}

/* Power-on / CTRL.RST state of every register. Host counters survive. */
void e1000_reset_locked(struct e1000 *dev)
{
    memset(dev->regs, 0, sizeof(dev->regs));
    R(dev, E1000_CTRL) = E1000_CTRL_FD | E1000_CTRL_ASDE | E1000_CTRL_SLU | E1000_CTRL_SPD_1000;
    R(dev, E1000_PBA) = 0x00100030;
    R(dev, E1000_LEDCTL) = 0x07068302;
    R(dev, E1000_VET) = 0x8100;
    R(dev, E1000_TIPG) = 0x0060200A;
    R(dev, E1000_RXCSUM) = 0x00000300;
    R(dev, E1000_MDIC) = E1000_MDIC_READY;
    R(dev, E1000_TXCW) = 0x0000001A0u;
    /* The receive address 0 is loaded from the EEPROM, as after a reset. */
    const uint8_t *m = dev->cfg.mac;
    R(dev, E1000_RA) =
        (uint32_t)m[0] | ((uint32_t)m[1] << 8) | ((uint32_t)m[2] << 16) | ((uint32_t)m[3] << 24);
    R(dev, E1000_RA + 4) = (uint32_t)m[4] | ((uint32_t)m[5] << 8) | E1000_RAH_AV;
    memset(&dev->eecd, 0, sizeof(dev->eecd));
    dev->gorc = dev->gotc = dev->tor = dev->tot = 0;
    dev->ioaddr = 0;
    e1000_phy_reset(dev);
    e1000_tx_reset(dev);
    e1000_rx_reset(dev);
    e1000_intr_reset(dev); /* lowers the line */
    e1000_csb_reset(dev);  /* CTRL.RST disables the CSB */
}

int e1000_init(struct e1000 *dev, const struct e1000_config *cfg, struct guest_mem *mem,
               struct irq_line irq, struct net_backend *backend)
{
    memset(dev, 0, sizeof(*dev));
    dev->cfg = *cfg;
    if (!dev->cfg.clock) {
        dev->cfg.clock = monotonic_ns;
        dev->cfg.clock_opaque = NULL;
    }
    dev->mem = mem;
    dev->irq = irq;
    dev->backend = backend;
    dev->reported_deadline = UINT64_MAX;
    dev->csb.doorbell_fd = -1;
    dev->backlog_max = cfg->rx_backlog_max ? cfg->rx_backlog_max : 256;
    if (dev->backlog_max > 65536)
        dev->backlog_max = 65536;

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&dev->lock, &a);
    pthread_mutexattr_destroy(&a);

    if (e1000_tx_alloc(dev) < 0 || e1000_rx_alloc(dev) < 0) {
        e1000_destroy(dev);
        return -1;
    }
    e1000_eeprom_init(dev);
    dev->irq_level = 0;
    e1000_reset_locked(dev);
    return 0;
}

void e1000_destroy(struct e1000 *dev)
{
    e1000_tx_free(dev);
    e1000_rx_free(dev);
    pthread_mutex_destroy(&dev->lock);
}

/* ---- register classes for the exit counters ---- */

static enum e1000_reg_class reg_class(uint32_t off)
{
    switch (off) {
    case E1000_CTRL:
    case E1000_STATUS:
    case E1000_CTRL_EXT:
        return E1000_RC_CTRL;
    case E1000_EECD:
    case E1000_EERD:
        return E1000_RC_EEPROM;
    case E1000_MDIC:
        return E1000_RC_MDIC;
    case E1000_ICR:
        return E1000_RC_ICR;
    case E1000_IMS:
    case E1000_IMC:
    case E1000_ICS:
        return E1000_RC_IMASK;
    case E1000_ITR:
        return E1000_RC_ITR;
    case E1000_RCTL:
        return E1000_RC_RCTL;
    case E1000_TCTL:
    case E1000_TIPG:
        return E1000_RC_TCTL;
    case E1000_RDT:
        return E1000_RC_RDT;
    case E1000_TDT:
        return E1000_RC_TDT;
    case E1000_RDBAL:
    case E1000_RDBAH:
    case E1000_RDLEN:
    case E1000_RDH:
    case E1000_RXDCTL:
    case E1000_TDBAL:
    case E1000_TDBAH:
    case E1000_TDLEN:
    case E1000_TDH:
    case E1000_TXDCTL:
        return E1000_RC_RING;
    case E1000_RDTR:
    case E1000_RADV:
    case E1000_TIDV:
    case E1000_TADV:
        return E1000_RC_DELAY;
    case E1000_RXCSUM:
        return E1000_RC_FILTER;
    case E1000_CSBAL:
    case E1000_CSBAH:
        return E1000_RC_CSB;
    }
    if (off >= E1000_STATS_BASE && off < E1000_STATS_END)
        return E1000_RC_STATS;
    if ((off >= E1000_MTA && off < E1000_MTA + 4 * E1000_MTA_WORDS) ||
        (off >= E1000_RA && off < E1000_RA + 8 * E1000_RA_ENTRIES) ||
        (off >= E1000_VFTA && off < E1000_VFTA + 4 * E1000_VFTA_WORDS))
        return E1000_RC_FILTER;
    return E1000_RC_OTHER;
}

/* Registers that simply hold what the guest writes (masked where the
 * hardware has fewer bits). Returns false for unimplemented offsets. */
static bool storage_mask(uint32_t off, uint32_t *mask)
{
    switch (off) {
    case E1000_CTRL_EXT:
    case E1000_FLA:
    case E1000_FCAL:
    case E1000_FCT:
    case E1000_TXCW:
    case E1000_RXCW:
    case E1000_TIPG:
    case E1000_LEDCTL:
    case E1000_PBA:
    case E1000_FCRTL:
    case E1000_FCRTH:
    case E1000_RXDCTL:
    case E1000_TXDCTL:
    case E1000_RSRPD:
    case E1000_RXCSUM:
    case E1000_WUC:
    case E1000_WUFC:
    case E1000_MANC:
    case E1000_RCTL:
    case E1000_TCTL:
    case E1000_RDBAH:
    case E1000_TDBAH:
        *mask = 0xFFFFFFFFu;
        return true;
    case E1000_FCAH:
    case E1000_VET:
    case E1000_FCTTV:
    case E1000_ITR:
    case E1000_RDH:
    case E1000_TDH:
    case E1000_RDT:
    case E1000_TDT:
    case E1000_RADV:
    case E1000_TIDV:
    case E1000_TADV:
        *mask = 0xFFFFu;
        return true;
    case E1000_RDTR:
        *mask = 0xFFFFu; /* bit 31 (FPD) acts, never stored */
        return true;
    case E1000_RDBAL:
    case E1000_TDBAL:
        *mask = 0xFFFFFFF0u;
        return true;
    case E1000_RDLEN:
    case E1000_TDLEN:
        *mask = 0x000FFF80u; /* multiple of 128 bytes, up to 1 MiB */
        return true;
    }
    if ((off >= E1000_MTA && off < E1000_MTA + 4 * E1000_MTA_WORDS) ||
        (off >= E1000_RA && off < E1000_RA + 8 * E1000_RA_ENTRIES) ||
        (off >= E1000_VFTA && off < E1000_VFTA + 4 * E1000_VFTA_WORDS)) {
        *mask = 0xFFFFFFFFu;
        return true;
    }
    return false;
}

static uint32_t status_value(struct e1000 *dev)
{
    (void)dev;
    return E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000;
}

static uint32_t stats_read(struct e1000 *dev, uint32_t off)
{
    uint64_t *wide = NULL;
    switch (off & ~4u) {
    case E1000_GORCL:
        wide = &dev->gorc;
        break;
    case E1000_GOTCL:
        wide = &dev->gotc;
        break;
    case E1000_TORL:
        wide = &dev->tor;
        break;
    case E1000_TOTL:
        wide = &dev->tot;
        break;
    }
    if (wide) {
        /* Low dword first; reading the high dword clears the pair. */
        if (!(off & 4))
            return (uint32_t)*wide;
        uint32_t hi = (uint32_t)(*wide >> 32);
        *wide = 0;
        return hi;
    }
    uint32_t v = R(dev, off);
    R(dev, off) = 0; /* clear on read */
    return v;
}

static uint32_t reg_read(struct e1000 *dev, uint32_t off)
{
    uint32_t mask;
    switch (off) {
    case E1000_CTRL:
        return R(dev, E1000_CTRL);
    case E1000_STATUS:
        return status_value(dev);
    case E1000_EECD:
        return e1000_eecd_read(dev);
    case E1000_EERD:
    case E1000_MDIC:
    case E1000_IMS:
        return R(dev, off);
    case E1000_ICR: {
        uint32_t v = R(dev, E1000_ICR);
        R(dev, E1000_ICR) = 0; /* read to clear */
        e1000_update_irq(dev);
        return v;
    }
    case E1000_ICS:
    case E1000_IMC:
        return 0; /* write-only */
    case E1000_CSBAL:
    case E1000_CSBAH:
        if (dev->cfg.csb)
            return e1000_csb_reg_read(dev, off);
        break;
    }
    if (off >= E1000_STATS_BASE && off < E1000_STATS_END)
        return stats_read(dev, off);
    if (storage_mask(off, &mask))
        return R(dev, off);
    e1000_guest_error(dev, E1000_GERR_UNKNOWN_REG);
    return 0;
}

static void reg_write(struct e1000 *dev, uint32_t off, uint32_t val)
{
    uint32_t mask;
    switch (off) {
    case E1000_CTRL:
        if (val & E1000_CTRL_RST) {
            dev->stats.resets++;
            e1000_reset_locked(dev);
            return;
        }
        if (val & E1000_CTRL_PHY_RST)
            e1000_phy_reset(dev);
        R(dev, E1000_CTRL) = val & ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST);
        return;
    case E1000_STATUS:
        return; /* read-only */
    case E1000_EECD:
        e1000_eecd_write(dev, val);
        return;
    case E1000_EERD:
        e1000_eerd_write(dev, val);
        return;
    case E1000_MDIC:
        e1000_mdic_write(dev, val);
        return;
    case E1000_ICR:
        R(dev, E1000_ICR) &= ~val; /* write 1 to clear */
        e1000_update_irq(dev);
        return;
    case E1000_ICS:
        e1000_set_cause(dev, val & E1000_ICR_VALID);
        return;
    case E1000_IMS:
        R(dev, E1000_IMS) |= val & E1000_ICR_VALID;
        e1000_update_irq(dev);
        return;
    case E1000_IMC:
        R(dev, E1000_IMS) &= ~val;
        e1000_update_irq(dev);
        return;
    case E1000_RDTR:
        R(dev, E1000_RDTR) = val & 0xFFFF;
        if (val & 0x80000000u && (dev->t.rdtr || dev->t.radv)) {
            /* Flush Partial Descriptor: fire the pending receive interrupt now. */
            dev->t.rdtr = dev->t.radv = 0;
            e1000_post_cause(dev, E1000_ICR_RXT0);
        }
        return;
    case E1000_CSBAL:
    case E1000_CSBAH:
        if (dev->cfg.csb) {
            e1000_csb_reg_write(dev, off, val);
            return;
        }
        break;
    case E1000_TDT:
    case E1000_RDT:
        if (dev->csb.enabled) { /* a kick (docs/csb.md) */
            e1000_csb_kick(dev, off, val);
            return;
        }
        break;
    }
    if (off >= E1000_STATS_BASE && off < E1000_STATS_END)
        return; /* read-only */
    if (!storage_mask(off, &mask)) {
        e1000_guest_error(dev, E1000_GERR_UNKNOWN_REG);
        return;
    }
    uint32_t old = R(dev, off);
    R(dev, off) = val & mask;
    switch (off) {
    case E1000_TDT:
        dev->stats.tdt_writes++;
        e1000_tx_run(dev);
        break;
    case E1000_TCTL:
        if ((val & E1000_TCTL_EN) && !(old & E1000_TCTL_EN))
            e1000_tx_run(dev);
        break;
    case E1000_RDT:
        dev->stats.rdt_writes++;
        if (e1000_rx_poll_locked(dev))
            dev->rx_last_pull_ns = e1000_now_locked(dev); /* a productive pull */
        break;
    case E1000_RCTL:
        if ((val & E1000_RCTL_EN) && !(old & E1000_RCTL_EN))
            e1000_rx_poll_locked(dev);
        break;
    case E1000_ITR:
        /* A shorter interval may let a held-back interrupt out now. */
        if (dev->t.itr_pending)
            e1000_update_irq(dev);
        break;
    }
}

/* Common entry: lock, re-entry guard, lazy timers. */
bool e1000_enter(struct e1000 *dev)
{
    pthread_mutex_lock(&dev->lock);
    if (dev->depth > 0) {
        e1000_guest_error(dev, E1000_GERR_REENTRY);
        pthread_mutex_unlock(&dev->lock);
        return false;
    }
    uint64_t dl = e1000_next_deadline_locked(dev);
    if (dl != UINT64_MAX) {
        uint64_t now = e1000_now_locked(dev);
        if (now >= dl)
            e1000_run_timers(dev, now);
    }
    return true;
}

void e1000_leave(struct e1000 *dev)
{
    if (dev->cfg.deadline_changed) {
        uint64_t d = e1000_next_deadline_locked(dev);
        if (d != dev->reported_deadline) {
            dev->reported_deadline = d;
            if (d != UINT64_MAX)
                dev->cfg.deadline_changed(dev->cfg.deadline_opaque, d);
        }
    }
    pthread_mutex_unlock(&dev->lock);
}

static bool access_ok(struct e1000 *dev, uint64_t offset, uint32_t len, uint64_t size)
{
    if ((len != 4 && len != 8) || (offset & 3) || offset >= size || len > size - offset) {
        e1000_guest_error(dev, E1000_GERR_ACCESS);
        return false;
    }
    return true;
}

void e1000_mmio_read(struct e1000 *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
    memset(data, 0, len);
    if (!e1000_enter(dev))
        return;
    if (access_ok(dev, offset, len, E1000_MMIO_SIZE)) {
        for (uint32_t i = 0; i < len; i += 4) {
            uint32_t off = (uint32_t)offset + i;
            dev->stats.exits_read[reg_class(off)]++;
            uint32_t v = reg_read(dev, off);
            data[i] = (uint8_t)v;
            data[i + 1] = (uint8_t)(v >> 8);
            data[i + 2] = (uint8_t)(v >> 16);
            data[i + 3] = (uint8_t)(v >> 24);
        }
    }
    e1000_leave(dev);
}

void e1000_mmio_write(struct e1000 *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
    if (!e1000_enter(dev))
        return;
    if (access_ok(dev, offset, len, E1000_MMIO_SIZE)) {
        for (uint32_t i = 0; i < len; i += 4) {
            uint32_t off = (uint32_t)offset + i;
            dev->stats.exits_write[reg_class(off)]++;
            reg_write(dev, off, e1000_le32(data + i));
        }
    }
    e1000_leave(dev);
}

/* BAR1: IOADDR selects a register, IODATA accesses it. */
void e1000_io_read(struct e1000 *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
    memset(data, 0, len);
    if (len != 4 || (offset != E1000_IOADDR && offset != E1000_IODATA)) {
        pthread_mutex_lock(&dev->lock);
        e1000_guest_error(dev, E1000_GERR_ACCESS);
        pthread_mutex_unlock(&dev->lock);
        return;
    }
    if (offset == E1000_IOADDR) {
        pthread_mutex_lock(&dev->lock);
        uint32_t v = dev->ioaddr;
        pthread_mutex_unlock(&dev->lock);
        memcpy(data, &v, 4);
        return;
    }
    uint32_t a = __atomic_load_n(&dev->ioaddr, __ATOMIC_RELAXED);
    e1000_mmio_read(dev, a, data, 4);
}

void e1000_io_write(struct e1000 *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
    if (len != 4 || (offset != E1000_IOADDR && offset != E1000_IODATA)) {
        pthread_mutex_lock(&dev->lock);
        e1000_guest_error(dev, E1000_GERR_ACCESS);
        pthread_mutex_unlock(&dev->lock);
        return;
    }
    if (offset == E1000_IOADDR) {
        pthread_mutex_lock(&dev->lock);
        uint32_t a = e1000_le32(data);
        if (a >= E1000_MMIO_SIZE)
            e1000_guest_error(dev, E1000_GERR_IO_ADDR);
        dev->ioaddr = a & (E1000_MMIO_SIZE - 1) & ~3u;
        pthread_mutex_unlock(&dev->lock);
        return;
    }
    uint32_t a = __atomic_load_n(&dev->ioaddr, __ATOMIC_RELAXED);
    e1000_mmio_write(dev, a, data, 4);
}

uint32_t e1000_reg_read(struct e1000 *dev, uint32_t offset)
{
    uint8_t b[4];
    e1000_mmio_read(dev, offset, b, 4);
    return e1000_le32(b);
}

void e1000_reg_write(struct e1000 *dev, uint32_t offset, uint32_t value)
{
    uint8_t b[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                    (uint8_t)(value >> 24)};
    e1000_mmio_write(dev, offset, b, 4);
}

unsigned e1000_rx_poll(struct e1000 *dev)
{
    if (!e1000_enter(dev))
        return 0;
    unsigned n = e1000_rx_poll_locked(dev);
    e1000_leave(dev);
    return n;
}

uint64_t e1000_rx_arrived(struct e1000 *dev)
{
    if (!e1000_enter(dev))
        return E1000_RX_NODESC_RETRY_NS;
    uint64_t retry = 0, now = e1000_now_locked(dev);
    uint64_t since = now - dev->rx_last_pull_ns;
    /* With the CSB the pulls are the I/O thread's: once it sleeps (it waits
     * on its doorbell, not on the backend) nobody else would take them. */
    bool puller_awake = !dev->csb.enabled || !dev->csb.sleeping;
    if (puller_awake && dev->rx_last_pull_ns && since < E1000_RX_PULL_GRACE_NS) {
        retry = E1000_RX_PULL_GRACE_NS - since; /* the guest polls: its next pull takes them */
        dev->stats.rx_arrivals_deferred++;
    } else {
        e1000_rx_poll_locked(dev);
        if (dev->rx_taken >= E1000_RX_POLL_BUDGET)
            retry = 1; /* more may wait: again at once, after the lock was released */
        else if (dev->backend && net_rx_pending(dev->backend)) {
            /* No room: the guest's next RDT write pulls them (with the CSB:
             * its refill kicks the sleeping CSB thread, armed here). A
             * receiver not even set up is looked at rarely. */
            if (e1000_csb_rx_kick_arm(dev))
                retry = 1;
            else
                retry = (R(dev, E1000_RCTL) & E1000_RCTL_EN) && R(dev, E1000_RDLEN)
                            ? E1000_RX_NODESC_RETRY_NS
                            : E1000_RX_OFF_RETRY_NS;
        }
    }
    e1000_leave(dev);
    return retry;
}

uint64_t e1000_next_deadline_ns(struct e1000 *dev)
{
    pthread_mutex_lock(&dev->lock);
    uint64_t d = e1000_next_deadline_locked(dev);
    pthread_mutex_unlock(&dev->lock);
    return d;
}

void e1000_timer_expired(struct e1000 *dev, uint64_t now_ns)
{
    pthread_mutex_lock(&dev->lock);
    if (dev->depth == 0)
        e1000_run_timers(dev, now_ns);
    pthread_mutex_unlock(&dev->lock);
}

int e1000_irq_level(struct e1000 *dev)
{
    pthread_mutex_lock(&dev->lock);
    int l = dev->irq_level;
    pthread_mutex_unlock(&dev->lock);
    return l;
}

/* ---- counters ---- */

void e1000_set_irq_gsi(struct e1000 *dev, unsigned gsi)
{
    pthread_mutex_lock(&dev->lock);
    dev->irq.gsi = gsi;
    pthread_mutex_unlock(&dev->lock);
}

void e1000_set_irq_pulse(struct e1000 *dev, void (*pulse)(void *opaque, unsigned gsi), void *opaque)
{
    pthread_mutex_lock(&dev->lock);
    dev->irq.pulse = pulse;
    dev->irq.pulse_opaque = opaque;
    pthread_mutex_unlock(&dev->lock);
}

void e1000_set_csb_hook(struct e1000 *dev, void (*csb_changed)(void *opaque, bool enabled),
                        void *opaque)
{
    pthread_mutex_lock(&dev->lock);
    dev->cfg.csb_changed = csb_changed;
    dev->cfg.csb_opaque = opaque;
    pthread_mutex_unlock(&dev->lock);
}

void e1000_get_stats(struct e1000 *dev, struct e1000_stats *out)
{
    pthread_mutex_lock(&dev->lock);
    *out = dev->stats;
    pthread_mutex_unlock(&dev->lock);
}

static const char *const rc_names[E1000_RC_COUNT] = {
    "ctrl", "eeprom", "mdic", "icr",   "imask",  "itr",   "rctl",  "tctl",
    "rdt",  "tdt",    "ring", "delay", "filter", "stats", "other", "csb",
};
static const char *const drop_names[E1000_DROP_COUNT] = {
    "tx_backend",  "tx_oversize", "tx_empty",    "tx_bad", "rx_no_desc",
    "rx_oversize", "rx_filter",   "rx_disabled", "rx_dma",
};
static const char *const gerr_names[E1000_GERR_COUNT] = {
    "ring_index", "ring_len", "desc_dma", "buf_dma",    "tso",         "csum",     "mixed_desc",
    "access",     "io_addr",  "reentry",  "work_bound", "unknown_reg", "csb_addr", "csb_index",
};

const char *e1000_reg_class_name(enum e1000_reg_class c)
{
    return (unsigned)c < E1000_RC_COUNT ? rc_names[c] : "?";
}
const char *e1000_drop_name(enum e1000_drop d)
{
    return (unsigned)d < E1000_DROP_COUNT ? drop_names[d] : "?";
}
const char *e1000_guest_error_name(enum e1000_guest_error e)
{
    return (unsigned)e < E1000_GERR_COUNT ? gerr_names[e] : "?";
}

void e1000_print_stats(struct e1000 *dev, const char *name, FILE *out)
{
    struct e1000_stats s;
    e1000_get_stats(dev, &s);
    fprintf(out,
            "%s: tx_frames=%llu tx_bytes=%llu tx_batches=%llu tso_segs=%llu "
            "rx_frames=%llu rx_bytes=%llu tdt_writes=%llu rdt_writes=%llu "
            "irqs=%llu irqs_suppressed=%llu itr_deferrals=%llu\n",
            name, (unsigned long long)s.tx_frames, (unsigned long long)s.tx_bytes,
            (unsigned long long)s.tx_batches, (unsigned long long)s.tx_tso_segments,
            (unsigned long long)s.rx_frames, (unsigned long long)s.rx_bytes,
            (unsigned long long)s.tdt_writes, (unsigned long long)s.rdt_writes,
            (unsigned long long)s.irqs_raised, (unsigned long long)s.irqs_suppressed,
            (unsigned long long)s.itr_deferrals);
    if (s.csb_enables)
        fprintf(out,
                "%s: csb enables=%llu disables=%llu tx_kicks=%llu rx_kicks=%llu doorbells=%llu "
                "sleeps=%llu sleep_aborts=%llu irqs_suppressed=%llu\n",
                name, (unsigned long long)s.csb_enables, (unsigned long long)s.csb_disables,
                (unsigned long long)s.csb_tx_kicks, (unsigned long long)s.csb_rx_kicks,
                (unsigned long long)s.csb_doorbells, (unsigned long long)s.csb_sleeps,
                (unsigned long long)s.csb_sleep_aborts, (unsigned long long)s.csb_irqs_suppressed);
    fprintf(out, "%s: exits", name);
    for (int i = 0; i < E1000_RC_COUNT; i++)
        if (s.exits_read[i] || s.exits_write[i])
            fprintf(out, " %s=%llu/%llu", rc_names[i], (unsigned long long)s.exits_read[i],
                    (unsigned long long)s.exits_write[i]);
    fprintf(out, " (read/write)\n%s: drops", name);
    for (int i = 0; i < E1000_DROP_COUNT; i++)
        if (s.drops[i])
            fprintf(out, " %s=%llu", drop_names[i], (unsigned long long)s.drops[i]);
    fprintf(out, "\n%s: guest_errors", name);
    for (int i = 0; i < E1000_GERR_COUNT; i++)
        if (s.guest_errors[i])
            fprintf(out, " %s=%llu", gerr_names[i], (unsigned long long)s.guest_errors[i]);
    fprintf(out, "\n");
}
