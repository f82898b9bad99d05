/* A vhost-user virtio-net port of a vpio switch (see vhost_net_port.h). */
#include "vhost/vhost_net_port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vpio/clock.h"

struct vhost_net_port {
    struct vhost_net_config cfg;
    struct vpio_port *port;
    int listen_fd, conn_fd;
    struct vhost_dev dev;
    atomic_bool stop;
    atomic_bool ctl_pending; /* kick thread: the socket is readable; data thread clears */
    atomic_int connected;
    pthread_t dp_thread;
    /* kick thread: started per connection, restarted when kick fds change */
    pthread_t kick_thread;
    bool kick_running;
    int kick_stop_fd; /* eventfd: stops the kick thread */
    struct vhost_net_stats st;
    /* data path scratch (data thread only) */
    struct vpio_pkt pkts[VHOST_NET_BATCH_MAX];
    uint16_t heads[VHOST_NET_BATCH_MAX]; /* every chain popped, in order */
    struct iovec tx_iov[VHOST_NET_BATCH_MAX][VHOST_NET_MAX_SEGS];
    struct iovec rx_iov[4 * VHOST_NET_MAX_SEGS];
};

#define ADD(vp, field, n) __atomic_fetch_add(&(vp)->st.field, (uint64_t)(n), __ATOMIC_RELAXED)

static void note(struct vhost_net_port *vp, const char *fmt, const char *arg)
{
    if (vp->cfg.verbose) {
        fprintf(stderr, "vpio vhost-user: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\n");
    }
}

/* ---- notifications ---- */

static void call_guest(struct vhost_net_port *vp, unsigned ring)
{
    int fd = vp->dev.vr[ring].call_fd;
    if (fd < 0)
        return;
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) == sizeof one)
        ADD(vp, calls, 1);
}

static void *kick_main(void *arg)
{
    struct vhost_net_port *vp = arg;
    pthread_setname_np(pthread_self(), "vhost-kick");
    int kick[VHOST_NET_NVRINGS];
    for (unsigned i = 0; i < VHOST_NET_NVRINGS; i++)
        kick[i] = vp->dev.vr[i].kick_fd; /* fixed while this thread runs */
    for (;;) {
        /* the socket only until it is readable: the data thread reads it,
         * and restarts this thread afterwards */
        struct pollfd p[4] = {
            {.fd = vp->kick_stop_fd, .events = POLLIN},
            {.fd = atomic_load(&vp->ctl_pending) ? -1 : vp->conn_fd, .events = POLLIN},
            {.fd = kick[0], .events = POLLIN},
            {.fd = kick[1], .events = POLLIN},
        };
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        uint64_t v;
        bool wake = false;
        if (p[1].revents) { /* readable, hung up or error: the data thread reads */
            atomic_store(&vp->ctl_pending, true);
            wake = true;
        }
        for (unsigned i = 0; i < 2; i++)
            if (p[2 + i].revents & POLLIN && read(kick[i], &v, sizeof v) == sizeof v) {
                ADD(vp, kicks, v);
                wake = true;
            } else if (p[2 + i].revents & (POLLERR | POLLNVAL)) {
                kick[i] = -1; /* not pollable: drop it, the data thread polls anyway */
            }
        if (wake)
            vpio_port_wake(vp->port);
    }
    return NULL;
}

static void kick_thread_stop(struct vhost_net_port *vp)
{
    if (!vp->kick_running)
        return;
    uint64_t one = 1;
    ssize_t r = write(vp->kick_stop_fd, &one, sizeof one);
    (void)r;
    pthread_join(vp->kick_thread, NULL);
    uint64_t v;
    r = read(vp->kick_stop_fd, &v, sizeof v);
    (void)r;
    vp->kick_running = false;
}

static void kick_thread_start(struct vhost_net_port *vp)
{
    kick_thread_stop(vp);
    if (pthread_create(&vp->kick_thread, NULL, kick_main, vp) == 0)
        vp->kick_running = true;
}

/* ---- TX: guest -> switch ---- */

/* Copies the first n bytes of a chain (the virtio-net header). */
static void gather(const struct iovec *iov, unsigned niov, uint8_t *out, size_t n)
{
    size_t got = 0;
    for (unsigned i = 0; i < niov && got < n; i++) {
        size_t c = iov[i].iov_len < n - got ? iov[i].iov_len : n - got;
        memcpy(out + got, iov[i].iov_base, c);
        got += c;
    }
}

/* Drops the first n bytes of an iovec array in place; returns the index of
 * the first iovec left. */
static unsigned skip(struct iovec *iov, unsigned niov, size_t n)
{
    unsigned i = 0;
    while (i < niov && n >= iov[i].iov_len) {
        n -= iov[i].iov_len;
        i++;
    }
    if (i < niov && n) {
        iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
        iov[i].iov_len -= n;
    }
    return i;
}

static unsigned do_tx(struct vhost_net_port *vp)
{
    struct vhost_dev *d = &vp->dev;
    struct virtq *q = &d->vr[VHOST_NET_TX].vq;
    unsigned hdr = vhost_dev_hdr_len(d), n = 0, dropped = 0;
    uint64_t bytes = 0, bad = 0, size = 0, offl = 0;
    while (n + dropped < vp->cfg.batch) {
        unsigned niov;
        uint64_t len;
        uint16_t head;
        struct iovec *iov = vp->tx_iov[n];
        int r = virtq_pop(q, &d->mem, false, iov, VHOST_NET_MAX_SEGS, &niov, &len, &head);
        if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
            break;
        if (r == VIRTQ_CHAIN && len >= hdr + VPIO_SW_MIN_FRAME && len - hdr <= VPIO_SW_MAX_FRAME) {
            uint8_t h[12] = {0};
            gather(iov, niov, h, hdr);
            if (h[0] == 0 && h[1] == 0) { /* flags, gso_type: nothing asked */
                unsigned first = skip(iov, niov, hdr);
                /* The guest wrote the frame on another core: start fetching
                 * its first line now, the switch reads it after the batch. */
                if (first < niov)
                    __builtin_prefetch(iov[first].iov_base);
                vp->heads[n + dropped] = head;
                vp->pkts[n++] = (struct vpio_pkt){
                    .len = (uint32_t)(len - hdr), .iovcnt = niov - first, .iov = iov + first};
                bytes += len - hdr;
                continue;
            }
            offl++;
        } else if (r == VIRTQ_CHAIN) {
            size++;
        } else {
            bad++;
        }
        vp->heads[n + dropped++] = head; /* dropped: given back with the others */
    }
    if (n) {
        unsigned ok = vpio_port_send_batch(vp->port, vp->pkts, n);
        if (ok > n)
            ok = n;
        ADD(vp, tx_frames, ok);
        ADD(vp, tx_drop_switch, n - ok);
        ADD(vp, tx_bytes, bytes);
    }
    /* The switch copied the frames: every chain is done, and goes back in
     * the order it came (VIRTIO_F_IN_ORDER). */
    for (unsigned i = 0; i < n + dropped; i++)
        virtq_push(q, vp->heads[i], 0);
    if (dropped) {
        ADD(vp, tx_drop_bad_chain, bad);
        ADD(vp, tx_drop_size, size);
        ADD(vp, tx_drop_offload, offl);
    }
    if (virtq_flush(q))
        call_guest(vp, VHOST_NET_TX);
    return n + dropped;
}

/* Runs TX until the guest's available chains are all done (bounded by the
 * ring size): before GET_VRING_BASE stops the ring. */
static void before_stop(void *opaque, unsigned ring)
{
    struct vhost_net_port *vp = opaque;
    if (ring != VHOST_NET_TX)
        return;
    for (unsigned k = 0; k < VIRTQ_MAX_SIZE / 1 && virtq_avail_count(&vp->dev.vr[ring].vq);)
        k += do_tx(vp) + 1;
}

/* ---- RX: switch -> guest ---- */

struct rx_chain {
    uint16_t head;
    unsigned iov0, niov; /* in vp->rx_iov */
    uint64_t cap;
    uint32_t written;
};

/* Writes len bytes from src at the stream position *pos of the chains. */
static void put(struct vhost_net_port *vp, struct rx_chain *c, unsigned nc, unsigned *ci,
                unsigned *vi, size_t *voff, const uint8_t *src, size_t len)
{
    while (len && *ci < nc) {
        struct rx_chain *ch = &c[*ci];
        if (*vi >= ch->niov) {
            (*ci)++;
            *vi = 0;
            *voff = 0;
            continue;
        }
        struct iovec *v = &vp->rx_iov[ch->iov0 + *vi];
        size_t room = v->iov_len - *voff, k = len < room ? len : room;
        memcpy((uint8_t *)v->iov_base + *voff, src, k);
        ch->written += (uint32_t)k;
        *voff += k;
        src += k;
        len -= k;
        if (*voff == v->iov_len) {
            (*vi)++;
            *voff = 0;
        }
    }
}

static unsigned do_rx(struct vhost_net_port *vp)
{
    struct vhost_dev *d = &vp->dev;
    struct virtq *q = &d->vr[VHOST_NET_RX].vq;
    if (!virtq_avail_count(q) || vpio_port_rxsync(vp->port) <= 0)
        return 0;
    struct vpio_ring *r = vpio_port_rxring(vp->port);
    bool mrg = vhost_dev_has(d, VIRTIO_NET_F_MRG_RXBUF);
    unsigned hdr = vhost_dev_hdr_len(d), frames = 0, work = 0;
    uint64_t bytes = 0, too_long = 0, bad_slot = 0, bad_chain = 0;
    uint32_t i = r->head & (VPIO_SW_RING_SLOTS - 1), tail = r->tail & (VPIO_SW_RING_SLOTS - 1);
    struct rx_chain ch[VHOST_NET_MAX_SEGS];
    while (frames < vp->cfg.batch && i != tail) {
        uint32_t j = i, total = 0, nfr = 0;
        uint16_t lens[VPIO_SW_MAX_FRAGS];
        bool bad = false;
        for (;;) { /* the frame's slots, read once */
            uint16_t len = __atomic_load_n(&r->slot[j].len, __ATOMIC_RELAXED);
            uint16_t fl = __atomic_load_n(&r->slot[j].flags, __ATOMIC_RELAXED);
            if (len > VPIO_SW_BUF_SIZE || nfr >= VPIO_SW_MAX_FRAGS)
                bad = true;
            else
                lens[nfr] = len;
            total += len;
            nfr++;
            j = vpio_ring_next(j);
            if (!(fl & VPIO_SLOT_MOREFRAG) || j == tail)
                break;
        }
        if (bad) {
            bad_slot++;
            i = j;
            continue;
        }
        if (!total) { /* a dead sender's slots (the switch counted them) */
            i = j;
            continue;
        }
        uint64_t need = hdr + total, cap = 0;
        unsigned nc = 0, iov_used = 0;
        bool out_of_buffers = false;
        while (cap < need) {
            if ((!mrg && nc == 1) || nc == VHOST_NET_MAX_SEGS ||
                iov_used + VHOST_NET_MAX_SEGS > sizeof vp->rx_iov / sizeof vp->rx_iov[0])
                break;
            unsigned niov;
            uint64_t len;
            uint16_t head;
            int rc = virtq_pop(q, &d->mem, true, vp->rx_iov + iov_used, VHOST_NET_MAX_SEGS, &niov,
                               &len, &head);
            if (rc == VIRTQ_EMPTY || rc == VIRTQ_BROKEN) {
                out_of_buffers = true;
                break;
            }
            if (rc == VIRTQ_BAD_CHAIN) { /* returned unused, before this frame's */
                virtq_push(q, head, 0);
                bad_chain++;
                work++;
                continue;
            }
            ch[nc++] = (struct rx_chain){.head = head, .iov0 = iov_used, .niov = niov, .cap = len};
            iov_used += niov;
            cap += len;
        }
        if (cap < need) {
            virtq_unpop(q, nc); /* the chains stay the guest's */
            if (out_of_buffers)
                break; /* the frame waits in the switch for buffers */
            too_long++;
            i = j;
            continue;
        }
        uint8_t h[12] = {0}; /* no flags, GSO_NONE */
        h[10] = (uint8_t)nc; /* num_buffers (MRG_RXBUF; beyond a 10-byte header) */
        h[11] = (uint8_t)(nc >> 8);
        unsigned ci = 0, vi = 0;
        size_t voff = 0;
        put(vp, ch, nc, &ci, &vi, &voff, h, hdr);
        uint32_t k = i;
        for (uint32_t f = 0; f < nfr; f++, k = vpio_ring_next(k))
            put(vp, ch, nc, &ci, &vi, &voff, vpio_ring_buf(vp->port, r, k), lens[f]);
        for (unsigned c = 0; c < nc; c++)
            virtq_push(q, ch[c].head, ch[c].written);
        frames++;
        bytes += total;
        i = j;
    }
    r->head = r->cur = i;
    vpio_port_rxsync(vp->port);
    ADD(vp, rx_frames, frames);
    ADD(vp, rx_bytes, bytes);
    if (too_long)
        ADD(vp, rx_drop_too_long, too_long);
    if (bad_slot)
        ADD(vp, rx_drop_bad_slot, bad_slot);
    if (bad_chain)
        ADD(vp, rx_bad_chain, bad_chain);
    if (virtq_flush(q))
        call_guest(vp, VHOST_NET_RX);
    return frames + work + (unsigned)too_long + (unsigned)bad_slot;
}

/* Frames waiting in the switch for a guest that left: dropped, counted. */
static void drain_switch(struct vhost_net_port *vp)
{
    if (vpio_port_rxsync(vp->port) <= 0)
        return;
    struct vpio_ring *r = vpio_port_rxring(vp->port);
    uint32_t i = r->head & (VPIO_SW_RING_SLOTS - 1), tail = r->tail & (VPIO_SW_RING_SLOTS - 1);
    uint64_t n = 0;
    for (; i != tail; i = vpio_ring_next(i))
        if (!(__atomic_load_n(&r->slot[i].flags, __ATOMIC_RELAXED) & VPIO_SLOT_MOREFRAG))
            n++;
    r->head = r->cur = i;
    vpio_port_rxsync(vp->port);
    ADD(vp, rx_drop_no_guest, n);
}

/* ---- connection ---- */

/* Publishes a block of uint64_t counters for readers in other threads
 * (each word on its own: readers see every word whole, not the block). */
static void publish_u64s(void *dst, const void *src, size_t bytes)
{
    const uint64_t *s = src;
    uint64_t *d = dst;
    for (size_t k = 0; k < bytes / 8; k++)
        __atomic_store_n(&d[k], s[k], __ATOMIC_RELAXED);
}

static void sync_dev_counters(struct vhost_net_port *vp)
{
    struct vhost_dev_counters *c = &vp->dev.c;
    __atomic_store_n(&vp->st.msgs, c->msgs, __ATOMIC_RELAXED);
    __atomic_store_n(&vp->st.bad_msgs, c->bad_msgs, __ATOMIC_RELAXED);
    __atomic_store_n(&vp->st.mem_tables, c->mem_tables, __ATOMIC_RELAXED);
    __atomic_store_n(&vp->st.ring_setup_errs, c->ring_setup_errs, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < VHOST_NET_NVRINGS; i++) {
        const struct virtq *q = &vp->dev.vr[i].vq;
        publish_u64s(&vp->st.ring_err[i], &q->err, sizeof q->err);
        /* A ring that is not running keeps the indices it last had, so the
         * counters printed after a front-end left still show its last state. */
        __atomic_store_n(&vp->st.ring_state[i].running, q->num != 0, __ATOMIC_RELAXED);
        if (!q->num)
            continue;
        struct vhost_ring_state rs = {.running = 1, .num = q->num};
        /* the guest's words, read by the thread that maps them */
        rs.last_avail = q->last_avail;
        rs.avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_RELAXED);
        rs.used_idx = q->flushed_used;
        rs.used_event = __atomic_load_n(&q->avail->ring[q->num], __ATOMIC_RELAXED);
        rs.broken = q->broken;
        publish_u64s(&vp->st.ring_state[i], &rs, sizeof rs);
    }
}

static void disconnect(struct vhost_net_port *vp, const char *why)
{
    kick_thread_stop(vp);
    if (vp->conn_fd >= 0)
        close(vp->conn_fd);
    vp->conn_fd = -1;
    sync_dev_counters(vp); /* the rings' last state, while still mapped */
    vhost_dev_reset(&vp->dev);
    sync_dev_counters(vp);
    drain_switch(vp);
    atomic_store(&vp->ctl_pending, false);
    atomic_store(&vp->connected, 0);
    ADD(vp, disconnects, 1);
    note(vp, "front-end gone (%s), waiting for a new one", why);
}

/* Waits (bounded, re-checking stop) for a front-end. 0 connected. */
static int connect_front_end(struct vhost_net_port *vp)
{
    int fd = -1;
    if (vp->cfg.client) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", vp->cfg.socket_path);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            close(fd);
            fd = -1;
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    } else {
        struct pollfd p = {.fd = vp->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 1)
            fd = accept4(vp->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    }
    if (fd < 0)
        return -1;
    vp->conn_fd = fd;
    atomic_store(&vp->connected, 1);
    ADD(vp, connects, 1);
    note(vp, "front-end connected on %s", vp->cfg.socket_path);
    kick_thread_start(vp);
    return 0;
}

/* Handles the messages waiting on the socket. <0: close the connection. */
static int handle_messages(struct vhost_net_port *vp, const char **why)
{
    /* The kick thread polls the fds the messages may close and replace:
     * stop it first, so that it never polls a number reused meanwhile
     * (messages are rare: set-up, memory hot-plug). */
    kick_thread_stop(vp);
    atomic_store(&vp->ctl_pending, false);
    for (;;) {
        struct pollfd p = {.fd = vp->conn_fd, .events = POLLIN};
        if (poll(&p, 1, 0) != 1)
            break;
        struct vhost_msg m;
        int rc = vhost_msg_recv(vp->conn_fd, &m);
        if (rc <= 0) {
            *why = rc == 0 ? "socket closed" : "bad message framing";
            if (rc < 0)
                vp->dev.c.bad_msgs++;
            return -1;
        }
        rc = vhost_dev_handle(&vp->dev, &m, vp->conn_fd);
        if (rc < 0) {
            *why = vp->dev.last_error ? vp->dev.last_error : "reply failed";
            if (vp->cfg.verbose)
                fprintf(stderr, "vpio vhost-user: refused %s (request %u): %s\n",
                        vhost_msg_name(m.request), m.request, *why);
            return -1;
        }
    }
    vp->dev.kick_fds_changed = false;
    kick_thread_start(vp);
    sync_dev_counters(vp);
    return 0;
}

static void *dp_main(void *arg)
{
    struct vhost_net_port *vp = arg;
    pthread_setname_np(pthread_self(), "vhost-dp");
    struct vhost_dev *d = &vp->dev;
    struct virtq *rxq = &d->vr[VHOST_NET_RX].vq, *txq = &d->vr[VHOST_NET_TX].vq;
    uint64_t idle_since = 0, poll_ns = (uint64_t)vp->cfg.poll_us * 1000;
    unsigned iter = 0;
    while (!atomic_load(&vp->stop)) {
        if (vp->conn_fd < 0) {
            connect_front_end(vp);
            continue;
        }
        const char *why = NULL;
        if (atomic_load(&vp->ctl_pending) && handle_messages(vp, &why) < 0) {
            disconnect(vp, why);
            continue;
        }
        unsigned work = 0;
        if (txq->num)
            work += do_tx(vp);
        if (rxq->num)
            work += do_rx(vp);
        if ((++iter & 1023) == 0)
            sync_dev_counters(vp);
        if (work) {
            idle_since = 0;
            continue;
        }
        uint64_t t = vpio_now_ns();
        if (!idle_since)
            idle_since = t;
        if (t - idle_since < poll_ns) {
            /* Poll without holding the core (as the CSB thread does): on a
             * machine with few cores the thread that makes our next work
             * (the guest's vCPU, another port) may be waiting for it. */
            sched_yield();
            continue;
        }
        /* The race-free sleep: arm the futex (switch wake-ups only if the
         * guest has RX buffers for them), ask for kicks, barrier, re-check. */
        bool rx_room = rxq->num && virtq_avail_count(rxq);
        uint32_t tok = vpio_port_wait_arm(vp->port, rx_room);
        virtq_set_kicks(txq, true);
        virtq_set_kicks(rxq, true);
        bool again = atomic_load(&vp->ctl_pending) || atomic_load(&vp->stop);
        if (txq->num && virtq_recheck(txq))
            again = true;
        if (rxq->num) {
            bool room = virtq_recheck(rxq);
            if (room != rx_room || (room && vpio_port_rx_ready(vp->port) > 0))
                again = true;
        }
        if (!again) {
            ADD(vp, sleeps, 1);
            sync_dev_counters(vp);
            vpio_port_wait_sleep(vp->port, tok, 100000);
        }
        virtq_set_kicks(txq, false);
        virtq_set_kicks(rxq, false);
        idle_since = 0;
    }
    if (vp->conn_fd >= 0)
        disconnect(vp, "stopping");
    return NULL;
}

/* ---- set-up ---- */

static int listen_on(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    strcpy(a.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", path);
            return -EEXIST;
        }
        unlink(path); /* a stale socket of an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    return fd;
}

int vhost_net_port_start(struct vhost_net_port **out, const struct vhost_net_config *cfg, char *err,
                         size_t errlen)
{
    struct vhost_net_port *vp = calloc(1, sizeof *vp);
    if (!vp)
        return -ENOMEM;
    vp->cfg = *cfg;
    if (!vp->cfg.batch || vp->cfg.batch > VHOST_NET_BATCH_MAX)
        vp->cfg.batch = 64;
    vp->listen_fd = vp->conn_fd = -1;
    vhost_dev_init(&vp->dev);
    vp->dev.before_stop = before_stop;
    vp->dev.opaque = vp;
    vp->kick_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = vpio_port_open(&vp->port, cfg->ifname, 0);
    if (rc < 0) {
        snprintf(err, errlen, "cannot open port %s: %s", cfg->ifname, strerror(-rc));
        goto fail;
    }
    if (!cfg->client && (rc = vp->listen_fd = listen_on(cfg->socket_path, err, errlen)) < 0)
        goto fail;
    if (pthread_create(&vp->dp_thread, NULL, dp_main, vp) != 0) {
        rc = -EAGAIN;
        snprintf(err, errlen, "cannot start the data thread");
        goto fail;
    }
    *out = vp;
    return 0;
fail:
    if (vp->listen_fd >= 0) {
        close(vp->listen_fd);
        unlink(cfg->socket_path);
    }
    if (vp->port)
        vpio_port_close(vp->port);
    close(vp->kick_stop_fd);
    free(vp);
    return rc;
}

void vhost_net_port_stop(struct vhost_net_port *vp)
{
    if (atomic_exchange(&vp->stop, true))
        return;
    vpio_port_wake(vp->port);
    pthread_join(vp->dp_thread, NULL);
}

void vhost_net_port_destroy(struct vhost_net_port *vp)
{
    vhost_net_port_stop(vp);
    if (vp->listen_fd >= 0) {
        close(vp->listen_fd);
        unlink(vp->cfg.socket_path);
    }
    vpio_port_close(vp->port);
    close(vp->kick_stop_fd);
    free(vp);
}

void vhost_net_port_get_stats(struct vhost_net_port *vp, struct vhost_net_stats *st)
{
    const uint64_t *src = (const uint64_t *)&vp->st;
    uint64_t *dst = (uint64_t *)st;
    for (size_t k = 0; k < sizeof *st / 8; k++)
        dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    struct vpio_port_stats ps;
    if (vpio_port_stats(vp->port, &ps) == 0)
        st->rx_switch_drops = ps.rx_drops;
}

int vhost_net_port_connected(struct vhost_net_port *vp)
{
    return atomic_load(&vp->connected);
}
