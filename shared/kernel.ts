// Kernel constants the helper uses, named as in Linux's headers (x86-64/aarch64 values); the launcher's others: kernel-launcher.ts.

// <linux/if.h>
export const IFNAMSIZ = 16;
export const IFF_UP = 0x1;
// <linux/if_tun.h>
export const IFF_TAP = 0x0002;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
export const IFF_TUN_EXCL = 0x8000; // TUNSETIFF fails with EBUSY rather than attach when the name is taken
export const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
export const TUNSETOWNER = 0x400454cc; // _IOW('T', 204, int)
export const TUNSETGROUP = 0x400454ce; // _IOW('T', 206, int)
export const TUNGETFEATURES = 0x800454cf; // _IOR('T', 207, unsigned int)
// <linux/sockios.h>
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFNAME = 0x8923;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const SIOCBRADDIF = 0x89a2;
// <asm-generic/fcntl.h>
export const O_RDONLY = 0;
export const O_RDWR = 0o2;
export const O_DIRECTORY = process.arch === "arm64" ? 0o40000 : 0o200000; // <asm/fcntl.h>: aarch64 (and arm) move it
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
// <linux/socket.h>, <asm-generic/socket.h>
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_NETLINK = 16;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const SOL_SOCKET = 1;
export const SO_SNDTIMEO = 21; // SO_SNDTIMEO_OLD: a struct timeval of two 64-bit fields
export const SO_DOMAIN = 39;
export const SCM_RIGHTS = 1;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
// <asm-generic/poll.h>
export const POLLOUT = 0x4;
// <linux/netlink.h>, <linux/rtnetlink.h>: the link queries and changes of shared/netlink.ts
export const NETLINK_ROUTE = 0;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const NLM_F_DUMP_INTR = 0x10;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWLINKPROP = 108;
export const AF_UNSPEC = 0;
export const AF_BRIDGE = 7;
export const NLA_TYPE_MASK = 0x3fff; // nla_type without NLA_F_NESTED and NLA_F_NET_BYTEORDER
export const NLA_F_NESTED = 1 << 15;
// <linux/if_link.h>
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_PROTINFO = 12;
export const IFLA_LINKINFO = 18;
export const IFLA_IFALIAS = 20;
export const IFLA_EXT_MASK = 29;
export const IFLA_LINK_NETNSID = 37;
export const IFLA_TARGET_NETNSID = 46;
export const IFLA_BRPORT_ISOLATED = 33;
export const IFLA_PROP_LIST = 52;
export const IFLA_ALT_IFNAME = 53;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_TUN_OWNER = 1;
export const IFLA_TUN_GROUP = 2;
export const IFLA_TUN_TYPE = 3; // u8: IFF_TUN or IFF_TAP
export const IFLA_TUN_PI = 4;
export const IFLA_TUN_VNET_HDR = 5;
export const IFLA_TUN_PERSIST = 6;
export const IFLA_TUN_MULTI_QUEUE = 7;
export const IFLA_TUN_NUM_QUEUES = 8;
export const IFLA_TUN_NUM_DISABLED_QUEUES = 9;
export const IFALIASZ = 256; // the longest alias the kernel keeps, NUL included
