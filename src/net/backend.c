/* The --nic specification parser and the backend factory. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/backend.h"

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

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t m[6];
    for (int i = 0; i < 6; i++) {
        int h = hexval((unsigned char)s[0]), l = h < 0 ? -1 : hexval((unsigned char)s[1]);
        if (h < 0 || l < 0)
            return -1;
        m[i] = (uint8_t)(h << 4 | l);
        s += 2;
        if (i < 5) {
            if (*s != ':' && *s != '-')
                return -1;
            s++;
        }
    }
    if (*s)
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

/* A switch port name: "SWITCH:PORT", each 1..31 of [A-Za-z0-9_.-]. */
static bool valid_port_name(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || strchr(colon + 1, ':'))
        return false;
    size_t a = (size_t)(colon - s), b = strlen(colon + 1);
    if (a == 0 || a > 31 || b == 0 || b > 31)
        return false;
    for (const char *p = s; *p; p++)
        if (p != colon && !isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return true;
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

    const char *arg = NULL;
    if (!strcmp(be, "null")) {
        sp.kind = NET_BACKEND_NULL;
    } else if (!strncmp(be, "pcap:", 5)) {
        sp.kind = NET_BACKEND_PCAP;
        arg = be + 5;
        if (!*arg)
            return fail(err, errlen, "--nic pcap: needs a file name (pcap:FILE)");
    } else if (!strncmp(be, "tap:", 4)) {
        sp.kind = NET_BACKEND_TAP;
        arg = be + 4;
        if (!*arg || strlen(arg) >= 16)
            return fail(err, errlen, "--nic tap: needs an interface name of 1..15 characters");
        for (const char *p = arg; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
                return fail(err, errlen, "--nic tap: bad interface name '%s'", arg);
    } else if (!strncmp(be, "switch:", 7)) {
        sp.kind = NET_BACKEND_SWITCH;
        arg = be + 7;
        if (!valid_port_name(arg))
            return fail(err, errlen, "--nic switch: expected switch:SWITCH:PORT, got '%s'", be);
    } else if (valid_port_name(be)) {
        sp.kind = NET_BACKEND_SWITCH;
        arg = be;
    } else {
        return fail(err, errlen,
                    "--nic: unknown backend '%s' (null, pcap:FILE, tap:IFNAME, "
                    "switch:SWITCH:PORT or SWITCH:PORT)",
                    be);
    }
    if (arg) {
        if (strlen(arg) >= NET_SPEC_ARG_MAX)
            return fail(err, errlen, "--nic: argument too long");
        strcpy(sp.arg, arg);
    }

    /* options */
    const char *p = comma;
    while (p && *p == ',') {
        p++;
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
        p = end;
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
    switch (spec->kind) {
    case NET_BACKEND_NULL: {
        struct net_backend *be = net_null_open();
        if (!be)
            fail(err, errlen, "out of memory");
        return be;
    }
    case NET_BACKEND_PCAP:
        return net_pcap_open(spec->arg, err, errlen);
    case NET_BACKEND_TAP:
        return net_tap_open(spec->arg, err, errlen);
    case NET_BACKEND_SWITCH:
        return net_switch_open(spec->arg, err, errlen);
    }
    fail(err, errlen, "unknown backend kind");
    return NULL;
}

struct net_backend *net_backend_open(const char *spec, char *err, size_t errlen)
{
    struct net_nic_spec sp;
    if (net_nic_spec_parse(spec, &sp, err, errlen) < 0)
        return NULL;
    return net_backend_create(&sp, err, errlen);
}
