/* e1000 model: interrupt causes, the INTx line and interrupt moderation.
 *
 * ICR holds the pending causes; the line is asserted while ICR & IMS != 0
 * (level-triggered INTx), with two kinds of moderation when the device was
 * created with mitigation on:
 *  - delay timers: a TX descriptor with IDE arms TIDV (re-armed per packet)
 *    and TADV (armed once, absolute); a received frame arms RDTR (per packet)
 *    and RADV (absolute). TXDW / RXT0 is posted when either expires. A zero
 *    TIDV/RDTR posts the cause at once. Units: 1.024 us.
 *  - ITR: consecutive assertions of the line are at least ITR * 256 ns apart;
 *    an assertion due earlier is held back until then (causes still collect).
 * With mitigation off every event posts its cause at once and ITR, TIDV,
 * TADV, RDTR, RADV are ignored: an interrupt per event, the paper's baseline.
 * While the guest has the CSB on with edge interrupts (CSBAL bit 1, see
 * docs/csb.md) an assertion is one edge (irq_pulse: the VMM's irqfd) and
 * the causes it carried are consumed at once (ICR cleared): the guest's
 * interrupt handler needs no ICR read, which is a VM exit.
 * Timers are deadlines read by e1000_next_deadline_ns(); the VMM calls
 * e1000_timer_expired() once they pass (the model also checks them lazily on
 * every register access). */
#include "dev/e1000_internal.h"

#define DELAY_UNIT_NS 1024ull
#define ITR_UNIT_NS 256ull

static void set_line(struct e1000 *dev, int level)
{
    if (dev->irq_level == level)
        return;
    dev->irq_level = level;
    if (level)
        dev->stats.irqs_raised++;
    irq_set_level(&dev->irq, level);
}

void e1000_update_irq(struct e1000 *dev)
{
    if (dev->csb.enabled && dev->csb.edge && dev->irq_level)
        set_line(dev, 0); /* edges from now on: no level stays asserted */
    if (!(R(dev, E1000_ICR) & R(dev, E1000_IMS))) {
        set_line(dev, 0);
        dev->t.itr_pending = false;
        return;
    }
    if (dev->irq_level)
        return;
    uint32_t itr = R(dev, E1000_ITR) & 0xFFFF;
    if (dev->cfg.mitigation && itr) {
        uint64_t now = e1000_now_locked(dev);
        uint64_t due = dev->t.last_irq + itr * ITR_UNIT_NS;
        if (dev->t.have_last_irq && now < due) {
            if (!dev->t.itr_pending) {
                dev->t.itr_pending = true;
                dev->stats.itr_deferrals++;
            }
            dev->stats.irqs_suppressed++;
            dev->t.itr = due;
            return;
        }
        dev->t.last_irq = now;
    } else if (dev->cfg.mitigation) {
        dev->t.last_irq = e1000_now_locked(dev);
    }
    dev->t.have_last_irq = true;
    dev->t.itr_pending = false;
    if (dev->csb.enabled && dev->csb.edge) {
        dev->stats.irqs_raised++;
        R(dev, E1000_ICR) = 0;
        irq_pulse(&dev->irq);
        return;
    }
    set_line(dev, 1);
}

void e1000_set_cause(struct e1000 *dev, uint32_t cause)
{
    if (!cause)
        return;
    R(dev, E1000_ICR) |= cause;
    e1000_update_irq(dev);
}

uint32_t e1000_tx_done_event(struct e1000 *dev, bool ide)
{
    uint32_t tidv = R(dev, E1000_TIDV) & 0xFFFF, tadv = R(dev, E1000_TADV) & 0xFFFF;
    if (!dev->cfg.mitigation || !ide || !tidv)
        return E1000_ICR_TXDW;
    uint64_t now = e1000_now_locked(dev);
    if (dev->t.tidv || dev->t.tadv)
        dev->stats.irqs_suppressed++; /* folded into the pending one */
    dev->t.tidv = now + tidv * DELAY_UNIT_NS;
    if (tadv && !dev->t.tadv)
        dev->t.tadv = now + tadv * DELAY_UNIT_NS;
    return 0;
}

uint32_t e1000_rx_done_event(struct e1000 *dev)
{
    uint32_t rdtr = R(dev, E1000_RDTR) & 0xFFFF, radv = R(dev, E1000_RADV) & 0xFFFF;
    if (!dev->cfg.mitigation || !rdtr)
        return E1000_ICR_RXT0;
    uint64_t now = e1000_now_locked(dev);
    if (dev->t.rdtr || dev->t.radv)
        dev->stats.irqs_suppressed++;
    dev->t.rdtr = now + rdtr * DELAY_UNIT_NS;
    if (radv && !dev->t.radv)
        dev->t.radv = now + radv * DELAY_UNIT_NS;
    return 0;
}

static bool expired(uint64_t deadline, uint64_t now)
{
    return deadline && now >= deadline;
}

void e1000_run_timers(struct e1000 *dev, uint64_t now)
{
    uint32_t cause = 0;
    if (expired(dev->t.tidv, now) || expired(dev->t.tadv, now)) {
        dev->t.tidv = dev->t.tadv = 0;
        cause |= E1000_ICR_TXDW;
    }
    if (expired(dev->t.rdtr, now) || expired(dev->t.radv, now)) {
        dev->t.rdtr = dev->t.radv = 0;
        cause |= E1000_ICR_RXT0;
    }
    if (cause && dev->csb.enabled)
        cause = e1000_csb_filter(dev, cause);
    if (cause)
        R(dev, E1000_ICR) |= cause;
    if (cause || (dev->t.itr_pending && now >= dev->t.itr))
        e1000_update_irq(dev);
    if (dev->tx_pending)
        e1000_tx_run(dev);
}

static uint64_t min_dl(uint64_t a, uint64_t b)
{
    if (!b)
        return a;
    return b < a ? b : a;
}

uint64_t e1000_next_deadline_locked(struct e1000 *dev)
{
    if (dev->tx_pending)
        return 0;
    uint64_t d = UINT64_MAX;
    d = min_dl(d, dev->t.tidv);
    d = min_dl(d, dev->t.tadv);
    d = min_dl(d, dev->t.rdtr);
    d = min_dl(d, dev->t.radv);
    if (dev->t.itr_pending)
        d = min_dl(d, dev->t.itr ? dev->t.itr : 1);
    return d;
}

void e1000_intr_reset(struct e1000 *dev)
{
    dev->t = (struct e1000_timers){0};
    R(dev, E1000_ICR) = 0;
    R(dev, E1000_IMS) = 0;
    set_line(dev, 0);
}
