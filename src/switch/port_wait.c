/* Sleeping on the switch and on other event sources at once (see
 * vpio_port_wait_arm in include/vpio/switch.h). A vhost-user port's data
 * thread waits for frames from the switch and for the guest's kicks, which
 * arrive on eventfds; a futex cannot be polled with an fd, so another
 * thread of the owner turns each kick into vpio_port_wake() on the same
 * futex word the senders use. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "switch/sw_internal.h"

uint32_t vpio_port_wait_arm(struct vpio_port *p, int want_rx)
{
    struct vpio_sw_port *sp = p->sp;
    uint32_t seq = __atomic_load_n(&sp->rx_wake_seq, __ATOMIC_ACQUIRE);
    if (want_rx)
        __atomic_store_n(&sp->rx_need_wake, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return seq;
}

int vpio_port_wait_sleep(struct vpio_port *p, uint32_t token, long timeout_us)
{
    struct vpio_sw_port *sp = p->sp;
    if (timeout_us < 0 || timeout_us > 100000)
        timeout_us = 100000;
    struct timespec ts = {timeout_us / 1000000, (timeout_us % 1000000) * 1000};
    syscall(SYS_futex, &sp->rx_wake_seq, FUTEX_WAIT, token, &ts, NULL, 0);
    __atomic_store_n(&sp->rx_need_wake, 0, __ATOMIC_RELAXED);
    return __atomic_load_n(&sp->rx_wake_seq, __ATOMIC_ACQUIRE) != token;
}

void vpio_port_wake(struct vpio_port *p)
{
    struct vpio_sw_port *sp = p->sp;
    __atomic_fetch_add(&sp->rx_wake_seq, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &sp->rx_wake_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
