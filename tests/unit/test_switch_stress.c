/* Stress test of the switch with real concurrent peers (fuzz_arena runs all
 * its peers in one thread). In one child process (so cmocka's signal
 * handlers stay out and alarm() bounds it):
 *  - two sender threads (batches of 1..64 frames, 60..3000 bytes, some as
 *    iovecs, broadcast and unknown unicast) that pause now and then, so
 *  - two receiver threads fall asleep in the futex: one through
 *    vpio_port_poll, one through vpio_port_rx_wait + recv_batch;
 *  - a port that is attached and detached again and again (a third thread);
 *  - two forked garbage writers with the arena mapped, writing random words
 *    into port records, lease tables, lock words (dead holders or
 *    themselves), rings and the MAC table, and a forked sender that kills
 *    itself inside a lease (SIGKILL; the lease must expire);
 *  then, garbage writers gone, every receiver must receive again (recovery);
 *  then a forked peer truncates the arena file: every thread's calls must
 *  refuse (-ENXIO) through the SIGBUS guard, nobody crashes.
 * A second part has four threads attach at once to a stale switch file (a
 * creator that died before `ready`): all must end up on one new arena.
 * Bounded: ~STRESS_SECONDS (env VPIO_STRESS_SECONDS, default 6) of garbage,
 * ~12 s in all; alarm(90) kills a hang. Runs under ASan in `make check`;
 * under ThreadSanitizer with `make tsan-switch-stress` (docs/switch.md). */
#include "switch_test_util.h"

#include <stdatomic.h>

enum { NSEND = 2, NRECV = 2 };

struct stress {
    struct vpio_port *tx[NSEND], *rx[NRECV];
    atomic_int stop;
    atomic_int paused;                       /* senders hold off (receivers sleep) */
    atomic_ulong sent[NSEND];                /* frames delivered to >= 1 port */
    atomic_ulong got[NRECV];                 /* frames received */
    atomic_int err_tx[NSEND], err_rx[NRECV]; /* first negative return seen */
    atomic_ulong churn_ok, churn_fail;
};

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

struct send_arg {
    struct stress *st;
    int i;
};

static void *send_main(void *arg)
{
    struct send_arg *sa = arg;
    struct stress *st = sa->st;
    static _Thread_local uint8_t frames[64][3000];
    struct vpio_pkt pk[64];
    struct iovec iov[64][2];
    uint32_t seed = 0x9e3779b9u * (uint32_t)(sa->i + 1);
    unsigned long loops = 0;
    while (!atomic_load(&st->stop)) {
        if (atomic_load(&st->paused)) {
            usleep(2000);
            continue;
        }
        unsigned n = 1 + rnd(&seed) % 64;
        for (unsigned k = 0; k < n; k++) {
            uint32_t len = 60 + rnd(&seed) % 2941;
            uint8_t dst[6];
            if (rnd(&seed) & 1)
                memcpy(dst, BCAST, 6);
            else
                mac_of(dst, 200 + rnd(&seed) % 4); /* never learned: flooded */
            make_frame(frames[k], len, dst, 10 + (unsigned)sa->i, (uint32_t)loops);
            if (len > 100 && (rnd(&seed) & 3) == 0) {
                iov[k][0] = (struct iovec){frames[k], 40};
                iov[k][1] = (struct iovec){frames[k] + 40, len - 40};
                pk[k] = (struct vpio_pkt){.iovcnt = 2, .iov = iov[k]};
            } else {
                pk[k] = (struct vpio_pkt){.data = frames[k], .len = len};
            }
        }
        unsigned ok = vpio_port_send_batch(st->tx[sa->i], pk, n);
        atomic_fetch_add(&st->sent[sa->i], ok);
        struct vpio_port_stats ps;
        int rc = vpio_port_stats(st->tx[sa->i], &ps);
        if (rc < 0) {
            int z = 0;
            atomic_compare_exchange_strong(&st->err_tx[sa->i], &z, rc);
        }
        loops++;
    }
    return NULL;
}

static void *recv_main(void *arg)
{
    struct send_arg *ra = arg;
    struct stress *st = ra->st;
    struct vpio_port *p = st->rx[ra->i];
    static _Thread_local uint8_t buf[32][VPIO_SW_MAX_FRAME];
    struct vpio_rxpkt rp[32];
    while (!atomic_load(&st->stop)) {
        int rc = ra->i == 0 ? vpio_port_poll(p, VPIO_POLL_RX, 20) : vpio_port_rx_wait(p, 20000);
        if (rc < 0) {
            int z = 0;
            atomic_compare_exchange_strong(&st->err_rx[ra->i], &z, rc);
            usleep(1000);
            continue;
        }
        for (int k = 0; k < 32; k++)
            rp[k] = (struct vpio_rxpkt){.buf = buf[k], .cap = sizeof buf[k]};
        unsigned n = vpio_port_recv_batch(p, rp, 32);
        atomic_fetch_add(&st->got[ra->i], n);
    }
    return NULL;
}

static void *churn_main(void *arg)
{
    struct stress *st = arg;
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:churn", swname);
    while (!atomic_load(&st->stop)) {
        struct vpio_port *c;
        if (vpio_port_open(&c, ifname, 0) == 0) {
            atomic_fetch_add(&st->churn_ok, 1);
            usleep(1000);
            vpio_port_close(c);
        } else {
            atomic_fetch_add(&st->churn_fail, 1);
            usleep(5000);
        }
    }
    return NULL;
}

/* A hostile peer: random words into the shared state, until killed. Lock
 * words get values whose holder is dead (0, garbage beyond pid_max) or
 * this process (dead once it is killed): a live foreign holder would stall
 * a port for good, a documented limit, not what this test is about. */
static void garbage_main(unsigned seed0)
{
    char path[80];
    snprintf(path, sizeof path, "/vpio-%s", swname);
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0)
        _exit(20);
    uint8_t *base = mmap(NULL, SW_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        _exit(21);
    struct sw_arena a = {.base = base, .ports = (struct vpio_sw_port *)(base + SW_PORTS_OFS)};
    uint32_t s = seed0;
    for (unsigned long it = 0;; it++) {
        unsigned port = rnd(&s) % 8; /* the ports in use are the first few */
        struct vpio_sw_port *sp = &a.ports[port];
        uint32_t v = rnd(&s);
        switch (rnd(&s) % 10) {
        case 0:
            __atomic_store_n(&sp->rx_hwtail, v % (VPIO_SW_RING_SLOTS + 8), __ATOMIC_RELAXED);
            break;
        case 1:
            __atomic_store_n(&sp->rx_hwcur, v % (VPIO_SW_RING_SLOTS + 8), __ATOMIC_RELAXED);
            break;
        case 2:
            __atomic_store_n(&sp->rx_resv, v % (VPIO_SW_RING_SLOTS + 8), __ATOMIC_RELAXED);
            break;
        case 3: { /* lease table */
            uint32_t *w = (uint32_t *)&sp->lease[v % SW_LEASES];
            __atomic_store_n(&w[rnd(&s) % 8], rnd(&s), __ATOMIC_RELAXED);
            break;
        }
        case 4:
            __atomic_store_n(&sp->lease_next, sp->lease_first + v % 80, __ATOMIC_RELAXED);
            break;
        case 5: { /* lock word: dead holder or ourselves */
            uint32_t h = (v & 1) ? (uint32_t)getpid() : (v & 2) ? 0u : 0x7f000000u | v;
            __atomic_store_n((v & 4) ? &sp->rx_lock : &a.ports[0].rx_lock, h, __ATOMIC_RELAXED);
            break;
        }
        case 6: { /* ring slots and ring header */
            struct vpio_ring *r = sw_ring(&a, port, v & 1);
            uint32_t *w = (uint32_t *)r;
            __atomic_store_n(&w[rnd(&s) % (sizeof *r / 4)], rnd(&s), __ATOMIC_RELAXED);
            break;
        }
        case 7: { /* MAC table */
            uint64_t *m = (uint64_t *)(base + SW_MAC_OFS);
            __atomic_store_n(&m[v % (2 * VPIO_SW_MAC_ENTRIES)], ((uint64_t)rnd(&s) << 32) | rnd(&s),
                             __ATOMIC_RELAXED);
            break;
        }
        case 8: /* counters and the wake flag */
            __atomic_store_n(&sp->rx_drops, ((uint64_t)v << 32) | rnd(&s), __ATOMIC_RELAXED);
            __atomic_store_n(&sp->rx_need_wake, v & 1, __ATOMIC_RELAXED);
            break;
        default: /* a frame's buffer */
            sw_buf(&a, port, 1, v)[rnd(&s) % VPIO_SW_BUF_SIZE] = (uint8_t)rnd(&s);
            break;
        }
        if ((it & 255) == 0)
            usleep(200); /* let the others run between bursts */
    }
}

/* A sender process killed in the middle of a lease (after it has held a
 * few hundred, while everyone else keeps going): its lease is left pending
 * and must expire. */
static unsigned doomed_leases;
static void die_mid_lease(struct vpio_port *p, unsigned dst)
{
    (void)p;
    (void)dst;
    if (++doomed_leases == 300)
        raise(SIGKILL);
}

static void doomed_sender_main(void)
{
    sw_lease_hook = die_mid_lease;
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:doomed", swname);
    struct vpio_port *p;
    if (vpio_port_open(&p, ifname, 0) < 0)
        _exit(30);
    for (uint32_t i = 0;; i++)
        send_n(p, BCAST, 50, 64, 1514, i);
}

static unsigned long total(atomic_ulong *c, int n)
{
    unsigned long t = 0;
    for (int i = 0; i < n; i++)
        t += atomic_load(&c[i]);
    return t;
}

static int stress_child(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, NULL);
    sigaction(SIGSEGV, &dfl, NULL);
    alarm(90);
    const char *env = getenv("VPIO_STRESS_SECONDS");
    int secs = env && atoi(env) > 0 ? atoi(env) : 6;
    static struct stress st;
    char ifname[80];
    for (int i = 0; i < NRECV; i++) {
        snprintf(ifname, sizeof ifname, "%s:rx%d", swname, i);
        if (vpio_port_open(&st.rx[i], ifname, 0) < 0)
            return 10;
    }
    for (int i = 0; i < NSEND; i++) {
        snprintf(ifname, sizeof ifname, "%s:tx%d", swname, i);
        if (vpio_port_open(&st.tx[i], ifname, 0) < 0)
            return 11;
    }
    pthread_t ts[NSEND], tr[NRECV], tc;
    struct send_arg sa[NSEND], ra[NRECV];
    for (int i = 0; i < NRECV; i++) {
        ra[i] = (struct send_arg){&st, i};
        pthread_create(&tr[i], NULL, recv_main, &ra[i]);
    }
    for (int i = 0; i < NSEND; i++) {
        sa[i] = (struct send_arg){&st, i};
        pthread_create(&ts[i], NULL, send_main, &sa[i]);
    }
    pthread_create(&tc, NULL, churn_main, &st);

    pid_t doomed = fork();
    if (doomed == 0)
        doomed_sender_main();
    pid_t garbage[2];
    for (int g = 0; g < 2; g++) {
        garbage[g] = fork();
        if (garbage[g] == 0)
            garbage_main(0x1234567u * (unsigned)(g + 1));
    }
    /* garbage phase, with pauses so the receivers sleep in the futex */
    for (int ms = 0; ms < secs * 1000; ms += 100) {
        atomic_store(&st.paused, (ms / 100) % 5 == 4);
        usleep(100000);
        if (ms == 2000) { /* it has died in a lease by now (or dies here) */
            kill(doomed, SIGKILL);
            waitpid(doomed, NULL, 0);
        }
    }
    for (int g = 0; g < 2; g++) {
        kill(garbage[g], SIGKILL);
        waitpid(garbage[g], NULL, 0);
    }
    atomic_store(&st.paused, 0);
    /* recovery: the switch repairs itself; every receiver gets frames again.
     * 1.5 s: leases left by the killed garbage writers expire within 1 s. */
    usleep(1500000);
    unsigned long g0[NRECV], s0 = total(st.sent, NSEND);
    for (int i = 0; i < NRECV; i++)
        g0[i] = atomic_load(&st.got[i]);
    usleep(1000000);
    int rc = 0;
    if (total(st.sent, NSEND) == s0) {
        fprintf(stderr, "stress: no frame delivered after the garbage phase\n");
        rc = 12;
    }
    for (int i = 0; i < NRECV; i++)
        if (atomic_load(&st.got[i]) == g0[i]) {
            fprintf(stderr, "stress: receiver %d received nothing after the garbage phase\n", i);
            rc = 13;
        }
    if (!atomic_load(&st.churn_ok)) {
        fprintf(stderr, "stress: the churning port never attached\n");
        rc = 14;
    }
    for (int i = 0; i < NSEND; i++)
        if (atomic_load(&st.err_tx[i]))
            rc = 15;
    for (int i = 0; i < NRECV; i++)
        if (atomic_load(&st.err_rx[i]))
            rc = 16;
    fprintf(stderr,
            "stress: %d s of garbage, sent %lu, received %lu + %lu, churn %lu ok %lu failed\n",
            secs, total(st.sent, NSEND), atomic_load(&st.got[0]), atomic_load(&st.got[1]),
            atomic_load(&st.churn_ok), atomic_load(&st.churn_fail));

    /* a peer truncates the file under everyone: the SIGBUS guard */
    unsigned faults0 = sw_guard_faults();
    pid_t trunc = fork();
    if (trunc == 0) {
        char path[80];
        snprintf(path, sizeof path, "/vpio-%s", swname);
        int fd = shm_open(path, O_RDWR, 0);
        _exit(fd >= 0 && ftruncate(fd, 4096) == 0 ? 0 : 1);
    }
    int ts_ = 0;
    waitpid(trunc, &ts_, 0);
    usleep(300000);
    atomic_store(&st.stop, 1);
    for (int i = 0; i < NSEND; i++)
        pthread_join(ts[i], NULL);
    for (int i = 0; i < NRECV; i++)
        pthread_join(tr[i], NULL);
    pthread_join(tc, NULL);
    if (!WIFEXITED(ts_) || WEXITSTATUS(ts_)) {
        rc = 17;
    } else {
        if (sw_guard_faults() == faults0) {
            fprintf(stderr, "stress: the truncation caused no guarded fault\n");
            rc = 18;
        }
        for (int i = 0; i < NSEND; i++)
            if (atomic_load(&st.err_tx[i]) != -ENXIO) {
                fprintf(stderr, "stress: sender %d did not see -ENXIO\n", i);
                rc = 19;
            }
        for (int i = 0; i < NRECV; i++)
            if (atomic_load(&st.err_rx[i]) != -ENXIO) {
                fprintf(stderr, "stress: receiver %d did not see -ENXIO\n", i);
                rc = 19;
            }
    }
    for (int i = 0; i < NSEND; i++)
        vpio_port_close(st.tx[i]);
    for (int i = 0; i < NRECV; i++)
        vpio_port_close(st.rx[i]);
    return rc;
}

static void test_concurrent_peers_garbage(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exit(stress_child()); /* exit, not _exit: a coverage build writes its profile */
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("stress child died of signal %d", WTERMSIG(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Stale-arena recovery with concurrent attachers. */
struct attach_arg {
    int i;
    int rc;
    struct vpio_port *p;
};

static void *attach_main(void *arg)
{
    struct attach_arg *aa = arg;
    char ifname[80];
    snprintf(ifname, sizeof ifname, "%s:s%d", swname, aa->i);
    aa->rc = vpio_port_open(&aa->p, ifname, 0);
    return NULL;
}

static void test_stale_arena_concurrent_attach(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/vpio-%s", swname);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("a creator that died before it sized the file", f);
    fclose(f);
    enum { N = 4 };
    pthread_t th[N];
    struct attach_arg aa[N];
    for (int i = 0; i < N; i++) {
        aa[i] = (struct attach_arg){.i = i};
        pthread_create(&th[i], NULL, attach_main, &aa[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(aa[i].rc, 0);
    }
    struct vpio_switch_info info;
    assert_int_equal(vpio_switch_info(swname, &info), 0);
    assert_int_equal(info.nports, N); /* one arena, not one per attacher */
    assert_int_equal(send_n(aa[0].p, BCAST, 1, 3, 60, 0), 3);
    for (int i = 1; i < N; i++)
        assert_int_equal(drain(aa[i].p), 3);
    for (int i = 0; i < N; i++)
        vpio_port_close(aa[i].p);
}

int main(void)
{
    switch_test_use_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_peers_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_arena_concurrent_attach, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
