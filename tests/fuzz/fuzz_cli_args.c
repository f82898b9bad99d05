/* libFuzzer: `vpio pktgen`'s command line and its MAC parser (the other
 * host parsers have their own targets: fuzz_vm_args, fuzz_nic_spec,
 * fuzz_qemu_stream, fuzz_bench_result). The input is split at NUL bytes into
 * arguments; parsing must never crash, and accepted values must lie in their
 * documented ranges. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"
#include <unistd.h>

#include "cli/pktgen.h"
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
    uint8_t mac[6];
    pktgen_parse_mac(copy, mac);
    free(copy);
    return 0;
}
