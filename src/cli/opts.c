/* The option-table parser (see opts.h). */
#include "cli/opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int opts_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    if (s[0] == '0' && s[1] != '\0') /* "010" would read as octal elsewhere */
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int opts_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
        return -1;
    for (const char *p = s; *p; p++) /* no exponents, hex or inf/nan */
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int opts_parse_mac(const char *s, uint8_t mac[6])
{
    if (!s || strlen(s) != 17)
        return -1;
    uint8_t m[6];
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return -1;
        m[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, m, 6);
    return 0;
}

static const struct opt_def *find_short(const struct opt_spec *spec, char c)
{
    for (size_t i = 0; i < spec->n_opts; i++)
        if (spec->opts[i].short_name == c)
            return &spec->opts[i];
    return NULL;
}

static const struct opt_def *find_long(const struct opt_spec *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->n_opts; i++) {
        const char *l = spec->opts[i].long_name;
        if (l && strlen(l) == len && !strncmp(l, name, len))
            return &spec->opts[i];
    }
    return NULL;
}

/* "-x" or "--name", for error messages. */
static void opt_label(const struct opt_def *d, char *buf, size_t len)
{
    if (d->long_name)
        snprintf(buf, len, "--%s", d->long_name);
    else
        snprintf(buf, len, "-%c", d->short_name);
}

static void describe_range(const struct opt_def *d, char *buf, size_t len)
{
    switch (d->type) {
    case OPT_UINT:
        snprintf(buf, len, "a whole number %llu..%llu", (unsigned long long)d->min,
                 (unsigned long long)(d->max ? d->max : UINT64_MAX));
        break;
    case OPT_DOUBLE:
        snprintf(buf, len, "a number %g..%g", d->dmin, d->dmax);
        break;
    case OPT_MAC:
        snprintf(buf, len, "a MAC address aa:bb:cc:dd:ee:ff");
        break;
    case OPT_CHOICE: {
        size_t off = (size_t)snprintf(buf, len, "one of");
        for (const char *const *c = d->choices; c && *c && off < len; c++)
            off += (size_t)snprintf(buf + off, len - off, " %s", *c);
        break;
    }
    default:
        snprintf(buf, len, "a value");
    }
}

static int apply(const struct opt_def *d, const char *arg, char *err, size_t errlen)
{
    char label[64], want[160];
    opt_label(d, label, sizeof label);
    int bad = 0;
    switch (d->type) {
    case OPT_FLAG:
        *(bool *)d->out = true;
        return 0;
    case OPT_STRING:
        *(const char **)d->out = arg;
        return 0;
    case OPT_UINT:
        bad = opts_parse_uint(arg, d->min, d->max ? d->max : UINT64_MAX, d->out);
        break;
    case OPT_DOUBLE:
        bad = opts_parse_double(arg, d->dmin, d->dmax, d->out);
        break;
    case OPT_MAC:
        bad = opts_parse_mac(arg, d->out);
        break;
    case OPT_CHOICE:
        bad = -1;
        for (int i = 0; d->choices && d->choices[i]; i++)
            if (!strcmp(arg, d->choices[i])) {
                *(int *)d->out = i;
                bad = 0;
            }
        break;
    case OPT_CALL: {
        char why[200] = "";
        if (d->call(arg, d->out, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s %s: %s", label, arg, why[0] ? why : "invalid value");
            return -1;
        }
        return 0;
    }
    }
    if (bad) {
        describe_range(d, want, sizeof want);
        snprintf(err, errlen, "%s %s: expected %s", label, arg, want);
        return -1;
    }
    return 0;
}

int opts_parse(const struct opt_spec *spec, int argc, char **argv, int *first_arg, char *err,
               size_t errlen)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break; /* first positional argument */
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const struct opt_def *d = find_long(spec, name, len);
            if (!d && len == 4 && !strncmp(name, "help", 4) && !eq) {
                opts_print_help(stdout, spec);
                return 1;
            }
            if (!d) {
                snprintf(err, errlen, "unknown option --%.*s (see --help)", (int)len, name);
                return -1;
            }
            const char *arg = NULL;
            if (d->type == OPT_FLAG) {
                if (eq) {
                    snprintf(err, errlen, "--%s takes no value", d->long_name);
                    return -1;
                }
            } else if (eq) {
                arg = eq + 1;
            } else if (i + 1 < argc) {
                arg = argv[++i];
            } else {
                snprintf(err, errlen, "--%s needs a value (%s)", d->long_name,
                         d->metavar ? d->metavar : "VALUE");
                return -1;
            }
            if (apply(d, arg, err, errlen) < 0)
                return -1;
            continue;
        }
        /* one or more short options in one word */
        for (const char *p = a + 1; *p; p++) {
            const struct opt_def *d = find_short(spec, *p);
            if (!d && *p == 'h') {
                opts_print_help(stdout, spec);
                return 1;
            }
            if (!d) {
                snprintf(err, errlen, "unknown option -%c (see --help)", *p);
                return -1;
            }
            if (d->type == OPT_FLAG) {
                if (apply(d, NULL, err, errlen) < 0)
                    return -1;
                continue;
            }
            const char *arg;
            if (p[1]) {
                arg = p + 1;
            } else if (i + 1 < argc) {
                arg = argv[++i];
            } else {
                snprintf(err, errlen, "-%c needs a value (%s)", *p,
                         d->metavar ? d->metavar : "VALUE");
                return -1;
            }
            if (apply(d, arg, err, errlen) < 0)
                return -1;
            break;
        }
    }
    *first_arg = i;
    return 0;
}

void opts_print_help(FILE *out, const struct opt_spec *spec)
{
    fprintf(out, "%s\n", spec->usage);
    if (spec->intro)
        fprintf(out, "\n%s\n", spec->intro);
    char names[128];
    int width = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            fprintf(out, "\noptions:\n");
        for (size_t k = 0; k < spec->n_opts + 1; k++) {
            const struct opt_def *d = k < spec->n_opts ? &spec->opts[k] : NULL;
            const char *mv = d && d->metavar ? d->metavar : "";
            const char *sp = *mv ? " " : "";
            if (!d) /* the built-in help line */
                snprintf(names, sizeof names, "-h, --help");
            else if (d->short_name && d->long_name)
                snprintf(names, sizeof names, "-%c, --%s%s%s", d->short_name, d->long_name, sp, mv);
            else if (d->long_name)
                snprintf(names, sizeof names, "    --%s%s%s", d->long_name, sp, mv);
            else
                snprintf(names, sizeof names, "-%c%s%s", d->short_name, sp, mv);
            int len = (int)strlen(names);
            if (pass == 0) {
                if (len > width)
                    width = len;
            } else {
                fprintf(out, "  %-*s  %s\n", width, names, d ? d->help : "this text");
            }
        }
    }
    if (spec->epilog)
        fprintf(out, "\n%s", spec->epilog);
}
