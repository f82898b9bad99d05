/* Private layout of the switch arena and the process-local port handle.
 * Shared with the unit tests, the fuzz target and test tools; applications
 * use include/vpio/switch.h only. See docs/switch.md for the layout. */
#ifndef VPIO_SW_INTERNAL_H
#define VPIO_SW_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <pthread.h>

#include "vpio/switch.h"

#define VPIO_SW_MAGIC 0x3230575354504956ull /* "VIPTSW02" little-endian */
#define VPIO_SW_VERSION 2u                  /* 2: RX leases */
#define VPIO_SW_READY 0x59444552u           /* "REDY" */
#define SW_RING_MASK (VPIO_SW_RING_SLOTS - 1)

/* Port states. */
#define SW_PORT_FREE 0u
#define SW_PORT_BUSY 1u /* being initialised under the port lock */
#define SW_PORT_ACTIVE 2u

/* Header: page 0. Written once by the creator, then `ready` (release). */
struct vpio_sw_hdr {
    uint64_t magic;
    uint32_t version;
    uint32_t ready;
    uint64_t arena_size;
    uint32_t max_ports, ring_slots, buf_size, mac_entries;
    uint64_t mac_ofs, ports_ofs, rings_ofs, bufs_ofs;
    int32_t creator_pid;
    uint32_t age_ms;
    char name[VPIO_SW_NAME_MAX];
    uint32_t port_lock __attribute__((aligned(64))); /* holder tid, 0 = free */
};

/* Learning table entry: key = mac48 | (port + 1) << 48 (0 = empty),
 * stamp = CLOCK_MONOTONIC ms of the last refresh. Any sender writes. */
struct vpio_sw_mac {
    uint64_t key;
    uint64_t stamp_ms;
};

/* An RX lease (VALE): slots [start, end) of a port's RX ring reserved by one
 * sender under rx_lock, filled outside the lock, marked done under the lock
 * and published (rx_hwtail moves over it) once every older lease is done.
 * Written under rx_lock only. */
#define SW_LEASES 64 /* per port: one per concurrent sender (a port sends from one thread) */
struct vpio_sw_lease {
    uint32_t id; /* lease sequence number; the entry is live if id in [lease_first, lease_next) */
    uint32_t owner;      /* sender's thread id */
    uint16_t start, end; /* slots */
    uint16_t nframes;    /* frames in it (for the drop count if it expires) */
    uint16_t done;       /* 1: copy finished (or expired: slots emptied) */
    uint64_t stamp_ms;   /* sw_now_ms() at reservation */
    uint64_t pad_;
};

/* Port record. */
struct vpio_sw_port {
    /* line 0: identity; written under hdr->port_lock by attach/detach/reap */
    uint32_t state;
    int32_t pid;
    uint32_t gen;
    uint32_t pad0_;
    char name[VPIO_SW_NAME_MAX];
    uint64_t pid_start; /* owner's start time (/proc/PID/stat field 22) at attach; 0 = unknown */
    uint8_t pad1_[8];
    /* line 1: sender side of the RX ring; written by senders under rx_lock */
    uint32_t rx_lock __attribute__((aligned(64))); /* holder tid, 0 = free */
    uint32_t rx_resv;     /* reserved up to here: leases cover [rx_hwtail, rx_resv) */
    uint32_t lease_first; /* oldest live lease id */
    uint32_t lease_next;  /* next lease id */
    /* line 2: published index and wake word: written by the sender that
     * publishes (under rx_lock), read by the owner (apart from line 1, so
     * the owner's polling does not bounce the line senders lock) */
    uint32_t rx_hwtail
        __attribute__((aligned(64))); /* published: frames in [rx_hwcur, rx_hwtail) */
    uint32_t rx_wake_seq;             /* futex word: ++ on each wake */
    /* line 3: owner side of the RX ring; written by the owner's rxsync/poll
     * (rx_need_wake also cleared by the sender that wakes the owner) */
    uint32_t rx_hwcur __attribute__((aligned(64))); /* released up to here */
    uint32_t rx_need_wake; /* owner sleeps (or is about to); the waking sender clears it */
    char label[16];        /* what the port is (an uplink: its interface), NUL-terminated;
                              cleared by attach, written by the owner (vpio_port_set_label),
                              read by tools (vpio_switch_info) */
    /* line 4: RX counters, atomic adds by senders (and the owner: rx_errs) */
    uint64_t rx_pkts __attribute__((aligned(64)));
    uint64_t rx_bytes, rx_drops, rx_errs;
    /* line 5: TX counters, written by the owner's forwarding path */
    uint64_t tx_pkts __attribute__((aligned(64)));
    uint64_t tx_bytes, tx_drops, tx_errs;
    /* lines 6..37: RX leases, entry id % SW_LEASES (under rx_lock) */
    struct vpio_sw_lease lease[SW_LEASES] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

/* Layout (all offsets from the arena base). */
#define SW_HDR_SIZE 4096ul
#define SW_MAC_OFS SW_HDR_SIZE
#define SW_PORTS_OFS (SW_MAC_OFS + VPIO_SW_MAC_ENTRIES * sizeof(struct vpio_sw_mac))
#define SW_RINGS_OFS (SW_PORTS_OFS + VPIO_SW_MAX_PORTS * sizeof(struct vpio_sw_port))
#define SW_NRINGS (2ul * VPIO_SW_MAX_PORTS)
#define SW_BUFS_OFS ((SW_RINGS_OFS + SW_NRINGS * sizeof(struct vpio_ring) + 4095ul) & ~4095ul)
#define SW_NBUFS (SW_NRINGS * VPIO_SW_RING_SLOTS)
#define SW_ARENA_SIZE (SW_BUFS_OFS + SW_NBUFS * (size_t)VPIO_SW_BUF_SIZE)

/* A mapped arena (process-local). */
struct sw_arena {
    int fd;
    uint8_t *base;
    size_t size;
    char name[VPIO_SW_NAME_MAX];
    struct vpio_sw_hdr *hdr;
    struct vpio_sw_mac *mac;
    struct vpio_sw_port *ports;
    uint32_t age_ms; /* validated copy */
    int guard;       /* slot in the SIGBUS guard's table (guard.c), -1 = none */
};

static inline struct vpio_ring *sw_ring(const struct sw_arena *a, unsigned port, unsigned dir)
{
    return (struct vpio_ring *)(a->base + SW_RINGS_OFS +
                                (2ul * port + dir) * sizeof(struct vpio_ring));
}

static inline uint8_t *sw_buf(const struct sw_arena *a, unsigned port, unsigned dir, uint32_t i)
{
    size_t idx = (2ul * port + dir) * VPIO_SW_RING_SLOTS + (i & SW_RING_MASK);
    return a->base + SW_BUFS_OFS + idx * VPIO_SW_BUF_SIZE;
}

/* Slots of an RX ring the switch may still fill from `from` (the published
 * tail, or the reservation index) up to the owner's released index hwcur,
 * one slot kept empty: (hwcur - 1 - from) mod N. */
static inline uint32_t sw_ring_space(uint32_t hwcur, uint32_t from)
{
    return (hwcur + VPIO_SW_RING_SLOTS - 1 - from) & SW_RING_MASK;
}

struct vpio_port {
    struct sw_arena a;
    int id;
    uint32_t gen;
    char ifname[2 * VPIO_SW_NAME_MAX];
    struct vpio_sw_port *sp;
    struct vpio_ring *tx, *rx;
    uint32_t tx_hwcur;  /* TX: forwarded up to here */
    uint32_t rx_hwcur;  /* RX: released up to here */
    uint32_t rx_hwtail; /* RX: tail last given to the user */
    uint64_t last_reap_ms;
    uint64_t refused;     /* calls refused because the arena is broken (guard.c) */
    uint64_t rx_too_long; /* frames recv_batch dropped: longer than the caller's buffer */
    uint64_t last_src_key, last_learn_ms;
    pthread_mutex_t stats_mu;          /* vpio_port_stats may be called from any thread */
    struct vpio_stats_reader stats_rd; /* this handle's view of its counters (under stats_mu) */
    uint64_t stuck_until_ms[VPIO_SW_MAX_PORTS]; /* RX lock not obtained: skip until */
    /* forwarding scratch (one batch) */
    uint16_t dst[VPIO_SW_BATCH];
    uint32_t len[VPIO_SW_BATCH];
    uint8_t delivered[VPIO_SW_BATCH];
    uint16_t order[VPIO_SW_BATCH]; /* one destination's frames, batch order */
    uint8_t need[VPIO_SW_BATCH];   /* slots per frame (in order[] order) */
    uint16_t cnt[VPIO_SW_MAX_PORTS];
    uint16_t list[VPIO_SW_MAX_PORTS][VPIO_SW_BATCH];
    uint16_t flood[VPIO_SW_BATCH];
    unsigned nflood;
    /* txsync scratch */
    struct vpio_pkt txp[VPIO_SW_RING_SLOTS];
    struct iovec txiov[VPIO_SW_RING_SLOTS];
};

/* Arena (switch.c). */
int sw_arena_open(struct sw_arena *a, const char *sw, int create);
void sw_arena_close(struct sw_arena *a);
int sw_valid_name(const char *s);
void sw_reap(struct sw_arena *a, int wait_ms);
/* A process or thread is alive if it exists and is not a zombie; a port
 * owner also if its start time is the one recorded at attach (else its pid
 * was recycled). sw_pid_start: the start time, 0 if unknown. */
int sw_pid_alive(int32_t pid);
int sw_owner_alive(int32_t pid, uint64_t start);
uint64_t sw_pid_start(int32_t pid);
static inline int sw_port_owner_alive(const struct vpio_sw_port *sp)
{
    return sw_owner_alive(__atomic_load_n(&sp->pid, __ATOMIC_RELAXED),
                          __atomic_load_n(&sp->pid_start, __ATOMIC_RELAXED));
}
uint32_t sw_tid(void); /* this thread's id (cached) */

/* SIGBUS guard (guard.c): register a mapping (returns its slot or -ENOSPC),
 * unregister it (before munmap), and whether a fault replaced it with zero
 * pages (the file was truncated under us). */
int sw_guard_add(void *base, size_t size);
void sw_guard_del(int slot);
int sw_guard_broken(int slot);
unsigned sw_guard_faults(void);
static inline int sw_arena_broken(const struct sw_arena *a)
{
    return sw_guard_broken(a->guard);
}

/* Locks in the arena: bounded wait, dead holders taken over. Returns 0 (or 1
 * if taken over from a dead holder), -ETIMEDOUT. */
int sw_lock(uint32_t *w, unsigned max_wait_us);
void sw_unlock(uint32_t *w);

/* MAC table (mac.c). now_ms from sw_now_ms(). */
uint64_t sw_mac48(const uint8_t *m);
/* sw_mac48 of a frame's destination (bytes 0..5) and source (6..11), from
 * two unaligned 8-byte loads of bytes 0..7 and 4..11 of the 12-byte header:
 * a few instructions where two sw_mac48 calls take ~35 (x86-64 is
 * little-endian, the byte swap makes byte 0 the most significant). */
static inline void sw_hdr_macs(const uint8_t h[12], uint64_t *dst, uint64_t *src)
{
    uint64_t lo, hi;
    memcpy(&lo, h, 8);
    memcpy(&hi, h + 4, 8);
    *dst = __builtin_bswap64(lo) >> 16;
    *src = __builtin_bswap64(hi) & 0xffffffffffffull;
}
unsigned sw_mac_hash(uint64_t mac48);
void sw_mac_learn(struct sw_arena *a, uint64_t mac48, unsigned port, uint64_t now_ms);
int sw_mac_lookup(const struct sw_arena *a, uint64_t mac48, uint64_t now_ms); /* port or -1 */
void sw_mac_forget_port(struct sw_arena *a, unsigned port);
unsigned sw_mac_count(const struct sw_arena *a, uint64_t now_ms);

/* Clock (tests may replace it). */
extern uint64_t (*sw_now_ms)(void);
uint64_t sw_clock_ms(void);

/* RX leases (forward.c). Under dp->rx_lock: forget every lease (senders
 * still copying find theirs gone and count their frames as dropped);
 * expire leases of dead (or > SW_LEASE_MAX_MS old) senders and publish the
 * completed ones in order (returns 1 if rx_hwtail moved). */
#define SW_LEASE_CHECK_MS 10 /* a lease this old: is its owner alive? */
#define SW_LEASE_MAX_MS 1000 /* a lease this old is expired even if it is */
void sw_lease_reset(struct vpio_sw_port *dp);
int sw_lease_settle(struct sw_arena *a, unsigned d, uint64_t now_ms);
/* Test hook: called by a sender between reserving a lease on port dst and
 * copying into it (NULL in normal use). */
extern void (*sw_lease_hook)(struct vpio_port *p, unsigned dst);
/* Leases completed while an older one was still being copied by another
 * sender (published by that one): concurrent copies happened (tests). */
extern unsigned long sw_lease_overtaken;

/* Forward one batch (n <= VPIO_SW_BATCH) from port p (forward.c). */
/* Counters (stats.c): the raw shared values (forgeable: see
 * vpio_stats_read), the clock, an owner's age from its start time. */
void sw_read_stats(const struct vpio_sw_port *sp, struct vpio_port_stats *st);
uint64_t sw_owner_age_ns(uint64_t pid_start);
unsigned sw_forward(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned n);

#endif
