/* Split virtqueue, driver side (see virtqueue.h). */
#include "virtqueue.h"
#include "io.h"
#include "kernel.h"

#define USED_FLAGS(vq) ((volatile u16 *)((vq)->used + 0))
#define USED_ELEM(vq, i) ((volatile struct vq_used_elem *)((vq)->used + 4 + 8 * (u32)(i)))
#define AVAIL_EVENT(vq) ((volatile u16 *)((vq)->used + 4 + 8 * (u32)(vq)->size))
#define USED_EVENT(vq) (&(vq)->avail[2 + (vq)->size])

static void full_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int vq_init(struct virtq *vq, u16 index, u16 size, bool event_idx)
{
    memset(vq, 0, sizeof(*vq));
    if (!size || size > VQ_MAX_SIZE || (size & (size - 1)))
        return -1;
    vq->size = size;
    vq->index = index;
    vq->event_idx = event_idx;
    size_t dbytes = 16ul * size, abytes = 6 + 2ul * size, ubytes = 6 + 8ul * size;
    vq->desc = alloc_pages(ALIGN_UP(dbytes, PAGE_SIZE) / PAGE_SIZE, 1);
    vq->avail = alloc_pages(ALIGN_UP(abytes, PAGE_SIZE) / PAGE_SIZE, 1);
    vq->used = alloc_pages(ALIGN_UP(ubytes, PAGE_SIZE) / PAGE_SIZE, 1);
    if (!vq->desc || !vq->avail || !vq->used)
        return -1;
    vq_irq_off(vq);
    return 0;
}

u64 vq_desc_addr(const struct virtq *vq)
{
    return (u64)(uintptr_t)vq->desc;
}
u64 vq_avail_addr(const struct virtq *vq)
{
    return (u64)(uintptr_t)vq->avail;
}
u64 vq_used_addr(const struct virtq *vq)
{
    return (u64)(uintptr_t)vq->used;
}

void vq_add(struct virtq *vq, u16 head)
{
    vq->avail[2 + (vq->avail_idx & (vq->size - 1))] = head;
    vq->avail_idx++;
}

bool vq_publish_kick(struct virtq *vq)
{
    u16 new_idx = vq->avail_idx, old = vq->kick_old;
    if (new_idx == old)
        return false;
    wmb(); /* ring entries (and the descriptors before them) before the index */
    __atomic_store_n(&vq->avail[1], new_idx, __ATOMIC_RELEASE);
    vq->kick_old = new_idx;
    full_barrier(); /* our index visible before we read the device's wish */
    bool kick = vq->event_idx ? vq_need_event(*AVAIL_EVENT(vq), new_idx, old)
                              : !(*USED_FLAGS(vq) & VRING_USED_F_NO_NOTIFY);
    if (!kick) {
        vq->kicks_skipped++;
        return false;
    }
    vq->kicks++;
    if (vq->notify)
        *vq->notify = vq->index;
    return true;
}

bool vq_next_used(struct virtq *vq, u32 *id, u32 *len)
{
    u16 idx = vq_used_idx(vq);
    if (idx == vq->last_used)
        return false;
    if ((u16)(idx - vq->last_used) > vq->size) { /* impossible for a sane device */
        vq->bad_used++;
        return false;
    }
    volatile struct vq_used_elem *e = USED_ELEM(vq, vq->last_used & (vq->size - 1));
    *id = e->id; /* after the index: acquire load above */
    *len = e->len;
    vq->last_used++;
    return true;
}

void vq_irq_off(struct virtq *vq)
{
    if (vq->event_idx)
        /* One behind what we read: the device's interrupt test fails until
         * its index wraps around (65536 entries later: one spurious wake). */
        *USED_EVENT(vq) = (u16)(vq->last_used - 1);
    else
        vq->avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
}

bool vq_irq_on_and_empty(struct virtq *vq)
{
    if (vq->event_idx)
        *USED_EVENT(vq) = vq->last_used;
    else
        vq->avail[0] = 0;
    full_barrier(); /* the wish visible before we look at used.idx again */
    if (!vq_has_used(vq))
        return true;
    vq_irq_off(vq);
    return false;
}
