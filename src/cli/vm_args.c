#include "vm_args.h"

#include "cli/opts.h"
#include "net/backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_size(const char *s, uint64_t *out)
{
    if (!s)
        return -1;
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 20)
        return -1;
    unsigned shift = 0;
    switch (s[digits]) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        return -1;
    }
    if (s[digits] && s[digits + 1] != '\0')
        return -1;
    char num[24];
    memcpy(num, s, digits);
    num[digits] = 0;
    uint64_t v;
    if (opts_parse_uint(num, 0, UINT64_MAX >> shift, &v) < 0)
        return -1;
    *out = v << shift;
    return 0;
}

int parse_seconds(const char *s, double *out)
{
    return opts_parse_double(s, 0, 1e7, out);
}

int parse_cpu_list(const char *s, cpu_set_t *set)
{
    CPU_ZERO(set);
    if (!s || !*s)
        return -1;
    while (*s) {
        char *end;
        if (*s < '0' || *s > '9')
            return -1;
        errno = 0;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (errno || a >= CPU_SETSIZE)
            return -1;
        s = end;
        if (*s == '-') {
            s++;
            if (*s < '0' || *s > '9')
                return -1;
            b = strtoul(s, &end, 10);
            if (errno || b >= CPU_SETSIZE || b < a)
                return -1;
            s = end;
        }
        for (unsigned long c = a; c <= b; c++)
            CPU_SET(c, set);
        if (*s == ',' && s[1])
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg);
    return -1;
}

static int set_mem(const char *val, void *ctx, char *err, size_t errlen)
{
    uint64_t *mem = ctx;
    if (parse_size(val, mem) < 0)
        return bad(err, errlen, "%s", "bad memory size (examples: 64M, 1G)");
    if (*mem < VM_MIN_MEM || *mem > VM_MAX_MEM)
        return bad(err, errlen, "%s", "memory size out of range (4M to 3G)");
    return 0;
}

static int set_timeout(const char *val, void *ctx, char *err, size_t errlen)
{
    if (parse_seconds(val, ctx) < 0)
        return bad(err, errlen, "%s", "bad timeout (seconds, e.g. 10 or 2.5)");
    return 0;
}

/* A CPU list option: parsed into set, its text kept in *name. */
static int cpu_list_opt(const char *val, cpu_set_t *set, const char **name, const char *what,
                        char *err, size_t errlen)
{
    if (parse_cpu_list(val, set) < 0)
        return bad(err, errlen, "bad %s (examples: 1, 0-1, 0,2)", what);
    *name = val;
    return 0;
}

static int set_cpus(const char *val, void *ctx, char *err, size_t errlen)
{
    struct vm_args *a = ctx;
    return cpu_list_opt(val, &a->cpuset, &a->cpus, "CPU list", err, errlen);
}

static int set_io_cpus(const char *val, void *ctx, char *err, size_t errlen)
{
    struct vm_args *a = ctx;
    return cpu_list_opt(val, &a->io_cpuset, &a->io_cpus, "--io-cpus list", err, errlen);
}

static int set_halt_poll(const char *val, void *ctx, char *err, size_t errlen)
{
    uint64_t ns;
    if (parse_size(val, &ns) < 0 || ns > UINT32_MAX)
        return bad(err, errlen, "%s", "bad --halt-poll-ns (0 to 4294967295)");
    *(uint32_t *)ctx = (uint32_t)ns;
    return 0;
}

static int add_nic(const char *val, void *ctx, char *err, size_t errlen)
{
    struct vm_args *a = ctx;
    if (a->nic_count >= VM_ARGS_MAX_NICS)
        return bad(err, errlen, "too many --nic options (at most %s)", "4");
    a->nics[a->nic_count++] = val;
    return 0;
}

static const char vm_intro[] =
    "Runs a virtual machine under KVM from a PVH ELF kernel (the same image QEMU\n"
    "boots with -kernel). COM1 goes to standard output.";

static const char vm_exit_status[] =
    "exit status: the guest's own, (value << 1) | 1, when it writes value to the\n"
    "isa-debug-exit port 0xf4 (always odd); otherwise vpio's (always even):\n"
    "  64 bad arguments, 66 bad kernel image, 68 KVM unavailable, 70 set-up\n"
    "  failure, 72 guest crashed (triple fault, emulation failure), 124 timeout.\n";

/* The option table of `vpio vm`, writing into a; parses argv, or prints the
 * help text when help is not NULL. */
static int vm_opts(struct vm_args *a, int argc, char **argv, int *first, char *err, size_t errlen,
                   FILE *help)
{
    const struct opt_def defs[] = {
        {0, "kernel", OPT_STRING, "FILE", "PVH ELF kernel to boot (required)",
         .out = &a->vm.kernel},
        {0, "mem", OPT_CALL, "SIZE", "guest RAM, e.g. 64M, 1G (default 64M, 4M..3G)",
         .out = &a->vm.mem_size, .call = set_mem},
        {0, "cmdline", OPT_STRING, "STRING", "guest command line (default empty)",
         .out = &a->vm.cmdline},
        {0, "timeout", OPT_CALL, "SECONDS", "end a guest that has not exited after SECONDS",
         .out = &a->vm.timeout_s, .call = set_timeout},
        {0, "nic", OPT_CALL, "SPEC",
         "add an e1000 NIC (up to 4), SPEC = BACKEND[,mac=MAC][,mitigation=on|off]", .out = a,
         .call = add_nic},
        {0, "cpus", OPT_CALL, "LIST",
         "run the VM (vCPU, I/O threads) on these host CPUs only, e.g. 1 or 0-1", .out = a,
         .call = set_cpus},
        {0, "io-cpus", OPT_CALL, "LIST",
         "run the VM's I/O threads (io, sw-rx, csb-io) on these CPUs instead, the vCPU staying"
         " on --cpus",
         .out = a, .call = set_io_cpus},
        {0, "halt-poll-ns", OPT_CALL, "N",
         "KVM halt polling of this VM (default 0: a halted vCPU sleeps at once)",
         .out = &a->vm.halt_poll_ns, .call = set_halt_poll},
        {0, "stats", OPT_FLAG, NULL, "print VM exit and NIC counters on standard error at the end",
         .out = &a->vm.stats},
    };
    char epilog[1024];
    snprintf(epilog, sizeof(epilog), "BACKEND = %s (e.g. vale0:vm1)\n\n%s", net_backend_help(),
             vm_exit_status);
    const struct opt_spec spec = {"usage: vpio vm --kernel FILE [options]", vm_intro, defs,
                                  OPTS_COUNT(defs), epilog};
    if (help) {
        opts_print_help(help, &spec);
        return 0;
    }
    return opts_parse(&spec, argc, argv, first, err, errlen);
}

void vm_args_print_help(FILE *out)
{
    struct vm_args a;
    memset(&a, 0, sizeof(a));
    vm_opts(&a, 0, NULL, NULL, NULL, 0, out);
}

int vm_args_parse(int argc, char **argv, struct vm_args *args, char *err, size_t errlen)
{
    memset(args, 0, sizeof(*args));
    args->vm.mem_size = VM_DEFAULT_MEM;
    args->vm.cmdline = "";
    int first = argc;
    int r = vm_opts(args, argc, argv, &first, err, errlen, NULL);
    if (r == 1) { /* --help: the text is printed */
        args->help = true;
        return 0;
    }
    if (r < 0)
        return -1;
    if (first < argc)
        return bad(err, errlen, "unknown option '%s' (see vpio vm --help)", argv[first]);
    if (!args->vm.kernel)
        return bad(err, errlen, "%s", "missing --kernel FILE (see vpio vm --help)");
    if (strlen(args->vm.cmdline) >= PVH_CMDLINE_MAX)
        return bad(err, errlen, "%s", "--cmdline too long (at most 4095 bytes)");
    return 0;
}
