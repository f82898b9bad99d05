/* The table of NIC backends --nic knows, in the order its help lists them.
 *
 * Adding a backend: write src/net/<name>.c with its net_backend_ops and one
 * `const struct net_backend_type net_backend_<name>` (name, help, check,
 * open), then add its two lines below. Nothing else names a backend: the
 * --nic parser, its error messages and `vpio vm --help` read this table. */
#include "net/backend.h"

extern const struct net_backend_type net_backend_null;
extern const struct net_backend_type net_backend_pcap;
extern const struct net_backend_type net_backend_tap;
extern const struct net_backend_type net_backend_switch;

const struct net_backend_type *const net_backend_types[] = {
    &net_backend_null,
    &net_backend_pcap,
    &net_backend_tap,
    &net_backend_switch,
};

const size_t net_backend_type_count = sizeof(net_backend_types) / sizeof(net_backend_types[0]);
