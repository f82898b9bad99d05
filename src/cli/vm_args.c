#include "vm_args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char vm_usage[] =
    "usage: vpio vm --kernel FILE [options]\n"
    "\n"
    "Runs a virtual machine under KVM from a PVH ELF kernel (the same image QEMU\n"
    "boots with -kernel). COM1 goes to standard output.\n"
    "\n"
    "options:\n"
    "  --kernel FILE      PVH ELF kernel to boot (required)\n"
    "  --mem SIZE         guest RAM, e.g. 64M, 1G (default 64M, 4M..3G)\n"
    "  --cmdline STRING   guest command line (default empty)\n"
    "  --timeout SECONDS  end a guest that has not exited after SECONDS\n"
    "  --nic SPEC         add an e1000 NIC (up to 4), SPEC = "
    "BACKEND[,mac=MAC][,mitigation=on|off]\n"
    "                     BACKEND = null | pcap:FILE | tap:IFNAME | SWITCH:PORT (e.g. vale0:vm1)\n"
    "  --cpus LIST        run the VM (vCPU and its I/O threads) on these host CPUs\n"
    "                     only, e.g. 1 or 0-1 (default: any)\n"
    "  --halt-poll-ns N   KVM halt polling of this VM (default 0: a halted vCPU\n"
    "                     sleeps at once, leaving the core to the I/O threads)\n"
    "  --stats            print VM exit and NIC counters on standard error at the end\n"
    "  --help             this text\n"
    "\n"
    "exit status: the guest's own, (value << 1) | 1, when it writes value to the\n"
    "isa-debug-exit port 0xf4 (always odd); otherwise vpio's (always even):\n"
    "  64 bad arguments, 66 bad kernel image, 68 KVM unavailable, 70 set-up\n"
    "  failure, 72 guest crashed (triple fault, emulation failure), 124 timeout.\n";

int parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
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
    if (*end && end[1] != '\0')
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int parse_seconds(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e7)
        return -1;
    *out = v;
    return 0;
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

int vm_args_parse(int argc, char **argv, struct vm_args *args, char *err, size_t errlen)
{
    memset(args, 0, sizeof(*args));
    args->vm.mem_size = VM_DEFAULT_MEM;
    args->vm.cmdline = "";
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            args->help = true;
            return 0;
        }
        if (!strcmp(opt, "--stats")) {
            args->vm.stats = true;
            continue;
        }
        bool takes_value = !strcmp(opt, "--kernel") || !strcmp(opt, "--mem") ||
                           !strcmp(opt, "--cmdline") || !strcmp(opt, "--timeout") ||
                           !strcmp(opt, "--nic") || !strcmp(opt, "--cpus") ||
                           !strcmp(opt, "--halt-poll-ns");
        if (!takes_value)
            return bad(err, errlen, "unknown option '%s' (see vpio vm --help)", opt);
        if (i + 1 >= argc)
            return bad(err, errlen, "option %s needs a value", opt);
        const char *val = argv[++i];
        if (!strcmp(opt, "--kernel")) {
            args->vm.kernel = val;
        } else if (!strcmp(opt, "--cmdline")) {
            args->vm.cmdline = val;
        } else if (!strcmp(opt, "--mem")) {
            if (parse_size(val, &args->vm.mem_size) < 0)
                return bad(err, errlen, "bad memory size '%s' (examples: 64M, 1G)", val);
            if (args->vm.mem_size < VM_MIN_MEM || args->vm.mem_size > VM_MAX_MEM)
                return bad(err, errlen, "memory size '%s' out of range (4M to 3G)", val);
        } else if (!strcmp(opt, "--cpus")) {
            if (parse_cpu_list(val, &args->cpuset) < 0)
                return bad(err, errlen, "bad CPU list '%s' (examples: 1, 0-1, 0,2)", val);
            args->cpus = val;
        } else if (!strcmp(opt, "--halt-poll-ns")) {
            uint64_t ns;
            if (parse_size(val, &ns) < 0 || ns > UINT32_MAX)
                return bad(err, errlen, "bad --halt-poll-ns '%s' (0 to 4294967295)", val);
            args->vm.halt_poll_ns = (uint32_t)ns;
        } else if (!strcmp(opt, "--timeout")) {
            if (parse_seconds(val, &args->vm.timeout_s) < 0)
                return bad(err, errlen, "bad timeout '%s' (seconds, e.g. 10 or 2.5)", val);
        } else {
            if (args->nic_count >= VM_ARGS_MAX_NICS)
                return bad(err, errlen, "too many --nic options (at most %s)", "4");
            args->nics[args->nic_count++] = val;
        }
    }
    if (!args->vm.kernel)
        return bad(err, errlen, "%s", "missing --kernel FILE (see vpio vm --help)");
    if (strlen(args->vm.cmdline) >= PVH_CMDLINE_MAX)
        return bad(err, errlen, "%s", "--cmdline too long (at most 4095 bytes)");
    return 0;
}
