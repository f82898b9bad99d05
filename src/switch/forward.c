/* Forwarding, in the sender's thread, one batch at a time:
 *  pass 1: validate each frame, learn its source MAC, look up its
 *          destination and append it to that port's list (or the flood list);
 *  pass 2: per destination port: take its RX lock (bounded wait), read and
 *          validate its released index and our published tail, copy the
 *          frames that fit into the free slots, publish the new tail
 *          (release store), unlock, and wake the owner if it sleeps.
 * The copy happens under the destination's lock: the simple scheme that
 * publishes in order with concurrent senders and stays correct when a sender
 * dies mid-copy (nothing is published before the tail store; the next locker
 * takes the lock over and overwrites the unpublished slots). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "switch/sw_internal.h"

#define DST_FLOOD 0xffffu
#define DST_DROP 0xfffeu /* not forwarded: to self */
#define DST_ERR 0xfffdu  /* invalid frame */
#define RX_LOCK_WAIT_US 50000u

static uint32_t pkt_len(const struct vpio_pkt *p)
{
    if (!p->iovcnt)
        return p->len;
    if (!p->iov || p->iovcnt > 64)
        return UINT32_MAX;
    uint64_t n = 0;
    for (uint32_t i = 0; i < p->iovcnt; i++) {
        n += p->iov[i].iov_len;
        if (n > VPIO_SW_MAX_FRAME)
            return UINT32_MAX;
    }
    return (uint32_t)n;
}

/* Copy up to n bytes from offset 0 of the frame (for the header). */
static const uint8_t *pkt_head(const struct vpio_pkt *p, uint8_t *tmp, size_t n)
{
    if (!p->iovcnt)
        return p->data;
    size_t got = 0;
    for (uint32_t i = 0; i < p->iovcnt && got < n; i++) {
        size_t c = p->iov[i].iov_len < n - got ? p->iov[i].iov_len : n - got;
        memcpy(tmp + got, p->iov[i].iov_base, c);
        got += c;
    }
    return tmp;
}

/* Copy frame p (len bytes) into slots from t of port d's RX ring. Returns the
 * index after the last slot. */
static uint32_t copy_frame(struct vpio_port *p, unsigned d, struct vpio_ring *r,
                           const struct vpio_pkt *pk, uint32_t len, uint32_t t)
{
    const struct sw_arena *a = &p->a;
    if (!pk->iovcnt && len <= VPIO_SW_BUF_SIZE) { /* fast path */
        memcpy(sw_buf(a, d, 1, t), pk->data, len);
        struct vpio_slot *s = &r->slot[t];
        s->len = (uint16_t)len;
        s->flags = 0;
        s->buf_idx = (uint32_t)((2u * d + 1) * VPIO_SW_RING_SLOTS + t);
        return vpio_ring_next(t);
    }
    struct iovec one = {(void *)pk->data, len};
    const struct iovec *iov = pk->iovcnt ? pk->iov : &one;
    uint32_t niov = pk->iovcnt ? pk->iovcnt : 1;
    uint32_t vi = 0;
    size_t voff = 0;
    uint32_t left = len;
    do {
        uint8_t *dst = sw_buf(a, d, 1, t);
        uint32_t chunk = left < VPIO_SW_BUF_SIZE ? left : VPIO_SW_BUF_SIZE;
        uint32_t done = 0;
        while (done < chunk && vi < niov) {
            size_t avail = iov[vi].iov_len - voff;
            size_t c = avail < chunk - done ? avail : chunk - done;
            memcpy(dst + done, (const uint8_t *)iov[vi].iov_base + voff, c);
            done += (uint32_t)c;
            voff += c;
            if (voff == iov[vi].iov_len) {
                vi++;
                voff = 0;
            }
        }
        left -= chunk;
        struct vpio_slot *s = &r->slot[t];
        s->len = (uint16_t)chunk;
        s->flags = left ? VPIO_SLOT_MOREFRAG : 0;
        s->buf_idx = (uint32_t)((2u * d + 1) * VPIO_SW_RING_SLOTS + t);
        t = vpio_ring_next(t);
    } while (left);
    return t;
}

static void wake(struct vpio_sw_port *dp)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* One wake per sleep: the sender that clears the flag makes the call
     * (system calls are expensive here; the owner re-arms before sleeping). */
    if (__atomic_load_n(&dp->rx_need_wake, __ATOMIC_RELAXED) &&
        __atomic_exchange_n(&dp->rx_need_wake, 0, __ATOMIC_SEQ_CST)) {
        __atomic_fetch_add(&dp->rx_wake_seq, 1, __ATOMIC_RELEASE);
        syscall(SYS_futex, &dp->rx_wake_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    }
}

/* Deliver the frames listed in ucast (nu) merged with the flood list to d. */
static void deliver(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned d,
                    const uint16_t *ucast, unsigned nu, const uint16_t *fl, unsigned nf)
{
    struct vpio_sw_port *dp = &p->a.ports[d];
    struct vpio_ring *r = sw_ring(&p->a, d, 1);
    unsigned total = nu + nf;
    /* Lock-free pre-check: a full ring (the common case when a sender
     * outruns its receiver) drops without writing any line the receiver
     * reads. Only a hint: rechecked under the lock. */
    uint32_t h0 = __atomic_load_n(&dp->rx_hwcur, __ATOMIC_RELAXED);
    uint32_t t0 = __atomic_load_n(&dp->rx_hwtail, __ATOMIC_RELAXED);
    if (h0 < VPIO_SW_RING_SLOTS && t0 < VPIO_SW_RING_SLOTS &&
        ((h0 + VPIO_SW_RING_SLOTS - 1 - t0) & SW_RING_MASK) == 0) {
        __atomic_fetch_add(&dp->rx_drops, total, __ATOMIC_RELAXED);
        return;
    }
    /* A port whose lock we could not get recently (a live holder that does
     * not let go: hung or hostile) is skipped for a second, so it costs one
     * bounded wait per second, not one per batch. */
    uint64_t now = sw_now_ms();
    if (p->stuck_until_ms[d] && now < p->stuck_until_ms[d]) {
        __atomic_fetch_add(&dp->rx_drops, total, __ATOMIC_RELAXED);
        return;
    }
    if (sw_lock(&dp->rx_lock, RX_LOCK_WAIT_US) < 0) {
        p->stuck_until_ms[d] = now + 1000;
        __atomic_fetch_add(&dp->rx_drops, total, __ATOMIC_RELAXED);
        return;
    }
    p->stuck_until_ms[d] = 0;
    if (__atomic_load_n(&dp->state, __ATOMIC_ACQUIRE) != SW_PORT_ACTIVE) {
        sw_unlock(&dp->rx_lock);
        return; /* detached meanwhile: not delivered, not the port's drop */
    }
    uint32_t head = __atomic_load_n(&dp->rx_hwcur, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&dp->rx_hwtail, __ATOMIC_RELAXED);
    if (head >= VPIO_SW_RING_SLOTS || tail >= VPIO_SW_RING_SLOTS) {
        sw_unlock(&dp->rx_lock);
        __atomic_fetch_add(&dp->rx_errs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&dp->rx_drops, total, __ATOMIC_RELAXED);
        return;
    }
    uint32_t space = (head + VPIO_SW_RING_SLOTS - 1 - tail) & SW_RING_MASK;
    uint64_t bytes = 0;
    unsigned sent = 0, drops = 0, iu = 0, jf = 0;
    while (iu < nu || jf < nf) {
        unsigned i;
        if (jf >= nf || (iu < nu && ucast[iu] < fl[jf]))
            i = ucast[iu++];
        else
            i = fl[jf++];
        uint32_t len = p->len[i];
        uint32_t need = (len + VPIO_SW_BUF_SIZE - 1) / VPIO_SW_BUF_SIZE;
        if (need > space) {
            drops++;
            continue;
        }
        tail = copy_frame(p, d, r, &pkts[i], len, tail);
        space -= need;
        sent++;
        bytes += len;
        p->delivered[i] = 1;
    }
    __atomic_store_n(&dp->rx_hwtail, tail, __ATOMIC_RELEASE);
    sw_unlock(&dp->rx_lock);
    if (sent) {
        __atomic_fetch_add(&dp->rx_pkts, sent, __ATOMIC_RELAXED);
        __atomic_fetch_add(&dp->rx_bytes, bytes, __ATOMIC_RELAXED);
        wake(dp);
    }
    if (drops)
        __atomic_fetch_add(&dp->rx_drops, drops, __ATOMIC_RELAXED);
}

unsigned sw_forward(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned n)
{
    struct sw_arena *a = &p->a;
    uint64_t now = sw_now_ms();
    unsigned self = (unsigned)p->id, errs = 0;
    uint8_t tmp[12];

    if (now - p->last_reap_ms >= 1000) {
        p->last_reap_ms = now;
        sw_reap(a, 1);
    }
    if (n > VPIO_SW_BATCH)
        n = VPIO_SW_BATCH;
    p->nflood = 0;
    uint64_t touched = 0; /* bit d: cnt[d] > 0 */
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = pkt_len(&pkts[i]);
        p->delivered[i] = 0;
        if (len < VPIO_SW_MIN_FRAME || len > VPIO_SW_MAX_FRAME ||
            (!pkts[i].iovcnt && !pkts[i].data)) {
            p->dst[i] = DST_ERR;
            errs++;
            continue;
        }
        p->len[i] = len;
        const uint8_t *h = pkt_head(&pkts[i], tmp, 12);
        uint64_t src = sw_mac48(h + 6), dst = sw_mac48(h);
        if (!(h[6] & 1) && (src != p->last_src_key || now - p->last_learn_ms >= 250)) {
            sw_mac_learn(a, src, self, now);
            p->last_src_key = src;
            p->last_learn_ms = now;
        }
        int d = (h[0] & 1) ? -1 : sw_mac_lookup(a, dst, now);
        if (d < 0) {
            p->dst[i] = DST_FLOOD;
            p->flood[p->nflood++] = (uint16_t)i;
        } else if ((unsigned)d == self) {
            p->dst[i] = DST_DROP;
        } else {
            p->dst[i] = (uint16_t)d;
            if (!(touched >> d & 1)) {
                touched |= 1ull << d;
                p->cnt[d] = 0;
            }
            p->list[d][p->cnt[d]++] = (uint16_t)i;
        }
    }
    for (unsigned d = 0; d < VPIO_SW_MAX_PORTS; d++) {
        unsigned nu = (touched >> d & 1) ? p->cnt[d] : 0;
        unsigned nf = p->nflood;
        if (d == self || (!nu && !nf))
            continue;
        if (!nu && __atomic_load_n(&a->ports[d].state, __ATOMIC_RELAXED) != SW_PORT_ACTIVE)
            continue;
        deliver(p, pkts, d, p->list[d], nu, p->flood, nf);
    }
    unsigned ok = 0, drops = 0;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        if (p->delivered[i]) {
            ok++;
            bytes += p->len[i];
        } else if (p->dst[i] != DST_ERR) {
            drops++;
        }
    }
    struct vpio_sw_port *sp = p->sp;
    if (ok) {
        __atomic_fetch_add(&sp->tx_pkts, ok, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sp->tx_bytes, bytes, __ATOMIC_RELAXED);
    }
    if (drops)
        __atomic_fetch_add(&sp->tx_drops, drops, __ATOMIC_RELAXED);
    if (errs)
        __atomic_fetch_add(&sp->tx_errs, errs, __ATOMIC_RELAXED);
    return ok;
}
