/* COM1: the part of an 8250/16550 UART a polling console driver uses.
 * Output goes to a FILE (stdout); there is no input. */
#ifndef VPIO_SERIAL_H
#define VPIO_SERIAL_H

#include <stdint.h>
#include <stdio.h>

#include "bus.h"

#define SERIAL_COM1_PORT 0x3F8

struct serial {
    FILE *out;
    uint8_t ier, lcr, mcr, scratch, dll, dlm;
    uint64_t bytes_out;
    uint64_t first_byte_ns; /* CLOCK_MONOTONIC time of the first byte, 0 = none yet */
    int at_line_start;
};

void serial_init(struct serial *s, FILE *out);
/* The bus handler for ports base..base+7. */
void serial_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
