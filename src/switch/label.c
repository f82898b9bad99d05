/* Port labels: a few bytes of free text in the port record that tools show
 * next to the port's name (an uplink puts its interface's name there). */
#include <errno.h>
#include <string.h>

#include "sw_internal.h"

_Static_assert(sizeof(((struct vpio_sw_port *)0)->label) == VPIO_SW_LABEL_MAX,
               "label size in the port record");

int vpio_port_set_label(struct vpio_port *p, const char *label)
{
    if (!p || !label)
        return -EINVAL;
    if (sw_arena_broken(&p->a))
        return -ENXIO;
    char buf[VPIO_SW_LABEL_MAX];
    size_t i = 0;
    for (; label[i] && i < sizeof buf - 1; i++)
        buf[i] = label[i] >= 0x20 && label[i] < 0x7f ? label[i] : '?';
    memset(buf + i, 0, sizeof buf - i);
    /* readers copy it without a lock and terminate their copy: a torn read
     * shows a mix of two labels, never runs past the field */
    memcpy(p->sp->label, buf, sizeof buf);
    return 0;
}
