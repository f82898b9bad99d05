/* idle: halts in the wait call on every timer tick, forever. The VMM's
 * --timeout test needs a guest that never exits on its own. */
#include "apps.h"

int idle_main(const struct cmdline *cl)
{
    (void)cl;
    printf("idle: waiting forever\n");
    for (;;) {
        u64 t = timer_ticks;
        wait_change64(&timer_ticks, t);
    }
}
