/* Unit tests of the guest's command-line parser (guest/kernel/cmdline.c),
 * built for the host: the parser is pure C with no guest dependencies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../guest/kernel/cmdline.c"

static void test_empty_is_selftest(void **state)
{
    struct cmdline cl;
    cmdline_parse(&cl, "");
    assert_string_equal(cl.app, "selftest");
    assert_int_equal(cl.argc, 0);
    assert_int_equal(cl.nopts, 0);
    cmdline_parse(&cl, NULL);
    assert_string_equal(cl.app, "selftest");
    cmdline_parse(&cl, "   ");
    assert_string_equal(cl.app, "selftest");
}

static void test_app_args_options(void **state)
{
    struct cmdline cl;
    cmdline_parse(&cl, "  pktgen tx count=100 len=1514  dst=52:54:00:12:34:51 extra\n");
    assert_string_equal(cl.app, "pktgen");
    assert_int_equal(cl.argc, 2);
    assert_string_equal(cl.argv[0], "tx");
    assert_string_equal(cl.argv[1], "extra");
    assert_string_equal(cmdline_get(&cl, "len"), "1514");
    assert_null(cmdline_get(&cl, "nope"));
    uint64_t v = 0;
    assert_true(cmdline_u64(&cl, "count", &v));
    assert_int_equal(v, 100);
    uint8_t mac[6];
    assert_true(parse_mac(cmdline_get(&cl, "dst"), mac));
    assert_int_equal(mac[0], 0x52);
    assert_int_equal(mac[5], 0x51);
}

static void test_app_option_and_last_wins(void **state)
{
    struct cmdline cl;
    cmdline_parse(&cl, "hz=100 app=selftest hz=250 ip=198.18.0.1");
    assert_string_equal(cl.app, "selftest");
    assert_string_equal(cmdline_get(&cl, "hz"), "250");
    assert_string_equal(cmdline_get(&cl, "ip"), "198.18.0.1");
}

static void test_numbers(void **state)
{
    uint64_t v;
    assert_true(parse_u64("0", &v));
    assert_int_equal(v, 0);
    assert_true(parse_u64("0x1F", &v));
    assert_int_equal(v, 31);
    assert_true(parse_u64("10k", &v));
    assert_int_equal(v, 10000);
    assert_true(parse_u64("2M", &v));
    assert_int_equal(v, 2000000);
    assert_true(parse_u64("18446744073709551615", &v));
    assert_false(parse_u64("18446744073709551616", &v));
    assert_false(parse_u64("20000000000G", &v));
    assert_false(parse_u64("", &v));
    assert_false(parse_u64("0x", &v));
    assert_false(parse_u64("12ab", &v));
    assert_false(parse_u64(NULL, &v));
}

static void test_seconds(void **state)
{
    (void)state;
    u64 ms = 0;
    assert_true(parse_seconds_ms("2", &ms));
    assert_int_equal(ms, 2000);
    assert_true(parse_seconds_ms("0.5", &ms));
    assert_int_equal(ms, 500);
    assert_true(parse_seconds_ms("1.25", &ms));
    assert_int_equal(ms, 1250);
    assert_true(parse_seconds_ms("0.0004", &ms)); /* below a millisecond */
    assert_int_equal(ms, 0);
    assert_false(parse_seconds_ms("", &ms));
    assert_false(parse_seconds_ms(NULL, &ms));
    assert_false(parse_seconds_ms("2s", &ms));
    assert_false(parse_seconds_ms("-1", &ms));
}

static void test_mac(void **state)
{
    uint8_t m[6];
    assert_true(parse_mac("ff:FF:00:0a:Bc:09", m));
    assert_int_equal(m[1], 0xff);
    assert_int_equal(m[4], 0xbc);
    assert_false(parse_mac("ff:ff:ff:ff:ff", m));
    assert_false(parse_mac("ff:ff:ff:ff:ff:ff:", m));
    assert_false(parse_mac("ff-ff-ff-ff-ff-ff", m));
    assert_false(parse_mac("fg:ff:ff:ff:ff:ff", m));
}

static void test_long_line_truncated(void **state)
{
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct cmdline cl;
    cmdline_parse(&cl, big);
    assert_int_equal(strlen(cl.app), CMDLINE_MAX - 1);
    /* More words than slots: the extra ones are ignored, not overflowed. */
    char many[CMDLINE_MAX];
    size_t n = 0;
    for (int i = 0; i < 100 && n + 4 < sizeof(many); i++) {
        memcpy(many + n, "k=v ", 4);
        n += 4;
    }
    many[n] = '\0';
    cmdline_parse(&cl, many);
    assert_int_equal(cl.nopts, CMDLINE_ARGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_selftest),
        cmocka_unit_test(test_app_args_options),
        cmocka_unit_test(test_app_option_and_last_wins),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_long_line_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
