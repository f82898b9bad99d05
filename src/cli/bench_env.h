/* What the benchmark sets up around its VMs: a network namespace with a
 * Linux bridge and two persistent taps (the paper's baseline path), and the
 * child processes it starts (VMMs), each with its output in a file.
 *
 * Everything created is removed by bench_env_teardown(), also after a
 * failure; children are ended by PID. */
#ifndef VPIO_BENCH_ENV_H
#define VPIO_BENCH_ENV_H

#include <stdbool.h>
#include <sys/types.h>

#define BENCH_TAPS 2

struct bench_netns {
    char name[64];            /* "vpio-bench-<pid>" */
    char tap[BENCH_TAPS][16]; /* "vpiotap0", "vpiotap1" */
    bool created;
};

/* Creates the namespace, the bridge and the taps. 0, or -1 with err set. */
int bench_netns_create(struct bench_netns *ns, char *err, size_t errlen);
void bench_netns_destroy(struct bench_netns *ns);

struct bench_proc {
    pid_t pid;
    char out_path[256]; /* stdout and stderr of the child */
    int status;         /* exit status once reaped, -1 if killed or not run */
    bool timed_out;
};

/* Starts argv (argv[0] looked up in PATH) with output to out_path. */
int bench_proc_start(struct bench_proc *p, char *const argv[], const char *out_path);
/* Waits until the child exits or deadline_ns (CLOCK_MONOTONIC) passes; then
 * ends it (SIGTERM, then SIGKILL). Returns its exit status or -1. */
int bench_proc_wait(struct bench_proc *p, unsigned long long deadline_ns);
/* Waits until the child exits (true: reaped, status set) or until_ns
 * passes (false: still running, left alone). */
bool bench_proc_exited(struct bench_proc *p, unsigned long long until_ns);
/* The child's output, malloc'ed, NUL-terminated ("" if none). */
char *bench_proc_output(const struct bench_proc *p);

#endif
