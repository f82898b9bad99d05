/* The --nic specification parser and the backend factory. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/backend.h"
#include "vpio/kvlist.h"
#include "vpio/mac.h"

void (*net_thread_start_hook)(void);

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

int net_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    if (vpio_mac_parse(s, m) < 0)
        return -1;
    if (m[0] & 1)
        return -1; /* multicast */
    if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
        return -1;
    memcpy(mac, m, 6);
    return 0;
}

void net_default_mac(unsigned index, uint8_t mac[6])
{
    static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(base[5] + index);
    mac[4] = (uint8_t)(base[4] + ((base[5] + index) >> 8));
}

const struct net_backend_type *net_backend_type_find(const char *name, size_t len)
{
    for (size_t i = 0; i < net_backend_type_count; i++) {
        const struct net_backend_type *t = net_backend_types[i];
        if (strlen(t->name) == len && !memcmp(t->name, name, len))
            return t;
    }
    return NULL;
}

const char *net_backend_help(void)
{
    static char help[256];
    if (help[0])
        return help;
    size_t n = 0;
    for (size_t i = 0; i < net_backend_type_count; i++) {
        const struct net_backend_type *t = net_backend_types[i];
        const char *bare = t->bare ? strchr(t->help, ':') : NULL;
        n += (size_t)snprintf(help + n, sizeof(help) - n, "%s%s%s%s", i ? " | " : "", t->help,
                              bare ? " | " : "", bare ? bare + 1 : "");
        if (n >= sizeof(help))
            break;
    }
    return help;
}

/* BACKEND (the text before the first ','): a table type by its "name:"
 * prefix or exact name, else the bare type if its check accepts the text. */
static int parse_backend(const char *be, struct net_nic_spec *sp, char *err, size_t errlen)
{
    const char *colon = strchr(be, ':');
    size_t nlen = colon ? (size_t)(colon - be) : strlen(be);
    const struct net_backend_type *t = net_backend_type_find(be, nlen);
    const char *arg = NULL;
    if (t && t->takes_arg && colon) {
        arg = colon + 1;
        char why[160] = "";
        if (t->check ? t->check(arg, why, sizeof(why)) < 0 : !*arg)
            return fail(err, errlen, "--nic %s: %s", t->name, why[0] ? why : t->help);
    } else if (t && !t->takes_arg && !colon) {
        arg = "";
    } else {
        t = NULL;
        for (size_t i = 0; i < net_backend_type_count && !t; i++) {
            const struct net_backend_type *b = net_backend_types[i];
            if (b->bare && b->check && b->check(be, NULL, 0) == 0)
                t = b, arg = be;
        }
        if (!t)
            return fail(err, errlen, "--nic: unknown backend '%s' (%s)", be, net_backend_help());
    }
    if (strlen(arg) >= NET_SPEC_ARG_MAX)
        return fail(err, errlen, "--nic: argument too long");
    sp->type = t;
    strcpy(sp->arg, arg);
    return 0;
}

int net_nic_spec_parse(const char *s, struct net_nic_spec *out, char *err, size_t errlen)
{
    struct net_nic_spec sp;
    memset(&sp, 0, sizeof(sp));
    if (!s || !*s)
        return fail(err, errlen, "empty --nic specification");
    const char *comma = strchr(s, ',');
    size_t blen = comma ? (size_t)(comma - s) : strlen(s);
    if (blen == 0)
        return fail(err, errlen, "--nic: missing backend before ','");
    if (blen >= NET_SPEC_ARG_MAX + 8)
        return fail(err, errlen, "--nic: backend too long");
    char be[NET_SPEC_ARG_MAX + 8];
    memcpy(be, s, blen);
    be[blen] = 0;

    if (parse_backend(be, &sp, err, errlen) < 0)
        return -1;

    /* options */
    const char *p = comma ? comma + 1 : NULL, *why;
    if (comma && !comma[1])
        return fail(err, errlen, "--nic: empty option");
    struct vpio_kv kv;
    int got;
    while ((got = vpio_kv_next(&p, &kv, &why)) != 0) {
        if (got < 0)
            return vpio_kv_fail("--nic", &kv, why, err, errlen);
        const char *opt = kv.key, *val = kv.val;
        if (!strcmp(opt, "mac")) {
            if (sp.has_mac)
                return fail(err, errlen, "--nic: mac given twice");
            if (net_parse_mac(val, sp.mac) < 0)
                return fail(err, errlen, "--nic: bad mac '%s' (unicast XX:XX:XX:XX:XX:XX)", val);
            sp.has_mac = true;
        } else {
            /* Not a backend option: the device's own parser takes it
             * (e1000_nic_opts_parse for the e1000), and refuses what it
             * does not know. */
            size_t used = strlen(sp.dev_opts);
            int n = snprintf(sp.dev_opts + used, sizeof(sp.dev_opts) - used, "%s%s=%s",
                             used ? "," : "", opt, val);
            if (n < 0 || (size_t)n >= sizeof(sp.dev_opts) - used)
                return fail(err, errlen, "--nic: device options too long");
        }
    }
    *out = sp;
    return 0;
}

struct net_backend *net_backend_alloc(const struct net_backend_ops *ops, size_t priv_size,
                                      const char *desc)
{
    struct net_backend *be = calloc(1, sizeof(*be) + priv_size);
    if (!be)
        return NULL;
    be->ops = ops;
    be->priv = priv_size ? (void *)(be + 1) : NULL;
    snprintf(be->desc, sizeof(be->desc), "%s", desc);
    return be;
}

unsigned net_recv_batch(struct net_backend *be, struct vpio_rxpkt *b, unsigned n)
{
    if (be->ops->recv_batch)
        return be->ops->recv_batch(be, b, n);
    unsigned got = 0;
    while (got < n) {
        ssize_t len = net_recv(be, b[got].buf, b[got].cap);
        if (len <= 0)
            break;
        b[got++].len = (uint32_t)len;
    }
    return got;
}

void net_backend_close(struct net_backend *be)
{
    if (be)
        be->ops->close(be);
}

void net_backend_discard(struct net_backend *be)
{
    if (be && be->ops->discard)
        be->ops->discard(be);
    else
        net_backend_close(be);
}

struct net_backend *net_backend_create(const struct net_nic_spec *spec, char *err, size_t errlen)
{
    if (!spec->type) {
        fail(err, errlen, "no backend type");
        return NULL;
    }
    return spec->type->open(spec->arg, err, errlen);
}

struct net_backend *net_backend_open(const char *spec, char *err, size_t errlen)
{
    struct net_nic_spec sp;
    if (net_nic_spec_parse(spec, &sp, err, errlen) < 0)
        return NULL;
    return net_backend_create(&sp, err, errlen);
}
