/* Unit tests of the counters' reader (src/switch/stats.c): forged counters in the arena. */
#include "switch_test_util.h"

/* Counters in the arena are forgeable; what a reader reports only moves
 * forward, by no more than could have been offered since its last read. */
static void test_forged_counters(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct vpio_sw_port *bp = &a->a.ports[vpio_port_id(b)];
    struct vpio_port_stats st;
    assert_int_equal(send_n(a, BCAST, 1, 10, 60, 0), 10);
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts, 10);
    assert_int_equal(st.rx_bytes, 600);
    assert_int_equal(st.rx_drops, 0);
    /* a peer writes garbage: a huge drop count, a counter going backwards */
    bp->rx_drops = 7300000000000000000ull;
    bp->rx_pkts = 3;
    bp->rx_errs = UINT64_MAX;
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts, 10);
    assert_int_equal(st.rx_drops, 0);
    assert_int_equal(st.rx_errs, 0);
    assert_int_equal(b->stats_rd.refused, 3);
    /* real increments after the forgery are counted again */
    assert_int_equal(drain(b), 10);
    assert_int_equal(send_n(a, BCAST, 1, 5, 60, 0), 5);
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts, 15);
    assert_int_equal(st.rx_drops, 0);
    /* the ring full: real drops reach the reader */
    send_n(a, BCAST, 1, 2 * VPIO_SW_RING_SLOTS, 60, 0);
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_pkts + st.rx_drops, 15 + 2 * VPIO_SW_RING_SLOTS);
    assert_true(st.rx_drops > 0);
    /* forward, but faster than possible: refused */
    uint64_t d0 = st.rx_drops;
    bp->rx_drops += 1000000000000ull;
    assert_int_equal(vpio_port_stats(b, &st), 0);
    assert_int_equal(st.rx_drops, d0);
    /* tools (vpio switch show) see the same bound: zeros at the owner's
     * start, so a value no port could have counted since then is refused */
    bp->tx_drops = 7300000000000000000ull;
    bp->rx_drops = 12345;
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    int found = 0;
    for (unsigned i = 0; i < info.nports; i++)
        if (info.port[i].id == vpio_port_id(b)) {
            found = 1;
            assert_int_equal(info.port[i].st.tx_drops, 0);
            assert_int_equal(info.port[i].st.rx_drops, 12345); /* plausible: kept */
        }
    assert_true(found);

    /* the reader itself, with a synthetic clock */
    struct vpio_stats_reader rd;
    struct vpio_port_stats raw = {0}, out;
    vpio_stats_reader_init(&rd, NULL, 0);
    raw.rx_drops = VPIO_SW_MAX_PPS / 1000; /* 1 ms worth */
    vpio_stats_read(&rd, &raw, 1000000, &out);
    assert_int_equal(out.rx_drops, VPIO_SW_MAX_PPS / 1000);
    raw.rx_drops += VPIO_SW_MAX_PPS / 100; /* 10 ms worth in 1 ms */
    vpio_stats_read(&rd, &raw, 2000000, &out);
    assert_int_equal(out.rx_drops, VPIO_SW_MAX_PPS / 1000);
    raw.rx_drops += 5;
    vpio_stats_read(&rd, &raw, 1000, &out); /* a clock going backwards: no credit */
    assert_int_equal(out.rx_drops, VPIO_SW_MAX_PPS / 1000 + 5);
    vpio_port_close(b);
    vpio_port_close(a);
}

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forged_counters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
