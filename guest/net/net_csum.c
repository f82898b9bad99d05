/* The Internet checksum (RFC 1071): one's complement sum of big-endian
 * 16-bit words, carried in 32 bits between pieces and folded at the end. */
#include "net.h"

/* The one's complement sum does not depend on byte order (RFC 1071, 2(B)):
 * sum native 64-bit loads as pairs of 32-bit halves, fold to 16 bits, and
 * swap to network order once at the end. About 8x faster than summing
 * bytes, which matters for 1472-byte datagrams. */
uint32_t net_csum_add(uint32_t sum, const void *data, unsigned len)
{
    const uint8_t *p = data;
    uint64_t s = 0; /* each step adds < 2^33: no overflow below 2^31 steps */
    while (len >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8); /* a plain load, also under -fno-builtin */
        s += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t w;
        __builtin_memcpy(&w, p, 2);
        s += w;
        p += 2;
        len -= 2;
    }
    if (len) { /* odd byte: padded with a zero, in network order */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        s += p[0];
#else
        s += (uint32_t)p[0] << 8;
#endif
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    s = ((s & 0xff) << 8) | (s >> 8);
#endif
    uint64_t t = (uint64_t)sum + s;
    return (uint32_t)((t & 0xffffffffu) + (t >> 32));
}

uint16_t net_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t net_csum(const void *data, unsigned len)
{
    return net_csum_fold(net_csum_add(0, data, len));
}

uint32_t net_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, unsigned len)
{
    uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}
