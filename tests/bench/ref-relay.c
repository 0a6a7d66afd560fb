/* ref-relay: the reference relay for benchmarks, in plain C. It does the datapath's job the
 * straightforward way: attach to an existing TAP, then relay between it and the socket on fd 3 in
 * QEMU's stream (4-byte big-endian length, then the frame) or dgram format, one frame per read and
 * one write per frame, blocking writes for backpressure, poll() for readiness.
 *
 * usage: ref-relay TAPNAME stream|dgram VNET_HDR_LEN(0|10)
 * exit status: 0 when the guest closes its end, 1 on a failed call (the message names it). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define GUEST 3
#define ROOM 70000

static void fail(const char *call) { perror(call); exit(1); }

/* Reads exactly n bytes; 0 at the end of the stream. */
static int read_full(int fd, uint8_t *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, buf + done, n - done);
        if (r <= 0) return 0;
        done += (size_t)r;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: ref-relay TAPNAME stream|dgram VNET\n"); return 1; }
    int stream = strcmp(argv[2], "stream") == 0;
    size_t vnet = (size_t)atoi(argv[3]);
    static uint8_t from_tap[ROOM], to_tap[ROOM + 16];
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
    int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tap < 0) fail("open /dev/net/tun");
    if (ioctl(tap, TUNSETIFF, &ifr) < 0) fail("TUNSETIFF");

    struct pollfd fds[2] = { { tap, POLLIN, 0 }, { GUEST, POLLIN, 0 } };
    memset(to_tap, 0, vnet);
    for (;;) {
        if (poll(fds, 2, -1) < 0) fail("poll");
        if (fds[0].revents & POLLIN) {
            ssize_t n = read(tap, from_tap, sizeof from_tap);
            if (n > (ssize_t)vnet) {
                uint32_t length = (uint32_t)n - (uint32_t)vnet;
                if (stream) {
                    uint32_t prefix = htonl(length);
                    struct iovec iov[2] = { { &prefix, 4 }, { from_tap + vnet, length } };
                    if (writev(GUEST, iov, 2) < 0) return 0;
                } else if (write(GUEST, from_tap + vnet, length) < 0) {
                    return 0;
                }
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            ssize_t length;
            if (stream) {
                uint32_t prefix;
                if (!read_full(GUEST, (uint8_t *)&prefix, 4)) return 0;
                length = (ssize_t)ntohl(prefix);
                if (length > ROOM || !read_full(GUEST, to_tap + vnet, (size_t)length)) return 0;
            } else {
                length = read(GUEST, to_tap + vnet, ROOM);
                if (length <= 0) return 0;
            }
            if (write(tap, to_tap, (size_t)length + vnet) < 0) { /* dropped, as the kernel would */ }
        }
    }
}
