#include "bench_rows.h"

#include <stdio.h>

/* Rows in the order of the paper's table: each adds one change to the row
 * above it. The QEMU rows are the peer, with the same guest and apps. */
const struct bench_row bench_rows[] = {
    {"baseline", BENCH_VPIO, BENCH_SOCKET, BENCH_TAP, "classic", false, true, .nic = BENCH_E1000},
    {"+moderation", BENCH_VPIO, BENCH_SOCKET, BENCH_TAP, "classic", true, false,
     .nic = BENCH_E1000},
    {"+send-combining", BENCH_VPIO, BENCH_SOCKET, BENCH_TAP, "sc", true, false, .nic = BENCH_E1000},
    {"+switch", BENCH_VPIO, BENCH_SOCKET, BENCH_SWITCH, "sc", true, false, .nic = BENCH_E1000},
    {"+csb", BENCH_VPIO, BENCH_SOCKET, BENCH_SWITCH, "csb", true, false, .nic = BENCH_E1000},
    {"ring+switch", BENCH_VPIO, BENCH_RING, BENCH_SWITCH, "sc", true, false, .nic = BENCH_E1000},
    {"ring+csb", BENCH_VPIO, BENCH_RING, BENCH_SWITCH, "csb", true, false, .nic = BENCH_E1000},
    /* Beyond the paper's chain: with ring/2 frames per ring sync a TDT write
     * is cheap, and NAPI already keeps a polling guest free of interrupts;
     * send combining (which needs TX interrupts) and moderation only add
     * waiting. The classic driver, no moderation. */
    {"ring+switch-classic", BENCH_VPIO, BENCH_RING, BENCH_SWITCH, "classic", false, false,
     .nic = BENCH_E1000},
    /* The CSB without interrupt moderation: the CSB already asks for an
     * interrupt only when the guest is about to sleep, so moderation can
     * only delay that wake-up (docs/results.md, issue 15). */
    {"+csb-nomod", BENCH_VPIO, BENCH_SOCKET, BENCH_SWITCH, "csb", false, false, .nic = BENCH_E1000},
    {"ring+csb-nomod", BENCH_VPIO, BENCH_RING, BENCH_SWITCH, "csb", false, false,
     .nic = BENCH_E1000},
    {"qemu", BENCH_QEMU, BENCH_SOCKET, BENCH_TAP, "classic", false, false, .nic = BENCH_E1000},
    {"qemu+moderation", BENCH_QEMU, BENCH_SOCKET, BENCH_TAP, "classic", true, false,
     .nic = BENCH_E1000},
    {"qemu-ring", BENCH_QEMU, BENCH_RING, BENCH_TAP, "sc", true, false, .nic = BENCH_E1000},
    {"qemu-ring-classic", BENCH_QEMU, BENCH_RING, BENCH_TAP, "classic", false, false,
     .nic = BENCH_E1000},
    /* QEMU's e1000 attached to the vpio switch through `vpio qemu-port`. */
    {"qemu+switch", BENCH_QEMU, BENCH_SOCKET, BENCH_SWITCH, "classic", true, false,
     .nic = BENCH_E1000},
    {"qemu-ring+switch", BENCH_QEMU, BENCH_RING, BENCH_SWITCH, "sc", true, false,
     .nic = BENCH_E1000},
    /* QEMU's virtio-net, the paravirtual peers (issue 13): the same guest
     * with nic=virtio. The e1000 moderation knobs do not apply. */
    {"qemu-virtio", BENCH_QEMU, BENCH_SOCKET, BENCH_TAP, "classic", false, false,
     .nic = BENCH_VIRTIO},
    {"qemu-virtio-ring", BENCH_QEMU, BENCH_RING, BENCH_TAP, "classic", false, false,
     .nic = BENCH_VIRTIO},
    {"qemu-virtio+vpio", BENCH_QEMU, BENCH_SOCKET, BENCH_VHOST_VPIO, "classic", false, false,
     .nic = BENCH_VIRTIO},
    {"qemu-virtio-ring+vpio", BENCH_QEMU, BENCH_RING, BENCH_VHOST_VPIO, "classic", false, false,
     .nic = BENCH_VIRTIO},
    {"qemu-virtio+dpdk", BENCH_QEMU, BENCH_SOCKET, BENCH_VHOST_DPDK, "classic", false, false,
     .nic = BENCH_VIRTIO},
    {"qemu-virtio-ring+dpdk", BENCH_QEMU, BENCH_RING, BENCH_VHOST_DPDK, "classic", false, false,
     .nic = BENCH_VIRTIO},
    /* A QEMU VM on a vhost-user port to a vpio VM on the same switch (issue
     * 12): QEMU's virtio-net sender, vpio's e1000 + CSB receiver. */
    {"qemu-virtio+vpio-to-vm", BENCH_QEMU, BENCH_SOCKET, BENCH_VHOST_VPIO, "classic", false, false,
     .nic = BENCH_VIRTIO, .rx_txmode = "csb", .rx_mitigation = true},
    {"qemu-virtio-ring+vpio-to-vm", BENCH_QEMU, BENCH_RING, BENCH_VHOST_VPIO, "classic", false,
     false, .nic = BENCH_VIRTIO, .rx_txmode = "csb", .rx_mitigation = true},
    {"qemu-virtio+vhost-net", BENCH_QEMU, BENCH_SOCKET, BENCH_VHOST_NET, "classic", false, false,
     .nic = BENCH_VIRTIO},
    {"qemu-virtio-ring+vhost-net", BENCH_QEMU, BENCH_RING, BENCH_VHOST_NET, "classic", false, false,
     .nic = BENCH_VIRTIO},
};
const size_t bench_row_count = sizeof(bench_rows) / sizeof(bench_rows[0]);

/* Moderation as Linux's e1000 driver programs it by default: ITR for at most
 * 20000 interrupts/s (InterruptThrottleRate), TIDV 8, TADV 32, RDTR 0,
 * RADV 8 (1.024 us units). */
#define BENCH_MODERATION " itr=195 tidv=8 tadv=32 rdtr=0 radv=8"
/* Descriptors per e1000 ring in the guests (guest ring=, both VMs, vpio and
 * QEMU alike; vpio bench --ring): deep rings, so that one TDT write sends and
 * one RDT write pulls up to ring-1 frames (docs/results.md, "Deeper rings").
 * Ring-API rows sync every ring/2 frames on an e1000; on virtio-net every
 * BENCH_VIRTIO_RING_BATCH (netmap pkt-gen's default burst is 512). */
static unsigned guest_ring = BENCH_GUEST_RING_DEFAULT;
#define BENCH_VIRTIO_RING_BATCH 512

bool bench_guest_ring_ok(uint64_t ring)
{
    return ring >= BENCH_GUEST_RING_MIN && ring <= BENCH_GUEST_RING_MAX && !(ring & (ring - 1));
}

int bench_set_guest_ring(unsigned ring)
{
    if (!bench_guest_ring_ok(ring))
        return -1;
    guest_ring = ring;
    return 0;
}

unsigned bench_guest_ring(void)
{
    return guest_ring;
}

/* Addresses from the benchmarking range 198.18.0.0/15; the sender is .1. */
#define SENDER_IP "198.18.0.1"
#define RECEIVER_IP "198.18.0.2"
#define UDP_PORT 9000
#define ETH_IP_UDP_HEADERS 42 /* 14 + 20 + 8 */

enum bench_platform bench_vm_platform(const struct bench_row *row, int vm)
{
    return vm == 1 && row->rx_txmode ? BENCH_VPIO : row->platform;
}

enum bench_nic bench_vm_nic(const struct bench_row *row, int vm)
{
    return vm == 1 && row->rx_txmode ? BENCH_E1000 : row->nic;
}

const char *bench_vm_txmode(const struct bench_row *row, int vm)
{
    return vm == 1 && row->rx_txmode ? row->rx_txmode : row->txmode;
}

bool bench_vm_mitigation(const struct bench_row *row, int vm)
{
    return vm == 1 && row->rx_txmode ? row->rx_mitigation : row->mitigation;
}

/* " txmode=... [moderation] nic=virtio|ring=N" of one VM, appended at buf + n. */
static int append_nic_args(const struct bench_row *row, int vm, char *buf, size_t len, int n)
{
    if (n < 0 || (size_t)n >= len)
        return -1;
    char nic[32];
    if (bench_vm_nic(row, vm) == BENCH_VIRTIO)
        snprintf(nic, sizeof(nic), " nic=virtio");
    else
        snprintf(nic, sizeof(nic), " ring=%u", guest_ring);
    return n + snprintf(buf + n, len - (size_t)n, " txmode=%s%s%s", bench_vm_txmode(row, vm),
                        bench_vm_mitigation(row, vm) ? BENCH_MODERATION : "", nic);
}

int bench_guest_cmdline(const struct bench_row *row, bool sender, unsigned frame, double seconds,
                        const char *dst_mac, char *buf, size_t len)
{
    int n;
    /* The receiver stops 1 s after the last frame (idle=, ms); timeout= is
     * its bound if nothing ever arrives (it includes the sender's boot). */
    double rx_seconds = seconds + 3;
    if (row->api == BENCH_SOCKET) {
        unsigned payload = frame > ETH_IP_UDP_HEADERS ? frame - ETH_IP_UDP_HEADERS : 0;
        if (sender)
            n = snprintf(buf, len,
                         "udp-send ip=" SENDER_IP " peer=" RECEIVER_IP
                         " port=%d len=%u duration=%g",
                         UDP_PORT, payload, seconds);
        else
            n = snprintf(buf, len, "udp-recv ip=" RECEIVER_IP " port=%d timeout=%g idle=1000",
                         UDP_PORT, rx_seconds + 30);
    } else {
        if (sender)
            n = snprintf(buf, len, "pktgen tx len=%u duration=%g batch=%u dst=%s", frame, seconds,
                         bench_vm_nic(row, 0) == BENCH_VIRTIO ? BENCH_VIRTIO_RING_BATCH
                                                              : guest_ring / 2,
                         dst_mac);
        else
            n = snprintf(buf, len, "pktgen rx timeout=%g idle=1000", rx_seconds + 30);
    }
    n = append_nic_args(row, sender ? 0 : 1, buf, len, n);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

#define RR_PORT 7 /* echo's port */

int bench_guest_rr_cmdline(const struct bench_row *row, bool client, unsigned frame, double seconds,
                           char *buf, size_t len)
{
    unsigned payload = frame > ETH_IP_UDP_HEADERS ? frame - ETH_IP_UDP_HEADERS : 0;
    int n;
    if (client)
        n = snprintf(buf, len,
                     "udp-rr ip=" SENDER_IP " peer=" RECEIVER_IP
                     " port=%d len=%u duration=%g inflight=1",
                     RR_PORT, payload < 16 ? 16 : payload, seconds);
    else /* ends 1.5 s after the client's last request */
        n = snprintf(buf, len, "echo ip=" RECEIVER_IP " port=%d duration=%g idle=1500", RR_PORT,
                     seconds + 33);
    n = append_nic_args(row, client ? 0 : 1, buf, len, n);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *bench_platform_name(enum bench_platform p)
{
    return p == BENCH_VPIO ? "vpio" : "qemu";
}

const char *bench_api_name(enum bench_api a)
{
    return a == BENCH_SOCKET ? "socket" : "ring";
}

const char *bench_row_unavailable(const struct bench_row *row, bool have_vhost_net)
{
    if (row->nic != BENCH_VIRTIO)
        return NULL;
    if (row->link == BENCH_VHOST_NET && !have_vhost_net)
        return "no /dev/vhost-net";
    return NULL;
}

const char *bench_nic_name(enum bench_nic n)
{
    return n == BENCH_VIRTIO ? "virtio-net" : "e1000";
}

const char *bench_backend_name(enum bench_link l)
{
    switch (l) {
    case BENCH_TAP:
        return "tap";
    case BENCH_SWITCH:
        return "vpio-switch";
    case BENCH_VHOST_VPIO:
        return "vhost-user-vpio";
    case BENCH_VHOST_DPDK:
        return "vhost-user-dpdk";
    case BENCH_VHOST_NET:
        return "vhost-net";
    }
    return "?";
}
