/* A small option-table parser shared by every subcommand.
 *
 * A subcommand describes its options once, in a table of struct opt_def;
 * the same table drives parsing and the --help text, so the two cannot
 * drift apart. Values are parsed strictly: numbers are base 10 with no
 * blanks, signs or suffixes, and range checked; a choice must be one of its
 * names; an unknown option or a missing argument is an error with one line
 * saying which.
 *
 * Accepted forms: "-x VALUE", "-xVALUE", clustered flags "-qB",
 * "--name VALUE", "--name=VALUE". Parsing stops at the first argument that
 * is not an option, or after "--". "-h" and "--help" print the help text
 * unless the table defines them itself. */
#ifndef VPIO_CLI_OPTS_H
#define VPIO_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
    OPT_FLAG,   /* no argument; out: bool *, set to true */
    OPT_STRING, /* out: const char **, points into argv */
    OPT_UINT,   /* out: uint64_t *, min..max (max 0 = UINT64_MAX) */
    OPT_DOUBLE, /* out: double *, dmin..dmax, finite */
    OPT_CHOICE, /* out: int *, index into choices */
    OPT_MAC,    /* out: uint8_t[6], aa:bb:cc:dd:ee:ff */
    OPT_CALL,   /* call(arg, out, err, errlen): the option parses itself */
};

struct opt_def {
    char short_name;       /* 'i', or 0 for a long-only option */
    const char *long_name; /* "iface", or NULL for a short-only option */
    enum opt_type type;
    const char *metavar;        /* argument name in --help; NULL for OPT_FLAG */
    const char *help;           /* one line for --help */
    void *out;                  /* where the value goes (see enum opt_type) */
    uint64_t min, max;          /* OPT_UINT bounds, inclusive */
    double dmin, dmax;          /* OPT_DOUBLE bounds, inclusive */
    const char *const *choices; /* OPT_CHOICE: NULL-terminated names */
    int (*call)(const char *arg, void *ctx, char *err,
                size_t errlen); /* OPT_CALL: 0 ok, <0 error */
};

struct opt_spec {
    const char *usage; /* "usage: vpio pktgen -i SWITCH:PORT -f tx|rx [options]" */
    const char *intro; /* paragraph under the usage line, or NULL */
    const struct opt_def *opts;
    size_t n_opts;
    const char *epilog; /* text after the option list, or NULL */
};

#define OPTS_COUNT(tab) (sizeof(tab) / sizeof((tab)[0]))

/* Parses argv[1..argc-1]. Returns 1 after printing the help text to stdout
 * (-h/--help), -1 with one line in err on an error, 0 otherwise with
 * *first_arg set to the index of the first non-option argument (argc if
 * there is none). */
int opts_parse(const struct opt_spec *spec, int argc, char **argv, int *first_arg, char *err,
               size_t errlen);

/* The help text generated from the table. */
void opts_print_help(FILE *out, const struct opt_spec *spec);

/* Strict base-10 unsigned integer in [min, max]: 0 on success, -1 otherwise
 * (empty, blanks, signs, a leading zero before other digits, trailing
 * characters, overflow, out of range). */
int opts_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Strict finite decimal number in [min, max]. */
int opts_parse_double(const char *s, double min, double max, double *out);

/* A MAC address as six colon-separated pairs of hex digits. */
int opts_parse_mac(const char *s, uint8_t mac[6]);

#endif
