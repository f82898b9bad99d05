#include "bench_cpu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_env.h"
#include "vpio/clock.h"

unsigned long long bench_cpu_parse_schedstat(const char *line)
{
    char *end;
    unsigned long long v = strtoull(line, &end, 10);
    return end == line ? 0 : v;
}

static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static int thread_index(struct bench_cpu *c, int vm, pid_t tid, const char *pid_dir,
                        const char *prefix)
{
    for (int i = 0; i < c->nthreads; i++)
        if (c->th[i].tid == tid)
            return i;
    if (c->nthreads == BENCH_CPU_THREADS)
        return -1;
    struct bench_cpu_thread *t = &c->th[c->nthreads];
    char path[320];
    snprintf(path, sizeof(path), "%s/%d/comm", pid_dir, (int)tid);
    char comm[16];
    if (read_line(path, comm, sizeof(comm)) < 0)
        snprintf(comm, sizeof(comm), "?");
    snprintf(t->name, sizeof(t->name), "%s%s", prefix ? prefix : "", comm);
    t->vm = vm;
    t->tid = tid;
    return c->nthreads++;
}

void bench_cpu_sample(struct bench_cpu *c, const pid_t pid[2])
{
    const struct bench_cpu_proc procs[2] = {{pid[0], 0, NULL}, {pid[1], 1, NULL}};
    bench_cpu_sample_procs(c, procs, 2);
}

void bench_cpu_sample_procs(struct bench_cpu *c, const struct bench_cpu_proc *procs, int n)
{
    if (c->nsamples == BENCH_CPU_SAMPLES)
        return;
    int s = c->nsamples;
    memset(c->run_ns[s], 0, sizeof(c->run_ns[s]));
    for (int k = 0; k < n; k++) {
        int vm = procs[k].vm;
        if (procs[k].pid <= 0)
            continue;
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/task", (int)procs[k].pid);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0)
                continue;
            char path[320], line[128];
            snprintf(path, sizeof(path), "%s/%d/schedstat", dir, (int)tid);
            if (read_line(path, line, sizeof(line)) < 0)
                continue;
            int i = thread_index(c, vm, tid, dir, procs[k].prefix);
            if (i >= 0)
                c->run_ns[s][i] = bench_cpu_parse_schedstat(line) + 1; /* 0 = not seen */
        }
        closedir(d);
    }
    c->t_ns[s] = vpio_now_ns();
    c->nsamples++;
}

bool bench_cpu_busiest(const struct bench_cpu *c, unsigned long long window_ns,
                       double pct[BENCH_CPU_THREADS])
{
    int best_a = -1, best_b = -1;
    double best = -1;
    for (int a = 0, b = 0; a < c->nsamples; a++) {
        if (b < a)
            b = a;
        while (b < c->nsamples && c->t_ns[b] - c->t_ns[a] < window_ns)
            b++;
        if (b == c->nsamples)
            break;
        double total = 0;
        for (int i = 0; i < c->nthreads; i++)
            if (c->run_ns[a][i] && c->run_ns[b][i])
                total += (double)(c->run_ns[b][i] - c->run_ns[a][i]);
        if (total > best) {
            best = total;
            best_a = a;
            best_b = b;
        }
    }
    if (best_a < 0)
        return false;
    double span = (double)(c->t_ns[best_b] - c->t_ns[best_a]);
    for (int i = 0; i < c->nthreads; i++) {
        unsigned long long x = c->run_ns[best_a][i], y = c->run_ns[best_b][i];
        pct[i] = x && y && span > 0 ? 100.0 * (double)(y - x) / span : 0;
    }
    return true;
}
