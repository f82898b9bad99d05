/* CPU use per thread of the benchmark's VMs, sampled from
 * /proc/PID/task/TID/schedstat (time on CPU, ns) while a row runs. The row's
 * figure is its busiest window (the sender sending, not booting or
 * draining): for each thread, the share of one CPU it used then. */
#ifndef VPIO_BENCH_CPU_H
#define VPIO_BENCH_CPU_H

#include <stdbool.h>
#include <sys/types.h>

#define BENCH_CPU_THREADS 32
#define BENCH_CPU_SAMPLES 512

struct bench_cpu_thread {
    int vm; /* 0 sender, 1 receiver, 2 a back-end shared by both (testpmd) */
    pid_t tid;
    char name[16]; /* the thread's comm: "vpio", "csb-io", "sw-rx", "CPU 0/KVM" ... */
};

struct bench_cpu {
    int nthreads, nsamples;
    struct bench_cpu_thread th[BENCH_CPU_THREADS];
    unsigned long long t_ns[BENCH_CPU_SAMPLES];
    unsigned long long run_ns[BENCH_CPU_SAMPLES][BENCH_CPU_THREADS]; /* 0: not seen */
};

/* Adds a sample of every thread of pid[0] (sender) and pid[1] (receiver);
 * a pid <= 0 is skipped. Threads seen for the first time are added. */
void bench_cpu_sample(struct bench_cpu *c, const pid_t pid[2]);

/* The same for any processes: each one's threads count as part of vm (a
 * VM's `vpio vhost-user` port process counts as part of that VM), their
 * names prefixed with prefix (NULL: none), e.g. "vu:" for a port process. */
struct bench_cpu_proc {
    pid_t pid;
    int vm;
    const char *prefix;
};
void bench_cpu_sample_procs(struct bench_cpu *c, const struct bench_cpu_proc *procs, int n);

/* The window of at least window_ns with the most CPU time in all; pct[i]
 * is thread i's share of one CPU in it (100 = a whole CPU). false if fewer
 * than two samples span such a window. */
bool bench_cpu_busiest(const struct bench_cpu *c, unsigned long long window_ns,
                       double pct[BENCH_CPU_THREADS]);

/* Parses the first field of a schedstat line ("ns on CPU ..."); 0 if none. */
unsigned long long bench_cpu_parse_schedstat(const char *line);

#endif
