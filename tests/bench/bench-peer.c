/* bench-peer: traffic for the relay benchmark.
 *   bench-peer pair stream|dgram RELAY... -- GUEST...   socketpair: fd 3 of the relay and of the guest
 *   bench-peer inject IFACE SIZE SECONDS                broadcast frames into IFACE (AF_PACKET, sendmmsg)
 *   bench-peer sink stream|dgram WARMUP SECONDS          counts frames from fd 3: "FRAMES BYTES SECONDS"
 *   bench-peer source stream|dgram SIZE SECONDS          writes frames to fd 3 as fast as it can
 *   bench-peer stamp                                     prints CLOCK_MONOTONIC in ns (a guest that says when it runs)
 *   bench-peer time-exec CMD...                          runs CMD, whose stdout's first line is a stamp: prints
 *                                                        the microseconds from just before fork to that stamp,
 *                                                        and the CPU microseconds (user and system) of CMD's
 *                                                        whole run, its waited-for children included */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(const char *call) { perror(call); exit(1); }

static void frame_fill(uint8_t *frame, size_t size)
{
    memset(frame, 0xff, 6);
    memcpy(frame + 6, "\x02\x00\x00\x00\x00\x0c", 6);
    frame[12] = 0x88; frame[13] = 0xb5;
    for (size_t i = 14; i < size; i++) frame[i] = (uint8_t)i;
}

static int pair(int stream, char **relay, char **guest)
{
    int sv[2];
    if (socketpair(AF_UNIX, stream ? SOCK_STREAM : SOCK_DGRAM, 0, sv) < 0) fail("socketpair");
    /* Move both ends clear of 3 first: socketpair may well have returned 3 itself. */
    int relay_end = fcntl(sv[0], F_DUPFD, 10), guest_end = fcntl(sv[1], F_DUPFD, 10);
    if (relay_end < 0 || guest_end < 0) fail("F_DUPFD");
    close(sv[0]);
    close(sv[1]);
    pid_t child = fork();
    if (child == 0) {
        dup2(guest_end, 3);
        close(guest_end);
        close(relay_end);
        execvp(guest[0], guest);
        fail("exec guest");
    }
    dup2(relay_end, 3);
    close(relay_end);
    close(guest_end);
    execvp(relay[0], relay);
    fail("exec relay");
    return 1;
}

static int inject(const char *iface, size_t size, double seconds)
{
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) fail("socket");
    struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)if_nametoindex(iface) };
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("bind");
    enum { BATCH = 32 };
    static uint8_t frame[65536];
    frame_fill(frame, size);
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = frame;
        iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    double end = now() + seconds;
    while (now() < end) sendmmsg(fd, msgs, BATCH, 0); /* ENOBUFS: the TAP's queue is full, keep pushing */
    return 0;
}

static int sink(int stream, double warmup, double seconds)
{
    static uint8_t buf[1 << 20];
    size_t held = 0;
    long long frames = 0, bytes = 0;
    double start = 0, end = 0;
    struct pollfd pfd = { 3, POLLIN, 0 };
    for (;;) {
        if (poll(&pfd, 1, 2000) <= 0) break;
        ssize_t n = read(3, buf + held, sizeof buf - held);
        if (n <= 0) break;
        double t = now();
        if (start == 0) { start = t + warmup; end = start + seconds; }
        if (t > end) break;
        int counting = t >= start;
        if (!stream) {
            if (counting) { frames++; bytes += n; }
            continue;
        }
        held += (size_t)n;
        size_t at = 0;
        while (held - at >= 4) {
            uint32_t length = ntohl(*(uint32_t *)(buf + at));
            if (held - at < 4 + (size_t)length) break;
            if (counting) { frames++; bytes += length; }
            at += 4 + length;
        }
        memmove(buf, buf + at, held - at);
        held -= at;
    }
    printf("%lld %lld %.3f\n", frames, bytes, seconds);
    return 0;
}

static int source(int stream, size_t size, double seconds)
{
    enum { COUNT = 64 };
    static uint8_t chunk[COUNT * (65536 + 4)];
    size_t length = 0;
    for (int i = 0; i < COUNT; i++) {
        if (stream) { uint32_t prefix = htonl((uint32_t)size); memcpy(chunk + length, &prefix, 4); length += 4; }
        frame_fill(chunk + length, size);
        length += size;
    }
    double end = now() + seconds;
    while (now() < end) {
        if (stream) {
            if (write(3, chunk, length) < 0) break;
        } else {
            for (int i = 0; i < COUNT; i++) if (write(3, chunk + (size_t)i * size, size) < 0) return 0;
        }
    }
    return 0;
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int time_exec(char **cmd)
{
    int out[2];
    if (pipe(out) < 0) fail("pipe");
    long long start = now_ns();
    pid_t child = fork();
    if (child == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execvp(cmd[0], cmd);
        fail("exec");
    }
    close(out[1]);
    char line[64] = { 0 };
    size_t got = 0;
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL) {
        ssize_t n = read(out[0], line + got, sizeof line - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    int status;
    struct rusage usage;
    if (wait4(child, &status, 0, &usage) < 0) fail("wait4");
    if (got == 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "time-exec: no stamp\n"); return 1; }
    double cpu_us = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    printf("%.1f %.1f\n", (double)(atoll(line) - start) / 1000.0, cpu_us);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "stamp") == 0) { printf("%lld\n", now_ns()); return 0; }
    if (argc >= 3 && strcmp(argv[1], "time-exec") == 0) return time_exec(argv + 2);
    if (argc >= 5 && strcmp(argv[1], "pair") == 0) {
        int split = 3;
        while (split < argc && strcmp(argv[split], "--") != 0) split++;
        if (split >= argc - 1) { fprintf(stderr, "pair: RELAY... -- GUEST...\n"); return 1; }
        argv[split] = NULL;
        return pair(strcmp(argv[2], "stream") == 0, argv + 3, argv + split + 1);
    }
    if (argc == 5 && strcmp(argv[1], "inject") == 0) return inject(argv[2], (size_t)atoi(argv[3]), atof(argv[4]));
    if (argc == 5 && strcmp(argv[1], "sink") == 0) return sink(strcmp(argv[2], "stream") == 0, atof(argv[3]), atof(argv[4]));
    if (argc == 5 && strcmp(argv[1], "source") == 0) return source(strcmp(argv[2], "stream") == 0, (size_t)atoi(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: see the top of bench-peer.c\n");
    return 1;
}
