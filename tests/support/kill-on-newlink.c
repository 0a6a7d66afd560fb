/* kill-on-newlink: as any local user could, run a privileged program and SIGKILL it the moment a device appears.
 *
 * `kill-on-newlink PROGRAM ARGS...`: subscribes to rtnetlink's link group in its own network namespace
 * (no privilege needed), forks and executes PROGRAM, and sends it SIGKILL at the first RTM_NEWLINK it
 * hears. The caller may signal the program: the exec shim leaves its real, effective and saved user ids
 * the caller's. Prints `killed` or `exited N` and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
  if (nl < 0 || bind(nl, (struct sockaddr *)&address, sizeof address) != 0) { perror("netlink"); return 2; }
  pid_t child = fork();
  if (child < 0) { perror("fork"); return 2; }
  if (child == 0) { execv(argv[1], argv + 1); _exit(127); }
  static char buffer[65536];
  int status = 0;
  for (;;) {
    if (waitpid(child, &status, WNOHANG) == child) { printf("exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1); return 0; }
    struct pollfd ready = { .fd = nl, .events = POLLIN };
    if (poll(&ready, 1, 50) <= 0) continue;
    ssize_t length = recv(nl, buffer, sizeof buffer, 0);
    if (length < 0) { if (errno == EINTR || errno == ENOBUFS) continue; perror("recv"); return 2; }
    for (struct nlmsghdr *message = (struct nlmsghdr *)buffer; NLMSG_OK(message, (size_t)length); message = NLMSG_NEXT(message, length)) {
      if (message->nlmsg_type != RTM_NEWLINK) continue;
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      printf("%s\n", WIFSIGNALED(status) ? "killed" : "exited");
      return 0;
    }
  }
}
