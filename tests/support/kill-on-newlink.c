/* kill-on-newlink: as any local user could, run a privileged program and SIGKILL it the moment a device appears.
 *
 * `kill-on-newlink new|port-up PROGRAM ARGS...`: subscribes to rtnetlink's link group in its own network
 * namespace (no privilege needed), forks and executes PROGRAM, and sends it SIGKILL at the first
 * RTM_NEWLINK it hears (`new`), or at the first that shows a bridge port up (`port-up`: IFF_UP and
 * IFLA_MASTER). The caller may signal the program: the exec shim leaves its real, effective and saved user ids
 * the caller's. Prints `killed` or `exited N` and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether the link message shows an up device that is a port of some master. */
static int port_up(struct nlmsghdr *message) {
  struct ifinfomsg *info = NLMSG_DATA(message);
  if (!(info->ifi_flags & IFF_UP)) return 0;
  int length = (int)IFLA_PAYLOAD(message);
  for (struct rtattr *attribute = IFLA_RTA(info); RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length))
    if (attribute->rta_type == IFLA_MASTER) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const int on_port_up = strcmp(argv[1], "port-up") == 0;
  argv++;
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
      if (message->nlmsg_type != RTM_NEWLINK || (on_port_up && !port_up(message))) continue;
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      printf("%s\n", WIFSIGNALED(status) ? "killed" : "exited");
      return 0;
    }
  }
}
