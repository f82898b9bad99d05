/* The switch-port backend: a port of a vpio switch (include/vpio/switch.h).
 *
 * TX: the model's batch (struct vpio_pkt, the switch's own descriptor) goes
 * to vpio_port_send_batch() as it is (the switch copies each frame once,
 * into the destination rings).
 *
 * RX: the consumer (the device model, under its own lock, from whichever of
 * its threads is receiving) copies frames straight from the port's RX ring
 * into the guest's buffers with vpio_port_recv_batch(): one copy, no
 * hand-over. Arrivals are signalled through a futex in the arena, which is
 * not an fd, so a receive thread of this backend ("sw-rx") sleeps on it
 * (vpio_port_rx_wait: it reads only the published index and the futex, never
 * the ring) and calls the consumer's on_ready() when frames are waiting.
 * on_ready may ask to be called again after a delay instead of waiting for
 * the next arrival: the consumer is busy pulling frames itself (a guest that
 * polls) or has no buffers yet. Frames stay in the switch ring meanwhile;
 * when it is full the switch drops and counts them (the port's rx_drops).
 * A level-triggered condition (frames published and not yet released) is
 * what the thread waits for, so a wake-up cannot be lost (Firecracker #293). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/backend.h"
#include "vpio/switch.h"

struct sw_priv {
    struct vpio_port *port;
    char sw[VPIO_SW_NAME_MAX]; /* the switch's name */
    bool created_switch;       /* this process created the switch's arena */
    atomic_bool stop;
    pthread_t rx_thread;
    bool rx_started;
    net_rx_ready_fn on_ready;
    void *opaque;
};

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

#define RETRY_MAX_NS 100000000ull /* on_ready may not put us to sleep for longer */

static void *rx_main(void *arg)
{
    struct net_backend *be = arg;
    struct sw_priv *s = be->priv;
    pthread_setname_np(pthread_self(), "sw-rx");
    if (net_thread_start_hook)
        net_thread_start_hook();
    while (!atomic_load(&s->stop)) {
        int r = vpio_port_rx_wait(s->port, 100000); /* re-check stop every 100 ms */
        if (r < 0) {
            sleep_ns(100000000); /* the arena is gone: nothing will come */
            continue;
        }
        if (r == 0)
            continue;
        uint64_t again;
        while ((again = s->on_ready(s->opaque)) != 0 && !atomic_load(&s->stop))
            if (again > 1000) /* shorter: more to do at once (nanosleep would round up) */
                sleep_ns(again < RETRY_MAX_NS ? again : RETRY_MAX_NS);
    }
    return NULL;
}

static int sw_start_rx(struct net_backend *be, net_rx_ready_fn on_ready, void *opaque)
{
    struct sw_priv *s = be->priv;
    if (s->rx_started)
        return -1;
    s->on_ready = on_ready;
    s->opaque = opaque;
    atomic_store(&s->stop, false);
    if (pthread_create(&s->rx_thread, NULL, rx_main, be) != 0)
        return -1;
    s->rx_started = true;
    return 0;
}

static void sw_stop_rx(struct net_backend *be)
{
    struct sw_priv *s = be->priv;
    if (!s->rx_started)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->rx_thread, NULL); /* it re-checks every 100 ms at most */
    s->rx_started = false;
}

static unsigned sw_send_batch(struct net_backend *be, const struct vpio_pkt *f, unsigned n)
{
    struct sw_priv *s = be->priv;
    if (n > NET_BATCH_MAX)
        n = NET_BATCH_MAX;
    unsigned ok = vpio_port_send_batch(s->port, f, n); /* the same descriptors, no re-packing */
    if (ok > n)
        ok = n;
    for (unsigned i = 0; i < n; i++)
        be->stats.tx_bytes += f[i].len; /* offered bytes */
    be->stats.tx_frames += ok;
    be->stats.tx_drops += n - ok;
    be->stats.tx_batches++;
    return ok;
}

static unsigned sw_recv_batch(struct net_backend *be, struct vpio_rxpkt *b, unsigned n)
{
    struct sw_priv *s = be->priv;
    if (n > NET_BATCH_MAX)
        n = NET_BATCH_MAX;
    uint64_t too_long = vpio_port_rx_too_long(s->port);
    unsigned got = vpio_port_recv_batch(s->port, b, n); /* straight into the caller's buffers */
    be->stats.rx_drops += vpio_port_rx_too_long(s->port) - too_long;
    for (unsigned i = 0; i < got; i++)
        be->stats.rx_bytes += b[i].len;
    be->stats.rx_frames += got;
    return got;
}

static ssize_t sw_recv(struct net_backend *be, void *buf, size_t cap)
{
    struct vpio_rxpkt b = {.buf = buf, .cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap};
    return sw_recv_batch(be, &b, 1) == 1 ? (ssize_t)b.len : 0;
}

static int sw_rx_pending(struct net_backend *be)
{
    return vpio_port_rx_ready(((struct sw_priv *)be->priv)->port) > 0;
}

/* The port's rx_drops: frames for it the switch dropped, its ring full. */
static uint64_t sw_rx_dropped(struct net_backend *be)
{
    struct vpio_port_stats st;
    if (vpio_port_stats(((struct sw_priv *)be->priv)->port, &st) < 0)
        return 0;
    return st.rx_drops;
}

static void sw_close(struct net_backend *be)
{
    struct sw_priv *s = be->priv;
    sw_stop_rx(be);
    if (s->port)
        vpio_port_close(s->port);
    free(be);
}

/* Close, and remove the switch if this process created it and nobody else
 * has joined it (vpio_switch_remove refuses while a port has a live owner). */
static void sw_discard(struct net_backend *be)
{
    struct sw_priv *s = be->priv;
    char sw[VPIO_SW_NAME_MAX];
    bool created = s->created_switch;
    memcpy(sw, s->sw, sizeof(sw));
    sw_close(be);
    if (created)
        vpio_switch_remove(sw, 0);
}

static const struct net_backend_ops sw_ops = {
    .kind = "switch",
    .send_batch = sw_send_batch,
    .recv = sw_recv,
    .poll_fd = NULL,
    .close = sw_close,
    .recv_batch = sw_recv_batch,
    .rx_pending = sw_rx_pending,
    .rx_dropped = sw_rx_dropped,
    .start_rx = sw_start_rx,
    .stop_rx = sw_stop_rx,
    .discard = sw_discard,
};

/* The switch's own port-name rule (vpio_port_name_valid). */
static int sw_check(const char *s, char *err, size_t errlen)
{
    if (vpio_port_name_valid(s))
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "expected switch:SWITCH:PORT, got '%s'", s);
    return -1;
}

static struct net_backend *sw_open(const char *sw_port, char *err, size_t errlen)
{
    char desc[128];
    snprintf(desc, sizeof(desc), "switch:%s", sw_port);
    struct net_backend *be = net_backend_alloc(&sw_ops, sizeof(struct sw_priv), desc);
    if (!be) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct sw_priv *s = be->priv;
    atomic_init(&s->stop, false);
    int r = vpio_port_open(&s->port, sw_port, 0);
    if (r < 0) {
        s->port = NULL;
        snprintf(err, errlen, "switch port %s: %s", sw_port, strerror(-r));
        sw_close(be);
        return NULL;
    }
    const char *colon = strchr(sw_port, ':');
    size_t n = colon ? (size_t)(colon - sw_port) : 0;
    if (n > 0 && n < sizeof(s->sw)) {
        memcpy(s->sw, sw_port, n);
        s->sw[n] = 0;
        /* Who created the arena is recorded in it (read once, at open). */
        static struct vpio_switch_info info; /* large; set-up only */
        static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&info_lock);
        s->created_switch = vpio_switch_info(s->sw, &info) >= 0 && info.creator_pid == getpid();
        pthread_mutex_unlock(&info_lock);
    }
    return be;
}

/* "switch:vale0:p1", or bare "vale0:p1". */
const struct net_backend_type net_backend_switch = {
    .name = "switch",
    .takes_arg = true,
    .bare = true,
    .help = "switch:SWITCH:PORT",
    .check = sw_check,
    .open = sw_open,
};
