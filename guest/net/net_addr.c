/* IPv4 addresses as text, and the range the guest may use. */
#include "net.h"

bool net_parse_ip(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    if (!s)
        return false;
    for (int part = 0; part < 4; part++) {
        unsigned n = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            n = n * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || n > 255)
                return false;
        }
        if (!digits)
            return false;
        v = v << 8 | n;
        if (part < 3 && *s++ != '.')
            return false;
    }
    if (*s)
        return false;
    *ip = v;
    return true;
}

/* Writes digits of n (0..255) at p; returns the new end. */
static char *put_dec(char *p, unsigned n)
{
    if (n >= 100)
        *p++ = (char)('0' + n / 100);
    if (n >= 10)
        *p++ = (char)('0' + n / 10 % 10);
    *p++ = (char)('0' + n % 10);
    return p;
}

void net_format_ip(char buf[16], uint32_t ip)
{
    char *p = buf;
    for (int i = 3; i >= 0; i--) {
        p = put_dec(p, (ip >> (8 * i)) & 0xff);
        if (i)
            *p++ = '.';
    }
    *p = '\0';
}

/* 198.18.0.0/15 (RFC 2544, benchmarking): the only addresses the project
 * ever puts on a wire, so nothing can leak to a real network. */
bool net_ip_allowed(uint32_t ip)
{
    return (ip & 0xfffe0000u) == 0xc6120000u;
}
