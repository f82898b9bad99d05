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
        if (r->api == BENCH_RING)
            assert_non_null(strstr(buf, "batch=512"));
    }
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
        cmocka_unit_test(parses_vm_stats),
        cmocka_unit_test(overlong_tokens_are_skipped),
        cmocka_unit_test(rows_and_command_lines),
        cmocka_unit_test(request_response_command_lines),
        cmocka_unit_test(cpu_busiest_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
