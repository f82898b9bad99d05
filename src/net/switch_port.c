/* The switch-port backend (placeholder until written against include/vpio/switch.h). */
#include <stdio.h>

#include "net/backend.h"

struct net_backend *net_switch_open(const char *sw_port, char *err, size_t errlen)
{
    snprintf(err, errlen, "switch backend '%s': not available in this build", sw_port);
    return NULL;
}
