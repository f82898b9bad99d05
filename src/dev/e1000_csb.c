/* e1000 model: the CSB paravirtual extension (docs/csb.md).
 *
 * The guest enables a 4 KiB Communication Status Block in its RAM through
 * CSBAL/CSBAH. While it is on:
 *   - the TX tail is guest_tdt and the RX tail guest_rdt (read from the page,
 *     validated: an index >= ring size is a guest error and is ignored);
 *   - the device publishes host_tdh / host_rdh after its write-backs;
 *   - TDT/RDT writes are kicks: the value is recorded as the tail (if valid)
 *     and the CSB I/O thread is woken (or, with no thread, the ring is served
 *     right here, inside the exit);
 *   - TX/RX interrupt causes are posted only if the guest asked for them
 *     (guest_need_txintr / guest_need_rxintr), read after a full barrier that
 *     follows the index publication: the producer half of the race-free
 *     protocol. Moderation (ITR, delays) still applies to what is posted.
 * The sleeper half is e1000_csb_prepare_sleep().
 *
 * Only the page pointer taken at enable time (checked to lie in guest RAM,
 * re-taken on every enable, dropped on disable and reset) is used, always
 * under the device lock, and only for the eight 32-bit fields below: a
 * hostile guest can make the fields say anything, never make the device
 * touch anything else. All shared loads/stores are __atomic (the guest runs
 * concurrently on another CPU). */
#include <stddef.h>
#include <unistd.h>

#include "dev/e1000_internal.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the CSB fields are little-endian u32 accessed natively"
#endif

/* Field offsets in the page: the one layout, vpio/e1000_csb.h. */
enum {
    CSB_GUEST_TDT = offsetof(struct e1000_csb, guest_tdt),
    CSB_GUEST_RDT = offsetof(struct e1000_csb, guest_rdt),
    CSB_GUEST_NEED_TXINTR = offsetof(struct e1000_csb, guest_need_txintr),
    CSB_GUEST_NEED_RXINTR = offsetof(struct e1000_csb, guest_need_rxintr),
    CSB_HOST_TDH = offsetof(struct e1000_csb, host_tdh),
    CSB_HOST_RDH = offsetof(struct e1000_csb, host_rdh),
    CSB_HOST_NEED_TXKICK = offsetof(struct e1000_csb, host_need_txkick),
    CSB_HOST_NEED_RXKICK = offsetof(struct e1000_csb, host_need_rxkick),
    CSB_PAGE = E1000_CSB_PAGE_SIZE,
};

#define TX_CAUSES (E1000_ICR_TXDW | E1000_ICR_TXQE)
#define RX_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO)

static inline uint32_t *field(struct e1000 *dev, unsigned off)
{
    return (uint32_t *)(void *)(dev->csb.page + off);
}
static inline uint32_t load_acq(struct e1000 *dev, unsigned off)
{
    return __atomic_load_n(field(dev, off), __ATOMIC_ACQUIRE);
}
static inline void store_rel(struct e1000 *dev, unsigned off, uint32_t v)
{
    __atomic_store_n(field(dev, off), v, __ATOMIC_RELEASE);
}
static inline void full_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void doorbell(struct e1000 *dev)
{
    if (dev->csb.doorbell_fd < 0)
        return;
    uint64_t one = 1;
    ssize_t r = write(dev->csb.doorbell_fd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is already non-zero, the thread will wake */
    dev->stats.csb_doorbells++;
}

/* A new "asleep" value for the need-kick flags: never 0, different from the
 * previous one, so a guest that has kicked for a value knows that a second
 * kick for the same value is not needed (docs/csb.md). */
static uint32_t next_sleep_value(struct e1000 *dev)
{
    if (++dev->csb.sleep_seq == 0)
        dev->csb.sleep_seq = 1;
    return dev->csb.sleep_seq;
}

/* Need-kick flags while nobody sleeps: set (a new value) without an I/O
 * thread, since every publication must reach the model through a register
 * write; 0 with one. */
static void set_awake_flags(struct e1000 *dev)
{
    uint32_t v = dev->csb.doorbell_fd < 0 ? next_sleep_value(dev) : 0;
    store_rel(dev, CSB_HOST_NEED_TXKICK, v);
    store_rel(dev, CSB_HOST_NEED_RXKICK, v);
    dev->csb.sleeping = false;
}

static void csb_disable(struct e1000 *dev)
{
    bool was = dev->csb.enabled;
    if (was)
        dev->stats.csb_disables++;
    dev->csb.enabled = false;
    dev->csb.edge = false;
    if (was && dev->cfg.csb_changed)
        dev->cfg.csb_changed(dev->cfg.csb_opaque, false);
    dev->csb.page = NULL;
    dev->csb.sleeping = false;
}

void e1000_csb_reset(struct e1000 *dev)
{
    csb_disable(dev);
    dev->csb.csbal = dev->csb.csbah = 0;
}

bool e1000_csb_enabled(struct e1000 *dev)
{
    pthread_mutex_lock(&dev->lock);
    bool on = dev->csb.enabled;
    pthread_mutex_unlock(&dev->lock);
    return on;
}

uint32_t e1000_csb_reg_read(struct e1000 *dev, uint32_t off)
{
    return off == E1000_CSBAL ? dev->csb.csbal : dev->csb.csbah;
}

void e1000_csb_reg_write(struct e1000 *dev, uint32_t off, uint32_t val)
{
    if (off == E1000_CSBAH) {
        dev->csb.csbah = val; /* takes effect at the next CSBAL write */
        return;
    }
    uint64_t gpa = ((uint64_t)dev->csb.csbah << 32) | (val & ~0xFFFu);
    csb_disable(dev);
    dev->csb.csbal = val & ~0xFFFu; /* enable bit clear unless accepted below */
    if (!(val & E1000_CSBAL_ENABLE))
        return;
    uint8_t *page = guest_mem_ptr(dev->mem, gpa, CSB_PAGE);
    if (!page) {
        e1000_guest_error(dev, E1000_GERR_CSB_ADDR);
        return;
    }
    dev->csb.page = page;
    dev->csb.enabled = true;
    dev->csb.csbal |= E1000_CSBAL_ENABLE;
    if (val & E1000_CSBAL_EDGE) { /* granted: read back with bit 1 */
        dev->csb.edge = true;
        dev->csb.csbal |= E1000_CSBAL_EDGE;
        e1000_update_irq(dev); /* a level the line held becomes an edge */
    }
    dev->stats.csb_enables++;
    /* The guest initialised its half (tails = TDT/RDT); take them as seen. */
    dev->csb.tx_seen = R(dev, E1000_TDT);
    dev->csb.rx_seen = R(dev, E1000_RDT);
    store_rel(dev, CSB_HOST_TDH, R(dev, E1000_TDH));
    store_rel(dev, CSB_HOST_RDH, R(dev, E1000_RDH));
    /* Asleep until the I/O thread looks: the first packet each way is announced. */
    uint32_t v = next_sleep_value(dev);
    store_rel(dev, CSB_HOST_NEED_TXKICK, v);
    store_rel(dev, CSB_HOST_NEED_RXKICK, v);
    full_fence();
    if (dev->cfg.csb_changed)
        dev->cfg.csb_changed(dev->cfg.csb_opaque, true);
    doorbell(dev); /* let the I/O thread start serving (and clear the flags) */
}

static uint32_t ring_size(struct e1000 *dev, uint32_t len_reg)
{
    return R(dev, len_reg) / E1000_DESC_SIZE;
}

/* The tail from the CSB, if it changed since the last look and is valid. */
static void sync_tail(struct e1000 *dev, unsigned field_off, uint32_t *seen, uint32_t len_reg,
                      uint32_t tail_reg)
{
    uint32_t t = load_acq(dev, field_off);
    if (t == *seen)
        return;
    *seen = t;
    if (t < ring_size(dev, len_reg))
        R(dev, tail_reg) = t;
    else
        e1000_guest_error(dev, E1000_GERR_CSB_INDEX); /* ignored, counted once per value */
}

void e1000_csb_tx_sync(struct e1000 *dev)
{
    sync_tail(dev, CSB_GUEST_TDT, &dev->csb.tx_seen, E1000_TDLEN, E1000_TDT);
}

void e1000_csb_rx_sync(struct e1000 *dev)
{
    sync_tail(dev, CSB_GUEST_RDT, &dev->csb.rx_seen, E1000_RDLEN, E1000_RDT);
}

void e1000_csb_tx_publish(struct e1000 *dev)
{
    store_rel(dev, CSB_HOST_TDH, R(dev, E1000_TDH));
}

void e1000_csb_rx_publish(struct e1000 *dev)
{
    store_rel(dev, CSB_HOST_RDH, R(dev, E1000_RDH));
}

uint32_t e1000_csb_filter(struct e1000 *dev, uint32_t cause)
{
    if (!dev->csb.enabled || !(cause & (TX_CAUSES | RX_CAUSES)))
        return cause;
    full_fence(); /* index published (store) before the flag is read (load) */
    if ((cause & TX_CAUSES) && !load_acq(dev, CSB_GUEST_NEED_TXINTR)) {
        cause &= ~(uint32_t)TX_CAUSES;
        dev->stats.csb_irqs_suppressed++;
    }
    if ((cause & RX_CAUSES) && !load_acq(dev, CSB_GUEST_NEED_RXINTR)) {
        cause &= ~(uint32_t)RX_CAUSES;
        dev->stats.csb_irqs_suppressed++;
    }
    return cause;
}

void e1000_csb_kick(struct e1000 *dev, uint32_t off, uint32_t val)
{
    bool tx = off == E1000_TDT;
    if (tx) {
        dev->stats.tdt_writes++;
        dev->stats.csb_tx_kicks++;
    } else {
        dev->stats.rdt_writes++;
        dev->stats.csb_rx_kicks++;
    }
    val &= 0xFFFF;
    if (val < ring_size(dev, tx ? E1000_TDLEN : E1000_RDLEN))
        R(dev, off) = val; /* the value is a tail too (guest_tdt/rdt win when they change) */
    else
        e1000_guest_error(dev, E1000_GERR_RING_INDEX);
    if (dev->csb.doorbell_fd >= 0) {
        doorbell(dev);
        return;
    }
    /* No I/O thread: serve inside the exit, as a plain e1000 would, and
     * raise the flags with a new value (the next publication kicks again). */
    if (tx)
        e1000_tx_run(dev);
    else
        e1000_rx_poll_locked(dev);
    set_awake_flags(dev);
}

unsigned e1000_csb_tx_serve(struct e1000 *dev)
{
    if (!e1000_enter(dev))
        return 0;
    unsigned n = 0;
    if (dev->csb.enabled) {
        uint64_t before = dev->stats.tx_descs;
        e1000_tx_run(dev);
        n = (unsigned)(dev->stats.tx_descs - before);
        if (dev->tx_pending && n == 0)
            n = 1;
    }
    e1000_leave(dev);
    return n;
}

unsigned e1000_csb_rx_serve(struct e1000 *dev)
{
    if (!e1000_enter(dev))
        return 0;
    unsigned n = 0;
    if (dev->csb.enabled) {
        if (e1000_rx_poll_locked(dev))
            dev->rx_last_pull_ns =
                e1000_now_locked(dev); /* the thread polls: see e1000_rx_arrived */
        n = dev->rx_taken;
    }
    e1000_leave(dev);
    return n;
}

bool e1000_csb_prepare_sleep(struct e1000 *dev)
{
    pthread_mutex_lock(&dev->lock);
    bool sleep = true;
    if (!dev->csb.enabled)
        goto out;
    if (dev->tx_pending) { /* a pass stopped at its work bound */
        sleep = false;
        goto out;
    }
    /* frames wait for buffers: in the backlog, or in a backend that holds them
     * (a backend that calls back into the device, against backend.h, is
     * refused as re-entry: it must not disable the CSB under our feet) */
    dev->depth++;
    bool rx_blocked = dev->backlog_n > 0 || (dev->backend && net_rx_pending(dev->backend));
    dev->depth--;
    uint32_t v = next_sleep_value(dev);
    store_rel(dev, CSB_HOST_NEED_TXKICK, v);
    store_rel(dev, CSB_HOST_NEED_RXKICK, rx_blocked ? v : 0);
    full_fence(); /* flags visible before the indices are re-read */
    bool work = load_acq(dev, CSB_GUEST_TDT) != dev->csb.tx_seen ||
                (rx_blocked && load_acq(dev, CSB_GUEST_RDT) != dev->csb.rx_seen);
    if (work) {
        store_rel(dev, CSB_HOST_NEED_TXKICK, 0);
        store_rel(dev, CSB_HOST_NEED_RXKICK, 0);
        dev->stats.csb_sleep_aborts++;
        sleep = false;
    } else {
        dev->csb.sleeping = true;
        dev->stats.csb_sleeps++;
    }
out:
    pthread_mutex_unlock(&dev->lock);
    return sleep;
}

bool e1000_csb_rx_kick_arm(struct e1000 *dev)
{
    if (!dev->csb.enabled || !dev->csb.sleeping)
        return false; /* an awake thread arms it itself before it sleeps */
    store_rel(dev, CSB_HOST_NEED_RXKICK, next_sleep_value(dev));
    full_fence(); /* the flag visible before guest_rdt is re-read */
    if (load_acq(dev, CSB_GUEST_RDT) == dev->csb.rx_seen) {
        dev->stats.csb_rx_kick_arms++;
        return false;
    }
    store_rel(dev, CSB_HOST_NEED_RXKICK, 0); /* buffers came meanwhile: no kick needed */
    return true;
}

void e1000_csb_wake(struct e1000 *dev)
{
    pthread_mutex_lock(&dev->lock);
    if (dev->csb.enabled)
        set_awake_flags(dev);
    pthread_mutex_unlock(&dev->lock);
}

void e1000_csb_attach(struct e1000 *dev, int doorbell_fd)
{
    pthread_mutex_lock(&dev->lock);
    dev->csb.doorbell_fd = doorbell_fd;
    if (dev->csb.enabled) {
        /* With a thread the flags say "awake" until it sleeps; without one
         * they stay 1 so that every publication kicks. */
        set_awake_flags(dev);
        full_fence();
        if (doorbell_fd < 0 && dev->depth == 0) {
            /* The thread is gone: serve what was published without a kick. */
            e1000_tx_run(dev);
            e1000_rx_poll_locked(dev);
        }
    }
    pthread_mutex_unlock(&dev->lock);
}
