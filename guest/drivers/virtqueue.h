/* A split virtqueue (virtio 1.0, 2.4), driver side, with notification
 * suppression both ways (VIRTIO_F_EVENT_IDX, or the flags without it).
 *
 * Shared memory, who writes what:
 *   desc[]              driver writes, device reads
 *   avail.flags/idx/ring driver writes, device reads
 *   avail.used_event    driver writes ("interrupt me when used.idx passes
 *                       this"), device reads (EVENT_IDX)
 *   used.flags/idx/ring device writes, driver reads
 *   used.avail_event    device writes ("kick me when avail.idx passes
 *                       this"), driver reads (EVENT_IDX)
 * Ordering: entries (descriptors, ring slots) are written, then a write
 * barrier, then the index; the reader loads the index, then the entries.
 * Before deciding to kick or to sleep each side publishes its own index,
 * issues a full barrier, then reads the other side's event index (the
 * race-free sleep of DESIGN.md: no lost wake-up, no kick while the peer is
 * awake). Every value read from the used ring is untrusted: ids and lengths
 * are range-checked by the caller (vq_next_used bounds the index walk). */
#ifndef GUEST_VIRTQUEUE_H
#define GUEST_VIRTQUEUE_H
#include "types.h"

#define VQ_MAX_SIZE 1024

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

struct vq_desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

struct vq_used_elem {
    u32 id;
    u32 len;
};

struct virtq {
    u16 size;       /* power of two, <= VQ_MAX_SIZE */
    u16 index;      /* queue number: the value written to notify */
    bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
    volatile struct vq_desc *desc;
    volatile u16 *avail;      /* [0] flags, [1] idx, [2..2+size) ring, [2+size] used_event */
    volatile u8 *used;        /* u16 flags, u16 idx, elem[size], u16 avail_event */
    volatile u16 *notify;     /* this queue's doorbell (NULL in tests: counted only) */
    u16 avail_idx;            /* driver's next avail index (published up to it) */
    u16 kick_old;             /* avail.idx when the last kick decision was made */
    u16 last_used;            /* next used entry to read */
    u64 kicks, kicks_skipped; /* doorbells written / avoided (the device was awake) */
    u64 bad_used;             /* used entries refused (ring walk past idx bound) */
};

/* Lays the queue out in zeroed pages (three runs: desc, avail, used). 0 or
 * -1 (no memory). Interrupts start suppressed. */
int vq_init(struct virtq *vq, u16 index, u16 size, bool event_idx);
u64 vq_desc_addr(const struct virtq *vq);
u64 vq_avail_addr(const struct virtq *vq);
u64 vq_used_addr(const struct virtq *vq);

/* Puts a descriptor chain head into the avail ring (not yet published). */
void vq_add(struct virtq *vq, u16 head);
/* Publishes what vq_add queued (write barrier, avail.idx) and decides
 * whether the device must be told: full barrier, then avail_event (or
 * NO_NOTIFY). Rings the doorbell if so. Returns true if it kicked. */
bool vq_publish_kick(struct virtq *vq);
/* The device's used index (an untrusted value). */
static inline u16 vq_used_idx(const struct virtq *vq)
{
    return __atomic_load_n((volatile u16 *)(vq->used + 2), __ATOMIC_ACQUIRE);
}
static inline bool vq_has_used(const struct virtq *vq)
{
    return vq_used_idx(vq) != vq->last_used;
}
/* Takes the next used element if there is one: false if none. A used.idx
 * more than `size` ahead of last_used is a broken device: refused, counted. */
bool vq_next_used(struct virtq *vq, u32 *id, u32 *len);
/* Interrupts while polling: suppressed (used_event left behind, or
 * NO_INTERRUPT). */
void vq_irq_off(struct virtq *vq);
/* Before sleeping: ask for an interrupt at the next used entry, full
 * barrier, re-check. Returns true if the queue is still empty (sleep is
 * safe), false if entries arrived meanwhile (interrupts are off again). */
bool vq_irq_on_and_empty(struct virtq *vq);

/* The EVENT_IDX rule (virtio 1.0, 2.4.7.2): notify iff new_idx passed
 * event_idx since old_idx. */
static inline bool vq_need_event(u16 event_idx, u16 new_idx, u16 old_idx)
{
    return (u16)(new_idx - event_idx - 1) < (u16)(new_idx - old_idx);
}
#endif
