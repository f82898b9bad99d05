/* Guest physical memory as seen by the host: one flat RAM region at GPA 0.
 *
 * Everything the guest controls (descriptor addresses, lengths) is checked
 * here before the host touches memory: guest_mem_ptr() returns NULL for any
 * range not entirely inside guest RAM, including ranges whose end overflows. */
#ifndef VPIO_GUEST_MEM_H
#define VPIO_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct guest_mem {
    uint8_t *host; /* host mapping of GPA 0 */
    uint64_t size; /* bytes of RAM */
};

/* Host pointer for [gpa, gpa + len), or NULL if any byte lies outside RAM. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (gpa > m->size || len > m->size - gpa)
        return NULL;
    return m->host + gpa;
}

/* Copy helpers: return 0, or -1 (nothing copied) if the range is outside RAM. */
static inline int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
    const void *src = guest_mem_ptr(m, gpa, len);
    if (!src)
        return -1;
    memcpy(dst, src, len);
    return 0;
}

static inline int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
                                  size_t len)
{
    void *dst = guest_mem_ptr(m, gpa, len);
    if (!dst)
        return -1;
    memcpy(dst, src, len);
    return 0;
}

#endif
