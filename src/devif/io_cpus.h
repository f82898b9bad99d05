/* Where a VM's I/O threads run (`vpio vm --io-cpus`): apart from its vCPU,
 * so that request/response traffic can have the vCPUs on one core and the
 * threads that serve their NICs on another. One VM per process: the set is
 * process-wide. Each I/O thread (io, csb-io; sw-rx through the net
 * layer's net_thread_start_hook) places itself when it starts, whichever
 * thread created it (the vCPU starts csb-io when the guest turns the CSB
 * on). */
#ifndef VPIO_DEVIF_IO_CPUS_H
#define VPIO_DEVIF_IO_CPUS_H
#include <sched.h>

/* Set before any I/O thread starts; NULL: threads keep the affinity they
 * inherit (the VM's --cpus). */
void io_cpus_set(const cpu_set_t *set);
/* Called by an I/O thread first thing: moves it to the set, if one is set.
 * 0, or a negative errno (the thread then stays where it is). */
int io_cpus_place_self(void);
#endif
