/* name-racer: as any local user could, attach a queue to every multiqueue TAP named on the command line, again and again.
 *
 * `name-racer tap0 tap1 ...`: opens /dev/net/tun and calls TUNSETIFF with IFF_MULTI_QUEUE on each name in
 * turn, forever; a queue it gets is kept for 20 ms, then closed. On SIGTERM it prints how many
 * attempts it made and how many queues it got, and exits 0.
 */
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  unsigned long attempts = 0, attached = 0;
  signal(SIGTERM, on_term);
  printf("ready\n");
  fflush(stdout);
  while (!stop) {
    for (int i = 1; i < argc && !stop; i++) {
      int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
      if (fd < 0) { perror("open /dev/net/tun"); return 1; }
      struct ifreq ifr;
      memset(&ifr, 0, sizeof ifr);
      ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
      strncpy(ifr.ifr_name, argv[i], IFNAMSIZ - 1);
      attempts++;
      if (ioctl(fd, TUNSETIFF, &ifr) == 0) {
        attached++;
        struct timespec hold = {0, 20 * 1000 * 1000};
        nanosleep(&hold, NULL);
      }
      close(fd);
    }
  }
  printf("attempts %lu attached %lu\n", attempts, attached);
  return 0;
}
