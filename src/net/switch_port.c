/* The switch-port backend: a port of a vpio switch (include/vpio/switch.h).
 *
 * TX: the model's batch goes to vpio_port_send_batch() as it is (the frames
 * stay in the model's staging arena; the switch copies each one once, into
 * the destination rings).
 *
 * RX: the switch wakes receivers through a futex, but the VMM's I/O thread
 * waits on fds. A small waiter thread bridges the two, and the port's RX
 * direction is owned by exactly one of them at a time (the switch API allows
 * one thread per direction):
 *   - the waiter owns it while it sleeps in vpio_port_poll(); when frames
 *     arrive it hands ownership to the consumer and makes notify_fd readable;
 *   - the consumer (recv(), called by the model under its lock) copies frames
 *     out while it owns the ring; when the ring is empty it clears notify_fd,
 *     hands ownership back and kicks the waiter through rearm_fd.
 * recv() called while the waiter owns the ring returns 0 without touching it.
 * The fd stays readable until the ring was seen empty, so a level-triggered
 * poll never loses a wake-up (Firecracker #293). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/backend.h"
#include "vpio/switch.h"

enum { OWNER_WAITER = 0, OWNER_CONSUMER = 1 };

struct sw_priv {
    struct vpio_port *port;
    int notify_fd, rearm_fd;
    atomic_int owner;
    atomic_bool stop;
    pthread_t waiter;
    bool waiter_started;
    struct vpio_pkt pkts[NET_BATCH_MAX];
};

static void efd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof(one));
    (void)r;
}

static void efd_clear(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static void *waiter_main(void *arg)
{
    struct sw_priv *s = arg;
    pthread_setname_np(pthread_self(), "sw-waiter");
    while (!atomic_load(&s->stop)) {
        if (atomic_load(&s->owner) != OWNER_WAITER) {
            struct pollfd pfd = {.fd = s->rearm_fd, .events = POLLIN};
            if (poll(&pfd, 1, 100) > 0)
                efd_clear(s->rearm_fd);
            continue;
        }
        if (vpio_port_poll(s->port, VPIO_POLL_RX, 100) & VPIO_POLL_RX) {
            atomic_store(&s->owner, OWNER_CONSUMER);
            efd_signal(s->notify_fd);
        }
    }
    return NULL;
}

static unsigned sw_send_batch(struct net_backend *be, const struct net_txframe *f, unsigned n)
{
    struct sw_priv *s = be->priv;
    if (n > NET_BATCH_MAX)
        n = NET_BATCH_MAX;
    for (unsigned i = 0; i < n; i++)
        s->pkts[i] = (struct vpio_pkt){.data = f[i].data, .len = f[i].len};
    unsigned ok = vpio_port_send_batch(s->port, s->pkts, n);
    if (ok > n)
        ok = n;
    for (unsigned i = 0; i < n; i++)
        be->stats.tx_bytes += f[i].len; /* offered bytes */
    be->stats.tx_frames += ok;
    be->stats.tx_drops += n - ok;
    be->stats.tx_batches++;
    return ok;
}

static ssize_t sw_recv(struct net_backend *be, void *buf, size_t cap)
{
    struct sw_priv *s = be->priv;
    if (atomic_load(&s->owner) != OWNER_CONSUMER)
        return 0;
    struct vpio_rxpkt rp = {.buf = buf, .cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap};
    if (vpio_port_recv_batch(s->port, &rp, 1) == 1) {
        be->stats.rx_frames++;
        be->stats.rx_bytes += rp.len;
        return rp.len;
    }
    /* empty: give the ring back to the waiter */
    efd_clear(s->notify_fd);
    atomic_store(&s->owner, OWNER_WAITER);
    efd_signal(s->rearm_fd);
    return 0;
}

static int sw_poll_fd(struct net_backend *be)
{
    return ((struct sw_priv *)be->priv)->notify_fd;
}

static void sw_close(struct net_backend *be)
{
    struct sw_priv *s = be->priv;
    if (s->waiter_started) {
        atomic_store(&s->stop, true);
        efd_signal(s->rearm_fd);
        pthread_join(s->waiter, NULL);
    }
    if (s->port)
        vpio_port_close(s->port);
    if (s->notify_fd >= 0)
        close(s->notify_fd);
    if (s->rearm_fd >= 0)
        close(s->rearm_fd);
    free(be);
}

static const struct net_backend_ops sw_ops = {
    .kind = "switch",
    .send_batch = sw_send_batch,
    .recv = sw_recv,
    .poll_fd = sw_poll_fd,
    .close = sw_close,
};

struct net_backend *net_switch_open(const char *sw_port, char *err, size_t errlen)
{
    char desc[128];
    snprintf(desc, sizeof(desc), "switch:%s", sw_port);
    struct net_backend *be = net_backend_alloc(&sw_ops, sizeof(struct sw_priv), desc);
    if (!be) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct sw_priv *s = be->priv;
    s->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->rearm_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    atomic_init(&s->owner, OWNER_WAITER);
    atomic_init(&s->stop, false);
    if (s->notify_fd < 0 || s->rearm_fd < 0) {
        snprintf(err, errlen, "switch %s: eventfd: %s", sw_port, strerror(errno));
        sw_close(be);
        return NULL;
    }
    int r = vpio_port_open(&s->port, sw_port, 0);
    if (r < 0) {
        s->port = NULL;
        snprintf(err, errlen, "switch port %s: %s", sw_port, strerror(-r));
        sw_close(be);
        return NULL;
    }
    if (pthread_create(&s->waiter, NULL, waiter_main, s) != 0) {
        snprintf(err, errlen, "switch %s: cannot start its waiter thread", sw_port);
        sw_close(be);
        return NULL;
    }
    s->waiter_started = true;
    return be;
}
