/* The vhost-user memory table (see vhost_mem.h). */
#include "vhost/vhost_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void unmap_all(struct vhost_mem *m)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->r[i].map)
            munmap(m->r[i].map, m->r[i].map_len);
    memset(m, 0, sizeof *m);
}

void vhost_mem_clear(struct vhost_mem *m)
{
    unmap_all(m);
}

static int region_ok(const struct vhost_mem_region_msg *r)
{
    uint64_t end;
    return r->memory_size != 0 &&
           !__builtin_add_overflow(r->guest_phys_addr, r->memory_size, &end) &&
           !__builtin_add_overflow(r->userspace_addr, r->memory_size, &end) &&
           !__builtin_add_overflow(r->mmap_offset, r->memory_size, &end) && end <= SIZE_MAX;
}

int vhost_mem_set(struct vhost_mem *m, const struct vhost_memory_msg *msg, int *fds, unsigned nfds)
{
    struct vhost_mem next;
    memset(&next, 0, sizeof next);
    int err = 0;
    if (msg->nregions == 0 || msg->nregions > VHOST_MEM_MAX_REGIONS || nfds != msg->nregions)
        err = -EINVAL;
    for (unsigned i = 0; !err && i < msg->nregions; i++) {
        const struct vhost_mem_region_msg *r = &msg->regions[i];
        struct stat st;
        if (!region_ok(r)) {
            err = -EINVAL;
            break;
        }
        size_t len = (size_t)(r->mmap_offset + r->memory_size);
        /* A file shorter than the mapping would SIGBUS us on access. */
        if (fstat(fds[i], &st) < 0 || (S_ISREG(st.st_mode) && (uint64_t)st.st_size < len)) {
            err = -EINVAL;
            break;
        }
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
        if (p == MAP_FAILED) {
            err = -errno;
            break;
        }
        next.r[i] = (struct vhost_mem_region){.gpa = r->guest_phys_addr,
                                              .size = r->memory_size,
                                              .uva = r->userspace_addr,
                                              .host = (uint8_t *)p + r->mmap_offset,
                                              .map = p,
                                              .map_len = len};
        next.n = i + 1;
    }
    for (unsigned i = 0; i < nfds; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    if (err) {
        unmap_all(&next);
        return err;
    }
    unmap_all(m);
    *m = next;
    return 0;
}

int vhost_mem_add_local(struct vhost_mem *m, uint64_t gpa, uint64_t uva, void *host, uint64_t size)
{
    if (m->n >= VHOST_MEM_MAX_REGIONS)
        return -ENOSPC;
    uint64_t end;
    if (!size || __builtin_add_overflow(gpa, size, &end) || __builtin_add_overflow(uva, size, &end))
        return -EINVAL;
    m->r[m->n++] = (struct vhost_mem_region){
        .gpa = gpa, .size = size, .uva = uva, .host = host, .map = NULL, .map_len = 0};
    return 0;
}

void *vhost_mem_uva(const struct vhost_mem *m, uint64_t uva, uint64_t len)
{
    for (unsigned i = 0; i < m->n; i++) {
        const struct vhost_mem_region *r = &m->r[i];
        if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
            return r->host + (uva - r->uva);
    }
    return NULL;
}

void *vhost_mem_gpa(const struct vhost_mem *m, uint64_t gpa, uint64_t len, uint64_t *contig)
{
    for (unsigned i = 0; i < m->n; i++) {
        const struct vhost_mem_region *r = &m->r[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size) {
            uint64_t off = gpa - r->gpa, room = r->size - off;
            *contig = len < room ? len : room;
            return r->host + off;
        }
    }
    *contig = 0;
    return NULL;
}
