/* Parsing what the benchmark's processes print: the guests' one-line
 * results ("RESULT app=udp-recv pkts=... pps=...") and vpio's
 * "vpio stats: ..." lines. Pure functions over text, unit tested and fuzzed. */
#ifndef VPIO_BENCH_RESULT_H
#define VPIO_BENCH_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#define BENCH_KV_MAX 32
#define BENCH_KEY_LEN 32
#define BENCH_VAL_LEN 64

struct bench_kv {
    int count;
    char key[BENCH_KV_MAX][BENCH_KEY_LEN];
    char val[BENCH_KV_MAX][BENCH_VAL_LEN];
};

/* Parses "key=value key=value ..." after prefix on one line (e.g. "RESULT ");
 * tokens without '=' and over-long ones are skipped. Returns count, or -1 if
 * the line does not start with prefix. */
int bench_parse_kv_line(const char *line, const char *prefix, struct bench_kv *kv);
/* Finds the last line of text starting with prefix whose "app=" is app (app
 * NULL: any) and parses it. 0, or -1 if none. */
int bench_find_result(const char *text, const char *prefix, const char *app, struct bench_kv *kv);
/* Whether a line of a guest's log starts with "APP: " and says "ready"
 * ("pktgen: rx ready ...", "udp-recv: ready on ...", "echo: ready ..."):
 * the receiver's NIC is set up and its app is reading. */
bool bench_log_says_ready(const char *text, const char *app);
/* Value of key as a number; def if missing or not a number. */
double bench_kv_num(const struct bench_kv *kv, const char *key, double def);
const char *bench_kv_str(const struct bench_kv *kv, const char *key);

/* Sums of what `vpio vm --stats` printed: exits and NIC interrupts. */
struct bench_vm_stats {
    bool found;
    double exits, mmio, pio, irqs, tdt_writes;
};
void bench_parse_vm_stats(const char *text, struct bench_vm_stats *st);

#endif
