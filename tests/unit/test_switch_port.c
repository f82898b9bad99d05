/* Unit tests of switch ports (src/switch/port.c): ring arithmetic, the blocking wait, names and
 * EBUSY, reclaiming a dead owner's port. */
#include "switch_test_util.h"

/* ---- ring arithmetic ---- */
static void test_ring_arith(void **state)
{
    (void)state;
    const uint32_t N = VPIO_SW_RING_SLOTS;
    assert_int_equal(vpio_ring_next(0), 1);
    assert_int_equal(vpio_ring_next(N - 1), 0);
    assert_int_equal(vpio_ring_dist(5, 5), 0);
    assert_int_equal(vpio_ring_dist(5, 7), 2);
    assert_int_equal(vpio_ring_dist(N - 2, 1), 3);
    assert_int_equal(vpio_ring_dist(1, 0), N - 1);
    struct vpio_ring r = {.head = N - 3, .cur = N - 2, .tail = 4};
    assert_int_equal(vpio_ring_space(&r), 6);
    /* fresh rings: TX has N-1 free slots, RX none */
    struct vpio_port *a = open_port("a");
    assert_int_equal(vpio_ring_space(vpio_port_txring(a)), N - 1);
    assert_int_equal(vpio_ring_space(vpio_port_rxring(a)), 0);
    assert_non_null(vpio_ring_buf(a, vpio_port_txring(a), 0));
    assert_null(vpio_ring_buf(a, &r, 0));
    assert_ptr_equal(vpio_ring_buf(a, vpio_port_rxring(a), N),
                     vpio_ring_buf(a, vpio_port_rxring(a), 0));
    vpio_port_close(a);
}

/* ---- blocking wait ---- */
static void *late_sender(void *arg)
{
    usleep(100000);
    send_n(arg, BCAST, 1, 1, 60, 0);
    return NULL;
}

static void test_poll(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    double t = mono();
    assert_int_equal(vpio_port_poll(b, VPIO_POLL_RX, 50), 0);
    t = mono() - t;
    assert_true(t >= 0.045 && t < 1.0);
    assert_int_equal(vpio_port_poll(b, VPIO_POLL_TX, 0), VPIO_POLL_TX);
    pthread_t th;
    pthread_create(&th, NULL, late_sender, a);
    t = mono();
    assert_int_equal(vpio_port_poll(b, VPIO_POLL_RX, 5000), VPIO_POLL_RX);
    t = mono() - t;
    assert_true(t >= 0.05 && t < 2.0);
    pthread_join(th, NULL);
    assert_int_equal(drain(b), 1);
    vpio_port_close(a);
    vpio_port_close(b);
}

/* ---- names, EBUSY, reclaim, validation ---- */
static void test_names_and_reclaim(void **state)
{
    (void)state;
    struct vpio_port *p;
    assert_int_equal(vpio_port_open(&p, "nocolon", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, ":a", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "sw:", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "sw:a:b", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "s/w:a", 0), -EINVAL);
    assert_int_equal(vpio_port_open(&p, "sw:0123456789012345678901234567890123", 0), -EINVAL);
    struct vpio_port *a = open_port("a");
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:a", swname);
    assert_int_equal(vpio_port_open(&p, ifname, 0), -EBUSY);
    assert_string_equal(vpio_port_name(a), ifname);

    /* a port whose owner died: a child opens "dead" and exits */
    pid_t pid = fork();
    if (pid == 0) {
        struct vpio_port *d;
        snprintf(ifname, sizeof ifname, "%s:dead", swname);
        _exit(vpio_port_open(&d, ifname, 0) == 0 ? 0 : 1); /* no close */
    }
    int status;
    waitpid(pid, &status, 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0); /* reaps */
    assert_int_equal(info.nports, 1);
    assert_string_equal(info.port[0].name, "a");
    assert_int_equal(info.port[0].pid, getpid());
    assert_true(info.port[0].alive);
    /* the name is free again */
    struct vpio_port *d = open_port("dead");
    /* removal refused while live, allowed with force */
    assert_int_equal(vpio_switch_remove(swname, 0), -EBUSY);
    vpio_port_close(d);
    vpio_port_close(a);
    char names[256][VPIO_SW_NAME_MAX];
    int n = vpio_switch_list(names, 256), found = 0;
    for (int i = 0; i < n && i < 256; i++)
        found |= !strcmp(names[i], swname);
    assert_true(found);
    assert_int_equal(vpio_switch_remove(swname, 0), 0);
    assert_int_equal(vpio_switch_info(swname, &info), -ENOENT);
}

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ring_arith, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_reclaim, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
