/* The Internet checksum (RFC 1071): one's complement sum of big-endian
 * 16-bit words. The sum is carried in 32 bits and folded at the end; a
 * 32-bit accumulator cannot overflow for anything under 128 KiB, far more
 * than one frame, and callers fold between pieces anyway. */
#include "net.h"

uint32_t net_csum_add(uint32_t sum, const void *data, unsigned len)
{
    const uint8_t *p = data;
    uint64_t s = sum; /* 64 bits: no carry is lost however long the buffer */
    while (len >= 8) {
        s += (uint32_t)(p[0] << 8 | p[1]) + (uint32_t)(p[2] << 8 | p[3]) +
             (uint32_t)(p[4] << 8 | p[5]) + (uint32_t)(p[6] << 8 | p[7]);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        s += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        s += (uint32_t)p[0] << 8; /* odd byte: padded with a zero */
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
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
