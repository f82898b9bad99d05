/* vpio: dispatcher over the subcommands (one file each, see commands.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"vm", cmd_vm, "run a virtual machine (KVM) from a PVH kernel image"},
    {"pktgen", cmd_pktgen, "send or receive frames on a switch port (like netmap pkt-gen)"},
    {"switch", cmd_switch, "list switches, their ports and counters; remove a stale one"},
    {"bench", cmd_bench, "the paper's table: two VMs per configuration, vpio and QEMU"},
    {"qemu-port", cmd_qemu_port, "attach a QEMU NIC (-netdev socket) to a switch port"},
    {"uplink", cmd_uplink, "join a switch port to a Linux interface (AF_XDP or AF_PACKET)"},
    {"vhost-user", cmd_vhost_user,
     "a vhost-user virtio-net back-end (QEMU, DPDK) on a switch port"},
    /* more subcommands: add one line each, keep the table sorted by use */
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vpio <command> [options]   (vpio <command> --help for its options)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vpio: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
