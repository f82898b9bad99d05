/* The e1000's own --nic options (src/dev/e1000_opts.c), also through a whole
 * --nic spec as `vpio vm` parses it (net_nic_spec_parse, then the device). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dev/e1000_opts.h"
#include "net/backend.h"

/* A whole --nic spec: backend part by src/net, the rest by the e1000. */
static int parse(const char *spec, struct e1000_nic_opts *o, char *err, size_t errlen)
{
    struct net_nic_spec s;
    if (net_nic_spec_parse(spec, &s, err, errlen) < 0)
        return -1;
    return e1000_nic_opts_parse(s.dev_opts, o, err, errlen);
}

static void defaults_and_values(void **state)
{
    (void)state;
    struct e1000_nic_opts o;
    char err[256];
    assert_int_equal(e1000_nic_opts_parse(NULL, &o, err, sizeof(err)), 0);
    assert_true(o.mitigation);
    assert_true(o.csb);
    assert_int_equal(o.csb_poll_us, 0); /* the thread's default (50 us) */
    assert_int_equal(parse("null", &o, err, sizeof(err)), 0);
    assert_true(o.mitigation && o.csb);
    assert_int_equal(parse("vale0:p2,mitigation=off", &o, err, sizeof(err)), 0);
    assert_false(o.mitigation);
    assert_true(o.csb);
    assert_int_equal(parse("vale0:p1,csb=off", &o, err, sizeof(err)), 0);
    assert_false(o.csb);
    assert_true(o.mitigation);
    assert_int_equal(
        parse("null,csb=on,mitigation=off,mac=02:00:00:00:00:09", &o, err, sizeof(err)), 0);
    assert_true(o.csb);
    assert_false(o.mitigation);
    assert_int_equal(parse("vale0:p1,csb_poll_us=200", &o, err, sizeof(err)), 0);
    assert_int_equal(o.csb_poll_us, 200);
}

static void expect_error(const char *spec, const char *words)
{
    struct e1000_nic_opts o;
    char err[256] = "";
    assert_int_equal(parse(spec, &o, err, sizeof(err)), -1);
    if (!strstr(err, words))
        fail_msg("spec '%s': error '%s' lacks '%s'", spec, err, words);
}

static void errors(void **state)
{
    (void)state;
    expect_error("null,mitigation=maybe", "on or off");
    expect_error("null,mitigation=on,mitigation=off", "twice");
    expect_error("null,csb=yes", "csb must be on or off");
    expect_error("null,csb=", "csb must be on or off");
    expect_error("null,csb=on,csb=off", "csb given twice");
    expect_error("null,csb_poll_us=0", "1..1000000");
    expect_error("null,csb_poll_us=-5", "1..1000000");
    expect_error("null,csb_poll_us=12x", "1..1000000");
    expect_error("null,csb_poll_us=1000001", "1..1000000");
    expect_error("null,csb_poll_us=", "1..1000000");
    expect_error("null,csb_poll_us=5,csb_poll_us=6", "given twice");
    expect_error("null,speed=10", "unknown option 'speed' (mac, mitigation, csb, csb_poll_us)");
    struct e1000_nic_opts o;
    char err[64];
    assert_int_equal(e1000_nic_opts_parse("csb", &o, err, sizeof(err)), -1);
    assert_int_equal(e1000_nic_opts_parse("csb=on,", &o, NULL, 0), -1); /* no err buffer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_values),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
