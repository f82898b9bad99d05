/* A device's side of an address range on a bus (a BAR, a fixed port): the
 * handler the VMM calls for every access the guest makes inside it. The bus
 * itself (who owns which range, dispatch) is the VMM's: src/vmm/bus.h. */
#ifndef VPIO_DEVIF_BUS_REGION_H
#define VPIO_DEVIF_BUS_REGION_H

#include <stdbool.h>
#include <stdint.h>

/* offset: from the start of the range. data: len bytes (1, 2, 4 or 8),
 * little-endian; on a read the handler fills it. Called from a vCPU thread. */
typedef void (*bus_handler_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
                               bool is_write);

#endif
