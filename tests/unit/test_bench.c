/* vpio bench: parsing guests' RESULT lines and vpio's --stats, the row
 * table and the guest command lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/bench_result.h"
#include "cli/bench_rows.h"
#include "cli/bench_cpu.h"
#include "cli/bench_opts.h"

#include <unistd.h>

static void parses_result_lines(void **state)
{
    const char *log = "vpio-guest: boot\n"
                      "RESULT app=udp-send pkts=10 pps=5.5\n"
                      "noise RESULT app=x\n"
                      "RESULT app=udp-recv pkts=1000 bytes=60000 pps=123456.5 drops=3 junk =x\n"
                      "RESULT app=udp-recv pkts=2000 pps=7\n";
    struct bench_kv kv;
    assert_int_equal(bench_find_result(log, "RESULT ", "udp-send", &kv), 0);
    assert_true(bench_kv_num(&kv, "pps", 0) == 5.5);
    /* The last matching line wins. */
    assert_int_equal(bench_find_result(log, "RESULT ", "udp-recv", &kv), 0);
    assert_true(bench_kv_num(&kv, "pkts", 0) == 2000);
    assert_int_equal(bench_find_result(log, "RESULT ", "pktgen", &kv), -1);
    assert_int_equal(bench_find_result("", "RESULT ", NULL, &kv), -1);
    assert_int_equal(bench_parse_kv_line("RESULT app=a b=notanumber c=", "RESULT ", &kv), 3);
    assert_true(bench_kv_num(&kv, "b", -1) == -1);
    assert_true(bench_kv_num(&kv, "c", -2) == -2);
    assert_true(bench_kv_num(&kv, "missing", 42) == 42);
}

/* The sender starts when the receiver's app said this (cmd_bench.c). */
static void finds_the_ready_line(void **state)
{
    const char *log = "vpio-guest: ring 3\n"
                      "virtio-net: nic0 ... link up\n"
                      "pktgen: rx ready (count 0, timeout 35 s)\n";
    assert_true(bench_log_says_ready(log, "pktgen"));
    assert_false(bench_log_says_ready(log, "udp-recv"));
    assert_true(bench_log_says_ready("udp-recv: ready on port 9000", "udp-recv"));
    assert_true(bench_log_says_ready("x\r\necho: ready (udp port 7, 3 s)\n", "echo"));
    /* not at the start of a line, another app's line, "ready" on a later line */
    assert_false(bench_log_says_ready("noise pktgen: rx ready\n", "pktgen"));
    assert_false(bench_log_says_ready("pktgenx: rx ready\n", "pktgen"));
    assert_false(bench_log_says_ready("pktgen: rx starting\nready\n", "pktgen"));
    assert_false(bench_log_says_ready("pktgen: rx rea", "pktgen"));
    assert_false(bench_log_says_ready("", "pktgen"));
}

static void parses_vm_stats(void **state)
{
    const char *log = "vpio stats: run 12.5 ms\n"
                      "vpio stats: exits total=500 pio=100 mmio=400 hlt=0 intr=2\n"
                      "vpio stats: e1000-0 (tap:x) exits=400 tdt_writes=300 irqs=20 suppressed=1\n";
    struct bench_vm_stats st;
    bench_parse_vm_stats(log, &st);
    assert_true(st.found);
    assert_true(st.exits == 500);
    assert_true(st.mmio == 400);
    assert_true(st.irqs == 20);
    assert_true(st.tdt_writes == 300);
    bench_parse_vm_stats("nothing here\n", &st);
    assert_false(st.found);
}

static void overlong_tokens_are_skipped(void **state)
{
    char line[600] = "RESULT app=a ";
    memset(line + strlen(line), 'k', 200);
    strcat(line, "=1 pps=9");
    struct bench_kv kv;
    assert_int_equal(bench_parse_kv_line(line, "RESULT ", &kv), 2);
    assert_true(bench_kv_num(&kv, "pps", 0) == 9);
}

static void rows_and_command_lines(void **state)
{
    int baselines = 0;
    for (size_t i = 0; i < bench_row_count; i++)
        baselines += bench_rows[i].baseline;
    assert_int_equal(baselines, 1);
    char buf[256];
    const struct bench_row *base = &bench_rows[0];
    assert_int_equal(bench_guest_cmdline(base, true, 60, 2, "52:54:00:00:00:02", buf, sizeof(buf)),
                     0);
    assert_non_null(strstr(buf, "udp-send"));
    assert_non_null(strstr(buf, "len=18")); /* 60 - 42 bytes of headers */
    assert_non_null(strstr(buf, "txmode=classic"));
    assert_non_null(strstr(buf, "peer=198.18.0.2"));
    assert_int_equal(bench_guest_cmdline(base, false, 1514, 2, "x", buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "udp-recv"));
    assert_int_equal(bench_guest_cmdline(base, true, 60, 2, "x", buf, 10), -1);
    assert_null(strstr(buf, "itr="));
    /* moderation rows program the guest's moderation registers too */
    for (size_t i = 0; i < bench_row_count; i++) {
        const struct bench_row *r = &bench_rows[i];
        assert_int_equal(bench_guest_cmdline(r, true, 60, 2, "x", buf, sizeof(buf)), 0);
        assert_true((strstr(buf, " itr=195 ") != NULL) == r->mitigation);
        bool virtio = strstr(buf, "nic=virtio") != NULL;
        if (r->api == BENCH_RING)
            assert_non_null(strstr(buf, virtio ? "batch=512" : "batch=2048")); /* half the ring */
        assert_true(virtio || strstr(buf, " ring=4096") != NULL);
    }
    /* --ring: another depth for the e1000 guests, the ring rows' batch follows */
    assert_int_equal(bench_set_guest_ring(1000), -1);
    assert_int_equal(bench_set_guest_ring(8192), -1);
    assert_int_equal(bench_set_guest_ring(1024), 0);
    const struct bench_row *ring = NULL;
    for (size_t i = 0; i < bench_row_count && !ring; i++)
        if (bench_rows[i].api == BENCH_RING && bench_rows[i].nic != BENCH_VIRTIO)
            ring = &bench_rows[i];
    assert_non_null(ring);
    assert_int_equal(bench_guest_cmdline(ring, true, 60, 2, "x", buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "batch=512"));
    assert_non_null(strstr(buf, " ring=1024"));
    assert_int_equal(bench_set_guest_ring(BENCH_GUEST_RING_DEFAULT), 0);
}

/* --latency rows: udp-rr (one in flight) against echo on its port. */
static void request_response_command_lines(void **state)
{
    char buf[256];
    const struct bench_row *base = &bench_rows[0];
    assert_int_equal(bench_guest_rr_cmdline(base, true, 60, 2, buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "udp-rr "));
    assert_non_null(strstr(buf, "peer=198.18.0.2"));
    assert_non_null(strstr(buf, "port=7 "));
    assert_non_null(strstr(buf, "inflight=1"));
    assert_non_null(strstr(buf, "len=18"));
    assert_int_equal(bench_guest_rr_cmdline(base, false, 60, 2, buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "echo ip=198.18.0.2 port=7 "));
    assert_non_null(strstr(buf, "idle="));
    assert_int_equal(bench_guest_rr_cmdline(base, true, 60, 2, buf, 12), -1);
}

static const struct bench_row *row_named(const char *name)
{
    for (size_t i = 0; i < bench_row_count; i++)
        if (strcmp(bench_rows[i].config, name) == 0)
            return &bench_rows[i];
    return NULL;
}

/* The virtio-net peer rows: QEMU's virtio-net on each back-end, both APIs,
 * the guest told to use its virtio-net driver. */
static void virtio_rows(void **state)
{
    static const struct {
        const char *name;
        enum bench_api api;
        const char *backend;
    } want[] = {
        {"qemu-virtio", BENCH_SOCKET, "tap"},
        {"qemu-virtio-ring", BENCH_RING, "tap"},
        {"qemu-virtio+vpio", BENCH_SOCKET, "vhost-user-vpio"},
        {"qemu-virtio-ring+vpio", BENCH_RING, "vhost-user-vpio"},
        {"qemu-virtio+dpdk", BENCH_SOCKET, "vhost-user-dpdk"},
        {"qemu-virtio-ring+dpdk", BENCH_RING, "vhost-user-dpdk"},
        {"qemu-virtio+vhost-net", BENCH_SOCKET, "vhost-net"},
        {"qemu-virtio-ring+vhost-net", BENCH_RING, "vhost-net"},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct bench_row *r = row_named(want[i].name);
        assert_non_null(r);
        assert_int_equal(r->platform, BENCH_QEMU);
        assert_int_equal(r->nic, BENCH_VIRTIO);
        assert_int_equal(r->api, want[i].api);
        assert_false(r->mitigation); /* e1000 moderation does not apply */
        assert_string_equal(bench_nic_name(r->nic), "virtio-net");
        assert_string_equal(bench_backend_name(r->link), want[i].backend);
        assert_int_equal(bench_guest_cmdline(r, true, 60, 2, "52:54:00:18:00:02", buf, sizeof(buf)),
                         0);
        assert_non_null(strstr(buf, " nic=virtio"));
        assert_non_null(strstr(buf, r->api == BENCH_RING ? "pktgen tx " : "udp-send "));
        assert_int_equal(bench_guest_cmdline(r, false, 1514, 2, "x", buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, " nic=virtio"));
        assert_int_equal(bench_guest_rr_cmdline(r, false, 60, 2, buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, "echo ip=198.18.0.2 port=7 "));
        assert_non_null(strstr(buf, " nic=virtio"));
        /* nic=virtio does not fit: the whole line is refused, not cut */
        size_t full = strlen(buf);
        assert_int_equal(bench_guest_rr_cmdline(r, false, 60, 2, buf, full - 3), -1);
    }
    /* e1000 rows keep their command lines and names */
    const struct bench_row *e = row_named("qemu-ring+switch");
    assert_non_null(e);
    assert_int_equal(e->nic, BENCH_E1000);
    assert_string_equal(bench_nic_name(e->nic), "e1000");
    assert_string_equal(bench_backend_name(e->link), "vpio-switch");
    assert_string_equal(bench_backend_name(bench_rows[0].link), "tap");
    assert_int_equal(bench_guest_cmdline(e, true, 60, 2, "x", buf, sizeof(buf)), 0);
    assert_null(strstr(buf, "nic="));
    for (size_t i = 0; i < bench_row_count; i++)
        if (bench_rows[i].nic == BENCH_E1000) {
            assert_null(bench_row_unavailable(&bench_rows[i], false));
            assert_null(bench_row_unavailable(&bench_rows[i], true));
        }
}

/* The mixed rows: a QEMU virtio-net sender on a vhost-user port, a vpio
 * e1000 + CSB receiver on the same switch; only the receiver differs. */
static void mixed_rows(void **state)
{
    const char *names[] = {"qemu-virtio+vpio-to-vm", "qemu-virtio-ring+vpio-to-vm"};
    char buf[256];
    for (size_t i = 0; i < 2; i++) {
        const struct bench_row *r = row_named(names[i]);
        assert_non_null(r);
        assert_int_equal(r->link, BENCH_VHOST_VPIO);
        assert_int_equal(bench_vm_platform(r, 0), BENCH_QEMU);
        assert_int_equal(bench_vm_nic(r, 0), BENCH_VIRTIO);
        assert_int_equal(bench_vm_platform(r, 1), BENCH_VPIO);
        assert_int_equal(bench_vm_nic(r, 1), BENCH_E1000);
        assert_string_equal(bench_vm_txmode(r, 1), "csb");
        assert_true(bench_vm_mitigation(r, 1));
        assert_false(bench_vm_mitigation(r, 0));
        assert_int_equal(bench_guest_cmdline(r, true, 60, 2, "x", buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, " nic=virtio"));
        assert_null(strstr(buf, "itr="));
        assert_int_equal(bench_guest_cmdline(r, false, 60, 2, "x", buf, sizeof(buf)), 0);
        assert_null(strstr(buf, "nic="));
        assert_non_null(strstr(buf, " txmode=csb itr=195 "));
        assert_int_equal(bench_guest_rr_cmdline(r, false, 60, 2, buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, " txmode=csb itr=195 "));
    }
    /* every other row: both VMs alike */
    for (size_t i = 0; i < bench_row_count; i++) {
        const struct bench_row *r = &bench_rows[i];
        if (r->rx_txmode)
            continue;
        assert_int_equal(bench_vm_platform(r, 1), r->platform);
        assert_int_equal(bench_vm_nic(r, 1), r->nic);
        assert_string_equal(bench_vm_txmode(r, 1), r->txmode);
    }
}

/* Rows that cannot run here say why (never a silent omission); the tap
 * rows always run, vhost-net ones when the device is there. */
static void virtio_rows_not_run(void **state)
{
    assert_null(bench_row_unavailable(row_named("qemu-virtio"), false));
    assert_null(bench_row_unavailable(row_named("qemu-virtio-ring"), true));
    assert_string_equal(bench_row_unavailable(row_named("qemu-virtio+vhost-net"), false),
                        "no /dev/vhost-net");
    assert_string_equal(bench_row_unavailable(row_named("qemu-virtio-ring+vhost-net"), false),
                        "no /dev/vhost-net");
    assert_null(bench_row_unavailable(row_named("qemu-virtio+vhost-net"), true));
    assert_null(bench_row_unavailable(row_named("qemu-virtio+vpio"), false));
    assert_null(bench_row_unavailable(row_named("qemu-virtio-ring+dpdk"), false));
}

/* --rows takes the new names and still refuses unknown ones. */
static void rows_option_takes_virtio_names(void **state)
{
    struct bench_opts o;
    char err[1024];
    char *ok[] = {"bench", "--rows",
                  "qemu-virtio+vpio,qemu-virtio-ring+vpio,qemu-virtio+dpdk,"
                  "qemu-virtio-ring+dpdk,qemu-virtio,qemu-virtio+vhost-net,+csb",
                  NULL};
    assert_int_equal(bench_parse_opts(3, ok, &o, err, sizeof(err)), 0);
    char *bad[] = {"bench", "--rows", "qemu-virtio+ovs", NULL};
    assert_int_equal(bench_parse_opts(3, bad, &o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "qemu-virtio+ovs"));
    assert_non_null(strstr(err, "qemu-virtio-ring+dpdk")); /* listed among the rows */
}

/* A back-end process's threads are counted as part of the VM it serves,
 * named with its prefix. */
static void cpu_samples_backend_processes(void **state)
{
    static struct bench_cpu c;
    memset(&c, 0, sizeof(c));
    const struct bench_cpu_proc procs[] = {{getpid(), 1, "vu:"}, {-1, 0, NULL}};
    bench_cpu_sample_procs(&c, procs, 2);
    bench_cpu_sample_procs(&c, procs, 2);
    assert_int_equal(c.nsamples, 2);
    assert_true(c.nthreads >= 1);
    assert_int_equal(c.th[0].vm, 1);
    assert_int_equal(strncmp(c.th[0].name, "vu:", 3), 0);
    assert_true(strlen(c.th[0].name) > 3); /* "vu:" + comm */
    assert_true(c.run_ns[1][0] >= c.run_ns[0][0] && c.run_ns[0][0] > 0);
}

/* The busiest window of the samples: thread 0 busy only in the middle. */
static void cpu_busiest_window(void **state)
{
    static struct bench_cpu c;
    memset(&c, 0, sizeof(c));
    c.nthreads = 2;
    c.nsamples = 5;
    const unsigned long long t[5] = {0, 1000, 2000, 3000, 4000};
    const unsigned long long a[5] = {1, 101, 1001, 1901, 1951}; /* ns on CPU + 1 */
    const unsigned long long b[5] = {1, 501, 1001, 1501, 2001};
    for (int i = 0; i < 5; i++) {
        c.t_ns[i] = t[i];
        c.run_ns[i][0] = a[i];
        c.run_ns[i][1] = b[i];
    }
    double pct[BENCH_CPU_THREADS];
    assert_true(bench_cpu_busiest(&c, 2000, pct));
    /* windows of 2000 ns: [0,2000] 1000+1000, [1000,3000] 1800+1000 (best),
     * [2000,4000] 950+1000 */
    assert_true(pct[0] > 89.9 && pct[0] < 90.1);
    assert_true(pct[1] > 49.9 && pct[1] < 50.1);
    assert_false(bench_cpu_busiest(&c, 5000, pct)); /* no window that long */
    assert_int_equal(bench_cpu_parse_schedstat("123456 789 3"), 123456);
    assert_int_equal(bench_cpu_parse_schedstat(""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_result_lines),
        cmocka_unit_test(finds_the_ready_line),
        cmocka_unit_test(mixed_rows),
        cmocka_unit_test(parses_vm_stats),
        cmocka_unit_test(overlong_tokens_are_skipped),
        cmocka_unit_test(rows_and_command_lines),
        cmocka_unit_test(request_response_command_lines),
        cmocka_unit_test(cpu_busiest_window),
        cmocka_unit_test(virtio_rows),
        cmocka_unit_test(virtio_rows_not_run),
        cmocka_unit_test(rows_option_takes_virtio_names),
        cmocka_unit_test(cpu_samples_backend_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
