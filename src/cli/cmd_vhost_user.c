/* vpio vhost-user: a vhost-user virtio-net back-end on a switch port, for
 * QEMU, DPDK virtio-user, cloud-hypervisor or crosvm (see
 * docs/vhost-user.md). The work is in src/vhost/; this file parses the
 * options, waits for signals and prints the counters (on SIGUSR1 and on
 * exit). */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "vhost/vhost_net_port.h"

static void print_stats(FILE *out, const char *ifname, struct vhost_net_port *vp)
{
    struct vhost_net_stats s;
    vhost_net_port_get_stats(vp, &s);
    uint64_t tx_drops = s.tx_drop_switch + s.tx_drop_bad_chain + s.tx_drop_size + s.tx_drop_offload;
    uint64_t rx_drops = s.rx_drop_too_long + s.rx_drop_bad_slot + s.rx_drop_no_guest;
    fprintf(out,
            "vhost-user %s: connected=%d connects=%" PRIu64 " disconnects=%" PRIu64 "\n"
            "  tx (guest->switch): frames=%" PRIu64 " bytes=%" PRIu64 " drops=%" PRIu64
            " (switch=%" PRIu64 " bad_chain=%" PRIu64 " size=%" PRIu64 " offload=%" PRIu64 ")\n"
            "  rx (switch->guest): frames=%" PRIu64 " bytes=%" PRIu64 " drops=%" PRIu64
            " (too_long=%" PRIu64 " bad_slot=%" PRIu64 " no_guest=%" PRIu64
            ") switch_ring_full=%" PRIu64 " bad_chains_returned=%" PRIu64 "\n"
            "  kicks=%" PRIu64 " calls=%" PRIu64 " sleeps=%" PRIu64 " msgs=%" PRIu64
            " bad_msgs=%" PRIu64 " mem_tables=%" PRIu64 " ring_setup_errs=%" PRIu64 "\n",
            ifname, vhost_net_port_connected(vp), s.connects, s.disconnects, s.tx_frames,
            s.tx_bytes, tx_drops, s.tx_drop_switch, s.tx_drop_bad_chain, s.tx_drop_size,
            s.tx_drop_offload, s.rx_frames, s.rx_bytes, rx_drops, s.rx_drop_too_long,
            s.rx_drop_bad_slot, s.rx_drop_no_guest, s.rx_switch_drops, s.rx_bad_chain, s.kicks,
            s.calls, s.sleeps, s.msgs, s.bad_msgs, s.mem_tables, s.ring_setup_errs);
    static const char *const qn[2] = {"rx", "tx"};
    for (int i = 0; i < 2; i++) {
        const struct virtq_errors *e = &s.ring_err[i];
        fprintf(out,
                "  %s ring errors: avail_idx=%" PRIu64 " head=%" PRIu64 " addr=%" PRIu64
                " loop=%" PRIu64 " indirect=%" PRIu64 " dir=%" PRIu64 " segs=%" PRIu64
                " len=%" PRIu64 " resync=%" PRIu64 "\n",
                qn[i], e->avail_idx, e->head, e->addr, e->loop, e->indirect, e->dir, e->segs,
                e->len, e->resync);
        const struct vhost_ring_state *r = &s.ring_state[i];
        fprintf(out,
                "  %s ring state: running=%" PRIu64 " num=%" PRIu64 " last_avail=%" PRIu64
                " avail_idx=%" PRIu64 " used_idx=%" PRIu64 " used_event=%" PRIu64 " broken=%" PRIu64
                "\n",
                qn[i], r->running, r->num, r->last_avail, r->avail_idx, r->used_idx, r->used_event,
                r->broken);
    }
    fprintf(out,
            "RESULT app=vhost-user tx_pkts=%" PRIu64 " tx_bytes=%" PRIu64 " tx_drops=%" PRIu64
            " rx_pkts=%" PRIu64 " rx_bytes=%" PRIu64 " rx_drops=%" PRIu64
            " rx_switch_drops=%" PRIu64 " kicks=%" PRIu64 " calls=%" PRIu64 "\n",
            s.tx_frames, s.tx_bytes, tx_drops, s.rx_frames, s.rx_bytes, rx_drops, s.rx_switch_drops,
            s.kicks, s.calls);
    fflush(out);
}

int cmd_vhost_user(int argc, char **argv)
{
    /* First of all: a SIGUSR1 (counters) that comes while we start must not
     * end the process with its default action. The threads inherit the
     * mask; the signals are taken by sigwait below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    const char *ifname = NULL, *sock = NULL;
    bool client = false, quiet = false;
    uint64_t poll_us = 50, batch = 64;
    const struct opt_def defs[] = {
        {.short_name = 'i',
         .long_name = "iface",
         .type = OPT_STRING,
         .metavar = "SWITCH:PORT",
         .help = "switch port, e.g. vale0:vm1 (created if needed)",
         .out = &ifname},
        {.short_name = 's',
         .long_name = "socket",
         .type = OPT_STRING,
         .metavar = "SOCKET",
         .help = "vhost-user UNIX socket path",
         .out = &sock},
        {.long_name = "client",
         .type = OPT_FLAG,
         .help = "connect to SOCKET (QEMU with server=on) instead of listening on it",
         .out = &client},
        {.short_name = 'p',
         .long_name = "poll-us",
         .type = OPT_UINT,
         .metavar = "US",
         .help = "busy-poll this long before sleeping (default 50)",
         .out = &poll_us,
         .min = 0,
         .max = 1000000},
        {.short_name = 'b',
         .long_name = "batch",
         .type = OPT_UINT,
         .metavar = "N",
         .help = "chains per TX batch / frames per RX pass (default 64)",
         .out = &batch,
         .min = 1,
         .max = VHOST_NET_BATCH_MAX},
        {.short_name = 'q',
         .long_name = "quiet",
         .type = OPT_FLAG,
         .help = "no connection messages on stderr",
         .out = &quiet},
    };
    const struct opt_spec spec = {
        .usage = "usage: vpio vhost-user -i SWITCH:PORT -s SOCKET [--client] [options]",
        .intro = "A vhost-user virtio-net back-end (one queue pair) on a switch port. The "
                 "front-end's guest RAM must be shared and fd-backed (QEMU: "
                 "-object memory-backend-memfd,...,share=on). Offered: VERSION_1, MRG_RXBUF, "
                 "EVENT_IDX, INDIRECT_DESC, protocol features REPLY_ACK; no checksum/TSO "
                 "offloads, no MQ. The port survives its front-end: it waits for the next one.",
        .opts = defs,
        .n_opts = OPTS_COUNT(defs),
        .epilog = "Counters on SIGUSR1 and on exit (SIGINT/SIGTERM), ending with one line\n"
                  "RESULT app=vhost-user tx_pkts=N ... rx_pkts=N ... kicks=N calls=N\n"
                  "(tx: guest to switch, rx: switch to guest).\n",
    };
    char err[256];
    int first;
    int rc = opts_parse(&spec, argc, argv, &first, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc == 0 && first < argc) {
        snprintf(err, sizeof err, "unexpected argument '%s'", argv[first]);
        rc = -1;
    } else if (rc == 0 && (!ifname || !strchr(ifname, ':'))) {
        snprintf(err, sizeof err, "missing -i SWITCH:PORT");
        rc = -1;
    } else if (rc == 0 && !sock) {
        snprintf(err, sizeof err, "missing -s SOCKET");
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, "vpio vhost-user: %s (see vpio vhost-user --help)\n", err);
        return 2;
    }
    struct vhost_net_config cfg = {.ifname = ifname,
                                   .socket_path = sock,
                                   .client = client,
                                   .poll_us = (unsigned)poll_us,
                                   .batch = (unsigned)batch,
                                   .verbose = !quiet};
    struct vhost_net_port *vp;
    rc = vhost_net_port_start(&vp, &cfg, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "vpio vhost-user: %s\n", err);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "vpio vhost-user: %s on %s (%s)\n", ifname, sock,
                client ? "client" : "listening");
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGUSR1)
            print_stats(stdout, ifname, vp);
        else if (sig == SIGINT || sig == SIGTERM)
            break;
    }
    vhost_net_port_stop(vp);
    print_stats(stdout, ifname, vp);
    vhost_net_port_destroy(vp);
    return 0;
}
