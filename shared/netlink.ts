// Questions and changes about network devices over rtnetlink: names, alternative names, TAP queues, aliases, port isolation, deletion.
import { joinBytes } from "./text.ts";
import { SysError } from "./errors.ts";
import { EINTR, EIO, EMSGSIZE, ENODEV } from "./errno.ts";
import { formatMac } from "./ifreq.ts";
import * as linux from "./kernel.ts"; // the constants of <linux/*.h>, named as there
import { closeFd, describeErrno, openSocket, readOrErrno, writeOrErrno } from "./libc.ts";
import * as nl from "./netlink-message.ts";
import type { LinkDescription, TunState } from "./link.ts";

export type { LinkDescription, TunState } from "./link.ts";

/** The room for one datagram. Reads this large make the kernel fill later dump parts up to 32 KiB (300 ports: 16 parts). */
export const REPLY_ROOM = 64 * 1024;

const flag = (data: nl.ParsedAttributes | null, type: number): boolean => (data?.get(type)?.[0] ?? 0) !== 0;

/** The TUN state in a link's IFLA_LINKINFO when it is of kind "tun", else null. throws SysError(EIO). */
function tunState(info: nl.ParsedAttributes | null): TunState | null {
  if (info?.string(linux.IFLA_INFO_KIND) !== "tun") return null;
  const data = info.nested(linux.IFLA_INFO_DATA);
  const attached = data?.u32(linux.IFLA_TUN_NUM_QUEUES) ?? null;
  const disabled = data?.u32(linux.IFLA_TUN_NUM_DISABLED_QUEUES) ?? null;
  return {
    type: data?.get(linux.IFLA_TUN_TYPE)?.[0] === linux.IFF_TAP ? "tap" : "tun",
    packetInfo: flag(data, linux.IFLA_TUN_PI),
    vnetHeader: flag(data, linux.IFLA_TUN_VNET_HDR),
    multiQueue: flag(data, linux.IFLA_TUN_MULTI_QUEUE),
    owner: data?.u32(linux.IFLA_TUN_OWNER) ?? null,
    group: data?.u32(linux.IFLA_TUN_GROUP) ?? null,
    persistent: flag(data, linux.IFLA_TUN_PERSIST),
    queues: attached === null || disabled === null ? null : { attached, disabled },
  };
}

/** The description in an RTM_NEWLINK message. throws SysError(EIO) when it is malformed. */
export function readLinkMessage(message: nl.NetlinkMessage): LinkDescription {
  const { index, attributes } = nl.parseLinkMessage(message);
  const name = attributes.string(linux.IFLA_IFNAME);
  if (name === null) throw new SysError("RTM_GETLINK", EIO, "reply without IFLA_IFNAME", `link ${index}`);
  const address = attributes.get(linux.IFLA_ADDRESS);
  const info = attributes.nested(linux.IFLA_LINKINFO);
  const namespaceId = attributes.u32(linux.IFLA_LINK_NETNSID);
  return {
    index,
    name,
    altNames: attributes.nested(linux.IFLA_PROP_LIST)?.strings(linux.IFLA_ALT_IFNAME) ?? [],
    master: attributes.u32(linux.IFLA_MASTER),
    alias: attributes.string(linux.IFLA_IFALIAS) || null,
    address: address === undefined || address.byteLength === 0 ? null : formatMac(address),
    kind: info?.string(linux.IFLA_INFO_KIND) ?? null,
    tun: tunState(info),
    link: attributes.u32(linux.IFLA_LINK),
    linkNamespaceId: namespaceId === null ? null : namespaceId | 0, // an s32
  };
}

export function withRouteSocket<T>(body: (fd: number) => T): T {
  const fd = openSocket(linux.AF_NETLINK, linux.SOCK_RAW | linux.SOCK_CLOEXEC, linux.NETLINK_ROUTE);
  try {
    return body(fd);
  } finally {
    closeFd(fd);
  }
}

export function send(fd: number, request: Uint8Array, what: string): void {
  // An unbound netlink socket sends to the kernel and is bound to a port of its own on the way.
  const sent = writeOrErrno(fd, request);
  if (sent < 0) throw new SysError("send", -sent, describeErrno(-sent), what);
}

/** The messages of the next datagram. throws SysError(EMSGSIZE when it did not fit, EIO when malformed). */
export function receive(fd: number, buffer: Uint8Array, what: string): nl.NetlinkMessage[] {
  let received: number;
  do received = readOrErrno(fd, buffer);
  while (received === -EINTR);
  if (received < 0) throw new SysError("recv", -received, describeErrno(-received), what);
  if (received === buffer.byteLength) throw new SysError("recv", EMSGSIZE, describeErrno(EMSGSIZE), what);
  return nl.splitMessages(buffer.subarray(0, received));
}

/** Throws the SysError an NLMSG_ERROR carries; true for an acknowledgement (errno 0). */
export function acknowledged(message: nl.NetlinkMessage, call: string, what: string): boolean {
  const errno = nl.messageErrno(message);
  if (errno === null) return false;
  if (errno !== 0) throw new SysError(call, errno, describeErrno(errno), what);
  return true;
}

/** Leaves statistics out of link replies: a few hundred bytes of counters per device that nobody here reads. */
export const withoutStatistics = (): nl.AttributeList => new nl.AttributeList().u32(linux.IFLA_EXT_MASK, linux.RTEXT_FILTER_SKIP_STATS);

const getLink = (seq: number, index: number, filter: nl.AttributeList): Uint8Array =>
  nl.encodeLinkRequest({ type: linux.RTM_GETLINK, flags: linux.NLM_F_REQUEST, seq, family: linux.AF_UNSPEC, index }, filter);

/** One device, by `index` or (index 0) by the IFLA_IFNAME in `filter`, as `ip link show dev` asks. throws SysError(ENODEV, EIO, ...). */
export function queryLink(index: number, filter: nl.AttributeList, what: string): LinkDescription {
  return withRouteSocket((fd) => {
    send(fd, getLink(1, index, filter), what);
    for (const message of receive(fd, new Uint8Array(REPLY_ROOM), what)) {
      if (acknowledged(message, "RTM_GETLINK", what)) continue;
      if (message.type === linux.RTM_NEWLINK) return readLinkMessage(message);
    }
    throw new SysError("RTM_GETLINK", EIO, "no link in the reply", what);
  });
}

/** Device `index` here, or in the namespace this one calls `namespaceId` (CAP_NET_ADMIN over it needed). throws SysError(ENODEV, EIO). */
export function describeLink(index: number, namespaceId: number | null = null): LinkDescription {
  const filter = withoutStatistics();
  if (namespaceId !== null) filter.u32(linux.IFLA_TARGET_NETNSID, namespaceId);
  return queryLink(index, filter, `RTM_GETLINK ${index}${namespaceId === null ? "" : ` in namespace id ${namespaceId}`}`);
}

// Lookups sent in one write; their replies must fit the socket's receive buffer. Why: docs/design.md, "Name lookups in batches".
const LOOKUPS_PER_WRITE = 32;

/** The canonical name of the device each of `names` names (maybe as an altname), or null. throws SysError(ENOBUFS, EIO, ...). */
export function devicesNamed(names: readonly string[]): (string | null)[] {
  return withRouteSocket((fd) => {
    const buffer = new Uint8Array(REPLY_ROOM);
    const found: (string | null | undefined)[] = names.map(() => undefined);
    for (let first = 0; first < names.length; first += LOOKUPS_PER_WRITE) {
      const batch = names.slice(first, first + LOOKUPS_PER_WRITE);
      const what = `RTM_GETLINK of ${batch.length} names from ${batch[0]}`;
      const requests = batch.map((name, at) => getLink(first + at + 1, 0, withoutStatistics().string(linux.IFLA_ALT_IFNAME, name)));
      send(fd, joinBytes(requests), what);
      for (let answered = 0; answered < batch.length; ) {
        for (const message of receive(fd, buffer, what)) {
          const at = message.seq - 1;
          if (at < first || at >= first + batch.length || found[at] !== undefined) continue;
          found[at] = nl.messageErrno(message) === ENODEV ? null : deviceName(message, what);
          answered += 1;
        }
      }
    }
    return found.map((name) => name ?? null);
  });
}

/** The canonical name in a reply to a lookup. throws the SysError an error reply carries, or SysError(EIO). */
function deviceName(message: nl.NetlinkMessage, what: string): string {
  acknowledged(message, "RTM_GETLINK", what);
  const name = message.type === linux.RTM_NEWLINK ? nl.firstLinkAttribute(message, linux.IFLA_IFNAME) : undefined;
  if (name === undefined) throw new SysError("RTM_GETLINK", EIO, "no link in the reply", what);
  return nl.attributeString(name);
}

/** `ip link property add dev X altname NAME` (CAP_NET_ADMIN); the kernel refuses a name any device here has (EEXIST). throws SysError. */
export function addAltName(index: number, name: string): void {
  const names = new nl.AttributeList().nested(linux.IFLA_PROP_LIST, (list) => list.string(linux.IFLA_ALT_IFNAME, name));
  changeLink({ type: linux.RTM_NEWLINKPROP, call: "RTM_NEWLINKPROP" }, index, names, `alternative name ${name} of link ${index}`);
}

/** Sends one request with NLM_F_ACK and reads the one NLMSG_ERROR (0: success) the kernel answers. throws SysError named after `call`. */
export function requestAcknowledged(request: Uint8Array, call: string, what: string): void {
  withRouteSocket((fd) => {
    send(fd, request, what);
    const [reply] = receive(fd, new Uint8Array(REPLY_ROOM), what);
    if (reply === undefined || !acknowledged(reply, call, what)) throw new SysError(call, EIO, "no acknowledgement in the reply", what);
  });
}

type LinkChange = { type: number; call: string; family?: number; flags?: number };

/** Sends one change (RTM_SETLINK, RTM_DELLINK, RTM_NEWLINK with `flags` such as NLM_F_CREATE) and reads its acknowledgement. */
export function changeLink(request: LinkChange, index: number, attributes: nl.AttributeList, what: string): void {
  const { type, call, family = linux.AF_UNSPEC } = request;
  const flags = linux.NLM_F_REQUEST | linux.NLM_F_ACK | (request.flags ?? 0);
  requestAcknowledged(nl.encodeLinkRequest({ type, flags, seq: 1, family, index }, attributes), call, what);
}

const SET_LINK = { type: linux.RTM_SETLINK, call: "RTM_SETLINK" };

/** `ip link set dev X alias TEXT`, which needs CAP_NET_ADMIN: a TAP's holder cannot rewrite it. throws RangeError, SysError(EPERM, ...). */
export function setLinkAlias(index: number, alias: string): void {
  if (Buffer.byteLength(alias, "latin1") >= linux.IFALIASZ) throw new RangeError(`alias longer than ${linux.IFALIASZ - 1} bytes`);
  changeLink(SET_LINK, index, new nl.AttributeList().string(linux.IFLA_IFALIAS, alias), `alias of link ${index}`);
}

/** `bridge link set dev X isolated on`: isolated ports exchange frames only with the others. throws SysError(EOPNOTSUPP, EPERM, ...). */
export function setBridgePortIsolated(index: number): void {
  const attributes = new nl.AttributeList().nested(linux.IFLA_PROTINFO, (port) => port.u8(linux.IFLA_BRPORT_ISOLATED, 1));
  changeLink({ ...SET_LINK, family: linux.AF_BRIDGE }, index, attributes, `isolation of bridge port ${index}`);
}

/** `ip link del`: a TAP goes at once with its port, even while others hold a queue (closing ours would not). throws SysError(ENODEV). */
export function deleteLink(name: string): void {
  const byName = new nl.AttributeList().string(linux.IFLA_IFNAME, name);
  changeLink({ type: linux.RTM_DELLINK, call: "RTM_DELLINK" }, 0, byName, `deletion of link ${name}`);
}
