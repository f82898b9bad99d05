/* The option-table parser: forms, strict numbers, errors, help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/opts.h"

static bool quiet;
static const char *iface;
static uint64_t count = 7;
static double secs;
static int mode = -1;
static uint8_t mac[6];
static int calls;
static const char *const modes[] = {"tx", "rx", NULL};

static int count_call(const char *arg, void *ctx, char *err, size_t errlen)
{
    if (strcmp(arg, "ok")) {
        snprintf(err, errlen, "only ok");
        return -1;
    }
    (*(int *)ctx)++;
    return 0;
}

static const struct opt_def defs[] = {
    {'q', "quiet", OPT_FLAG, NULL, "no rate lines", .out = &quiet},
    {'i', "iface", OPT_STRING, "SWITCH:PORT", "switch port", .out = &iface},
    {'n', NULL, OPT_UINT, "COUNT", "frames", &count, .min = 1, .max = 1000},
    {'T', "time", OPT_DOUBLE, "SECONDS", "duration", &secs, .dmin = 0.001, .dmax = 1e7},
    {'f', NULL, OPT_CHOICE, "tx|rx", "direction", &mode, .choices = modes},
    {0, "mac", OPT_MAC, "MAC", "address", .out = mac},
    {0, "nic", OPT_CALL, "SPEC", "a NIC, repeatable", &calls, .call = count_call},
};
static const struct opt_spec spec = {"usage: t [options]", NULL, defs, OPTS_COUNT(defs), NULL};

static int run(char *err, size_t errlen, int *first, int argc, ...)
{
    static char *argv[32];
    va_list ap;
    va_start(ap, argc);
    argv[0] = "t";
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    quiet = false;
    iface = NULL;
    count = 7;
    secs = 0;
    mode = -1;
    calls = 0;
    memset(mac, 0, 6);
    err[0] = 0;
    return opts_parse(&spec, argc, argv, first, err, errlen);
}

static void test_forms(void **state)
{
    char err[256];
    int first;
    assert_int_equal(run(err, sizeof err, &first, 9, "-q", "-i", "vale0:a", "--time=2.5", "-ftx",
                         "--mac", "02:00:00:00:00:0A", "pos", "-n"),
                     0);
    assert_true(quiet);
    assert_string_equal(iface, "vale0:a");
    assert_true(secs == 2.5);
    assert_int_equal(mode, 0);
    assert_int_equal(mac[5], 0x0a);
    assert_int_equal(first, 8); /* parsing stops at the first positional */
    assert_int_equal(run(err, sizeof err, &first, 4, "-qn5", "--", "-x"), 0);
    assert_true(quiet);
    assert_int_equal(count, 5);
    assert_int_equal(first, 3);
    assert_int_equal(run(err, sizeof err, &first, 5, "--nic", "ok", "--nic=ok"), 0);
    assert_int_equal(calls, 2);
}

static void test_strict_numbers(void **state)
{
    char err[256];
    int first;
    const char *bad[] = {" -1", "-1", "010",  "0x10", "+5",
                         "5 ",  "",   "1001", "0",    "99999999999999999999"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(run(err, sizeof err, &first, 3, "-n", bad[k]), -1);
        assert_non_null(strstr(err, "-n"));
    }
    assert_int_equal(run(err, sizeof err, &first, 3, "-n", "1000"), 0);
    assert_int_equal(count, 1000);
    uint64_t v;
    assert_int_equal(opts_parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(opts_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -1);
    double d;
    assert_int_equal(opts_parse_double("1e3", 0, 1e7, &d), -1);
    assert_int_equal(opts_parse_double("nan", 0, 1e7, &d), -1);
    assert_int_equal(opts_parse_double("-1", -5, 1e7, &d), -1);
    assert_int_equal(opts_parse_double("0.5", 0, 1, &d), 0);
}

static void test_errors(void **state)
{
    char err[256];
    int first;
    assert_int_equal(run(err, sizeof err, &first, 2, "--nosuch"), -1);
    assert_non_null(strstr(err, "unknown option --nosuch"));
    assert_int_equal(run(err, sizeof err, &first, 2, "-z"), -1);
    assert_int_equal(run(err, sizeof err, &first, 2, "-i"), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(run(err, sizeof err, &first, 2, "--quiet=1"), -1);
    assert_int_equal(run(err, sizeof err, &first, 3, "-f", "both"), -1);
    assert_non_null(strstr(err, "one of tx rx"));
    assert_int_equal(run(err, sizeof err, &first, 3, "--mac", "02:00:00:00:00"), -1);
    assert_int_equal(run(err, sizeof err, &first, 3, "--mac", "02:00:00:00:00:0g"), -1);
    assert_int_equal(run(err, sizeof err, &first, 3, "--nic", "bad"), -1);
    assert_non_null(strstr(err, "only ok"));
    assert_int_equal(run(err, sizeof err, &first, 3, "-T", "0"), -1);
}

static void test_help(void **state)
{
    char err[256];
    int first;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    opts_print_help(f, &spec);
    fclose(f);
    assert_non_null(strstr(buf, "usage: t [options]"));
    assert_non_null(strstr(buf, "-i, --iface SWITCH:PORT"));
    assert_non_null(strstr(buf, "    --mac MAC"));
    assert_non_null(strstr(buf, "-h, --help"));
    free(buf);
    assert_int_equal(run(err, sizeof err, &first, 2, "--help"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_strict_numbers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
