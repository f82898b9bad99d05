/* The learning table: VPIO_SW_MAC_ENTRIES direct-mapped entries in the arena,
 * written lock-free by any sender (one 64-bit key word + one stamp word; a
 * torn pair can only misdirect or age one frame). Entries are validated on
 * every lookup: a key naming a port out of range, a free port, or an expired
 * stamp is a miss. */
#include <time.h>

#include "switch/sw_internal.h"
#include "vpio/clock.h"

uint64_t sw_clock_ms(void)
{
    return vpio_now_coarse_ns() / 1000000u;
}

uint64_t (*sw_now_ms)(void) = sw_clock_ms;

uint64_t sw_mac48(const uint8_t *m)
{
    return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
           (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | (uint64_t)m[5];
}

unsigned sw_mac_hash(uint64_t mac48)
{
    uint64_t h = mac48 * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (unsigned)(h >> 54) & (VPIO_SW_MAC_ENTRIES - 1); /* 1024 entries */
}

_Static_assert(VPIO_SW_MAC_ENTRIES == 1024, "sw_mac_hash assumes 1024 entries");

void sw_mac_learn(struct sw_arena *a, uint64_t mac48, unsigned port, uint64_t now_ms)
{
    if (port >= VPIO_SW_MAX_PORTS || (mac48 >> 40) & 1) /* multicast source: never learned */
        return;
    struct vpio_sw_mac *e = &a->mac[sw_mac_hash(mac48)];
    uint64_t key = mac48 | (uint64_t)(port + 1) << 48;
    /* Refresh at most every 1/4 of a second per entry: avoids bouncing the
     * cache line between senders on every frame. */
    if (__atomic_load_n(&e->key, __ATOMIC_RELAXED) == key &&
        now_ms - __atomic_load_n(&e->stamp_ms, __ATOMIC_RELAXED) < 250)
        return;
    __atomic_store_n(&e->stamp_ms, now_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&e->key, key, __ATOMIC_RELAXED);
}

int sw_mac_lookup(const struct sw_arena *a, uint64_t mac48, uint64_t now_ms)
{
    const struct vpio_sw_mac *e = &a->mac[sw_mac_hash(mac48)];
    uint64_t key = __atomic_load_n(&e->key, __ATOMIC_RELAXED);
    if ((key & 0xffffffffffffull) != mac48)
        return -1;
    uint64_t port = (key >> 48) - 1; /* key 0 -> huge */
    if (port >= VPIO_SW_MAX_PORTS)
        return -1;
    uint64_t stamp = __atomic_load_n(&e->stamp_ms, __ATOMIC_RELAXED);
    if (now_ms - stamp > a->age_ms && stamp - now_ms > 1000) /* aged (or far future) */
        return -1;
    if (__atomic_load_n(&a->ports[port].state, __ATOMIC_ACQUIRE) != SW_PORT_ACTIVE)
        return -1;
    return (int)port;
}

void sw_mac_forget_port(struct sw_arena *a, unsigned port)
{
    for (unsigned i = 0; i < VPIO_SW_MAC_ENTRIES; i++) {
        uint64_t key = __atomic_load_n(&a->mac[i].key, __ATOMIC_RELAXED);
        if (key && (key >> 48) - 1 == port)
            __atomic_store_n(&a->mac[i].key, 0, __ATOMIC_RELAXED);
    }
}

unsigned sw_mac_count(const struct sw_arena *a, uint64_t now_ms)
{
    unsigned n = 0;
    for (unsigned i = 0; i < VPIO_SW_MAC_ENTRIES; i++) {
        uint64_t key = __atomic_load_n(&a->mac[i].key, __ATOMIC_RELAXED);
        if (key && sw_mac_lookup(a, key & 0xffffffffffffull, now_ms) >= 0)
            n++;
    }
    return n;
}
