// Questions and changes about network devices over rtnetlink: names, bridge ports, TAP queues, aliases, port isolation, deletion.
import { SysError } from "./errors.ts";
import { EAGAIN, EINTR, EIO, EMSGSIZE } from "./errno.ts";
import {
  AF_BRIDGE,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_TARGET_NETNSID,
  AF_NETLINK,
  AF_UNSPEC,
  IFALIASZ,
  IFLA_ALT_IFNAME,
  IFLA_BRPORT_ISOLATED,
  IFLA_EXT_MASK,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_PROP_LIST,
  IFLA_PROTINFO,
  IFLA_TUN_GROUP,
  IFLA_TUN_NUM_DISABLED_QUEUES,
  IFLA_TUN_NUM_QUEUES,
  IFLA_TUN_OWNER,
  IFLA_TUN_PERSIST,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  RTEXT_FILTER_SKIP_STATS,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
  SOCK_CLOEXEC,
  SOCK_RAW,
} from "./kernel.ts";
import { closeFd, describeErrno, openSocket, readOrErrno, writeOrErrno } from "./libc.ts";
import {
  AttributeList,
  encodeLinkRequest,
  isDone,
  messageErrno,
  parseLinkMessage,
  splitMessages,
  type NetlinkMessage,
  type ParsedAttributes,
} from "./netlink-message.ts";

/** One datagram of a reply; a link without statistics is a few KiB, a dump part at most 32 KiB. */
const REPLY_ROOM = 64 * 1024;
/** A dump of one bridge's ports ends well before this many datagrams (a bridge has at most 1024 ports). */
const MAX_DUMP_DATAGRAMS = 4096;
/** Dumps taken before an ever-changing device list is given up on. */
const DUMP_ATTEMPTS = 3;

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
  /** What the kernel reports of a TUN/TAP device (IFLA_LINKINFO), null for other devices. */
  tun: TunState | null;
  /** The device's kind (IFLA_INFO_KIND: `veth`, `tun`, `bridge`), null for one without (loopback, a physical NIC). */
  kind: string | null;
  /** IFLA_LINK: for a veth, its peer's index in the peer's namespace; null when absent. */
  link: number | null;
  /** IFLA_LINK_NETNSID: the id this namespace gives the namespace IFLA_LINK lies in, when that is another one. */
  linkNamespaceId: number | null;
}

/** A TUN/TAP device's state as rtnetlink reports it (Linux 4.15 and later; IFLA_TUN_*). */
export interface TunState {
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

/** The TUN state in a link's IFLA_LINKINFO when it is of kind "tun", else null. throws SysError(EIO). */
function tunState(attributes: ParsedAttributes): TunState | null {
  const info = attributes.nested(IFLA_LINKINFO);
  if (info?.string(IFLA_INFO_KIND) !== "tun") return null;
  const data = info.nested(IFLA_INFO_DATA);
  const attached = data?.u32(IFLA_TUN_NUM_QUEUES) ?? null;
  const disabled = data?.u32(IFLA_TUN_NUM_DISABLED_QUEUES) ?? null;
  return {
    owner: data?.u32(IFLA_TUN_OWNER) ?? null,
    group: data?.u32(IFLA_TUN_GROUP) ?? null,
    persistent: (data?.get(IFLA_TUN_PERSIST)?.[0] ?? 0) !== 0,
    queues: attached === null || disabled === null ? null : { attached, disabled },
  };
}

function describe(message: NetlinkMessage): LinkDescription {
  const { index, attributes } = parseLinkMessage(message);
  const name = attributes.string(IFLA_IFNAME);
  if (name === null) throw new SysError("RTM_GETLINK", EIO, "reply without IFLA_IFNAME", `link ${index}`);
  const altNames = attributes.nested(IFLA_PROP_LIST)?.strings(IFLA_ALT_IFNAME) ?? [];
  return {
    index,
    name,
    altNames,
    master: attributes.u32(IFLA_MASTER),
    alias: attributes.string(IFLA_IFALIAS) || null,
    tun: tunState(attributes),
    kind: attributes.nested(IFLA_LINKINFO)?.string(IFLA_INFO_KIND) ?? null,
    link: attributes.u32(IFLA_LINK),
    linkNamespaceId: attributes.s32(IFLA_LINK_NETNSID),
  };
}

/** A route netlink socket for one exchange, closed whatever happens. */
function withRouteSocket<T>(body: (fd: number) => T): T {
  const fd = openSocket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  try {
    return body(fd);
  } finally {
    closeFd(fd);
  }
}

function send(fd: number, request: Uint8Array, what: string): void {
  // An unbound netlink socket sends to the kernel and is bound to a port of its own on the way.
  const sent = writeOrErrno(fd, request);
  if (sent < 0) throw new SysError("send", -sent, describeErrno(-sent), what);
}

/** The messages of the next datagram. throws SysError(EMSGSIZE when it did not fit, EIO when malformed). */
function receive(fd: number, buffer: Uint8Array, what: string): NetlinkMessage[] {
  let received: number;
  do received = readOrErrno(fd, buffer);
  while (received === -EINTR);
  if (received < 0) throw new SysError("recv", -received, describeErrno(-received), what);
  if (received === buffer.byteLength) throw new SysError("recv", EMSGSIZE, describeErrno(EMSGSIZE), what);
  return splitMessages(buffer.subarray(0, received));
}

/** Throws the SysError an NLMSG_ERROR carries; true for an acknowledgement (errno 0). */
function acknowledged(message: NetlinkMessage, call: string, what: string): boolean {
  const errno = messageErrno(message);
  if (errno === null) return false;
  if (errno !== 0) throw new SysError(call, errno, describeErrno(errno), what);
  return true;
}

/**
 * The device with interface index `index` in this network namespace, or in the one this namespace
 * knows by `namespaceId` (a veth's IFLA_LINK_NETNSID), asked of the kernel over rtnetlink
 * (iproute2's `ip link show` reads the same). throws SysError(ENODEV when the device is
 * gone, EMFILE, EIO when the reply is malformed, ...).
 */
export function describeLink(index: number, namespaceId: number | null = null): LinkDescription {
  const what = `RTM_GETLINK ${index}${namespaceId === null ? "" : ` in namespace id ${namespaceId}`}`;
  return withRouteSocket((fd) => {
    const filter = new AttributeList().u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    // IFLA_TARGET_NETNSID: the kernel answers from that namespace (the caller needs CAP_NET_ADMIN over it).
    if (namespaceId !== null) filter.u32(IFLA_TARGET_NETNSID, namespaceId);
    send(fd, encodeLinkRequest({ type: RTM_GETLINK, flags: NLM_F_REQUEST, seq: 1, family: AF_UNSPEC, index }, filter), what);
    for (const message of receive(fd, new Uint8Array(REPLY_ROOM), what)) {
      if (acknowledged(message, "RTM_GETLINK", what)) continue;
      if (message.type === RTM_NEWLINK) return describe(message);
    }
    throw new SysError("RTM_GETLINK", EIO, "no link in the reply", what);
  });
}

/**
 * Every port of the bridge with index `bridgeIndex`, from one dump (the kernel filters by
 * IFLA_MASTER; the result is filtered again here, for kernels that ignore the filter). A dump the
 * kernel marks interrupted (NLM_F_DUMP_INTR: the device list changed under it, so a port may be
 * missing) is taken again, at most DUMP_ATTEMPTS times: a count built on it must not come out low.
 * throws SysError(EAGAIN when every attempt was interrupted, ...).
 */
export function listBridgePorts(bridgeIndex: number): LinkDescription[] {
  for (let attempt = 1; attempt <= DUMP_ATTEMPTS; attempt += 1) {
    const ports = dumpBridgePorts(bridgeIndex);
    if (ports !== null) return ports;
  }
  throw new SysError("RTM_GETLINK", EAGAIN, `the device list kept changing during ${DUMP_ATTEMPTS} dumps`, `ports of link ${bridgeIndex}`);
}

/** Every device in this network namespace, from one dump taken again when interrupted (as listBridgePorts). throws SysError. */
export function listLinks(): LinkDescription[] {
  for (let attempt = 1; attempt <= DUMP_ATTEMPTS; attempt += 1) {
    const links = dumpBridgePorts(null);
    if (links !== null) return links;
  }
  throw new SysError("RTM_GETLINK", EAGAIN, `the device list kept changing during ${DUMP_ATTEMPTS} dumps`, "all links");
}

/** One dump of the bridge's ports (every device for null), or null when the kernel marked it interrupted. */
function dumpBridgePorts(bridgeIndex: number | null): LinkDescription[] | null {
  const what = bridgeIndex === null ? "RTM_GETLINK dump of all links" : `RTM_GETLINK dump of the ports of link ${bridgeIndex}`;
  return withRouteSocket((fd) => {
    const filter = new AttributeList().u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    if (bridgeIndex !== null) filter.u32(IFLA_MASTER, bridgeIndex);
    send(
      fd,
      encodeLinkRequest({ type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1, family: AF_UNSPEC, index: 0 }, filter),
      what,
    );
    const buffer = new Uint8Array(REPLY_ROOM);
    const ports: LinkDescription[] = [];
    let interrupted = false;
    for (let datagram = 0; datagram < MAX_DUMP_DATAGRAMS; datagram += 1) {
      for (const message of receive(fd, buffer, what)) {
        interrupted ||= (message.flags & NLM_F_DUMP_INTR) !== 0;
        if (isDone(message)) return interrupted ? null : ports;
        if (acknowledged(message, "RTM_GETLINK", what) || message.type !== RTM_NEWLINK) continue;
        const link = describe(message);
        if (bridgeIndex === null || link.master === bridgeIndex) ports.push(link);
      }
    }
    throw new SysError("RTM_GETLINK", EMSGSIZE, `no end after ${MAX_DUMP_DATAGRAMS} datagrams`, what);
  });
}

/**
 * Sends one request that asks for an acknowledgement (NLM_F_ACK) and reads it. throws SysError with
 * the kernel's errno, named after `call`.
 */
export function requestAcknowledged(request: Uint8Array, call: string, what: string): void {
  withRouteSocket((fd) => {
    send(fd, request, what);
    // The kernel answers a request with NLM_F_ACK with exactly one NLMSG_ERROR, 0 on success.
    const [reply] = receive(fd, new Uint8Array(REPLY_ROOM), what);
    if (reply === undefined || !acknowledged(reply, call, what)) {
      throw new SysError(call, EIO, "no acknowledgement in the reply", what);
    }
  });
}

/**
 * Sends one change (RTM_SETLINK, RTM_DELLINK, RTM_NEWLINK with `flags` such as NLM_F_CREATE) and reads
 * its acknowledgement. throws SysError with the kernel's errno.
 */
export function changeLink(
  request: { type: number; call: string; family: number; flags?: number },
  index: number,
  attributes: AttributeList,
  what: string,
): void {
  const { type, call, family } = request;
  const flags = NLM_F_REQUEST | NLM_F_ACK | (request.flags ?? 0);
  requestAcknowledged(encodeLinkRequest({ type, flags, seq: 1, family, index }, attributes), call, what);
}

const SET_LINK = { type: RTM_SETLINK, call: "RTM_SETLINK", family: AF_UNSPEC };

/**
 * Sets the device's alias (`ip link set dev X alias TEXT`). Changing it needs CAP_NET_ADMIN, so a
 * TAP's holder cannot rewrite what the helper wrote there. throws RangeError for an alias of
 * IFALIASZ bytes or more, SysError(EPERM, ENODEV, ...).
 */
export function setLinkAlias(index: number, alias: string): void {
  if (Buffer.byteLength(alias, "latin1") >= IFALIASZ) throw new RangeError(`alias longer than ${IFALIASZ - 1} bytes`);
  changeLink(SET_LINK, index, new AttributeList().string(IFLA_IFALIAS, alias), `alias of link ${index}`);
}

/**
 * Turns on the bridge port flag `isolated` of the port with index `index` (`bridge link set dev X
 * isolated on`): isolated ports exchange no frame with each other, only with the other ports.
 * throws SysError(EOPNOTSUPP when it is no bridge port, EPERM, ...).
 */
export function setBridgePortIsolated(index: number): void {
  const attributes = new AttributeList().nested(IFLA_PROTINFO, (port) => port.u8(IFLA_BRPORT_ISOLATED, 1));
  changeLink({ ...SET_LINK, family: AF_BRIDGE }, index, attributes, `isolation of bridge port ${index}`);
}

/**
 * Deletes the device named `name` (`ip link del`). A TAP goes at once, with its bridge port, also
 * when a process other than the helper still holds one of its queues (closing the helper's fds would
 * leave it). throws SysError(ENODEV when it is already gone, EPERM, ...).
 */
export function deleteLink(name: string): void {
  const byName = new AttributeList().string(IFLA_IFNAME, name);
  changeLink({ type: RTM_DELLINK, call: "RTM_DELLINK", family: AF_UNSPEC }, 0, byName, `deletion of link ${name}`);
}
