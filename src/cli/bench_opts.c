/* The option table of `vpio bench`. */
#include "bench_opts.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_rows.h"
#include "opts.h"

static int quick(const char *arg, void *ctx, char *err, size_t errlen)
{
    struct bench_opts *o = ctx;
    o->duration = 2;
    o->frames[0] = 60;
    o->nframes = 1;
    return 0;
}

static int no_pin(const char *arg, void *ctx, char *err, size_t errlen)
{
    ((struct bench_opts *)ctx)->pin = false;
    return 0;
}

/* "60,1514": at most MAX_FRAMES sizes of 60..1514 bytes. */
static int set_frames(const char *arg, void *ctx, char *err, size_t errlen)
{
    struct bench_opts *o = ctx;
    unsigned frames[MAX_FRAMES];
    int n = 0;
    for (const char *p = arg;; p++) {
        size_t len = strcspn(p, ",");
        char num[16];
        uint64_t v;
        if (len == 0 || len >= sizeof(num) || n >= MAX_FRAMES)
            goto bad;
        memcpy(num, p, len);
        num[len] = 0;
        if (opts_parse_uint(num, 60, 1514, &v) < 0)
            goto bad;
        frames[n++] = (unsigned)v;
        p += len;
        if (!*p)
            break;
    }
    memcpy(o->frames, frames, sizeof(frames));
    o->nframes = n;
    return 0;
bad:
    snprintf(err, errlen, "expected sizes 60..1514, comma-separated, at most %d", MAX_FRAMES);
    return -1;
}

static bool row_exists(const char *name, size_t len)
{
    for (size_t i = 0; i < bench_row_count; i++)
        if (strlen(bench_rows[i].config) == len && !strncmp(bench_rows[i].config, name, len))
            return true;
    return false;
}

/* Every name in the list must be a row of the table. */
static int set_rows(const char *arg, void *ctx, char *err, size_t errlen)
{
    for (const char *p = arg;; p++) {
        size_t len = strcspn(p, ",");
        if (!row_exists(p, len)) {
            size_t off = (size_t)snprintf(err, errlen, "unknown row '%.*s' (rows:", (int)len, p);
            for (size_t i = 0; i < bench_row_count && off < errlen; i++)
                off += (size_t)snprintf(err + off, errlen - off, " %s", bench_rows[i].config);
            if (off < errlen)
                snprintf(err + off, errlen - off, ")");
            return -1;
        }
        p += len;
        if (!*p)
            break;
    }
    ((struct bench_opts *)ctx)->rows = arg;
    return 0;
}

static int latency(const char *arg, void *ctx, char *err, size_t errlen)
{
    struct bench_opts *o = ctx;
    o->latency = true;
    o->frames[0] = 60; /* request/response is measured with 60-byte frames */
    o->nframes = 1;
    return 0;
}

static int poll_opt(const char *arg, void *ctx, char *err, size_t errlen)
{
    ((struct bench_opts *)ctx)->poll = true;
    return 0;
}

static int split_opt(const char *arg, void *ctx, char *err, size_t errlen)
{
    ((struct bench_opts *)ctx)->split = true;
    return 0;
}

static const char *const platforms[] = {"vpio", "qemu", "all", NULL};

static const char bench_intro[] =
    "Runs a sender VM and a receiver VM per configuration and prints one table:\n"
    "packets/s received, Gbit/s, VM exits and interrupts per packet on each side,\n"
    "and ratios to the baseline row and to QEMU's e1000 (same guest, same apps).\n"
    "Rows: baseline (classic driver, no moderation, tap + Linux bridge),\n"
    "+moderation, +send-combining, +switch, +csb, ring API rows, QEMU peer rows\n"
    "(e1000, and virtio-net on vpio's vhost-user ports, on DPDK testpmd, over tap),\n"
    "and mixed rows (*-to-vm): a QEMU virtio-net VM on a vpio vhost-user port\n"
    "sending to a vpio VM (e1000 + CSB) on the same switch.";

static const char bench_epilog[] =
    "By default the sender runs on CPU 0 and the receiver on CPU 1, each VM with all\n"
    "of its threads (QEMU's through taskset, vpio's with --cpus).\n"
    "\n"
    "Needs root (network namespace, taps) and /dev/kvm for the vpio rows and for\n"
    "QEMU with KVM; without /dev/kvm the vpio rows are reported as not run and\n"
    "QEMU runs under TCG (platform qemu-tcg: not comparable with KVM figures).\n"
    "The virtio-net rows need KVM; a `vpio vhost-user` per VM runs on its VM's CPU\n"
    "(its threads listed as vu:...); the +dpdk rows need dpdk-testpmd, whose\n"
    "forwarding lcore polls CPU 1 (listed under shared back-end).\n"
    "\n"
    "--split puts both vCPUs on CPU 0 and everything that serves their NICs on\n"
    "CPU 1: vpio's I/O threads (--io-cpus 1; the CSB threads poll 2 ms, the core is\n"
    "theirs), each vhost-user port, testpmd's forwarding lcore. Made for --latency\n"
    "(one request in flight: one vCPU runs at a time); streams lose half a core.\n"
    "\n"
    "Exit status: 1 if a vpio row failed, else 0; a peer row that failed (QEMU,\n"
    "testpmd) is shown as failed in the table and counted in the last line.\n";

int bench_parse_opts(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen)
{
    *o = (struct bench_opts){.duration = 5,
                             .frames = {60, 1514},
                             .nframes = 2,
                             .platform = "all",
                             .kernel = "build/guest.elf",
                             .outdir = "build/bench",
                             .pin = sysconf(_SC_NPROCESSORS_ONLN) >= 2,
                             .ring = BENCH_GUEST_RING_DEFAULT};
    int platform = 2;
    const struct opt_def defs[] = {
        {0, "quick", OPT_CALL, NULL, "short run: 2 s per row, 60-byte frames only", .out = o,
         .call = quick},
        {0, "duration", OPT_DOUBLE, "SEC", "seconds the sender runs per row (default 5)",
         .out = &o->duration, .dmin = 0.5, .dmax = 600},
        {0, "frames", OPT_CALL, "LIST", "frame sizes, comma-separated (default 60,1514)", .out = o,
         .call = set_frames},
        {0, "rows", OPT_CALL, "LIST", "only these configurations (names as in the table)", .out = o,
         .call = set_rows},
        {0, "platform", OPT_CHOICE, "P", "vpio, qemu or all (default all)", .out = &platform,
         .choices = platforms},
        {0, "kernel", OPT_STRING, "FILE", "guest image (default build/guest.elf)",
         .out = &o->kernel},
        {0, "vpio", OPT_STRING, "FILE", "vpio binary for the VMs (default: this program)",
         .out = &o->vpio},
        {0, "outdir", OPT_STRING, "DIR", "per-run logs, CSV, JSON and plot (default build/bench)",
         .out = &o->outdir},
        {0, "json", OPT_STRING, "FILE", "also write the rows as JSON to FILE", .out = &o->json},
        {0, "csv", OPT_STRING, "FILE", "also write the rows as CSV to FILE", .out = &o->csv},
        {0, "plot", OPT_STRING, "FILE", "bar chart of packets/s per configuration (PNG, gnuplot)",
         .out = &o->plot},
        {0, "latency", OPT_CALL, NULL,
         "request/response instead: udp-rr against echo, one datagram in flight, 60 B;"
         " round trips/s and RTT p50/p99/p99.9 for every socket-API row",
         .out = o, .call = latency},
        {0, "poll", OPT_CALL, NULL,
         "with --latency: udp-rr and echo spin on their rings (poll=1) instead of sleeping"
         " until an interrupt",
         .out = o, .call = poll_opt},
        {0, "split", OPT_CALL, NULL,
         "both VMs' vCPUs on CPU 0, what serves their NICs on CPU 1 (see below)", .out = o,
         .call = split_opt},
        {0, "ring", OPT_UINT, "N",
         "descriptors per e1000 ring in the guests, a power of two, 256..4096 (default 4096);"
         " ring-API senders sync every N/2 frames",
         .out = &o->ring, .min = BENCH_GUEST_RING_MIN, .max = BENCH_GUEST_RING_MAX},
        {0, "no-pin", OPT_CALL, NULL, "let the VMs run on any CPU (default: pinned, see below)",
         .out = o, .call = no_pin},
    };
    const struct opt_spec spec = {"usage: vpio bench [options]", bench_intro, defs,
                                  OPTS_COUNT(defs), bench_epilog};
    int first;
    int r = opts_parse(&spec, argc, argv, &first, err, errlen);
    if (r != 0)
        return r;
    if (first < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see vpio bench --help)", argv[first]);
        return -1;
    }
    if (o->split && !o->pin) {
        snprintf(err, errlen, "--split places the VMs: it cannot go with --no-pin");
        return -1;
    }
    if (o->poll && !o->latency) {
        snprintf(err, errlen, "--poll needs --latency (the stream apps always poll while busy)");
        return -1;
    }
    if (!bench_guest_ring_ok(o->ring)) { /* the range was checked above: what is left */
        snprintf(err, errlen, "--ring %llu: not a power of two", (unsigned long long)o->ring);
        return -1;
    }
    o->platform = platforms[platform];
    return 0;
}
