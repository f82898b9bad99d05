/* The split-virtqueue walker against rings in fake guest memory: plain and
 * indirect chains, buffers crossing regions, and every hostile case (bad
 * addresses, loops, nested/looping indirect tables, zero and 4 GiB lengths,
 * an avail index past the ring, heads outside the table), plus the
 * EVENT_IDX and NO_INTERRUPT/NO_NOTIFY suppression rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vhost/virtq.h"

#define QN 16
#define GPA0 0x100000ull
#define UVA0 0x7f0000000000ull
#define MEMSZ 0x10000

static _Alignas(4096) uint8_t ram[MEMSZ], ram2[MEMSZ];
static struct vhost_mem mem;
static struct virtq q;
static struct virtq_desc *desc;
static struct virtq_avail *avail;
static struct virtq_used *used;

static int setup(void **state)
{
    memset(ram, 0, sizeof ram);
    memset(ram2, 0, sizeof ram2);
    memset(&mem, 0, sizeof mem);
    memset(&q, 0, sizeof q);
    /* region 0: gpa GPA0, rings at its start; region 1 right after it */
    vhost_mem_add_local(&mem, GPA0, UVA0, ram, MEMSZ);
    vhost_mem_add_local(&mem, GPA0 + MEMSZ, UVA0 + 0x100000, ram2, MEMSZ);
    desc = (void *)ram;
    avail = (void *)(ram + 0x1000);
    used = (void *)(ram + 0x2000);
    assert_int_equal(virtq_setup(&q, &mem, QN, UVA0, UVA0 + 0x1000, UVA0 + 0x2000, 0, true, true),
                     0);
    return 0;
}

static void make_avail(uint16_t head)
{
    avail->ring[avail->idx % QN] = head;
    avail->idx++;
}

static void setup_checks(void **state)
{
    struct virtq t;
    memset(&t, 0, sizeof t);
    assert_int_equal(virtq_setup(&t, &mem, 0, UVA0, UVA0 + 0x1000, UVA0 + 0x2000, 0, 0, 0), -22);
    assert_int_equal(virtq_setup(&t, &mem, 12, UVA0, UVA0 + 0x1000, UVA0 + 0x2000, 0, 0, 0), -22);
    assert_int_equal(virtq_setup(&t, &mem, 65536, UVA0, UVA0 + 0x1000, UVA0 + 0x2000, 0, 0, 0),
                     -22);
    /* rings outside memory, crossing the region's end, misaligned */
    assert_int_equal(virtq_setup(&t, &mem, QN, 0x1000, UVA0 + 0x1000, UVA0 + 0x2000, 0, 0, 0), -22);
    assert_int_equal(
        virtq_setup(&t, &mem, QN, UVA0 + MEMSZ - 64, UVA0 + 0x1000, UVA0 + 0x2000, 0, 0, 0), -22);
    assert_int_equal(virtq_setup(&t, &mem, QN, UVA0 + 8, UVA0 + 0x1000, UVA0 + 0x2000, 0, 0, 0),
                     -22);
    assert_int_equal(virtq_setup(&t, &mem, QN, UVA0, UVA0 + 0x1001, UVA0 + 0x2000, 0, 0, 0), -22);
    assert_int_equal(virtq_setup(&t, &mem, QN, UVA0, UVA0 + 0x1000, UVA0 + 0x2002, 0, 0, 0), -22);
}

static void plain_chain(void **state)
{
    struct iovec iov[8];
    unsigned n;
    uint64_t len;
    uint16_t head;
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_EMPTY);
    desc[3] = (struct virtq_desc){GPA0 + 0x4000, 12, VIRTQ_DESC_F_NEXT, 5};
    desc[5] = (struct virtq_desc){GPA0 + 0x5000, 0, VIRTQ_DESC_F_NEXT, 6}; /* zero: skipped */
    desc[6] = (struct virtq_desc){GPA0 + 0x6000, 100, 0, 0};
    make_avail(3);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_CHAIN);
    assert_int_equal(head, 3);
    assert_int_equal(n, 2);
    assert_int_equal(len, 112);
    assert_ptr_equal(iov[0].iov_base, ram + 0x4000);
    assert_ptr_equal(iov[1].iov_base, ram + 0x6000);
    /* direction: a TX (read) walk refuses a writable buffer */
    desc[7] = (struct virtq_desc){GPA0 + 0x4000, 64, VIRTQ_DESC_F_WRITE, 0};
    make_avail(7);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.dir, 1);
    /* a buffer crossing from region 0 into region 1: two iovecs */
    desc[8] = (struct virtq_desc){GPA0 + MEMSZ - 10, 30, VIRTQ_DESC_F_WRITE, 0};
    make_avail(8);
    assert_int_equal(virtq_pop(&q, &mem, true, iov, 8, &n, &len, &head), VIRTQ_CHAIN);
    assert_int_equal(n, 2);
    assert_ptr_equal(iov[0].iov_base, ram + MEMSZ - 10);
    assert_int_equal(iov[0].iov_len, 10);
    assert_ptr_equal(iov[1].iov_base, ram2);
    assert_int_equal(iov[1].iov_len, 20);
    /* used ring */
    virtq_push(&q, 3, 0);
    virtq_push(&q, 8, 30);
    avail->ring[QN] = 0; /* used_event: interrupt after entry 0 */
    assert_true(virtq_flush(&q));
    assert_int_equal(used->idx, 2);
    assert_int_equal(used->ring[1].id, 8);
    assert_int_equal(used->ring[1].len, 30);
}

static void hostile_chains(void **state)
{
    struct iovec iov[4];
    unsigned n;
    uint64_t len;
    uint16_t head;
    /* outside every region */
    desc[0] = (struct virtq_desc){0x10, 64, 0, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.addr, 1);
    /* running past the end of the last region */
    desc[0] = (struct virtq_desc){GPA0 + 2 * MEMSZ - 4, 64, 0, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.addr, 2);
    /* a 4 GiB - 1 length */
    desc[0] = (struct virtq_desc){GPA0 + 0x4000, 0xffffffffu, 0, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.len, 1);
    /* a loop: 1 -> 2 -> 1 */
    desc[1] = (struct virtq_desc){GPA0 + 0x4000, 1, VIRTQ_DESC_F_NEXT, 2};
    desc[2] = (struct virtq_desc){GPA0 + 0x4000, 1, VIRTQ_DESC_F_NEXT, 1};
    make_avail(1);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_true(q.err.loop == 1 || q.err.segs == 1);
    /* the same loop with zero lengths (no segments): found by the count */
    desc[1].len = desc[2].len = 0;
    make_avail(1);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_true(q.err.loop >= 1);
    /* next outside the table */
    desc[4] = (struct virtq_desc){GPA0 + 0x4000, 1, VIRTQ_DESC_F_NEXT, QN + 3};
    make_avail(4);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    /* too many segments for the caller */
    for (int i = 0; i < 6; i++)
        desc[i] = (struct virtq_desc){GPA0 + 0x4000, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1)};
    desc[5].flags = 0;
    make_avail(0);
    uint64_t segs = q.err.segs;
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.segs, segs + 1);
    assert_false(q.broken);
    /* a head outside the table breaks the queue */
    make_avail(QN);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BROKEN);
    assert_true(q.broken);
    assert_int_equal(q.err.head, 1);
    assert_int_equal(virtq_avail_count(&q), 0);
}

static void avail_jump(void **state)
{
    avail->idx = QN + 1; /* more than the ring holds */
    assert_int_equal(virtq_avail_count(&q), 0);
    assert_true(q.broken);
    assert_int_equal(q.err.avail_idx, 1);
    struct iovec iov[4];
    unsigned n;
    uint64_t len;
    uint16_t head;
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 4, &n, &len, &head), VIRTQ_BROKEN);
    /* at start-up, a base far behind resumes at the used index */
    setup(state);
    avail->idx = 1000;
    used->idx = 995;
    assert_int_equal(virtq_avail_count(&q), 5);
    assert_int_equal(q.err.resync, 1);
    assert_int_equal(q.last_avail, 995);
    assert_false(q.broken);
    /* ... but only at the first look */
    avail->idx = 1000 + QN + 1;
    assert_int_equal(virtq_avail_count(&q), 0);
    assert_true(q.broken);
    /* and not when the used index is off too */
    setup(state);
    avail->idx = 1000;
    used->idx = 0;
    assert_int_equal(virtq_avail_count(&q), 0);
    assert_true(q.broken);
    /* exactly num is fine */
    setup(state);
    avail->idx = QN;
    assert_int_equal(virtq_avail_count(&q), QN);
}

static void indirect_tables(void **state)
{
    struct iovec iov[8];
    unsigned n;
    uint64_t len;
    uint16_t head;
    struct virtq_desc *t = (void *)(ram + 0x3000);
    t[0] = (struct virtq_desc){GPA0 + 0x4000, 12, VIRTQ_DESC_F_NEXT, 1};
    t[1] = (struct virtq_desc){GPA0 + 0x5000, 60, 0, 0};
    desc[0] = (struct virtq_desc){GPA0 + 0x3000, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_CHAIN);
    assert_int_equal(len, 72);
    assert_int_equal(n, 2);
    /* nested indirect */
    t[1] = (struct virtq_desc){GPA0 + 0x3000, 32, VIRTQ_DESC_F_INDIRECT, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.indirect, 1);
    /* a loop inside the table */
    t[1] = (struct virtq_desc){GPA0 + 0x5000, 60, VIRTQ_DESC_F_NEXT, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_true(q.err.loop == 1 || q.err.segs == 1);
    /* bad table sizes and places */
    desc[0].len = 17;
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    desc[0].len = 0;
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    desc[0] = (struct virtq_desc){GPA0 + MEMSZ - 16, 32, VIRTQ_DESC_F_INDIRECT, 0}; /* crosses */
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_int_equal(q.err.indirect, 4);
    /* not negotiated */
    q.indirect = false;
    desc[0] = (struct virtq_desc){GPA0 + 0x3000, 32, VIRTQ_DESC_F_INDIRECT, 0};
    make_avail(0);
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 8, &n, &len, &head), VIRTQ_BAD_CHAIN);
    assert_false(q.broken);
}

static void notification_suppression(void **state)
{
    /* EVENT_IDX: interrupt only when used idx passes used_event */
    desc[0] = (struct virtq_desc){GPA0 + 0x4000, 64, 0, 0};
    avail->ring[QN] = 5; /* interrupt me when entry 5 is used */
    for (int i = 0; i < 5; i++) {
        virtq_push(&q, 0, 0);
        assert_false(virtq_flush(&q));
    }
    virtq_push(&q, 0, 0);
    assert_true(virtq_flush(&q)); /* used idx 5 -> 6 passes event 5 */
    virtq_push(&q, 0, 0);
    assert_false(virtq_flush(&q));
    assert_false(virtq_flush(&q)); /* nothing new */
    /* kick requests: avail_event = what we have taken */
    q.last_avail = 7;
    virtq_set_kicks(&q, true);
    uint16_t ev;
    memcpy(&ev, &used->ring[QN], 2);
    assert_int_equal(ev, 7);
    /* without EVENT_IDX: NO_INTERRUPT and NO_NOTIFY flags */
    q.event_idx = false;
    avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    virtq_push(&q, 0, 0);
    assert_false(virtq_flush(&q));
    avail->flags = 0;
    virtq_push(&q, 0, 0);
    assert_true(virtq_flush(&q));
    virtq_set_kicks(&q, false);
    assert_int_equal(used->flags, VIRTQ_USED_F_NO_NOTIFY);
    virtq_set_kicks(&q, true);
    assert_int_equal(used->flags, 0);
    /* recheck sees chains made available after the request */
    q.last_avail = avail->idx;
    assert_false(virtq_recheck(&q));
    make_avail(0);
    assert_true(virtq_recheck(&q));
    /* unpop gives chains back */
    struct iovec iov[2];
    unsigned n;
    uint64_t len;
    uint16_t head;
    assert_int_equal(virtq_pop(&q, &mem, false, iov, 2, &n, &len, &head), VIRTQ_CHAIN);
    assert_int_equal(virtq_avail_count(&q), 0);
    virtq_unpop(&q, 1);
    assert_int_equal(virtq_avail_count(&q), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(setup_checks, setup),
        cmocka_unit_test_setup(plain_chain, setup),
        cmocka_unit_test_setup(hostile_chains, setup),
        cmocka_unit_test_setup(avail_jump, setup),
        cmocka_unit_test_setup(indirect_tables, setup),
        cmocka_unit_test_setup(notification_suppression, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
