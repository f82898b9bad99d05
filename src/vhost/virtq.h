/* The device side of a split virtqueue (virtio 1.x, 2.6) in untrusted guest
 * memory.
 *
 * Who writes what: the driver (guest) writes the descriptor table, the
 * avail ring (flags, idx, ring[], used_event = avail->ring[num]); the
 * device (this code) writes the used ring (flags, idx, ring[], avail_event
 * = used->ring[num]). Everything the guest wrote is read once into a local
 * copy and checked: an avail index that moved more than `num` past ours, or
 * a head outside the table, breaks the queue (it stops until the front-end
 * sets it up again: counted); a chain with an address outside every memory
 * region, a loop, a bad or nested indirect table, the wrong direction or
 * too many segments is consumed and returned with length 0 (counted). The
 * work per chain is bounded by the table size (and one indirect table).
 * Little-endian host assumed (x86-64), as the rings are. */
#ifndef VPIO_VHOST_VIRTQ_H
#define VPIO_VHOST_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/vhost_mem.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_MAX_CHAIN_BYTES (1u << 20) /* more in one chain is refused */

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
struct virtq_avail {
    uint16_t flags, idx;
    uint16_t ring[]; /* num entries, then used_event */
};
struct virtq_used_elem {
    uint32_t id, len;
};
struct virtq_used {
    uint16_t flags, idx;
    struct virtq_used_elem ring[]; /* num entries, then avail_event (u16) */
};

/* Errors found in what the guest wrote (each also means a dropped frame or
 * a stopped queue). Written by the queue's thread, read by anyone. */
struct virtq_errors {
    uint64_t avail_idx; /* avail idx jumped more than num ahead: queue broken */
    uint64_t head;      /* head index >= num: queue broken */
    uint64_t addr;      /* buffer outside every memory region */
    uint64_t loop;      /* chain longer than the table: a loop */
    uint64_t indirect;  /* bad indirect table (size, place, nested) */
    uint64_t dir;       /* read-only buffer on RX / writable on TX */
    uint64_t segs;      /* more segments than the caller accepts */
    uint64_t len;       /* chain longer than VIRTQ_MAX_CHAIN_BYTES */
    uint64_t resync;    /* start: base far behind avail idx, resumed at used idx */
};

struct virtq {
    uint16_t num; /* 0: not set up */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail;   /* next avail entry to take */
    uint16_t avail_seen;   /* the guest's avail idx at our last valid look:
                              chains below it are taken without a new look
                              at a cache line the guest keeps writing */
    uint16_t used_idx;     /* next used entry to write (published by flush) */
    uint16_t flushed_used; /* used idx at the last flush */
    bool event_idx, indirect;
    bool broken;
    bool fresh; /* set up, avail idx not looked at yet */
    struct virtq_errors err;
};

/* Translates the ring addresses (front-end process addresses) and checks
 * size, alignment and placement. base is the avail index to start from. */
int virtq_setup(struct virtq *q, const struct vhost_mem *mem, uint32_t num, uint64_t desc_uva,
                uint64_t avail_uva, uint64_t used_uva, uint16_t base, bool event_idx,
                bool indirect);

/* Available chains not yet taken (0 when broken); marks the queue broken if
 * the guest's index is more than num ahead. Except at the first look after
 * set-up: a front-end that reconnects to a new back-end may give base 0
 * (DPDK virtio-user does) for a ring whose index has moved on; then the
 * ring resumes where the used index says the last back-end stopped (what
 * QEMU itself does when its back-end dies), if that is within num. */
unsigned virtq_avail_count(struct virtq *q);

enum virtq_pop_result { VIRTQ_EMPTY = 0, VIRTQ_CHAIN = 1, VIRTQ_BAD_CHAIN = -1, VIRTQ_BROKEN = -2 };
/* Takes the next chain: its buffers as host iovecs (write: device-writable
 * buffers for RX, else device-readable for TX), the total length and the
 * head to return. VIRTQ_BAD_CHAIN: consumed and counted, return it with
 * virtq_push(head, 0). */
int virtq_pop(struct virtq *q, const struct vhost_mem *mem, bool write, struct iovec *iov,
              unsigned max_iov, unsigned *niov, uint64_t *len, uint16_t *head);
/* Gives back the last n popped chains (not pushed yet). */
void virtq_unpop(struct virtq *q, unsigned n);
/* Returns a chain to the guest, `len` bytes written into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Publishes the pushed entries; true if the guest wants an interrupt. */
bool virtq_flush(struct virtq *q);
/* Ask for kicks (before sleeping) or stop asking (while polling). */
void virtq_set_kicks(struct virtq *q, bool enable);
/* After virtq_set_kicks(q, true): a full barrier, then whether chains came
 * meanwhile (the race-free sleep). */
bool virtq_recheck(struct virtq *q);

#endif
