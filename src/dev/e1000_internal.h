/* Shared between the e1000 model's files; not part of the public API.
 * Every function here expects the device lock held. */
#ifndef VPIO_E1000_INTERNAL_H
#define VPIO_E1000_INTERNAL_H

#include "dev/e1000.h"

#define R(dev, off) ((dev)->regs[(off) >> 2])

static inline uint16_t e1000_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t e1000_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t e1000_le64(const uint8_t *p)
{
    return (uint64_t)e1000_le32(p) | ((uint64_t)e1000_le32(p + 4) << 32);
}
static inline void e1000_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t e1000_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline void e1000_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline uint32_t e1000_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void e1000_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void e1000_guest_error(struct e1000 *dev, enum e1000_guest_error e)
{
    dev->stats.guest_errors[e]++;
}
static inline void e1000_drop(struct e1000 *dev, enum e1000_drop d)
{
    dev->stats.drops[d]++;
}
/* Bumps a 32-bit statistics register (saturating, as the hardware does). */
static inline void e1000_stat_inc(struct e1000 *dev, uint32_t off)
{
    if (R(dev, off) != UINT32_MAX)
        R(dev, off)++;
}

/* e1000.c */
void e1000_reset_locked(struct e1000 *dev);
uint64_t e1000_now_locked(struct e1000 *dev);

/* e1000_eeprom_phy.c */
void e1000_eeprom_init(struct e1000 *dev);
void e1000_phy_reset(struct e1000 *dev);
void e1000_eecd_write(struct e1000 *dev, uint32_t val);
uint32_t e1000_eecd_read(struct e1000 *dev);
void e1000_eerd_write(struct e1000 *dev, uint32_t val);
void e1000_mdic_write(struct e1000 *dev, uint32_t val);

/* e1000_intr.c: interrupt causes, the INTx line, moderation timers */
void e1000_set_cause(struct e1000 *dev, uint32_t cause);
void e1000_update_irq(struct e1000 *dev);
/* A TX descriptor with RS was written back; returns the causes to post now. */
uint32_t e1000_tx_done_event(struct e1000 *dev, bool ide);
/* A frame was delivered to the guest; returns the causes to post now. */
uint32_t e1000_rx_done_event(struct e1000 *dev);
void e1000_run_timers(struct e1000 *dev, uint64_t now);
uint64_t e1000_next_deadline_locked(struct e1000 *dev);
void e1000_intr_reset(struct e1000 *dev);

/* e1000_tx.c */
int e1000_tx_alloc(struct e1000 *dev);
void e1000_tx_free(struct e1000 *dev);
void e1000_tx_reset(struct e1000 *dev);
void e1000_tx_run(struct e1000 *dev);

/* e1000_rx.c */
int e1000_rx_alloc(struct e1000 *dev);
void e1000_rx_free(struct e1000 *dev);
void e1000_rx_reset(struct e1000 *dev);
unsigned e1000_rx_poll_locked(struct e1000 *dev);

/* e1000.c: the common entry of every public call (lock, re-entry guard,
 * lazy timers) and its exit (deadline report, unlock). */
bool e1000_enter(struct e1000 *dev);
void e1000_leave(struct e1000 *dev);

/* e1000_csb.c: the CSB extension's hooks in the register file and the
 * TX/RX paths. */
void e1000_csb_reset(struct e1000 *dev);
uint32_t e1000_csb_reg_read(struct e1000 *dev, uint32_t off);
void e1000_csb_reg_write(struct e1000 *dev, uint32_t off, uint32_t val);
void e1000_csb_kick(struct e1000 *dev, uint32_t off, uint32_t val); /* TDT/RDT while on */
void e1000_csb_tx_sync(struct e1000 *dev);    /* TDT from guest_tdt (validated) */
void e1000_csb_tx_publish(struct e1000 *dev); /* host_tdh = TDH (release) */
void e1000_csb_rx_sync(struct e1000 *dev);
void e1000_csb_rx_publish(struct e1000 *dev);
/* Frames wait in the backend, the guest ring has no free buffer and the CSB
 * thread sleeps: set host_need_rxkick (full barrier, re-check guest_rdt) so
 * that the guest's next refill kicks the thread, which then delivers them.
 * True if guest_rdt moved meanwhile (deliver again now, no kick will come). */
bool e1000_csb_rx_kick_arm(struct e1000 *dev);
/* Drops the TX/RX causes the guest did not ask for (guest_need_*intr 0);
 * a full barrier first (the index was published before). */
uint32_t e1000_csb_filter(struct e1000 *dev, uint32_t cause);
/* e1000_set_cause() for device-generated causes (filtered while the CSB is on). */
static inline void e1000_post_cause(struct e1000 *dev, uint32_t cause)
{
    if (dev->csb.enabled)
        cause = e1000_csb_filter(dev, cause);
    e1000_set_cause(dev, cause);
}

/* Internet checksum helpers (e1000_tx.c). */
uint32_t e1000_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t e1000_csum_fold(uint32_t sum);

#endif
