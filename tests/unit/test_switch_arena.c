/* Unit tests of the switch arena (src/switch/arena.c): validation of a corrupted arena, owner
 * liveness (zombies, recycled pids), the creation protocol, a stale or corrupted header. */
#include "switch_test_util.h"

static void test_corrupt_arena(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct sw_arena *ar = &a->a;
    struct vpio_sw_port *bp = &ar->ports[vpio_port_id(b)];
    struct vpio_ring *br = vpio_port_rxring(b);

    /* published index garbage: senders drop, the owner resyncs and counts */
    bp->rx_hwtail = 0xffffffff;
    assert_int_equal(send_n(a, BCAST, 1, 10, 60, 0), 0);
    assert_int_equal(vpio_port_rxsync(b), 0);
    struct vpio_port_stats st;
    vpio_port_stats(b, &st);
    assert_true(st.rx_errs >= 2);
    assert_int_equal(send_n(a, BCAST, 1, 10, 60, 0), 10); /* recovered */
    assert_int_equal(drain(b), 10);

    /* published index inside the owner's slots: rejected by rxsync */
    send_n(a, BCAST, 1, 5, 60, 0);
    assert_int_equal(vpio_port_rxsync(b), 5);
    bp->rx_hwtail = (br->head + 2) % VPIO_SW_RING_SLOTS; /* backwards */
    vpio_port_rxsync(b);
    assert_int_equal(drain(b), 5);

    /* owner's own ring fields garbage: rxsync/recv resets, no crash */
    br->head = 77777;
    br->cur = 5;
    vpio_port_rxsync(b);
    assert_true(br->head < VPIO_SW_RING_SLOTS);
    /* slot lengths garbage */
    send_n(a, BCAST, 1, 3, 60, 0);
    vpio_port_rxsync(b);
    br->slot[br->head].len = 60000;
    br->slot[vpio_ring_next(br->head)].flags = 0xffff;
    drain(b);

    /* rx lock held by a live foreign process (pid 1): sender gives up
     * (bounded), drops, and does not hang */
    bp->rx_lock = 1;
    double t = mono();
    assert_int_equal(send_n(a, BCAST, 1, 4, 60, 0), 0);
    assert_true(mono() - t < 2.0);
    /* ... and is then skipped without waiting (for about a second) */
    t = mono();
    for (int i = 0; i < 20; i++)
        assert_int_equal(send_n(a, BCAST, 1, 4, 60, 0), 0);
    assert_true(mono() - t < 0.04);
    a->stuck_until_ms[vpio_port_id(b)] = 0;
    /* lock held by a dead tid: taken over */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    bp->rx_lock = (uint32_t)pid;
    assert_int_equal(send_n(a, BCAST, 1, 4, 60, 0), 4);
    assert_int_equal(drain(b), 4);

    /* garbage port state / pid / MAC table */
    memset(ar->mac, 0xa5, VPIO_SW_MAC_ENTRIES * sizeof(struct vpio_sw_mac));
    ar->ports[40].state = 12345;
    ar->ports[41].state = SW_PORT_ACTIVE;
    ar->ports[41].pid = -5;
    ar->ports[41].rx_hwtail = 3;
    ar->ports[41].rx_hwcur = 99999;
    uint8_t mb[6];
    mac_of(mb, 2);
    send_n(a, mb, 1, 4, 60, 0);
    assert_int_equal(drain(b), 4);

    /* a corrupted header: new attachers refuse it */
    ar->hdr->version = 99;
    struct vpio_port *c;
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:c", swname);
    assert_int_equal(vpio_port_open(&c, ifname, 0), -EPROTO);
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), -EPROTO);
    ar->hdr->version = VPIO_SW_VERSION;
    vpio_port_close(a);
    vpio_port_close(b);
    /* a stale, invalid arena can be removed */
    assert_int_equal(vpio_switch_remove(swname, 0), 0);
}

/* An owner killed but not reaped by its parent (a zombie) is dead: the
 * port is reclaimed, senders count drops, the name can be re-attached. An
 * owner whose pid exists but with another start time (a recycled pid) is
 * dead too. */
static void test_zombie_and_recycled_owner(void **state)
{
    (void)state;
    fake_ms = 700000;
    sw_now_ms = fake_clock;
    struct vpio_port *a = open_port("a");
    struct sw_arena *ar = &a->a;
    pid_t z = child_port("z");
    int zid = find_port(ar, "z");
    assert_true(zid >= 0);
    assert_int_not_equal(ar->ports[zid].pid_start, 0);
    assert_true(sw_port_owner_alive(&ar->ports[zid]));
    kill(z, SIGKILL); /* and no waitpid: a zombie */
    char path[64], stat[512] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", (int)z);
    for (int i = 0; i < 400; i++) { /* until the kernel has made it a zombie */
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = 0;
        if (strstr(stat, ") Z "))
            break;
        usleep(5000);
    }
    assert_non_null(strstr(stat, ") Z "));
    assert_int_equal(kill(z, 0), 0); /* what liveness used to be */
    assert_false(sw_pid_alive(z));
    assert_false(sw_port_owner_alive(&ar->ports[zid]));
    fake_ms += 1000;
    struct vpio_port_stats st0, st1;
    vpio_port_stats(a, &st0);
    assert_int_equal(send_n(a, BCAST, 1, 3, 60, 0), 0); /* reaps first: nobody left */
    assert_int_equal(ar->ports[zid].state, SW_PORT_FREE);
    vpio_port_stats(a, &st1);
    assert_int_equal(st1.tx_drops - st0.tx_drops, 3);
    struct vpio_port *z2 = open_port("z"); /* the name is free */
    assert_int_equal(send_n(a, BCAST, 1, 3, 60, 0), 3);
    assert_int_equal(drain(z2), 3);
    waitpid(z, NULL, 0);

    /* a live process with the owner's pid but not its start time */
    pid_t r = child_port("r");
    int rid = find_port(ar, "r");
    assert_true(rid >= 0);
    char ifname[80];
    struct vpio_port *x;
    snprintf(ifname, sizeof ifname, "%s:r", swname);
    assert_int_equal(vpio_port_open(&x, ifname, 0), -EBUSY);
    ar->ports[rid].pid_start += 1;
    assert_false(sw_port_owner_alive(&ar->ports[rid]));
    x = open_port("r"); /* taken over */
    assert_int_equal(ar->ports[rid].pid, getpid());
    kill(r, SIGKILL);
    waitpid(r, NULL, 0);
    vpio_port_close(x);
    vpio_port_close(z2);
    vpio_port_close(a);
}

/* ---- creation protocol: concurrent first attachers, stale arena ---- */
static void test_concurrent_create(void **state)
{
    (void)state;
    enum { NCHILD = 8 };
    pid_t kids[NCHILD];
    int go[2];
    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < NCHILD; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            char c, ifname[80];
            close(go[1]);
            if (read(go[0], &c, 1) != 0) /* wait for the start (EOF) */
                _exit(3);
            snprintf(ifname, sizeof ifname, "%s:k%d", swname, i);
            struct vpio_port *p;
            int rc = vpio_port_open(&p, ifname, 0);
            if (rc < 0)
                _exit(1);
            /* every child must be on the same arena: broadcast one frame */
            uint8_t f[60];
            make_frame(f, 60, BCAST, 100 + (unsigned)i, 0);
            struct vpio_pkt pk = {.data = f, .len = 60};
            vpio_port_send_batch(p, &pk, 1);
            usleep(200000);
            vpio_port_close(p);
            _exit(0);
        }
    }
    close(go[0]);
    close(go[1]); /* all start at once */
    int ok = 0;
    for (int i = 0; i < NCHILD; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    assert_int_equal(ok, NCHILD);
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    assert_int_equal(info.nports, 0); /* all closed */
}

static void test_stale_arena(void **state)
{
    (void)state;
    /* a creator that died after O_EXCL but before publishing `ready` */
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/vpio-%s", swname);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    struct vpio_port *a = open_port("a"); /* waits ~2 s, recreates */
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    assert_int_equal(info.nports, 1);
    vpio_port_close(a);
}

/* A header corrupted under live ports (ready word, creator pid): the next
 * attacher must not unlink and recreate the switch (the live ports would
 * keep the old file: a split switch); it refuses with -EUCLEAN. Removal
 * without force is refused too; rm -f is the way out. */
static void test_corrupt_header_live_ports(void **state)
{
    (void)state;
    struct vpio_port *a = open_port("a"), *b = open_port("b");
    struct sw_arena *ar = &a->a;
    char path[128], ifname[80];
    struct stat st0, st1;
    snprintf(path, sizeof path, "/dev/shm/vpio-%s", swname);
    assert_int_equal(stat(path, &st0), 0);
    ar->hdr->ready = 0x12345678;
    ar->hdr->creator_pid = 0;
    struct vpio_port *c = NULL;
    snprintf(ifname, sizeof ifname, "%s:c", swname);
    assert_int_equal(vpio_port_open(&c, ifname, 0), -EUCLEAN); /* after the ~2 s wait */
    assert_non_null(strstr(vpio_switch_strerror(-EUCLEAN), "rm -f"));
    assert_int_equal(stat(path, &st1), 0);
    assert_true(st0.st_ino == st1.st_ino);              /* the same file: not split */
    assert_int_equal(send_n(a, BCAST, 1, 5, 60, 0), 5); /* still one switch */
    assert_int_equal(drain(b), 5);
    assert_int_equal(vpio_switch_remove(swname, 0), -EBUSY);
    /* an invalid magic with live ports: not removed without force either */
    ar->hdr->ready = VPIO_SW_READY;
    ar->hdr->magic = 0;
    assert_int_equal(vpio_port_open(&c, ifname, 0), -EPROTO);
    assert_int_equal(vpio_switch_remove(swname, 0), -EBUSY);
    assert_int_equal(vpio_switch_remove(swname, 1), 0);
    assert_int_not_equal(stat(path, &st1), 0);
    vpio_port_close(b);
    vpio_port_close(a);
}

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_corrupt_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zombie_and_recycled_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_header_live_ports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
