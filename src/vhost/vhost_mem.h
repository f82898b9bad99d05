/* The guest's memory as the vhost-user front-end describes it
 * (SET_MEM_TABLE): up to VHOST_MEM_MAX_REGIONS regions, each an fd mapped
 * MAP_SHARED. Ring addresses are front-end process addresses (translated
 * through userspace_addr), buffer addresses are guest-physical (through
 * guest_phys_addr). Every translation checks that the whole range lies
 * inside a region; a buffer may cross regions (vhost_mem_gpa returns the
 * contiguous part, the caller continues with the rest). */
#ifndef VPIO_VHOST_MEM_H
#define VPIO_VHOST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "vhost/vhost_msg.h"

struct vhost_mem_region {
    uint64_t gpa, size, uva;
    uint8_t *host; /* first usable byte (mapping + mmap_offset) */
    void *map;     /* mmap()ed base, NULL for a region we do not own */
    size_t map_len;
};

struct vhost_mem {
    unsigned n;
    struct vhost_mem_region r[VHOST_MEM_MAX_REGIONS];
};

/* Replaces the table with the message's regions, mapping fds[i] for region
 * i (the fds are always closed: a mapping keeps what it needs). On error
 * the old table is kept and -errno returned (-EINVAL: a region is empty,
 * wraps around, or its fd is shorter than mmap_offset + size). */
int vhost_mem_set(struct vhost_mem *m, const struct vhost_memory_msg *msg, int *fds, unsigned nfds);
/* Unmaps everything; the table becomes empty. */
void vhost_mem_clear(struct vhost_mem *m);
/* Adds a region backed by the caller's memory (tests, fuzzing): not
 * unmapped by clear. -ENOSPC when full. */
int vhost_mem_add_local(struct vhost_mem *m, uint64_t gpa, uint64_t uva, void *host, uint64_t size);

/* Host pointer for [uva, uva + len) if it lies in one region, else NULL. */
void *vhost_mem_uva(const struct vhost_mem *m, uint64_t uva, uint64_t len);
/* Host pointer for gpa, with *contig set to the bytes from gpa that are
 * contiguous in that region (at most len); NULL if gpa is in no region. */
void *vhost_mem_gpa(const struct vhost_mem *m, uint64_t gpa, uint64_t len, uint64_t *contig);

#endif
