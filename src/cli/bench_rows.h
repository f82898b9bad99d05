/* The configurations `vpio bench` measures: the paper's table, row by row,
 * plus the QEMU peer rows. Each row runs one sender VM and one receiver VM. */
#ifndef VPIO_BENCH_ROWS_H
#define VPIO_BENCH_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bench_platform { BENCH_VPIO, BENCH_QEMU };
enum bench_api { BENCH_SOCKET, BENCH_RING };
/* What carries the frames between the two VMs (the "backend" in JSON). */
enum bench_link {
    BENCH_TAP,        /* tap + Linux bridge in a namespace */
    BENCH_SWITCH,     /* the vpio switch (QEMU's e1000 via `vpio qemu-port`) */
    BENCH_VHOST_VPIO, /* vhost-user ports of the vpio switch (`vpio vhost-user`) */
    BENCH_VHOST_DPDK, /* DPDK testpmd forwarding between two vhost-user ports */
    BENCH_VHOST_NET,  /* tap with the kernel's vhost-net data path */
};
enum bench_nic { BENCH_E1000, BENCH_VIRTIO };

struct bench_row {
    const char *config; /* "baseline", "+moderation", ... */
    enum bench_platform platform;
    enum bench_api api;
    enum bench_link link;
    const char *txmode; /* guest driver discipline: classic, sc, csb */
    bool mitigation;    /* interrupt moderation: the device emulates it (mitigation=on)
                           and the guest driver programs it (BENCH_MODERATION) */
    bool baseline;      /* the row ratios are taken against */
    enum bench_nic nic; /* the guest's NIC (QEMU rows: the device model) */
    /* Mixed rows: the receiver is a `vpio vm` guest with an e1000 on the
     * switch, driven with this discipline (NULL: both VMs alike). */
    const char *rx_txmode;
    bool rx_mitigation; /* that receiver's moderation (as `mitigation`) */
};

/* Per VM (0 = sender, 1 = receiver): which VMM runs it, its NIC, its
 * driver discipline and moderation; they differ only in mixed rows. */
enum bench_platform bench_vm_platform(const struct bench_row *row, int vm);
enum bench_nic bench_vm_nic(const struct bench_row *row, int vm);
const char *bench_vm_txmode(const struct bench_row *row, int vm);
bool bench_vm_mitigation(const struct bench_row *row, int vm);

extern const struct bench_row bench_rows[];
extern const size_t bench_row_count;

/* Descriptors per e1000 ring of the guests (their ring= option): a power of
 * two in [MIN, MAX]; -1 if not. Ring-API senders sync every ring/2 frames. */
#define BENCH_GUEST_RING_DEFAULT 4096
#define BENCH_GUEST_RING_MIN 256
#define BENCH_GUEST_RING_MAX 4096
bool bench_guest_ring_ok(uint64_t ring);
int bench_set_guest_ring(unsigned ring);
unsigned bench_guest_ring(void);

/* Guest command lines for a row: receiver and sender, frame bytes (without
 * FCS), run seconds. dst_mac is the receiver's MAC. Returns 0 or -1 (buffer
 * too small). */
int bench_guest_cmdline(const struct bench_row *row, bool sender, unsigned frame, double seconds,
                        const char *dst_mac, char *buf, size_t len);

/* Guest command lines of a request/response row (--latency): the client
 * (udp-rr, one datagram in flight) on the sender VM, the responder (echo)
 * on the receiver VM. */
int bench_guest_rr_cmdline(const struct bench_row *row, bool client, unsigned frame, double seconds,
                           char *buf, size_t len);

/* Why a row cannot run on this host ("not run: ..." note), or NULL.
 * have_vhost_net: /dev/vhost-net exists. */
const char *bench_row_unavailable(const struct bench_row *row, bool have_vhost_net);

const char *bench_platform_name(enum bench_platform p);
const char *bench_nic_name(enum bench_nic n);
const char *bench_backend_name(enum bench_link l);
const char *bench_api_name(enum bench_api a);

#endif
