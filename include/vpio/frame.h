/* Frame descriptors: the one pair of types a frame crosses every boundary
 * in (device model → backend → switch, and back), so no layer re-packs a
 * batch. Used by include/vpio/switch.h (vpio_port_send_batch,
 * vpio_port_recv_batch) and src/net/backend.h (send_batch, recv_batch).
 * Frames carry no FCS. */
#ifndef VPIO_FRAME_H
#define VPIO_FRAME_H

#include <stdint.h>
#include <sys/uio.h>

/* A frame to send, owned by the caller for the duration of the call: one
 * buffer (iovcnt == 0: data, len; what device models hand over) or the
 * concatenation of iov[0..iovcnt). */
struct vpio_pkt {
    const void *data;
    uint32_t len;
    uint32_t iovcnt;
    const struct iovec *iov;
};

/* A buffer to receive one frame into (for a device model: the guest's own
 * RX buffer, so a frame is copied once). */
struct vpio_rxpkt {
    void *buf;    /* caller's buffer */
    uint32_t cap; /* its size */
    uint32_t len; /* out: frame length (a frame over cap is dropped and counted) */
};

#endif
