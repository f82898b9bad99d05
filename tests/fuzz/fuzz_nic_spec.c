/* libFuzzer target for the --nic specification parser (pure: no backend is opened). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/e1000_opts.h"
#include "net/backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    struct net_nic_spec spec;
    char err[128];
    if (net_nic_spec_parse(s, &spec, err, sizeof(err)) == 0) {
        if (strnlen(spec.dev_opts, sizeof(spec.dev_opts)) == sizeof(spec.dev_opts))
            abort();
        struct e1000_nic_opts opts;
        if (e1000_nic_opts_parse(spec.dev_opts, &opts, err, sizeof(err)) == 0 &&
            opts.csb_poll_us > 1000000)
            abort();
        if (strnlen(spec.arg, sizeof(spec.arg)) == sizeof(spec.arg))
            abort();
        if (spec.has_mac && (spec.mac[0] & 1))
            abort();
        if (!spec.type || (!spec.type->takes_arg && spec.arg[0]) ||
            (spec.type->takes_arg && !spec.arg[0]))
            abort();
    } else if (strnlen(err, sizeof(err)) == sizeof(err)) {
        abort();
    }
    uint8_t mac[6];
    net_parse_mac(s, mac);
    free(s);
    return 0;
}
