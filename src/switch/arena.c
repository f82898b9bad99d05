/* The switch arena: creation / attach by name, validation, the owner-tid
 * locks and the reclaiming of ports whose owner died.
 *
 * Creation protocol: shm_open(O_CREAT | O_EXCL) decides the creator; it sizes
 * the file, initialises everything and only then stores hdr->ready (release).
 * Others wait (bounded) for the size and the ready word; a creator that died
 * before publishing leaves a stale file that the next attacher removes and
 * recreates. The header is validated against this build's constants and
 * never trusted afterwards: every offset and limit is a compile-time
 * constant of this process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "switch/sw_internal.h"
#include "vpio/clock.h"

_Static_assert(sizeof(struct vpio_sw_hdr) <= SW_HDR_SIZE, "header too large");
_Static_assert(sizeof(struct vpio_sw_lease) == 32, "lease layout");
_Static_assert(sizeof(struct vpio_sw_port) == 384 + SW_LEASES * 32, "port record layout");
_Static_assert(sizeof(struct vpio_ring) % 64 == 0, "ring layout");
_Static_assert((VPIO_SW_RING_SLOTS & (VPIO_SW_RING_SLOTS - 1)) == 0, "ring size power of 2");

/* State (field 3) and start time (field 22, clock ticks since boot) of a
 * process or thread from /proc/PID/stat. The command name (field 2) may hold
 * spaces and parentheses: fields are counted from the last ')'. Returns 0,
 * or -1 if the file cannot be read or parsed. */
static int proc_stat(int32_t pid, char *state, uint64_t *start)
{
    char path[40], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *c = strrchr(buf, ')');
    if (!c || c[1] != ' ' || !c[2])
        return -1;
    *state = c[2];
    /* c + 2 is field 3; field 22 is 19 blanks further */
    char *f = c + 2;
    for (int k = 0; k < 19; k++) {
        f = strchr(f, ' ');
        if (!f)
            return -1;
        f++;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(f, &end, 10);
    if (errno || end == f)
        return -1;
    *start = v;
    return 0;
}

uint64_t sw_pid_start(int32_t pid)
{
    char st;
    uint64_t start;
    return pid > 0 && proc_stat(pid, &st, &start) == 0 ? start : 0;
}

/* kill(pid, 0) first (cheap, and the answer where /proc is hidden); a
 * zombie (killed, not yet reaped by its parent) or a dying process is dead
 * although kill() still finds it. */
int sw_pid_alive(int32_t pid)
{
    return sw_owner_alive(pid, 0);
}

static int pid_exists(int32_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int sw_owner_alive(int32_t pid, uint64_t start)
{
    if (!pid_exists(pid))
        return 0;
    char st;
    uint64_t t;
    if (proc_stat(pid, &st, &t) < 0)
        return 1; /* exists, /proc does not tell more */
    if (st == 'Z' || st == 'X' || st == 'x')
        return 0;
    return !start || t == start; /* another start time: a recycled pid */
}

/* The cached thread id must not survive fork(): the child's thread would
 * otherwise use its parent's id as lock holder and lease owner. */
static __thread uint32_t cached_tid;
static pthread_once_t tid_once = PTHREAD_ONCE_INIT;

static void tid_forget(void)
{
    cached_tid = 0; /* runs in the child, in the thread that forked */
}

static void tid_init(void)
{
    pthread_atfork(NULL, NULL, tid_forget);
}

uint32_t sw_tid(void)
{
    if (!cached_tid) {
        pthread_once(&tid_once, tid_init);
        cached_tid = (uint32_t)gettid();
    }
    return cached_tid;
}

int sw_lock(uint32_t *w, unsigned max_wait_us)
{
    uint32_t me = sw_tid();
    uint64_t start = 0;
    for (unsigned spin = 0;; spin++) {
        uint32_t cur = 0;
        if (__atomic_compare_exchange_n(w, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 0;
        if ((spin & 63) == 63) {
            /* Holder dead (or garbage, or "us": we never nest)? take over.
             * kill() at every check; /proc (a zombie holder) once we have
             * waited 1 ms, so a busy lock costs no file reads. */
            uint64_t now = vpio_now_ns() / 1000u;
            int first = !start;
            if (first)
                start = now;
            if (cur == me || (int32_t)cur <= 0 || !pid_exists((int32_t)cur) ||
                (now - start >= 1000 && !sw_pid_alive((int32_t)cur))) {
                if (__atomic_compare_exchange_n(w, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                    return 1;
                continue;
            }
            if (!first && now - start >= max_wait_us)
                return -ETIMEDOUT;
            sched_yield();
        } else {
            __builtin_ia32_pause();
        }
    }
}

void sw_unlock(uint32_t *w)
{
    uint32_t me = sw_tid();
    __atomic_compare_exchange_n(w, &me, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

int sw_valid_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
        if (n + 1 >= VPIO_SW_NAME_MAX)
            return 0;
    }
    return n > 0 && strcmp(s, ".") && strcmp(s, "..");
}

static void shm_path(char *out, size_t cap, const char *sw)
{
    snprintf(out, cap, "/vpio-%s", sw);
}

static void init_arena(uint8_t *base, const char *sw)
{
    struct vpio_sw_hdr *h = (struct vpio_sw_hdr *)base;
    h->magic = VPIO_SW_MAGIC;
    h->version = VPIO_SW_VERSION;
    h->arena_size = SW_ARENA_SIZE;
    h->max_ports = VPIO_SW_MAX_PORTS;
    h->ring_slots = VPIO_SW_RING_SLOTS;
    h->buf_size = VPIO_SW_BUF_SIZE;
    h->mac_entries = VPIO_SW_MAC_ENTRIES;
    h->mac_ofs = SW_MAC_OFS;
    h->ports_ofs = SW_PORTS_OFS;
    h->rings_ofs = SW_RINGS_OFS;
    h->bufs_ofs = SW_BUFS_OFS;
    h->creator_pid = getpid();
    h->age_ms = VPIO_SW_AGE_MS;
    snprintf(h->name, sizeof h->name, "%s", sw);
    /* The file is fresh (zero-filled): ports FREE, MAC table empty. Ring
     * headers are set when a port is attached. */
    __atomic_store_n(&h->ready, VPIO_SW_READY, __ATOMIC_RELEASE);
}

static int validate_hdr(const struct vpio_sw_hdr *h)
{
    if (h->magic != VPIO_SW_MAGIC || h->version != VPIO_SW_VERSION ||
        h->arena_size != SW_ARENA_SIZE || h->max_ports != VPIO_SW_MAX_PORTS ||
        h->ring_slots != VPIO_SW_RING_SLOTS || h->buf_size != VPIO_SW_BUF_SIZE ||
        h->mac_entries != VPIO_SW_MAC_ENTRIES || h->mac_ofs != SW_MAC_OFS ||
        h->ports_ofs != SW_PORTS_OFS || h->rings_ofs != SW_RINGS_OFS || h->bufs_ofs != SW_BUFS_OFS)
        return -EPROTO;
    return 0;
}

static int map_fd(struct sw_arena *a, int fd)
{
    void *m = mmap(NULL, SW_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return -errno;
    /* guarded before the first access: a peer may truncate the file */
    int g = sw_guard_add(m, SW_ARENA_SIZE);
    if (g < 0) {
        munmap(m, SW_ARENA_SIZE);
        return -EMFILE;
    }
    a->guard = g;
    a->base = m;
    a->size = SW_ARENA_SIZE;
    a->hdr = (struct vpio_sw_hdr *)a->base;
    a->mac = (struct vpio_sw_mac *)(a->base + SW_MAC_OFS);
    a->ports = (struct vpio_sw_port *)(a->base + SW_PORTS_OFS);
    return 0;
}

/* Ports of a mapped arena (header valid or not: the layout is this build's
 * constants) whose owner is alive. */
static unsigned live_owners(const struct sw_arena *a)
{
    unsigned n = 0;
    for (unsigned i = 0; i < VPIO_SW_MAX_PORTS; i++)
        n += __atomic_load_n(&a->ports[i].state, __ATOMIC_ACQUIRE) != SW_PORT_FREE &&
             sw_port_owner_alive(&a->ports[i]);
    return n;
}

/* Wait (bounded) for a peer-created arena to be sized and published. */
static int wait_ready(struct sw_arena *a, int fd, const char *path)
{
    uint64_t t0 = vpio_now_ns() / 1000u;
    struct stat st;
    for (;;) {
        if (fstat(fd, &st) < 0)
            return -errno;
        if ((uint64_t)st.st_size >= SW_ARENA_SIZE) {
            if (!a->base) {
                int rc = map_fd(a, fd);
                if (rc < 0)
                    return rc;
            }
            if (__atomic_load_n(&a->hdr->ready, __ATOMIC_ACQUIRE) == VPIO_SW_READY)
                return 0;
        }
        if (vpio_now_ns() / 1000u - t0 > 2000000) {
            /* Stale: the creator died before publishing (or a foreign file). */
            int32_t creator = a->base ? a->hdr->creator_pid : 0;
            if (a->base && creator > 0 && sw_pid_alive(creator) && creator != getpid())
                return -ETIMEDOUT;
            /* Or a header corrupted under live ports: recreating it would
             * split the switch (they keep the old file). Refuse; `vpio
             * switch rm -f` is the way out. */
            if (a->base && !sw_arena_broken(a) && live_owners(a))
                return -EUCLEAN;
            struct stat st2;
            char full[PATH_MAX];
            snprintf(full, sizeof full, "/dev/shm%s", path);
            if (stat(full, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev)
                shm_unlink(path);
            return -EAGAIN;
        }
        usleep(1000);
    }
}

int sw_arena_open(struct sw_arena *a, const char *sw, int create)
{
    char path[64];
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->guard = -1;
    if (!sw_valid_name(sw))
        return -EINVAL;
    shm_path(path, sizeof path, sw);
    snprintf(a->name, sizeof a->name, "%s", sw);
    for (int attempt = 0; attempt < 4; attempt++) {
        if (create) {
            int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd >= 0) {
                if (ftruncate(fd, (off_t)SW_ARENA_SIZE) < 0) {
                    int e = -errno;
                    close(fd);
                    shm_unlink(path);
                    return e;
                }
                int rc = map_fd(a, fd);
                if (rc < 0) {
                    close(fd);
                    shm_unlink(path);
                    return rc;
                }
                a->fd = fd;
                init_arena(a->base, sw);
                a->age_ms = VPIO_SW_AGE_MS;
                return 0;
            }
            if (errno != EEXIST)
                return -errno;
        }
        int fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == ENOENT && create)
                continue; /* removed in between: try to create again */
            return -errno;
        }
        int rc = wait_ready(a, fd, path);
        if (rc == 0) {
            a->fd = fd;
            rc = validate_hdr(a->hdr);
            if (rc == 0) {
                uint32_t age = a->hdr->age_ms;
                a->age_ms = age >= 1 && age <= 86400000u ? age : VPIO_SW_AGE_MS;
                return 0;
            }
            sw_arena_close(a);
            return rc;
        }
        if (a->base) {
            sw_guard_del(a->guard);
            munmap(a->base, a->size);
        }
        a->base = NULL;
        a->guard = -1;
        close(fd);
        if (rc != -EAGAIN || !create)
            return rc == -EAGAIN ? -EPROTO : rc;
    }
    return -EAGAIN;
}

void sw_arena_close(struct sw_arena *a)
{
    if (a->base) {
        sw_guard_del(a->guard); /* before the range can be reused */
        munmap(a->base, a->size);
    }
    a->guard = -1;
    if (a->fd >= 0)
        close(a->fd);
    a->base = NULL;
    a->fd = -1;
}

/* Reclaim ports whose owner died. Takes the port lock (waits at most
 * wait_ms; skips the reap if the lock is busy). */
void sw_reap(struct sw_arena *a, int wait_ms)
{
    int dead[VPIO_SW_MAX_PORTS], nd = 0;
    for (unsigned i = 0; i < VPIO_SW_MAX_PORTS; i++) {
        struct vpio_sw_port *sp = &a->ports[i];
        uint32_t st = __atomic_load_n(&sp->state, __ATOMIC_ACQUIRE);
        if (st != SW_PORT_FREE && !sw_port_owner_alive(sp))
            dead[nd++] = (int)i;
    }
    if (!nd || sw_lock(&a->hdr->port_lock, (unsigned)wait_ms * 1000u) < 0)
        return;
    for (int k = 0; k < nd; k++) {
        struct vpio_sw_port *sp = &a->ports[dead[k]];
        if (__atomic_load_n(&sp->state, __ATOMIC_ACQUIRE) == SW_PORT_FREE ||
            sw_port_owner_alive(sp))
            continue;
        int locked = sw_lock(&sp->rx_lock, 20000) >= 0;
        __atomic_store_n(&sp->state, SW_PORT_FREE, __ATOMIC_RELEASE);
        if (locked)
            sw_unlock(&sp->rx_lock);
        sw_mac_forget_port(a, (unsigned)dead[k]);
    }
    sw_unlock(&a->hdr->port_lock);
}

int vpio_switch_list(char (*names)[VPIO_SW_NAME_MAX], int max)
{
    DIR *d = opendir("/dev/shm");
    if (!d)
        return -errno;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "vpio-", 5) || !sw_valid_name(de->d_name + 5))
            continue;
        if (n < max)
            snprintf(names[n], VPIO_SW_NAME_MAX, "%s", de->d_name + 5);
        n++;
    }
    closedir(d);
    /* sort the returned names */
    int m = n < max ? n : max;
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[VPIO_SW_NAME_MAX];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    return n;
}

int vpio_switch_info(const char *sw, struct vpio_switch_info *info)
{
    struct sw_arena a;
    int rc = sw_arena_open(&a, sw, 0);
    if (rc < 0)
        return rc;
    sw_reap(&a, 100);
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", sw);
    info->creator_pid = a.hdr->creator_pid;
    info->arena_bytes = a.size;
    info->mac_entries = sw_mac_count(&a, sw_now_ms());
    for (unsigned i = 0; i < VPIO_SW_MAX_PORTS; i++) {
        struct vpio_sw_port *sp = &a.ports[i];
        if (__atomic_load_n(&sp->state, __ATOMIC_ACQUIRE) == SW_PORT_FREE)
            continue;
        struct vpio_switch_port_info *pi = &info->port[info->nports++];
        pi->id = (int)i;
        memcpy(pi->name, sp->name, VPIO_SW_NAME_MAX);
        pi->name[VPIO_SW_NAME_MAX - 1] = 0;
        pi->pid = sp->pid;
        memcpy(pi->label, sp->label, sizeof pi->label);
        pi->label[sizeof pi->label - 1] = 0;
        pi->alive = sw_port_owner_alive(sp);
        pi->rx_pending = vpio_ring_dist(__atomic_load_n(&sp->rx_hwcur, __ATOMIC_RELAXED),
                                        __atomic_load_n(&sp->rx_hwtail, __ATOMIC_RELAXED));
        /* forgeable counters: a reader whose previous read was zeros at
         * the owner's start (the attach zeroes them after it) */
        struct vpio_port_stats raw;
        struct vpio_stats_reader rd;
        sw_read_stats(sp, &raw);
        uint64_t now = vpio_now_ns();
        uint64_t age = sw_owner_age_ns(__atomic_load_n(&sp->pid_start, __ATOMIC_RELAXED));
        vpio_stats_reader_init(&rd, NULL, now > age ? now - age : 0);
        vpio_stats_read(&rd, &raw, now, &pi->st);
    }
    /* truncated under us: what we read is zeros, not the switch */
    rc = sw_arena_broken(&a) ? -ENXIO : 0;
    sw_arena_close(&a);
    return rc;
}

/* Whether the file at shm path has a port with a live owner, whatever its
 * header says (0 if it cannot be mapped in full). */
static int switch_file_in_use(const char *path)
{
    int fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct stat st;
    struct sw_arena a;
    memset(&a, 0, sizeof a);
    a.guard = -1;
    int used = 0;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= SW_ARENA_SIZE && map_fd(&a, fd) == 0) {
        used = live_owners(&a) > 0 && !sw_arena_broken(&a);
        sw_guard_del(a.guard);
        munmap(a.base, a.size);
    }
    close(fd);
    return used;
}

int vpio_switch_remove(const char *sw, int force)
{
    char path[64];
    if (!sw_valid_name(sw))
        return -EINVAL;
    shm_path(path, sizeof path, sw);
    struct vpio_switch_info info;
    int rc = vpio_switch_info(sw, &info);
    if (rc == -ENOENT)
        return rc;
    if (rc == 0 && !force)
        for (unsigned i = 0; i < info.nports; i++)
            if (info.port[i].alive)
                return -EBUSY;
    /* rc < 0 other than ENOENT: not a valid arena (stale, foreign, a
     * corrupted header): removed unless its port records, read at this
     * build's offsets, name a live owner */
    if (rc < 0 && !force && switch_file_in_use(path))
        return -EBUSY;
    if (shm_unlink(path) < 0)
        return -errno;
    return 0;
}

const char *vpio_switch_strerror(int err)
{
    if (err == -EUCLEAN)
        return "the switch file is corrupt and live ports still use it (remove it with: vpio "
               "switch rm -f NAME)";
    if (err == -EPROTO)
        return "not a valid switch file (other version or corrupt; vpio switch rm NAME)";
    return strerror(err < 0 ? -err : err);
}
