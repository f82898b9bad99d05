/* libFuzzer: what a hostile vhost-user front-end controls.
 * Input byte 0 picks the target:
 *  even: a stream of messages (header + payload, sizes as the input says)
 *        through vhost_msg_check and the back-end's state machine, with
 *        memfds / eventfds attached where the request takes them; then the
 *        rings it set up (if any) are walked.
 *  odd:  the split-virtqueue walker over guest memory filled from the input
 *        (two regions, rings inside), popping, pushing and flushing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/vhost_dev.h"
#include "vhost/virtq.h"

#define FAKE_MEM 0x10000u

static _Alignas(4096) uint8_t ram[FAKE_MEM];

static void check_iov(const struct iovec *iov, unsigned n, const uint8_t *lo, size_t size)
{
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *b = iov[i].iov_base;
        if (b < lo || b + iov[i].iov_len > lo + size || iov[i].iov_len == 0)
            abort();
    }
}

static void walk(struct virtq *q, const struct vhost_mem *mem, bool write, const uint8_t *lo,
                 size_t size)
{
    struct iovec iov[64];
    for (unsigned k = 0; k < 2u * q->num + 2; k++) {
        unsigned n;
        uint64_t len;
        uint16_t head;
        int r = virtq_pop(q, mem, write, iov, 64, &n, &len, &head);
        if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
            break;
        if (lo)
            check_iov(iov, n, lo, size);
        if (r == VIRTQ_CHAIN && (k & 3) == 3)
            virtq_unpop(q, 1);
        else
            virtq_push(q, head, (uint32_t)len);
        if (k & 1)
            virtq_flush(q);
    }
    virtq_flush(q);
    virtq_set_kicks(q, true);
    virtq_recheck(q);
    virtq_set_kicks(q, false);
}

static void fuzz_walker(const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    memset(ram, 0, sizeof ram);
    memcpy(ram, data + 4, size - 4 < sizeof ram ? size - 4 : sizeof ram);
    struct vhost_mem mem = {0};
    /* two regions adjacent in guest-physical space */
    vhost_mem_add_local(&mem, 0x1000, 0x700000, ram, FAKE_MEM / 2);
    vhost_mem_add_local(&mem, 0x1000 + FAKE_MEM / 2, 0x900000, ram + FAKE_MEM / 2, FAKE_MEM / 2);
    uint32_t num = 1u << (data[1] % 9); /* 1..256 */
    struct virtq q;
    memset(&q, 0, sizeof q);
    /* rings: desc at 0, avail at 0x1000, used at 0x2000 of region 0 */
    if (virtq_setup(&q, &mem, num, 0x700000, 0x701000, 0x702000, data[2], data[3] & 1,
                    data[3] & 2) < 0)
        return;
    walk(&q, &mem, data[3] & 4, ram, sizeof ram);
}

static int extra_fd(uint32_t req, size_t i)
{
    if (req == VHOST_USER_SET_MEM_TABLE) {
        int fd = memfd_create("fuzz", MFD_CLOEXEC);
        if (fd >= 0 && ftruncate(fd, (off_t)(i & 1 ? 0x2000 : 0x10000)) < 0) {
            close(fd);
            fd = -1;
        }
        return fd;
    }
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static void fuzz_messages(const uint8_t *data, size_t size)
{
    struct vhost_dev d;
    vhost_dev_init(&d);
    size_t at = 1;
    while (at + 13 <= size) {
        struct vhost_msg m;
        memset(&m, 0, sizeof m);
        memcpy(&m.request, data + at, 4);
        memcpy(&m.flags, data + at + 4, 4);
        uint8_t nfds = data[at + 8] % 10; /* how many fds come with it */
        uint16_t sz = (uint16_t)(data[at + 9] | data[at + 10] << 8);
        m.request %= 24;
        at += 11;
        if (sz > VHOST_MSG_MAX_PAYLOAD)
            sz = VHOST_MSG_MAX_PAYLOAD;
        if (sz > size - at)
            sz = (uint16_t)(size - at);
        m.size = sz;
        memcpy(m.p.raw, data + at, sz);
        at += sz;
        for (unsigned i = 0; i < nfds && i < VHOST_MSG_MAX_FDS; i++) {
            int fd = extra_fd(m.request, i);
            if (fd >= 0)
                m.fds[m.nfds++] = fd;
        }
        if (vhost_dev_handle(&d, &m, -1) < 0) {
            vhost_dev_reset(&d); /* the connection would be closed */
            vhost_dev_init(&d);
        }
        for (unsigned r = 0; r < VHOST_NET_NVRINGS; r++)
            if (vhost_dev_ring_ready(&d, r))
                walk(&d.vr[r].vq, &d.mem, r == VHOST_NET_RX, NULL, 0);
    }
    vhost_dev_reset(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_walker(data, size);
    else
        fuzz_messages(data, size);
    return 0;
}
