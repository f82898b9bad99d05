/* Unit tests of the switch's MAC table (src/switch/mac.c): learning, lookup, aging. */
#include "switch_test_util.h"

/* The two-load header keys equal sw_mac48 of each address. */
static void test_hdr_macs(void **state)
{
    (void)state;
    uint8_t h[12];
    uint32_t x = 12345;
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < 12; i++) {
            x = x * 1103515245u + 12345u;
            h[i] = (uint8_t)(x >> 16);
        }
        if (round == 0)
            memset(h, 0xff, sizeof h);
        uint64_t d, s;
        sw_hdr_macs(h, &d, &s);
        assert_int_equal(d, sw_mac48(h));
        assert_int_equal(s, sw_mac48(h + 6));
    }
}

/* ---- MAC table ---- */
static void test_mac_table(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct sw_arena *ar = &a->a;
    uint8_t m1[6], m2[6];
    mac_of(m1, 1);
    mac_of(m2, 2);
    uint64_t k1 = sw_mac48(m1), k2 = sw_mac48(m2);
    assert_int_equal(sw_mac_lookup(ar, k1, 1000), -1);
    sw_mac_learn(ar, k1, (unsigned)vpio_port_id(a), 1000);
    sw_mac_learn(ar, k2, (unsigned)vpio_port_id(b), 1000);
    assert_int_equal(sw_mac_lookup(ar, k1, 1000), vpio_port_id(a));
    assert_int_equal(sw_mac_lookup(ar, k2, 1001), vpio_port_id(b));
    /* moves */
    sw_mac_learn(ar, k1, (unsigned)vpio_port_id(b), 2000);
    assert_int_equal(sw_mac_lookup(ar, k1, 2000), vpio_port_id(b));
    /* aging */
    assert_int_equal(sw_mac_lookup(ar, k2, 1000 + VPIO_SW_AGE_MS), vpio_port_id(b));
    assert_int_equal(sw_mac_lookup(ar, k2, 1001 + VPIO_SW_AGE_MS), -1);
    /* multicast sources are never learned */
    uint8_t mc[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    sw_mac_learn(ar, sw_mac48(mc), (unsigned)vpio_port_id(a), 3000);
    assert_int_equal(sw_mac_lookup(ar, sw_mac48(mc), 3000), -1);
    /* out-of-range port ignored */
    sw_mac_learn(ar, k2, VPIO_SW_MAX_PORTS, 3000);
    assert_int_equal(sw_mac_lookup(ar, k2, 3000), vpio_port_id(b)); /* entry untouched */
    /* corrupted entry naming a bad port: miss, no crash */
    ar->mac[sw_mac_hash(k2)].key = k2 | (uint64_t)0xff00 << 48;
    assert_int_equal(sw_mac_lookup(ar, k2, 3000), -1);
    /* a closed port's entries are forgotten */
    sw_mac_learn(ar, k2, (unsigned)vpio_port_id(b), 3000);
    assert_int_equal(sw_mac_count(ar, 3000), 2);
    vpio_port_close(b);
    assert_int_equal(sw_mac_lookup(ar, k2, 3000), -1);
    assert_int_equal(sw_mac_lookup(ar, k1, 3000), -1);
    vpio_port_close(a);
}

static void test_aging(void **state)
{
    (void)state;
    fake_ms = 100000;
    sw_now_ms = fake_clock;
    struct vpio_port *a = open_port("a"), *b = open_port("b"), *c = open_port("c");
    uint8_t mb[6];
    mac_of(mb, 2);
    send_n(b, BCAST, 2, 1, 60, 0);
    drain(a);
    drain(c);
    send_n(a, mb, 1, 1, 60, 0);
    assert_int_equal(drain(b), 1);
    assert_int_equal(drain(c), 0);
    fake_ms += VPIO_SW_AGE_MS + 1; /* b's entry expires: flood again */
    send_n(a, mb, 1, 1, 60, 0);
    assert_int_equal(drain(b), 1);
    assert_int_equal(drain(c), 1);
    vpio_port_close(a);
    vpio_port_close(b);
    vpio_port_close(c);
}

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_macs),
        cmocka_unit_test_setup_teardown(test_mac_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aging, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
