/* vpio bench: its options, parsed apart from running so tests can check them. */
#ifndef VPIO_CLI_BENCH_OPTS_H
#define VPIO_CLI_BENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_FRAMES 4

struct bench_opts {
    double duration;             /* --duration, seconds the sender runs per row */
    unsigned frames[MAX_FRAMES]; /* --frames */
    int nframes;
    const char *rows;     /* --rows: comma-separated row names, each checked; NULL = all */
    const char *platform; /* --platform: "vpio", "qemu" or "all" */
    const char *kernel, *vpio, *outdir, *json, *csv, *plot;
    bool pin;     /* not --no-pin */
    bool latency; /* --latency: request/response rows instead of streams */
    bool poll;    /* --poll (with --latency): both apps spin instead of sleeping */
    bool split;   /* --split: vCPUs on CPU 0, their I/O on CPU 1 */
    uint64_t ring; /* --ring: descriptors per e1000 ring in the guests */
};

/* Returns 0, 1 after printing --help to stdout, or -1 with one line in err. */
int bench_parse_opts(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen);

#endif
