#include "bench_env.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vpio/clock.h"

/* Runs `ip ARGS...` quietly; 0 on success. */
static int run_ip(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execvp("ip", argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

#define IP(...)                                                                                    \
    do {                                                                                           \
        char *const argv_[] = {"ip", __VA_ARGS__, NULL};                                           \
        if (run_ip(argv_) < 0) {                                                                   \
            snprintf(err, errlen, "ip %s %s %s %s: failed", argv_[1], argv_[2], argv_[3],          \
                     argv_[4] ? argv_[4] : "");                                                    \
            bench_netns_destroy(ns);                                                               \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

int bench_netns_create(struct bench_netns *ns, char *err, size_t errlen)
{
    memset(ns, 0, sizeof(*ns));
    snprintf(ns->name, sizeof(ns->name), "vpio-bench-%d", (int)getpid());
    IP("netns", "add", ns->name);
    ns->created = true;
    IP("-n", ns->name, "link", "set", "lo", "up");
    IP("-n", ns->name, "link", "add", "vpiobr0", "type", "bridge");
    for (int i = 0; i < BENCH_TAPS; i++) {
        snprintf(ns->tap[i], sizeof(ns->tap[i]), "vpiotap%c", (char)('0' + i));
        IP("-n", ns->name, "tuntap", "add", "dev", ns->tap[i], "mode", "tap");
        IP("-n", ns->name, "link", "set", ns->tap[i], "master", "vpiobr0");
        IP("-n", ns->name, "link", "set", ns->tap[i], "up");
    }
    IP("-n", ns->name, "link", "set", "vpiobr0", "up");
    return 0;
}

void bench_netns_destroy(struct bench_netns *ns)
{
    if (!ns->created)
        return;
    char *const argv[] = {"ip", "netns", "del", ns->name, NULL};
    run_ip(argv);
    ns->created = false;
}

int bench_proc_start(struct bench_proc *p, char *const argv[], const char *out_path)
{
    memset(p, 0, sizeof(*p));
    p->status = -1;
    snprintf(p->out_path, sizeof(p->out_path), "%s", out_path);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execvp(argv[0], argv);
        fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    p->pid = pid;
    return 0;
}

bool bench_proc_exited(struct bench_proc *p, unsigned long long until_ns)
{
    if (p->pid <= 0)
        return true;
    for (;;) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            p->pid = 0;
            return true;
        }
        if (vpio_now_ns() >= until_ns)
            return false;
        usleep(10000);
    }
}

int bench_proc_wait(struct bench_proc *p, unsigned long long deadline_ns)
{
    if (p->pid <= 0)
        return -1;
    int st;
    for (;;) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            p->pid = 0;
            return p->status;
        }
        if (vpio_now_ns() >= deadline_ns)
            break;
        usleep(20000);
    }
    p->timed_out = true;
    kill(p->pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            return -1;
        }
        usleep(20000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
    return -1;
}

char *bench_proc_output(const struct bench_proc *p)
{
    FILE *f = fopen(p->out_path, "r");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    if (n < 0)
        n = 0;
    if (n > (64 << 20))
        n = 64 << 20;
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    size_t got = buf ? fread(buf, 1, n, f) : 0;
    fclose(f);
    if (!buf)
        return strdup("");
    buf[got] = 0;
    return buf;
}
