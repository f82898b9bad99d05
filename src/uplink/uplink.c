/* Uplinks: the data-path-independent part (dispatch, promiscuous mode). */
#include "uplink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int uplink_promisc_open(int ifindex)
{
    /* protocol 0: the socket receives nothing, it only holds the membership */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int uplink_open(struct uplink **out, enum uplink_mode mode, const struct uplink_config *cfg,
                struct uplink_counters *ctr, char *why, size_t whylen)
{
    *out = NULL;
    struct uplink *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    u->ops = mode == UPLINK_XDP ? &uplink_xdp_ops : &uplink_packet_ops;
    u->cfg = *cfg;
    snprintf(u->ifname, sizeof u->ifname, "%s", cfg->ifname);
    u->cfg.ifname = u->ifname;
    u->ctr = ctr;
    u->fd = -1;
    u->promisc_fd = -1;
    u->ifindex = (int)if_nametoindex(u->ifname);
    if (!u->ifindex) {
        int e = -errno;
        snprintf(why, whylen, "no interface %s: %s", u->ifname, strerror(errno));
        free(u);
        return e ? e : -ENODEV;
    }
    int rc = u->ops->open(u, why, whylen);
    if (rc < 0) {
        free(u);
        return rc;
    }
    if (cfg->promisc) {
        u->promisc_fd = uplink_promisc_open(u->ifindex);
        if (u->promisc_fd < 0) {
            rc = u->promisc_fd;
            snprintf(why, whylen, "promiscuous mode on %s: %s", u->ifname, strerror(-rc));
            u->ops->close(u);
            free(u);
            return rc;
        }
    }
    *out = u;
    return 0;
}

void uplink_close(struct uplink *u)
{
    if (!u)
        return;
    u->ops->close(u);
    if (u->promisc_fd >= 0)
        close(u->promisc_fd);
    free(u);
}

int uplink_fd(const struct uplink *u)
{
    return u->fd;
}
const char *uplink_describe(const struct uplink *u)
{
    return u->desc;
}
int uplink_ifindex(const struct uplink *u)
{
    return u->ifindex;
}

unsigned uplink_rx_burst(struct uplink *u, struct vpio_pkt *pkts, unsigned n)
{
    return u->ops->rx_burst(u, pkts, n < UPLINK_BURST ? n : UPLINK_BURST);
}

void uplink_rx_release(struct uplink *u)
{
    u->ops->rx_release(u);
}

unsigned uplink_tx_reserve(struct uplink *u, struct vpio_rxpkt *bufs, unsigned n)
{
    return u->ops->tx_reserve(u, bufs, n < UPLINK_BURST ? n : UPLINK_BURST);
}

void uplink_tx_commit(struct uplink *u, struct vpio_rxpkt *bufs, unsigned k, unsigned reserved)
{
    u->ops->tx_commit(u, bufs, k, reserved);
}

int uplink_tx_flush(struct uplink *u)
{
    return u->ops->tx_flush(u);
}
void uplink_poll_stats(struct uplink *u)
{
    u->ops->poll_stats(u);
}
