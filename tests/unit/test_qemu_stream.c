/* Framing of QEMU's stream netdev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/qemu_stream.h"

static void frames_split_anywhere(void **state)
{
    /* Three frames of 14, 60 and 1514 bytes, fed one byte at a time. */
    uint8_t wire[3 * 4 + 14 + 60 + 1514];
    size_t at = 0;
    const uint32_t lens[] = {14, 60, 1514};
    for (int f = 0; f < 3; f++) {
        qemu_stream_put_len(wire + at, lens[f]);
        memset(wire + at + 4, 'a' + f, lens[f]);
        at += 4 + lens[f];
    }
    uint8_t buf[4096];
    struct qemu_stream_parser p;
    qemu_stream_init(&p, buf, sizeof(buf));
    int got = 0;
    for (size_t i = 0; i < at; i++) {
        *qemu_stream_space(&p) = wire[i];
        qemu_stream_added(&p, 1);
        const uint8_t *frame;
        uint32_t len;
        int r;
        while ((r = qemu_stream_next(&p, &frame, &len)) == 1) {
            assert_int_equal(len, lens[got]);
            assert_int_equal(frame[0], 'a' + got);
            assert_int_equal(frame[len - 1], 'a' + got);
            got++;
        }
        assert_int_equal(r, 0);
        qemu_stream_compact(&p);
    }
    assert_int_equal(got, 3);
    assert_int_equal(p.end, 0);
}

static void bad_lengths_are_errors(void **state)
{
    uint8_t buf[64];
    struct qemu_stream_parser p;
    const uint32_t bad[] = {0, 13, QEMU_STREAM_MAX_FRAME + 1, 0xffffffffu};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        qemu_stream_init(&p, buf, sizeof(buf));
        qemu_stream_put_len(qemu_stream_space(&p), bad[i]);
        qemu_stream_added(&p, 4);
        const uint8_t *frame;
        uint32_t len;
        assert_int_equal(qemu_stream_next(&p, &frame, &len), -1);
    }
    /* Adding more than the room is clamped. */
    qemu_stream_init(&p, buf, sizeof(buf));
    qemu_stream_added(&p, 1000);
    assert_int_equal(qemu_stream_room(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_split_anywhere),
        cmocka_unit_test(bad_lengths_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
