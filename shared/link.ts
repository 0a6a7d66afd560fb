// What rtnetlink reports of a network device, as shared/netlink.ts reads it: the one LinkDescription (types only).

/** A network device as rtnetlink reports it: the one description every part of the project reads. */
export interface LinkDescription {
  index: number;
  /** The canonical name (IFLA_IFNAME). */
  name: string;
  /** Alternative names (IFLA_PROP_LIST / IFLA_ALT_IFNAME), in the kernel's order. */
  altNames: string[];
  /** The index of the bridge (or other master) the device is a port of (IFLA_MASTER), or null. */
  master: number | null;
  /** The device's alias (IFLA_IFALIAS): only CAP_NET_ADMIN can set it. null when it has none. */
  alias: string | null;
  /** The hardware address (IFLA_ADDRESS) as `ip link` prints it, null when the device has none. */
  address: string | null;
  /** The kind (IFLA_INFO_KIND: "bridge", "tun", "veth", ...), null for a device without one (lo, a physical NIC). */
  kind: string | null;
  /** What the kernel reports of a TUN/TAP device (IFLA_LINKINFO), null for other devices. */
  tun: TunState | null;
  /** IFLA_LINK: for a veth, its peer's index in the peer's namespace; null when absent. */
  link: number | null;
  /** IFLA_LINK_NETNSID: the id this namespace gives the namespace IFLA_LINK lies in, when that is another one. */
  linkNamespaceId: number | null;
}

/** A TUN/TAP device's state as rtnetlink reports it (Linux 4.15 and later; IFLA_TUN_*). */
export interface TunState {
  /** "tap" for a layer-2 device (IFF_TAP), "tun" for a layer-3 one. */
  type: "tap" | "tun";
  /** The flags it was made with: a packet-information header (no IFF_NO_PI), IFF_VNET_HDR, IFF_MULTI_QUEUE. */
  packetInfo: boolean;
  vnetHeader: boolean;
  multiQueue: boolean;
  /** The owner and group (TUNSETOWNER, TUNSETGROUP), null when not set. */
  owner: number | null;
  group: number | null;
  persistent: boolean;
  /**
   * Queues attached and enabled (IFLA_TUN_NUM_QUEUES) and attached but detached with TUNSETQUEUE
   * (IFLA_TUN_NUM_DISABLED_QUEUES). null for a single-queue TAP, and on kernels before 4.15: the
   * kernel reports them only for multiqueue ones.
   */
  queues: { attached: number; disabled: number } | null;
}
