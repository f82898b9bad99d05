#include "bench_result.h"

#include <stdlib.h>
#include <string.h>

int bench_parse_kv_line(const char *line, const char *prefix, struct bench_kv *kv)
{
    kv->count = 0;
    size_t plen = strlen(prefix);
    if (strncmp(line, prefix, plen) != 0)
        return -1;
    const char *p = line + plen;
    while (*p && *p != '\n' && kv->count < BENCH_KV_MAX) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        size_t len = p - tok;
        const char *eq = memchr(tok, '=', len);
        if (!eq || eq == tok)
            continue;
        size_t klen = eq - tok, vlen = len - klen - 1;
        if (klen >= BENCH_KEY_LEN || vlen >= BENCH_VAL_LEN)
            continue;
        memcpy(kv->key[kv->count], tok, klen);
        kv->key[kv->count][klen] = 0;
        memcpy(kv->val[kv->count], eq + 1, vlen);
        kv->val[kv->count][vlen] = 0;
        kv->count++;
    }
    return kv->count;
}

int bench_find_result(const char *text, const char *prefix, const char *app, struct bench_kv *kv)
{
    int found = -1;
    struct bench_kv tmp;
    for (const char *line = text; line && *line;) {
        if (bench_parse_kv_line(line, prefix, &tmp) >= 0) {
            const char *a = bench_kv_str(&tmp, "app");
            if (!app || (a && strcmp(a, app) == 0)) {
                *kv = tmp;
                found = 0;
            }
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return found;
}

const char *bench_kv_str(const struct bench_kv *kv, const char *key)
{
    for (int i = kv->count - 1; i >= 0; i--)
        if (strcmp(kv->key[i], key) == 0)
            return kv->val[i];
    return NULL;
}

double bench_kv_num(const struct bench_kv *kv, const char *key, double def)
{
    const char *v = bench_kv_str(kv, key);
    if (!v || !*v)
        return def;
    char *end;
    double d = strtod(v, &end);
    return *end ? def : d;
}

void bench_parse_vm_stats(const char *text, struct bench_vm_stats *st)
{
    memset(st, 0, sizeof(*st));
    for (const char *line = text; line && *line;) {
        struct bench_kv kv;
        if (bench_parse_kv_line(line, "vpio stats: exits ", &kv) >= 0) {
            st->found = true;
            st->exits += bench_kv_num(&kv, "total", 0);
            st->mmio += bench_kv_num(&kv, "mmio", 0);
            st->pio += bench_kv_num(&kv, "pio", 0);
        } else if (bench_parse_kv_line(line, "vpio stats: e1000-", &kv) >= 0) {
            st->irqs += bench_kv_num(&kv, "irqs", 0);
            st->tdt_writes += bench_kv_num(&kv, "tdt_writes", 0);
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
}

bool bench_log_says_ready(const char *text, const char *app)
{
    size_t alen = strlen(app);
    for (const char *l = text; l && *l;) {
        size_t n = strcspn(l, "\n");
        if (n > alen + 1 && strncmp(l, app, alen) == 0 && l[alen] == ':' && l[alen + 1] == ' ') {
            const char *r = strstr(l + alen, "ready");
            if (r && r + 5 <= l + n)
                return true;
        }
        l += n;
        if (*l)
            l++;
    }
    return false;
}
