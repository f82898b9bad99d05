/* Ports: attach/detach by name, the netmap-style sync calls, blocking wait,
 * batched send and receive. The owner keeps its private ring state (hwcur,
 * hwtail) in the process-local handle; what it reads from the arena is
 * validated against it. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "switch/sw_internal.h"
#include "vpio/clock.h"

/* Read a shared slot exactly once (a peer may rewrite it meanwhile). */
static struct vpio_slot slot_read(const struct vpio_slot *sp)
{
    struct vpio_slot s;
    s.buf_idx = __atomic_load_n(&sp->buf_idx, __ATOMIC_RELAXED);
    s.len = __atomic_load_n(&sp->len, __ATOMIC_RELAXED);
    s.flags = __atomic_load_n(&sp->flags, __ATOMIC_RELAXED);
    return s;
}

/* The arena was truncated under us (guard.c): everything it held is gone
 * and the mapping is private zero pages. Every call refuses (-ENXIO, or 0
 * frames) and counts the refusal. */
static int refuse(struct vpio_port *p)
{
    if (__builtin_expect(!sw_arena_broken(&p->a), 1))
        return 0;
    p->refused++;
    return 1;
}

static void ring_init(struct sw_arena *a, unsigned id, unsigned dir)
{
    struct vpio_ring *r = sw_ring(a, id, dir);
    r->head = r->cur = 0;
    r->tail = dir ? 0 : VPIO_SW_RING_SLOTS - 1;
    r->num_slots = VPIO_SW_RING_SLOTS;
    r->buf_size = VPIO_SW_BUF_SIZE;
    r->dir = dir;
    for (uint32_t i = 0; i < VPIO_SW_RING_SLOTS; i++) {
        r->slot[i].buf_idx = (uint32_t)((2u * id + dir) * VPIO_SW_RING_SLOTS + i);
        r->slot[i].len = 0;
        r->slot[i].flags = 0;
    }
}

static int split_name(const char *ifname, char *sw, char *port)
{
    const char *c = strchr(ifname, ':');
    if (!c || (size_t)(c - ifname) >= VPIO_SW_NAME_MAX || strlen(c + 1) >= VPIO_SW_NAME_MAX)
        return -EINVAL;
    memcpy(sw, ifname, (size_t)(c - ifname));
    sw[c - ifname] = 0;
    strcpy(port, c + 1);
    if (!sw_valid_name(sw) || !sw_valid_name(port))
        return -EINVAL;
    return 0;
}

int vpio_port_name_valid(const char *ifname)
{
    char sw[VPIO_SW_NAME_MAX], pname[VPIO_SW_NAME_MAX];
    return ifname && split_name(ifname, sw, pname) == 0;
}

int vpio_port_open(struct vpio_port **out, const char *ifname, unsigned flags)
{
    char sw[VPIO_SW_NAME_MAX], pname[VPIO_SW_NAME_MAX];
    *out = NULL;
    if (!ifname || split_name(ifname, sw, pname) < 0)
        return -EINVAL;
    struct vpio_port *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    int rc = sw_arena_open(&p->a, sw, 1);
    if (rc < 0) {
        free(p);
        return rc;
    }
    struct sw_arena *a = &p->a;
    sw_reap(a, 200);
    if (sw_lock(&a->hdr->port_lock, 1000000) < 0) {
        sw_arena_close(a);
        free(p);
        return -ETIMEDOUT;
    }
    int id = -1, free_id = -1;
    for (unsigned i = 0; i < VPIO_SW_MAX_PORTS; i++) {
        struct vpio_sw_port *sp = &a->ports[i];
        uint32_t st = __atomic_load_n(&sp->state, __ATOMIC_ACQUIRE);
        if (st == SW_PORT_FREE) {
            if (free_id < 0)
                free_id = (int)i;
            continue;
        }
        if (!strncmp(sp->name, pname, VPIO_SW_NAME_MAX)) {
            if (sw_port_owner_alive(sp)) {
                rc = -EBUSY;
                goto unlock;
            }
            id = (int)i; /* owner died: take it over */
            break;
        }
    }
    if (id < 0)
        id = free_id;
    if (id < 0) {
        rc = -ENOSPC;
        goto unlock;
    }
    struct vpio_sw_port *sp = &a->ports[id];
    int locked = sw_lock(&sp->rx_lock, 100000) >= 0;
    __atomic_store_n(&sp->state, SW_PORT_BUSY, __ATOMIC_RELEASE);
    sw_mac_forget_port(a, (unsigned)id);
    ring_init(a, (unsigned)id, 0);
    ring_init(a, (unsigned)id, 1);
    memset(sp->name, 0, sizeof sp->name);
    memset(sp->label, 0, sizeof sp->label);
    strcpy(sp->name, pname);
    sp->pid = getpid();
    sp->pid_start = sw_pid_start(sp->pid);
    sp->gen++;
    sp->rx_hwtail = 0;
    sp->rx_hwcur = 0;
    sp->rx_resv = 0;
    sp->lease_first = sp->lease_next; /* ids go on: old leases are not ours */
    sp->rx_need_wake = 0;
    sp->rx_pkts = sp->rx_bytes = sp->rx_drops = sp->rx_errs = 0;
    sp->tx_pkts = sp->tx_bytes = sp->tx_drops = sp->tx_errs = 0;
    __atomic_store_n(&sp->state, SW_PORT_ACTIVE, __ATOMIC_RELEASE);
    if (locked)
        sw_unlock(&sp->rx_lock);
    else
        __atomic_store_n(&sp->rx_lock, 0, __ATOMIC_RELEASE);
    p->id = id;
    p->gen = sp->gen;
    p->sp = sp;
    p->tx = sw_ring(a, (unsigned)id, 0);
    p->rx = sw_ring(a, (unsigned)id, 1);
    p->tx_hwcur = 0;
    p->rx_hwcur = 0;
    p->rx_hwtail = 0;
    p->last_reap_ms = sw_now_ms();
    pthread_mutex_init(&p->stats_mu, NULL);
    vpio_stats_reader_init(&p->stats_rd, NULL, vpio_now_ns()); /* zeroed above */
    snprintf(p->ifname, sizeof p->ifname, "%s:%s", sw, pname);
    rc = 0;
unlock:
    sw_unlock(&a->hdr->port_lock);
    if (rc < 0) {
        sw_arena_close(a);
        free(p);
        return rc;
    }
    (void)flags;
    *out = p;
    return 0;
}

void vpio_port_close(struct vpio_port *p)
{
    if (!p)
        return;
    struct sw_arena *a = &p->a;
    if (sw_arena_broken(a)) { /* nothing shared left to update */
        sw_arena_close(a);
        free(p);
        return;
    }
    int pl = sw_lock(&a->hdr->port_lock, 200000) >= 0;
    struct vpio_sw_port *sp = p->sp;
    if (sp->pid == getpid() && sp->gen == p->gen &&
        __atomic_load_n(&sp->state, __ATOMIC_ACQUIRE) == SW_PORT_ACTIVE) {
        int locked = sw_lock(&sp->rx_lock, 50000) >= 0;
        __atomic_store_n(&sp->state, SW_PORT_FREE, __ATOMIC_RELEASE);
        if (locked)
            sw_unlock(&sp->rx_lock);
        sw_mac_forget_port(a, (unsigned)p->id);
    }
    if (pl)
        sw_unlock(&a->hdr->port_lock);
    sw_arena_close(a);
    pthread_mutex_destroy(&p->stats_mu);
    free(p);
}

const char *vpio_port_name(const struct vpio_port *p)
{
    return p->ifname;
}

int vpio_port_id(const struct vpio_port *p)
{
    return p->id;
}

struct vpio_ring *vpio_port_txring(struct vpio_port *p)
{
    return p->tx;
}

struct vpio_ring *vpio_port_rxring(struct vpio_port *p)
{
    return p->rx;
}

void *vpio_ring_buf(struct vpio_port *p, const struct vpio_ring *r, uint32_t i)
{
    if (r == p->tx)
        return sw_buf(&p->a, (unsigned)p->id, 0, i);
    if (r == p->rx)
        return sw_buf(&p->a, (unsigned)p->id, 1, i);
    return NULL;
}

static void count(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

int vpio_port_txsync(struct vpio_port *p)
{
    if (refuse(p))
        return -ENXIO;
    struct vpio_ring *r = p->tx;
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint32_t hwcur = p->tx_hwcur;
    if (head >= VPIO_SW_RING_SLOTS) { /* corrupted: drop nothing, resync */
        count(&p->sp->tx_errs, 1);
        head = hwcur;
    }
    unsigned np = 0, ok = 0;
    uint32_t i = hwcur;
    while (i != head) {
        /* one frame: slots until one without MOREFRAG, or head (cut) */
        struct vpio_pkt *pk = &p->txp[np];
        struct iovec *iov = &p->txiov[vpio_ring_dist(hwcur, i)];
        uint32_t nfr = 0, bad = 0;
        for (;;) {
            struct vpio_slot s = slot_read(&r->slot[i]); /* one read */
            uint32_t len = s.len;
            if (len > VPIO_SW_BUF_SIZE)
                bad = 1;
            else if (nfr < VPIO_SW_MAX_FRAGS)
                iov[nfr] = (struct iovec){sw_buf(&p->a, (unsigned)p->id, 0, i), len};
            nfr++;
            i = vpio_ring_next(i);
            if (!(s.flags & VPIO_SLOT_MOREFRAG) || i == head)
                break;
        }
        if (bad || nfr > VPIO_SW_MAX_FRAGS) {
            count(&p->sp->tx_errs, 1);
            continue;
        }
        if (nfr == 1) {
            pk->data = iov[0].iov_base;
            pk->len = (uint32_t)iov[0].iov_len;
            pk->iovcnt = 0;
            pk->iov = NULL;
        } else {
            pk->data = NULL;
            pk->len = 0;
            pk->iovcnt = nfr;
            pk->iov = iov;
        }
        np++;
    }
    for (unsigned off = 0; off < np; off += VPIO_SW_BATCH) {
        unsigned n = np - off < VPIO_SW_BATCH ? np - off : VPIO_SW_BATCH;
        ok += sw_forward(p, p->txp + off, n);
    }
    p->tx_hwcur = head;
    r->head = head;
    uint32_t cur = __atomic_load_n(&r->cur, __ATOMIC_RELAXED);
    if (cur >= VPIO_SW_RING_SLOTS || vpio_ring_dist(head, cur) > VPIO_SW_RING_SLOTS - 1)
        r->cur = head;
    __atomic_store_n(&r->tail, (head + VPIO_SW_RING_SLOTS - 1) & SW_RING_MASK, __ATOMIC_RELEASE);
    return (int)ok;
}

/* Resynchronise the published tail with what the owner has seen (after
 * corruption of the shared index). */
static void rx_resync(struct vpio_port *p)
{
    struct vpio_sw_port *sp = p->sp;
    count(&sp->rx_errs, 1);
    if (sw_lock(&sp->rx_lock, 10000) >= 0) {
        __atomic_store_n(&sp->rx_hwtail, p->rx_hwtail, __ATOMIC_RELAXED);
        __atomic_store_n(&sp->rx_hwcur, p->rx_hwcur, __ATOMIC_RELEASE);
        sw_lease_reset(sp); /* senders mid-copy find their lease gone: drop */
        sw_unlock(&sp->rx_lock);
    }
}

int vpio_port_rxsync(struct vpio_port *p)
{
    if (refuse(p))
        return -ENXIO;
    struct vpio_ring *r = p->rx;
    struct vpio_sw_port *sp = p->sp;
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
    uint32_t cur = __atomic_load_n(&r->cur, __ATOMIC_RELAXED);
    uint32_t hwcur = p->rx_hwcur, hwtail = p->rx_hwtail;
    uint32_t avail = vpio_ring_dist(hwcur, hwtail);
    if (head >= VPIO_SW_RING_SLOTS || vpio_ring_dist(hwcur, head) > avail) {
        count(&sp->rx_errs, 1);
        head = hwcur; /* release nothing */
    }
    if (cur >= VPIO_SW_RING_SLOTS || vpio_ring_dist(head, cur) > vpio_ring_dist(head, hwtail))
        cur = head;
    /* release [hwcur, head) */
    if (head != hwcur) {
        p->rx_hwcur = hwcur = head;
        __atomic_store_n(&sp->rx_hwcur, head, __ATOMIC_RELEASE);
    } else if (__atomic_load_n(&sp->rx_hwcur, __ATOMIC_RELAXED) != hwcur) {
        rx_resync(p);
    }
    /* new frames: published tail must lie in [hwtail, hwcur - 1] */
    uint32_t t = __atomic_load_n(&sp->rx_hwtail, __ATOMIC_ACQUIRE);
    if (t >= VPIO_SW_RING_SLOTS || vpio_ring_dist(hwtail, t) > sw_ring_space(hwcur, hwtail))
        rx_resync(p);
    else
        p->rx_hwtail = hwtail = t;
    r->head = head;
    r->cur = cur;
    r->tail = hwtail;
    return (int)vpio_ring_dist(cur, hwtail);
}

/* The sleeper's half of the wake protocol: read the futex word, set
 * rx_need_wake, full barrier; the caller re-checks for frames and sleeps on
 * the returned sequence only if there are none (a sender publishes, issues
 * a full barrier, and wakes only if the flag is set: see forward.c). */
static uint32_t arm_wake(struct vpio_sw_port *sp)
{
    uint32_t seq = __atomic_load_n(&sp->rx_wake_seq, __ATOMIC_ACQUIRE);
    __atomic_store_n(&sp->rx_need_wake, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return seq;
}

/* Sleeps until a sender wakes us or `left` ns (at most 100 ms: re-check). */
static void futex_sleep(struct vpio_sw_port *sp, uint32_t seq, uint64_t left)
{
    if (left > 100000000u)
        left = 100000000u;
    struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
    syscall(SYS_futex, &sp->rx_wake_seq, FUTEX_WAIT, seq, &ts, NULL, 0);
}

/* A lease outstanding while we are about to sleep: if its sender died
 * mid-copy, nobody else may come to expire it (no further traffic), so the
 * sleeper does (cheap: only on the way to sleep). true if that published
 * frames. */
static bool settle_dead_lease(struct vpio_port *p)
{
    struct vpio_sw_port *sp = p->sp;
    if (__atomic_load_n(&sp->lease_first, __ATOMIC_RELAXED) ==
            __atomic_load_n(&sp->lease_next, __ATOMIC_RELAXED) ||
        sw_lock(&sp->rx_lock, 1000) < 0)
        return false;
    int pub = sw_lease_settle(&p->a, (unsigned)p->id, sw_now_ms());
    sw_unlock(&sp->rx_lock);
    return pub > 0;
}

int vpio_port_poll(struct vpio_port *p, int events, int timeout_ms)
{
    int got = 0;
    if (refuse(p)) {
        /* Callers that retry in a loop without looking at the error must
         * not spin: wait as if nothing came, at most 100 ms. */
        if (timeout_ms != 0) {
            long ms = timeout_ms < 0 || timeout_ms > 100 ? 100 : timeout_ms;
            struct timespec ts = {0, ms * 1000000L};
            nanosleep(&ts, NULL);
        }
        return -ENXIO;
    }
    if (events & VPIO_POLL_TX)
        got |= vpio_ring_space(p->tx) ? VPIO_POLL_TX : 0;
    if (!(events & VPIO_POLL_RX))
        return got;
    int n = vpio_port_rxsync(p);
    if (n < 0)
        return n;
    if (n > 0 || got)
        return got | (vpio_ring_space(p->rx) ? VPIO_POLL_RX : 0);
    if (timeout_ms == 0)
        return 0;
    struct vpio_sw_port *sp = p->sp;
    uint64_t start = vpio_now_ns();
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
    /* cur is the wake-up point: wait until the published tail passes it */
    for (unsigned spin = 0;; spin++) {
        n = vpio_port_rxsync(p);
        if (n != 0) {
            __atomic_store_n(&sp->rx_need_wake, 0, __ATOMIC_RELAXED);
            return n > 0 ? VPIO_POLL_RX : n; /* n < 0: broken meanwhile */
        }
        uint64_t now = vpio_now_ns();
        if (now >= deadline)
            break;
        if (now - start < 50000) { /* spin ~50 us before sleeping */
            for (int k = 0; k < 64; k++)
                __builtin_ia32_pause();
            continue;
        }
        if (settle_dead_lease(p))
            continue;
        uint32_t seq = arm_wake(sp);
        if (__atomic_load_n(&sp->rx_hwtail, __ATOMIC_ACQUIRE) != p->rx_hwtail)
            continue; /* work appeared: rxsync at the top */
        futex_sleep(sp, seq, deadline - now);
    }
    __atomic_store_n(&sp->rx_need_wake, 0, __ATOMIC_RELAXED);
    return 0;
}

uint64_t vpio_port_rx_too_long(const struct vpio_port *p)
{
    return p->rx_too_long;
}

int vpio_port_rx_ready(struct vpio_port *p)
{
    if (refuse(p))
        return -ENXIO;
    struct vpio_sw_port *sp = p->sp;
    return __atomic_load_n(&sp->rx_hwtail, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&sp->rx_hwcur, __ATOMIC_RELAXED);
}

int vpio_port_rx_wait(struct vpio_port *p, long timeout_us)
{
    if (refuse(p))
        return -ENXIO;
    struct vpio_sw_port *sp = p->sp;
    uint64_t deadline = timeout_us < 0 ? UINT64_MAX : vpio_now_ns() + (uint64_t)timeout_us * 1000u;
    for (;;) {
        uint32_t seq = arm_wake(sp);
        if (vpio_port_rx_ready(p) > 0 || settle_dead_lease(p))
            break;
        uint64_t now = vpio_now_ns();
        if (now >= deadline) {
            __atomic_store_n(&sp->rx_need_wake, 0, __ATOMIC_RELAXED);
            return refuse(p) ? -ENXIO : 0;
        }
        futex_sleep(sp, seq, deadline - now);
    }
    __atomic_store_n(&sp->rx_need_wake, 0, __ATOMIC_RELAXED);
    return refuse(p) ? -ENXIO : 1;
}

unsigned vpio_port_send_batch(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned n)
{
    unsigned ok = 0;
    if (refuse(p))
        return 0;
    for (unsigned off = 0; off < n; off += VPIO_SW_BATCH) {
        unsigned k = n - off < VPIO_SW_BATCH ? n - off : VPIO_SW_BATCH;
        ok += sw_forward(p, pkts + off, k);
    }
    return ok;
}

unsigned vpio_port_recv_batch(struct vpio_port *p, struct vpio_rxpkt *pkts, unsigned n)
{
    struct vpio_ring *r = p->rx;
    if (vpio_port_rxsync(p) < 0)
        return 0;
    /* the validated private copies, not the (peer-writable) ring fields */
    uint32_t i = p->rx_hwcur, tail = p->rx_hwtail;
    unsigned got = 0;
    while (got < n && i != tail) {
        /* find the frame's extent and length */
        uint32_t j = i, total = 0, nfr = 0, bad = 0;
        for (;;) {
            struct vpio_slot s = slot_read(&r->slot[j]);
            if (s.len > VPIO_SW_BUF_SIZE)
                bad = 1;
            else
                total += s.len;
            nfr++;
            j = vpio_ring_next(j);
            if (!(s.flags & VPIO_SLOT_MOREFRAG) || j == tail)
                break;
        }
        struct vpio_rxpkt *rp = &pkts[got];
        if (!bad && !total) {
            /* an empty frame: the slots of a sender that died mid-copy
             * (already counted in rx_drops) */
        } else if (bad || nfr > VPIO_SW_MAX_FRAGS || total > rp->cap || !rp->buf) {
            count(&p->sp->rx_errs, 1);
            if (!bad && nfr <= VPIO_SW_MAX_FRAGS)
                p->rx_too_long++;
        } else {
            uint32_t off = 0;
            for (uint32_t k = i; k != j; k = vpio_ring_next(k)) {
                uint32_t len = __atomic_load_n(&r->slot[k].len, __ATOMIC_RELAXED); /* re-read */
                if (len > VPIO_SW_BUF_SIZE)
                    len = VPIO_SW_BUF_SIZE;
                if (len > rp->cap - off)
                    len = rp->cap - off;
                memcpy((uint8_t *)rp->buf + off, sw_buf(&p->a, (unsigned)p->id, 1, k), len);
                off += len;
            }
            rp->len = off;
            got++;
        }
        i = j;
    }
    r->head = r->cur = i;
    vpio_port_rxsync(p);
    return got;
}

int vpio_port_stats(struct vpio_port *p, struct vpio_port_stats *st)
{
    if (refuse(p)) { /* the shared counters are gone: report the refusals */
        memset(st, 0, sizeof *st);
        st->tx_errs = st->rx_errs = p->refused;
        return -ENXIO;
    }
    struct vpio_port_stats raw;
    sw_read_stats(p->sp, &raw);
    pthread_mutex_lock(&p->stats_mu);
    vpio_stats_read(&p->stats_rd, &raw, vpio_now_ns(), st);
    pthread_mutex_unlock(&p->stats_mu);
    return 0;
}
