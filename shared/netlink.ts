// One rtnetlink question about a network device, by index: all its names and the bridge it is a port of.
import { SysError } from "./errors.ts";
import { EINTR, EIO, EMSGSIZE } from "./errno.ts";
import {
  AF_NETLINK, IFLA_ALT_IFNAME, IFLA_EXT_MASK, IFLA_IFNAME, IFLA_MASTER, IFLA_PROP_LIST, NETLINK_ROUTE, NLA_TYPE_MASK,
  NLM_F_REQUEST, NLMSG_ERROR, RTEXT_FILTER_SKIP_STATS, RTM_GETLINK, RTM_NEWLINK, SOCK_CLOEXEC, SOCK_RAW,
} from "./kernel.ts";
import { closeFd, describeErrno, openSocket, readOrErrno, writeOrErrno } from "./libc.ts";

// struct nlmsghdr (16 bytes): u32 nlmsg_len, u16 nlmsg_type, u16 nlmsg_flags, u32 nlmsg_seq, u32 nlmsg_pid
const NLMSGHDR_SIZE = 16;
// struct ifinfomsg (16 bytes): u8 ifi_family, u8 pad, u16 ifi_type, i32 ifi_index, u32 ifi_flags, u32 ifi_change
const IFINFOMSG_SIZE = 16;
// struct nlattr (4 bytes): u16 nla_len, u16 nla_type; payloads padded to 4 bytes
const NLATTR_SIZE = 4;
/** One link's reply without statistics is a few KiB; alternative names add at most 128 bytes each. */
const REPLY_ROOM = 64 * 1024;

export interface LinkDescription {
  index: number;
  /** The canonical name (IFLA_IFNAME). */
  name: string;
  /** Alternative names (IFLA_PROP_LIST / IFLA_ALT_IFNAME), in the kernel's order. */
  altNames: string[];
  /** The index of the bridge (or other master) the device is a port of (IFLA_MASTER), or null. */
  master: number | null;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** RTM_GETLINK for `index`, statistics left out. */
function linkRequest(index: number): Uint8Array {
  const request = new Uint8Array(NLMSGHDR_SIZE + IFINFOMSG_SIZE + NLATTR_SIZE + 4);
  const view = new DataView(request.buffer);
  view.setUint32(0, request.byteLength, true);
  view.setUint16(4, RTM_GETLINK, true);
  view.setUint16(6, NLM_F_REQUEST, true);
  view.setUint32(8, 1, true); // nlmsg_seq
  view.setInt32(NLMSGHDR_SIZE + 4, index, true); // ifi_index
  const attr = NLMSGHDR_SIZE + IFINFOMSG_SIZE;
  view.setUint16(attr, NLATTR_SIZE + 4, true);
  view.setUint16(attr + 2, IFLA_EXT_MASK, true);
  view.setUint32(attr + NLATTR_SIZE, RTEXT_FILTER_SKIP_STATS, true);
  return request;
}

/**
 * The attributes laid out in view[start, end): [type, payload offset, payload length]. A malformed
 * attribute throws rather than end the list early: a name left unread could be one a deny rule names.
 * throws SysError(EIO).
 */
function* attributes(view: DataView, start: number, end: number): Generator<[number, number, number]> {
  let at = start;
  while (at + NLATTR_SIZE <= end) {
    const length = view.getUint16(at, true);
    if (length < NLATTR_SIZE || at + length > end) throw new SysError("RTM_GETLINK", EIO, "malformed attribute in the rtnetlink reply");
    yield [view.getUint16(at + 2, true) & NLA_TYPE_MASK, at + NLATTR_SIZE, length - NLATTR_SIZE];
    at += align4(length);
  }
}

function nulTerminated(bytes: Uint8Array, offset: number, length: number): string {
  const field = bytes.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString("latin1");
}

/** Reads the names out of an RTM_NEWLINK reply. throws SysError(EIO) when it is malformed. */
function parseLinkReply(reply: Uint8Array, length: number, index: number): LinkDescription {
  const view = new DataView(reply.buffer, reply.byteOffset, length);
  if (length < NLMSGHDR_SIZE) throw new SysError("recv", EIO, "short rtnetlink reply", `link ${index}`);
  const messageLength = view.getUint32(0, true);
  if (messageLength > length) throw new SysError("recv", EIO, "truncated rtnetlink reply", `link ${index}`);
  const type = view.getUint16(4, true);
  if (type === NLMSG_ERROR && messageLength >= NLMSGHDR_SIZE + 4) {
    const errno = -view.getInt32(NLMSGHDR_SIZE, true);
    throw new SysError("RTM_GETLINK", errno, describeErrno(errno), `link ${index}`);
  }
  if (type !== RTM_NEWLINK || messageLength < NLMSGHDR_SIZE + IFINFOMSG_SIZE) {
    throw new SysError("RTM_GETLINK", EIO, `unexpected rtnetlink reply of type ${type}`, `link ${index}`);
  }
  let name: string | null = null;
  let master: number | null = null;
  const altNames: string[] = [];
  for (const [attrType, offset, size] of attributes(view, NLMSGHDR_SIZE + IFINFOMSG_SIZE, messageLength)) {
    if (attrType === IFLA_IFNAME) name = nulTerminated(reply, offset, size);
    if (attrType === IFLA_MASTER && size >= 4) master = view.getUint32(offset, true);
    if (attrType !== IFLA_PROP_LIST) continue;
    for (const [propType, propOffset, propSize] of attributes(view, offset, offset + size)) {
      if (propType === IFLA_ALT_IFNAME) altNames.push(nulTerminated(reply, propOffset, propSize));
    }
  }
  if (name === null) throw new SysError("RTM_GETLINK", EIO, "reply without IFLA_IFNAME", `link ${index}`);
  return { index, name, altNames, master };
}

/**
 * The device with interface index `index` in this network namespace, asked of the kernel over
 * rtnetlink (iproute2's `ip link show` reads the same). throws SysError(ENODEV when the device is
 * gone, EMFILE, ...).
 */
export function describeLink(index: number): LinkDescription {
  const fd = openSocket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  try {
    const request = linkRequest(index);
    // An unbound netlink socket sends to the kernel and is bound to a port of its own on the way.
    const sent = writeOrErrno(fd, request);
    if (sent < 0) throw new SysError("send", -sent, describeErrno(-sent), `RTM_GETLINK ${index}`);
    const reply = new Uint8Array(REPLY_ROOM);
    let received: number;
    do received = readOrErrno(fd, reply); while (received === -EINTR);
    if (received < 0) throw new SysError("recv", -received, describeErrno(-received), `RTM_GETLINK ${index}`);
    if (received === reply.byteLength) throw new SysError("recv", EMSGSIZE, describeErrno(EMSGSIZE), `RTM_GETLINK ${index}`);
    return parseLinkReply(reply, received, index);
  } finally {
    closeFd(fd);
  }
}
