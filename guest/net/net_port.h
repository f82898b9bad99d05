/* The network stack's only view of its environment. The stack (guest/net/)
 * builds freestanding in the guest kernel and, with VPIO_GUEST_HOST_TEST
 * defined, as plain C on the host for the unit tests and the fuzz target.
 * Everything it needs from outside (memory, string functions, printf) comes
 * through here, so no other stack file includes a guest kernel header. */
#ifndef GUEST_NET_PORT_H
#define GUEST_NET_PORT_H

#ifdef VPIO_GUEST_HOST_TEST
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void *net_zalloc(size_t n)
{
    return calloc(1, n);
}
static inline void net_free(void *p, size_t n)
{
    (void)n;
    free(p);
}
#define net_printf printf

#else /* the guest kernel */
#include "kernel.h"

/* Whole zeroed pages from the guest's page allocator (identity mapped). */
static inline void *net_zalloc(size_t n)
{
    return alloc_pages((n + PAGE_SIZE - 1) / PAGE_SIZE, 1);
}
static inline void net_free(void *p, size_t n)
{
    if (p)
        free_pages(p, (n + PAGE_SIZE - 1) / PAGE_SIZE);
}
#define net_printf printf
#endif

/* Network byte order, byte by byte: frames are not aligned, and this keeps
 * UBSan's alignment checks quiet on the host. */
static inline uint16_t net_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t net_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void net_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void net_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
#endif
