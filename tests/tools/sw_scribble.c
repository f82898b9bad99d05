/* Test helper: a hostile peer. Attaches to switch SW's arena (no port) and,
 * for SECONDS, scribbles random values on port PORT's shared state: its RX
 * ring header and slots, its published and reserved indices, its lease
 * table, its RX lock (sometimes held "forever" by this live process), its
 * wake word, and the MAC table. Built
 * by tests/integration/switch_pktgen.sh with cc; not part of vpio.
 *   sw_scribble SW PORT SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "switch/sw_internal.h"

static uint32_t rnd(void)
{
    static uint64_t x = 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (uint32_t)x;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sw_scribble SW PORT SECONDS\n");
        return 2;
    }
    struct sw_arena a;
    int rc = sw_arena_open(&a, argv[1], 0);
    if (rc < 0) {
        fprintf(stderr, "sw_scribble: open %s: %d\n", argv[1], rc);
        return 1;
    }
    int id = -1;
    for (int i = 0; i < VPIO_SW_MAX_PORTS; i++)
        if (a.ports[i].state == SW_PORT_ACTIVE && !strcmp(a.ports[i].name, argv[2]))
            id = i;
    if (id < 0) {
        fprintf(stderr, "sw_scribble: no port %s\n", argv[2]);
        return 1;
    }
    struct vpio_sw_port *sp = &a.ports[id];
    struct vpio_ring *r = sw_ring(&a, (unsigned)id, 1);
    time_t end = time(NULL) + atoi(argv[3]);
    unsigned long n = 0;
    while (time(NULL) < end) {
        uint32_t v = rnd();
        switch (rnd() % 15) {
        case 0:
            sp->rx_hwtail = v;
            break;
        case 1:
            sp->rx_hwtail = v % VPIO_SW_RING_SLOTS;
            break;
        case 2:
            sp->rx_hwcur = v % (VPIO_SW_RING_SLOTS + 8);
            break;
        case 3:
            sp->rx_lock = (rnd() & 1) ? (uint32_t)getpid() : v;
            break;
        case 4:
            sp->rx_lock = 0;
            break;
        case 5:
            sp->rx_wake_seq = v;
            sp->rx_need_wake = v & 1;
            break;
        case 6:
            r->head = v % (VPIO_SW_RING_SLOTS * 2);
            break;
        case 7:
            r->tail = v;
            r->cur = rnd();
            break;
        case 8:
        case 9: {
            struct vpio_slot *s = &r->slot[v % VPIO_SW_RING_SLOTS];
            s->len = (uint16_t)rnd();
            s->flags = (uint16_t)rnd();
            s->buf_idx = rnd();
            break;
        }
        case 10: {
            struct vpio_sw_mac *m = &a.mac[v % VPIO_SW_MAC_ENTRIES];
            m->key = (uint64_t)rnd() << 32 | rnd();
            m->stamp_ms = rnd();
            break;
        }
        case 11: /* lease indices */
            if (v & 1)
                sp->rx_resv = rnd() % (VPIO_SW_RING_SLOTS + 4);
            else if (v & 2)
                sp->lease_first = rnd();
            else
                sp->lease_next = sp->lease_first + rnd() % (SW_LEASES + 4);
            break;
        case 12: { /* a lease entry: garbage, or a plausible pending one */
            struct vpio_sw_lease *l = &sp->lease[v % SW_LEASES];
            l->id = (rnd() & 1) ? sp->lease_first : rnd();
            l->owner = (rnd() & 1) ? (uint32_t)getpid() : rnd();
            l->start = (uint16_t)(rnd() % (VPIO_SW_RING_SLOTS + 2));
            l->end = (uint16_t)(rnd() % (VPIO_SW_RING_SLOTS + 2));
            l->done = (uint16_t)(rnd() & 1);
            l->nframes = (uint16_t)rnd();
            l->stamp_ms = (rnd() & 1) ? 0 : ~0ull;
            break;
        }
        case 13:
            sp->lease[v % SW_LEASES].done = 0;
            break;
        default:
            sp->rx_pkts = v;
            break;
        }
        n++;
        if ((n & 15) == 0)
            usleep(200);
    }
    sp->rx_lock = 0;
    printf("sw_scribble: %lu writes\n", n);
    return 0;
}
