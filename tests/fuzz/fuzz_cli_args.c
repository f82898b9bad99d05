/* libFuzzer: the command lines of `vpio pktgen`, `vpio qemu-port` and
 * `vpio bench`, and the MAC parser (the other
 * host parsers have their own targets: fuzz_vm_args, fuzz_nic_spec,
 * fuzz_qemu_stream, fuzz_bench_result). The input is split at NUL bytes into
 * arguments; parsing must never crash, and accepted values must lie in their
 * documented ranges. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"
#include <unistd.h>

#include "cli/bench_opts.h"
#include "cli/opts.h"
#include "cli/pktgen.h"
#include "cli/qemu_port.h"
#include "vpio/switch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    char *argv[64];
    int argc = fuzz_split_args(copy, size, "pktgen", argv, 64);
    /* --help prints usage to stdout: keep the fuzzer's output quiet. */
    static FILE *devnull;
    if (!devnull)
        devnull = freopen("/dev/null", "w", stdout);
    struct pktgen_opts o;
    char err[256];
    if (pktgen_parse(argc, argv, &o, err, sizeof(err)) == 0) {
        if (!o.ifname || o.len < 14 || o.len > VPIO_SW_MAX_FRAME || o.batch < 1 ||
            o.batch >= VPIO_SW_RING_SLOTS)
            abort();
    }
    struct qemu_port_opts q;
    if (qemu_port_parse(argc, argv, &q, err, sizeof(err)) == 0) {
        if (!q.ifname || !q.listen_at || (ntohl(q.addr.sin_addr.s_addr) >> 24) != 127 ||
            q.seconds < 0)
            abort();
    }
    struct bench_opts b;
    if (bench_parse_opts(argc, argv, &b, err, sizeof(err)) == 0) {
        if (b.nframes < 1 || b.nframes > MAX_FRAMES || b.duration < 0.5 || b.duration > 600)
            abort();
        for (int i = 0; i < b.nframes; i++)
            if (b.frames[i] < 60 || b.frames[i] > 1514)
                abort();
    }
    uint8_t mac[6];
    opts_parse_mac(copy, mac);
    free(copy);
    return 0;
}
