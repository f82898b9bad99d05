/* I/O dispatch: port I/O and MMIO ranges claimed by devices.
 *
 * The vCPU loop never names a device: it hands each PIO or MMIO exit to
 * bus_access(), which finds the range that contains the address and calls the
 * owner's handler with the offset inside the range. An access no device
 * claims reads as all ones and is counted. */
#ifndef VPIO_BUS_H
#define VPIO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "devif/bus_region.h" /* bus_handler_fn */

struct bus_range {
    uint64_t base, len;
    bus_handler_fn handler;
    void *opaque;
    const char *name;
    uint64_t accesses; /* exits served, for --stats */
};

#define BUS_MAX_RANGES 32

struct bus {
    const char *name; /* "pio" or "mmio" */
    struct bus_range ranges[BUS_MAX_RANGES];
    int count;
    uint64_t unclaimed; /* accesses no device claimed */
};

/* Claims [base, base + len); fails (-1) on overlap, zero length or a full bus. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler_fn handler, void *opaque,
                 const char *name);
/* Moves the range that starts at old_base (a BAR the guest reprogrammed);
 * fails if it would overlap another range or wrap. */
int bus_remap(struct bus *bus, uint64_t old_base, uint64_t new_base);
/* Removes the range that starts at base (a BAR the guest disabled). */
int bus_unregister(struct bus *bus, uint64_t base);
/* Dispatches one access; returns false if no device claims addr. */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
