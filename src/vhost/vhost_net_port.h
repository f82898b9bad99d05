/* A vhost-user virtio-net port of a vpio switch: one switch port, one
 * vhost-user socket (server: we listen; client: we connect), one data
 * thread that serves the connection's messages and both virtqueues.
 *
 * Data thread ("vhost-dp"): TX virtqueue -> switch in batches (one
 * vpio_port_send_batch per batch, straight from guest memory), switch RX
 * ring -> RX virtqueue (MRG_RXBUF: a frame may fill several chains),
 * busy-polls poll_us, then sleeps on the switch's futex. A helper thread
 * ("vhost-kick") blocks on the kick eventfds and the socket and turns each
 * event into vpio_port_wake, so that one futex wait covers everything;
 * with EVENT_IDX the guest kicks only after the data thread asked (before
 * sleeping). The race-free sleep: arm the futex, ask for kicks, full
 * barrier, re-check rings and switch, then sleep.
 *
 * When the front-end goes away (closed socket, refused message) the
 * connection's memory is unmapped, its fds closed, the frames waiting in the
 * switch for it dropped (counted), and the port waits for the next one. */
#ifndef VPIO_VHOST_NET_PORT_H
#define VPIO_VHOST_NET_PORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/vhost_dev.h"
#include "vpio/switch.h"

#define VHOST_NET_BATCH_MAX 256
#define VHOST_NET_MAX_SEGS 64 /* buffers per chain (the switch takes 64 iovecs) */

/* Counters: written by the data thread (kicks: the kick thread), read by
 * anyone (relaxed atomics). */
struct vhost_net_stats {
    uint64_t tx_frames, tx_bytes; /* guest -> switch, delivered to >= 1 port */
    uint64_t tx_drop_switch;      /* the switch delivered them nowhere */
    uint64_t tx_drop_bad_chain;   /* descriptor errors (see ring errors) */
    uint64_t tx_drop_size;        /* shorter than header + 14 or over the switch's max */
    uint64_t tx_drop_offload;     /* a header asking for checksum/GSO (not offered) */
    uint64_t rx_frames, rx_bytes; /* switch -> guest */
    uint64_t rx_drop_too_long;    /* the guest's buffers cannot hold it */
    uint64_t rx_drop_bad_slot;    /* corrupt slots in the switch ring */
    uint64_t rx_drop_no_guest;    /* waiting in the switch when the front-end left */
    uint64_t rx_bad_chain;        /* RX chains returned unused (descriptor errors) */
    uint64_t kicks, calls;        /* eventfd notifications in / out */
    uint64_t sleeps;              /* futex sleeps of the data thread */
    uint64_t connects, disconnects;
    uint64_t msgs, bad_msgs, mem_tables, ring_setup_errs;
    struct virtq_errors ring_err[VHOST_NET_NVRINGS]; /* RX, TX */
    uint64_t rx_switch_drops; /* the switch's rx_drops of this port (ring full) */
    /* Each ring's indices as the data thread last saw them while it ran (it
     * refreshes them before every sleep, every 1024 passes and when the
     * front-end leaves), to tell a stalled ring's side: e.g. avail ==
     * last_avail means the guest posted nothing. */
    struct vhost_ring_state {
        uint64_t running;    /* the ring runs now (else: its last state) */
        uint64_t num;        /* 0: never ran */
        uint64_t last_avail; /* next avail entry the back-end takes */
        uint64_t avail_idx;  /* the guest's avail index */
        uint64_t used_idx;   /* the back-end's published used index */
        uint64_t used_event; /* EVENT_IDX: the guest wants a call past this */
        uint64_t broken;
    } ring_state[VHOST_NET_NVRINGS]; /* RX, TX */
};

struct vhost_net_config {
    const char *ifname; /* SWITCH:PORT */
    const char *socket_path;
    bool client;      /* connect instead of listen */
    unsigned poll_us; /* busy-poll this long before sleeping */
    unsigned batch;   /* chains per TX batch / frames per RX pass, 1..256 */
    bool verbose;     /* print connection events to stderr */
};

struct vhost_net_port;

/* Opens the switch port and the socket (server: listening), starts the data
 * thread. -errno with a message in err. */
int vhost_net_port_start(struct vhost_net_port **out, const struct vhost_net_config *cfg, char *err,
                         size_t errlen);
/* Stops the data thread (the connection is closed; counters stay
 * readable); destroy also closes the port and the socket and frees vp. */
void vhost_net_port_stop(struct vhost_net_port *vp);
void vhost_net_port_destroy(struct vhost_net_port *vp);
void vhost_net_port_get_stats(struct vhost_net_port *vp, struct vhost_net_stats *st);
int vhost_net_port_connected(struct vhost_net_port *vp);

#endif
