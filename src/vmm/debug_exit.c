#include "debug_exit.h"

#include <string.h>

void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
    struct debug_exit *d = opaque;
    if (!is_write) {
        memset(data, 0xff, len);
        return;
    }
    uint32_t v = 0;
    memcpy(&v, data, len > 4 ? 4 : len);
    d->value = v;
    d->requested = true;
}

int debug_exit_status(const struct debug_exit *d)
{
    /* Like QEMU: the status is truncated to 8 bits by exit(). */
    return (int)(((d->value << 1) | 1) & 0xff);
}
