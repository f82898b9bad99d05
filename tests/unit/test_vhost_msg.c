/* vhost-user message layer and memory table: framing with SCM_RIGHTS,
 * validation (sizes, fds), replies exactly as QEMU checks them, the
 * protocol state machine, memory translation, and no fd / mapping leak. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost/vhost_dev.h"
#include "vhost/vhost_mem.h"
#include "vhost/vhost_msg.h"

static int send_msg(int sock, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
                    const int *fds, unsigned nfds)
{
    uint8_t buf[12 + 512];
    memcpy(buf, &req, 4);
    memcpy(buf + 4, &flags, 4);
    memcpy(buf + 8, &size, 4);
    if (size)
        memcpy(buf + 12, payload, size);
    struct iovec iov = {buf, 12 + size};
    union {
        struct cmsghdr a;
        char b[CMSG_SPACE(sizeof(int) * 16)];
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    return sendmsg(sock, &mh, 0) == (ssize_t)(12 + size) ? 0 : -1;
}

static int count_fds(void)
{
    char path[64];
    int n = 0;
    for (int fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (access(path, F_OK) == 0)
            n++;
    }
    return n;
}

static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static int memfd_of(size_t size)
{
    int fd = memfd_create("vhost-ut", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

static void recv_and_check(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    uint64_t v = 1ull << 32;
    assert_int_equal(send_msg(sv[0], VHOST_USER_SET_FEATURES, 1, &v, 8, NULL, 0), 0);
    struct vhost_msg m;
    assert_int_equal(vhost_msg_recv(sv[1], &m), 1);
    const char *why;
    assert_int_equal(m.request, VHOST_USER_SET_FEATURES);
    assert_int_equal(m.size, 8);
    assert_int_equal(vhost_msg_check(&m, &why), 0);
    assert_true(m.p.u64 == v);
    /* wrong size for the request */
    assert_int_equal(send_msg(sv[0], VHOST_USER_SET_FEATURES, 1, &v, 4, NULL, 0), 0);
    assert_int_equal(vhost_msg_recv(sv[1], &m), 1);
    assert_int_equal(vhost_msg_check(&m, &why), -EPROTO);
    /* bad version */
    assert_int_equal(send_msg(sv[0], VHOST_USER_SET_FEATURES, 2, &v, 8, NULL, 0), 0);
    assert_int_equal(vhost_msg_recv(sv[1], &m), 1);
    assert_int_equal(vhost_msg_check(&m, &why), -EPROTO);
    /* a kick without its fd */
    uint64_t ring = 1;
    assert_int_equal(send_msg(sv[0], VHOST_USER_SET_VRING_KICK, 1, &ring, 8, NULL, 0), 0);
    assert_int_equal(vhost_msg_recv(sv[1], &m), 1);
    assert_int_equal(vhost_msg_check(&m, &why), -EPROTO);
    assert_string_equal(why, "missing fd");
    /* an fd where none belongs: refused, and the fd is closed */
    int before = count_fds();
    int efd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(send_msg(sv[0], VHOST_USER_SET_FEATURES, 1, &v, 8, &efd, 1), 0);
    close(efd);
    assert_int_equal(vhost_msg_recv(sv[1], &m), 1);
    assert_int_equal(m.nfds, 1);
    assert_int_equal(vhost_msg_check(&m, &why), -EPROTO);
    vhost_msg_close_fds(&m);
    assert_int_equal(count_fds(), before);
    /* an oversized payload is a framing error */
    uint8_t big[400] = {0};
    assert_int_equal(send_msg(sv[0], VHOST_USER_SET_MEM_TABLE, 1, big, sizeof big, NULL, 0), 0);
    assert_true(vhost_msg_recv(sv[1], &m) < 0);
    close(sv[0]); /* after a framing error the connection is closed */
    close(sv[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* a truncated message (header only, peer closes) */
    uint8_t hdr[12] = {1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0};
    assert_int_equal(write(sv[0], hdr, 12), 12);
    close(sv[0]);
    assert_true(vhost_msg_recv(sv[1], &m) < 0);
    assert_int_equal(vhost_msg_recv(sv[1], &m), 0);
    close(sv[1]);
}

/* Reads a reply and checks what QEMU checks: flags 0x5, same request, size. */
static uint64_t read_reply(int sock, uint32_t req, uint32_t size)
{
    uint8_t buf[12 + 8];
    assert_int_equal(read(sock, buf, 12 + size), 12 + size);
    uint32_t r, f, s;
    memcpy(&r, buf, 4);
    memcpy(&f, buf + 4, 4);
    memcpy(&s, buf + 8, 4);
    assert_int_equal(r, req);
    assert_int_equal(f, 0x5);
    assert_int_equal(s, size);
    uint64_t v = 0;
    memcpy(&v, buf + 12, size);
    return v;
}

static int dev_send(struct vhost_dev *d, int sv[2], uint32_t req, uint32_t flags, const void *pl,
                    uint32_t size, const int *fds, unsigned nfds)
{
    assert_int_equal(send_msg(sv[0], req, flags, pl, size, fds, nfds), 0);
    struct vhost_msg m;
    assert_int_equal(vhost_msg_recv(sv[1], &m), 1);
    return vhost_dev_handle(d, &m, sv[1]);
}

static void protocol_handshake(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct vhost_dev d;
    vhost_dev_init(&d);
    assert_int_equal(dev_send(&d, sv, VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0), 0);
    uint64_t f = read_reply(sv[0], VHOST_USER_GET_FEATURES, 8);
    assert_true(f & (1ull << VIRTIO_F_VERSION_1));
    assert_true(f & (1ull << VIRTIO_NET_F_MRG_RXBUF));
    assert_true(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
    assert_false(f & 1ull);         /* no CSUM */
    assert_false(f & (1ull << 22)); /* no MQ */
    assert_int_equal(dev_send(&d, sv, VHOST_USER_GET_PROTOCOL_FEATURES, 1, NULL, 0, NULL, 0), 0);
    uint64_t pf = read_reply(sv[0], VHOST_USER_GET_PROTOCOL_FEATURES, 8);
    assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_PROTOCOL_FEATURES, 1, &pf, 8, NULL, 0), 0);
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_OWNER, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_FEATURES, 1, &f, 8, NULL, 0), 0);
    /* need-reply with REPLY_ACK: a u64 0 comes back */
    struct vhost_memory_msg mem = {.nregions = 1};
    mem.regions[0] = (struct vhost_mem_region_msg){0, 1 << 20, 0x7f0000000000ull, 0};
    int fd = memfd_of(1 << 20);
    assert_int_equal(
        dev_send(&d, sv, VHOST_USER_SET_MEM_TABLE, 1 | VHOST_USER_NEED_REPLY, &mem, 8 + 32, &fd, 1),
        0);
    close(fd);
    assert_int_equal(read_reply(sv[0], VHOST_USER_SET_MEM_TABLE, 8), 0);
    /* rings: num, base, addr, kick; protocol features: disabled until enable */
    for (uint32_t i = 0; i < 2; i++) {
        struct vhost_vring_state st = {i, 256};
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_NUM, 1, &st, 8, NULL, 0), 0);
        st.num = 0;
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_BASE, 1, &st, 8, NULL, 0), 0);
        struct vhost_vring_addr a = {.index = i,
                                     .desc_uva = 0x7f0000000000ull + i * 0x10000,
                                     .avail_uva = 0x7f0000000000ull + i * 0x10000 + 0x1000,
                                     .used_uva = 0x7f0000000000ull + i * 0x10000 + 0x2000};
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_ADDR, 1, &a, sizeof a, NULL, 0), 0);
        int k = eventfd(0, EFD_CLOEXEC);
        uint64_t idx = i;
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_KICK, 1, &idx, 8, &k, 1), 0);
        close(k);
        assert_false(vhost_dev_ring_ready(&d, i));
        st.num = 1;
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_ENABLE, 1, &st, 8, NULL, 0), 0);
        assert_true(vhost_dev_ring_ready(&d, i));
    }
    /* a new memory table while running keeps the rings running */
    fd = memfd_of(1 << 20);
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 32, &fd, 1), 0);
    close(fd);
    assert_true(vhost_dev_ring_ready(&d, 1));
    /* ... and one that no longer holds the rings stops them (counted) */
    struct vhost_memory_msg mem2 = mem;
    mem2.regions[0].userspace_addr = 0x100000000ull;
    fd = memfd_of(1 << 20);
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_MEM_TABLE, 1, &mem2, 8 + 32, &fd, 1), 0);
    close(fd);
    assert_false(vhost_dev_ring_ready(&d, 1));
    assert_true(d.c.ring_setup_errs >= 2);
    fd = memfd_of(1 << 20);
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 32, &fd, 1), 0);
    close(fd);
    assert_true(vhost_dev_ring_ready(&d, 1));
    /* GET_VRING_BASE stops the ring and returns {index, last avail} */
    struct vhost_vring_state st = {1, 0};
    assert_int_equal(dev_send(&d, sv, VHOST_USER_GET_VRING_BASE, 1, &st, 8, NULL, 0), 0);
    assert_int_equal(read_reply(sv[0], VHOST_USER_GET_VRING_BASE, 8), 1);
    assert_false(vhost_dev_ring_ready(&d, 1));
    /* refused: ring index beyond the one pair, features not offered */
    st.index = 2;
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_NUM, 1, &st, 8, NULL, 0), -EPROTO);
    uint64_t bad = 1; /* CSUM */
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_FEATURES, 1, &bad, 8, NULL, 0), -EPROTO);
    st = (struct vhost_vring_state){0, 100}; /* not a power of two */
    assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_NUM, 1, &st, 8, NULL, 0), -EPROTO);
    assert_int_equal(dev_send(&d, sv, 99, 1, NULL, 0, NULL, 0), -EPROTO);
    vhost_dev_reset(&d);
    close(sv[0]);
    close(sv[1]);
}

static void memory_translation(void **state)
{
    static uint8_t a[8192], b[8192];
    struct vhost_mem m = {0};
    /* two regions adjacent in guest-physical space, far apart in uva */
    assert_int_equal(vhost_mem_add_local(&m, 0x1000, 0x100000, a, sizeof a), 0);
    assert_int_equal(vhost_mem_add_local(&m, 0x1000 + sizeof a, 0x900000, b, sizeof b), 0);
    uint64_t c;
    assert_ptr_equal(vhost_mem_gpa(&m, 0x1000, 16, &c), a);
    assert_int_equal(c, 16);
    /* a buffer crossing the two regions: the first part, then the rest */
    assert_ptr_equal(vhost_mem_gpa(&m, 0x1000 + sizeof a - 10, 100, &c), a + sizeof a - 10);
    assert_int_equal(c, 10);
    assert_ptr_equal(vhost_mem_gpa(&m, 0x1000 + sizeof a, 90, &c), b);
    assert_int_equal(c, 90);
    assert_null(vhost_mem_gpa(&m, 0, 1, &c));
    assert_null(vhost_mem_gpa(&m, 0x1000 + 2 * sizeof a, 1, &c));
    assert_null(vhost_mem_gpa(&m, UINT64_MAX, 1, &c));
    /* ring addresses: whole range inside one region */
    assert_ptr_equal(vhost_mem_uva(&m, 0x100010, 32), a + 16);
    assert_null(vhost_mem_uva(&m, 0x100000 + sizeof a - 8, 16));
    assert_null(vhost_mem_uva(&m, 0x100000, UINT64_MAX));
    assert_null(vhost_mem_uva(&m, 0x0, 1));
    /* overflowing regions are refused */
    assert_int_equal(vhost_mem_add_local(&m, UINT64_MAX - 10, 0, a, 100), -EINVAL);
    vhost_mem_clear(&m);
}

static void memory_table_checks(void **state)
{
    struct vhost_mem m = {0};
    struct vhost_memory_msg msg = {.nregions = 1};
    msg.regions[0] = (struct vhost_mem_region_msg){0, 1 << 20, 0x10000000, 4096};
    /* the file must hold mmap_offset + size, or access would SIGBUS */
    int fd = memfd_of(1 << 20);
    assert_int_equal(vhost_mem_set(&m, &msg, &fd, 1), -EINVAL);
    assert_int_equal(m.n, 0);
    fd = memfd_of((1 << 20) + 4096);
    assert_int_equal(vhost_mem_set(&m, &msg, &fd, 1), 0);
    assert_int_equal(fd, -1); /* closed: the mapping keeps the memory */
    assert_int_equal(m.n, 1);
    uint8_t *p = vhost_mem_uva(&m, 0x10000000, 1);
    assert_non_null(p);
    p[0] = 1; /* mapped and writable */
    /* empty and wrapping regions */
    msg.regions[0].memory_size = 0;
    fd = memfd_of(8192);
    assert_int_equal(vhost_mem_set(&m, &msg, &fd, 1), -EINVAL);
    msg.regions[0] = (struct vhost_mem_region_msg){UINT64_MAX - 4095, 8192, 0, 0};
    fd = memfd_of(8192);
    assert_int_equal(vhost_mem_set(&m, &msg, &fd, 1), -EINVAL);
    assert_int_equal(m.n, 1); /* the old table stays */
    vhost_mem_clear(&m);
    assert_int_equal(m.n, 0);
}

/* 100 memory tables and resets: no fd and no mapping left behind. */
static void no_leak_across_resets(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int fds0 = count_fds(), maps0 = count_maps();
    for (int i = 0; i < 100; i++) {
        struct vhost_dev d;
        vhost_dev_init(&d);
        struct vhost_memory_msg mem = {.nregions = 2};
        mem.regions[0] = (struct vhost_mem_region_msg){0, 1 << 16, 0x10000, 0};
        mem.regions[1] = (struct vhost_mem_region_msg){1 << 16, 1 << 16, 0x40000, 0};
        int fds[2] = {memfd_of(1 << 16), memfd_of(1 << 16)};
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_MEM_TABLE, 1, &mem, 8 + 64, fds, 2), 0);
        close(fds[0]);
        close(fds[1]);
        int k = eventfd(0, EFD_CLOEXEC), c = eventfd(0, EFD_CLOEXEC);
        uint64_t idx = 0;
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_KICK, 1, &idx, 8, &k, 1), 0);
        assert_int_equal(dev_send(&d, sv, VHOST_USER_SET_VRING_CALL, 1, &idx, 8, &c, 1), 0);
        close(k);
        close(c);
        vhost_dev_reset(&d);
    }
    assert_int_equal(count_fds(), fds0);
    assert_int_equal(count_maps(), maps0);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recv_and_check),        cmocka_unit_test(protocol_handshake),
        cmocka_unit_test(memory_translation),    cmocka_unit_test(memory_table_checks),
        cmocka_unit_test(no_leak_across_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
