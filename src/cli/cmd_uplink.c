/* vpio uplink: one switch port joined to one Linux network interface
 * (AF_XDP or AF_PACKET, src/uplink/). Every frame the switch sends to the
 * port goes out on the interface; every frame arriving on the interface
 * enters the switch through the port (learned and flooded as for any port).
 *
 * Threads: the data-path thread (main) does both directions in batches and
 * sleeps in poll() on the socket and on an eventfd; a waiter thread sleeps
 * on the switch port's futex (vpio_port_rx_wait, which only reads the
 * published/released indices) and turns "frames for the port" into an
 * eventfd write, because a futex cannot be poll()ed. Hand-off without a
 * lost wake-up: after signalling, the waiter sleeps until main has drained
 * the port (a recv_batch that came back short) and posts `rearm`; only then
 * does it wait on the futex again, and rx_wait returns at once if frames
 * were published in between.
 *
 * The interface going down or away: the data path is closed, the switch
 * port kept (frames for it are dropped and counted), the interface looked up
 * by name every LINK_CHECK_MS, and the data path reopened when it is up
 * again (possibly with a new ifindex). */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "uplink/uplink.h"
#include "vpio/clock.h"
#include "vpio/switch.h"

#define LINK_CHECK_MS 150
#define DRAIN_BUFS 16

static const char *const mode_names[] = {"auto", "xdp", "packet", NULL};
enum { MODE_AUTO, MODE_XDP, MODE_PACKET };

struct uplink_opts {
    const char *port;
    const char *ifname;
    int mode;
    bool xdp_skb, no_promisc, quiet;
    uint64_t queue, burst;
};

static volatile sig_atomic_t stop, dump;
static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}
static void on_dump(int sig)
{
    (void)sig;
    dump = 1;
}

static int parse(int argc, char **argv, struct uplink_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->burst = 128;
    const struct opt_def defs[] = {
        {.short_name = 'i',
         .long_name = "port",
         .type = OPT_STRING,
         .metavar = "SWITCH:PORT",
         .help = "the switch port to own (created if needed)",
         .out = &o->port},
        {.long_name = "if",
         .type = OPT_STRING,
         .metavar = "IFNAME",
         .help = "the Linux network interface",
         .out = &o->ifname},
        {.short_name = 'm',
         .long_name = "mode",
         .type = OPT_CHOICE,
         .metavar = "auto|xdp|packet",
         .help = "data path: AF_XDP, AF_PACKET, or auto (AF_XDP, else AF_PACKET; default)",
         .out = &o->mode,
         .choices = mode_names},
        {.long_name = "xdp-skb",
         .type = OPT_FLAG,
         .help = "AF_XDP: generic (SKB) mode only, do not try native",
         .out = &o->xdp_skb},
        {.long_name = "queue",
         .type = OPT_UINT,
         .metavar = "N",
         .help = "AF_XDP: the RX queue to bind (default 0)",
         .out = &o->queue,
         .max = 1023},
        {.short_name = 'b',
         .long_name = "burst",
         .type = OPT_UINT,
         .metavar = "N",
         .help = "frames per batch each way (1..256, default 128)",
         .out = &o->burst,
         .min = 1,
         .max = UPLINK_BURST},
        {.long_name = "no-promisc",
         .type = OPT_FLAG,
         .help = "leave the interface's promiscuous mode alone",
         .out = &o->no_promisc},
        {.short_name = 'q',
         .long_name = "quiet",
         .type = OPT_FLAG,
         .help = "no notices, only the counters at the end",
         .out = &o->quiet},
    };
    const struct opt_spec spec = {
        .usage = "usage: vpio uplink -i SWITCH:PORT --if IFNAME [--mode auto|xdp|packet] [options]",
        .intro = "Joins a switch port to a Linux network interface: frames from the switch go out\n"
                 "on the interface, frames arriving on it enter the switch. Runs until SIGINT or\n"
                 "SIGTERM; SIGUSR1 prints the counters. Turn the interface's offloads off\n"
                 "(ethtool -K IFNAME gro off gso off tso off; and tx off on a Linux sender\n"
                 "whose checksums the guests must see): larger frames than the switch's are\n"
                 "dropped and counted (rx_oversize). See docs/uplink.md.",
        .opts = defs,
        .n_opts = OPTS_COUNT(defs),
        .epilog = "Counters (one RESULT line on stdout): rx_* interface to switch, tx_* switch to\n"
                  "interface, link_downs/link_ups. Notices go to stderr.",
    };
    int first;
    int rc = opts_parse(&spec, argc, argv, &first, err, errlen);
    if (rc)
        return rc;
    if (first < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[first]);
        return -1;
    }
    if (!o->port || !o->ifname) {
        snprintf(err, errlen, "-i SWITCH:PORT and --if IFNAME are required");
        return -1;
    }
    if (strlen(o->ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "interface name '%s' longer than %d characters", o->ifname,
                 IFNAMSIZ - 1);
        return -1;
    }
    return 0;
}

/* 1: present, up and running (carrier); 0: present but down; -1: gone. */
static int link_state(int ctl, const char *ifname, int *ifindex)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(ctl, SIOCGIFINDEX, &ifr) < 0)
        return -1;
    *ifindex = ifr.ifr_ifindex;
    if (ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING) ? 1 : 0;
}

/* ---- the waiter thread ---- */
struct waiter {
    struct vpio_port *port;
    int efd;
    sem_t rearm;
    volatile int quit;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
        int r = vpio_port_rx_wait(w->port, 200000);
        if (r < 0) {
            usleep(100000); /* the arena is broken: main notices on its calls */
            continue;
        }
        if (r == 0)
            continue;
        uint64_t one = 1;
        if (write(w->efd, &one, sizeof one) < 0) {
            /* cannot fail with a valid eventfd; main polls on a timer anyway */
        }
        while (!__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (sem_timedwait(&w->rearm, &ts) == 0)
                break;
        }
    }
    return NULL;
}

/* ---- counters ---- */
static void print_counters(const struct uplink_opts *o, const char *mode,
                           const struct uplink_counters *c, struct vpio_port *port)
{
    struct vpio_port_stats st;
    memset(&st, 0, sizeof st);
    vpio_port_stats(port, &st);
    printf("RESULT app=uplink port=%s if=%s mode=%s rx_frames=%" PRIu64 " rx_bytes=%" PRIu64
           " rx_sw_drops=%" PRIu64 " rx_runts=%" PRIu64 " rx_oversize=%" PRIu64
           " rx_truncated=%" PRIu64 " rx_bad_desc=%" PRIu64 " rx_outgoing=%" PRIu64
           " rx_vlan=%" PRIu64 " rx_csum_partial=%" PRIu64 " rx_kernel_drops=%" PRIu64
           " tx_frames=%" PRIu64 " tx_bytes=%" PRIu64 " tx_no_buf=%" PRIu64 " tx_too_long=%" PRIu64
           " tx_link_down=%" PRIu64 " tx_errors=%" PRIu64 " port_rx_drops=%" PRIu64
           " link_downs=%" PRIu64 " link_ups=%" PRIu64 "\n",
           o->port, o->ifname, mode, c->rx_frames, c->rx_bytes, c->rx_sw_drops, c->rx_runts,
           c->rx_oversize, c->rx_truncated, c->rx_bad_desc, c->rx_outgoing, c->rx_vlan,
           c->rx_csum_partial, c->rx_kernel_drops, c->tx_frames, c->tx_bytes, c->tx_no_buf,
           vpio_port_rx_too_long(port), c->tx_link_down, c->tx_errors, st.rx_drops, c->link_downs,
           c->link_ups);
    fflush(stdout);
}

#define NOTE(o, ...)                                                                               \
    do {                                                                                           \
        if (!(o)->quiet) {                                                                         \
            fprintf(stderr, "vpio uplink: " __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Open the data path in the resolved mode (auto: AF_XDP, else AF_PACKET with
 * a notice). *mode becomes the mode that worked. */
static int open_path(const struct uplink_opts *o, int *mode, struct uplink_counters *ctr,
                     struct uplink **u, char *why, size_t whylen)
{
    struct uplink_config cfg = {
        .ifname = o->ifname,
        .queue = (uint32_t)o->queue,
        .xdp_skb = o->xdp_skb,
        .promisc = !o->no_promisc,
        .max_frame = VPIO_SW_MAX_FRAME,
    };
    if (*mode == MODE_AUTO || *mode == MODE_XDP) {
        int rc = uplink_open(u, UPLINK_XDP, &cfg, ctr, why, whylen);
        if (rc == 0) {
            *mode = MODE_XDP;
            return 0;
        }
        if (*mode == MODE_XDP)
            return rc;
        NOTE(o, "AF_XDP not usable (%s); falling back to AF_PACKET", why);
    }
    int rc = uplink_open(u, UPLINK_PACKET, &cfg, ctr, why, whylen);
    if (rc == 0)
        *mode = MODE_PACKET;
    return rc;
}

int cmd_uplink(int argc, char **argv)
{
    struct uplink_opts o;
    char err[512];
    int rc = parse(argc, argv, &o, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "vpio uplink: %s (see vpio uplink --help)\n", err);
        return 2;
    }
    int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl < 0)
        ctl = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int ifindex = 0;
    if (ctl < 0 || link_state(ctl, o.ifname, &ifindex) < 0) {
        fprintf(stderr, "vpio uplink: no interface %s\n", o.ifname);
        return 1;
    }
    struct vpio_port *port;
    rc = vpio_port_open(&port, o.port, 0);
    if (rc < 0) {
        fprintf(stderr, "vpio uplink: cannot open port %s: %s\n", o.port, strerror(-rc));
        return 1;
    }
    vpio_port_set_label(port, o.ifname);

    struct uplink_counters ctr;
    memset(&ctr, 0, sizeof ctr);
    struct uplink *u = NULL;
    int mode = o.mode;
    char why[512] = "";
    int st = link_state(ctl, o.ifname, &ifindex);
    if (st == 1) {
        rc = open_path(&o, &mode, &ctr, &u, why, sizeof why);
        if (rc < 0) {
            fprintf(stderr, "vpio uplink: %s\n", why);
            vpio_port_close(port);
            return 1;
        }
        NOTE(&o, "%s <-> %s (ifindex %d): %s", o.port, o.ifname, ifindex, uplink_describe(u));
    } else {
        NOTE(&o, "%s is down; %s kept, waiting for it", o.ifname, o.port);
    }
    const char *mode_name = mode == MODE_XDP ? "xdp" : mode == MODE_PACKET ? "packet" : "auto";

    struct waiter w = {.port = port};
    w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w.efd < 0 || sem_init(&w.rearm, 0, 0) < 0) {
        fprintf(stderr, "vpio uplink: eventfd: %s\n", strerror(errno));
        uplink_close(u);
        vpio_port_close(port);
        return 1;
    }
    /* signals go to the data-path thread (its poll() returns EINTR) */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t wt;
    rc = pthread_create(&wt, NULL, waiter_main, &w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        fprintf(stderr, "vpio uplink: thread: %s\n", strerror(rc));
        uplink_close(u);
        vpio_port_close(port);
        return 1;
    }
    pthread_setname_np(wt, "uplink-wait");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_dump;
    sigaction(SIGUSR1, &sa, NULL);

    static uint8_t drain_mem[DRAIN_BUFS][VPIO_SW_MAX_FRAME];
    struct vpio_rxpkt bufs[UPLINK_BURST];
    struct vpio_pkt pkts[UPLINK_BURST];
    unsigned burst = (unsigned)o.burst;
    bool sw_pending = true; /* drain what is already there */
    uint64_t next_check = vpio_now_ns() / 1000000 + LINK_CHECK_MS;
    bool check_now = false;
    bool waiter_parked = false; /* the waiter signalled and waits for rearm */
    char last_why[512] = "";

    while (!stop) {
        bool busy = false, backlog = false;
        /* switch -> interface */
        if (sw_pending) {
            bool empty = false;
            for (int round = 0; round < 4 && !empty; round++) {
                if (!u) {
                    for (unsigned i = 0; i < DRAIN_BUFS; i++)
                        bufs[i] =
                            (struct vpio_rxpkt){.buf = drain_mem[i], .cap = VPIO_SW_MAX_FRAME};
                    unsigned got = vpio_port_recv_batch(port, bufs, DRAIN_BUFS);
                    ctr.tx_link_down += got;
                    empty = got < DRAIN_BUFS;
                    continue;
                }
                unsigned k = uplink_tx_reserve(u, bufs, burst);
                if (!k) {
                    backlog = true; /* the interface's ring is full: retry soon */
                    break;
                }
                unsigned got = vpio_port_recv_batch(port, bufs, k);
                uplink_tx_commit(u, bufs, got, k);
                empty = got < k;
            }
            if (empty) {
                sw_pending = false;
                if (waiter_parked) { /* re-arm only a waiter that signalled */
                    waiter_parked = false;
                    sem_post(&w.rearm);
                }
            } else if (!backlog) {
                busy = true;
            }
        }
        /* interface -> switch */
        if (u) {
            for (int round = 0; round < 4; round++) {
                unsigned n = uplink_rx_burst(u, pkts, burst);
                if (n) {
                    unsigned ok = vpio_port_send_batch(port, pkts, n);
                    ctr.rx_frames += n;
                    ctr.rx_sw_drops += n - ok;
                    for (unsigned i = 0; i < n; i++)
                        ctr.rx_bytes += pkts[i].len;
                }
                uplink_rx_release(u);
                if (n < burst)
                    break;
                if (round == 3)
                    busy = true;
            }
            int fr = uplink_tx_flush(u);
            if (fr < 0)
                check_now = true;
            else if (fr > 0)
                backlog = true;
        }
        /* link state */
        uint64_t now_ms = vpio_now_ns() / 1000000;
        if (check_now || now_ms >= next_check) {
            check_now = false;
            next_check = now_ms + LINK_CHECK_MS;
            int idx = 0, ls = link_state(ctl, o.ifname, &idx);
            if (u) {
                uplink_poll_stats(u);
                if (ls != 1 || idx != uplink_ifindex(u)) {
                    NOTE(&o, "%s %s; %s kept, waiting for it to come back", o.ifname,
                         ls < 0    ? "disappeared"
                         : ls == 0 ? "is down"
                                   : "was re-created",
                         o.port);
                    uplink_close(u);
                    u = NULL;
                    ctr.link_downs++;
                    sw_pending = true;
                    continue;
                }
            } else if (ls == 1) {
                int m = mode;
                if (open_path(&o, &m, &ctr, &u, why, sizeof why) == 0) {
                    NOTE(&o, "%s is up (ifindex %d): resumed, %s", o.ifname, idx,
                         uplink_describe(u));
                    if (mode == MODE_AUTO)
                        mode_name = m == MODE_XDP ? "xdp" : "packet";
                    if (mode == MODE_AUTO)
                        mode = m;
                    ctr.link_ups++;
                    last_why[0] = 0;
                } else if (strcmp(why, last_why)) {
                    NOTE(&o, "%s is up but cannot be opened yet: %s", o.ifname, why);
                    snprintf(last_why, sizeof last_why, "%s", why);
                }
            }
        }
        if (dump) {
            dump = 0;
            print_counters(&o, mode_name, &ctr, port);
        }
        if (busy)
            continue;
        int timeout = backlog ? 1 : (int)(next_check > now_ms ? next_check - now_ms : 0);
        struct pollfd pf[2] = {{.fd = w.efd, .events = POLLIN}, {.fd = -1}};
        if (u) /* backlog: POLLOUT wakes us when the kernel frees TX buffers
                * (and in AF_XDP copy mode poll() itself transmits) */
            pf[1] = (struct pollfd){.fd = uplink_fd(u),
                                    .events = (short)(POLLIN | (backlog ? POLLOUT : 0))};
        int pr = poll(pf, 2, timeout);
        if (pr > 0 && (pf[0].revents & POLLIN)) {
            uint64_t v;
            if (read(w.efd, &v, sizeof v) == sizeof v) {
                sw_pending = true;
                waiter_parked = true;
            }
        }
        if (pr > 0 && (pf[1].revents & (POLLERR | POLLHUP | POLLNVAL)))
            check_now = true;
        if (pr > 0 && (pf[1].revents & POLLOUT))
            sw_pending = sw_pending || backlog;
    }
    __atomic_store_n(&w.quit, 1, __ATOMIC_RELEASE);
    sem_post(&w.rearm);
    pthread_join(wt, NULL);
    if (u) {
        uplink_poll_stats(u);
        uplink_close(u);
    }
    print_counters(&o, mode_name, &ctr, port);
    vpio_port_close(port);
    close(w.efd);
    close(ctl);
    return 0;
}
