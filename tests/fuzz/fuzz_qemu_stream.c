/* libFuzzer: the byte stream a (hostile) QEMU sends to vpio qemu-port. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/qemu_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t buf[QEMU_STREAM_MAX_FRAME + 4 + 64];
    struct qemu_stream_parser p;
    qemu_stream_init(&p, buf, sizeof(buf));
    size_t at = 0;
    while (at < size) {
        /* Feed in chunks whose size the input chooses. */
        size_t chunk = 1 + data[at] % 97;
        at++;
        if (chunk > size - at)
            chunk = size - at;
        if (chunk > qemu_stream_room(&p))
            chunk = qemu_stream_room(&p);
        memcpy(qemu_stream_space(&p), data + at, chunk);
        qemu_stream_added(&p, chunk);
        at += chunk;
        const uint8_t *frame;
        uint32_t len;
        int r;
        while ((r = qemu_stream_next(&p, &frame, &len)) == 1) {
            if (len < QEMU_STREAM_MIN_FRAME || len > QEMU_STREAM_MAX_FRAME)
                abort();
            volatile uint8_t sink = frame[len - 1];
            (void)sink;
        }
        if (r < 0)
            return 0;
        qemu_stream_compact(&p);
        if (chunk == 0)
            break;
    }
    return 0;
}
