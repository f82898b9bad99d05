/* Two e1000 models connected through a vpio switch (switch-port backends):
 * a batch sent by one arrives in the other's RX ring, in order, announced by
 * the backend's poll fd. */
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "test_e1000_harness.h"
#include "vpio/switch.h"

static void test_e1000_to_e1000_through_switch(void **state)
{
    (void)state;
    char sw[32], pa[64], pb[64], err[256] = "";
    snprintf(sw, sizeof(sw), "te1k%d", (int)getpid());
    snprintf(pa, sizeof(pa), "%s:a", sw);
    snprintf(pb, sizeof(pb), "%s:b", sw);
    struct h *a = h_new(false), *b = h_new(false);
    struct net_backend *ba = net_backend_open(pa, err, sizeof(err));
    if (!ba)
        fail_msg("%s: %s", pa, err);
    struct net_backend *bb = net_backend_open(pb, err, sizeof(err));
    if (!bb)
        fail_msg("%s: %s", pb, err);
    a->dev.backend = ba;
    b->dev.backend = bb;

    tx_setup(a, 256);
    rx_setup(b, 64, 0);
    wr(b, E1000_IMS, E1000_ICR_RXT0);
    const unsigned n = 150;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = a->ram + TX_BUF + i * 2048;
        make_frame(p, 60 + i, BCAST, (uint8_t)i);
        p[14] = (uint8_t)i;
        tx_legacy(a, i, TX_BUF + i * 2048, (uint16_t)(60 + i), E1000_TXD_CMD_EOP);
    }
    wr(a, E1000_TDT, n);
    assert_int_equal(st(a).tx_batches, 1);
    assert_int_equal(ba->stats.tx_frames, n);

    /* the VMM's I/O thread: poll the fd, rx_poll; the guest: consume, refill */
    unsigned seen = 0;
    uint32_t head = 0;
    for (int iter = 0; iter < 1000 && seen < n; iter++) {
        struct pollfd pfd = {.fd = net_poll_fd(bb), .events = POLLIN};
        poll(&pfd, 1, 10);
        e1000_rx_poll(&b->dev);
        uint32_t rdh = rd(b, E1000_RDH);
        while (head != rdh) {
            uint8_t *d = rxd(b, head);
            assert_true(d[12] & E1000_RXD_STAT_DD);
            uint8_t *buf = b->ram + RX_BUF + head * RX_BUF_STRIDE;
            assert_int_equal(buf[14], seen % 256);
            assert_int_equal(e1000_le16(d + 8), 60 + seen);
            d[12] = 0;
            seen++;
            head = (head + 1) % 64;
        }
        wr(b, E1000_RDT, (head + 63) % 64);
    }
    assert_int_equal(seen, n);
    struct e1000_stats s = st(b);
    assert_int_equal(s.rx_frames, n);
    assert_int_equal(s.drops[E1000_DROP_RX_NO_DESC], 0);
    assert_true(b->edges >= 1);

    a->dev.backend = &a->fb.be;
    b->dev.backend = &b->fb.be;
    net_backend_close(ba);
    net_backend_close(bb);
    vpio_switch_remove(sw, 1);
    h_free(a);
    h_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1000_to_e1000_through_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
