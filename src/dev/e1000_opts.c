/* The e1000's --nic options (see e1000_opts.h). */
#include "dev/e1000_opts.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpio/kvlist.h"

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
    const char *p = s, *why;
    struct vpio_kv kv;
    int got;
    while ((got = vpio_kv_next(&p, &kv, &why)) != 0) {
        if (got < 0)
            return vpio_kv_fail("--nic", &kv, why, err, errlen);
        const char *opt = kv.key, *val = kv.val;
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
    }
    *out = o;
    return 0;
}
