/* Parsing of `vpio vm` arguments, separate from running so that it can be
 * unit tested and fuzzed. */
#ifndef VPIO_VM_ARGS_H
#define VPIO_VM_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>

#include "vmm/vm.h"

#define VM_ARGS_MAX_NICS 4

struct vm_args {
    struct vm_config vm;
    const char *nics[VM_ARGS_MAX_NICS];
    int nic_count;
    bool help;
    const char *cpus;    /* --cpus LIST, NULL if not given */
    cpu_set_t cpuset;    /* parsed --cpus */
    const char *io_cpus; /* --io-cpus LIST, NULL if not given */
    cpu_set_t io_cpuset; /* parsed --io-cpus */
};

/* Parses a CPU list: "1", "0,1", "0-3", "0-1,4" (CPUs below CPU_SETSIZE).
 * Returns 0 or -1. */
int parse_cpu_list(const char *s, cpu_set_t *set);

/* Parses "64M", "1G", "65536K", "4194304" (bytes). Returns 0 or -1. */
int parse_size(const char *s, uint64_t *out);
/* Parses a non-negative number of seconds ("10", "2.5"). Returns 0 or -1. */
int parse_seconds(const char *s, double *out);
/* argv[0] is "vm". Returns 0, or -1 with a message in err. --help prints
 * the help text to stdout and returns 0 with help set. */
int vm_args_parse(int argc, char **argv, struct vm_args *args, char *err, size_t errlen);

/* The help text of `vpio vm`, from its option table. */
void vm_args_print_help(FILE *out);

#endif
