/* The null backend: counts transmitted frames and discards them; never receives. */
#include <stdio.h>
#include <stdlib.h>

#include "net/backend.h"

static unsigned null_send_batch(struct net_backend *be, const struct vpio_pkt *f, unsigned n)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++) {
        if (f[i].iovcnt) { /* backend.h: contiguous frames only */
            be->stats.tx_drops++;
            continue;
        }
        ok++;
        be->stats.tx_bytes += f[i].len;
    }
    be->stats.tx_frames += ok;
    be->stats.tx_batches++;
    return ok;
}

static void null_close(struct net_backend *be)
{
    free(be);
}

static const struct net_backend_ops null_ops = {
    .kind = "null",
    .send_batch = null_send_batch,
    .recv = NULL,
    .poll_fd = NULL,
    .close = null_close,
};

static struct net_backend *null_open(const char *arg, char *err, size_t errlen)
{
    (void)arg;
    struct net_backend *be = net_backend_alloc(&null_ops, 0, "null");
    if (!be)
        snprintf(err, errlen, "out of memory");
    return be;
}

const struct net_backend_type net_backend_null = {
    .name = "null",
    .help = "null",
    .open = null_open,
};
