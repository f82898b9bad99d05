/* vpio bench: the paper's table, measured guest to guest on this machine,
 * side by side with QEMU's e1000 running the same guest.
 *
 * Per row and frame size: start the receiver VM, then the sender VM, let the
 * sender run for the duration, collect both RESULT lines (and vpio's
 * --stats), compute packets/s received, Gbit/s, exits and interrupts per
 * packet, and ratios to the baseline row and to the best QEMU row. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_cpu.h"
#include "bench_env.h"
#include "bench_opts.h"
#include "bench_result.h"
#include "bench_rows.h"
#include "commands.h"
#include "vpio/switch.h"
#include "vpio/clock.h"

#define MAX_RESULTS 64

struct bench_result {
    const struct bench_row *row;
    unsigned frame;
    bool ran;
    char note[1024];   /* why it did not run, or what went wrong */
    char platform[16]; /* vpio, qemu, qemu-tcg */
    double rx_pps, tx_pps, gbps;
    double rx_pkts, tx_pkts, drops;
    double exits_per_pkt, irqs_per_pkt; /* both VMs, per received packet */
    double tx_exits_per_pkt, rx_exits_per_pkt, tx_irqs_per_pkt, rx_irqs_per_pkt;
    const char *exit_source; /* "vmm" (vpio counted) or "guest" (guest's register count) */
    double ratio_baseline, ratio_qemu;
    double ratio_virtio;   /* against the best virtio-net row, same API and frame */
    char backend_note[96]; /* where a shared back-end (testpmd) ran */
    /* --latency rows: rx_pps is round trips/s, rx_pkts the round trips,
     * tx_pkts the requests sent, the per-packet figures per round trip */
    double rtt_p50_us, rtt_p99_us, rtt_p999_us, rtt_min_us, rtt_max_us, rr_lost;
    int nthreads; /* CPU use per thread in the busiest window (bench_cpu.h) */
    struct {
        int vm;
        char name[16];
        double pct;
    } cpu[BENCH_CPU_THREADS];
};

#define CPU_WINDOW_MAX_NS 2000000000ull /* the busiest 2 s of a row (half a short row) */
#define CPU_SAMPLE_NS 250000000ull
#define CPU_MIN_PCT 1.0   /* threads below: not listed */
#define BENCH_CPU_EXTRA 2 /* back-end processes sampled with the VMs */

/* Samples the VMs' threads until the sender exits (or the deadline), keeps
 * the busiest window in r. */
static unsigned long long cpu_window_ns(double duration)
{
    unsigned long long half = (unsigned long long)(duration * 0.5e9);
    return half < CPU_WINDOW_MAX_NS ? half : CPU_WINDOW_MAX_NS;
}

static void sample_cpu(struct bench_proc proc[2], const struct bench_cpu_proc *extra, int nextra,
                       unsigned long long deadline, unsigned long long window_ns,
                       struct bench_result *r)
{
    static struct bench_cpu cpu; /* large; bench runs one row at a time */
    memset(&cpu, 0, sizeof(cpu));
    struct bench_cpu_proc procs[2 + BENCH_CPU_EXTRA] = {{proc[0].pid, 0, NULL},
                                                        {proc[1].pid, 1, NULL}};
    for (int i = 0; i < nextra && i < BENCH_CPU_EXTRA; i++)
        procs[2 + i] = extra[i];
    int nprocs = 2 + (nextra < BENCH_CPU_EXTRA ? nextra : BENCH_CPU_EXTRA);
    while (!bench_proc_exited(&proc[0], vpio_now_ns() + CPU_SAMPLE_NS) && vpio_now_ns() < deadline)
        bench_cpu_sample_procs(&cpu, procs, nprocs);
    double pct[BENCH_CPU_THREADS];
    if (!bench_cpu_busiest(&cpu, window_ns, pct))
        return;
    for (int vm = 0; vm < 3; vm++)
        for (int i = 0; i < cpu.nthreads; i++) {
            if (cpu.th[i].vm != vm || pct[i] < CPU_MIN_PCT)
                continue;
            r->cpu[r->nthreads].vm = vm;
            snprintf(r->cpu[r->nthreads].name, sizeof(r->cpu[0].name), "%s", cpu.th[i].name);
            r->cpu[r->nthreads].pct = pct[i];
            r->nthreads++;
        }
}

struct bench_ctx {
    struct bench_opts o;
    bool kvm;
    bool vhost_net; /* /dev/vhost-net exists */
    struct bench_netns ns;
    bool ns_ready;
    char ns_err[200];
    char switch_name[64];
    struct bench_result results[MAX_RESULTS];
    int nresults;
};

static bool row_selected(const struct bench_opts *o, const struct bench_row *row)
{
    if (strcmp(o->platform, "all") && strcmp(o->platform, bench_platform_name(row->platform)))
        return false;
    if (o->latency && row->api != BENCH_SOCKET)
        return false; /* request/response runs through the socket API */
    if (!o->rows)
        return true;
    size_t n = strlen(row->config);
    for (const char *p = o->rows; (p = strstr(p, row->config)); p += n)
        if ((p == o->rows || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
            return true;
    return false;
}

/* Loopback TCP ports of the qemu-port relays of the QEMU+switch rows. */
static int qemu_port_tcp(int vm)
{
    return 20000 + (int)(getpid() % 20000) + vm;
}

/* Starts `vpio qemu-port` for one VM of a QEMU+switch row and waits until
 * it listens. */
static int start_relay(struct bench_ctx *c, int vm, double seconds, struct bench_proc *p,
                       const char *path)
{
    char port[128], listen_at[64], secs[32];
    snprintf(port, sizeof(port), "%s:vm%d", c->switch_name, vm);
    snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", qemu_port_tcp(vm));
    snprintf(secs, sizeof(secs), "%g", seconds);
    char *argv[] = {(char *)c->o.vpio, "qemu-port", "-i", port, "-l",
                    listen_at,         "-T",        secs, "-q", NULL};
    if (bench_proc_start(p, argv, path) < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        char *out = bench_proc_output(p);
        bool up = strstr(out, "listening") != NULL;
        free(out);
        if (up)
            return 0;
        usleep(20000);
    }
    return -1;
}

/* The vhost-user back-end of a virtio-net row: one `vpio vhost-user` per VM
 * (pinned with its VM, its CPU counted as the VM's), or one testpmd
 * forwarding between both sockets. QEMU connects to sock[vm]. */
struct bench_backend {
    enum bench_link link;
    struct bench_proc proc[2];
    int nproc;
    char sock[2][108];
    char log[2][256];
};

/* --split: both VMs' vCPUs on one core, everything serving their NICs
 * (vpio's I/O threads, vhost-user ports, testpmd's forwarding lcore) on
 * the other; that core is theirs, so the CSB threads poll 2 ms. */
#define BENCH_VCPU_CPU 0
#define BENCH_IO_CPU 1
#define BENCH_SPLIT_CSB_POLL_US "2000"

#define TESTPMD_MAIN_CPU 0
#define TESTPMD_FWD_CPU 1 /* the forwarding lcore: polls this CPU at 100 % */

/* Re-reads p's output until says(output, what) holds (true), p exited or
 * timeout_s passed (false). */
static bool wait_log(struct bench_proc *p, bool (*says)(const char *, const char *),
                     const char *what, double timeout_s)
{
    unsigned long long end = vpio_now_ns() + (unsigned long long)(timeout_s * 1e9);
    while (vpio_now_ns() < end) {
        char *out = bench_proc_output(p);
        bool yes = says(out, what);
        free(out);
        if (yes)
            return true;
        if (bench_proc_exited(p, vpio_now_ns() + 20000000ull))
            return false;
    }
    return false;
}

static bool log_contains(const char *log, const char *what)
{
    return strstr(log, what) != NULL;
}

static int start_backend(struct bench_ctx *c, const struct bench_row *row, const char *tag,
                         struct bench_backend *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->link = row->link;
    for (int vm = 0; vm < 2; vm++) {
        snprintf(b->sock[vm], sizeof(b->sock[vm]), "/tmp/vpio-bench-%d-vu%d.sock", (int)getpid(),
                 vm);
        unlink(b->sock[vm]);
    }
    if (row->link == BENCH_VHOST_VPIO) {
        /* a mixed row's receiver is a vpio VM on the switch itself */
        int ports = bench_vm_platform(row, 1) == BENCH_QEMU ? 2 : 1;
        for (int vm = 0; vm < ports; vm++) {
            char port[128], cpu[16];
            snprintf(port, sizeof(port), "%s:vm%d", c->switch_name, vm);
            snprintf(cpu, sizeof(cpu), "%d", c->o.split ? BENCH_IO_CPU : vm);
            snprintf(b->log[vm], sizeof(b->log[vm]), "%s/%s-vhost-user%d.log", c->o.outdir, tag,
                     vm);
            char *argv[] = {"taskset", "-c", cpu,  (char *)c->o.vpio, "vhost-user",
                            "-i",      port, "-s", b->sock[vm],       NULL};
            char *const *av = c->o.pin ? argv : argv + 3;
            if (bench_proc_start(&b->proc[vm], av, b->log[vm]) < 0 ||
                (b->nproc = vm + 1, !wait_log(&b->proc[vm], log_contains, "listening", 10))) {
                snprintf(err, errlen, "vpio vhost-user did not start (see %s)", b->log[vm]);
                return -1;
            }
        }
        return 0;
    }
    if (row->link == BENCH_VHOST_DPDK) {
        char prefix[64], vdev[2][160], lcores[16];
        snprintf(prefix, sizeof(prefix), "--file-prefix=vb%d", (int)getpid());
        snprintf(lcores, sizeof(lcores), "%d,%d", TESTPMD_MAIN_CPU, TESTPMD_FWD_CPU);
        for (int vm = 0; vm < 2; vm++)
            snprintf(vdev[vm], sizeof(vdev[vm]), "net_vhost%d,iface=%s", vm, b->sock[vm]);
        snprintf(b->log[0], sizeof(b->log[0]), "%s/%s-testpmd.log", c->o.outdir, tag);
        /* --stats-period: testpmd runs until SIGINT instead of reading stdin */
        char *argv[] = {"dpdk-testpmd",
                        "--no-huge",
                        "-m",
                        "512",
                        "--no-pci",
                        prefix,
                        "-l",
                        lcores,
                        "--vdev",
                        vdev[0],
                        "--vdev",
                        vdev[1],
                        "--",
                        "--forward-mode=io",
                        "--auto-start",
                        "--nb-cores=1",
                        "--total-num-mbufs=8192",
                        "--stats-period",
                        "1",
                        NULL};
        if (bench_proc_start(&b->proc[0], argv, b->log[0]) < 0) {
            snprintf(err, errlen, "cannot start dpdk-testpmd: %s", strerror(errno));
            return -1;
        }
        b->nproc = 1;
        for (int i = 0; i < 200; i++) {
            struct stat st;
            if (stat(b->sock[0], &st) == 0 && stat(b->sock[1], &st) == 0) {
                usleep(1000000); /* it forwards once it made both sockets */
                return 0;
            }
            if (bench_proc_exited(&b->proc[0], vpio_now_ns() + 50000000ull))
                break;
        }
        snprintf(err, errlen, "dpdk-testpmd made no vhost-user sockets (see %s)", b->log[0]);
        return -1;
    }
    return 0;
}

/* testpmd leaves its runtime files in /var/run/dpdk/PREFIX: remove ours. */
static void remove_dpdk_runtime_dir(void)
{
    char dir[64], path[400];
    snprintf(dir, sizeof(dir), "/var/run/dpdk/vb%d", (int)getpid());
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

static void stop_backend(struct bench_backend *b)
{
    for (int i = 0; i < b->nproc; i++) {
        if (b->link == BENCH_VHOST_DPDK && b->proc[i].pid > 0 &&
            !bench_proc_exited(&b->proc[i], vpio_now_ns()))
            kill(b->proc[i].pid, SIGINT); /* testpmd's way out */
        bench_proc_wait(&b->proc[i], vpio_now_ns() + 5000000000ull);
    }
    if (b->link == BENCH_VHOST_DPDK && b->nproc)
        remove_dpdk_runtime_dir();
    b->nproc = 0;
    for (int vm = 0; vm < 2; vm++)
        if (b->sock[vm][0])
            unlink(b->sock[vm]);
}

static const char *mac_for(int vm)
{
    return vm == 0 ? "52:54:00:18:00:01" : "52:54:00:18:00:02";
}

/* Builds the argv of one VM (vm 0 = sender, 1 = receiver) into args. */
static int build_vm_argv(struct bench_ctx *c, const struct bench_row *row, int vm,
                         const char *cmdline, double seconds, const struct bench_backend *b,
                         char store[][256], char **argv)
{
    int n = 0;
    bool vhost_user = b && (b->link == BENCH_VHOST_VPIO || b->link == BENCH_VHOST_DPDK);
#define ARG(...) (snprintf(store[n], 256, __VA_ARGS__), argv[n] = store[n], n++)
    if (row->link == BENCH_TAP) {
        ARG("ip");
        ARG("netns");
        ARG("exec");
        ARG("%s", c->ns.name);
    }
    if (bench_vm_platform(row, vm) == BENCH_VPIO) {
        ARG("%s", c->o.vpio);
        ARG("vm");
        if (c->o.pin) { /* the sender on CPU 0, the receiver on CPU 1 */
            ARG("--cpus");
            ARG("%d", c->o.split ? BENCH_VCPU_CPU : vm);
        }
        if (c->o.split) { /* the I/O threads on their own core: they may poll */
            ARG("--io-cpus");
            ARG("%d", BENCH_IO_CPU);
        }
        ARG("--kernel");
        ARG("%s", c->o.kernel);
        ARG("--timeout");
        ARG("%g", seconds + 20);
        ARG("--stats");
        ARG("--nic");
        if (row->link == BENCH_TAP)
            ARG("tap:%s,mac=%s,mitigation=%s", c->ns.tap[vm], mac_for(vm),
                bench_vm_mitigation(row, vm) ? "on" : "off");
        else
            ARG("%s:vm%d,mac=%s,mitigation=%s%s", c->switch_name, vm, mac_for(vm),
                bench_vm_mitigation(row, vm) ? "on" : "off",
                c->o.split ? ",csb_poll_us=" BENCH_SPLIT_CSB_POLL_US : "");
        ARG("--cmdline");
        ARG("%s", cmdline);
    } else {
        if (c->o.pin) {
            ARG("taskset");
            ARG("-c");
            ARG("%d", c->o.split ? BENCH_VCPU_CPU : vm);
        }
        ARG("qemu-system-x86_64");
        ARG("-name"); /* thread names ("CPU 0/KVM", ...) for the CPU table */
        ARG("vpio-bench,debug-threads=on");
        if (c->kvm) {
            ARG("-enable-kvm");
            ARG("-cpu");
            ARG("host,-arch-capabilities");
        } else {
            ARG("-accel");
            ARG("tcg");
            ARG("-cpu");
            ARG("max");
        }
        ARG("-m");
        ARG("64M");
        if (vhost_user) {
            /* vhost-user: the back-end maps guest memory, so it is shared */
            ARG("-object");
            ARG("memory-backend-memfd,id=mem,size=64M,share=on");
            ARG("-machine");
            ARG("memory-backend=mem");
        }
        ARG("-nographic");
        ARG("-no-reboot");
        ARG("-kernel");
        ARG("%s", c->o.kernel);
        ARG("-append");
        ARG("%s", cmdline);
        ARG("-device");
        ARG("isa-debug-exit,iobase=0xf4,iosize=0x04");
        if (vhost_user) {
            ARG("-chardev");
            ARG("socket,id=c0,path=%s", b->sock[vm]);
            ARG("-netdev");
            ARG("vhost-user,id=n0,chardev=c0");
        } else {
            ARG("-netdev");
            if (row->link == BENCH_TAP || row->link == BENCH_VHOST_NET)
                ARG("tap,id=n0,ifname=%s,script=no,downscript=no,vhost=%s", c->ns.tap[vm],
                    row->link == BENCH_VHOST_NET ? "on" : "off");
            else
                ARG("socket,id=n0,connect=127.0.0.1:%d", qemu_port_tcp(vm));
        }
        ARG("-device");
        if (bench_vm_nic(row, vm) == BENCH_VIRTIO)
            /* romfile=: no iPXE option ROM, it only slows the boot */
            ARG("virtio-net-pci,netdev=n0,mac=%s,romfile=", mac_for(vm));
        else
            ARG("e1000,netdev=n0,mac=%s,mitigation=%s", mac_for(vm),
                bench_vm_mitigation(row, vm) ? "on" : "off");
    }
#undef ARG
    argv[n] = NULL;
    return n;
}

/* Whether a program is in PATH (an executable file). */
static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[512];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
        if (n && access(buf, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

static void set_note(struct bench_result *r, const char *fmt, const char *detail)
{
    snprintf(r->note, sizeof(r->note), fmt, detail);
}

/* The first "FAIL"/error-looking line of a log, for the note. */
static void first_error(const char *log, char *out, size_t len)
{
    const char *keys[] = {"vpio vm:", "RESULT", "error", "qemu-system", "FATAL"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *p = strstr(log, keys[k]);
        if (p) {
            size_t n = strcspn(p, "\n");
            snprintf(out, len, "%.*s", (int)(n < len - 1 ? n : len - 1), p);
            return;
        }
    }
    snprintf(out, len, "no output");
}

static void run_one(struct bench_ctx *c, const struct bench_row *row, unsigned frame,
                    struct bench_result *r)
{
    memset(r, 0, sizeof(*r));
    r->row = row;
    r->frame = frame;
    snprintf(r->platform, sizeof(r->platform), "%s",
             row->platform == BENCH_QEMU && !c->kvm ? "qemu-tcg"
                                                    : bench_platform_name(row->platform));
    if ((row->platform == BENCH_VPIO || bench_vm_platform(row, 1) == BENCH_VPIO) && !c->kvm) {
        set_note(r, "not run: %s", "/dev/kvm missing (vpio needs KVM)");
        return;
    }
    const char *why_not = bench_row_unavailable(row, c->vhost_net);
    if (why_not) {
        set_note(r, "not run: %s", why_not);
        return;
    }
    if (row->nic == BENCH_VIRTIO && !c->kvm) {
        set_note(r, "not run: %s", "/dev/kvm missing (QEMU's vhost-user with MSI-X needs KVM)");
        return;
    }
    if (row->link == BENCH_VHOST_DPDK && !in_path("dpdk-testpmd")) {
        set_note(r, "not run: %s", "dpdk-testpmd not installed (scripts/deps.sh: dpdk)");
        return;
    }
    if (row->link == BENCH_TAP && !c->ns_ready) {
        set_note(r, "not run: %s", c->ns_err);
        return;
    }
    const char *app_tx = row->api == BENCH_SOCKET ? "udp-send" : "pktgen";
    const char *app_rx = row->api == BENCH_SOCKET ? "udp-recv" : "pktgen";
    char cmd[2][512];
    int bad;
    if (c->o.latency) {
        app_tx = "udp-rr";
        app_rx = "echo";
        bad =
            bench_guest_rr_cmdline(row, false, frame, c->o.duration, cmd[1], sizeof(cmd[1])) < 0 ||
            bench_guest_rr_cmdline(row, true, frame, c->o.duration, cmd[0], sizeof(cmd[0])) < 0;
        for (int vm = 0; c->o.poll && !bad && vm < 2; vm++) {
            size_t l = strlen(cmd[vm]);
            bad =
                snprintf(cmd[vm] + l, sizeof(cmd[vm]) - l, " poll=1") >= (int)(sizeof(cmd[vm]) - l);
        }
    } else {
        bad = bench_guest_cmdline(row, false, frame, c->o.duration, mac_for(1), cmd[1],
                                  sizeof(cmd[1])) < 0 ||
              bench_guest_cmdline(row, true, frame, c->o.duration, mac_for(1), cmd[0],
                                  sizeof(cmd[0])) < 0;
    }
    if (bad) {
        set_note(r, "%s", "internal: command line too long");
        return;
    }
    char store[2][48][256];
    char *argv[2][49];
    struct bench_proc proc[2], relay[2] = {{0}, {0}};
    char path[2][512], rpath[2][512];
    bool relays = row->platform == BENCH_QEMU && row->link == BENCH_SWITCH;
    for (int vm = 0; relays && vm < 2; vm++) {
        snprintf(rpath[vm], sizeof(rpath[vm]), "%s/%s-%s-%u-relay%d.log", c->o.outdir, r->platform,
                 row->config, frame, vm);
        if (start_relay(c, vm, c->o.duration + 120, &relay[vm], rpath[vm]) < 0) {
            set_note(r, "failed: qemu-port relay did not start (see %s)", rpath[vm]);
            bench_proc_wait(&relay[0], 0);
            bench_proc_wait(&relay[1], 0);
            return;
        }
    }
    struct bench_backend be = {0};
    char tag[160], err[400];
    snprintf(tag, sizeof(tag), "%s-%s-%u", r->platform, row->config, frame);
    if (start_backend(c, row, tag, &be, err, sizeof(err)) < 0) {
        snprintf(r->note, sizeof(r->note), "failed: %s", err);
        stop_backend(&be);
        return;
    }
    for (int vm = 1; vm >= 0; vm--) {
        build_vm_argv(c, row, vm, cmd[vm], c->o.duration, &be, store[vm], argv[vm]);
        snprintf(path[vm], sizeof(path[vm]), "%s/%s-%s-%u-%s.log", c->o.outdir, r->platform,
                 row->config, frame, vm == 0 ? "tx" : "rx");
        if (bench_proc_start(&proc[vm], argv[vm], path[vm]) < 0) {
            set_note(r, "cannot start the VM: %s", strerror(errno));
            if (vm == 0)
                bench_proc_wait(&proc[1], 0);
            bench_proc_wait(&relay[0], 0);
            bench_proc_wait(&relay[1], 0);
            stop_backend(&be);
            return;
        }
        /* The sender starts only once the receiver's app said it is ready:
         * a fixed head start was not enough when the receiver shares its
         * CPU with a polling back-end (testpmd's lcore, a vhost-user port):
         * the sender then ran most of its time into a NIC nobody had set up
         * yet, and the row looked like a receive stall. */
        if (vm == 1 && !wait_log(&proc[1], bench_log_says_ready, app_rx, c->kvm ? 30 : 120)) {
            set_note(r, "failed: the receiver VM never said it was ready (see %s)", path[1]);
            bench_proc_wait(&proc[1], 0);
            bench_proc_wait(&relay[0], 0);
            bench_proc_wait(&relay[1], 0);
            stop_backend(&be);
            return;
        }
    }
    /* Generous deadlines: boot, the run, the receiver's idle timeout. */
    double slack = c->kvm ? 15 : 60;
    unsigned long long deadline =
        vpio_now_ns() + (unsigned long long)((c->o.duration + slack) * 1e9);
    struct bench_cpu_proc extra[BENCH_CPU_EXTRA];
    int nextra = 0;
    if (be.link == BENCH_VHOST_VPIO)
        for (int vm = 0; vm < be.nproc; vm++)
            extra[nextra++] = (struct bench_cpu_proc){be.proc[vm].pid, vm, "vu:"};
    else if (be.link == BENCH_VHOST_DPDK && be.nproc) {
        extra[nextra++] = (struct bench_cpu_proc){be.proc[0].pid, 2, NULL};
        snprintf(r->backend_note, sizeof(r->backend_note),
                 "; testpmd forwarding lcore on CPU %d (main lcore CPU %d)", TESTPMD_FWD_CPU,
                 TESTPMD_MAIN_CPU);
    }
    sample_cpu(proc, extra, nextra, deadline, cpu_window_ns(c->o.duration), r);
    bench_proc_wait(&proc[0], deadline);
    bench_proc_wait(&proc[1], deadline + 5000000000ull);
    stop_backend(&be);
    /* The relays end when their QEMU disconnects; end them anyway. */
    bench_proc_wait(&relay[0], vpio_now_ns() + 2000000000ull);
    bench_proc_wait(&relay[1], vpio_now_ns() + 2000000000ull);
    char *log[2] = {bench_proc_output(&proc[0]), bench_proc_output(&proc[1])};
    struct bench_kv tx, rx;
    bool have_tx = bench_find_result(log[0], "RESULT ", app_tx, &tx) == 0;
    bool have_rx = bench_find_result(log[1], "RESULT ", app_rx, &rx) == 0;
    if (!have_tx || !have_rx) {
        char why[120];
        first_error(log[have_tx ? 1 : 0], why, sizeof(why));
        snprintf(r->note, sizeof(r->note), "failed: no RESULT from the %s VM (%s; see %s)",
                 have_tx ? "receiver" : "sender", why, path[have_tx ? 1 : 0]);
        free(log[0]);
        free(log[1]);
        return;
    }
    r->ran = true;
    if (c->o.latency) {
        /* the client measured everything: its round trips are the "packets" */
        r->rx_pkts = bench_kv_num(&tx, "trans", 0);
        r->rr_lost = bench_kv_num(&tx, "lost", 0);
        r->tx_pkts = r->rx_pkts + r->rr_lost;
        r->rx_pps = r->tx_pps = bench_kv_num(&tx, "tps", 0);
        r->rtt_min_us = bench_kv_num(&tx, "rtt_min_ns", 0) / 1e3;
        r->rtt_p50_us = bench_kv_num(&tx, "rtt_p50_ns", 0) / 1e3;
        r->rtt_p99_us = bench_kv_num(&tx, "rtt_p99_ns", 0) / 1e3;
        r->rtt_p999_us = bench_kv_num(&tx, "rtt_p999_ns", 0) / 1e3;
        r->rtt_max_us = bench_kv_num(&tx, "rtt_max_ns", 0) / 1e3;
        r->drops = r->rr_lost;
        r->gbps = 0;
    } else {
        r->rx_pkts = bench_kv_num(&rx, "pkts", 0);
        r->tx_pkts = bench_kv_num(&tx, "pkts", 0);
        r->rx_pps = bench_kv_num(&rx, "pps", 0);
        r->tx_pps = bench_kv_num(&tx, "pps", 0);
        r->drops = r->tx_pkts > r->rx_pkts ? r->tx_pkts - r->rx_pkts : 0;
        r->gbps = r->rx_pps * frame * 8 / 1e9;
        /* The receiver's pps spans its first to last frame: when it got a
         * few frames and then nothing, that figure is no rate at all. */
        if (r->tx_pkts > 0 && r->rx_pkts * 100 < r->tx_pkts) {
            snprintf(r->note, sizeof(r->note),
                     "failed: receiver stalled: %.0f of %.0f frames arrived (see %s)", r->rx_pkts,
                     r->tx_pkts, path[1]);
            r->ran = false;
            free(log[0]);
            free(log[1]);
            return;
        }
    }
    struct bench_vm_stats st[2];
    bench_parse_vm_stats(log[0], &st[0]);
    bench_parse_vm_stats(log[1], &st[1]);
    double txp = r->tx_pkts > 0 ? r->tx_pkts : 1, rxp = r->rx_pkts > 0 ? r->rx_pkts : 1;
    if (c->o.latency) /* both VMs' exits and interrupts per round trip */
        txp = rxp;
    if (st[0].found && st[1].found) {
        r->exit_source = "vmm";
        r->tx_exits_per_pkt = st[0].exits / txp;
        r->rx_exits_per_pkt = st[1].exits / rxp;
        r->tx_irqs_per_pkt = st[0].irqs / txp;
        r->rx_irqs_per_pkt = st[1].irqs / rxp;
    } else {
        /* QEMU: every register access from the ring-3 guest is an exit; the
         * guest counts its own accesses and the interrupts it took. */
        r->exit_source = "guest";
        r->tx_exits_per_pkt = bench_kv_num(&tx, "reg_accesses", 0) / txp;
        r->rx_exits_per_pkt = bench_kv_num(&rx, "reg_accesses", 0) / rxp;
        r->tx_irqs_per_pkt = bench_kv_num(&tx, "irqs", 0) / txp;
        r->rx_irqs_per_pkt = bench_kv_num(&rx, "irqs", 0) / rxp;
    }
    r->exits_per_pkt = r->tx_exits_per_pkt * txp / rxp + r->rx_exits_per_pkt;
    r->irqs_per_pkt = r->tx_irqs_per_pkt * txp / rxp + r->rx_irqs_per_pkt;
    free(log[0]);
    free(log[1]);
}

static void compute_ratios(struct bench_ctx *c)
{
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        double base = 0, qemu = 0, virtio = 0;
        for (int j = 0; j < c->nresults; j++) {
            struct bench_result *o = &c->results[j];
            if (!o->ran || o->frame != r->frame)
                continue;
            if (o->row->baseline)
                base = o->rx_pps;
            if (o->row->platform == BENCH_QEMU && o->row->nic == BENCH_E1000 &&
                o->row->api == BENCH_SOCKET && o->rx_pps > qemu)
                qemu = o->rx_pps;
            /* the virtio-net peers: both ends virtio-net (not the mixed rows) */
            if (o->row->nic == BENCH_VIRTIO && !o->row->rx_txmode && o->row->api == r->row->api &&
                o->rx_pps > virtio)
                virtio = o->rx_pps;
        }
        r->ratio_virtio = r->ran && virtio > 0 ? r->rx_pps / virtio : 0;
        r->ratio_baseline = r->ran && base > 0 ? r->rx_pps / base : 0;
        r->ratio_qemu = r->ran && qemu > 0 ? r->rx_pps / qemu : 0;
    }
}

static void print_ratio(FILE *f, double v)
{
    if (v > 0)
        fprintf(f, " %7.2fx |", v);
    else
        fprintf(f, " %8s |", "n/a");
}

static void print_cpu_table(struct bench_ctx *c, FILE *f);

/* --latency: round trips instead of streams. */
static void print_latency_table(struct bench_ctx *c, FILE *f)
{
    fprintf(f, "| config | platform | round trips/s | RTT p50 us | p99 us | p99.9 us | "
               "min/max us | exits/rt (client, server) | irqs/rt (client, server) | "
               "vs baseline | vs qemu | vs best virtio | note |\n");
    fprintf(f, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
               "| --- |\n");
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        fprintf(f, "| %-19s | %-8s |", r->row->config, r->platform);
        if (!r->ran) {
            fprintf(f, " – | – | – | – | – | – | – | – | – | – | %s |\n", r->note);
            continue;
        }
        fprintf(f,
                " %8.0f | %7.1f | %7.1f | %7.1f | %.0f/%.0f | %.2f (%.2f, %.2f)%s | "
                "%.2f (%.2f, %.2f) |",
                r->rx_pps, r->rtt_p50_us, r->rtt_p99_us, r->rtt_p999_us, r->rtt_min_us,
                r->rtt_max_us, r->exits_per_pkt, r->tx_exits_per_pkt, r->rx_exits_per_pkt,
                strcmp(r->exit_source, "guest") == 0 ? "ᵍ" : "", r->irqs_per_pkt,
                r->tx_irqs_per_pkt, r->rx_irqs_per_pkt);
        print_ratio(f, r->ratio_baseline);
        print_ratio(f, r->ratio_qemu);
        print_ratio(f, r->ratio_virtio);
        fprintf(f, " %.0f round trips, %.0f lost%s |\n", r->rx_pkts, r->rr_lost, r->backend_note);
    }
    fprintf(f, "\nOne 60-byte UDP datagram in flight (udp-rr against echo); RTT percentiles "
               "from the client's histogram (within 3 %%); ratios are of round trips/s.\n"
               "ᵍ exits counted by the guest (its register accesses), not by the VMM.\n");
    print_cpu_table(c, f);
}

static void print_table(struct bench_ctx *c, FILE *f)
{
    if (c->o.latency) {
        print_latency_table(c, f);
        return;
    }
    fprintf(f, "| config | platform | api | frame | rx pps | Gbit/s | exits/pkt (tx, rx) | "
               "irqs/pkt (tx, rx) | vs baseline | vs qemu | vs best virtio | note |\n");
    fprintf(f, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- "
               "|\n");
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        fprintf(f, "| %-19s | %-8s | %-6s | %4u |", r->row->config, r->platform,
                bench_api_name(r->row->api), r->frame);
        if (!r->ran) {
            fprintf(f, " – | – | – | – | – | – | – | %s |\n", r->note);
            continue;
        }
        fprintf(f, " %10.0f | %6.3f | %.3f (%.3f, %.3f)%s | %.3f (%.3f, %.3f) |", r->rx_pps,
                r->gbps, r->exits_per_pkt, r->tx_exits_per_pkt, r->rx_exits_per_pkt,
                strcmp(r->exit_source, "guest") == 0 ? "ᵍ" : "", r->irqs_per_pkt,
                r->tx_irqs_per_pkt, r->rx_irqs_per_pkt);
        print_ratio(f, r->ratio_baseline);
        print_ratio(f, r->ratio_qemu);
        print_ratio(f, r->ratio_virtio);
        fprintf(f, " tx %.0f pkts, rx %.0f, lost %.0f%s |\n", r->tx_pkts, r->rx_pkts, r->drops,
                r->backend_note);
    }
    fprintf(f, "\nᵍ exits counted by the guest (its register accesses; each is a VM exit), "
               "not by the VMM. vs best virtio: against the best virtio-net row of the same API "
               "and frame size.\n");
    print_cpu_table(c, f);
}

/* CPU use per thread of both VMs in each row's busiest window. */
static void print_cpu_table(struct bench_ctx *c, FILE *f)
{
    fprintf(f,
            "\nCPU use per thread, busiest %.1f s of each row (%% of one CPU; threads "
            "under %.0f%% not listed):\n\n",
            cpu_window_ns(c->o.duration) / 1e9, CPU_MIN_PCT);
    fprintf(f, "| config | platform | frame | sender VM | receiver VM | shared back-end |\n");
    fprintf(f, "| --- | --- | ---: | --- | --- | --- |\n");
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        if (!r->ran)
            continue;
        fprintf(f, "| %-19s | %-8s | %4u |", r->row->config, r->platform, r->frame);
        for (int vm = 0; vm < 3; vm++) {
            const char *sep = " ";
            for (int t = 0; t < r->nthreads; t++)
                if (r->cpu[t].vm == vm) {
                    fprintf(f, "%s%s %.0f%%", sep, r->cpu[t].name, r->cpu[t].pct);
                    sep = ", ";
                }
            fprintf(f, "%s|", *sep == ' ' ? " – " : " ");
        }
        fprintf(f, "\n");
    }
}

static const char *run_mode(const struct bench_ctx *c)
{
    return c->o.latency ? (c->o.poll ? "latency-poll" : "latency") : "stream";
}

static void write_csv(struct bench_ctx *c, FILE *f)
{
    fprintf(f, "config,platform,api,frame,pps,gbps,exits_per_pkt,irqs_per_pkt,tx_exits_per_pkt,"
               "rx_exits_per_pkt,tx_irqs_per_pkt,rx_irqs_per_pkt,tx_pkts,rx_pkts,"
               "ratio_baseline,ratio_qemu,exit_source,note,mode,rtt_p50_us,rtt_p99_us,"
               "rtt_p999_us,vmm,nic,backend,ratio_virtio,rx_vmm,rx_nic\n");
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        fprintf(f,
                "%s,%s,%s,%u,%.0f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.0f,%.0f,%.3f,%.3f,%s,\"%s\","
                "%s,%.1f,%.1f,%.1f,%s,%s,%s,%.3f,%s,%s\n",
                r->row->config, r->platform, bench_api_name(r->row->api), r->frame, r->rx_pps,
                r->gbps, r->exits_per_pkt, r->irqs_per_pkt, r->tx_exits_per_pkt,
                r->rx_exits_per_pkt, r->tx_irqs_per_pkt, r->rx_irqs_per_pkt, r->tx_pkts, r->rx_pkts,
                r->ratio_baseline, r->ratio_qemu, r->ran ? r->exit_source : "", r->note,
                run_mode(c), r->rtt_p50_us, r->rtt_p99_us, r->rtt_p999_us,
                bench_platform_name(r->row->platform), bench_nic_name(r->row->nic),
                bench_backend_name(r->row->link), r->ratio_virtio,
                bench_platform_name(bench_vm_platform(r->row, 1)),
                bench_nic_name(bench_vm_nic(r->row, 1)));
    }
}

static void write_json(struct bench_ctx *c, FILE *f)
{
    fprintf(f, "[\n");
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        fprintf(f,
                "  {\"config\": \"%s\", \"platform\": \"%s\", \"api\": \"%s\", \"frame\": %u, "
                "\"ran\": %s, \"pps\": %.0f, \"gbps\": %.4f, \"exits_per_pkt\": %.4f, "
                "\"irqs_per_pkt\": %.4f, \"tx_exits_per_pkt\": %.4f, \"rx_exits_per_pkt\": %.4f, "
                "\"tx_irqs_per_pkt\": %.4f, \"rx_irqs_per_pkt\": %.4f, \"tx_pkts\": %.0f, "
                "\"rx_pkts\": %.0f, \"ratio_baseline\": %.3f, \"ratio_qemu\": %.3f, "
                "\"exit_source\": \"%s\", \"note\": \"%s\", \"mode\": \"%s\", "
                "\"rtt_p50_us\": %.1f, \"rtt_p99_us\": %.1f, \"rtt_p999_us\": %.1f, "
                "\"vmm\": \"%s\", \"nic\": \"%s\", \"backend\": \"%s\", "
                "\"ratio_virtio\": %.3f, \"rx_vmm\": \"%s\", \"rx_nic\": \"%s\", \"cpu\": [",
                r->row->config, r->platform, bench_api_name(r->row->api), r->frame,
                r->ran ? "true" : "false", r->rx_pps, r->gbps, r->exits_per_pkt, r->irqs_per_pkt,
                r->tx_exits_per_pkt, r->rx_exits_per_pkt, r->tx_irqs_per_pkt, r->rx_irqs_per_pkt,
                r->tx_pkts, r->rx_pkts, r->ratio_baseline, r->ratio_qemu,
                r->ran ? r->exit_source : "", r->note, run_mode(c), r->rtt_p50_us, r->rtt_p99_us,
                r->rtt_p999_us, bench_platform_name(r->row->platform), bench_nic_name(r->row->nic),
                bench_backend_name(r->row->link), r->ratio_virtio,
                bench_platform_name(bench_vm_platform(r->row, 1)),
                bench_nic_name(bench_vm_nic(r->row, 1)));
        for (int t = 0; t < r->nthreads; t++)
            fprintf(f, "%s{\"vm\": \"%s\", \"thread\": \"%s\", \"pct\": %.1f}", t ? ", " : "",
                    r->cpu[t].vm == 2   ? "backend"
                    : r->cpu[t].vm == 1 ? "receiver"
                                        : "sender",
                    r->cpu[t].name, r->cpu[t].pct);
        fprintf(f, "]}%s\n", i + 1 < c->nresults ? "," : "");
    }
    fprintf(f, "]\n");
}

static int write_file(struct bench_ctx *c, const char *path,
                      void (*writer)(struct bench_ctx *, FILE *))
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vpio bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    writer(c, f);
    fclose(f);
    return 0;
}

static void plot(struct bench_ctx *c, const char *png)
{
    char data[512];
    snprintf(data, sizeof(data), "%s/plot.dat", c->o.outdir);
    FILE *f = fopen(data, "w");
    if (!f)
        return;
    int rows = 0;
    for (int i = 0; i < c->nresults; i++) {
        struct bench_result *r = &c->results[i];
        if (r->ran) {
            fprintf(f, "\"%s %s %uB\" %.0f\n", r->row->config, r->platform, r->frame, r->rx_pps);
            rows++;
        }
    }
    fclose(f);
    if (!rows) {
        fprintf(stderr, "vpio bench: nothing ran, no plot\n");
        return;
    }
    char script[512];
    snprintf(script, sizeof(script), "%s/plot.gp", c->o.outdir);
    f = fopen(script, "w");
    if (!f)
        return;
    fprintf(f,
            /* log scale: the baseline and the best row are 250x apart */
            "set terminal png size 1300,720\nset output '%s'\n"
            "set title 'vpio bench: packets/s received, guest to guest (log scale)'\n"
            "set style data histograms\nset style fill solid 0.8\nset boxwidth 0.8\n"
            "set logscale y\nset yrange [1000:*]\nset format y '%%.0s%%c'\n"
            "set ylabel 'packets/s'\nset xtics rotate by -45 font ',9'\nset grid ytics\n"
            "set bmargin 14\nset rmargin 12\n"
            "set key off\nplot '%s' using 2:xtic(1)\n",
            png, data);
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>&1", script);
    int st = system(cmd);
    if (st != 0)
        fprintf(stderr, "vpio bench: gnuplot failed (is gnuplot installed?); data in %s\n", data);
    else
        fprintf(stderr, "vpio bench: plot written to %s\n", png);
}

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    buf[n > 0 ? n : 0] = 0;
}

int cmd_bench(int argc, char **argv)
{
    static struct bench_ctx c;
    char err[1024];
    int rc = bench_parse_opts(argc, argv, &c.o, err, sizeof(err));
    if (rc == 1)
        return 0; /* --help printed */
    if (rc < 0) {
        fprintf(stderr, "vpio bench: %s\n", err);
        return 64;
    }
    bench_set_guest_ring((unsigned)c.o.ring); /* checked by the parser */
    static char self[512];
    if (!c.o.vpio) {
        self_path(self, sizeof(self));
        c.o.vpio = self;
    }
    if (access(c.o.kernel, R_OK) != 0) {
        fprintf(stderr, "vpio bench: guest image %s: %s (run make)\n", c.o.kernel, strerror(errno));
        return 66;
    }
    mkdir(c.o.outdir, 0755);
    c.kvm = access("/dev/kvm", R_OK | W_OK) == 0;
    c.vhost_net = access("/dev/vhost-net", R_OK | W_OK) == 0;
    if (!c.kvm)
        fprintf(stderr, "vpio bench: *** /dev/kvm missing: vpio rows are NOT run; QEMU runs "
                        "under TCG (software emulation) ***\n");
    snprintf(c.switch_name, sizeof(c.switch_name), "bench%d", (int)getpid());
    if (geteuid() != 0)
        snprintf(c.ns_err, sizeof(c.ns_err), "tap rows need root (network namespace)");
    else if (bench_netns_create(&c.ns, c.ns_err, sizeof(c.ns_err)) == 0)
        c.ns_ready = true;
    for (size_t i = 0; i < bench_row_count; i++) {
        const struct bench_row *row = &bench_rows[i];
        if (!row_selected(&c.o, row))
            continue;
        for (int k = 0; k < c.o.nframes && c.nresults < MAX_RESULTS; k++) {
            struct bench_result *r = &c.results[c.nresults++];
            fprintf(stderr, "vpio bench: %s %s %s %uB ... ", row->config,
                    bench_platform_name(row->platform), bench_api_name(row->api), c.o.frames[k]);
            run_one(&c, row, c.o.frames[k], r);
            if (r->ran)
                fprintf(stderr, "%.0f pps\n", r->rx_pps);
            else
                fprintf(stderr, "%s\n", r->note);
        }
    }
    bench_netns_destroy(&c.ns);
    vpio_switch_remove(c.switch_name, 1); /* if a switch row created it */
    compute_ratios(&c);
    printf("\nvpio bench: %g s per row, guest to guest%s, %s, e1000 rings of %u descriptors\n\n",
           c.o.duration, c.o.latency ? ", request/response" : "",
           !c.o.pin    ? "VMs not pinned"
           : c.o.split ? "both vCPUs on CPU 0, their I/O threads and back-ends on CPU 1"
                       : "sender on CPU 0, receiver on CPU 1",
           bench_guest_ring());
    print_table(&c, stdout);
    fflush(stdout); /* before the plot's messages on standard error */
    char path[512];
    snprintf(path, sizeof(path), "%s/bench.csv", c.o.outdir);
    write_file(&c, c.o.csv ? c.o.csv : path, write_csv);
    snprintf(path, sizeof(path), "%s/bench.json", c.o.outdir);
    write_file(&c, c.o.json ? c.o.json : path, write_json);
    snprintf(path, sizeof(path), "%s/bench.png", c.o.outdir);
    plot(&c, c.o.plot ? c.o.plot : path);
    int ran = 0, failed = 0, vpio_failed = 0;
    for (int i = 0; i < c.nresults; i++) {
        bool f = !c.results[i].ran && strncmp(c.results[i].note, "not run", 7) != 0;
        ran += c.results[i].ran;
        failed += f;
        vpio_failed += f && c.results[i].row->platform == BENCH_VPIO;
    }
    printf("\n%d rows ran, %d failed (%d of them vpio rows), %d not run\n", ran, failed,
           vpio_failed, c.nresults - ran - failed);
    /* A peer that fails (QEMU, testpmd) is reported in its row and counted
     * above; the exit status says whether vpio's own rows all ran. */
    return vpio_failed ? 1 : 0;
}
