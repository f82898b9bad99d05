/* The switch's per-frame instruction cost, for callgrind (instruction
 * counts do not move with the load of this noisy host, wall time does).
 * One process, two ports of a private switch: port b sends one frame so
 * its MAC is learned, then port a sends COUNT 60-byte frames to b's MAC in
 * batches of BATCH through vpio_port_send_batch (what a device model's
 * transmit path calls), and b's RX ring is emptied after each batch.
 *   bench/switch_ir.sh [COUNT [BATCH]]   builds this and runs it under
 *   callgrind; prints instructions per frame in sw_forward and in all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpio/switch.h"

#define FRAME_LEN 60

static void fill(unsigned char *f, const unsigned char dst[6], const unsigned char src[6])
{
    memset(f, 0, FRAME_LEN);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88; /* local experimental ethertype 0x88b5 */
    f[13] = 0xb5;
}

int main(int argc, char **argv)
{
    unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
    unsigned batch = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 256;
    if (!count || !batch || batch > 256) {
        fprintf(stderr, "usage: %s [COUNT [BATCH 1..256]]\n", argv[0]);
        return 2;
    }
    char name_a[64], name_b[64];
    snprintf(name_a, sizeof name_a, "ir%d:a", (int)getpid());
    snprintf(name_b, sizeof name_b, "ir%d:b", (int)getpid());
    struct vpio_port *a, *b;
    if (vpio_port_open(&a, name_a, 0) < 0 || vpio_port_open(&b, name_b, 0) < 0) {
        fprintf(stderr, "switch_ir: cannot open the ports\n");
        return 1;
    }
    static const unsigned char mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
    static const unsigned char mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
    static const unsigned char bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static unsigned char frames[256][FRAME_LEN];
    struct vpio_pkt pkts[256];
    fill(frames[0], bcast, mac_b); /* b speaks once: its MAC is learned */
    pkts[0] = (struct vpio_pkt){.data = frames[0], .len = FRAME_LEN};
    vpio_port_send_batch(b, pkts, 1);
    for (unsigned i = 0; i < batch; i++) {
        fill(frames[i], mac_b, mac_a);
        pkts[i] = (struct vpio_pkt){.data = frames[i], .len = FRAME_LEN};
    }
    struct vpio_ring *r = vpio_port_rxring(b);
    unsigned long sent = 0, delivered = 0;
    while (sent < count) {
        unsigned n = count - sent < batch ? (unsigned)(count - sent) : batch;
        delivered += vpio_port_send_batch(a, pkts, n);
        sent += n;
        vpio_port_rxsync(b);
        r->head = r->cur = r->tail; /* consumed: released at the next rxsync */
        vpio_port_rxsync(b);
    }
    struct vpio_port_stats st;
    vpio_port_stats(b, &st);
    printf("RESULT app=switch_ir sent=%lu delivered=%lu b_rx=%llu b_rx_drops=%llu\n", sent,
           delivered, (unsigned long long)st.rx_pkts, (unsigned long long)st.rx_drops);
    char sw[64];
    snprintf(sw, sizeof sw, "ir%d", (int)getpid());
    vpio_port_close(a);
    vpio_port_close(b);
    vpio_switch_remove(sw, 1);
    return delivered == count ? 0 : 1;
}
