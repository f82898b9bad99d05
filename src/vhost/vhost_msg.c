/* vhost-user message framing: receive with SCM_RIGHTS, validate, reply
 * (see vhost_msg.h). */
#include "vhost/vhost_msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const names[] = {
    [VHOST_USER_GET_FEATURES] = "GET_FEATURES",
    [VHOST_USER_SET_FEATURES] = "SET_FEATURES",
    [VHOST_USER_SET_OWNER] = "SET_OWNER",
    [VHOST_USER_RESET_OWNER] = "RESET_OWNER",
    [VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
    [VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
    [VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
    [VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
    [VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
    [VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
    [VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
    [VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
    [VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
    [VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
    [VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
    [VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
    [VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
    [VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
};

const char *vhost_msg_name(uint32_t req)
{
    return req < sizeof(names) / sizeof(names[0]) && names[req] ? names[req] : "?";
}

void vhost_msg_close_fds(struct vhost_msg *m)
{
    for (unsigned i = 0; i < m->nfds; i++)
        if (m->fds[i] >= 0)
            close(m->fds[i]);
    m->nfds = 0;
}

/* Reads exactly len bytes (the payload after the header). */
static int read_full(int sock, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = recv(sock, (uint8_t *)buf + got, len - got, 0);
        if (r == 0)
            return -EPROTO; /* closed mid-message */
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)r;
    }
    return 0;
}

int vhost_msg_recv(int sock, struct vhost_msg *m)
{
    uint8_t hdr[VHOST_USER_HDR_SIZE];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * (VHOST_MSG_MAX_FDS + 8))];
    } ctl;
    struct iovec iov = {hdr, sizeof hdr};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    m->nfds = 0;
    ssize_t r;
    do
        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return 0;
    int err = 0;
    /* Take every fd the kernel installed, also the ones beyond our limit,
     * so that none leaks. */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (m->nfds < VHOST_MSG_MAX_FDS)
                m->fds[m->nfds++] = fd;
            else {
                close(fd);
                err = -EPROTO;
            }
        }
    }
    if (mh.msg_flags & MSG_CTRUNC)
        err = -EPROTO;
    if (r != (ssize_t)sizeof hdr && !err)
        err = -EPROTO;
    if (!err) {
        memcpy(&m->request, hdr, 4);
        memcpy(&m->flags, hdr + 4, 4);
        memcpy(&m->size, hdr + 8, 4);
        if (m->size > VHOST_MSG_MAX_PAYLOAD)
            err = -EPROTO;
        else {
            memset(&m->p, 0, sizeof m->p);
            err = read_full(sock, m->p.raw, m->size);
        }
    }
    if (err) {
        vhost_msg_close_fds(m);
        return err;
    }
    return 1;
}

int vhost_msg_check(const struct vhost_msg *m, const char **why)
{
    *why = NULL;
    if ((m->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
        *why = "bad version";
    else if (m->flags & VHOST_USER_REPLY_FLAG)
        *why = "reply flag set on a request";
    if (*why)
        return -EPROTO;
    uint32_t want = 0;
    unsigned fds_min = 0, fds_max = 0;
    switch (m->request) {
    case VHOST_USER_GET_FEATURES:
    case VHOST_USER_GET_PROTOCOL_FEATURES:
    case VHOST_USER_GET_QUEUE_NUM:
    case VHOST_USER_SET_OWNER:
    case VHOST_USER_RESET_OWNER:
        /* no payload; some front-ends send a zero u64 */
        if (m->size != 0 && m->size != 8)
            *why = "bad size";
        break;
    case VHOST_USER_SET_FEATURES:
    case VHOST_USER_SET_PROTOCOL_FEATURES:
        want = 8;
        break;
    case VHOST_USER_SET_VRING_NUM:
    case VHOST_USER_SET_VRING_BASE:
    case VHOST_USER_GET_VRING_BASE:
    case VHOST_USER_SET_VRING_ENABLE:
        want = sizeof(struct vhost_vring_state);
        break;
    case VHOST_USER_SET_VRING_ADDR:
        want = sizeof(struct vhost_vring_addr);
        break;
    case VHOST_USER_SET_VRING_KICK:
    case VHOST_USER_SET_VRING_CALL:
    case VHOST_USER_SET_VRING_ERR:
        want = 8;
        if (m->size == 8 && !(m->p.u64 & VHOST_USER_VRING_NOFD))
            fds_min = fds_max = 1;
        break;
    case VHOST_USER_SET_MEM_TABLE: {
        if (m->size < 8) {
            *why = "bad size";
            break;
        }
        uint32_t n = m->p.mem.nregions;
        if (n == 0 || n > VHOST_MEM_MAX_REGIONS)
            *why = "bad region count";
        else if (m->size != 8 + 32 * n)
            *why = "bad size";
        fds_min = fds_max = n;
        break;
    }
    default:
        *why = "unsupported request";
        break;
    }
    if (!*why && want && m->size != want)
        *why = "bad size";
    if (!*why && (m->nfds < fds_min || m->nfds > fds_max))
        *why = m->nfds < fds_min ? "missing fd" : "unexpected fd";
    return *why ? -EPROTO : 0;
}

int vhost_msg_reply(int sock, uint32_t req, const void *payload, uint32_t size)
{
    uint8_t buf[VHOST_USER_HDR_SIZE + 64];
    if (size > 64)
        return -EINVAL;
    uint32_t flags = VHOST_USER_VERSION | VHOST_USER_REPLY_FLAG;
    memcpy(buf, &req, 4);
    memcpy(buf + 4, &flags, 4);
    memcpy(buf + 8, &size, 4);
    if (size)
        memcpy(buf + VHOST_USER_HDR_SIZE, payload, size);
    size_t len = VHOST_USER_HDR_SIZE + size, done = 0;
    while (done < len) {
        ssize_t r = send(sock, buf + done, len - done, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)r;
    }
    return 0;
}
