/* The AF_XDP data path (libxdp's <xdp/xsk.h>): one socket on one RX queue
 * of the interface, a umem of UMEM_FRAMES chunks shared by both directions,
 * the default XDP program libxdp loads (redirects the queue's frames to the
 * socket), need-wakeup on. Native (driver) mode is tried first unless
 * generic (SKB) mode is asked for; on a veth in a namespace only SKB mode
 * may load.
 *
 * Shared with the kernel: the four rings (fill and TX written by us, RX and
 * completion by the kernel; libxdp's inline helpers do the index protocol)
 * and the umem chunks. Every address and length the kernel writes into the
 * RX and completion rings goes through uplink_frame.c before the chunk it
 * names is touched. Chunks are tracked in one free stack: a chunk is on the
 * stack, in the fill/RX rings, or in the TX/completion rings. */
#include "uplink.h"
#include "uplink_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#define UMEM_FRAMES 4096u
#define CHUNK_SIZE 2048u
#define RING_SIZE 2048u
#define FILL_TARGET RING_SIZE /* chunks kept in the fill ring */

struct xdp_state {
    uint8_t *area;
    uint64_t area_size;
    struct xsk_umem *umem;
    struct xsk_socket *xsk;
    struct xsk_ring_prod fill, tx;
    struct xsk_ring_cons comp, rx;
    uint64_t free_stack[UMEM_FRAMES];
    unsigned nfree;
    unsigned rx_peeked; /* RX entries of the last burst, to release */
    unsigned nrecycle;  /* chunks of the last burst to give back */
    uint64_t recycle[UPLINK_BURST];
    uint64_t reserved[UPLINK_BURST]; /* chunks handed out by tx_reserve */
    unsigned tx_inflight;            /* submitted to TX, not yet completed */
    int zc;                          /* zero-copy: the driver sets TX need-wakeup; copy mode
                                        transmits only from sendto()/poll(), always kick */
    struct xdp_statistics last;      /* the kernel's counters at the last poll */
};

/* libxdp/libbpf messages: keep the last warning (for the one-line reason)
 * instead of printing them. */
static char last_msg[160];
static int keep_msg(const char *fmt, va_list ap)
{
    char buf[sizeof last_msg];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    if (n)
        memcpy(last_msg, buf, n + 1);
    return 0;
}
static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
    return level == LIBXDP_DEBUG ? 0 : keep_msg(fmt, ap);
}
static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    return level == LIBBPF_DEBUG ? 0 : keep_msg(fmt, ap);
}

static void push_free(struct xdp_state *s, uint64_t chunk)
{
    if (chunk != UINT64_MAX && s->nfree < UMEM_FRAMES)
        s->free_stack[s->nfree++] = chunk;
}

static void teardown(struct xdp_state *s)
{
    if (s->xsk)
        xsk_socket__delete(s->xsk);
    s->xsk = NULL;
    if (s->umem)
        xsk_umem__delete(s->umem);
    s->umem = NULL;
}

static void xdp_close(struct uplink *u)
{
    struct xdp_state *s = u->priv;
    if (s) {
        teardown(s);
        if (s->area)
            munmap(s->area, s->area_size);
        free(s);
    }
    u->priv = NULL;
    u->fd = -1;
}

static int try_mode(struct uplink *u, struct xdp_state *s, uint32_t xdp_flags, uint16_t bind_flags)
{
    struct xsk_umem_config ucfg = {
        .fill_size = RING_SIZE,
        .comp_size = RING_SIZE,
        .frame_size = CHUNK_SIZE,
        .frame_headroom = 0,
        .flags = 0,
    };
    int rc = xsk_umem__create(&s->umem, s->area, s->area_size, &s->fill, &s->comp, &ucfg);
    if (rc) {
        s->umem = NULL;
        return rc < 0 ? rc : -EIO;
    }
    struct xsk_socket_config scfg = {
        .rx_size = RING_SIZE,
        .tx_size = RING_SIZE,
        .libxdp_flags = 0, /* load libxdp's default redirect program */
        .xdp_flags = xdp_flags,
        .bind_flags = bind_flags,
    };
    rc = xsk_socket__create(&s->xsk, u->ifname, u->cfg.queue, s->umem, &s->rx, &s->tx, &scfg);
    if (rc) {
        s->xsk = NULL;
        teardown(s);
        return rc < 0 ? rc : -EIO;
    }
    return 0;
}

static void fill_up(struct xdp_state *s)
{
    uint32_t room = xsk_prod_nb_free(&s->fill, FILL_TARGET);
    if (room > s->nfree)
        room = s->nfree;
    if (!room)
        return;
    uint32_t idx;
    uint32_t n = xsk_ring_prod__reserve(&s->fill, room, &idx);
    for (uint32_t i = 0; i < n; i++)
        *xsk_ring_prod__fill_addr(&s->fill, idx + i) = s->free_stack[--s->nfree];
    xsk_ring_prod__submit(&s->fill, n);
}

/* In a child: native (unless SKB only), else SKB. Returns 0 and sets
 * *native, or < 0 with why filled from the child's message. */
static int probe_mode(struct uplink *u, struct xdp_state *s, int *native, char *why, size_t whylen)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "AF_XDP: pipe: %s", strerror(errno));
        return -errno;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        snprintf(why, whylen, "AF_XDP: fork: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        close(pfd[0]);
        int rc = -EOPNOTSUPP, m = 1;
        if (!u->cfg.xdp_skb) {
            rc = try_mode(u, s, XDP_FLAGS_DRV_MODE, XDP_USE_NEED_WAKEUP);
            m = 0;
            if (rc == 0) {
                teardown(s);
                _exit(0);
            }
        }
        /* a native failure left the queue bound in this child: SKB mode is
         * tried in a second child with a clean state */
        if (!u->cfg.xdp_skb) {
            _exit(3);
        }
        rc = try_mode(u, s, XDP_FLAGS_SKB_MODE, XDP_USE_NEED_WAKEUP | XDP_COPY);
        if (rc == 0) {
            teardown(s);
            _exit(1);
        }
        char msg[400];
        int n = snprintf(msg, sizeof msg, "AF_XDP on %s queue %u: %s%s%s", u->ifname, u->cfg.queue,
                         strerror(-rc), last_msg[0] ? "; libxdp: " : "", last_msg);
        if (write(pfd[1], msg, n > 0 ? (size_t)n : 0) < 0) {
            /* the parent reports a generic reason */
        }
        (void)m;
        _exit(2);
    }
    close(pfd[1]);
    char msg[400];
    ssize_t n = read(pfd[0], msg, sizeof msg - 1);
    close(pfd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
    if (code == 0) {
        *native = 1;
        return 0;
    }
    if (code == 3) {   /* native failed: SKB mode only, in a fresh child */
        usleep(50000); /* the first child's socket is freed asynchronously */
        struct uplink_config save = u->cfg;
        u->cfg.xdp_skb = 1;
        int rc = probe_mode(u, s, native, why, whylen);
        u->cfg = save;
        *native = 0;
        return rc;
    }
    if (code == 1) {
        *native = 0;
        return 0;
    }
    msg[n > 0 ? n : 0] = 0;
    snprintf(why, whylen, "%s", n > 0 ? msg : "AF_XDP: the probe failed");
    return -EOPNOTSUPP;
}

static int xdp_open(struct uplink *u, char *why, size_t whylen)
{
    struct xdp_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    u->priv = s;
    s->area_size = (uint64_t)UMEM_FRAMES * CHUNK_SIZE;
    s->area = mmap(NULL, s->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s->area == MAP_FAILED) {
        s->area = NULL;
        snprintf(why, whylen, "AF_XDP: umem: %s", strerror(errno));
        xdp_close(u);
        return -ENOMEM;
    }
    libxdp_set_print(xdp_print);
    libbpf_set_print(bpf_print);
    last_msg[0] = 0;
    /* A failed xsk_socket__create leaves the umem's socket bound to the
     * queue (libxdp keeps it for the umem), so a second attempt in another
     * mode would find the queue busy. Find the mode that works in a child
     * process (its exit releases everything), then open that one here. */
    int native = 0;
    int rc = probe_mode(u, s, &native, why, whylen);
    if (rc == 0) {
        /* the kernel frees the child's socket from a work queue: the queue
         * can stay busy for a moment after the child is gone */
        for (int tries = 0; tries < 40; tries++) {
            rc = native ? try_mode(u, s, XDP_FLAGS_DRV_MODE, XDP_USE_NEED_WAKEUP)
                        : try_mode(u, s, XDP_FLAGS_SKB_MODE, XDP_USE_NEED_WAKEUP | XDP_COPY);
            if (rc != -EBUSY)
                break;
            usleep(25000);
        }
        if (rc < 0)
            snprintf(why, whylen, "AF_XDP on %s queue %u: %s%s%s", u->ifname, u->cfg.queue,
                     strerror(-rc), last_msg[0] ? "; libxdp: " : "", last_msg);
    }
    if (rc < 0) {
        xdp_close(u);
        return rc;
    }
    const char *mode = native ? "native" : "generic (skb)";
    u->fd = xsk_socket__fd(s->xsk);
    struct xdp_options opt;
    socklen_t olen = sizeof opt;
    int zc = getsockopt(u->fd, SOL_XDP, XDP_OPTIONS, &opt, &olen) == 0 &&
             (opt.flags & XDP_OPTIONS_ZEROCOPY);
    s->zc = zc;
    snprintf(u->desc, sizeof u->desc, "AF_XDP %s mode, %s, queue %u", mode,
             zc ? "zero-copy" : "copy", u->cfg.queue);
    for (unsigned i = 0; i < UMEM_FRAMES; i++)
        s->free_stack[i] = (uint64_t)(UMEM_FRAMES - 1 - i) * CHUNK_SIZE;
    s->nfree = UMEM_FRAMES;
    fill_up(s);
    return 0;
}

static void reclaim(struct uplink *u, struct xdp_state *s)
{
    uint32_t idx;
    uint32_t n = xsk_ring_cons__peek(&s->comp, RING_SIZE, &idx);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = uplink_xdp_chunk(*xsk_ring_cons__comp_addr(&s->comp, idx + i), s->area_size,
                                      CHUNK_SIZE);
        if (c == UINT64_MAX)
            u->ctr->tx_errors++; /* a completion naming no chunk: the chunk is lost */
        push_free(s, c);
    }
    if (n) {
        xsk_ring_cons__release(&s->comp, n);
        s->tx_inflight = n > s->tx_inflight ? 0 : s->tx_inflight - n;
    }
}

static unsigned xdp_rx_burst(struct uplink *u, struct vpio_pkt *pkts, unsigned n)
{
    struct xdp_state *s = u->priv;
    uint32_t idx;
    s->rx_peeked = xsk_ring_cons__peek(&s->rx, n, &idx);
    s->nrecycle = 0;
    unsigned k = 0;
    for (unsigned i = 0; i < s->rx_peeked; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);
        uint64_t addr = d->addr, chunk;
        uint32_t len = d->len;
        enum uplink_verdict v =
            uplink_xdp_desc_check(addr, len, s->area_size, CHUNK_SIZE, u->cfg.max_frame, &chunk);
        if (chunk != UINT64_MAX)
            s->recycle[s->nrecycle++] = chunk;
        if (v != UPLINK_FRAME_OK) {
            uplink_count_verdict(u->ctr, v);
            continue;
        }
        pkts[k++] = (struct vpio_pkt){.data = s->area + addr, .len = len};
    }
    return k;
}

static void xdp_rx_release(struct uplink *u)
{
    struct xdp_state *s = u->priv;
    if (s->rx_peeked)
        xsk_ring_cons__release(&s->rx, s->rx_peeked);
    s->rx_peeked = 0;
    for (unsigned i = 0; i < s->nrecycle; i++)
        push_free(s, s->recycle[i]);
    s->nrecycle = 0;
    fill_up(s);
    if (xsk_ring_prod__needs_wakeup(&s->fill))
        recvfrom(u->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static unsigned xdp_tx_reserve(struct uplink *u, struct vpio_rxpkt *bufs, unsigned n)
{
    struct xdp_state *s = u->priv;
    reclaim(u, s);
    /* keep enough chunks for the fill ring: RX must not starve */
    unsigned spare = s->nfree > FILL_TARGET / 4 ? s->nfree - FILL_TARGET / 4 : 0;
    if (n > spare)
        n = spare;
    n = xsk_prod_nb_free(&s->tx, n) < n ? xsk_prod_nb_free(&s->tx, n) : n;
    for (unsigned i = 0; i < n; i++) {
        s->reserved[i] = s->free_stack[--s->nfree];
        bufs[i].buf = s->area + s->reserved[i];
        bufs[i].cap = CHUNK_SIZE;
        bufs[i].len = 0;
    }
    return n;
}

static void xdp_tx_commit(struct uplink *u, struct vpio_rxpkt *bufs, unsigned k, unsigned reserved)
{
    struct xdp_state *s = u->priv;
    uint32_t idx = 0;
    unsigned got = k ? xsk_ring_prod__reserve(&s->tx, k, &idx) : 0;
    for (unsigned i = 0; i < got; i++) {
        struct xdp_desc *d = xsk_ring_prod__tx_desc(&s->tx, idx + i);
        d->addr = s->reserved[i];
        d->len = bufs[i].len;
        u->ctr->tx_frames++;
        u->ctr->tx_bytes += bufs[i].len;
    }
    if (got)
        xsk_ring_prod__submit(&s->tx, got);
    s->tx_inflight += got;
    u->ctr->tx_no_buf += k - got;
    for (unsigned i = got; i < reserved; i++)
        push_free(s, s->reserved[i]);
}

static int xdp_tx_flush(struct uplink *u)
{
    struct xdp_state *s = u->priv;
    reclaim(u, s);
    /* copy mode sends a bounded number of frames per call: kick until the
     * kernel has taken all of the TX ring (a few rounds at most) */
    for (int round = 0; round < 16; round++) {
        uint32_t queued = *s->tx.producer - __atomic_load_n(s->tx.consumer, __ATOMIC_ACQUIRE);
        if (!queued || (s->zc && !xsk_ring_prod__needs_wakeup(&s->tx)))
            break;
        if (sendto(u->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
            int e = errno;
            if (e == ENETDOWN || e == ENXIO || e == ENODEV)
                return -e;
            if (e != EAGAIN && e != EBUSY && e != ENOBUFS && e != EINTR)
                u->ctr->tx_errors++;
            break;
        }
    }
    reclaim(u, s);
    return 0;
}

static void xdp_poll_stats(struct uplink *u)
{
    struct xdp_state *s = u->priv;
    struct xdp_statistics st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (getsockopt(u->fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
        return;
    /* cumulative in the kernel: add what changed */
    u->ctr->rx_kernel_drops +=
        (st.rx_dropped - s->last.rx_dropped) + (st.rx_ring_full - s->last.rx_ring_full);
    u->ctr->rx_bad_desc += st.rx_invalid_descs - s->last.rx_invalid_descs;
    u->ctr->tx_errors += st.tx_invalid_descs - s->last.tx_invalid_descs;
    s->last = st;
}

/* Frames waiting in the TX ring or not yet completed: the caller polls
 * again soon instead of sleeping. */
const struct uplink_ops uplink_xdp_ops = {
    .open = xdp_open,
    .close = xdp_close,
    .rx_burst = xdp_rx_burst,
    .rx_release = xdp_rx_release,
    .tx_reserve = xdp_tx_reserve,
    .tx_commit = xdp_tx_commit,
    .tx_flush = xdp_tx_flush,
    .poll_stats = xdp_poll_stats,
};
