/* The arena guard: survive a peer that truncates the shared arena file.
 *
 * Every process maps the whole arena MAP_SHARED from /dev/shm. A peer with
 * write access to the file can ftruncate() it; from then on any access to a
 * page beyond the new end of the file raises SIGBUS in every process that
 * has it mapped. tmpfs files opened by name cannot be sealed against
 * shrinking (F_SEAL_SHRINK needs a memfd, which would need fd passing and a
 * rendezvous daemon), so instead each process guards its mappings:
 *
 *  - every arena mapping is registered in a fixed-size table of address
 *    ranges (registration and removal under a mutex, in normal context; the
 *    handler only reads the table, with atomics);
 *  - a process-wide SIGBUS handler, installed when the first arena is mapped
 *    (and re-installed on a later mapping if someone replaced it), looks the
 *    faulting address up; inside a registered range it maps zero-filled
 *    private anonymous memory over the whole range (mmap MAP_FIXED is a
 *    plain system call, async-signal-safe in practice on Linux), marks the
 *    arena broken and returns: the faulting instruction is restarted and
 *    reads zeros, which every reader of the arena already treats as "no
 *    frames / free port / invalid index". Outside every range (or a SIGBUS
 *    sent with kill), it chains to the handler that was installed before,
 *    or restores the default action so the process dies as it would have;
 *  - the switch API checks the broken flag of the port's arena on entry and
 *    refuses with -ENXIO from then on (switch.h).
 *
 * Removal waits until no handler is running (a counter of handlers in
 * flight), so a handler never maps over an address range that has just been
 * unmapped and reused for something else. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "switch/sw_internal.h"

#define GUARD_MAX 1024 /* arena mappings per process */

struct guard_ent {
    uintptr_t base;  /* 0 = free; atomic */
    size_t size;     /* written before base is published */
    uint32_t broken; /* atomic */
};

static struct guard_ent guard_tab[GUARD_MAX];
static unsigned guard_in_flight; /* handlers running (atomic) */
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction guard_prev; /* the handler we chain to */
static unsigned guard_faults;       /* arenas broken by a fault (atomic) */

static void guard_handler(int sig, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    __atomic_fetch_add(&guard_in_flight, 1, __ATOMIC_SEQ_CST);
    if (si && si->si_code > 0) { /* a fault, not kill()/sigqueue() */
        uintptr_t addr = (uintptr_t)si->si_addr;
        for (unsigned i = 0; i < GUARD_MAX; i++) {
            struct guard_ent *e = &guard_tab[i];
            uintptr_t b = __atomic_load_n(&e->base, __ATOMIC_SEQ_CST);
            if (!b || addr - b >= __atomic_load_n(&e->size, __ATOMIC_RELAXED))
                continue;
            size_t sz = __atomic_load_n(&e->size, __ATOMIC_RELAXED);
            void *m = mmap((void *)b, sz, PROT_READ | PROT_WRITE,
                           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (m == MAP_FAILED)
                break; /* cannot repair: behave as without the guard */
            __atomic_store_n(&e->broken, 1, __ATOMIC_SEQ_CST);
            __atomic_fetch_add(&guard_faults, 1, __ATOMIC_RELAXED);
            __atomic_fetch_sub(&guard_in_flight, 1, __ATOMIC_SEQ_CST);
            errno = saved_errno;
            return; /* the access is restarted on the zero pages */
        }
    }
    __atomic_fetch_sub(&guard_in_flight, 1, __ATOMIC_SEQ_CST);
    errno = saved_errno;
    /* Not ours: chain. */
    if (guard_prev.sa_flags & SA_SIGINFO) {
        if (guard_prev.sa_sigaction) {
            guard_prev.sa_sigaction(sig, si, uc);
            return;
        }
    } else if (guard_prev.sa_handler != SIG_DFL && guard_prev.sa_handler != SIG_IGN) {
        guard_prev.sa_handler(sig);
        return;
    }
    /* default (or ignored: a fault cannot be ignored): die as without us */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (!si || si->si_code <= 0)
        raise(sig); /* delivered when the handler returns */
    /* a fault: returning restarts the access, which faults again, fatally */
}

/* Make sure guard_handler is the SIGBUS handler (called with guard_mu). */
static void guard_install(void)
{
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) < 0)
        return;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == guard_handler)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    /* Someone re-installed our function without SA_SIGINFO (a library that
     * saved and restored it with signal()): keep the old chain. (glibc
     * keeps sa_handler and sa_sigaction in one union.) */
    if (cur.sa_sigaction != guard_handler)
        guard_prev = cur;
    sigaction(SIGBUS, &sa, NULL);
}

int sw_guard_add(void *base, size_t size)
{
    pthread_mutex_lock(&guard_mu);
    guard_install();
    int slot = -ENOSPC;
    for (unsigned i = 0; i < GUARD_MAX; i++) {
        struct guard_ent *e = &guard_tab[i];
        if (__atomic_load_n(&e->base, __ATOMIC_RELAXED))
            continue;
        __atomic_store_n(&e->size, size, __ATOMIC_RELAXED);
        __atomic_store_n(&e->broken, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&e->base, (uintptr_t)base, __ATOMIC_SEQ_CST);
        slot = (int)i;
        break;
    }
    pthread_mutex_unlock(&guard_mu);
    return slot;
}

void sw_guard_del(int slot)
{
    if (slot < 0 || slot >= GUARD_MAX)
        return;
    pthread_mutex_lock(&guard_mu);
    __atomic_store_n(&guard_tab[slot].base, 0, __ATOMIC_SEQ_CST);
    /* a handler that saw the old base finishes before the caller unmaps */
    while (__atomic_load_n(&guard_in_flight, __ATOMIC_SEQ_CST))
        ;
    pthread_mutex_unlock(&guard_mu);
}

int sw_guard_broken(int slot)
{
    if (slot < 0 || slot >= GUARD_MAX)
        return 0;
    return (int)__atomic_load_n(&guard_tab[slot].broken, __ATOMIC_RELAXED);
}

unsigned sw_guard_faults(void)
{
    return __atomic_load_n(&guard_faults, __ATOMIC_RELAXED);
}
