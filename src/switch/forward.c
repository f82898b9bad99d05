/* Forwarding, in the sender's thread, one batch at a time:
 *  pass 1: validate each frame, learn its source MAC, look up its
 *          destination and append it to that port's list (or the flood list);
 *  pass 2: per destination port, VALE's leases: under its RX lock (bounded
 *          wait) validate the shared indices and reserve the slots of the
 *          frames that fit (a lease); unlock; copy; relock, mark the lease
 *          done, publish all completed leases from the oldest on (release
 *          store of rx_hwtail), unlock, wake the owner if it sleeps.
 * Concurrent senders to one port copy in parallel and are published in
 * reservation order. A sender that dies mid-copy leaves a pending lease;
 * the next sender (or the owner's poll) that finds it the oldest, at least
 * SW_LEASE_CHECK_MS old and its owner thread gone (or SW_LEASE_MAX_MS old
 * whatever the owner), empties its slots (length-0 frames), counts its
 * frames as dropped and publishes past it. */
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
/* A group of at most this many slots, with no lease outstanding, is copied
 * under the lock instead (tiny copies cost less than a second lock round
 * trip; e.g. the batch-1 case). */
#define SMALL_SLOTS 4u

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

void (*sw_lease_hook)(struct vpio_port *p, unsigned dst);
unsigned long sw_lease_overtaken;

void sw_lease_reset(struct vpio_sw_port *dp)
{
    uint32_t t = __atomic_load_n(&dp->rx_hwtail, __ATOMIC_RELAXED) & SW_RING_MASK;
    __atomic_store_n(&dp->rx_resv, t, __ATOMIC_RELAXED);
    __atomic_store_n(&dp->lease_first, __atomic_load_n(&dp->lease_next, __ATOMIC_RELAXED),
                     __ATOMIC_RELAXED);
}

/* A pending lease is given up when its owner thread is dead, or when it is
 * absurdly old (a live but stopped or hostile sender; a stamp from the
 * future is garbage, hence "old" too). */
static int lease_expired(const struct vpio_sw_lease *e, uint64_t now)
{
    uint64_t age = now - __atomic_load_n(&e->stamp_ms, __ATOMIC_RELAXED);
    if (age < SW_LEASE_CHECK_MS)
        return 0;
    if (age >= SW_LEASE_MAX_MS)
        return 1;
    return !sw_pid_alive((int32_t)__atomic_load_n(&e->owner, __ATOMIC_RELAXED));
}

/* Under dp->rx_lock: validate the ring and lease indices, expire dead
 * leases, publish the completed ones in order. Returns -1 if rx_hwcur or
 * rx_hwtail is out of range (the owner resynchronises them), 1 if rx_hwtail
 * moved, 0 otherwise. Bounded: every step moves the tail forward within
 * the reserved part of the ring. */
int sw_lease_settle(struct sw_arena *a, unsigned d, uint64_t now)
{
    struct vpio_sw_port *dp = &a->ports[d];
    struct vpio_ring *r = sw_ring(a, d, 1);
    uint32_t head = __atomic_load_n(&dp->rx_hwcur, __ATOMIC_ACQUIRE);
    uint32_t tail = __atomic_load_n(&dp->rx_hwtail, __ATOMIC_RELAXED);
    if (head >= VPIO_SW_RING_SLOTS || tail >= VPIO_SW_RING_SLOTS)
        return -1;
    uint32_t resv = __atomic_load_n(&dp->rx_resv, __ATOMIC_RELAXED);
    uint32_t first = __atomic_load_n(&dp->lease_first, __ATOMIC_RELAXED);
    uint32_t next = __atomic_load_n(&dp->lease_next, __ATOMIC_RELAXED);
    uint32_t resvd = vpio_ring_dist(tail, resv);
    if (resv >= VPIO_SW_RING_SLOTS || next - first > SW_LEASES ||
        resvd > sw_ring_space(head, tail) || (first == next) != !resvd ||
        (first != next &&
         __atomic_load_n(&dp->lease[(next - 1) % SW_LEASES].end, __ATOMIC_RELAXED) != resv)) {
        __atomic_fetch_add(&dp->rx_errs, 1, __ATOMIC_RELAXED);
        sw_lease_reset(dp);
        return 0;
    }
    uint32_t t0 = tail;
    uint64_t drops = 0;
    while (first != next) {
        struct vpio_sw_lease *e = &dp->lease[first % SW_LEASES];
        uint32_t st = __atomic_load_n(&e->start, __ATOMIC_RELAXED);
        uint32_t en = __atomic_load_n(&e->end, __ATOMIC_RELAXED);
        if (__atomic_load_n(&e->id, __ATOMIC_RELAXED) != first || st != tail ||
            en >= VPIO_SW_RING_SLOTS || en == st ||
            vpio_ring_dist(tail, en) > vpio_ring_dist(tail, resv)) {
            /* inconsistent: keep what is published, forget the rest */
            __atomic_fetch_add(&dp->rx_errs, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&dp->rx_resv, tail, __ATOMIC_RELAXED);
            first = next;
            break;
        }
        if (!__atomic_load_n(&e->done, __ATOMIC_RELAXED)) {
            if (!lease_expired(e, now))
                break;
            /* The sender died (or hangs) mid-copy: its slots become empty
             * frames (length 0, as VALE does with bad lengths), its frames
             * are counted as dropped; everything behind it gets out. */
            for (uint32_t i = st; i != en; i = vpio_ring_next(i)) {
                __atomic_store_n(&r->slot[i].len, 0, __ATOMIC_RELAXED);
                __atomic_store_n(&r->slot[i].flags, 0, __ATOMIC_RELAXED);
            }
            uint32_t nf = __atomic_load_n(&e->nframes, __ATOMIC_RELAXED);
            drops += nf < vpio_ring_dist(st, en) ? nf : vpio_ring_dist(st, en);
            __atomic_store_n(&e->done, 1, __ATOMIC_RELAXED);
        }
        tail = en;
        first++;
    }
    __atomic_store_n(&dp->lease_first, first, __ATOMIC_RELAXED);
    if (drops)
        __atomic_fetch_add(&dp->rx_drops, drops, __ATOMIC_RELAXED);
    if (tail == t0)
        return 0;
    __atomic_store_n(&dp->rx_hwtail, tail, __ATOMIC_RELEASE);
    return 1;
}

/* One destination's share of a batch between the steps of deliver(). */
struct grant {
    unsigned total;      /* frames for this destination */
    unsigned nsel;       /* of them, the ones that got slots (p->order[0..nsel)) */
    uint32_t need_total; /* slots all of them need */
    int all_single;      /* every frame fits in one slot */
    uint32_t id;         /* lease id */
    uint32_t start, end; /* reserved slots [start, end) */
    uint32_t me;         /* our thread id (the lease owner) */
    uint64_t now;        /* sw_now_ms() at reservation */
    uint64_t bytes;      /* copied */
    int pub;             /* rx_hwtail moved while we held the lock: wake */
};

/* The frames listed in ucast (nu) merged with the flood list (nf), in batch
 * order, into p->order[], and the slots each needs into p->need[]. */
static inline void order_frames(struct vpio_port *p, const uint16_t *ucast, unsigned nu,
                                const uint16_t *fl, unsigned nf, struct grant *g)
{
    g->total = nu + nf;
    g->need_total = 0;
    g->all_single = 1;
    for (unsigned iu = 0, jf = 0, k = 0; k < g->total; k++) {
        unsigned i;
        if (jf >= nf || (iu < nu && ucast[iu] < fl[jf]))
            i = ucast[iu++];
        else
            i = fl[jf++];
        uint32_t need = (p->len[i] + VPIO_SW_BUF_SIZE - 1) / VPIO_SW_BUF_SIZE;
        p->order[k] = (uint16_t)i;
        p->need[k] = (uint8_t)need;
        g->need_total += need;
        g->all_single &= need == 1;
    }
}

/* Outcome of reserve(). */
enum reserved {
    RESV_NONE,   /* no slot reserved (drops counted); the lock is released */
    RESV_INLINE, /* a tiny group, nobody else copying: the lock is still held */
    RESV_LEASE,  /* a lease recorded; the lock is released */
};

/* Reserve, under d's RX lock (bounded wait): settle the leases, take the
 * frames that fit in the free space (whole frames, in order) and record a
 * lease for them -- or, for a group of at most SMALL_SLOTS with no lease
 * outstanding, keep the lock and let the caller copy under it (shorter than
 * a second lock round trip). Counts the frames that got no slot as drops. */
static inline enum reserved reserve(struct vpio_port *p, unsigned d, struct grant *g)
{
    struct sw_arena *a = &p->a;
    struct vpio_sw_port *dp = &a->ports[d];
    if (sw_lock(&dp->rx_lock, RX_LOCK_WAIT_US) < 0) {
        p->stuck_until_ms[d] = g->now + 1000;
        __atomic_fetch_add(&dp->rx_drops, g->total, __ATOMIC_RELAXED);
        return RESV_NONE;
    }
    p->stuck_until_ms[d] = 0;
    if (__atomic_load_n(&dp->state, __ATOMIC_ACQUIRE) != SW_PORT_ACTIVE) {
        sw_unlock(&dp->rx_lock);
        return RESV_NONE; /* detached meanwhile: not delivered, not the port's drop */
    }
    g->pub = sw_lease_settle(a, d, g->now);
    if (g->pub < 0) {
        sw_unlock(&dp->rx_lock);
        __atomic_fetch_add(&dp->rx_errs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&dp->rx_drops, g->total, __ATOMIC_RELAXED);
        return RESV_NONE;
    }
    uint32_t head = __atomic_load_n(&dp->rx_hwcur, __ATOMIC_RELAXED);
    uint32_t resv = __atomic_load_n(&dp->rx_resv, __ATOMIC_RELAXED);
    uint32_t first = __atomic_load_n(&dp->lease_first, __ATOMIC_RELAXED);
    g->id = __atomic_load_n(&dp->lease_next, __ATOMIC_RELAXED);
    uint32_t space = sw_ring_space(head, resv);
    if (g->id - first >= SW_LEASES)
        space = 0; /* lease table full: more concurrent senders than ports */
    uint32_t nslots;
    if (g->need_total <= space) {
        g->nsel = g->total;
        nslots = g->need_total;
    } else if (g->all_single) {
        g->nsel = space;
        nslots = space;
    } else { /* keep the frames that fit, in order (rare: chains, ring nearly full) */
        g->nsel = 0;
        nslots = 0;
        for (unsigned k = 0; k < g->total; k++)
            if (p->need[k] <= space - nslots) {
                nslots += p->need[k];
                p->order[g->nsel++] = p->order[k];
            }
    }
    g->start = resv;
    g->end = (resv + nslots) & SW_RING_MASK;
    if (g->nsel && nslots <= SMALL_SLOTS && g->id == first)
        return RESV_INLINE; /* nothing visible yet: a sender dying now leaves
                               nothing behind (the next locker takes over) */
    if (g->nsel) {
        struct vpio_sw_lease *e = &dp->lease[g->id % SW_LEASES];
        g->me = sw_tid();
        __atomic_store_n(&e->id, g->id, __ATOMIC_RELAXED);
        __atomic_store_n(&e->owner, g->me, __ATOMIC_RELAXED);
        __atomic_store_n(&e->start, (uint16_t)g->start, __ATOMIC_RELAXED);
        __atomic_store_n(&e->end, (uint16_t)g->end, __ATOMIC_RELAXED);
        __atomic_store_n(&e->nframes, (uint16_t)g->nsel, __ATOMIC_RELAXED);
        __atomic_store_n(&e->done, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&e->stamp_ms, g->now, __ATOMIC_RELAXED);
        __atomic_store_n(&dp->rx_resv, g->end, __ATOMIC_RELAXED);
        __atomic_store_n(&dp->lease_next, g->id + 1, __ATOMIC_RELAXED);
    }
    sw_unlock(&dp->rx_lock);
    if (g->total - g->nsel)
        __atomic_fetch_add(&dp->rx_drops, g->total - g->nsel, __ATOMIC_RELAXED);
    if (!g->nsel) {
        if (g->pub)
            wake(dp);
        return RESV_NONE;
    }
    return RESV_LEASE;
}

/* Copy the granted frames into their slots. */
static inline void copy_granted(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned d,
                                struct grant *g)
{
    struct vpio_ring *r = sw_ring(&p->a, d, 1);
    uint64_t bytes = 0;
    uint32_t t = g->start;
    for (unsigned k = 0; k < g->nsel; k++) {
        unsigned i = p->order[k];
        t = copy_frame(p, d, r, &pkts[i], p->len[i], t);
        bytes += p->len[i];
    }
    g->bytes = bytes;
}

/* The granted frames are in the ring: mark them delivered and count them. */
static inline void count_delivered(struct vpio_port *p, struct vpio_sw_port *dp,
                                   const struct grant *g)
{
    for (unsigned k = 0; k < g->nsel; k++)
        p->delivered[p->order[k]] = 1;
    __atomic_fetch_add(&dp->rx_pkts, g->nsel, __ATOMIC_RELAXED);
    __atomic_fetch_add(&dp->rx_bytes, g->bytes, __ATOMIC_RELAXED);
}

/* Publish a group copied under the lock (RESV_INLINE): both stores at once. */
static inline void publish_inline(struct vpio_port *p, unsigned d, const struct grant *g)
{
    struct vpio_sw_port *dp = &p->a.ports[d];
    __atomic_store_n(&dp->rx_resv, g->end, __ATOMIC_RELAXED);
    __atomic_store_n(&dp->rx_hwtail, g->end, __ATOMIC_RELEASE);
    sw_unlock(&dp->rx_lock);
    count_delivered(p, dp, g);
    if (g->total - g->nsel)
        __atomic_fetch_add(&dp->rx_drops, g->total - g->nsel, __ATOMIC_RELAXED);
    wake(dp);
}

/* Complete a lease: relock, mark it done if it is still ours (not expired,
 * not reset by a resync or a re-attach), publish every completed lease
 * from the oldest on, unlock, wake the owner if the tail moved. */
static inline void publish_lease(struct vpio_port *p, unsigned d, struct grant *g)
{
    struct sw_arena *a = &p->a;
    struct vpio_sw_port *dp = &a->ports[d];
    struct vpio_sw_lease *e = &dp->lease[g->id % SW_LEASES];
    int ok = 0;
    if (sw_lock(&dp->rx_lock, RX_LOCK_WAIT_US) >= 0) {
        uint32_t first = __atomic_load_n(&dp->lease_first, __ATOMIC_RELAXED);
        uint32_t next = __atomic_load_n(&dp->lease_next, __ATOMIC_RELAXED);
        if (g->id - first < next - first && next - first <= SW_LEASES &&
            __atomic_load_n(&e->id, __ATOMIC_RELAXED) == g->id &&
            __atomic_load_n(&e->owner, __ATOMIC_RELAXED) == g->me &&
            __atomic_load_n(&e->start, __ATOMIC_RELAXED) == g->start &&
            __atomic_load_n(&e->end, __ATOMIC_RELAXED) == g->end &&
            !__atomic_load_n(&e->done, __ATOMIC_RELAXED) &&
            __atomic_load_n(&dp->state, __ATOMIC_ACQUIRE) == SW_PORT_ACTIVE) {
            __atomic_store_n(&e->done, 1, __ATOMIC_RELAXED);
            ok = 1;
        }
        if (ok && __atomic_load_n(&dp->lease_first, __ATOMIC_RELAXED) != g->id)
            __atomic_fetch_add(&sw_lease_overtaken, 1, __ATOMIC_RELAXED); /* rare */
        if (sw_lease_settle(a, d, sw_now_ms()) > 0)
            g->pub = 1;
        sw_unlock(&dp->rx_lock);
    } else {
        /* a live holder that does not let go: our lease expires (1 s) */
        p->stuck_until_ms[d] = g->now + 1000;
    }
    if (ok)
        count_delivered(p, dp, g);
    else
        __atomic_fetch_add(&dp->rx_drops, g->nsel, __ATOMIC_RELAXED);
    if (g->pub)
        wake(dp);
}

/* Deliver the frames listed in ucast (nu) merged with the flood list to d:
 * VALE's leases, in three steps. reserve: under d's RX lock, slots for the
 * frames that fit (a lease, recorded in the port's lease table); copy,
 * outside the lock; publish: relock, mark the lease done, publish every
 * completed lease from the oldest on (whoever holds the oldest lease
 * publishes the others' too), unlock, wake the owner if it sleeps.
 * Reservation is serial, copies run in parallel, publication is in order. */
static void deliver(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned d,
                    const uint16_t *ucast, unsigned nu, const uint16_t *fl, unsigned nf)
{
    struct vpio_sw_port *dp = &p->a.ports[d];
    /* Lock-free pre-check: a full ring (the common case when a sender
     * outruns its receiver) drops without writing any line the receiver
     * reads. Only a hint: rechecked under the lock. */
    uint32_t h0 = __atomic_load_n(&dp->rx_hwcur, __ATOMIC_RELAXED);
    uint32_t t0 = __atomic_load_n(&dp->rx_resv, __ATOMIC_RELAXED);
    if (h0 < VPIO_SW_RING_SLOTS && t0 < VPIO_SW_RING_SLOTS && sw_ring_space(h0, t0) == 0) {
        __atomic_fetch_add(&dp->rx_drops, nu + nf, __ATOMIC_RELAXED);
        return;
    }
    /* A port whose lock we could not get recently (a live holder that does
     * not let go: hung or hostile) is skipped for a second, so it costs one
     * bounded wait per second, not one per batch. */
    struct grant g;
    g.now = sw_now_ms();
    if (p->stuck_until_ms[d] && g.now < p->stuck_until_ms[d]) {
        __atomic_fetch_add(&dp->rx_drops, nu + nf, __ATOMIC_RELAXED);
        return;
    }
    order_frames(p, ucast, nu, fl, nf, &g);
    enum reserved rs = reserve(p, d, &g);
    if (rs == RESV_NONE)
        return;
    if (rs == RESV_LEASE && sw_lease_hook)
        sw_lease_hook(p, d);
    copy_granted(p, pkts, d, &g);
    if (rs == RESV_INLINE)
        publish_inline(p, d, &g);
    else
        publish_lease(p, d, &g);
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
    /* One lookup per run of frames to the same destination (a batch is
     * mostly one stream): the table as it was at the run's first frame. */
    uint64_t run_dst = UINT64_MAX;
    int run_d = -1;
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
        uint64_t src, dst;
        sw_hdr_macs(h, &dst, &src);
        if (!(h[6] & 1) && (src != p->last_src_key || now - p->last_learn_ms >= 250)) {
            sw_mac_learn(a, src, self, now);
            p->last_src_key = src;
            p->last_learn_ms = now;
        }
        int d = -1;
        if (!(h[0] & 1)) {
            if (dst != run_dst) {
                run_dst = dst;
                run_d = sw_mac_lookup(a, dst, now);
            }
            d = run_d;
        }
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
