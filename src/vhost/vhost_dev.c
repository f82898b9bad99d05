/* The vhost-user back-end protocol state (see vhost_dev.h). */
#include "vhost/vhost_dev.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void vring_init(struct vhost_vring *v)
{
    struct virtq_errors keep = v->vq.err;
    memset(v, 0, sizeof *v);
    v->vq.err = keep;
    v->kick_fd = v->call_fd = v->err_fd = -1;
}

void vhost_dev_init(struct vhost_dev *d)
{
    memset(d, 0, sizeof *d);
    for (unsigned i = 0; i < VHOST_NET_NVRINGS; i++)
        vring_init(&d->vr[i]);
}

void vhost_dev_reset(struct vhost_dev *d)
{
    for (unsigned i = 0; i < VHOST_NET_NVRINGS; i++) {
        struct vhost_vring *v = &d->vr[i];
        close_fd(&v->kick_fd);
        close_fd(&v->call_fd);
        close_fd(&v->err_fd);
        vring_init(v);
    }
    vhost_mem_clear(&d->mem);
    d->features = d->protocol_features = 0;
    d->features_set = d->owner = false;
    d->kick_fds_changed = true;
}

/* (Re)starts the ring if everything it needs is there; keeps its indices
 * if it was running (a new memory table while running). */
static void ring_refresh(struct vhost_dev *d, unsigned i)
{
    struct vhost_vring *v = &d->vr[i];
    bool want = v->started && v->enabled && v->addr_set && v->num && d->mem.n;
    bool was = v->vq.num != 0;
    uint16_t last = v->vq.last_avail, used = v->vq.used_idx, flushed = v->vq.flushed_used;
    if (!want) {
        if (was)
            v->base = last;
        v->vq.num = 0;
        return;
    }
    int rc = virtq_setup(&v->vq, &d->mem, v->num, v->desc_uva, v->avail_uva, v->used_uva,
                         was ? last : v->base, vhost_dev_has(d, VIRTIO_RING_F_EVENT_IDX),
                         vhost_dev_has(d, VIRTIO_RING_F_INDIRECT_DESC));
    v->setup_failed = rc < 0;
    if (rc < 0) {
        d->c.ring_setup_errs++;
        v->vq.num = 0;
        return;
    }
    if (was) {
        v->vq.used_idx = used;
        v->vq.flushed_used = flushed;
    }
}

static int fail(struct vhost_dev *d, const char *why)
{
    d->last_error = why;
    d->c.bad_msgs++;
    return -EPROTO;
}

/* The u64 of a SET_VRING_KICK/CALL/ERR: ring index and optional fd. */
static int vring_fd_msg(struct vhost_dev *d, struct vhost_msg *m, unsigned *ring, int *fd)
{
    uint64_t v = m->p.u64;
    *ring = (unsigned)(v & VHOST_USER_VRING_IDX_MASK);
    if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD))
        return fail(d, "bad vring fd message");
    if (*ring >= VHOST_NET_NVRINGS)
        return fail(d, "vring index out of range (MQ not offered)");
    *fd = -1;
    if (!(v & VHOST_USER_VRING_NOFD)) {
        *fd = m->fds[0];
        m->fds[0] = -1;
    }
    return 0;
}

static int state_ring(struct vhost_dev *d, const struct vhost_msg *m)
{
    if (m->p.state.index >= VHOST_NET_NVRINGS)
        return fail(d, "vring index out of range (MQ not offered)");
    return (int)m->p.state.index;
}

static int handle(struct vhost_dev *d, struct vhost_msg *m, uint64_t *reply, uint32_t *reply_size)
{
    struct vhost_vring *v;
    unsigned ring;
    int fd, r;
    *reply_size = 0;
    switch (m->request) {
    case VHOST_USER_GET_FEATURES:
        *reply = VHOST_NET_FEATURES;
        *reply_size = 8;
        return 0;
    case VHOST_USER_SET_FEATURES:
        if (m->p.u64 & ~VHOST_NET_FEATURES)
            return fail(d, "features not offered");
        d->features = m->p.u64;
        d->features_set = true;
        return 0;
    case VHOST_USER_GET_PROTOCOL_FEATURES:
        *reply = VHOST_NET_PROTOCOL_FEATURES;
        *reply_size = 8;
        return 0;
    case VHOST_USER_SET_PROTOCOL_FEATURES:
        if (m->p.u64 & ~VHOST_NET_PROTOCOL_FEATURES)
            return fail(d, "protocol features not offered");
        d->protocol_features = m->p.u64;
        return 0;
    case VHOST_USER_GET_QUEUE_NUM:
        *reply = 1;
        *reply_size = 8;
        return 0;
    case VHOST_USER_SET_OWNER:
        d->owner = true;
        return 0;
    case VHOST_USER_RESET_OWNER: /* deprecated; QEMU no longer sends it */
        return 0;
    case VHOST_USER_SET_MEM_TABLE: {
        int rc = vhost_mem_set(&d->mem, &m->p.mem, m->fds, m->nfds);
        if (rc < 0)
            return fail(d, "memory table refused (empty/wrapping region or fd too short)");
        d->c.mem_tables++;
        for (unsigned i = 0; i < VHOST_NET_NVRINGS; i++)
            ring_refresh(d, i); /* running rings: re-translated, indices kept */
        return 0;
    }
    case VHOST_USER_SET_VRING_NUM:
        if ((r = state_ring(d, m)) < 0)
            return r;
        if (m->p.state.num == 0 || m->p.state.num > VIRTQ_MAX_SIZE ||
            (m->p.state.num & (m->p.state.num - 1)))
            return fail(d, "vring size not a power of two in 1..32768");
        d->vr[r].num = m->p.state.num;
        ring_refresh(d, (unsigned)r);
        return 0;
    case VHOST_USER_SET_VRING_BASE:
        if ((r = state_ring(d, m)) < 0)
            return r;
        if (m->p.state.num > 0xffff)
            return fail(d, "vring base over 65535");
        v = &d->vr[r];
        v->base = (uint16_t)m->p.state.num;
        if (v->vq.num) { /* running: restart from the new base */
            v->vq.num = 0;
            ring_refresh(d, (unsigned)r);
        }
        return 0;
    case VHOST_USER_SET_VRING_ADDR:
        if (m->p.addr.index >= VHOST_NET_NVRINGS)
            return fail(d, "vring index out of range (MQ not offered)");
        v = &d->vr[m->p.addr.index];
        v->desc_uva = m->p.addr.desc_uva;
        v->avail_uva = m->p.addr.avail_uva;
        v->used_uva = m->p.addr.used_uva;
        v->addr_set = true;
        if (v->vq.num) {
            v->base = v->vq.last_avail;
            v->vq.num = 0;
        }
        ring_refresh(d, m->p.addr.index);
        return 0;
    case VHOST_USER_GET_VRING_BASE:
        if ((r = state_ring(d, m)) < 0)
            return r;
        v = &d->vr[r];
        if (v->vq.num && d->before_stop)
            d->before_stop(d->opaque, (unsigned)r);
        if (v->vq.num)
            v->base = v->vq.last_avail;
        v->vq.num = 0;
        v->started = false;
        v->enabled = false;
        *reply = ((uint64_t)v->base << 32) | (uint32_t)r; /* struct vhost_vring_state */
        *reply_size = 8;
        return 0;
    case VHOST_USER_SET_VRING_KICK:
        if ((r = vring_fd_msg(d, m, &ring, &fd)) < 0)
            return r;
        v = &d->vr[ring];
        close_fd(&v->kick_fd);
        v->kick_fd = fd; /* -1: the front-end polls, it never kicks */
        v->started = true;
        if (!vhost_dev_has(d, VHOST_USER_F_PROTOCOL_FEATURES))
            v->enabled = true; /* without protocol features rings start enabled */
        d->kick_fds_changed = true;
        ring_refresh(d, ring);
        return 0;
    case VHOST_USER_SET_VRING_CALL:
        if ((r = vring_fd_msg(d, m, &ring, &fd)) < 0)
            return r;
        close_fd(&d->vr[ring].call_fd);
        d->vr[ring].call_fd = fd;
        return 0;
    case VHOST_USER_SET_VRING_ERR:
        if ((r = vring_fd_msg(d, m, &ring, &fd)) < 0)
            return r;
        close_fd(&d->vr[ring].err_fd);
        d->vr[ring].err_fd = fd;
        return 0;
    case VHOST_USER_SET_VRING_ENABLE:
        if ((r = state_ring(d, m)) < 0)
            return r;
        if (m->p.state.num > 1)
            return fail(d, "vring enable not 0 or 1");
        d->vr[r].enabled = m->p.state.num == 1;
        ring_refresh(d, (unsigned)r);
        return 0;
    default:
        return fail(d, "unsupported request");
    }
}

int vhost_dev_handle(struct vhost_dev *d, struct vhost_msg *m, int sock)
{
    const char *why;
    int rc = vhost_msg_check(m, &why);
    if (rc < 0) {
        vhost_msg_close_fds(m);
        return fail(d, why);
    }
    uint64_t reply = 0;
    uint32_t reply_size = 0;
    d->c.msgs++;
    rc = handle(d, m, &reply, &reply_size);
    vhost_msg_close_fds(m); /* the ones the handler did not take */
    if (rc < 0)
        return rc;
    if (sock < 0)
        return 0;
    if (reply_size)
        return vhost_msg_reply(sock, m->request, &reply, reply_size);
    if ((m->flags & VHOST_USER_NEED_REPLY) &&
        (d->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK))) {
        uint64_t ok = 0;
        return vhost_msg_reply(sock, m->request, &ok, 8);
    }
    return 0;
}
