/* Subcommand option tables: strict numbers and checked values for pktgen,
 * qemu-port and bench (vm: test_vm_cli.c; the parser itself: test_opts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "cli/bench_opts.h"
#include "cli/opts.h"
#include "cli/pktgen.h"
#include "cli/qemu_port.h"
#include "net/backend.h"
#include "vpio/mac.h"
#include "vpio/switch.h"

#define MAX_ARGS 16

/* argv from a NULL-terminated list, argv[0] = name. */
static int make_argv(char **argv, const char *name, va_list ap)
{
    int argc = 0;
    argv[argc++] = (char *)name;
    for (char *s; (s = va_arg(ap, char *)) && argc < MAX_ARGS - 1;)
        argv[argc++] = s;
    argv[argc] = NULL;
    return argc;
}

static int pktgen(struct pktgen_opts *o, char *err, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    va_start(ap, err);
    int argc = make_argv(argv, "pktgen", ap);
    va_end(ap);
    err[0] = 0;
    return pktgen_parse(argc, argv, o, err, 256);
}

static int qport(struct qemu_port_opts *o, char *err, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    va_start(ap, err);
    int argc = make_argv(argv, "qemu-port", ap);
    va_end(ap);
    err[0] = 0;
    return qemu_port_parse(argc, argv, o, err, 1024);
}

static int bench(struct bench_opts *o, char *err, ...)
{
    char *argv[MAX_ARGS];
    va_list ap;
    va_start(ap, err);
    int argc = make_argv(argv, "bench", ap);
    va_end(ap);
    err[0] = 0;
    return bench_parse_opts(argc, argv, o, err, 1024);
}

/* The two cases of the issue: " -1" was 2^64-1, "010" was 8. */
static void pktgen_numbers_are_strict(void **state)
{
    struct pktgen_opts o;
    char err[256];
    const char *bad[] = {" -1", "-1", "010", "0x10", "+5", "5 ", "1e3", "", NULL};
    for (int i = 0; bad[i]; i++) {
        if (pktgen(&o, err, "-i", "v:a", "-f", "tx", "-n", bad[i], NULL) != -1)
            fail_msg("-n '%s' accepted (count %llu)", bad[i], (unsigned long long)o.count);
        assert_non_null(strstr(err, "-n"));
        if (pktgen(&o, err, "-i", "v:a", "-f", "tx", "-l", bad[i], NULL) != -1)
            fail_msg("-l '%s' accepted", bad[i]);
        if (pktgen(&o, err, "-i", "v:a", "-f", "tx", "-b", bad[i], NULL) != -1)
            fail_msg("-b '%s' accepted", bad[i]);
    }
    const char *bad_secs[] = {" 2", "-1", "0", "1e3", "inf", "2s", NULL};
    for (int i = 0; bad_secs[i]; i++) {
        if (pktgen(&o, err, "-i", "v:a", "-f", "rx", "-T", bad_secs[i], NULL) != -1)
            fail_msg("-T '%s' accepted", bad_secs[i]);
        if (pktgen(&o, err, "-i", "v:a", "-f", "rx", "-W", bad_secs[i], NULL) != -1)
            fail_msg("-W '%s' accepted", bad_secs[i]);
    }
    assert_int_equal(pktgen(&o, err, "-i", "v:a", "-f", "tx", "-n", "10", "-qB", NULL), 0);
    assert_int_equal(o.count, 10);
    assert_true(o.quiet && o.busy);
    assert_int_equal(pktgen(&o, err, "-i", "v:a", "-f", "tx", "-n", "18446744073709551615", NULL),
                     0);
    assert_true(o.count == UINT64_MAX);
    assert_int_equal(pktgen(&o, err, "-iv:a", "-frx", "-l1514", NULL), 0);
    assert_int_equal(o.len, 1514);
    assert_int_equal(o.tx, 0);
}

static void pktgen_macs(void **state)
{
    struct pktgen_opts o;
    char err[256];
    assert_int_equal(pktgen(&o, err, "-i", "v:a", "-f", "tx", "-s", "00:00:00:00:00:00", NULL), 0);
    assert_true(o.src_set); /* given, even if all zero */
    assert_int_equal(pktgen(&o, err, "-i", "v:a", "-f", "tx", NULL), 0);
    assert_false(o.src_set);
    assert_int_equal(pktgen(&o, err, "-i", "v:a", "-f", "tx", "-d", "01:00:5e:00:00:01", NULL), 0);
    assert_int_equal(o.dst[0], 1); /* a multicast destination is fine */
    const char *bad[] = {"2:0:0:0:0:1",    " 02:00:00:00:00:01", "02:00:00:00:00:01 ",
                         "02:00:00:00:00", "02:00:00:00:00:0g",  NULL};
    for (int i = 0; bad[i]; i++)
        if (pktgen(&o, err, "-i", "v:a", "-f", "tx", "-d", bad[i], NULL) != -1)
            fail_msg("-d '%s' accepted", bad[i]);
    uint8_t m[6];
    assert_int_equal(opts_parse_mac("02:00:00:00:00:0A", m), 0);
    assert_int_equal(m[5], 10);
    /* One parser: the --nic parser and the option tables agree on syntax;
     * net_parse_mac adds only the unicast, non-zero rule. */
    const char *macs[] = {"02:00:00:00:00:0a",
                          "02-00-00-00-00-0A",
                          "ff:ff:ff:ff:ff:ff",
                          "00:00:00:00:00:00",
                          "2:0:0:0:0:1",
                          "02:00:00:00:00:0g",
                          "02:00:00:00:00",
                          "02:00:00:00:00:01:",
                          " 02:00:00:00:00:01",
                          "0200.0000.0001",
                          NULL};
    for (int i = 0; macs[i]; i++) {
        uint8_t a[6], b[6];
        int ro = opts_parse_mac(macs[i], a), rv = vpio_mac_parse(macs[i], b);
        assert_int_equal(ro, rv);
        int rn = net_parse_mac(macs[i], b);
        if (ro < 0)
            assert_int_equal(rn, -1);
        else
            assert_int_equal(rn, (a[0] & 1) || !(a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) ? -1 : 0);
    }
}

static void qemu_port_args(void **state)
{
    struct qemu_port_opts o;
    char err[1024];
    assert_int_equal(qport(&o, err, "-i", "sw:q", "-l", "127.0.0.2:5000", "-T", "2.5", "-q", NULL),
                     0);
    assert_string_equal(o.ifname, "sw:q");
    assert_string_equal(o.listen_at, "127.0.0.2:5000");
    assert_int_equal(ntohs(o.addr.sin_port), 5000);
    assert_true(o.seconds == 2.5);
    assert_true(o.quiet);
    assert_int_equal(qport(&o, err, "-i", "sw:q", "-l", "0.0.0.0:5000", NULL), -1);
    assert_non_null(strstr(err, "only loopback"));
    const char *bad_addr[] = {
        "127.0.0.1:05000", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1: 5000",
        "127.0.0.1:-1",    "5000",        "x:5000",          NULL};
    for (int i = 0; bad_addr[i]; i++) {
        if (qport(&o, err, "-i", "sw:q", "-l", bad_addr[i], NULL) != -1)
            fail_msg("-l '%s' accepted", bad_addr[i]);
        assert_non_null(strstr(err, "-l"));
    }
    assert_int_equal(qport(&o, err, "-i", "sw:q", "-l", "127.0.0.1:1", "-T", "-1", NULL), -1);
    assert_int_equal(qport(&o, err, "-i", "sw:q", "-l", "127.0.0.1:1", "-T", " 1", NULL), -1);
    assert_int_equal(qport(&o, err, "-i", "sw:q", NULL), -1);
    assert_non_null(strstr(err, "required"));
    assert_int_equal(qport(&o, err, "-i", "sw:q", "-l", "127.0.0.1:1", "extra", NULL), -1);
    assert_int_equal(qport(&o, err, "-i", "sw:q", "-l", "127.0.0.1:1", "-x", NULL), -1);
    assert_non_null(strstr(err, "unknown option -x"));
}

static void bench_args(void **state)
{
    struct bench_opts o;
    char err[1024];
    assert_int_equal(bench(&o, err, NULL), 0);
    assert_true(o.duration == 5);
    assert_int_equal(o.nframes, 2);
    assert_null(o.rows);
    assert_string_equal(o.platform, "all");
    assert_int_equal(bench(&o, err, "--rows", "+csb,ring+csb", "--platform", "vpio", "--frames",
                           "60,1514,512", "--no-pin", "--json", "j", NULL),
                     0);
    assert_string_equal(o.rows, "+csb,ring+csb");
    assert_string_equal(o.platform, "vpio");
    assert_int_equal(o.nframes, 3);
    assert_int_equal(o.frames[2], 512);
    assert_false(o.pin);
    assert_string_equal(o.json, "j");
    /* --quick is a preset where it stands: later options override it. */
    assert_int_equal(bench(&o, err, "--quick", "--duration", "3", NULL), 0);
    assert_true(o.duration == 3);
    assert_int_equal(o.nframes, 1);
    assert_int_equal(bench(&o, err, "--duration", "3", "--quick", NULL), 0);
    assert_true(o.duration == 2);
    /* --latency: request/response, 60-byte frames only */
    assert_int_equal(bench(&o, err, "--latency", NULL), 0);
    assert_true(o.latency);
    assert_int_equal(o.nframes, 1);
    assert_int_equal(o.frames[0], 60);
    assert_int_equal(bench(&o, err, NULL), 0);
    assert_false(o.latency);
    assert_false(o.poll);
    /* --poll: spinning apps, only for request/response */
    assert_int_equal(bench(&o, err, "--latency", "--poll", NULL), 0);
    assert_true(o.poll && o.latency);
    assert_int_equal(bench(&o, err, "--poll", NULL), -1);
    assert_non_null(strstr(err, "--poll needs --latency"));
    /* --split: vCPUs on one core, their I/O on the other; needs pinning */
    assert_int_equal(bench(&o, err, "--latency", "--split", NULL), 0);
    assert_true(o.split);
    assert_int_equal(bench(&o, err, NULL), 0);
    assert_false(o.split);
    assert_int_equal(bench(&o, err, "--split", "--no-pin", NULL), -1);
    assert_non_null(strstr(err, "--no-pin"));
    /* --ring: the guests' e1000 ring depth, a power of two in 256..4096 */
    assert_int_equal(bench(&o, err, NULL), 0);
    assert_int_equal(o.ring, 4096);
    assert_int_equal(bench(&o, err, "--ring", "1024", NULL), 0);
    assert_int_equal(o.ring, 1024);
    assert_int_equal(bench(&o, err, "--ring", "1000", NULL), -1);
    assert_non_null(strstr(err, "power of two"));
    assert_int_equal(bench(&o, err, "--ring", "128", NULL), -1);
    assert_int_equal(bench(&o, err, "--ring", "8192", NULL), -1);
    /* An unknown row is an error naming the valid ones (it used to run nothing). */
    assert_int_equal(bench(&o, err, "--rows", "nosuchrow", NULL), -1);
    assert_non_null(strstr(err, "unknown row 'nosuchrow'"));
    assert_non_null(strstr(err, "baseline"));
    assert_non_null(strstr(err, "qemu-ring+switch "));
    assert_non_null(strstr(err, "qemu-virtio-ring+vhost-net)")); /* the whole list */
    assert_int_equal(bench(&o, err, "--rows", "+csb,", NULL), -1);
    assert_int_equal(bench(&o, err, "--rows", "", NULL), -1);
    assert_int_equal(bench(&o, err, "--rows", "+cs", NULL), -1);
    const char *bad_frames[] = {"59",        "1515",           "060", " 60", "60,,1514", "60,",
                                "1,2,3,4,5", "60,60,60,60,60", "",    NULL};
    for (int i = 0; bad_frames[i]; i++)
        if (bench(&o, err, "--frames", bad_frames[i], NULL) != -1)
            fail_msg("--frames '%s' accepted", bad_frames[i]);
    assert_int_equal(bench(&o, err, "--platform", "kvm", NULL), -1);
    assert_non_null(strstr(err, "one of vpio qemu all"));
    assert_int_equal(bench(&o, err, "--duration", "0.4", NULL), -1);
    assert_int_equal(bench(&o, err, "--duration", "601", NULL), -1);
    assert_int_equal(bench(&o, err, "--duration", "1e2", NULL), -1);
    assert_int_equal(bench(&o, err, "--bogus", NULL), -1);
    assert_int_equal(bench(&o, err, "stray", NULL), -1);
}

/* One port-name rule: the switch's, applied by pktgen -i, qemu-port -i and
 * --nic switch:... alike. */
static void one_port_name_check(void **state)
{
    const char *names[] = {"vale0:a",
                           "a:b",
                           "sw_1.x-y:p-2",
                           "0123456789012345678901234567890:p",
                           "01234567890123456789012345678901:p",
                           "a:0123456789012345678901234567890",
                           "a:b:c",
                           "a:",
                           ":b",
                           "a",
                           "",
                           "a:.",
                           "a:..",
                           "..:b",
                           "a b:c",
                           "a/b:c",
                           "a:b\n",
                           NULL};
    const int valid[] = {1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; names[i]; i++) {
        assert_int_equal(vpio_port_name_valid(names[i]), valid[i]);
        struct pktgen_opts o;
        struct qemu_port_opts q;
        struct net_nic_spec sp;
        char err[1024], spec[128];
        int rp = pktgen(&o, err, "-i", names[i], "-f", "tx", NULL);
        int rq = qport(&q, err, "-i", names[i], "-l", "127.0.0.1:5000", NULL);
        snprintf(spec, sizeof spec, "switch:%s", names[i]);
        int rn = net_nic_spec_parse(spec, &sp, err, sizeof err);
        if (rp != (valid[i] ? 0 : -1) || rq != rp || rn != rp)
            fail_msg("'%s': pktgen %d qemu-port %d --nic %d, want valid=%d", names[i], rp, rq, rn,
                     valid[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pktgen_numbers_are_strict),
        cmocka_unit_test(pktgen_macs),
        cmocka_unit_test(qemu_port_args),
        cmocka_unit_test(bench_args),
        cmocka_unit_test(one_port_name_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
