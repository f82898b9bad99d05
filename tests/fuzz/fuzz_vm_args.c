/* libFuzzer: `vpio vm` command lines. The input is split at NUL bytes into
 * arguments; parsing must never crash, whatever they are. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"

#include "cli/vm_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    char *argv[64];
    int argc = fuzz_split_args(copy, size, "vm", argv, 64);
    /* --help prints the help text to stdout: keep the fuzzer's output quiet. */
    static FILE *devnull;
    if (!devnull)
        devnull = freopen("/dev/null", "w", stdout);
    struct vm_args args;
    char err[256];
    if (vm_args_parse(argc, argv, &args, err, sizeof(err)) == 0 && !args.help) {
        if (!args.vm.kernel || args.vm.mem_size < VM_MIN_MEM || args.vm.mem_size > VM_MAX_MEM)
            abort();
    }
    uint64_t v;
    parse_size(copy, &v);
    double d;
    parse_seconds(copy, &d);
    free(copy);
    return 0;
}
