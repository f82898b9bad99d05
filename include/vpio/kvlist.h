/* "key=value,key=value" lists, as in `--nic BACKEND,mac=...,csb=on`: one
 * splitter shared by the backend parser (src/net) and the device option
 * parsers (src/dev), so both accept and refuse the same shapes. */
#ifndef VPIO_KVLIST_H
#define VPIO_KVLIST_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define VPIO_KV_MAX 64 /* one "key=value", including the NUL */

struct vpio_kv {
    char buf[VPIO_KV_MAX]; /* "key\0value\0" */
    const char *key, *val;
};

/* Takes the next item of the list at *cursor (items separated by ',';
 * *cursor NULL or "" = no more). Returns 1 with kv filled and *cursor moved
 * past the item, 0 at the end, or -1 with *why set to a short reason
 * ("empty option", "option too long", "needs a value (key=value)"). */
static inline int vpio_kv_next(const char **cursor, struct vpio_kv *kv, const char **why)
{
    const char *p = *cursor;
    kv->key = kv->val = NULL;
    if (!p || !*p)
        return 0;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    *cursor = end ? end + 1 : NULL;
    if (end && !end[1]) { /* "a=1," : a trailing comma is an empty item */
        *why = "empty option";
        return -1;
    }
    if (len == 0) {
        *why = "empty option";
        return -1;
    }
    if (len >= sizeof(kv->buf)) {
        *why = "option too long";
        return -1;
    }
    memcpy(kv->buf, p, len);
    kv->buf[len] = 0;
    char *eq = strchr(kv->buf, '=');
    if (!eq) {
        kv->key = kv->buf; /* vpio_kv_fail names it */
        *why = "needs a value (key=value)";
        return -1;
    }
    kv->key = kv->buf;
    *eq = 0;
    kv->val = eq + 1;
    return 1;
}

/* The message for a vpio_kv_next failure, after "WHAT: " (e.g. "--nic"). */
static inline int vpio_kv_fail(const char *what, const struct vpio_kv *kv, const char *why,
                               char *err, size_t errlen)
{
    if (kv->key && !kv->val) /* the item had no '=' */
        snprintf(err, errlen, "%s: option '%s' needs a value (key=value)", what, kv->buf);
    else
        snprintf(err, errlen, "%s: %s", what, why);
    return -1;
}

#endif
