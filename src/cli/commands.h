/* The subcommands of `vpio`. Each lives in its own file, src/cli/cmd_<name>.c,
 * takes the arguments after its name (argv[0] is the subcommand name) and
 * returns the process exit status. */
#ifndef VPIO_COMMANDS_H
#define VPIO_COMMANDS_H

int cmd_vm(int argc, char **argv);
int cmd_pktgen(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_qemu_port(int argc, char **argv);
int cmd_uplink(int argc, char **argv);
int cmd_vhost_user(int argc, char **argv);

#endif
