/* libFuzzer target: arbitrary frames into the guest's network stack
 * (guest/net/, built for the host). The input is a sequence of records, a
 * 2-byte big-endian word then the frame: the low 12 bits of the word are the
 * frame's length, the high 4 bits say what the target does with it:
 *   0x8000  leave the IPv4 / UDP / ICMP checksums as they are (by default
 *           the target fixes them up, so the fuzzer gets past the checksum
 *           checks to what lies behind them: UDP lengths, the socket queue,
 *           IP options and sources, short ICMP);
 *   0x4000  then let 600 ms pass (ARP retries, then their timeout);
 *   0x2000  then the application sends to four new destinations and to
 *           the broadcast address (pending ARP entries pile up until the
 *           cache is full, then packets to new hosts are dropped);
 *   0x1000  deliver the frame NET_SOCK_QLEN + 1 times (a socket queue that
 *           nobody reads fills up).
 * A bound socket, a socket with a full queue and a pending ARP entry make
 * every path reachable. Replies the stack sends go to a fake NIC that
 * checks their length. */
#include <stdlib.h>
#include <string.h>

#define VPIO_GUEST_HOST_TEST 1
#include "../../guest/net/net_addr.c"
#include "../../guest/net/net_arp.c"
#include "../../guest/net/net_csum.c"
#include "../../guest/net/net_eth.c"
#include "../../guest/net/net_icmp.c"
#include "../../guest/net/net_ipv4.c"
#include "../../guest/net/net_stack.c"
#include "../../guest/net/net_udp.c"

static uint64_t fuzz_time;
static uint64_t fuzz_clock(void *ctx)
{
    (void)ctx;
    return fuzz_time;
}

static int fuzz_tx(struct netif *nif, const void *frame, unsigned len, unsigned flags)
{
    (void)nif;
    (void)flags;
    if (len < ETH_ZLEN || len > ETH_FRAME_MAX)
        __builtin_trap(); /* the stack built an impossible frame */
    volatile uint8_t sink = ((const uint8_t *)frame)[len - 1];
    (void)sink;
    return 0;
}

#define REC_RAW_CSUM 0x8000u
#define REC_TIME_JUMP 0x4000u
#define REC_NEW_DEST 0x2000u
#define REC_REPEAT 0x1000u
#define REC_LEN_MASK 0x0fffu

/* Recompute the checksums of an Ethernet + IPv4 frame in place, wherever
 * the header fields the stack trusts make them computable; a field that
 * says "no checksum" (UDP 0) stays so. */
static void fix_checksums(uint8_t *f, unsigned len)
{
    if (len < ETH_HLEN + IPV4_HLEN || net_get16(f + 12) != ETH_TYPE_IPV4)
        return;
    uint8_t *ip = f + ETH_HLEN;
    unsigned iplen = len - ETH_HLEN, hlen = (ip[0] & 0xfu) * 4u;
    if (hlen < IPV4_HLEN || hlen > iplen)
        return;
    net_put16(ip + 10, 0);
    net_put16(ip + 10, net_csum(ip, hlen));
    unsigned total = net_get16(ip + 2);
    if (total < hlen || total > iplen)
        return;
    uint8_t *l4 = ip + hlen;
    unsigned l4len = total - hlen;
    uint32_t src = net_get32(ip + 12), dst = net_get32(ip + 16);
    if (ip[9] == IPV4_PROTO_UDP && l4len >= UDP_HLEN) {
        unsigned ulen = net_get16(l4 + 4);
        if (ulen < UDP_HLEN || ulen > l4len || net_get16(l4 + 6) == 0)
            return;
        net_put16(l4 + 6, 0);
        uint16_t sum =
            net_csum_fold(net_csum_add(net_pseudo_sum(src, dst, IPV4_PROTO_UDP, ulen), l4, ulen));
        net_put16(l4 + 6, sum ? sum : 0xffff);
    } else if (ip[9] == IPV4_PROTO_ICMP && l4len >= 4) {
        net_put16(l4 + 2, 0);
        net_put16(l4 + 2, net_csum(l4, l4len));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct netif nif = {
        .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
        .ip = 0xc6120002u,
        .tx = fuzz_tx,
    };
    /* One stack for the whole run (allocating socket queues per input
     * would cost more than the parsing); reset what an input can change. */
    static struct net_stack *st;
    static int s1, s2;
    if (!st) {
        st = net_stack_new(&nif, fuzz_clock, NULL);
        if (!st)
            return 0;
        s1 = udp_socket(st);
        s2 = udp_socket(st);
        udp_bind(st, s1, 7);
        udp_bind(st, s2, 9);
    }
    st->arp_ttl_ns = 1000;
    arp_flush(st);
    while (udp_recvfrom(st, s2, NULL, 0, NULL, NULL) >= 0)
        ;
    st->echo_head = st->echo_tail;
    udp_sendto(st, s2, 0xc6120001u, 9, "x", 1); /* leaves a pending ARP entry */
    uint32_t next_dest = 0xc6130001u;           /* 198.19.0.1, ... */
    while (size >= 2) {
        unsigned word = (unsigned)(data[0] << 8 | data[1]);
        size_t n = word & REC_LEN_MASK;
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        /* a copy of exactly n bytes (fixed up): ASan still sees a read
         * past the frame's end */
        uint8_t *frame = malloc(n ? n : 1);
        if (!frame)
            return 0;
        memcpy(frame, data, n);
        if (!(word & REC_RAW_CSUM))
            fix_checksums(frame, (unsigned)n);
        unsigned times = word & REC_REPEAT ? NET_SOCK_QLEN + 1 : 1;
        for (unsigned k = 0; k < times; k++)
            net_input(st, frame, (unsigned)n);
        free(frame);
        data += n;
        size -= n;
        fuzz_time += word & REC_TIME_JUMP ? 600000000u : 300u;
        net_poll(st);
        uint8_t buf[64];
        udp_recvfrom(st, s1, buf, sizeof(buf), NULL, NULL); /* s2 fills up */
        struct net_echo e;
        icmp_echo_recv(st, &e);
        udp_sendto(st, s1, 0xc6120001u, 7, buf, sizeof(buf));
        if (word & REC_NEW_DEST) { /* four hosts never heard of, and a broadcast */
            for (int k = 0; k < 4; k++)
                udp_sendto(st, s1, next_dest++, 7, buf, 8);
            udp_sendto(st, s1, 0xffffffffu, 7, buf, 8);
        }
    }
    return 0;
}
