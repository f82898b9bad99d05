/* isa-debug-exit, as in QEMU: the guest writes a value v to the port and the
 * VM ends with exit status (v << 1) | 1. vpio's own exit statuses are even
 * (see vm.h), so a status tells at once who ended the VM. */
#ifndef VPIO_DEBUG_EXIT_H
#define VPIO_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_SIZE 4

struct debug_exit {
    bool requested;
    uint32_t value; /* what the guest wrote */
};

void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
/* The process exit status for a requested exit. */
int debug_exit_status(const struct debug_exit *d);

#endif
