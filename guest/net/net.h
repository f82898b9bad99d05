/* A small IPv4 stack for the guest: Ethernet, ARP, IPv4, UDP, ICMP echo,
 * and a socket-style UDP API (per packet, copying, non-blocking).
 *
 * One struct net_stack per interface. Nothing here blocks or sleeps: the
 * application polls its driver (which calls net_input for each frame),
 * calls net_poll now and then for ARP timers, and uses the socket calls.
 * Every received length is checked before use; a frame the stack cannot
 * use is dropped and counted under the reason (struct net_counters).
 *
 * Addresses are host byte order uint32_t (198.18.0.1 == 0xc6120001);
 * ports are host byte order uint16_t. */
#ifndef GUEST_NET_NET_H
#define GUEST_NET_NET_H
#include "net_port.h"
#include "netif.h"

/* Errors, returned negated. Values as Linux's errno so they read familiar. */
#define NET_EAGAIN 11     /* nothing queued (recv) or ARP not resolved yet */
#define NET_EBADF 9       /* not a socket of this stack */
#define NET_ENOMEM 12     /* no memory for a socket queue */
#define NET_EINVAL 22     /* bad argument */
#define NET_EMFILE 24     /* socket table full */
#define NET_EMSGSIZE 90   /* datagram larger than one unfragmented packet */
#define NET_EADDRINUSE 98 /* port already bound */
#define NET_ENOBUFS 105   /* the NIC refused the frame */

#define ETH_HLEN 14
#define ETH_ZLEN 60 /* minimum frame without FCS: shorter ones are padded */
#define ETH_FRAME_MAX 1514
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_QINQ 0x88a8
#define IPV4_HLEN 20
#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_UDP 17
#define IPV4_BROADCAST 0xffffffffu
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define NET_MTU 1500
#define UDP_MAX_PAYLOAD (NET_MTU - IPV4_HLEN - UDP_HLEN) /* 1472 */

#define NET_MAX_SOCKETS 8
#define NET_SOCK_QLEN 128 /* datagrams per socket receive queue */
#define NET_ARP_ENTRIES 16
#define NET_ECHO_QLEN 32 /* echo replies waiting for the ping app */
#define NET_ECHO_DATA 64 /* bytes of each echo reply kept for it */
#define NET_EPHEMERAL_FIRST 49152

#define NET_ARP_TTL_NS (60ull * 1000000000ull) /* cache entry life */
#define NET_ARP_RETRY_NS (500ull * 1000000ull) /* request again after */
#define NET_ARP_RETRIES 4                      /* then give up */

/* Every counter of the stack: one list, so the struct and the printer
 * cannot disagree. Drops are named after their reason. */
/* clang-format off */
#define NET_COUNTERS(X)                                                                     \
    X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(tx_nic_full)                        \
    X(eth_short) X(eth_not_for_us) X(eth_vlan) X(eth_unknown_type)                          \
    X(arp_rx) X(arp_short) X(arp_bad_format) X(arp_bad_op) X(arp_bad_sender)                \
    X(arp_not_for_us) X(arp_request_rx) X(arp_reply_rx) X(arp_request_tx) X(arp_reply_tx)   \
    X(arp_cache_full) X(arp_expired) X(arp_refresh) X(arp_timeout) X(arp_queued)            \
    X(arp_queue_replaced) X(arp_queue_dropped)                                              \
    X(ip_rx) X(ip_short) X(ip_bad_version) X(ip_bad_ihl) X(ip_bad_len) X(ip_bad_csum)      \
    X(ip_fragment) X(ip_options) X(ip_not_for_us) X(ip_bad_src) X(ip_unknown_proto)        \
    X(ip_tx) X(ip_tx_too_big)                                                               \
    X(icmp_rx) X(icmp_short) X(icmp_bad_csum) X(icmp_other_type) X(icmp_echo_request_rx)   \
    X(icmp_echo_reply_tx) X(icmp_echo_request_tx) X(icmp_echo_reply_rx)                     \
    X(icmp_echo_queue_full)                                                                 \
    X(udp_rx) X(udp_short) X(udp_bad_len) X(udp_bad_csum) X(udp_zero_csum) X(udp_no_port)  \
    X(udp_queue_full) X(udp_delivered) X(udp_tx) X(udp_tx_offload)
/* clang-format on */

struct net_counters {
#define NET_X_FIELD(name) uint64_t name;
    NET_COUNTERS(NET_X_FIELD)
#undef NET_X_FIELD
};

struct net_dgram {
    uint32_t ip;
    uint16_t port, len;
    uint8_t data[UDP_MAX_PAYLOAD];
};

struct udp_sock {
    bool used;
    uint16_t port;       /* 0: not bound yet */
    uint32_t head, tail; /* free-running: tail - head datagrams queued */
    uint64_t rx_pkts, rx_bytes, rx_drops, tx_pkts, tx_bytes;
    struct net_dgram *q; /* NET_SOCK_QLEN entries */
};

enum arp_state { ARP_FREE = 0, ARP_PENDING, ARP_VALID };

struct arp_entry {
    uint8_t state;   /* enum arp_state */
    uint8_t retries; /* requests sent while pending */
    bool refreshing; /* a refresh request went out for a valid entry */
    uint32_t ip;
    uint8_t mac[6];
    uint64_t deadline_ns; /* VALID: expiry; PENDING: next request */
    uint16_t qlen;        /* PENDING: one IP packet waiting, 0 if none */
    uint8_t q[NET_MTU];
};

struct net_echo {
    uint32_t from;
    uint16_t id, seq, len; /* len: payload bytes received (data keeps up to NET_ECHO_DATA) */
    uint64_t rx_ns;
    uint8_t data[NET_ECHO_DATA];
};

struct net_stack {
    struct netif *nif;
    uint64_t (*clock_ns)(void *ctx); /* monotonic time in ns */
    void *clock_ctx;
    uint64_t arp_ttl_ns;
    uint16_t ip_id;
    uint16_t next_ephemeral;
    struct net_counters c;
    struct arp_entry arp[NET_ARP_ENTRIES];
    struct udp_sock socks[NET_MAX_SOCKETS];
    uint32_t echo_head, echo_tail;
    struct net_echo echo[NET_ECHO_QLEN];
    uint8_t tx[ETH_FRAME_MAX + 2]; /* the IPv4 frame being built */
    uint8_t ctl[ETH_ZLEN];         /* ARP frames: built while tx holds a packet */
};

/* Stack life. net_stack_new allocates (net_zalloc) and initialises. */
void net_stack_init(struct net_stack *st, struct netif *nif, uint64_t (*clock_ns)(void *),
                    void *clock_ctx);
struct net_stack *net_stack_new(struct netif *nif, uint64_t (*clock_ns)(void *), void *ctx);
void net_stack_free(struct net_stack *st);

/* Receive path: the driver hands every frame here (no FCS). */
void net_input(struct net_stack *st, const uint8_t *frame, unsigned len);
/* Timers: ARP retransmission and give-up. Call a few times per second. */
void net_poll(struct net_stack *st);

/* ARP: 0 and the MAC if `ip` is resolved; else starts resolution (one
 * request now, retries from net_poll) and returns -NET_EAGAIN. */
int arp_resolve(struct net_stack *st, uint32_t ip, uint8_t mac[6]);
void arp_flush(struct net_stack *st);

/* UDP sockets: descriptors are small integers. */
int udp_socket(struct net_stack *st);
int udp_bind(struct net_stack *st, int sd, uint16_t port);
int udp_close(struct net_stack *st, int sd);
/* Returns len, or a negative NET_E*. With the destination not yet resolved
 * the datagram waits in the ARP entry (one per destination; a newer one
 * replaces it and the older is counted) and len is returned. */
int udp_sendto(struct net_stack *st, int sd, uint32_t ip, uint16_t port, const void *buf,
               unsigned len);
/* Copies the oldest datagram (truncated to cap) and returns its full
 * length; -NET_EAGAIN if none. ip/port may be NULL. */
int udp_recvfrom(struct net_stack *st, int sd, void *buf, unsigned cap, uint32_t *ip,
                 uint16_t *port);
unsigned udp_pending(const struct net_stack *st, int sd);
const struct udp_sock *udp_sock_get(const struct net_stack *st, int sd);

/* ICMP echo: send a request; echo replies addressed to us are queued for
 * icmp_echo_recv (the stack answers requests to us by itself). */
int icmp_echo_send(struct net_stack *st, uint32_t ip, uint16_t id, uint16_t seq,
                   const void *payload, unsigned len);
int icmp_echo_recv(struct net_stack *st, struct net_echo *out); /* 0 or -NET_EAGAIN */

/* Checksums (RFC 1071). net_csum_add sums big-endian 16-bit words into a
 * running 32-bit sum (odd lengths only on the last piece); net_csum_fold
 * folds and complements into the value to store. */
uint32_t net_csum_add(uint32_t sum, const void *data, unsigned len);
uint16_t net_csum_fold(uint32_t sum);
uint16_t net_csum(const void *data, unsigned len);
uint32_t net_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, unsigned len);

/* Addresses: dotted quad parse and print ("198.18.0.1"), and the range the
 * guest may use (198.18.0.0/15). */
bool net_parse_ip(const char *s, uint32_t *ip);
void net_format_ip(char buf[16], uint32_t ip);
bool net_ip_allowed(uint32_t ip);

/* Counters: prints every non-zero one ("net: name=value ..."). */
void net_print_counters(const struct net_stack *st);
uint64_t net_drops_total(const struct net_stack *st);

/* Internal, between the stack's files. */
int eth_output(struct net_stack *st, uint8_t *frame, const uint8_t dst[6], uint16_t type,
               unsigned payload_len, unsigned flags);
int arp_output(struct net_stack *st, uint32_t dst, unsigned ip_len, unsigned flags);
void arp_input(struct net_stack *st, const uint8_t *p, unsigned len);
void ipv4_input(struct net_stack *st, const uint8_t *p, unsigned len);
int ipv4_output(struct net_stack *st, uint32_t dst, uint8_t proto, unsigned payload_len,
                unsigned flags);
void udp_input(struct net_stack *st, uint32_t src, uint32_t dst, const uint8_t *p, unsigned len);
void icmp_input(struct net_stack *st, uint32_t src, const uint8_t *p, unsigned len);
uint64_t net_now(struct net_stack *st);
/* Where the payload of an IPv4 packet built in st->tx goes. */
static inline uint8_t *net_tx_l4(struct net_stack *st)
{
    return st->tx + ETH_HLEN + IPV4_HLEN;
}
#endif
