/* Command line: "APP [WORD...] [key=value...]", words separated by spaces.
 * The app is the first word without '=' (or app=NAME); later words without
 * '=' are the app's positional arguments (e.g. "pktgen tx"). Empty: the
 * app is "selftest". */
#include "kernel.h"

void cmdline_parse(struct cmdline *cl, const char *src)
{
    memset(cl, 0, sizeof(*cl));
    size_t n = 0;
    while (src && src[n] && n < CMDLINE_MAX - 1) {
        cl->buf[n] = src[n];
        n++;
    }
    cl->buf[n] = '\0';
    char *p = cl->buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (*p)
            *p++ = '\0';
        char *eq = word;
        while (*eq && *eq != '=')
            eq++;
        if (*eq == '=') {
            *eq = '\0';
            if (!strcmp(word, "app"))
                cl->app = eq + 1;
            else if (cl->nopts < CMDLINE_ARGS) {
                cl->key[cl->nopts] = word;
                cl->val[cl->nopts++] = eq + 1;
            }
        } else if (!cl->app) {
            cl->app = word;
        } else if (cl->argc < CMDLINE_ARGS) {
            cl->argv[cl->argc++] = word;
        }
    }
    if (!cl->app)
        cl->app = "selftest";
}

const char *cmdline_get(const struct cmdline *cl, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < cl->nopts; i++)     /* the last one wins */
        if (!strcmp(cl->key[i], key))
            v = cl->val[i];
    return v;
}

bool parse_u64(const char *s, u64 *out)
{
    if (!s || !*s)
        return false;
    u64 v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return false;
    }
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        if (v > (~0ull - d) / base)
            return false;
        v = v * base + d;
    }
    u64 mul = 1;
    if (*s == 'k' || *s == 'K')
        mul = 1000, s++;
    else if (*s == 'm' || *s == 'M')
        mul = 1000000, s++;
    else if (*s == 'g' || *s == 'G')
        mul = 1000000000, s++;
    if (*s)
        return false;
    if (v > ~0ull / mul)
        return false;
    *out = v * mul;
    return true;
}

bool cmdline_u64(const struct cmdline *cl, const char *key, u64 *out)
{
    const char *v = cmdline_get(cl, key);
    return v && parse_u64(v, out);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool parse_mac(const char *s, u8 mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[0]), lo = hexval(s[1]);
        if (hi < 0 || lo < 0)
            return false;
        mac[i] = (u8)(hi << 4 | lo);
        s += 2;
        if (i < 5 && *s++ != ':')
            return false;
    }
    return *s == '\0';
}

bool parse_seconds_ms(const char *s, u64 *ms)
{
    u64 whole = 0, frac = 0, scale = 1000;
    if (!s || !*s)
        return false;
    for (; *s >= '0' && *s <= '9'; s++)
        whole = whole * 10 + (u64)(*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            if (scale > 1)
                frac += (u64)(*s - '0') * (scale /= 10);
    if (*s)
        return false;
    *ms = whole * 1000 + frac;
    return true;
}
