/* The Linux reference for the switch benchmark: send or receive raw frames on
 * a network interface with an AF_PACKET socket (sendmmsg with
 * PACKET_QDISC_BYPASS; recvmmsg), printing the same RESULT line as vpio
 * pktgen. Used by bench/switch_veth_ref.sh on a veth pair inside a network
 * namespace it creates.
 *   afpacket tx|rx IFNAME LEN SECONDS BATCH
 * Frames: broadcast destination, ethertype 0x88b5; rx counts only those. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: afpacket tx|rx IFNAME LEN SECONDS BATCH\n");
        return 2;
    }
    int tx = !strcmp(argv[1], "tx");
    unsigned ifindex = if_nametoindex(argv[2]);
    int len = atoi(argv[3]);
    double secs = atof(argv[4]);
    int batch = atoi(argv[5]);
    if (!ifindex || len < 14 || len > 2048 || secs <= 0 || batch < 1 || batch > 1024) {
        fprintf(stderr, "afpacket: bad arguments\n");
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons(tx ? 0 : ETH_P_ALL));
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(tx ? 0 : ETH_P_ALL),
                              .sll_ifindex = (int)ifindex};
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        perror("bind");
        return 1;
    }
    static uint8_t bufs[1024][2048];
    struct mmsghdr msgs[1024];
    struct iovec iov[1024];
    uint64_t pkts = 0, bytes = 0, drops = 0;
    double t0 = now(), first = 0, last = 0, end = t0 + secs;
    for (int i = 0; i < batch; i++) {
        iov[i] = (struct iovec){bufs[i], tx ? (size_t)len : sizeof bufs[i]};
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (tx) {
        int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
        for (int i = 0; i < batch; i++) {
            memset(bufs[i], 0xff, 6);
            uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
            memcpy(bufs[i] + 6, src, 6);
            bufs[i][12] = 0x88;
            bufs[i][13] = 0xb5;
        }
        uint64_t tries = 0;
        while (now() < end) {
            int n = sendmmsg(fd, msgs, (unsigned)batch, 0);
            tries += (uint64_t)batch;
            if (n > 0)
                pkts += (uint64_t)n;
        }
        drops = tries - pkts;
        last = now();
        first = t0;
    } else {
        int sz = 64 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
        double idle_end = end + 3;
        for (;;) {
            double t = now();
            if (t >= idle_end || (pkts && t - last > 0.5))
                break;
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, 100) <= 0)
                continue;
            int n = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
            for (int i = 0; i < n; i++) {
                if (msgs[i].msg_len < 14 || bufs[i][12] != 0x88 || bufs[i][13] != 0xb5)
                    continue;
                if (!pkts)
                    first = now();
                pkts++;
                bytes += msgs[i].msg_len;
            }
            if (n > 0)
                last = now();
        }
        struct tpacket_stats st;
        socklen_t sl = sizeof st;
        if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
            drops = st.tp_drops;
    }
    if (tx)
        bytes = pkts * (uint64_t)len;
    double dt = last - first > 0 ? last - first : 1e-9;
    printf("RESULT app=afpacket role=%s pkts=%llu bytes=%llu pps=%.0f bps=%.0f drops=%llu errs=0\n",
           tx ? "tx" : "rx", (unsigned long long)pkts, (unsigned long long)bytes, pkts / dt,
           bytes * 8 / dt, (unsigned long long)drops);
    return 0;
}
