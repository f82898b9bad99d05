/* vpio switch: list switches, show one (ports, owners, counters), remove a
 * stale one. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "vpio/switch.h"

static const char usage_text[] =
    "usage: vpio switch [list]          list switches (/dev/shm/vpio-*) and their ports\n"
    "       vpio switch show NAME       ports, owners (pid, alive?) and counters\n"
    "       vpio switch rm [-f] NAME    remove a switch; refused while a port has a\n"
    "                                   live owner unless -f\n";

static int show(const char *name, int brief)
{
    struct vpio_switch_info info;
    int rc = vpio_switch_info(name, &info);
    if (rc == -ENOENT && !brief)
        return rc;
    if (rc < 0) {
        printf("%-16s (unusable: %s)\n", name, strerror(-rc));
        return rc;
    }
    unsigned alive = 0;
    for (unsigned i = 0; i < info.nports; i++)
        alive += info.port[i].alive != 0;
    printf("%-16s ports=%u alive=%u macs=%u arena=%" PRIu64 "MiB creator=%d\n", info.name,
           info.nports, alive, info.mac_entries, info.arena_bytes >> 20, info.creator_pid);
    if (!info.nports)
        return 0;
    printf("  %-3s %-16s %-8s %-5s %12s %12s %10s %12s %12s %10s %6s %6s %5s %s\n", "id", "port",
           "pid", "alive", "tx_pkts", "tx_bytes", "tx_drops", "rx_pkts", "rx_bytes", "rx_drops",
           "tx_err", "rx_err", "pend", "label");
    for (unsigned i = 0; i < info.nports; i++) {
        struct vpio_switch_port_info *p = &info.port[i];
        printf("  %-3d %-16s %-8d %-5s %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
               " %12" PRIu64 " %10" PRIu64 " %6" PRIu64 " %6" PRIu64 " %5u %s\n",
               p->id, p->name, p->pid, p->alive ? "yes" : "no", p->st.tx_pkts, p->st.tx_bytes,
               p->st.tx_drops, p->st.rx_pkts, p->st.rx_bytes, p->st.rx_drops, p->st.tx_errs,
               p->st.rx_errs, p->rx_pending, p->label);
    }
    return 0;
}

/* A command-line error: one line saying what is wrong, exit status 2. */
static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "vpio switch: %s%s%s%s (see vpio switch --help)\n", what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "");
    return 2;
}

int cmd_switch(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "list")) {
        if (argc > 2)
            return usage_error("list: unexpected argument", argv[2]);
        char names[64][VPIO_SW_NAME_MAX];
        int n = vpio_switch_list(names, 64);
        if (n < 0) {
            fprintf(stderr, "vpio switch: cannot list /dev/shm: %s\n", strerror(-n));
            return 1;
        }
        if (n == 0)
            printf("no switches\n");
        for (int i = 0; i < n && i < 64; i++)
            show(names[i], 1);
        return 0;
    }
    if (!strcmp(argv[1], "show")) {
        if (argc < 3)
            return usage_error("show: missing switch NAME", NULL);
        if (argc > 3)
            return usage_error("show: unexpected argument", argv[3]);
        if (argv[2][0] == '-')
            return usage_error("show: unknown option", argv[2]);
        int rc = show(argv[2], 0);
        if (rc == -ENOENT)
            fprintf(stderr, "vpio switch: no switch '%s'\n", argv[2]);
        return rc < 0 ? 1 : 0;
    }
    if (!strcmp(argv[1], "rm")) {
        int force = 0, i = 2;
        if (i < argc && !strcmp(argv[i], "-f")) {
            force = 1;
            i++;
        }
        if (i < argc && argv[i][0] == '-')
            return usage_error("rm: unknown option", argv[i]);
        if (i >= argc)
            return usage_error("rm: missing switch NAME", NULL);
        if (i + 1 < argc)
            return usage_error("rm: unexpected argument", argv[i + 1]);
        int rc = vpio_switch_remove(argv[i], force);
        if (rc == -EBUSY) {
            fprintf(stderr, "vpio switch: '%s' has live ports (use -f to remove anyway)\n",
                    argv[i]);
            return 1;
        }
        if (rc < 0) {
            fprintf(stderr, "vpio switch: cannot remove '%s': %s\n", argv[i], strerror(-rc));
            return 1;
        }
        printf("removed %s\n", argv[i]);
        return 0;
    }
    return usage_error("unknown subcommand", argv[1]);
}
