/* libFuzzer: the PVH ELF loader on arbitrary files. Whatever the bytes, it
 * must not read outside the file nor write outside guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/pvh.h"

#define RAM (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    if (!ram)
        ram = malloc(RAM);
    /* A copy of exactly size bytes, so ASan catches any over-read. */
    uint8_t *file = malloc(size ? size : 1);
    memcpy(file, data, size);
    struct guest_mem mem = {.host = ram, .size = RAM};
    struct pvh_image img;
    char err[200];
    if (pvh_load(file, size, &mem, &img, err, sizeof(err)) == 0) {
        if (img.load_end > RAM || img.entry < img.load_start)
            abort();
        pvh_write_start_info(&mem, "fuzz", err, sizeof(err));
    }
    free(file);
    return 0;
}
