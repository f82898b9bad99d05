/* The device side of a split virtqueue (see virtq.h). */
#include "vhost/virtq.h"

#include <errno.h>
#include <string.h>

#define VIRTQ_PREFETCH_AHEAD 4

int virtq_setup(struct virtq *q, const struct vhost_mem *mem, uint32_t num, uint64_t desc_uva,
                uint64_t avail_uva, uint64_t used_uva, uint16_t base, bool event_idx, bool indirect)
{
    struct virtq_errors keep = q->err;
    memset(q, 0, sizeof *q);
    q->err = keep;
    if (num == 0 || num > VIRTQ_MAX_SIZE || (num & (num - 1)))
        return -EINVAL;
    void *d = vhost_mem_uva(mem, desc_uva, 16ull * num);
    void *a = vhost_mem_uva(mem, avail_uva, 4ull + 2ull * num + 2);
    void *u = vhost_mem_uva(mem, used_uva, 4ull + 8ull * num + 2);
    if (!d || !a || !u || ((uintptr_t)d & 15) || ((uintptr_t)a & 1) || ((uintptr_t)u & 3))
        return -EINVAL;
    q->desc = d;
    q->avail = a;
    q->used = u;
    q->num = (uint16_t)(num == VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : num);
    q->last_avail = q->used_idx = q->flushed_used = q->avail_seen = base;
    q->event_idx = event_idx;
    q->indirect = indirect;
    q->fresh = true;
    return 0;
}

unsigned virtq_avail_count(struct virtq *q)
{
    if (!q->num || q->broken)
        return 0;
    uint16_t idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
    uint16_t n = (uint16_t)(idx - q->last_avail);
    if (n > q->num && q->fresh) {
        uint16_t u = __atomic_load_n(&q->used->idx, __ATOMIC_RELAXED);
        if ((uint16_t)(idx - u) <= q->num) {
            q->last_avail = q->used_idx = q->flushed_used = q->avail_seen = u;
            n = (uint16_t)(idx - u);
            q->err.resync++;
        }
    }
    q->fresh = false;
    if (n > q->num) {
        q->broken = true;
        q->err.avail_idx++;
        return 0;
    }
    q->avail_seen = idx;
    return n;
}

static struct virtq_desc read_desc(const struct virtq_desc *d)
{
    struct virtq_desc v;
    memcpy(&v, (const void *)d, sizeof v); /* one read of the guest's copy */
    __asm__ volatile("" ::: "memory");
    return v;
}

/* Appends [addr, addr+len) (guest-physical) to iov, split where it crosses
 * regions. 0, or a pointer to the counter of the reason it failed. */
static uint64_t *add_buf(struct virtq *q, const struct vhost_mem *mem, uint64_t addr, uint32_t len,
                         struct iovec *iov, unsigned max_iov, unsigned *niov, uint64_t *total)
{
    if (*total + len > VIRTQ_MAX_CHAIN_BYTES)
        return &q->err.len;
    *total += len;
    uint64_t left = len;
    while (left) {
        uint64_t c;
        void *h = vhost_mem_gpa(mem, addr, left, &c);
        if (!h || !c)
            return &q->err.addr;
        if (*niov >= max_iov)
            return &q->err.segs;
        iov[*niov].iov_base = h;
        iov[*niov].iov_len = (size_t)c;
        (*niov)++;
        addr += c; /* cannot wrap: c bytes from addr lie inside a region */
        left -= c;
    }
    return NULL;
}

int virtq_pop(struct virtq *q, const struct vhost_mem *mem, bool write, struct iovec *iov,
              unsigned max_iov, unsigned *niov, uint64_t *len, uint16_t *head)
{
    *niov = 0;
    *len = 0;
    if (q->broken)
        return VIRTQ_BROKEN;
    if (q->last_avail == q->avail_seen && !virtq_avail_count(q))
        return q->broken ? VIRTQ_BROKEN : VIRTQ_EMPTY;
    uint16_t h = __atomic_load_n(&q->avail->ring[q->last_avail & (q->num - 1)], __ATOMIC_RELAXED);
    if (h >= q->num) {
        q->broken = true;
        q->err.head++;
        return VIRTQ_BROKEN;
    }
    q->last_avail++;
    *head = h;
    /* The guest wrote the descriptors on another core: start fetching the
     * one a few chains ahead (masked: a bad head there is only caught when
     * it is popped, and a prefetch never faults). */
    if ((uint16_t)(q->avail_seen - q->last_avail) > VIRTQ_PREFETCH_AHEAD) {
        uint16_t ah = __atomic_load_n(
            &q->avail->ring[(uint16_t)(q->last_avail + VIRTQ_PREFETCH_AHEAD) & (q->num - 1)],
            __ATOMIC_RELAXED);
        __builtin_prefetch(&q->desc[ah & (q->num - 1)]);
    }
    const struct virtq_desc *table = q->desc;
    uint32_t tsize = q->num, i = h, seen = 0;
    bool in_indirect = false;
    uint64_t *bad = NULL;
    for (;;) {
        if (++seen > tsize) {
            bad = &q->err.loop;
            break;
        }
        struct virtq_desc d = read_desc(&table[i]);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            uint64_t c;
            if (in_indirect || !q->indirect || d.len == 0 || (d.len & 15) ||
                d.len / 16 > VIRTQ_MAX_SIZE) {
                bad = &q->err.indirect;
                break;
            }
            const void *t = vhost_mem_gpa(mem, d.addr, d.len, &c);
            if (!t || c != d.len || ((uintptr_t)t & 15)) {
                bad = &q->err.indirect;
                break;
            }
            table = t;
            tsize = d.len / 16;
            in_indirect = true;
            seen = 0;
            i = 0;
            continue;
        }
        if (!!(d.flags & VIRTQ_DESC_F_WRITE) != write) {
            bad = &q->err.dir;
            break;
        }
        if (d.len && (bad = add_buf(q, mem, d.addr, d.len, iov, max_iov, niov, len)) != NULL)
            break;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= tsize) {
            bad = &q->err.addr; /* a next outside the table */
            break;
        }
        i = d.next;
    }
    if (bad) {
        (*bad)++;
        *niov = 0;
        *len = 0;
        return VIRTQ_BAD_CHAIN;
    }
    return VIRTQ_CHAIN;
}

void virtq_unpop(struct virtq *q, unsigned n)
{
    q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
    struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];
    __atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
    q->used_idx++;
}

bool virtq_flush(struct virtq *q)
{
    if (q->used_idx == q->flushed_used)
        return false;
    __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* publish, then read the guest's wish */
    uint16_t old = q->flushed_used, now = q->used_idx;
    q->flushed_used = now;
    if (q->event_idx) {
        uint16_t ev = __atomic_load_n(&q->avail->ring[q->num], __ATOMIC_RELAXED);
        return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
    }
    return !(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_set_kicks(struct virtq *q, bool enable)
{
    if (!q->num)
        return;
    if (q->event_idx) {
        if (enable) /* kick me once the index moves past what I have taken */
            __atomic_store_n((uint16_t *)&q->used->ring[q->num], q->last_avail, __ATOMIC_RELAXED);
        return; /* polling: the stale event index already suppresses kicks */
    }
    __atomic_store_n(&q->used->flags, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool virtq_recheck(struct virtq *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return virtq_avail_count(q) != 0; /* a broken queue has no work: sleep */
}
