/* Unit tests of vpio pktgen's argument parsing (src/cli/cmd_pktgen.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/pktgen.h"
#include "vpio/switch.h"

/* ---- pktgen argument parsing ---- */
static int parse(struct pktgen_opts *o, char *err, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    argv[argc++] = "pktgen";
    for (char *s; (s = va_arg(ap, char *));)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    return pktgen_parse(argc, argv, o, err, 256);
}

static void test_pktgen_args(void **state)
{
    (void)state;
    struct pktgen_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, "-i", "vale0:a", "-f", "tx", "-l", "1514", "-n", "1000", "-b",
                           "32", "-d", "02:00:00:00:00:0b", "-s", "02:00:00:00:00:0a", NULL),
                     0);
    assert_string_equal(o.ifname, "vale0:a");
    assert_int_equal(o.tx, 1);
    assert_int_equal(o.len, 1514);
    assert_int_equal(o.count, 1000);
    assert_int_equal(o.batch, 32);
    assert_int_equal(o.dst[5], 0x0b);
    assert_int_equal(o.src[5], 0x0a);
    assert_int_equal(parse(&o, err, "-i", "vale0:b", "-f", "rx", "-T", "2.5", "-W", "0.5", NULL),
                     0);
    assert_true(o.idle == 0.5);
    assert_int_equal(o.tx, 0);
    assert_true(o.seconds == 2.5);
    assert_int_equal(o.len, 60);
    assert_int_equal(o.batch, 256);
    assert_int_equal(o.dst[0], 0xff);
    assert_int_equal(parse(&o, err, "-f", "tx", NULL), -1);
    assert_non_null(strstr(err, "-i"));
    assert_int_equal(parse(&o, err, "-i", "vale0:a", NULL), -1);
    assert_non_null(strstr(err, "-f"));
    assert_int_equal(parse(&o, err, "-i", "vale0", "-f", "tx", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "xx", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "13", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "99999", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "12x", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-n", "0", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-n", "-5", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-T", "abc", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "rx", "-W", "0", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-b", "0", NULL), -1);
    char ring[16], fifth[16]; /* a full ring's worth of slots; 9000 B frames take 5 slots */
    snprintf(ring, sizeof ring, "%u", VPIO_SW_RING_SLOTS);
    snprintf(fifth, sizeof fifth, "%u", VPIO_SW_RING_SLOTS / 5 + 1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-b", ring, NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", "9000", "-b", fifth, NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-d", "02:00:00:00:00", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-d", "02:00:00:00:00:100", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-s", "01:00:00:00:00:01", NULL), -1);
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-Z", NULL), -1);
    assert_non_null(strstr(err, "-Z"));
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "-l", NULL), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(parse(&o, err, "-i", "v:a", "-f", "tx", "extra", NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pktgen_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
