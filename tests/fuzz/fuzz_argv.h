/* For the command-line fuzz targets: split a NUL-terminated copy of the
 * fuzz input at its NUL bytes into arguments after argv0. */
#ifndef VPIO_FUZZ_ARGV_H
#define VPIO_FUZZ_ARGV_H

#include <stddef.h>
#include <string.h>

/* copy holds size bytes plus a terminating NUL; argv has room for max
 * entries (the last one is set to NULL). Returns argc. */
static inline int fuzz_split_args(char *copy, size_t size, char *argv0, char **argv, int max)
{
    int argc = 0;
    argv[argc++] = argv0;
    for (size_t i = 0; i <= size && argc < max - 1;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;
    return argc;
}

#endif
