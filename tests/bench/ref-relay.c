/* ref-relay: the reference relays for benchmarks, in plain C. Both attach to an existing TAP, then relay
 * between it and the socket on fd 3 in QEMU's stream (4-byte big-endian length, then the frame) or
 * dgram format.
 *   naive:   poll(), one read and one write per frame, blocking writes for backpressure.
 *   batched: epoll; towards the guest, one read per TAP frame and one writev (stream) or sendmmsg
 *            (dgram) per batch of up to 64 frames; towards the TAP, one large read (stream) or one
 *            recvmmsg of up to 64 datagrams (dgram), then one write per frame. Writes to the guest
 *            block (no CPU is spent waiting), which is the backpressure.
 *
 * usage: ref-relay TAPNAME stream|dgram VNET_HDR_LEN(0|10) naive|batched
 * exit status: 0 when the guest closes its end, 1 on a failed call (the message names it). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define GUEST 3
#define ROOM 70000
#define BATCH 64
#define SLOT (16 + ROOM)
#define GUEST_READ (256 * 1024)

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

static int naive(int tap, int stream, size_t vnet)
{
    static uint8_t from_tap[ROOM], to_tap[ROOM + 16];
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

/* Batched: frames from the TAP land in slots at 16; the vnet header just before, the stream prefix
 * in the last 4 bytes before the frame (over the header's tail, once it has been looked at). */
static uint8_t slots[BATCH][SLOT];
static uint8_t from_guest[GUEST_READ + 2 * ROOM];
static const uint8_t zeros[16];

static int tap_to_guest(int tap, int stream, size_t vnet)
{
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    int count = 0;
    for (int i = 0; i < BATCH; i++) {
        ssize_t n = read(tap, slots[count] + 16 - vnet, ROOM);
        if (n < 0) break;
        if (n <= (ssize_t)vnet) continue;
        uint32_t length = (uint32_t)n - (uint32_t)vnet;
        if (stream) {
            uint32_t prefix = htonl(length);
            memcpy(slots[count] + 12, &prefix, 4);
            iov[count] = (struct iovec){ slots[count] + 12, length + 4 };
        } else {
            iov[count] = (struct iovec){ slots[count] + 16, length };
            memset(&msgs[count], 0, sizeof msgs[count]);
            msgs[count].msg_hdr.msg_iov = &iov[count];
            msgs[count].msg_hdr.msg_iovlen = 1;
        }
        count++;
    }
    if (count == 0) return 1;
    if (stream) return writev(GUEST, iov, count) >= 0;
    for (int sent = 0; sent < count;) {
        int n = sendmmsg(GUEST, msgs + sent, (unsigned)(count - sent), 0);
        if (n < 0) return errno == EMSGSIZE ? (sent++, 1) : 0;
        sent += n;
    }
    return 1;
}

static void write_tap(int tap, uint8_t *frame, size_t length, size_t vnet)
{
    struct iovec iov[2] = { { (void *)zeros, vnet }, { frame, length } };
    if (writev(tap, iov + (vnet ? 0 : 1), vnet ? 2 : 1) < 0) { /* dropped, as the kernel would */ }
}

static size_t held;

static int guest_to_tap(int tap, int stream, size_t vnet)
{
    if (stream) {
        ssize_t n = read(GUEST, from_guest + held, GUEST_READ);
        if (n == 0) return 0;
        if (n < 0) return errno == EAGAIN;
        held += (size_t)n;
        size_t at = 0;
        while (held - at >= 4) {
            uint32_t length;
            memcpy(&length, from_guest + at, 4);
            length = ntohl(length);
            if (length > ROOM) return 0;
            if (held - at < 4 + (size_t)length) break;
            write_tap(tap, from_guest + at + 4, length, vnet);
            at += 4 + length;
        }
        memmove(from_guest, from_guest + at, held - at);
        held -= at;
        return 1;
    }
    static struct iovec iov[BATCH];
    static struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){ slots[i] + 16, ROOM };
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(GUEST, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) return errno == EAGAIN;
    for (int i = 0; i < n; i++) write_tap(tap, slots[i] + 16, msgs[i].msg_len, vnet);
    return 1;
}

static int batched(int tap, int stream, size_t vnet)
{
    if (fcntl(tap, F_SETFL, O_NONBLOCK) < 0) fail("fcntl");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) fail("epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = tap };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tap, &ev) < 0) fail("epoll_ctl");
    ev.data.fd = GUEST;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, GUEST, &ev) < 0) fail("epoll_ctl");
    for (;;) {
        struct epoll_event ready[4];
        int n = epoll_wait(ep, ready, 4, -1);
        if (n < 0 && errno != EINTR) fail("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (ready[i].data.fd == tap && !tap_to_guest(tap, stream, vnet)) return 0;
            if (ready[i].data.fd == GUEST && !guest_to_tap(tap, stream, vnet)) return 0;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) { fprintf(stderr, "usage: ref-relay TAPNAME stream|dgram VNET naive|batched\n"); return 1; }
    int stream = strcmp(argv[2], "stream") == 0;
    size_t vnet = (size_t)atoi(argv[3]);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
    int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tap < 0) fail("open /dev/net/tun");
    if (ioctl(tap, TUNSETIFF, &ifr) < 0) fail("TUNSETIFF");
    return strcmp(argv[4], "batched") == 0 ? batched(tap, stream, vnet) : naive(tap, stream, vnet);
}
