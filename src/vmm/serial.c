/* 8250 UART, transmit side only (see serial.h). The transmitter is always
 * ready (LSR THRE|TEMT), so a guest never spins waiting for it. */
#include "serial.h"

#include <string.h>

#include "vpio/clock.h"

enum {
    REG_DATA = 0, /* THR/RBR, or DLL when LCR.DLAB */
    REG_IER = 1,  /* or DLM when LCR.DLAB */
    REG_IIR = 2,  /* read: interrupt identification; write: FCR */
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INT 0x01
#define MSR_DCD_DSR_CTS 0xb0

void serial_init(struct serial *s, FILE *out)
{
    memset(s, 0, sizeof(*s));
    s->out = out;
    s->at_line_start = 1;
}

static void transmit(struct serial *s, uint8_t c)
{
    if (s->bytes_out++ == 0)
        s->first_byte_ns = vpio_now_ns();
    fputc(c, s->out);
    if (c == '\n')
        fflush(s->out);
}

static uint8_t read_reg(struct serial *s, unsigned reg)
{
    bool dlab = s->lcr & LCR_DLAB;
    switch (reg) {
    case REG_DATA:
        return dlab ? s->dll : 0;
    case REG_IER:
        return dlab ? s->dlm : s->ier;
    case REG_IIR:
        return IIR_NO_INT;
    case REG_LCR:
        return s->lcr;
    case REG_MCR:
        return s->mcr;
    case REG_LSR:
        return LSR_THRE | LSR_TEMT;
    case REG_MSR:
        return MSR_DCD_DSR_CTS;
    default:
        return s->scratch;
    }
}

static void write_reg(struct serial *s, unsigned reg, uint8_t v)
{
    bool dlab = s->lcr & LCR_DLAB;
    switch (reg) {
    case REG_DATA:
        if (dlab)
            s->dll = v;
        else
            transmit(s, v);
        break;
    case REG_IER:
        if (dlab)
            s->dlm = v;
        else
            s->ier = v & 0x0f;
        break;
    case REG_LCR:
        s->lcr = v;
        break;
    case REG_MCR:
        s->mcr = v & 0x1f;
        break;
    case REG_SCR:
        s->scratch = v;
        break;
    default: /* FCR, LSR, MSR: nothing to do */
        break;
    }
}

void serial_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
    struct serial *s = opaque;
    /* A wider access touches consecutive registers, byte by byte. */
    for (uint32_t i = 0; i < len; i++) {
        unsigned reg = (unsigned)(offset + i) & 7;
        if (is_write)
            write_reg(s, reg, data[i]);
        else
            data[i] = read_reg(s, reg);
    }
}
