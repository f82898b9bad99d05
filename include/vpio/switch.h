/* vpio switch: a VALE-like learning L2 switch in user space, netmap-style rings.
 *
 * A switch is a named shared-memory arena, /dev/shm/vpio-<switch>, created by
 * the first process that opens a port on it (no daemon). A port is named
 * "<switch>:<port>", e.g. "vale0:p1"; names are 1..31 characters of
 * [A-Za-z0-9_.-]. Each port has one TX ring and one RX ring of
 * VPIO_SW_RING_SLOTS slots; each slot owns one fixed VPIO_SW_BUF_SIZE buffer.
 * Frames longer than one buffer use several consecutive slots, all but the
 * last flagged VPIO_SLOT_MOREFRAG (at most VPIO_SW_MAX_FRAGS slots, i.e.
 * VPIO_SW_MAX_FRAME bytes).
 *
 * Forwarding runs in the sender's thread (vpio_port_txsync or
 * vpio_port_send_batch), in batches of up to VPIO_SW_BATCH packets: learn the
 * source MAC, look up the destination, group per destination port, then per
 * destination (VALE's leases): under its RX lock reserve the slots (a
 * lease), unlock, copy, relock, mark the lease done; the sender holding the
 * oldest lease publishes all completed ones in order (advances the port's
 * published tail) and wakes the receiver if it sleeps. Concurrent senders
 * copy in parallel; a sender that dies mid-lease is expired (its slots
 * become empty, length-0 frames; recv_batch skips them). Broadcast,
 * multicast and unknown unicast are flooded to every other port. A frame that
 * does not fit in a destination RX ring is dropped there and counted in that
 * port's rx_drops. Frames addressed to the sending port itself are dropped.
 *
 * RING INVARIANTS (the netmap rules, stated once):
 *  - Indices are slot numbers in [0, VPIO_SW_RING_SLOTS); "next" wraps.
 *  - The slots in [head, tail) belong to the user (the port's owner process),
 *    the others to the switch. One slot is always kept empty, so at most
 *    VPIO_SW_RING_SLOTS - 1 slots are ever owned by the user.
 *  - The user may only move head and cur forward, within [head, tail], and
 *    cur must not be behind head. head..cur are the slots the user finished,
 *    cur is also the wake-up point: a blocking wait returns once tail != cur.
 *  - tail is written only by the sync calls, never asynchronously: between
 *    two syncs the user's view of the ring is stable.
 *  - TX: the user fills slots from head (buffer, len, flags), advances
 *    head/cur past them and calls vpio_port_txsync, which forwards every
 *    frame in [old head, head) and gives all slots back (tail = head - 1).
 *    Never stop head in the middle of a MOREFRAG chain: an unterminated chain
 *    is cut (sent up to where head stops, if the frame is long enough) --
 *    never merged with the next sync's slots.
 *  - RX: vpio_port_rxsync releases [old head, head) to the switch and moves
 *    tail to the newest frame published by senders. The user reads slots in
 *    [head, tail) and advances head/cur past them. A frame's slots are
 *    always published together.
 *  - Buffers are fixed per slot: the buffer of slot i of a ring is
 *    vpio_ring_buf(port, ring, i). The slot's buf_idx field is informational
 *    (written by the switch); no reader ever uses it to address memory.
 *    There is no zero-copy buffer swapping (no "buffer changed" flag).
 *
 * SHARED STATE AND WHO WRITES / READS IT (arena layout: see docs/switch.md):
 *  - struct vpio_ring (header + slots), TX and RX: written by the owner
 *    process only (the application and its sync calls) -- except RX slots in
 *    the switch's part [tail, head - 1), which senders write (each into the
 *    slots of its lease) before publishing them. Read by the owner only (senders learn
 *    the released slots from the port record's rx_hwcur, not from head).
 *  - Port record (struct vpio_sw_port, src/switch/sw_internal.h):
 *    name/owner pid/state written under the switch's port lock by the
 *    process attaching, detaching or reclaiming the port; rx_hwtail (the
 *    published index), rx_lock and the lease state (reservation index,
 *    lease table) written by senders under rx_lock;
 *    rx_wake_seq incremented by senders; rx_hwcur (released index) written
 *    by the owner's rxsync; rx_need_wake set by the owner's poll before it
 *    sleeps, cleared by the one sender that wakes it; rx_* counters atomic
 *    adds by senders (rx_errs also the owner); tx_* counters by the owner's
 *    forwarding path. All readable by anyone, validated by every reader.
 *  - MAC table: written by any sender (learning, lock-free word stores),
 *    read by any sender.
 *  - Header: written once by the creator before it publishes `ready`; read
 *    (validated against this build's constants) by every attacher.
 *  The ring header and slots are in shared memory too: an application that
 *  must survive a hostile peer masks the indices it reads from them
 *  (i & (VPIO_SW_RING_SLOTS - 1); vpio_ring_next does) and checks slot
 *  lengths against VPIO_SW_BUF_SIZE; the library's own calls always do.
 *  Every reader validates what it reads (indices, lengths, port ids, lock
 *  owners): a crashed or hostile peer can make packets drop or be corrupted,
 *  but never crashes, hangs or makes another process access memory outside
 *  the arena. Locks in the arena are owner-pid spin locks with bounded waits;
 *  a lock whose holder died is taken over. A port whose owner died is
 *  reclaimed (by the next attach, by vpio_switch_info, and by live senders
 *  about once a second); the rest of the switch keeps forwarding.
 *
 * Threads: a struct vpio_port is used by one thread at a time (per direction:
 * TX calls from one thread and RX calls from another one is fine). Different
 * ports may be used concurrently by any threads and processes.
 *
 * A peer that truncates the arena file does not kill the others: the SIGBUS
 * of the next access is caught (a process-wide handler, chained to any
 * previous one for faults outside arenas), the arena is replaced by private
 * zero pages and marked broken, and every later call on its ports refuses:
 * -ENXIO from txsync / rxsync / poll / stats, 0 frames from send_batch /
 * recv_batch (docs/switch.md, "Truncation of the arena file").
 *
 * Return convention: functions returning int return >= 0 on success and a
 * negative errno value on failure.
 */
#ifndef VPIO_SWITCH_H
#define VPIO_SWITCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "vpio/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Limits (compile-time; every process of a switch uses the same) ---- */
#define VPIO_SW_MAX_PORTS 64    /* ports per switch */
#define VPIO_SW_RING_SLOTS 4096 /* slots per ring (power of two) */
#define VPIO_SW_BUF_SIZE 2048   /* bytes per slot buffer */
#define VPIO_SW_MAX_FRAGS 8     /* slots per frame at most */
#define VPIO_SW_MAX_FRAME (VPIO_SW_MAX_FRAGS * VPIO_SW_BUF_SIZE)
#define VPIO_SW_MIN_FRAME 14     /* an Ethernet header; shorter frames are dropped */
#define VPIO_SW_BATCH 512        /* packets forwarded per internal batch */
#define VPIO_SW_NAME_MAX 32      /* switch or port name, including the NUL */
#define VPIO_SW_MAC_ENTRIES 1024 /* learning table entries (direct-mapped) */
#define VPIO_SW_AGE_MS 300000    /* default MAC aging time */

/* ---- Slots and rings (in the arena) ---- */
#define VPIO_SLOT_MOREFRAG 0x0001 /* another slot of the same frame follows */

struct vpio_slot {
    uint32_t buf_idx; /* informational: global buffer number (switch writes) */
    uint16_t len;     /* bytes in this slot's buffer, <= VPIO_SW_BUF_SIZE */
    uint16_t flags;   /* VPIO_SLOT_* */
};

struct vpio_ring {
    uint32_t head;      /* owner writes: first slot the user still owns */
    uint32_t cur;       /* owner writes: wake-up point, head <= cur <= tail */
    uint32_t tail;      /* owner's sync calls write: end of the user's slots */
    uint32_t num_slots; /* creator writes once: VPIO_SW_RING_SLOTS */
    uint32_t buf_size;  /* creator writes once: VPIO_SW_BUF_SIZE */
    uint32_t dir;       /* creator writes once: 0 = TX, 1 = RX */
    uint8_t pad_[40];
    struct vpio_slot slot[VPIO_SW_RING_SLOTS];
};

static inline uint32_t vpio_ring_next(uint32_t i)
{
    return (i + 1) & (VPIO_SW_RING_SLOTS - 1);
}

/* Slots from a to b (exclusive), going forward, wrapping: (b - a) mod N. */
static inline uint32_t vpio_ring_dist(uint32_t a, uint32_t b)
{
    return (b - a) & (VPIO_SW_RING_SLOTS - 1);
}

/* Slots available to the user from cur: RX frames' slots to read, or TX
 * slots free to fill. Reads only ring fields the owner itself writes. */
static inline uint32_t vpio_ring_space(const struct vpio_ring *r)
{
    return vpio_ring_dist(r->cur, r->tail);
}

/* ---- Ports ---- */
struct vpio_port; /* process-local handle */

/* Attach to port "switch:port", creating the switch arena if needed. The
 * port name must not be in use by a live process (-EBUSY); a port whose
 * owner died (exited, killed and not yet reaped, or its pid recycled) is
 * taken over. An invalid header is -EPROTO. A header that never becomes
 * ready (a creator that died before publishing it) is replaced by a new
 * switch, unless a port of the old file still has a live owner: then
 * -EUCLEAN (the switch is corrupt and in use; vpio_switch_strerror says
 * so, `vpio switch rm -f NAME` removes it). flags: 0 (reserved). */
int vpio_port_open(struct vpio_port **out, const char *ifname, unsigned flags);
/* The one check of a port name, the same vpio_port_open applies (no I/O):
 * "switch:port", each part 1..VPIO_SW_NAME_MAX-1 of [A-Za-z0-9_.-], neither
 * "." nor "..". Returns 1 if valid, 0 if not. */
int vpio_port_name_valid(const char *ifname);
/* Detach: the port becomes free, its learned MACs are forgotten. */
void vpio_port_close(struct vpio_port *p);

const char *vpio_port_name(const struct vpio_port *p); /* "switch:port" */
int vpio_port_id(const struct vpio_port *p);           /* 0..VPIO_SW_MAX_PORTS-1 */

struct vpio_ring *vpio_port_txring(struct vpio_port *p);
struct vpio_ring *vpio_port_rxring(struct vpio_port *p);
/* Buffer of slot i (masked to the ring size) of one of p's two rings; NULL
 * if r is not one of them. VPIO_SW_BUF_SIZE bytes. */
void *vpio_ring_buf(struct vpio_port *p, const struct vpio_ring *r, uint32_t i);

/* Forward every frame in [previous head, head) of the TX ring, then give all
 * slots back to the user (tail = head - 1). Invalid slots (len 0 or over the
 * buffer size, frames too short or too long) are dropped and counted in
 * tx_errs; a corrupted head resets the ring. Returns the number of frames
 * delivered to at least one port. */
int vpio_port_txsync(struct vpio_port *p);

/* Give [previous head, head) of the RX ring back to the switch and move tail
 * to the last published frame. Returns the number of slots in [cur, tail).
 * A head/cur outside [previous head, tail] resets them (counted in rx_errs). */
int vpio_port_rxsync(struct vpio_port *p);

#define VPIO_POLL_RX 0x1 /* wait until the RX ring has slots past cur */
#define VPIO_POLL_TX                                                                               \
    0x2 /* wait until the TX ring has free slots (always: the                                      \
           switch drains TX synchronously in txsync) */
/* rxsync, then sleep (futex in the arena) until the event holds or
 * timeout_ms passes (-1 = forever, 0 = don't wait). Spins briefly before
 * sleeping. Returns the events that hold (0 on timeout). */
int vpio_port_poll(struct vpio_port *p, int events, int timeout_ms);

/* Waiting on behalf of a receiver from another thread (a VMM's receive
 * thread, while the device model consumes frames with recv_batch under its
 * own lock). Both read only the published and released indices and the wake
 * futex, never the ring, so they may run concurrently with the thread that
 * receives; only one thread may wait at a time.
 * vpio_port_rx_ready: 1 if frames were published that the owner has not
 * released yet (recv_batch releases what it copies), else 0; -ENXIO.
 * vpio_port_rx_wait: sleeps (no spinning) until rx_ready or timeout_us
 * passes (-1 = forever); returns 1 ready, 0 timeout, -ENXIO. */
int vpio_port_rx_ready(struct vpio_port *p);
int vpio_port_rx_wait(struct vpio_port *p, long timeout_us);

/* Sleeping on the switch and on another source of events at once (a
 * vhost-user port: the guest's kicks come on eventfds, which a futex cannot
 * be polled with). The sleeping thread calls vpio_port_wait_arm (want_rx:
 * also be woken by senders publishing frames for p), then re-checks all its
 * sources (vpio_port_rx_ready, its rings), and only if there is no work
 * calls vpio_port_wait_sleep with the returned token; it returns 1 if woken
 * (by a sender or by vpio_port_wake), 0 on timeout (at most 100 ms).
 * vpio_port_wake, from any thread of the owner, ends that sleep (or makes
 * the next sleep with an older token return at once): no wake-up is lost.
 * Do not mix with vpio_port_poll / rx_wait on the same port. */
uint32_t vpio_port_wait_arm(struct vpio_port *p, int want_rx);
int vpio_port_wait_sleep(struct vpio_port *p, uint32_t token, long timeout_us);
void vpio_port_wake(struct vpio_port *p);

/* struct vpio_pkt (a frame to send) and struct vpio_rxpkt (a receive
 * buffer): vpio/frame.h. */

/* Forward n frames straight from the caller's memory (no TX ring copy):
 * this is what a device model's transmit path calls. Returns the number of
 * frames delivered to at least one port; the others (n - result) were
 * dropped and are counted in tx_drops / tx_errs. Bounded work: never
 * blocks longer than a bounded lock wait per destination. */
unsigned vpio_port_send_batch(struct vpio_port *p, const struct vpio_pkt *pkts, unsigned n);

/* Copy out up to n received frames (reassembling MOREFRAG chains) and
 * release their slots; does not wait (use vpio_port_poll). Returns the
 * number of frames copied. Do not mix with direct use of the RX ring
 * without an rxsync in between. */
unsigned vpio_port_recv_batch(struct vpio_port *p, struct vpio_rxpkt *pkts, unsigned n);
/* Frames recv_batch dropped (and counted in rx_errs) because they were
 * longer than the caller's buffer: this handle's own count. */
uint64_t vpio_port_rx_too_long(const struct vpio_port *p);

/* Counters of one port (read from the arena: informational). */
struct vpio_port_stats {
    uint64_t tx_pkts, tx_bytes; /* frames sent by the port, delivered to >= 1 port */
    uint64_t tx_drops;          /* frames sent by the port delivered nowhere */
    uint64_t tx_errs;           /* invalid frames / slots sent by the port */
    uint64_t rx_pkts, rx_bytes; /* frames put in the port's RX ring */
    uint64_t rx_drops;          /* frames for the port dropped: RX ring full / locked */
    uint64_t rx_errs;           /* corruption seen on the port's RX state */
};
/* The port's counters as this handle may trust them (vpio_stats_read: they
 * live in the arena, where any peer can write them): each only moves
 * forward, and by no more than could have happened since the previous call. */
int vpio_port_stats(struct vpio_port *p, struct vpio_port_stats *st);

/* ---- Counters written by other processes ----
 * A reader-side sanitised snapshot. The reader remembers the raw values of
 * its previous read and what it reported; a new raw value is accepted as
 * `previous report + (raw - previous raw)` only if that difference is
 * forward and at most what one port could have counted in the elapsed time
 * (VPIO_SW_MAX_PPS frames per second plus one batch from every port in
 * flight; bytes: that many frames of VPIO_SW_MAX_FRAME). Otherwise the
 * counter keeps its reported value (the change is counted in `refused`) and
 * the raw value becomes the base for the next read. So a peer that forges a
 * counter can make it jump backwards never, forwards at most at the bound
 * rate. VPIO_SW_MAX_PPS is far above what the switch reaches (a full-ring
 * drop costs a sender one counter add per batch: ~1e8 frames/s here). */
#define VPIO_SW_MAX_PPS 1000000000ull
struct vpio_stats_reader {
    struct vpio_port_stats raw;  /* the arena's values at the previous read */
    struct vpio_port_stats safe; /* the values reported then */
    uint64_t ns;                 /* time of the previous read (caller's monotonic ns) */
    uint64_t refused;            /* counter changes refused: backwards or too fast */
};
/* base: the raw (and reported) values at now_ns; NULL = all zero. */
void vpio_stats_reader_init(struct vpio_stats_reader *r, const struct vpio_port_stats *base,
                            uint64_t now_ns);
void vpio_stats_read(struct vpio_stats_reader *r, const struct vpio_port_stats *raw,
                     uint64_t now_ns, struct vpio_port_stats *out);
/* A short label shown by `vpio switch show` (e.g. an uplink's interface
 * name): up to VPIO_SW_LABEL_MAX - 1 bytes of printable ASCII (longer is
 * cut, others become '?'). Cleared when the port is attached. */
#define VPIO_SW_LABEL_MAX 16
int vpio_port_set_label(struct vpio_port *p, const char *label);

/* ---- Switches (for tools) ---- */
struct vpio_switch_port_info {
    int id;
    char name[VPIO_SW_NAME_MAX]; /* port name, without "switch:" */
    int32_t pid;                 /* owner */
    int alive;                   /* owner process exists */
    uint32_t rx_pending;         /* published frames' slots not yet released */
    char label[VPIO_SW_LABEL_MAX]; /* what the port is (vpio_port_set_label), "" if unset */
    struct vpio_port_stats st;   /* sanitised (vpio_stats_read from zeros at the owner's start) */
};
struct vpio_switch_info {
    char name[VPIO_SW_NAME_MAX];
    int32_t creator_pid;
    uint64_t arena_bytes;
    unsigned mac_entries; /* valid, unexpired learned MACs */
    unsigned nports;
    struct vpio_switch_port_info port[VPIO_SW_MAX_PORTS];
};

/* Names of existing switches (from /dev/shm/vpio-*), up to max; returns the
 * number found (may exceed max). */
int vpio_switch_list(char (*names)[VPIO_SW_NAME_MAX], int max);
/* Snapshot of a switch (attaches without taking a port; reclaims ports of
 * dead owners). -ENOENT if it does not exist, -EPROTO if it is not a valid
 * arena. */
int vpio_switch_info(const char *sw, struct vpio_switch_info *info);
/* Remove a switch's arena. Refused with -EBUSY while a port has a live owner
 * (also when the header is corrupt: the port records are read at this
 * build's offsets) unless force. Processes still attached keep their
 * mapping. */
int vpio_switch_remove(const char *sw, int force);
/* strerror() for the errors of this API, with the switch's own meaning of
 * -EUCLEAN and -EPROTO. */
const char *vpio_switch_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
