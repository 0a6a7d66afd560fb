// Kernel constants used by both programs, named as in the Linux headers they come from (x86-64/aarch64 values).

// <linux/if.h>
export const IFNAMSIZ = 16;
export const IFF_UP = 0x1;

// <linux/if_tun.h>
export const IFF_TAP = 0x0002;
export const IFF_NAPI = 0x0010;
export const IFF_NAPI_FRAGS = 0x0020; // only CAP_NET_ADMIN may request it
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_PERSIST = 0x0800; // shown by tun_flags; TUNSETIFF does not take it
export const IFF_NO_PI = 0x1000;
export const IFF_ONE_QUEUE = 0x2000; // kept for old programs; not shown by `ip -d link`
export const IFF_VNET_HDR = 0x4000;
export const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
export const TUNSETPERSIST = 0x400454cb; // _IOW('T', 203, int)
export const TUNSETOWNER = 0x400454cc; // _IOW('T', 204, int)
export const TUNSETGROUP = 0x400454ce; // _IOW('T', 206, int)
export const TUNGETFEATURES = 0x800454cf; // _IOR('T', 207, unsigned int)
export const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int)
export const TUNGETIFF = 0x800454d2; // _IOR('T', 210, unsigned int)

// <linux/sockios.h>
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const SIOCBRADDIF = 0x89a2;

// <asm-generic/fcntl.h>
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
/** <asm/fcntl.h>: aarch64 (and arm) move it from the generic 0o400000 to 0o100000. */
export const O_NOFOLLOW = process.arch === "arm64" ? 0o100000 : 0o400000;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;

// <linux/socket.h>, <asm-generic/socket.h>
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SOL_SOCKET = 1;
export const SO_DOMAIN = 39;
export const SO_PASSCRED = 16;
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;
export const MSG_DONTWAIT = 0x40;
export const MSG_CTRUNC = 0x8;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

// <linux/if_ether.h>
export const ETH_P_ALL = 0x0003;
/** @public the relay's framing takes the Ethernet header length from here (issue 13). */
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

// <linux/if_tun.h>: TUNSETOFFLOAD flags (none: the kernel never hands over GSO frames)
export const TUN_F_NONE = 0;
export const MSG_TRUNC = 0x20;

// <asm-generic/signal.h>: the signals Bun ignores (SigIgn), put back before handing the process over
export const SIGPIPE = 13;
export const SIGXFSZ = 25;

// <asm-generic/poll.h>
export const POLLIN = 0x1;
export const POLLOUT = 0x4;

// <linux/virtio_net.h>: struct virtio_net_hdr, the header IFF_VNET_HDR adds by default.
export const VIRTIO_NET_HDR_LEN = 10;

// <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>: the link query of shared/netlink.ts
export const NETLINK_ROUTE = 0;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const NLM_F_DUMP_INTR = 0x10;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const AF_UNSPEC = 0;
export const AF_BRIDGE = 7;
// <linux/if_link.h>
export const IFLA_IFNAME = 3;
export const IFLA_MASTER = 10;
export const IFLA_PROTINFO = 12;
export const IFLA_LINKINFO = 18;
export const IFLA_IFALIAS = 20;
export const IFLA_EXT_MASK = 29;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_TUN_OWNER = 1;
export const IFLA_TUN_GROUP = 2;
export const IFLA_BRPORT_ISOLATED = 33;
/** The longest alias the kernel keeps (IFALIASZ), NUL included. */
export const IFALIASZ = 256;
export const IFLA_PROP_LIST = 52;
export const IFLA_ALT_IFNAME = 53;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;
/** The type bits of nlattr.nla_type, without NLA_F_NESTED and NLA_F_NET_BYTEORDER. */
export const NLA_TYPE_MASK = 0x3fff;
export const NLA_F_NESTED = 1 << 15;

// <sys/statvfs.h>: f_flag bits
export const ST_NOSUID = 2n;
