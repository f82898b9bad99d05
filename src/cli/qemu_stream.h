/* Framing of QEMU's socket/stream netdev: each frame is preceded by its
 * length, 32-bit big-endian. A pure parser over a byte buffer (unit tested
 * and fuzzed): bytes are appended at the end, frames taken from the start. */
#ifndef VPIO_QEMU_STREAM_H
#define VPIO_QEMU_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define QEMU_STREAM_MIN_FRAME 14u
#define QEMU_STREAM_MAX_FRAME 16384u /* the switch's largest frame */

struct qemu_stream_parser {
    uint8_t *buf;
    size_t cap, start, end; /* unparsed bytes are buf[start, end) */
};

void qemu_stream_init(struct qemu_stream_parser *p, uint8_t *buf, size_t cap);
uint8_t *qemu_stream_space(struct qemu_stream_parser *p); /* where to append */
size_t qemu_stream_room(const struct qemu_stream_parser *p);
void qemu_stream_added(struct qemu_stream_parser *p, size_t n); /* n <= room */
/* 1: a frame (pointer into the buffer, valid until compact); 0: need more
 * bytes; -1: a length outside [MIN, MAX] — the stream cannot be framed. */
int qemu_stream_next(struct qemu_stream_parser *p, const uint8_t **frame, uint32_t *len);
/* Moves the unparsed bytes to the front. */
void qemu_stream_compact(struct qemu_stream_parser *p);
void qemu_stream_put_len(uint8_t out[4], uint32_t len);

#endif
