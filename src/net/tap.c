/* The tap backend: a Linux tap device (/dev/net/tun, IFF_TAP | IFF_NO_PI),
 * non-blocking; one write() per transmitted frame (the kernel interface has
 * no batched write), one read() per received frame. The paper's baseline. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/backend.h"

struct tap_priv {
    int fd;
};

static unsigned tap_send_batch(struct net_backend *be, const struct vpio_pkt *f, unsigned n)
{
    struct tap_priv *t = be->priv;
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++) {
        if (f[i].iovcnt) { /* backend.h: contiguous frames only */
            be->stats.tx_drops++;
            continue;
        }
        ssize_t w;
        do
            w = write(t->fd, f[i].data, f[i].len);
        while (w < 0 && errno == EINTR);
        if (w == (ssize_t)f[i].len) {
            ok++;
            be->stats.tx_bytes += f[i].len;
        } else {
            be->stats.tx_drops++; /* EAGAIN (queue full), link down, ... */
        }
    }
    be->stats.tx_frames += ok;
    be->stats.tx_batches++;
    return ok;
}

static ssize_t tap_recv(struct net_backend *be, void *buf, size_t cap)
{
    struct tap_priv *t = be->priv;
    for (int tries = 0; tries < 64; tries++) {
        ssize_t r = read(t->fd, buf, cap);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return 0; /* EAGAIN: nothing waiting */
        }
        if (r == 0)
            return 0;
        if ((size_t)r > cap || r < 14) { /* truncated or runt: drop, try the next */
            be->stats.rx_drops++;
            continue;
        }
        be->stats.rx_frames++;
        be->stats.rx_bytes += (uint64_t)r;
        return r;
    }
    return 0;
}

static int tap_poll_fd(struct net_backend *be)
{
    return ((struct tap_priv *)be->priv)->fd;
}

static void tap_close(struct net_backend *be)
{
    struct tap_priv *t = be->priv;
    if (t->fd >= 0)
        close(t->fd);
    free(be);
}

static const struct net_backend_ops tap_ops = {
    .kind = "tap",
    .send_batch = tap_send_batch,
    .recv = tap_recv,
    .poll_fd = tap_poll_fd,
    .close = tap_close,
};

/* 1..15 characters (IFNAMSIZ with its NUL) of [A-Za-z0-9_.-]. */
static int tap_check(const char *ifname, char *err, size_t errlen)
{
    if (!*ifname || strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "needs an interface name of 1..%d characters", IFNAMSIZ - 1);
        return -1;
    }
    for (const char *p = ifname; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') {
            snprintf(err, errlen, "bad interface name '%s'", ifname);
            return -1;
        }
    return 0;
}

static struct net_backend *tap_open(const char *ifname, char *err, size_t errlen)
{
    if (strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap: interface name '%s' too long", ifname);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "tap: cannot open /dev/net/tun: %s", strerror(errno));
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "tap: TUNSETIFF %s: %s", ifname, strerror(errno));
        close(fd);
        return NULL;
    }
    char desc[64];
    snprintf(desc, sizeof(desc), "tap:%s", ifname);
    struct net_backend *be = net_backend_alloc(&tap_ops, sizeof(struct tap_priv), desc);
    if (!be) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ((struct tap_priv *)be->priv)->fd = fd;
    return be;
}

const struct net_backend_type net_backend_tap = {
    .name = "tap",
    .takes_arg = true,
    .help = "tap:IFNAME",
    .check = tap_check,
    .open = tap_open,
};
