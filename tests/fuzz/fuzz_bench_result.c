/* libFuzzer: what a (hostile) guest prints is parsed by vpio bench. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    struct bench_kv kv;
    if (bench_find_result(text, "RESULT ", NULL, &kv) == 0) {
        if (kv.count < 0 || kv.count > BENCH_KV_MAX)
            abort();
        bench_kv_num(&kv, "pps", 0);
    }
    struct bench_vm_stats st;
    bench_parse_vm_stats(text, &st);
    free(text);
    return 0;
}
