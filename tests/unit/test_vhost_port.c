/* A vhost-user port driven by a fake front-end in this process: guest RAM
 * in a memfd, rings set up over the socket as QEMU does. Frames both ways
 * through a real switch (TX chains -> switch; switch -> RX chains with
 * MRG_RXBUF num_buffers), and 100 connections without an fd or mapping
 * left behind. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost/vhost_dev.h"
#include "vhost/vhost_net_port.h"
#include "vhost/virtq.h"
#include "vpio/switch.h"

#define RAM (1u << 20)
#define QN 64
static char swname[VPIO_SW_NAME_MAX], sockpath[108], ifname[80];

struct fe { /* the fake front-end */
    int sock, memfd, kick[2], call[2];
    uint8_t *ram;
};

static uint64_t ring_off(unsigned q, unsigned part)
{
    return q * 0x10000u + part * 0x1000u; /* desc, avail, used */
}

static int send_msg(int sock, uint32_t req, const void *pl, uint32_t size, const int *fds,
                    unsigned nfds)
{
    uint8_t buf[12 + 300];
    uint32_t flags = 1;
    memcpy(buf, &req, 4);
    memcpy(buf + 4, &flags, 4);
    memcpy(buf + 8, &size, 4);
    if (size)
        memcpy(buf + 12, pl, size);
    struct iovec iov = {buf, 12 + size};
    union {
        struct cmsghdr a;
        char b[CMSG_SPACE(sizeof(int) * 8)];
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
    return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)(12 + size) ? 0 : -1;
}

/* GET_FEATURES round trip: everything sent before it has been handled. */
static uint64_t barrier(struct fe *f)
{
    assert_int_equal(send_msg(f->sock, VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0), 0);
    uint8_t r[20];
    struct pollfd p = {.fd = f->sock, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_int_equal(recv(f->sock, r, 20, MSG_WAITALL), 20);
    uint32_t flags;
    memcpy(&flags, r + 4, 4);
    assert_int_equal(flags, 5);
    uint64_t v;
    memcpy(&v, r + 12, 8);
    return v;
}

static void fe_connect(struct fe *f, bool rings)
{
    f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, sockpath);
    int ok = -1;
    for (int i = 0; i < 200 && ok < 0; i++) {
        ok = connect(f->sock, (struct sockaddr *)&a, sizeof a);
        if (ok < 0)
            usleep(10000);
    }
    assert_int_equal(ok, 0);
    uint64_t feat = barrier(f);
    assert_int_equal(send_msg(f->sock, VHOST_USER_SET_FEATURES, &feat, 8, NULL, 0), 0);
    f->memfd = memfd_create("fe-ram", MFD_CLOEXEC);
    assert_int_equal(ftruncate(f->memfd, RAM), 0);
    f->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->ram != MAP_FAILED);
    struct vhost_memory_msg m = {.nregions = 1};
    m.regions[0] = (struct vhost_mem_region_msg){0, RAM, (uint64_t)(uintptr_t)f->ram, 0};
    assert_int_equal(send_msg(f->sock, VHOST_USER_SET_MEM_TABLE, &m, 8 + 32, &f->memfd, 1), 0);
    close(f->memfd);
    for (unsigned q = 0; rings && q < 2; q++) {
        struct vhost_vring_state st = {q, QN};
        send_msg(f->sock, VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0);
        st.num = 0;
        send_msg(f->sock, VHOST_USER_SET_VRING_BASE, &st, 8, NULL, 0);
        struct vhost_vring_addr ad = {.index = q,
                                      .desc_uva = (uintptr_t)f->ram + ring_off(q, 0),
                                      .avail_uva = (uintptr_t)f->ram + ring_off(q, 1),
                                      .used_uva = (uintptr_t)f->ram + ring_off(q, 2)};
        send_msg(f->sock, VHOST_USER_SET_VRING_ADDR, &ad, sizeof ad, NULL, 0);
        f->kick[q] = eventfd(0, EFD_CLOEXEC);
        f->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        uint64_t idx = q;
        send_msg(f->sock, VHOST_USER_SET_VRING_KICK, &idx, 8, &f->kick[q], 1);
        send_msg(f->sock, VHOST_USER_SET_VRING_CALL, &idx, 8, &f->call[q], 1);
        st.num = 1;
        send_msg(f->sock, VHOST_USER_SET_VRING_ENABLE, &st, 8, NULL, 0);
    }
    barrier(f);
}

static void fe_close(struct fe *f, bool rings)
{
    close(f->sock);
    munmap(f->ram, RAM);
    for (unsigned q = 0; rings && q < 2; q++) {
        close(f->kick[q]);
        close(f->call[q]);
    }
}

static struct virtq_desc *D(struct fe *f, unsigned q)
{
    return (void *)(f->ram + ring_off(q, 0));
}
static struct virtq_avail *A(struct fe *f, unsigned q)
{
    return (void *)(f->ram + ring_off(q, 1));
}
static struct virtq_used *U(struct fe *f, unsigned q)
{
    return (void *)(f->ram + ring_off(q, 2));
}

static void kick(struct fe *f, unsigned q)
{
    uint64_t one = 1;
    assert_int_equal(write(f->kick[q], &one, 8), 8);
}

static bool wait_used(struct fe *f, unsigned q, uint16_t want)
{
    for (int i = 0; i < 5000; i++) {
        if (__atomic_load_n(&U(f, q)->idx, __ATOMIC_ACQUIRE) == want)
            return true;
        usleep(1000);
    }
    return false;
}

static struct vhost_net_port *vp;

static int setup(void **state)
{
    snprintf(swname, sizeof swname, "utvh%d", (int)getpid());
    snprintf(sockpath, sizeof sockpath, "/tmp/vpio-utvh%d.sock", (int)getpid());
    snprintf(ifname, sizeof ifname, "%s:vh", swname);
    struct vhost_net_config cfg = {
        .ifname = ifname, .socket_path = sockpath, .poll_us = 20, .batch = 64};
    char err[200];
    return vhost_net_port_start(&vp, &cfg, err, sizeof err);
}

static int teardown(void **state)
{
    vhost_net_port_destroy(vp);
    vpio_switch_remove(swname, 1);
    return 0;
}

static void frames_both_ways(void **state)
{
    struct vpio_port *peer;
    char pn[80];
    snprintf(pn, sizeof pn, "%s:peer", swname);
    assert_int_equal(vpio_port_open(&peer, pn, 0), 0);
    struct fe f;
    fe_connect(&f, true);
    /* TX: 10 frames of 12-byte header + 60 bytes, header and frame in two
     * descriptors */
    for (unsigned i = 0; i < 10; i++) {
        uint64_t buf = 0x40000 + i * 0x1000;
        memset(f.ram + buf, 0, 12);
        uint8_t *fr = f.ram + buf + 0x100;
        memset(fr, 0xff, 6);
        memcpy(fr + 6, "\x02\x00\x00\x00\x00\x01", 6);
        fr[12] = 0x88;
        fr[13] = 0xb5;
        fr[14] = (uint8_t)i;
        D(&f, 1)[2 * i] = (struct virtq_desc){buf, 12, VIRTQ_DESC_F_NEXT, (uint16_t)(2 * i + 1)};
        D(&f, 1)[2 * i + 1] = (struct virtq_desc){buf + 0x100, 60, 0, 0};
        A(&f, 1)->ring[i] = (uint16_t)(2 * i);
    }
    __atomic_store_n(&A(&f, 1)->idx, 10, __ATOMIC_RELEASE);
    kick(&f, 1);
    assert_true(wait_used(&f, 1, 10));
    uint8_t got[2048];
    unsigned n = 0;
    for (int t = 0; t < 100 && n < 10; t++) {
        vpio_port_poll(peer, VPIO_POLL_RX, 100);
        struct vpio_rxpkt rp = {.buf = got, .cap = sizeof got};
        while (n < 10 && vpio_port_recv_batch(peer, &rp, 1) == 1) {
            assert_int_equal(rp.len, 60);
            assert_int_equal(got[14], n);
            n++;
        }
    }
    assert_int_equal(n, 10);
    /* RX: 8 buffers of 2048 bytes; 5 frames from the peer */
    for (unsigned i = 0; i < 8; i++) {
        D(&f, 0)[i] = (struct virtq_desc){0x80000 + i * 0x1000, 2048, VIRTQ_DESC_F_WRITE, 0};
        A(&f, 0)->ring[i] = (uint16_t)i;
    }
    __atomic_store_n(&A(&f, 0)->idx, 8, __ATOMIC_RELEASE);
    kick(&f, 0);
    uint8_t fr[1500];
    memset(fr, 0xff, 6);
    memcpy(fr + 6, "\x02\x00\x00\x00\x00\x02", 6);
    fr[12] = 0x88;
    fr[13] = 0xb5;
    for (unsigned i = 14; i < sizeof fr; i++)
        fr[i] = (uint8_t)i;
    struct vpio_pkt pk[5];
    for (int i = 0; i < 5; i++)
        pk[i] = (struct vpio_pkt){.data = fr, .len = 100};
    assert_int_equal(vpio_port_send_batch(peer, pk, 5), 5);
    assert_true(wait_used(&f, 0, 5));
    for (unsigned i = 0; i < 5; i++) {
        struct virtq_used_elem e = U(&f, 0)->ring[i];
        assert_int_equal(e.len, 112);
        uint8_t *b = f.ram + 0x80000 + e.id * 0x1000;
        assert_int_equal(b[10], 1); /* num_buffers */
        assert_memory_equal(b + 12, fr, 100);
    }
    /* MRG_RXBUF: a 300-byte frame over buffers of 100 bytes: 4 of them */
    for (unsigned i = 0; i < 8; i++) {
        D(&f, 0)[8 + i] = (struct virtq_desc){0xa0000 + i * 0x1000, 100, VIRTQ_DESC_F_WRITE, 0};
        A(&f, 0)->ring[(8 + i) % QN] = (uint16_t)(8 + i);
    }
    /* the three 2048-byte buffers left come first: use them up */
    pk[0].len = 1500;
    assert_int_equal(vpio_port_send_batch(peer, pk, 1), 1);
    assert_true(wait_used(&f, 0, 6));
    assert_int_equal(vpio_port_send_batch(peer, pk, 1), 1);
    assert_true(wait_used(&f, 0, 7));
    assert_int_equal(vpio_port_send_batch(peer, pk, 1), 1);
    assert_true(wait_used(&f, 0, 8));
    __atomic_store_n(&A(&f, 0)->idx, 16, __ATOMIC_RELEASE);
    kick(&f, 0);
    pk[0].len = 300;
    assert_int_equal(vpio_port_send_batch(peer, pk, 1), 1);
    assert_true(wait_used(&f, 0, 12));
    uint32_t lens[4];
    for (int i = 0; i < 4; i++)
        lens[i] = U(&f, 0)->ring[8 + i].len;
    assert_int_equal(lens[0], 100);
    assert_int_equal(lens[3], 12);
    uint8_t *b0 = f.ram + 0xa0000 + (U(&f, 0)->ring[8].id - 8) * 0x1000;
    assert_int_equal(b0[10], 4); /* num_buffers */
    assert_memory_equal(b0 + 12, fr, 88);
    struct vhost_net_stats st;
    vhost_net_port_get_stats(vp, &st);
    assert_int_equal(st.rx_frames, 9);
    assert_int_equal(st.tx_frames, 10);
    assert_int_equal(st.bad_msgs, 0);
    fe_close(&f, true);
    vpio_port_close(peer);
}

/* VIRTIO_F_IN_ORDER is offered: TX chains go back in the order they were
 * made available, the dropped ones (given back at once before) among the
 * frames the switch took. Heads given out of table order, to see the
 * order of the ring, not of the table. */
static void tx_chains_come_back_in_order(void **state)
{
    struct fe f;
    fe_connect(&f, true);
    const uint16_t heads[6] = {9, 4, 7, 0, 5, 2}; /* good, bad, good, bad, good, good */
    for (unsigned i = 0; i < 6; i++) {
        uint16_t h = heads[i];
        uint64_t buf = 0x40000 + i * 0x1000;
        memset(f.ram + buf, 0, 12 + 60);
        memcpy(f.ram + buf + 12, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01", 12);
        bool bad = i == 1 || i == 3;
        D(&f, 1)[h] = (struct virtq_desc){bad ? RAM + 0x1000 : buf, 12 + 60, 0, 0};
        A(&f, 1)->ring[i] = h;
    }
    __atomic_store_n(&A(&f, 1)->idx, 6, __ATOMIC_RELEASE);
    kick(&f, 1);
    assert_true(wait_used(&f, 1, 6));
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(U(&f, 1)->ring[i].id, heads[i]);
    struct vhost_net_stats st;
    vhost_net_port_get_stats(vp, &st);
    assert_int_equal(st.tx_drop_bad_chain, 2);
    fe_close(&f, true);
}

/* A hostile TX ring: bad addresses and loops are dropped and counted, the
 * port keeps going; an avail index past the ring stops the queue. */
static void hostile_guest(void **state)
{
    struct fe f;
    fe_connect(&f, true);
    D(&f, 1)[0] = (struct virtq_desc){RAM + 0x1000, 100, 0, 0};            /* outside RAM */
    D(&f, 1)[1] = (struct virtq_desc){0x40000, 100, VIRTQ_DESC_F_NEXT, 1}; /* loop */
    D(&f, 1)[2] = (struct virtq_desc){0x40000, 5, 0, 0};                   /* too short */
    A(&f, 1)->ring[0] = 0;
    A(&f, 1)->ring[1] = 1;
    A(&f, 1)->ring[2] = 2;
    __atomic_store_n(&A(&f, 1)->idx, 3, __ATOMIC_RELEASE);
    kick(&f, 1);
    assert_true(wait_used(&f, 1, 3));
    struct vhost_net_stats st;
    usleep(20000);
    vhost_net_port_get_stats(vp, &st);
    assert_int_equal(st.tx_drop_bad_chain, 2);
    assert_int_equal(st.tx_drop_size, 1);
    __atomic_store_n(&A(&f, 1)->idx, 3 + QN + 1, __ATOMIC_RELEASE);
    kick(&f, 1);
    for (int i = 0; i < 200; i++) {
        usleep(5000);
        vhost_net_port_get_stats(vp, &st);
        if (st.ring_err[1].avail_idx)
            break;
    }
    assert_int_equal(st.ring_err[1].avail_idx, 1);
    /* a bad message closes the connection; the port waits for the next */
    uint64_t bad = 1; /* CSUM, not offered */
    send_msg(f.sock, VHOST_USER_SET_FEATURES, &bad, 8, NULL, 0);
    char c;
    struct pollfd p = {.fd = f.sock, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(recv(f.sock, &c, 1, 0), 0);
    fe_close(&f, true);
    fe_connect(&f, false);
    fe_close(&f, false);
}

/* Mappings of guest RAM (the front-end's memfds) in this process: the
 * back-end's must all be gone after each disconnect. (Not all lines of
 * /proc/self/maps: allocators, ASan's above all, map memory of their own.) */
static int count_guest_maps(void)
{
    FILE *fp = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n += strstr(line, "memfd:fe-ram") != NULL;
    fclose(fp);
    return n;
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

static void wait_disconnected(void)
{
    for (int i = 0; i < 1000 && vhost_net_port_connected(vp); i++)
        usleep(2000);
    assert_int_equal(vhost_net_port_connected(vp), 0);
}

static void hundred_reconnects(void **state)
{
    struct fe f;
    fe_connect(&f, true);
    fe_close(&f, true);
    wait_disconnected();
    int fds0 = count_fds(), maps0 = count_guest_maps();
    for (int i = 0; i < 100; i++) {
        fe_connect(&f, true);
        assert_int_equal(count_guest_maps(), 2); /* ours and the back-end's */
        fe_close(&f, true);
        wait_disconnected();
    }
    assert_int_equal(count_fds(), fds0);
    assert_int_equal(count_guest_maps(), maps0);
    assert_int_equal(maps0, 0);
    struct vhost_net_stats st;
    vhost_net_port_get_stats(vp, &st);
    assert_int_equal(st.connects, 101);
    assert_int_equal(st.disconnects, 101);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(frames_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(hostile_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(tx_chains_come_back_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(hundred_reconnects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
