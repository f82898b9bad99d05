/* I/O dispatch over claimed address ranges (see bus.h). A linear scan: a VM
 * has a handful of devices, and the hot device (the NIC) is registered first. */
#include "bus.h"

#include <string.h>

static bool overlaps(const struct bus_range *r, uint64_t base, uint64_t len)
{
    return base < r->base + r->len && r->base < base + len;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler_fn handler, void *opaque,
                 const char *name)
{
    if (len == 0 || base + len < base || bus->count >= BUS_MAX_RANGES || !handler)
        return -1;
    for (int i = 0; i < bus->count; i++)
        if (overlaps(&bus->ranges[i], base, len))
            return -1;
    bus->ranges[bus->count++] = (struct bus_range){
        .base = base, .len = len, .handler = handler, .opaque = opaque, .name = name};
    return 0;
}

static int find_range(const struct bus *bus, uint64_t base)
{
    for (int i = 0; i < bus->count; i++)
        if (bus->ranges[i].base == base)
            return i;
    return -1;
}

int bus_remap(struct bus *bus, uint64_t old_base, uint64_t new_base)
{
    int i = find_range(bus, old_base);
    if (i < 0)
        return -1;
    uint64_t len = bus->ranges[i].len;
    if (new_base + len < new_base)
        return -1;
    for (int j = 0; j < bus->count; j++)
        if (j != i && overlaps(&bus->ranges[j], new_base, len))
            return -1;
    bus->ranges[i].base = new_base;
    return 0;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
    int i = find_range(bus, base);
    if (i < 0)
        return -1;
    bus->ranges[i] = bus->ranges[--bus->count];
    return 0;
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
    for (int i = 0; i < bus->count; i++) {
        struct bus_range *r = &bus->ranges[i];
        if (addr - r->base < r->len) {
            r->accesses++;
            r->handler(r->opaque, addr - r->base, data, len, is_write);
            return true;
        }
    }
    bus->unclaimed++;
    if (!is_write)
        memset(data, 0xff, len);
    return false;
}
