/* vpio qemu-port: its options, parsed apart from running so tests can check them. */
#ifndef VPIO_CLI_QEMU_PORT_H
#define VPIO_CLI_QEMU_PORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct qemu_port_opts {
    const char *ifname;      /* -i SWITCH:PORT */
    const char *listen_at;   /* -l ADDR:PORT as given */
    struct sockaddr_in addr; /* -l parsed: a loopback address (127.0.0.0/8) and port */
    double seconds;          /* -T, 0 = until QEMU disconnects */
    bool quiet;              /* -q */
};

/* Returns 0, 1 after printing --help to stdout, or -1 with a message in err. */
int qemu_port_parse(int argc, char **argv, struct qemu_port_opts *o, char *err, size_t errlen);

#endif
