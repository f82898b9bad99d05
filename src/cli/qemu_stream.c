#include "qemu_stream.h"

#include <string.h>

void qemu_stream_init(struct qemu_stream_parser *p, uint8_t *buf, size_t cap)
{
    p->buf = buf;
    p->cap = cap;
    p->start = p->end = 0;
}

uint8_t *qemu_stream_space(struct qemu_stream_parser *p)
{
    return p->buf + p->end;
}

size_t qemu_stream_room(const struct qemu_stream_parser *p)
{
    return p->cap - p->end;
}

void qemu_stream_added(struct qemu_stream_parser *p, size_t n)
{
    if (n > p->cap - p->end)
        n = p->cap - p->end;
    p->end += n;
}

int qemu_stream_next(struct qemu_stream_parser *p, const uint8_t **frame, uint32_t *len)
{
    size_t avail = p->end - p->start;
    if (avail < 4)
        return 0;
    const uint8_t *h = p->buf + p->start;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n < QEMU_STREAM_MIN_FRAME || n > QEMU_STREAM_MAX_FRAME)
        return -1;
    if (avail - 4 < n)
        return 0;
    *frame = h + 4;
    *len = n;
    p->start += 4 + (size_t)n;
    return 1;
}

void qemu_stream_compact(struct qemu_stream_parser *p)
{
    size_t left = p->end - p->start;
    if (p->start && left)
        memmove(p->buf, p->buf + p->start, left);
    p->start = 0;
    p->end = left;
}

void qemu_stream_put_len(uint8_t out[4], uint32_t len)
{
    out[0] = len >> 24;
    out[1] = (len >> 16) & 0xff;
    out[2] = (len >> 8) & 0xff;
    out[3] = len & 0xff;
}
