/* Process-wide placement of I/O threads (see io_cpus.h). */
#include "devif/io_cpus.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

static cpu_set_t io_set;
static bool io_set_given;

void io_cpus_set(const cpu_set_t *set)
{
    io_set_given = set != NULL;
    if (set)
        io_set = *set;
}

int io_cpus_place_self(void)
{
    if (!io_set_given)
        return 0;
    return -pthread_setaffinity_np(pthread_self(), sizeof(io_set), &io_set);
}
