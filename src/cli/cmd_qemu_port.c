/* vpio qemu-port: attach a QEMU NIC to a vpio switch port.
 *
 * QEMU's `-netdev socket,connect=127.0.0.1:PORT` (and `-netdev stream`)
 * carries frames over TCP, each preceded by its length as a 32-bit
 * big-endian number. This command listens on a loopback address, accepts
 * one QEMU, and relays frames between that connection and a switch port:
 * socket → switch in batches through vpio_port_send_batch, switch → socket
 * with one writev per batch. It lets a QEMU guest (e.g. QEMU's e1000, the
 * peer of the benchmark) talk through the vpio switch to vpio VMs, host
 * pktgen processes or other QEMU guests.
 *
 * The QEMU side is untrusted input: a length outside [14, VPIO_SW_MAX_FRAME]
 * ends the connection (the stream can no longer be framed) and is counted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "qemu_stream.h"
#include "opts.h"
#include "qemu_port.h"
#include "vpio/clock.h"
#include "vpio/switch.h"

static const char qemu_port_intro[] =
    "Listens on a loopback TCP port for one QEMU started with\n"
    "  -netdev socket,id=n0,connect=127.0.0.1:TCPPORT -device e1000,netdev=n0\n"
    "and relays its frames to and from the switch port SWITCH:PORT.";

/* "127.0.0.1:5000" → sockaddr, loopback only. */
static int parse_listen(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, colon - s);
    host[colon - s] = 0;
    uint64_t port;
    if (opts_parse_uint(colon + 1, 1, 65535, &port) < 0)
        return -1;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -1;
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127)
        return -2;
    return 0;
}

static int set_ifname(const char *arg, void *ctx, char *err, size_t errlen)
{
    if (!vpio_port_name_valid(arg)) {
        snprintf(err, errlen, "expected SWITCH:PORT, e.g. vale0:a (names of [A-Za-z0-9_.-])");
        return -1;
    }
    *(const char **)ctx = arg;
    return 0;
}

static int set_listen(const char *arg, void *ctx, char *err, size_t errlen)
{
    struct qemu_port_opts *o = ctx;
    int pr = parse_listen(arg, &o->addr);
    if (pr < 0) {
        snprintf(err, errlen, "%s",
                 pr == -2 ? "only loopback addresses (127.0.0.0/8) are allowed"
                          : "bad listen address (expected 127.0.0.1:TCPPORT)");
        return -1;
    }
    o->listen_at = arg;
    return 0;
}

int qemu_port_parse(int argc, char **argv, struct qemu_port_opts *o, char *err, size_t errlen)
{
    *o = (struct qemu_port_opts){0};
    const struct opt_def defs[] = {
        {'i', NULL, OPT_CALL, "SWITCH:PORT", "switch port to attach (created if needed)",
         .out = &o->ifname, .call = set_ifname},
        {'l', NULL, OPT_CALL, "ADDR:PORT", "where to listen; only loopback addresses (127.0.0.0/8)",
         .out = o, .call = set_listen},
        {'T', NULL, OPT_DOUBLE, "SECONDS", "stop after SECONDS (default: when QEMU disconnects)",
         .out = &o->seconds, .dmin = 0, .dmax = 1e7},
        {'q', NULL, OPT_FLAG, NULL, "no per-second lines", .out = &o->quiet},
    };
    const struct opt_spec spec = {
        "usage: vpio qemu-port -i SWITCH:PORT -l 127.0.0.1:TCPPORT [-T SECONDS] [-q]",
        qemu_port_intro, defs, OPTS_COUNT(defs),
        "Ends with: RESULT app=qemu-port to_switch=N from_switch=N drops=N errs=N\n"};
    int first;
    int r = opts_parse(&spec, argc, argv, &first, err, errlen);
    if (r != 0)
        return r;
    if (first < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[first]);
        return -1;
    }
    if (!o->ifname || !o->listen_at) {
        snprintf(err, errlen, "-i SWITCH:PORT and -l 127.0.0.1:PORT are required");
        return -1;
    }
    return 0;
}

#define BATCH 64

struct relay {
    struct vpio_port *port;
    int sock;
    atomic_bool stop;
    atomic_ullong to_switch, from_switch, drops, errs;
};

static atomic_bool interrupted;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

static bool stopping(struct relay *r)
{
    return atomic_load(&r->stop) || atomic_load(&interrupted);
}

/* QEMU → switch: read what the socket has, cut it into frames, forward each
 * batch with one call. */
static void *socket_to_switch(void *arg)
{
    struct relay *r = arg;
    static uint8_t buf[1 << 20];
    struct qemu_stream_parser parser;
    qemu_stream_init(&parser, buf, sizeof(buf));
    struct vpio_pkt pkts[BATCH];
    while (!stopping(r)) {
        struct pollfd pfd = {.fd = r->sock, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(r->sock, qemu_stream_space(&parser), qemu_stream_room(&parser));
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break; /* QEMU went away */
        }
        qemu_stream_added(&parser, (size_t)n);
        for (;;) {
            unsigned count = 0;
            const uint8_t *frame;
            uint32_t len;
            int st;
            while (count < BATCH && (st = qemu_stream_next(&parser, &frame, &len)) > 0)
                pkts[count++] = (struct vpio_pkt){.data = frame, .len = len};
            if (count) {
                unsigned sent = vpio_port_send_batch(r->port, pkts, count);
                atomic_fetch_add(&r->to_switch, sent);
                atomic_fetch_add(&r->drops, count - sent);
            }
            if (st < 0) {
                atomic_fetch_add(&r->errs, 1);
                fprintf(stderr, "vpio qemu-port: bad frame length from QEMU; closing\n");
                atomic_store(&r->stop, true);
                return NULL;
            }
            if (count < BATCH)
                break;
        }
        qemu_stream_compact(&parser);
    }
    atomic_store(&r->stop, true);
    return NULL;
}

/* switch → QEMU: wait for frames, copy a batch out, one writev. */
static void *switch_to_socket(void *arg)
{
    struct relay *r = arg;
    static uint8_t bufs[BATCH][VPIO_SW_MAX_FRAME];
    static uint8_t hdrs[BATCH][4];
    struct vpio_rxpkt pkts[BATCH];
    struct iovec iov[2 * BATCH];
    while (!stopping(r)) {
        if (vpio_port_poll(r->port, VPIO_POLL_RX, 100) <= 0)
            continue;
        for (unsigned i = 0; i < BATCH; i++)
            pkts[i] = (struct vpio_rxpkt){.buf = bufs[i], .cap = sizeof(bufs[i])};
        unsigned n = vpio_port_recv_batch(r->port, pkts, BATCH);
        for (unsigned i = 0; i < n; i++) {
            qemu_stream_put_len(hdrs[i], pkts[i].len);
            iov[2 * i] = (struct iovec){.iov_base = hdrs[i], .iov_len = 4};
            iov[2 * i + 1] = (struct iovec){.iov_base = bufs[i], .iov_len = pkts[i].len};
        }
        /* A blocking socket: writev sends everything or fails. */
        size_t want = 0;
        for (unsigned i = 0; i < 2 * n; i++)
            want += iov[i].iov_len;
        struct iovec *v = iov;
        int vcnt = 2 * n;
        while (want > 0) {
            ssize_t w = writev(r->sock, v, vcnt);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                atomic_store(&r->stop, true);
                return NULL;
            }
            want -= (size_t)w;
            while (vcnt > 0 && (size_t)w >= v->iov_len) {
                w -= v->iov_len;
                v++;
                vcnt--;
            }
            if (vcnt > 0) {
                v->iov_base = (uint8_t *)v->iov_base + w;
                v->iov_len -= w;
            }
        }
        atomic_fetch_add(&r->from_switch, n);
    }
    return NULL;
}

int cmd_qemu_port(int argc, char **argv)
{
    struct qemu_port_opts o;
    char perr[256];
    int rc = qemu_port_parse(argc, argv, &o, perr, sizeof(perr));
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "vpio qemu-port: %s\n", perr);
        return 64;
    }
    const char *ifname = o.ifname, *listen_at = o.listen_at;
    double seconds = o.seconds;
    bool quiet = o.quiet;
    struct sockaddr_in sa = o.addr;
    static struct relay r;
    int err = vpio_port_open(&r.port, ifname, 0);
    if (err < 0) {
        fprintf(stderr, "vpio qemu-port: %s: %s\n", ifname, strerror(-err));
        return 69;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
        fprintf(stderr, "vpio qemu-port: listen on %s: %s\n", listen_at, strerror(errno));
        vpio_port_close(r.port);
        return 69;
    }
    struct sigaction act = {.sa_handler = on_signal};
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    printf("vpio qemu-port: %s listening on %s\n", ifname, listen_at);
    fflush(stdout);
    uint64_t t0 = vpio_now_ns();
    double deadline = seconds > 0 ? seconds : 1e12;
    r.sock = -1;
    while (r.sock < 0 && !atomic_load(&interrupted)) {
        struct pollfd pfd = {.fd = ls, .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0)
            r.sock = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if ((double)(vpio_now_ns() - t0) / 1e9 > deadline)
            break;
    }
    close(ls);
    int status = 0;
    if (r.sock >= 0) {
        setsockopt(r.sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pthread_t a, b;
        pthread_create(&a, NULL, socket_to_switch, &r);
        pthread_create(&b, NULL, switch_to_socket, &r);
        unsigned long long last_in = 0, last_out = 0;
        while (!stopping(&r)) {
            usleep(100000);
            double el = (double)(vpio_now_ns() - t0) / 1e9;
            if (el > deadline)
                atomic_store(&r.stop, true);
            static double next_print = 1;
            if (!quiet && el >= next_print) {
                unsigned long long in = atomic_load(&r.to_switch),
                                   out = atomic_load(&r.from_switch);
                printf("qemu-port: to switch %llu pps, from switch %llu pps\n", in - last_in,
                       out - last_out);
                fflush(stdout);
                last_in = in;
                last_out = out;
                next_print += 1;
            }
        }
        shutdown(r.sock, SHUT_RDWR);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        close(r.sock);
    } else if (!atomic_load(&interrupted)) {
        fprintf(stderr, "vpio qemu-port: no QEMU connected within %g s\n", seconds);
        status = 1;
    }
    vpio_port_close(r.port);
    printf("RESULT app=qemu-port to_switch=%llu from_switch=%llu drops=%llu errs=%llu\n",
           (unsigned long long)atomic_load(&r.to_switch),
           (unsigned long long)atomic_load(&r.from_switch),
           (unsigned long long)atomic_load(&r.drops), (unsigned long long)atomic_load(&r.errs));
    return status ? status : atomic_load(&r.errs) ? 1 : 0;
}
