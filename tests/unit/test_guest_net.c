/* The guest's network stack (guest/net/), built for the host: checksums,
 * Ethernet/ARP/IPv4/UDP/ICMP parsing and generation, every drop reason,
 * the socket API, and two stacks exchanging a UDP stream back to back.
 * The stack sources are included here so the Makefile needs no rule. */
#define VPIO_GUEST_HOST_TEST 1
#include "../../guest/net/net_addr.c"
#include "../../guest/net/net_arp.c"
#include "../../guest/net/net_csum.c"
#include "../../guest/net/net_eth.c"
#include "../../guest/net/net_icmp.c"
#include "../../guest/net/net_ipv4.c"
#include "../../guest/net/net_stack.c"
#include "../../guest/net/net_udp.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define IP_A 0xc6120001u /* 198.18.0.1 */
#define IP_B 0xc6120002u /* 198.18.0.2 */
static const uint8_t MAC_A[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t MAC_B[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* A NIC that keeps what the stack transmits. */
#define FAKE_FRAMES 64
struct fake_nic {
    struct netif nif;
    uint8_t frame[FAKE_FRAMES][ETH_FRAME_MAX];
    unsigned len[FAKE_FRAMES], flags[FAKE_FRAMES];
    unsigned head, n; /* queue of frames not yet taken */
    bool refuse;
};

static int fake_tx(struct netif *nif, const void *frame, unsigned len, unsigned flags)
{
    struct fake_nic *f = nif->drv;
    if (f->refuse || f->n == FAKE_FRAMES || len > ETH_FRAME_MAX)
        return -1;
    unsigned i = (f->head + f->n) % FAKE_FRAMES;
    memcpy(f->frame[i], frame, len);
    f->len[i] = len;
    f->flags[i] = flags;
    f->n++;
    return 0;
}

/* Takes the oldest transmitted frame; NULL if none. */
static const uint8_t *fake_take(struct fake_nic *f, unsigned *len, unsigned *flags)
{
    if (!f->n)
        return NULL;
    unsigned i = f->head;
    f->head = (f->head + 1) % FAKE_FRAMES;
    f->n--;
    *len = f->len[i];
    if (flags)
        *flags = f->flags[i];
    return f->frame[i];
}

static uint64_t fake_time;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_time;
}

struct host {
    struct fake_nic nic;
    struct net_stack *st;
};

static void host_init(struct host *h, const uint8_t mac[6], uint32_t ip)
{
    memset(&h->nic, 0, sizeof(h->nic));
    memcpy(h->nic.nif.mac, mac, 6);
    h->nic.nif.ip = ip;
    h->nic.nif.tx = fake_tx;
    h->nic.nif.drv = &h->nic;
    h->st = net_stack_new(&h->nic.nif, fake_clock, NULL);
    assert_non_null(h->st);
}

static int setup(void **state)
{
    struct host *h = calloc(2, sizeof(*h));
    fake_time = 1000000000ull;
    host_init(&h[0], MAC_A, IP_A);
    host_init(&h[1], MAC_B, IP_B);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct host *h = *state;
    net_stack_free(h[0].st);
    net_stack_free(h[1].st);
    free(h);
    return 0;
}

/* Checksum written the slow, obvious way, to check the stack's. */
static uint16_t ref_csum(const uint8_t *p, unsigned len, uint32_t sum)
{
    for (unsigned i = 0; i < len; i++)
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Frame builders for what a peer would send. */
static unsigned build_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
    return ETH_HLEN;
}

static unsigned build_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], uint32_t spa,
                          const uint8_t tha[6], uint32_t tpa, const uint8_t eth_dst[6])
{
    unsigned n = build_eth(f, eth_dst, sha, ETH_TYPE_ARP);
    uint8_t *a = f + n;
    net_put16(a, 1);
    net_put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    net_put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    net_put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    net_put32(a + 24, tpa);
    memset(a + 28, 0, 18); /* padding to 60 bytes */
    return 60;
}

/* IPv4 header (20 bytes, valid checksum) + payload copied after it. */
static unsigned build_ip(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto,
                         const uint8_t *payload, unsigned plen)
{
    unsigned n = build_eth(f, MAC_B, MAC_A, ETH_TYPE_IPV4);
    uint8_t *ip = f + n;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    net_put16(ip + 2, (uint16_t)(20 + plen));
    net_put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    net_put32(ip + 12, src);
    net_put32(ip + 16, dst);
    net_put16(ip + 10, ref_csum(ip, 20, 0));
    memcpy(ip + 20, payload, plen);
    return n + 20 + plen;
}

static uint32_t ref_pseudo(uint32_t src, uint32_t dst, unsigned ulen)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + ulen;
}

/* UDP datagram A -> B (to B's stack, MAC_B) with a correct checksum. */
static unsigned build_udp(uint8_t *f, uint16_t sport, uint16_t dport, const void *data,
                          unsigned len)
{
    uint8_t u[ETH_FRAME_MAX];
    net_put16(u, sport);
    net_put16(u + 2, dport);
    net_put16(u + 4, (uint16_t)(8 + len));
    net_put16(u + 6, 0);
    memcpy(u + 8, data, len);
    uint16_t c = ref_csum(u, 8 + len, ref_pseudo(IP_A, IP_B, 8 + len));
    net_put16(u + 6, c ? c : 0xffff);
    return build_ip(f, IP_A, IP_B, IPV4_PROTO_UDP, u, 8 + len);
}

static void fix_ip_csum(uint8_t *f)
{
    uint8_t *ip = f + ETH_HLEN;
    net_put16(ip + 10, 0);
    net_put16(ip + 10, ref_csum(ip, (ip[0] & 0xf) * 4u, 0));
}

/* Teaches B's ARP cache A's address (through a request A sends to B). */
static void b_learns_a(struct host *h)
{
    uint8_t f[64];
    unsigned n = build_arp(f, 1, MAC_A, IP_A, (const uint8_t[6]){0}, IP_B, BCAST);
    net_input(h[1].st, f, n);
    unsigned len;
    assert_non_null(fake_take(&h[1].nic, &len, NULL)); /* B's reply */
}

/* ---- checksum ---- */

static void csum_rfc1071_vectors(void **state)
{
    (void)state;
    /* RFC 1071 section 3 example: the sum is ddf2, the checksum 220d. */
    const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(net_csum_fold(net_csum_add(0, v, sizeof(v))), 0x220d);
    assert_int_equal(net_csum(v, sizeof(v)), 0x220d);
    /* Odd length: the last byte is padded with a zero. */
    assert_int_equal(net_csum(v, 3), (uint16_t) ~(0x0001 + 0xf200));
    /* Split at an even offset gives the same result. */
    assert_int_equal(net_csum_fold(net_csum_add(net_csum_add(0, v, 4), v + 4, 4)), 0x220d);
    /* A real IPv4 header: checksum b861, and a header with its checksum sums to 0. */
    uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    assert_int_equal(net_csum(h, sizeof(h)), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(net_csum(h, sizeof(h)), 0);
    /* Long random buffers agree with the reference (carries over 64 KiB). */
    static uint8_t big[70000];
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 2654435761u >> 13);
    for (unsigned len = 0; len < 200; len++)
        assert_int_equal(net_csum(big, len), ref_csum(big, len, 0));
    assert_int_equal(net_csum(big, sizeof(big)), ref_csum(big, sizeof(big), 0));
    /* Any start alignment, and pieces joined at even offsets. */
    for (unsigned off = 0; off < 8; off++)
        for (unsigned len = 0; len < 64; len++) {
            assert_int_equal(net_csum(big + off, len), ref_csum(big + off, len, 0));
            uint32_t part =
                net_csum_add(net_csum_add(0, big + off, len & ~1u), big + off + (len & ~1u), 1501);
            assert_int_equal(net_csum_fold(part), ref_csum(big + off, (len & ~1u) + 1501, 0));
        }
    /* A running sum near the top of 32 bits still folds right. */
    assert_int_equal(net_csum_fold(net_csum_add(0xfffffff0u, v, sizeof(v))),
                     ref_csum(v, sizeof(v), 0xfffffff0u % 0xffff));
    assert_int_equal(net_csum_fold(net_pseudo_sum(IP_A, IP_B, 17, 30)),
                     ref_csum(NULL, 0, ref_pseudo(IP_A, IP_B, 30)));
}

static void ip_text_and_range(void **state)
{
    (void)state;
    uint32_t ip;
    char buf[16];
    assert_true(net_parse_ip("198.18.0.1", &ip));
    assert_int_equal(ip, IP_A);
    net_format_ip(buf, ip);
    assert_string_equal(buf, "198.18.0.1");
    net_format_ip(buf, 0xc613ff0au);
    assert_string_equal(buf, "198.19.255.10");
    assert_false(net_parse_ip("198.18.0", &ip));
    assert_false(net_parse_ip("198.18.0.256", &ip));
    assert_false(net_parse_ip("198.18.0.1x", &ip));
    assert_false(net_parse_ip("1..2.3", &ip));
    assert_false(net_parse_ip("", &ip));
    assert_false(net_parse_ip("0198.18.0.1", &ip));
    assert_true(net_ip_allowed(0xc6120000u));
    assert_true(net_ip_allowed(0xc613ffffu));
    assert_false(net_ip_allowed(0xc6140001u));
    assert_false(net_ip_allowed(0xc0a80001u));
}

/* ---- Ethernet ---- */

static void eth_drops_counted(void **state)
{
    struct host *h = *state;
    struct net_stack *st = h[1].st;
    uint8_t f[64] = {0};
    net_input(st, f, 13);
    net_input(st, NULL, 0);
    assert_int_equal(st->c.eth_short, 2);
    build_eth(f, MAC_A, MAC_A, ETH_TYPE_IPV4); /* someone else's MAC */
    net_input(st, f, 60);
    assert_int_equal(st->c.eth_not_for_us, 1);
    f[0] = 0x01; /* multicast */
    net_input(st, f, 60);
    assert_int_equal(st->c.eth_not_for_us, 2);
    build_eth(f, MAC_B, MAC_A, ETH_TYPE_VLAN);
    net_input(st, f, 60);
    build_eth(f, BCAST, MAC_A, ETH_TYPE_QINQ);
    net_input(st, f, 60);
    assert_int_equal(st->c.eth_vlan, 2);
    build_eth(f, MAC_B, MAC_A, 0x86dd); /* IPv6 */
    net_input(st, f, 60);
    assert_int_equal(st->c.eth_unknown_type, 1);
    assert_int_equal(st->c.rx_frames, 7);
    assert_int_equal(net_drops_total(st), 7);
    assert_int_equal(h[1].nic.n, 0); /* nothing answered */
}

/* ---- ARP ---- */

static void arp_request_for_us_is_answered(void **state)
{
    struct host *h = *state;
    uint8_t f[64];
    unsigned n = build_arp(f, 1, MAC_A, IP_A, (const uint8_t[6]){0}, IP_B, BCAST);
    net_input(h[1].st, f, n);
    unsigned len;
    const uint8_t *r = fake_take(&h[1].nic, &len, NULL);
    assert_non_null(r);
    uint8_t want[60] = {0};
    build_arp(want, 2, MAC_B, IP_B, MAC_A, IP_A, MAC_A);
    assert_int_equal(len, 60);
    assert_memory_equal(r, want, 60);
    assert_int_equal(h[1].st->c.arp_request_rx, 1);
    assert_int_equal(h[1].st->c.arp_reply_tx, 1);
    /* The requester is now in the cache: resolving it sends nothing. */
    uint8_t mac[6];
    assert_int_equal(arp_resolve(h[1].st, IP_A, mac), 0);
    assert_memory_equal(mac, MAC_A, 6);
    assert_int_equal(h[1].nic.n, 0);
    /* A request for another address is not answered and not cached. */
    n = build_arp(f, 1, MAC_A, 0xc6120009u, (const uint8_t[6]){0}, 0xc6120003u, BCAST);
    net_input(h[1].st, f, n);
    assert_int_equal(h[1].nic.n, 0);
    assert_int_equal(h[1].st->c.arp_not_for_us, 1);
    assert_int_equal(arp_resolve(h[1].st, 0xc6120009u, mac), -NET_EAGAIN);
}

static void arp_resolution_queues_one_packet(void **state)
{
    struct host *h = *state;
    struct net_stack *a = h[0].st;
    int sd = udp_socket(a);
    assert_true(sd >= 0);
    assert_int_equal(udp_sendto(a, sd, IP_B, 9, "one", 3), 3);
    assert_int_equal(udp_sendto(a, sd, IP_B, 9, "two", 3), 3); /* replaces "one" */
    assert_int_equal(a->c.arp_request_tx, 1);
    assert_int_equal(a->c.arp_queued, 2);
    assert_int_equal(a->c.arp_queue_replaced, 1);
    unsigned len;
    const uint8_t *r = fake_take(&h[0].nic, &len, NULL);
    uint8_t want[60] = {0};
    build_arp(want, 1, MAC_A, IP_A, (const uint8_t[6]){0}, IP_B, BCAST);
    assert_memory_equal(r, want, 60);
    assert_null(fake_take(&h[0].nic, &len, NULL));
    /* B's reply releases the waiting datagram, addressed to B's MAC. */
    uint8_t f[64];
    unsigned n = build_arp(f, 2, MAC_B, IP_B, MAC_A, IP_A, MAC_A);
    net_input(a, f, n);
    assert_int_equal(a->c.arp_reply_rx, 1);
    r = fake_take(&h[0].nic, &len, NULL);
    assert_non_null(r);
    assert_memory_equal(r, MAC_B, 6);
    assert_int_equal(len, 60);
    assert_memory_equal(r + 42, "two", 3);
    /* Checksums of the released packet are right. */
    assert_int_equal(ref_csum(r + 14, 20, 0), 0);
    assert_int_equal(ref_csum(r + 34, 11, ref_pseudo(IP_A, IP_B, 11)), 0);
    /* From now on packets go straight out. */
    assert_int_equal(udp_sendto(a, sd, IP_B, 9, "three", 5), 5);
    assert_non_null(fake_take(&h[0].nic, &len, NULL));
    assert_int_equal(a->c.arp_request_tx, 1);
}

static void arp_cache_expiry_and_refresh(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    b->arp_ttl_ns = 1000000000ull; /* 1 s */
    b_learns_a(h);
    uint8_t mac[6];
    unsigned len;
    fake_time += 500000000ull; /* half its life: used, no traffic */
    assert_int_equal(arp_resolve(b, IP_A, mac), 0);
    assert_int_equal(h[1].nic.n, 0);
    fake_time += 300000000ull; /* last quarter: one unicast refresh, still used */
    assert_int_equal(arp_resolve(b, IP_A, mac), 0);
    assert_int_equal(arp_resolve(b, IP_A, mac), 0);
    assert_int_equal(b->c.arp_refresh, 1);
    const uint8_t *r = fake_take(&h[1].nic, &len, NULL);
    assert_non_null(r);
    assert_memory_equal(r, MAC_A, 6);
    assert_int_equal(net_get16(r + 20), 1); /* a request */
    assert_null(fake_take(&h[1].nic, &len, NULL));
    fake_time += 300000000ull; /* past expiry, no reply came: resolve again */
    assert_int_equal(arp_resolve(b, IP_A, mac), -NET_EAGAIN);
    assert_int_equal(b->c.arp_expired, 1);
    r = fake_take(&h[1].nic, &len, NULL);
    assert_non_null(r);
    assert_memory_equal(r, BCAST, 6);
    /* A reply makes it valid again with a fresh life. */
    uint8_t f[64];
    unsigned n = build_arp(f, 2, MAC_A, IP_A, MAC_B, IP_B, MAC_B);
    net_input(b, f, n);
    assert_int_equal(arp_resolve(b, IP_A, mac), 0);
}

static void arp_gives_up_after_retries(void **state)
{
    struct host *h = *state;
    struct net_stack *a = h[0].st;
    int sd = udp_socket(a);
    assert_int_equal(udp_sendto(a, sd, IP_B, 9, "x", 1), 1);
    for (int i = 0; i < 10; i++) {
        fake_time += NET_ARP_RETRY_NS;
        net_poll(a);
    }
    assert_int_equal(a->c.arp_request_tx, NET_ARP_RETRIES);
    assert_int_equal(a->c.arp_timeout, 1);
    assert_int_equal(a->c.arp_queue_dropped, 1);
    uint8_t mac[6];
    assert_int_equal(arp_resolve(a, IP_B, mac), -NET_EAGAIN); /* starts over */
}

static void arp_malformed_dropped(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    uint8_t f[64];
    unsigned n = build_arp(f, 1, MAC_A, IP_A, (const uint8_t[6]){0}, IP_B, BCAST);
    net_input(b, f, ETH_HLEN + 27);
    assert_int_equal(b->c.arp_short, 1);
    f[ETH_HLEN + 4] = 8; /* hardware length */
    net_input(b, f, n);
    assert_int_equal(b->c.arp_bad_format, 1);
    n = build_arp(f, 3, MAC_A, IP_A, (const uint8_t[6]){0}, IP_B, BCAST);
    net_input(b, f, n);
    assert_int_equal(b->c.arp_bad_op, 1);
    n = build_arp(f, 1, BCAST, IP_A, (const uint8_t[6]){0}, IP_B, BCAST);
    net_input(b, f, n);
    n = build_arp(f, 1, MAC_A, 0, (const uint8_t[6]){0}, IP_B, BCAST);
    net_input(b, f, n);
    n = build_arp(f, 1, MAC_A, IP_B, (const uint8_t[6]){0}, IP_B, BCAST); /* claims our IP */
    net_input(b, f, n);
    assert_int_equal(b->c.arp_bad_sender, 3);
    assert_int_equal(h[1].nic.n, 0);
    uint8_t mac[6];
    assert_int_equal(arp_resolve(b, IP_A, mac), -NET_EAGAIN); /* nothing cached */
}

/* ---- IPv4 ---- */

static void ipv4_malformed_each_dropped_and_counted(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    int sd = udp_socket(b);
    assert_int_equal(udp_bind(b, sd, 7000), 0);
    uint8_t f[ETH_FRAME_MAX], g[ETH_FRAME_MAX];
    unsigned n = build_udp(f, 5000, 7000, "payload!", 8);
    uint8_t *ip = g + ETH_HLEN;
    struct net_counters *c = &b->c;

    memcpy(g, f, n);
    net_input(b, g, ETH_HLEN + 19);
    assert_int_equal(c->ip_short, 1);

    memcpy(g, f, n);
    ip[0] = 0x65;
    fix_ip_csum(g);
    net_input(b, g, n);
    assert_int_equal(c->ip_bad_version, 1);

    memcpy(g, f, n);
    ip[0] = 0x44;
    net_input(b, g, n);
    assert_int_equal(c->ip_bad_ihl, 1);

    memcpy(g, f, n);
    ip[0] = 0x4f; /* 60-byte header in a 36-byte packet */
    net_input(b, g, n);
    assert_int_equal(c->ip_short, 2);

    memcpy(g, f, n);
    net_put16(ip + 2, (uint16_t)(n - ETH_HLEN + 1)); /* longer than the frame */
    fix_ip_csum(g);
    net_input(b, g, n);
    net_put16(ip + 2, 19); /* shorter than its header */
    fix_ip_csum(g);
    net_input(b, g, n);
    assert_int_equal(c->ip_bad_len, 2);

    memcpy(g, f, n);
    ip[10] ^= 0x01;
    net_input(b, g, n);
    assert_int_equal(c->ip_bad_csum, 1);

    memcpy(g, f, n);
    net_put16(ip + 6, 0x2000); /* more fragments */
    fix_ip_csum(g);
    net_input(b, g, n);
    net_put16(ip + 6, 0x0010); /* a later fragment */
    fix_ip_csum(g);
    net_input(b, g, n);
    assert_int_equal(c->ip_fragment, 2);

    memcpy(g, f, n);
    net_put32(ip + 16, 0xc6120003u);
    fix_ip_csum(g);
    net_input(b, g, n);
    assert_int_equal(c->ip_not_for_us, 1);

    memcpy(g, f, n);
    net_put32(ip + 12, 0xffffffffu);
    fix_ip_csum(g);
    net_input(b, g, n);
    net_put32(ip + 12, IP_B); /* from ourselves */
    fix_ip_csum(g);
    net_input(b, g, n);
    assert_int_equal(c->ip_bad_src, 2);

    memcpy(g, f, n);
    ip[9] = 6; /* TCP */
    fix_ip_csum(g);
    net_input(b, g, n);
    assert_int_equal(c->ip_unknown_proto, 1);

    assert_int_equal(c->udp_rx, 0);
    assert_int_equal(udp_pending(b, sd), 0);
    assert_int_equal(net_drops_total(b), 13);

    /* The original is fine, and so is it with Ethernet padding after it. */
    memcpy(g, f, n);
    memset(g + n, 0xee, 10);
    net_input(b, g, n + 10);
    assert_int_equal(udp_pending(b, sd), 1);
    char buf[32];
    assert_int_equal(udp_recvfrom(b, sd, buf, sizeof(buf), NULL, NULL), 8);
    assert_memory_equal(buf, "payload!", 8);
}

static void ipv4_options_skipped(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    int sd = udp_socket(b);
    assert_int_equal(udp_bind(b, sd, 7000), 0);
    uint8_t f[ETH_FRAME_MAX], g[ETH_FRAME_MAX];
    unsigned n = build_udp(f, 5000, 7000, "opt", 3);
    /* Insert 4 bytes of options (NOPs) after the 20-byte header. */
    memcpy(g, f, ETH_HLEN + 20);
    memset(g + ETH_HLEN + 20, 1, 4);
    memcpy(g + ETH_HLEN + 24, f + ETH_HLEN + 20, n - ETH_HLEN - 20);
    g[ETH_HLEN] = 0x46;
    net_put16(g + ETH_HLEN + 2, (uint16_t)(n - ETH_HLEN + 4));
    fix_ip_csum(g);
    net_input(b, g, n + 4);
    assert_int_equal(b->c.ip_options, 1);
    assert_int_equal(udp_pending(b, sd), 1);
}

/* ---- UDP ---- */

static void udp_send_frame_exact(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    b_learns_a(h);
    int sd = udp_socket(b);
    assert_int_equal(udp_bind(b, sd, 0x1234), 0);
    const char msg[] = "hello, vpio"; /* 11 bytes */
    assert_int_equal(udp_sendto(b, sd, IP_A, 0x5678, msg, 11), 11);
    unsigned len, flags;
    const uint8_t *r = fake_take(&h[1].nic, &len, &flags);
    assert_non_null(r);
    assert_int_equal(flags, 0);
    /* Built by hand: Ethernet, IPv4 (id 1, DF, TTL 64), UDP, payload, pad. */
    uint8_t want[60] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00,
                        0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x27, 0x00, 0x01, 0x40, 0x00,
                        0x40, 0x11, 0x00, 0x00, /* csum */
                        0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01, 0x12, 0x34, 0x56,
                        0x78, 0x00, 0x13, 0x00, 0x00, /* csum */
                        'h',  'e',  'l',  'l',  'o',  ',',  ' ',  'v',  'p',  'i',  'o'};
    uint16_t ipc = ref_csum(want + 14, 20, 0);
    want[24] = (uint8_t)(ipc >> 8);
    want[25] = (uint8_t)ipc;
    uint16_t uc = ref_csum(want + 34, 19, ref_pseudo(IP_B, IP_A, 19));
    want[40] = (uint8_t)(uc >> 8);
    want[41] = (uint8_t)uc;
    assert_int_equal(len, 60);
    assert_memory_equal(r, want, 60);
    /* A full-size datagram: 1514 bytes, and one more byte is refused. */
    static uint8_t big[UDP_MAX_PAYLOAD + 1];
    assert_int_equal(udp_sendto(b, sd, IP_A, 9, big, UDP_MAX_PAYLOAD), UDP_MAX_PAYLOAD);
    r = fake_take(&h[1].nic, &len, NULL);
    assert_int_equal(len, ETH_FRAME_MAX);
    assert_int_equal(net_get16(r + 16), 1500);
    assert_int_equal(net_get16(r + 18), 2); /* ids count up */
    assert_int_equal(udp_sendto(b, sd, IP_A, 9, big, UDP_MAX_PAYLOAD + 1), -NET_EMSGSIZE);
    assert_int_equal(b->c.udp_tx, 2);
    assert_int_equal(udp_sock_get(b, sd)->tx_pkts, 2);
}

static void udp_send_checksum_offload(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    b_learns_a(h);
    h[1].nic.nif.features = NETIF_F_TX_UDP_CSUM;
    int sd = udp_socket(b);
    assert_int_equal(udp_sendto(b, sd, IP_A, 9, "abcd", 4), 4);
    unsigned len, flags;
    uint8_t *r = (uint8_t *)fake_take(&h[1].nic, &len, &flags);
    assert_int_equal(flags, NETIF_TX_CSUM_UDP);
    assert_int_equal(b->c.udp_tx_offload, 1);
    /* The field holds the folded pseudo-header sum; finishing it the way
     * the NIC does gives the full checksum. */
    assert_int_equal(net_get16(r + 40), (uint16_t)~ref_csum(NULL, 0, ref_pseudo(IP_B, IP_A, 12)));
    uint16_t fin = ref_csum(r + 34, 12, 0);
    net_put16(r + 40, fin);
    assert_int_equal(ref_csum(r + 34, 12, ref_pseudo(IP_B, IP_A, 12)), 0);
}

static void udp_receive_to_bound_socket(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    int sd = udp_socket(b);
    assert_int_equal(udp_bind(b, sd, 7000), 0);
    char buf[64];
    assert_int_equal(udp_recvfrom(b, sd, buf, sizeof(buf), NULL, NULL), -NET_EAGAIN);
    uint8_t f[ETH_FRAME_MAX];
    unsigned n = build_udp(f, 5000, 7000, "first", 5);
    net_input(b, f, n);
    n = build_udp(f, 5001, 7000, "second!", 7);
    net_input(b, f, n);
    uint32_t ip;
    uint16_t port;
    assert_int_equal(udp_recvfrom(b, sd, buf, sizeof(buf), &ip, &port), 5);
    assert_memory_equal(buf, "first", 5);
    assert_int_equal(ip, IP_A);
    assert_int_equal(port, 5000);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(udp_recvfrom(b, sd, buf, 3, &ip, &port), 7); /* truncated copy */
    assert_string_equal(buf, "sec");
    assert_int_equal(port, 5001);
    assert_int_equal(udp_recvfrom(b, sd, buf, sizeof(buf), NULL, NULL), -NET_EAGAIN);
    assert_int_equal(b->c.udp_delivered, 2);
    /* Zero checksum: accepted and counted. */
    n = build_udp(f, 5000, 7000, "nocsum", 6);
    net_put16(f + 40, 0);
    net_input(b, f, n);
    assert_int_equal(b->c.udp_zero_csum, 1);
    assert_int_equal(udp_recvfrom(b, sd, buf, sizeof(buf), NULL, NULL), 6);
    /* Broadcast to our port is delivered too. */
    n = build_udp(f, 5000, 7000, "all", 3);
    net_put32(f + 30, IPV4_BROADCAST);
    fix_ip_csum(f);
    net_put16(f + 40, 0);
    net_input(b, f, n);
    assert_int_equal(udp_recvfrom(b, sd, buf, sizeof(buf), NULL, NULL), 3);
}

static void udp_drops_counted(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    int sd = udp_socket(b);
    assert_int_equal(udp_bind(b, sd, 7000), 0);
    uint8_t f[ETH_FRAME_MAX];
    unsigned n = build_udp(f, 5000, 7001, "x", 1); /* nobody on 7001 */
    net_input(b, f, n);
    assert_int_equal(b->c.udp_no_port, 1);
    n = build_udp(f, 5000, 7000, "abc", 3);
    f[43] ^= 0xff; /* payload byte: bad checksum */
    net_input(b, f, n);
    assert_int_equal(b->c.udp_bad_csum, 1);
    n = build_udp(f, 5000, 7000, "abc", 3);
    net_put16(f + 38, 12); /* UDP length past the IP payload */
    net_input(b, f, n);
    net_put16(f + 38, 7); /* shorter than the header */
    net_input(b, f, n);
    assert_int_equal(b->c.udp_bad_len, 2);
    /* IP payload shorter than a UDP header. */
    n = build_ip(f, IP_A, IP_B, IPV4_PROTO_UDP, (const uint8_t *)"1234567", 7);
    net_input(b, f, n);
    assert_int_equal(b->c.udp_short, 1);
    assert_int_equal(udp_pending(b, sd), 0);
    /* Queue overflow: the bound is kept and the excess counted. */
    for (int i = 0; i < NET_SOCK_QLEN + 5; i++) {
        n = build_udp(f, 5000, 7000, &i, sizeof(i));
        net_input(b, f, n);
    }
    assert_int_equal(udp_pending(b, sd), NET_SOCK_QLEN);
    assert_int_equal(b->c.udp_queue_full, 5);
    assert_int_equal(udp_sock_get(b, sd)->rx_drops, 5);
    int first;
    assert_int_equal(udp_recvfrom(b, sd, &first, sizeof(first), NULL, NULL), sizeof(first));
    assert_int_equal(first, 0);
}

static void socket_api_errors(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    int sd = udp_socket(b), sd2 = udp_socket(b);
    assert_int_equal(udp_bind(b, sd, 53), 0);
    assert_int_equal(udp_bind(b, sd, 54), -NET_EINVAL);
    assert_int_equal(udp_bind(b, sd2, 53), -NET_EADDRINUSE);
    assert_int_equal(udp_bind(b, 99, 1), -NET_EBADF);
    assert_int_equal(udp_bind(b, -1, 1), -NET_EBADF);
    assert_int_equal(udp_sendto(b, sd, 0, 9, "x", 1), -NET_EINVAL);
    assert_int_equal(udp_sendto(b, sd, IP_A, 0, "x", 1), -NET_EINVAL);
    assert_int_equal(udp_sendto(b, sd, IP_B, 9, "x", 1), -NET_EINVAL);        /* ourselves */
    assert_int_equal(udp_sendto(b, sd, 0xe0000001u, 9, "x", 1), -NET_EINVAL); /* multicast */
    assert_int_equal(udp_recvfrom(b, 7, NULL, 0, NULL, NULL), -NET_EBADF);
    /* An unbound socket gets an ephemeral port on its first send. */
    assert_int_equal(udp_sendto(b, sd2, IP_A, 9, "x", 1), 1);
    assert_int_equal(udp_sock_get(b, sd2)->port, NET_EPHEMERAL_FIRST);
    for (int i = 2; i < NET_MAX_SOCKETS; i++)
        assert_true(udp_socket(b) >= 0);
    assert_int_equal(udp_socket(b), -NET_EMFILE);
    assert_int_equal(udp_close(b, sd), 0);
    assert_int_equal(udp_close(b, sd), -NET_EBADF);
    assert_int_equal(udp_socket(b), sd);
    /* The NIC refusing a frame is an error to the sender, and counted. */
    b_learns_a(h);
    h[1].nic.refuse = true;
    assert_int_equal(udp_sendto(b, sd2, IP_A, 9, "x", 1), -NET_ENOBUFS);
    assert_int_equal(b->c.tx_nic_full, 1);
}

/* ---- ICMP ---- */

static void icmp_echo_request_answered(void **state)
{
    struct host *h = *state;
    struct net_stack *b = h[1].st;
    b_learns_a(h);
    uint8_t icmp[8 + 32];
    icmp[0] = 8;
    icmp[1] = 0;
    net_put16(icmp + 2, 0);
    net_put16(icmp + 4, 0xbeef);
    net_put16(icmp + 6, 7);
    for (int i = 0; i < 32; i++)
        icmp[8 + i] = (uint8_t)i;
    net_put16(icmp + 2, ref_csum(icmp, sizeof(icmp), 0));
    uint8_t f[ETH_FRAME_MAX];
    unsigned n = build_ip(f, IP_A, IP_B, IPV4_PROTO_ICMP, icmp, sizeof(icmp));
    net_input(b, f, n);
    unsigned len;
    const uint8_t *r = fake_take(&h[1].nic, &len, NULL);
    assert_non_null(r);
    assert_int_equal(len, 14 + 20 + 40);
    assert_memory_equal(r, MAC_A, 6);
    assert_int_equal(net_get32(r + 26), IP_B);
    assert_int_equal(net_get32(r + 30), IP_A);
    assert_int_equal(r[23], IPV4_PROTO_ICMP);
    assert_int_equal(ref_csum(r + 14, 20, 0), 0);
    assert_int_equal(r[34], 0); /* echo reply */
    assert_int_equal(net_get16(r + 38), 0xbeef);
    assert_int_equal(net_get16(r + 40), 7);
    assert_memory_equal(r + 42, icmp + 8, 32);
    assert_int_equal(ref_csum(r + 34, 40, 0), 0);
    assert_int_equal(b->c.icmp_echo_reply_tx, 1);
    /* Bad checksum, too short, other types: counted, not answered. */
    icmp[9] ^= 1;
    n = build_ip(f, IP_A, IP_B, IPV4_PROTO_ICMP, icmp, sizeof(icmp));
    net_input(b, f, n);
    assert_int_equal(b->c.icmp_bad_csum, 1);
    n = build_ip(f, IP_A, IP_B, IPV4_PROTO_ICMP, icmp, 7);
    net_input(b, f, n);
    assert_int_equal(b->c.icmp_short, 1);
    uint8_t unreach[8] = {3, 3, 0, 0, 0, 0, 0, 0};
    net_put16(unreach + 2, ref_csum(unreach, 8, 0));
    n = build_ip(f, IP_A, IP_B, IPV4_PROTO_ICMP, unreach, 8);
    net_input(b, f, n);
    assert_int_equal(b->c.icmp_other_type, 1);
    assert_int_equal(h[1].nic.n, 0);
}

/* ---- two stacks back to back ---- */

/* Moves frames between the two fake NICs until both are quiet. */
static unsigned pump(struct host *h)
{
    unsigned moved = 0, len;
    const uint8_t *f;
    for (;;) {
        bool any = false;
        for (int i = 0; i < 2; i++)
            while ((f = fake_take(&h[i].nic, &len, NULL)) != NULL) {
                net_input(h[1 - i].st, f, len);
                moved++;
                any = true;
            }
        if (!any)
            return moved;
    }
}

static void loopback_ping(void **state)
{
    struct host *h = *state;
    for (uint16_t seq = 0; seq < 5; seq++) {
        uint64_t stamp = fake_time;
        assert_int_equal(icmp_echo_send(h[0].st, IP_B, 42, seq, &stamp, sizeof(stamp)), 0);
        pump(h);
        fake_time += 1000;
        struct net_echo e;
        assert_int_equal(icmp_echo_recv(h[0].st, &e), 0);
        assert_int_equal(e.from, IP_B);
        assert_int_equal(e.id, 42);
        assert_int_equal(e.seq, seq);
        assert_int_equal(e.len, sizeof(stamp));
        assert_memory_equal(e.data, &stamp, sizeof(stamp));
        assert_int_equal(icmp_echo_recv(h[0].st, &e), -NET_EAGAIN);
    }
    assert_int_equal(h[1].st->c.icmp_echo_request_rx, 5);
    assert_int_equal(h[0].st->c.arp_request_tx, 1);
    assert_int_equal(net_drops_total(h[0].st), 0);
    assert_int_equal(net_drops_total(h[1].st), 0);
}

static void loopback_udp_stream_no_loss(void **state)
{
    struct host *h = *state;
    struct net_stack *a = h[0].st, *b = h[1].st;
    int sa = udp_socket(a), sb = udp_socket(b);
    assert_int_equal(udp_bind(b, sb, 9000), 0);
    a->arp_ttl_ns = 200000000ull; /* 200 ms: the stream outlives a few entry lives */
    uint8_t mac[6];
    assert_int_equal(arp_resolve(a, IP_B, mac), -NET_EAGAIN);
    pump(h);
    assert_int_equal(arp_resolve(a, IP_B, mac), 0);
    enum { N = 20000 };
    uint8_t out[UDP_MAX_PAYLOAD], in[UDP_MAX_PAYLOAD];
    uint32_t next = 0, sent = 0;
    uint64_t bytes = 0;
    while (sent < N) {
        for (int burst = 0; burst < 32 && sent < N; burst++, sent++) {
            unsigned len = 4 + sent * 7919 % (UDP_MAX_PAYLOAD - 3);
            memset(out, (int)sent, len);
            memcpy(out, &sent, 4);
            assert_int_equal(udp_sendto(a, sa, IP_B, 9000, out, len), (int)len);
        }
        pump(h);
        int r;
        uint16_t port;
        while ((r = udp_recvfrom(b, sb, in, sizeof(in), NULL, &port)) >= 0) {
            uint32_t seq;
            memcpy(&seq, in, 4);
            assert_int_equal(seq, next);
            assert_int_equal(r, 4 + next * 7919 % (UDP_MAX_PAYLOAD - 3));
            if (r > 4)
                assert_int_equal(in[r - 1], (uint8_t)next);
            assert_int_equal(port, udp_sock_get(a, sa)->port);
            bytes += (unsigned)r;
            next++;
        }
        fake_time += 1000000; /* 1 ms per burst: crosses the ARP refresh */
    }
    assert_int_equal(next, N);
    assert_int_equal(b->c.udp_delivered, N);
    assert_int_equal(udp_sock_get(b, sb)->rx_bytes, bytes);
    assert_int_equal(net_drops_total(a), 0);
    assert_int_equal(net_drops_total(b), 0);
    /* 625 ms of fake time: refreshed on the way, never expired mid-stream. */
    assert_true(a->c.arp_refresh >= 3);
    assert_int_equal(a->c.arp_expired, 0);
    net_print_counters(a);
    net_print_counters(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csum_rfc1071_vectors),
        cmocka_unit_test(ip_text_and_range),
        cmocka_unit_test_setup_teardown(eth_drops_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(arp_request_for_us_is_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(arp_resolution_queues_one_packet, setup, teardown),
        cmocka_unit_test_setup_teardown(arp_cache_expiry_and_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(arp_gives_up_after_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(arp_malformed_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(ipv4_malformed_each_dropped_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(ipv4_options_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_send_frame_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_send_checksum_offload, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_receive_to_bound_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_drops_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(socket_api_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(icmp_echo_request_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(loopback_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(loopback_udp_stream_no_loss, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
