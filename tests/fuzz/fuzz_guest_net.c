/* libFuzzer target: arbitrary frames into the guest's network stack
 * (guest/net/, built for the host). The input is split into frames by a
 * 2-byte length prefix, so one run can first teach the ARP cache and then
 * hit the UDP and ICMP paths; a bound socket, a socket with a full queue
 * and a pending ARP entry make every path reachable. Replies the stack
 * sends go to a fake NIC that checks their length. */
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
    while (size >= 2) {
        size_t n = (size_t)(data[0] << 8 | data[1]);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        net_input(st, data, (unsigned)n);
        data += n;
        size -= n;
        fuzz_time += 300;
        net_poll(st);
        uint8_t buf[64];
        udp_recvfrom(st, s1, buf, sizeof(buf), NULL, NULL); /* s2 fills up */
        struct net_echo e;
        icmp_echo_recv(st, &e);
        udp_sendto(st, s1, 0xc6120001u, 7, buf, sizeof(buf));
    }
    return 0;
}
