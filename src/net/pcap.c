/* The pcap backend: writes every transmitted frame to a pcap file
 * (libpcap's pcap_dump, Ethernet link type); never receives. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "net/backend.h"

struct pcap_priv {
    pcap_t *dead;
    pcap_dumper_t *dumper;
};

static unsigned pcap_send_batch(struct net_backend *be, const struct vpio_pkt *f, unsigned n)
{
    struct pcap_priv *p = be->priv;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++) {
        if (f[i].iovcnt) { /* backend.h: contiguous frames only */
            be->stats.tx_drops++;
            continue;
        }
        ok++;
        struct pcap_pkthdr h = {.ts = tv, .caplen = f[i].len, .len = f[i].len};
        pcap_dump((u_char *)p->dumper, &h, f[i].data);
        be->stats.tx_bytes += f[i].len;
    }
    be->stats.tx_frames += ok;
    be->stats.tx_batches++;
    return ok;
}

static void pcap_be_close(struct net_backend *be)
{
    struct pcap_priv *p = be->priv;
    if (p->dumper)
        pcap_dump_close(p->dumper);
    if (p->dead)
        pcap_close(p->dead);
    free(be);
}

static const struct net_backend_ops pcap_ops = {
    .kind = "pcap",
    .send_batch = pcap_send_batch,
    .recv = NULL,
    .poll_fd = NULL,
    .close = pcap_be_close,
};

static int pcap_check(const char *path, char *err, size_t errlen)
{
    if (!*path) {
        snprintf(err, errlen, "needs a file name (pcap:FILE)");
        return -1;
    }
    return 0;
}

static struct net_backend *pcap_be_open(const char *path, char *err, size_t errlen)
{
    char desc[128];
    snprintf(desc, sizeof(desc), "pcap:%s", path);
    struct net_backend *be = net_backend_alloc(&pcap_ops, sizeof(struct pcap_priv), desc);
    if (!be) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct pcap_priv *p = be->priv;
    p->dead = pcap_open_dead(DLT_EN10MB, NET_FRAME_MAX);
    if (!p->dead) {
        snprintf(err, errlen, "pcap: pcap_open_dead failed");
        pcap_be_close(be);
        return NULL;
    }
    p->dumper = pcap_dump_open(p->dead, path);
    if (!p->dumper) {
        snprintf(err, errlen, "pcap: cannot write '%s': %s", path, pcap_geterr(p->dead));
        pcap_be_close(be);
        return NULL;
    }
    return be;
}

const struct net_backend_type net_backend_pcap = {
    .name = "pcap",
    .takes_arg = true,
    .help = "pcap:FILE",
    .check = pcap_check,
    .open = pcap_be_open,
};
