/* Unit tests of the SIGBUS guard (src/switch/guard.c): a peer truncates the arena file. */
#include "switch_test_util.h"

/* ---- a peer truncates the arena file (SIGBUS guard) ---- */
struct trunc_victim {
    struct vpio_port *a, *b;
    int stop;
    int err; /* the first error seen by the victim thread */
    unsigned long loops;
};

static void *trunc_victim_main(void *arg)
{
    struct trunc_victim *v = arg;
    while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
        send_n(v->a, BCAST, 1, 8, 60, 0);
        int rc = vpio_port_poll(v->b, VPIO_POLL_RX, 1);
        if (rc >= 0)
            drain(v->b);
        if (rc < 0 && !v->err)
            v->err = rc;
        v->loops++;
    }
    return NULL;
}

/* Runs in a child process (exit status = result): the switch must survive
 * its own arena file being truncated while a thread forwards through it. */
static int trunc_child(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, NULL); /* not cmocka's: chain to the default */
    char ifname[80], path[80];
    struct trunc_victim v = {0};
    snprintf(ifname, sizeof ifname, "%s:a", swname);
    if (vpio_port_open(&v.a, ifname, 0) < 0)
        return 10;
    snprintf(ifname, sizeof ifname, "%s:b", swname);
    if (vpio_port_open(&v.b, ifname, 0) < 0)
        return 11;
    if (send_n(v.a, BCAST, 1, 10, 60, 0) != 10 || drain(v.b) != 10)
        return 12;
    pthread_t th;
    pthread_create(&th, NULL, trunc_victim_main, &v);
    usleep(50000);
    /* the hostile peer: shrink the file to one page (the header stays) */
    snprintf(path, sizeof path, "/vpio-%s", swname);
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0 || ftruncate(fd, 4096) < 0)
        return 13;
    usleep(200000);
    __atomic_store_n(&v.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    if (v.err != -ENXIO || !v.loops)
        return 14;
    /* every call refuses from now on, and counts */
    if (vpio_port_txsync(v.a) != -ENXIO || vpio_port_rxsync(v.b) != -ENXIO)
        return 15;
    if (send_n(v.a, BCAST, 1, 4, 60, 0) != 0 || drain(v.b) != 0)
        return 16;
    double t = mono();
    if (vpio_port_poll(v.b, VPIO_POLL_RX, -1) != -ENXIO || mono() - t > 1.0)
        return 17;
    struct vpio_port_stats st;
    if (vpio_port_stats(v.b, &st) != -ENXIO || st.rx_errs == 0 || st.rx_pkts != 0)
        return 18;
    if (vpio_port_stats(v.a, &st) != -ENXIO || st.tx_errs == 0)
        return 19;
    vpio_port_close(v.a);
    vpio_port_close(v.b);
    /* an arena mapped after the truncation of another one works normally */
    shm_unlink(path);
    close(fd);
    snprintf(ifname, sizeof ifname, "%s-2:a", swname);
    if (vpio_port_open(&v.a, ifname, 0) < 0)
        return 20;
    snprintf(ifname, sizeof ifname, "%s-2:b", swname);
    if (vpio_port_open(&v.b, ifname, 0) < 0)
        return 21;
    if (send_n(v.a, BCAST, 1, 10, 60, 0) != 10 || drain(v.b) != 10)
        return 22;
    /* truncated to nothing: the same */
    snprintf(path, sizeof path, "/vpio-%s-2", swname);
    fd = shm_open(path, O_RDWR, 0);
    if (fd < 0 || ftruncate(fd, 0) < 0)
        return 23;
    if (send_n(v.a, BCAST, 1, 10, 60, 0) != 0 || vpio_port_txsync(v.a) != -ENXIO)
        return 24;
    vpio_port_close(v.a);
    vpio_port_close(v.b);
    shm_unlink(path);
    close(fd);
    /* a SIGBUS outside every arena still kills (chained to the default) */
    pid_t pid = fork();
    if (pid == 0) {
        snprintf(path, sizeof path, "/vpio-%s-x", swname);
        int xfd = shm_open(path, O_RDWR | O_CREAT, 0600);
        shm_unlink(path);
        if (xfd < 0 || ftruncate(xfd, 4096) < 0)
            _exit(1);
        volatile uint8_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, xfd, 0);
        if (m == MAP_FAILED || ftruncate(xfd, 0) < 0)
            _exit(1);
        m[0] = 1;
        _exit(2);
    }
    int wst;
    waitpid(pid, &wst, 0);
    if (!WIFSIGNALED(wst) || WTERMSIG(wst) != SIGBUS)
        return 25;
    return 0;
}

static void test_truncated_arena(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0)
        _exit(trunc_child());
    int st;
    waitpid(pid, &st, 0);
    char path[80];
    snprintf(path, sizeof path, "/vpio-%s-2", swname);
    shm_unlink(path);
    snprintf(path, sizeof path, "/vpio-%s", swname);
    shm_unlink(path);
    if (!WIFEXITED(st))
        fail_msg("victim died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truncated_arena, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
