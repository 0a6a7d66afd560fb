// Kernel constants only the launcher side and the tests use: unmanaged TAPs, the relay, exec, capture, test tools.
// Apart from kernel.ts so that the privileged helper's import graph holds none of them; named as in the Linux headers (x86-64/aarch64 values).
import { O_CLOEXEC, O_NONBLOCK } from "./kernel.ts";

// <linux/if_tun.h>
export const IFF_NAPI = 0x0010;
export const IFF_NAPI_FRAGS = 0x0020; // only CAP_NET_ADMIN may request it
export const IFF_PERSIST = 0x0800; // shown by tun_flags; TUNSETIFF does not take it
export const IFF_ONE_QUEUE = 0x2000; // kept for old programs; not shown by `ip -d link`
export const TUNSETPERSIST = 0x400454cb; // _IOW('T', 203, int)
export const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int)
export const TUNGETIFF = 0x800454d2; // _IOR('T', 210, unsigned int)
export const TUNGETVNETHDRSZ = 0x800454d7; // _IOR('T', 215, int)
export const TUNSETVNETHDRSZ = 0x400454d8; // _IOW('T', 216, int)
// TUNSETOFFLOAD flags (none: the kernel never hands over GSO frames)
export const TUN_F_NONE = 0;
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;

// <asm-generic/fcntl.h>
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export { O_NONBLOCK } from "./kernel.ts"; // the helper's configuration files need it too
/** <asm/fcntl.h>: aarch64 (and arm) move it from the generic 0o400000 to 0o100000. */
export const O_NOFOLLOW = process.arch === "arm64" ? 0o100000 : 0o400000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;

// <linux/socket.h>, <asm-generic/socket.h>
export const AF_PACKET = 17;
export { SOCK_STREAM } from "./kernel.ts"; // the helper's syslog needs it too
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SO_PASSCRED = 16;
export const SCM_CREDENTIALS = 2;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_CMSG_CLOEXEC = 0x40000000;

// <linux/if_ether.h>
export const ETH_P_ALL = 0x0003;
export const ETH_HLEN = 14;

// <linux/eventpoll.h>; struct epoll_event's layout differs by architecture: see shared/epoll.ts
export const EPOLL_CLOEXEC = O_CLOEXEC;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x1;
export const EPOLLPRI = 0x2;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;

// <asm-generic/signal.h>: the signals Bun ignores (SigIgn), put back before handing the process over
export const SIGPIPE = 13;
export const SIGXFSZ = 25;

// <asm-generic/poll.h>
export const POLLIN = 0x1;

// <linux/virtio_net.h>: struct virtio_net_hdr, the header IFF_VNET_HDR adds by default.
export const VIRTIO_NET_HDR_LEN = 10;

// <sys/statvfs.h>: f_flag bits
export const ST_NOSUID = 2n;
