/* Port backends of a NIC model: where transmitted frames go and where
 * received frames come from. One interface, one file per backend.
 *
 * Frames carry no FCS. Every call is made from the owner's thread with the
 * NIC's lock held; a backend never calls back into the device.
 *
 * Who owns what:
 * Frames travel as struct vpio_pkt / struct vpio_rxpkt (vpio/frame.h), the
 * switch's own descriptors: the switch port passes a batch through as it is.
 *
 *   send_batch: the frames (and their bytes) belong to the caller and are
 *     valid only during the call; the backend copies what it keeps. It returns
 *     how many frames it accepted (the rest are dropped and counted by the
 *     backend in stats.tx_drops). It may be handed up to NET_BATCH_MAX frames.
 *     Device models hand contiguous frames (iovcnt 0); a backend other than
 *     the switch port drops a frame with iovcnt > 0 (tx_drops).
 *   recv: copies one frame of at most cap bytes into buf and returns its length;
 *     0 when nothing is waiting; a frame longer than cap is dropped, counted in
 *     stats.rx_drops, and the next one is tried.
 *   poll_fd: an fd that becomes readable (level-triggered) when recv would
 *     return a frame, or -1 (the backend never receives: null, pcap).
 *   recv_batch (optional; net_recv_batch falls back to recv): up to n frames,
 *     frame i copied straight into b[i].buf (at most b[i].cap bytes, length
 *     in b[i].len) -- for a device model, the guest's own RX buffers, so a
 *     frame is copied once. A frame longer than its cap is dropped and
 *     counted in stats.rx_drops. Returns the frames received.
 *   rx_pending (optional): non-zero if recv would find a frame (cheap, no
 *     side effects). Backends without it: unknown, treated as "no".
 *   rx_dropped (optional, with rx_pending): how many frames for this port
 *     the backend has dropped so far because they found its queue full (the
 *     consumer had no room): a backend that holds frames counts what it
 *     could not hold, and the device model reports it as missed (MPC).
 *   start_rx (optional, instead of poll_fd): backends whose input is not an
 *     fd (the switch port: a futex in shared memory) wait in a thread of
 *     their own and call on_ready(opaque) from it when frames may be
 *     waiting. on_ready returns 0 when it is done (wait for the next
 *     arrival), or a delay in ns after which to call it again without
 *     waiting (the consumer is busy or has no room yet: frames stay queued
 *     in the backend meanwhile). The consumer receives from its own threads,
 *     under its own lock; stop_rx ends the thread (close does too). */
#ifndef VPIO_NET_BACKEND_H
#define VPIO_NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vpio/frame.h" /* struct vpio_pkt, struct vpio_rxpkt */

#define NET_BATCH_MAX 1024
#define NET_FRAME_MAX 65536 /* largest frame a backend is ever handed */

typedef uint64_t (*net_rx_ready_fn)(void *opaque);

struct net_backend_stats {
    uint64_t tx_frames, tx_bytes, tx_batches, tx_drops;
    uint64_t rx_frames, rx_bytes, rx_drops;
};

struct net_backend;

struct net_backend_ops {
    const char *kind; /* "null", "pcap", "tap", "switch" */
    unsigned (*send_batch)(struct net_backend *be, const struct vpio_pkt *frames, unsigned n);
    ssize_t (*recv)(struct net_backend *be, void *buf, size_t cap);
    int (*poll_fd)(struct net_backend *be);
    void (*close)(struct net_backend *be); /* frees be */
    unsigned (*recv_batch)(struct net_backend *be, struct vpio_rxpkt *b, unsigned n);
    int (*rx_pending)(struct net_backend *be);
    uint64_t (*rx_dropped)(struct net_backend *be);
    int (*start_rx)(struct net_backend *be, net_rx_ready_fn on_ready, void *opaque);
    void (*stop_rx)(struct net_backend *be);
    /* Optional: as close, and also removes what opening created outside
     * the process (the switch port: a switch arena it created, unless
     * others have joined it). For a user of the backend that failed to set
     * up and leaves nothing behind. Without it: close. */
    void (*discard)(struct net_backend *be);
};

struct net_backend {
    const struct net_backend_ops *ops;
    void *priv;
    char desc[128]; /* "tap:tap0", for messages */
    struct net_backend_stats stats;
};

/* ---- inline dispatch ---- */
static inline unsigned net_send_batch(struct net_backend *be, const struct vpio_pkt *f, unsigned n)
{
    return be->ops->send_batch(be, f, n);
}
static inline ssize_t net_recv(struct net_backend *be, void *buf, size_t cap)
{
    return be->ops->recv ? be->ops->recv(be, buf, cap) : 0;
}
static inline int net_poll_fd(struct net_backend *be)
{
    return be->ops->poll_fd ? be->ops->poll_fd(be) : -1;
}
unsigned net_recv_batch(struct net_backend *be, struct vpio_rxpkt *b, unsigned n);

/* Called first thing by every thread a backend starts (the switch port's
 * sw-rx), if set: the program places it (`vpio vm --io-cpus` sets it; this
 * layer knows nothing of CPUs). */
extern void (*net_thread_start_hook)(void);
static inline int net_rx_pending(struct net_backend *be)
{
    return be->ops->rx_pending ? be->ops->rx_pending(be) : 0;
}
static inline uint64_t net_rx_dropped(struct net_backend *be)
{
    return be->ops->rx_dropped ? be->ops->rx_dropped(be) : 0;
}
/* "tap:tap0", for messages. */
static inline const char *net_desc(const struct net_backend *be)
{
    return be->desc;
}
/* Frames recv / recv_batch dropped so far because they were longer than the
 * caller's buffer (stats.rx_drops). */
static inline uint64_t net_rx_too_long(const struct net_backend *be)
{
    return be->stats.rx_drops;
}
/* Whether the backend holds frames the consumer has no room for yet (it has
 * rx_pending: the switch port), instead of dropping them on arrival. */
static inline bool net_holds_rx(const struct net_backend *be)
{
    return be->ops->rx_pending != NULL;
}
static inline bool net_has_rx_thread(struct net_backend *be)
{
    return be->ops->start_rx != NULL;
}
static inline int net_start_rx(struct net_backend *be, net_rx_ready_fn on_ready, void *opaque)
{
    return be->ops->start_rx ? be->ops->start_rx(be, on_ready, opaque) : -1;
}
static inline void net_stop_rx(struct net_backend *be)
{
    if (be->ops->stop_rx)
        be->ops->stop_rx(be);
}
void net_backend_close(struct net_backend *be);   /* NULL is fine */
void net_backend_discard(struct net_backend *be); /* ops->discard or close; NULL is fine */

/* ---- backend types ----
 * Each backend file defines one `const struct net_backend_type` and the table
 * in src/net/backends.c lists them: a new backend is one new file plus one
 * line there. The --nic parser and its help text read only the table.
 *
 *   name "tap", takes_arg: the user types "tap:ARG"; no takes_arg: "null".
 *   check: pure validation of ARG at parse time (NULL: any non-empty ARG).
 *   bare: the type also claims a BACKEND with no known "name:" prefix if
 *     check accepts it as a whole ("vale0:p1" is the switch port vale0:p1).
 *     At most one type is bare; prefixes are tried first.
 *   open: opens the backend; NULL with a message in err. */
struct net_backend_type {
    const char *name;
    bool takes_arg;
    bool bare;
    const char *help; /* "tap:IFNAME", for --help and error messages */
    int (*check)(const char *arg, char *err, size_t errlen);
    struct net_backend *(*open)(const char *arg, char *err, size_t errlen);
};

extern const struct net_backend_type *const net_backend_types[];
extern const size_t net_backend_type_count;

/* The backend name a spec begins with ("tap:tap0,mac=..." -> tap), or NULL. */
const struct net_backend_type *net_backend_type_find(const char *name, size_t len);
/* "null | pcap:FILE | tap:IFNAME | switch:SWITCH:PORT | SWITCH:PORT", from the table. */
const char *net_backend_help(void);

/* ---- the --nic specification ----
 *   BACKEND[,mac=XX:XX:XX:XX:XX:XX][,DEVICE_OPTION=VALUE]...
 *   BACKEND := one of the table's forms, see net_backend_help()
 * (a bare SWITCH:PORT such as vale0:p1 means the switch backend). Options
 * other than mac belong to the device and are handed to its parser as they
 * are (dev_opts): the e1000's are mitigation, csb and csb_poll_us
 * (src/dev/e1000_opts.h). */
#define NET_SPEC_ARG_MAX 256

struct net_nic_spec {
    const struct net_backend_type *type;
    char arg[NET_SPEC_ARG_MAX]; /* pcap file, tap name, or "SWITCH:PORT"; "" without one */
    bool has_mac;
    uint8_t mac[6];
    char dev_opts[NET_SPEC_ARG_MAX]; /* "key=value[,key=value]..." for the device, or "" */
};

/* Pure parser (no I/O): 0 on success, -1 with a message in err. */
int net_nic_spec_parse(const char *s, struct net_nic_spec *out, char *err, size_t errlen);
/* "52:54:00:12:34:56" → mac; 0 or -1. Rejects multicast and all-zero. */
int net_parse_mac(const char *s, uint8_t mac[6]);
/* A locally administered default: 52:54:00:12:34:(0x56 + index). */
void net_default_mac(unsigned index, uint8_t mac[6]);

/* Opens the backend a parsed spec names; NULL with a message in err. */
struct net_backend *net_backend_create(const struct net_nic_spec *spec, char *err, size_t errlen);
/* Parses a --nic spec and opens its backend (mac and device options are
 * ignored here). */
struct net_backend *net_backend_open(const char *spec, char *err, size_t errlen);

/* Common allocation helper for backends. */
struct net_backend *net_backend_alloc(const struct net_backend_ops *ops, size_t priv_size,
                                      const char *desc);

#endif
