/* Physical page allocator: one bit per 4 KiB page between the end of the
 * image and the top of RAM (below 4 GiB, the identity-mapped range).
 * First fit with alignment, so DMA rings get contiguous, aligned memory.
 * Set bit = page in use (or not RAM). */
#include "kernel.h"

#define MAX_PAGES (1u << 20)            /* 4 GiB of 4 KiB pages */

static u64 bitmap[MAX_PAGES / 64];
static u64 first_pfn, end_pfn, nfree;

extern char __image_end[];

static bool used(u64 pfn) { return bitmap[pfn / 64] >> (pfn % 64) & 1; }
static void set_used(u64 pfn) { bitmap[pfn / 64] |= 1ull << (pfn % 64); }
static void set_free(u64 pfn) { bitmap[pfn / 64] &= ~(1ull << (pfn % 64)); }

static void add_region(u64 base, u64 len)
{
    u64 lo = ALIGN_UP(base, PAGE_SIZE) / PAGE_SIZE;
    u64 hi = (base + len) / PAGE_SIZE;
    if (lo < first_pfn)
        lo = first_pfn;
    if (hi > end_pfn)
        hi = end_pfn;
    for (u64 p = lo; p < hi; p++) {
        if (used(p)) {
            set_free(p);
            nfree++;
        }
    }
}

void alloc_init(void)
{
    first_pfn = ALIGN_UP((u64)(uintptr_t)__image_end, PAGE_SIZE) / PAGE_SIZE;
    end_pfn = boot_info.ram_top / PAGE_SIZE;
    if (end_pfn > MAX_PAGES)
        end_pfn = MAX_PAGES;
    memset(bitmap, 0xff, sizeof(bitmap));
    nfree = 0;
    bootinfo_ram_regions(add_region);
}

void *alloc_pages(size_t npages, size_t align_pages)
{
    if (!npages)
        return NULL;
    if (!align_pages)
        align_pages = 1;
    u64 p = ALIGN_UP(first_pfn, align_pages);
    while (p + npages <= end_pfn) {
        u64 i = 0;
        while (i < npages && !used(p + i))
            i++;
        if (i == npages) {
            for (i = 0; i < npages; i++)
                set_used(p + i);
            nfree -= npages;
            void *mem = (void *)(uintptr_t)(p * PAGE_SIZE);
            memset(mem, 0, npages * PAGE_SIZE);
            return mem;
        }
        p = ALIGN_UP(p + i + 1, align_pages);   /* skip past the used page */
    }
    return NULL;
}

void free_pages(void *mem, size_t npages)
{
    u64 p = (u64)(uintptr_t)mem / PAGE_SIZE;
    for (size_t i = 0; i < npages; i++) {
        if (p + i >= first_pfn && p + i < end_pfn && used(p + i)) {
            set_free(p + i);
            nfree++;
        }
    }
}

size_t alloc_free_pages(void) { return nfree; }
