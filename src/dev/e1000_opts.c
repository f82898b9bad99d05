/* The e1000's --nic options (see e1000_opts.h). */
#include "dev/e1000_opts.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "on" → 1, "off" → 0, anything else -1. */
static int on_off(const char *v)
{
    return !strcmp(v, "on") ? 1 : !strcmp(v, "off") ? 0 : -1;
}

int e1000_nic_opts_parse(const char *s, struct e1000_nic_opts *out, char *err, size_t errlen)
{
    struct e1000_nic_opts o = {.mitigation = true, .csb = true, .csb_poll_us = 0};
    bool seen_mitigation = false, seen_csb = false, seen_poll = false;
    for (const char *p = s && *s ? s : NULL; p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char opt[64];
        if (len == 0)
            return fail(err, errlen, "--nic: empty option");
        if (len >= sizeof(opt))
            return fail(err, errlen, "--nic: option too long");
        memcpy(opt, p, len);
        opt[len] = 0;
        char *eq = strchr(opt, '=');
        if (!eq)
            return fail(err, errlen, "--nic: option '%s' needs a value (key=value)", opt);
        *eq = 0;
        const char *val = eq + 1;
        if (!strcmp(opt, "mitigation")) {
            if (seen_mitigation)
                return fail(err, errlen, "--nic: mitigation given twice");
            int v = on_off(val);
            if (v < 0)
                return fail(err, errlen, "--nic: mitigation must be on or off, not '%s'", val);
            o.mitigation = v;
            seen_mitigation = true;
        } else if (!strcmp(opt, "csb")) {
            if (seen_csb)
                return fail(err, errlen, "--nic: csb given twice");
            int v = on_off(val);
            if (v < 0)
                return fail(err, errlen, "--nic: csb must be on or off, not '%s'", val);
            o.csb = v;
            seen_csb = true;
        } else if (!strcmp(opt, "csb_poll_us")) {
            if (seen_poll)
                return fail(err, errlen, "--nic: csb_poll_us given twice");
            char *end_num = NULL;
            unsigned long us = strtoul(val, &end_num, 10);
            if (!*val || !isdigit((unsigned char)*val) || *end_num || us < 1 || us > 1000000)
                return fail(err, errlen, "--nic: csb_poll_us must be 1..1000000, not '%s'", val);
            o.csb_poll_us = (unsigned)us;
            seen_poll = true;
        } else {
            return fail(err, errlen,
                        "--nic: unknown option '%s' (mac, mitigation, csb, csb_poll_us)", opt);
        }
        p = end ? end + 1 : NULL;
    }
    *out = o;
    return 0;
}
