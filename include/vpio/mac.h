/* The one parser of MAC addresses on the host side, for every layer (the
 * --nic parser in src/net, the option tables in src/cli). Syntax only:
 * six pairs of hex digits separated by ':' or '-' ("52:54:00:12:34:56",
 * "02-00-00-00-00-01"), nothing before or after. Callers that need a
 * unicast or non-zero address check that themselves (net_parse_mac). */
#ifndef VPIO_MAC_H
#define VPIO_MAC_H

#include <stdint.h>

static inline int vpio_mac_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 0 and mac filled, or -1 and mac untouched. */
static inline int vpio_mac_parse(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    if (!s)
        return -1;
    for (int i = 0; i < 6; i++) {
        int hi = vpio_mac_hex(s[0]), lo = hi < 0 ? -1 : vpio_mac_hex(s[1]);
        if (hi < 0 || lo < 0)
            return -1;
        m[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5) {
            if (*s != ':' && *s != '-')
                return -1;
            s++;
        }
    }
    if (*s)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = m[i];
    return 0;
}

#endif
