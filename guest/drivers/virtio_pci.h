/* Modern virtio over PCI (virtio 1.0, 4.1), ring 3: finds the vendor
 * capabilities (common, notify, ISR, device config) and the MSI-X table,
 * maps them through the device's memory BARs (identity mapped, uncached,
 * user accessible below 4 GiB), and gives the common-config operations the
 * net driver needs. Accepts 1af4:1041 (modern) and the transitional
 * 1af4:1000 driven in modern mode (its legacy I/O BAR is never used).
 *
 * Every register access is a VM exit (QEMU: an exit to user space, or one
 * the host kernel serves for a notify bound to an ioeventfd) and is counted
 * in reg_reads / reg_writes. */
#ifndef GUEST_VIRTIO_PCI_H
#define GUEST_VIRTIO_PCI_H
#include "kernel.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_DEV_NET_MODERN 0x1041
#define VIRTIO_DEV_NET_TRANSITIONAL 0x1000

/* device_status bits */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_FAILED 128

#define VIRTIO_F_EVENT_IDX (1ull << 29)
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_NO_VECTOR 0xffff

struct virtio_pci {
    const struct pci_dev *pci;
    u64 common, notify, isr, device; /* addresses of the four regions */
    u32 notify_mult;                 /* notify_off_multiplier */
    u32 device_len;
    u64 msix_table; /* 0: no MSI-X */
    u16 msix_entries;
    u8 msix_cap; /* config offset of the MSI-X capability */
    u64 reg_reads, reg_writes;
};

/* Reads the capabilities of pci (a virtio device) and maps the regions.
 * 0, or -1 with a console line saying what is missing. */
int virtio_pci_map(struct virtio_pci *vp, const struct pci_dev *pci);
/* Pure: parses one vendor capability (bytes from config space, len >= 16)
 * into type, bar, offset, length. Returns false for anything malformed. */
bool virtio_pci_parse_cap(const u8 *cap, u8 len, u8 *type, u8 *bar, u32 *off, u32 *length);

u8 virtio_status(struct virtio_pci *vp);
void virtio_set_status(struct virtio_pci *vp, u8 status);
/* Resets the device (status 0) and waits for it to read back 0. */
bool virtio_reset(struct virtio_pci *vp);
u64 virtio_device_features(struct virtio_pci *vp);
void virtio_driver_features(struct virtio_pci *vp, u64 features);
u16 virtio_num_queues(struct virtio_pci *vp);
/* Selects queue q and returns its maximum size (0: no such queue). */
u16 virtio_queue_max(struct virtio_pci *vp, u16 q);
/* Programs the selected queue: size, rings, MSI-X vector (returns the
 * vector the device accepted), then enables it. *notify gets the queue's
 * doorbell address. */
u16 virtio_queue_setup(struct virtio_pci *vp, u16 q, u16 size, u64 desc, u64 avail, u64 used,
                       u16 vector, u64 *notify);
void virtio_config_vector(struct virtio_pci *vp, u16 vector);
u8 virtio_cfg_read8(struct virtio_pci *vp, u32 off);
u16 virtio_cfg_read16(struct virtio_pci *vp, u32 off);
/* MSI-X: entry 0 -> vector on this CPU (edge, fixed), table enabled.
 * False if the device has no MSI-X. */
bool virtio_msix_enable(struct virtio_pci *vp, u8 vector);
#endif
