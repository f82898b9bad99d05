/* vhost-user message framing (QEMU docs/interop/vhost-user.rst).
 *
 * A message is a 12-byte header (u32 request, u32 flags, u32 size, host
 * order) and `size` payload bytes on a UNIX stream socket; file descriptors
 * travel as SCM_RIGHTS ancillary data with the header. The front-end
 * (QEMU, DPDK virtio-user) is untrusted: vhost_msg_recv reads at most
 * VHOST_MSG_MAX_PAYLOAD bytes and VHOST_MSG_MAX_FDS descriptors, and
 * vhost_msg_check validates version, size and fd count per request before
 * anyone looks at the payload. Replies carry flags exactly 0x5 (version 1 |
 * reply), repeat the request and have the size the front-end expects: QEMU
 * drops the connection otherwise. */
#ifndef VPIO_VHOST_MSG_H
#define VPIO_VHOST_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vhost_user_request {
    VHOST_USER_GET_FEATURES = 1,
    VHOST_USER_SET_FEATURES = 2,
    VHOST_USER_SET_OWNER = 3,
    VHOST_USER_RESET_OWNER = 4,
    VHOST_USER_SET_MEM_TABLE = 5,
    VHOST_USER_SET_LOG_BASE = 6,
    VHOST_USER_SET_LOG_FD = 7,
    VHOST_USER_SET_VRING_NUM = 8,
    VHOST_USER_SET_VRING_ADDR = 9,
    VHOST_USER_SET_VRING_BASE = 10,
    VHOST_USER_GET_VRING_BASE = 11,
    VHOST_USER_SET_VRING_KICK = 12,
    VHOST_USER_SET_VRING_CALL = 13,
    VHOST_USER_SET_VRING_ERR = 14,
    VHOST_USER_GET_PROTOCOL_FEATURES = 15,
    VHOST_USER_SET_PROTOCOL_FEATURES = 16,
    VHOST_USER_GET_QUEUE_NUM = 17,
    VHOST_USER_SET_VRING_ENABLE = 18,
    VHOST_USER_REQUEST_MAX_KNOWN = 18,
};

#define VHOST_USER_VERSION 0x1u
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_REPLY_FLAG 0x4u
#define VHOST_USER_NEED_REPLY 0x8u

#define VHOST_USER_HDR_SIZE 12u
#define VHOST_MEM_MAX_REGIONS 8u
#define VHOST_MSG_MAX_FDS 8u
#define VHOST_MSG_MAX_PAYLOAD (8u + 32u * VHOST_MEM_MAX_REGIONS) /* the largest we accept */

#define VHOST_USER_VRING_IDX_MASK 0xffu
#define VHOST_USER_VRING_NOFD 0x100u

struct vhost_vring_state {
    uint32_t index, num;
};
struct vhost_vring_addr {
    uint32_t index, flags;
    uint64_t desc_uva, used_uva, avail_uva, log_gpa;
};
struct vhost_mem_region_msg {
    uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};
struct vhost_memory_msg {
    uint32_t nregions, padding;
    struct vhost_mem_region_msg regions[VHOST_MEM_MAX_REGIONS];
};

struct vhost_msg {
    uint32_t request, flags, size;
    union {
        uint64_t u64;
        struct vhost_vring_state state;
        struct vhost_vring_addr addr;
        struct vhost_memory_msg mem;
        uint8_t raw[VHOST_MSG_MAX_PAYLOAD];
    } p;
    int fds[VHOST_MSG_MAX_FDS]; /* received descriptors, owned by the message */
    unsigned nfds;
};

/* Reads one message: 1 read, 0 the peer closed, <0 -errno (a truncated
 * message, a payload larger than we accept, too many fds: -EPROTO). All
 * received fds are closed on error. */
int vhost_msg_recv(int sock, struct vhost_msg *m);

/* Validates a message's flags, size and fd count for its request. 0 or
 * -EPROTO with a reason in *why (static text). */
int vhost_msg_check(const struct vhost_msg *m, const char **why);

/* Closes the message's fds that nobody took (fds[i] = -1 marks taken). */
void vhost_msg_close_fds(struct vhost_msg *m);

/* Sends a reply to request `req`: flags 0x5, `size` payload bytes. */
int vhost_msg_reply(int sock, uint32_t req, const void *payload, uint32_t size);

/* Name of a request for messages ("GET_FEATURES"), "?" if unknown. */
const char *vhost_msg_name(uint32_t req);

#endif
