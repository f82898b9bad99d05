/* `vpio vm` argument parsing, the COM1 model and isa-debug-exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/vm_args.h"
#include "vmm/debug_exit.h"
#include "vmm/serial.h"

static int parse(struct vm_args *a, char *err, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return vm_args_parse(argc, (char **)argv, a, err, 256);
}

static void sizes(void **state)
{
    uint64_t v;
    assert_int_equal(parse_size("64M", &v), 0);
    assert_int_equal(v, 64ull << 20);
    assert_int_equal(parse_size("1g", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(parse_size("512K", &v), 0);
    assert_int_equal(v, 512 << 10);
    const char *bad[] = {"", "M", "-1M", "12Q", "1MB", "99999999999999999999G", "0x10", NULL};
    for (int i = 0; bad[i]; i++)
        if (parse_size(bad[i], &v) == 0)
            fail_msg("'%s' accepted", bad[i]);
}

static void full_command_line(void **state)
{
    struct vm_args a;
    char err[256];
    const char *argv[] = {"vm",         "--kernel",  "k.elf", "--mem",   "128M", "--cmdline",
                          "selftest x", "--timeout", "2.5",   "--stats", NULL};
    assert_int_equal(parse(&a, err, argv), 0);
    assert_string_equal(a.vm.kernel, "k.elf");
    assert_int_equal(a.vm.mem_size, 128ull << 20);
    assert_string_equal(a.vm.cmdline, "selftest x");
    assert_true(a.vm.timeout_s > 2.49 && a.vm.timeout_s < 2.51);
    assert_true(a.vm.stats);
}

static void defaults_and_help(void **state)
{
    struct vm_args a;
    char err[256];
    const char *argv[] = {"vm", "--kernel", "k", NULL};
    assert_int_equal(parse(&a, err, argv), 0);
    assert_int_equal(a.vm.mem_size, VM_DEFAULT_MEM);
    assert_string_equal(a.vm.cmdline, "");
    assert_false(a.vm.stats);
    const char *help[] = {"vm", "--help", NULL};
    assert_int_equal(parse(&a, err, help), 0);
    assert_true(a.help);
    /* The help text comes from the option table and the backend table. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    vm_args_print_help(f);
    fclose(f);
    assert_non_null(strstr(buf, "--kernel FILE"));
    assert_non_null(strstr(buf, "--nic SPEC"));
    assert_non_null(strstr(buf, "--halt-poll-ns N"));
    assert_non_null(strstr(buf, "pcap:FILE | tap:IFNAME"));
    assert_non_null(strstr(buf, "124 timeout"));
    free(buf);
}

/* Numbers are strict: base 10, no blanks or signs, no exponents. */
static void numbers_are_strict(void **state)
{
    const char *bad_mem[] = {" 64M", "+64M", "064M", "64M ", "6 4M", "1e6", NULL};
    for (int i = 0; bad_mem[i]; i++) {
        const char *argv[] = {"vm", "--kernel", "k", "--mem", bad_mem[i], NULL};
        struct vm_args a;
        char err[256] = "";
        if (parse(&a, err, argv) != -1 || !strstr(err, "bad memory size"))
            fail_msg("--mem '%s' accepted or unexplained: '%s'", bad_mem[i], err);
    }
    const char *bad_time[] = {" 2", "-0.5", "1e3", "inf", "nan", "0x10", "2s", "", NULL};
    for (int i = 0; bad_time[i]; i++) {
        const char *argv[] = {"vm", "--kernel", "k", "--timeout", bad_time[i], NULL};
        struct vm_args a;
        char err[256] = "";
        if (parse(&a, err, argv) != -1 || !strstr(err, "bad timeout"))
            fail_msg("--timeout '%s' accepted or unexplained: '%s'", bad_time[i], err);
    }
    const char *bad_ns[] = {"-1", " 5", "4294967296", "010", NULL};
    for (int i = 0; bad_ns[i]; i++) {
        const char *argv[] = {"vm", "--kernel", "k", "--halt-poll-ns", bad_ns[i], NULL};
        struct vm_args a;
        char err[256] = "";
        if (parse(&a, err, argv) != -1 || !strstr(err, "halt-poll-ns"))
            fail_msg("--halt-poll-ns '%s' accepted or unexplained: '%s'", bad_ns[i], err);
    }
    struct vm_args a;
    char err[256] = "";
    const char *ok[] = {"vm",    "--kernel=k", "--halt-poll-ns", "4294967295", "--timeout", "0.25",
                        "--nic", "null",       "--nic",          "vale0:a",    "--cpus",    "0-1",
                        NULL};
    assert_int_equal(parse(&a, err, ok), 0);
    assert_int_equal(a.vm.halt_poll_ns, 4294967295u);
    assert_true(a.vm.timeout_s == 0.25);
    assert_int_equal(a.nic_count, 2);
    assert_string_equal(a.nics[1], "vale0:a");
    assert_string_equal(a.cpus, "0-1");
    const char *five[] = {"vm",    "--kernel", "k",     "--nic", "null",  "--nic", "null",
                          "--nic", "null",     "--nic", "null",  "--nic", "null",  NULL};
    assert_int_equal(parse(&a, err, five), -1);
    assert_non_null(strstr(err, "too many --nic"));
    const char *stray[] = {"vm", "--kernel", "k", "stray", NULL};
    assert_int_equal(parse(&a, err, stray), -1);
    assert_non_null(strstr(err, "unknown option 'stray'"));
}

static void errors_are_explained(void **state)
{
    struct {
        const char *argv[6];
        const char *needle;
    } cases[] = {
        {{"vm", NULL}, "missing --kernel"},
        {{"vm", "--kernel", NULL}, "needs a value"},
        {{"vm", "--kernel", "k", "--bogus", NULL}, "unknown option"},
        {{"vm", "--kernel", "k", "--mem", "lots", NULL}, "bad memory size"},
        {{"vm", "--kernel", "k", "--mem", "1M", NULL}, "out of range"},
        {{"vm", "--kernel", "k", "--mem", "8G", NULL}, "out of range"},
        {{"vm", "--kernel", "k", "--timeout", "-3", NULL}, "bad timeout"},
        {{"vm", "--kernel", "k", "--timeout", "soon", NULL}, "bad timeout"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vm_args a;
        char err[256] = "";
        assert_int_equal(parse(&a, err, cases[i].argv), -1);
        if (!strstr(err, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].needle);
    }
}

static void serial_transmits_and_reports_ready(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct serial s;
    serial_init(&s, out);
    uint8_t v = 0;
    serial_io(&s, 5, &v, 1, false);
    assert_int_equal(v & 0x60, 0x60); /* THRE | TEMT */
    const char *msg = "hi\n";
    for (const char *p = msg; *p; p++) {
        v = (uint8_t)*p;
        serial_io(&s, 0, &v, 1, true);
    }
    /* Divisor latch: data port writes are not output. */
    v = 0x80;
    serial_io(&s, 3, &v, 1, true);
    v = 1;
    serial_io(&s, 0, &v, 1, true);
    v = 0x03;
    serial_io(&s, 3, &v, 1, true);
    fflush(out);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "hi\n", 3);
    assert_int_equal(s.bytes_out, 3);
    assert_true(s.first_byte_ns > 0);
    fclose(out);
    free(buf);
}

static void debug_exit_statuses(void **state)
{
    struct debug_exit d = {0};
    uint8_t data[4] = {0, 0, 0, 0};
    debug_exit_io(&d, 0, data, 1, true);
    assert_true(d.requested);
    assert_int_equal(debug_exit_status(&d), 1);
    data[0] = 1;
    debug_exit_io(&d, 0, data, 4, true);
    assert_int_equal(debug_exit_status(&d), 3);
    data[0] = 0x80; /* (0x80 << 1) | 1 = 0x101, truncated to 8 bits like QEMU */
    debug_exit_io(&d, 0, data, 4, true);
    assert_int_equal(debug_exit_status(&d), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes),
        cmocka_unit_test(full_command_line),
        cmocka_unit_test(defaults_and_help),
        cmocka_unit_test(errors_are_explained),
        cmocka_unit_test(numbers_are_strict),
        cmocka_unit_test(serial_transmits_and_reports_ready),
        cmocka_unit_test(debug_exit_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
