// rtnetlink link messages as bytes: a small typed builder for requests and a bounds-checked reader for replies (pure).
import { SysError } from "./errors.ts";
import { EIO } from "./errno.ts";
import { NLA_F_NESTED, NLA_TYPE_MASK, NLMSG_DONE, NLMSG_ERROR } from "./kernel.ts";
import { joinBytes, latin1Bytes, latin1Text } from "./text.ts";

// struct nlmsghdr (16 bytes): u32 nlmsg_len, u16 nlmsg_type, u16 nlmsg_flags, u32 nlmsg_seq, u32 nlmsg_pid
const NLMSGHDR_SIZE = 16;
// struct ifinfomsg (16 bytes): u8 ifi_family, u8 pad, u16 ifi_type, i32 ifi_index, u32 ifi_flags, u32 ifi_change
export const IFINFOMSG_SIZE = 16;
// struct nlattr (4 bytes): u16 nla_len, u16 nla_type; each payload padded to a multiple of 4
const NLATTR_SIZE = 4;
const align4 = (n: number): number => (n + 3) & ~3;

/** Attributes under construction, each padded; throws RangeError for one too long for its u16 nla_len. */
export class AttributeList {
  readonly #parts: Uint8Array[] = [];

  /** Bytes as they are (a MAC address for IFLA_ADDRESS, a struct for VETH_INFO_PEER). */
  raw(type: number, payload: Uint8Array): this {
    const length = NLATTR_SIZE + payload.byteLength;
    if (length > 0xffff) throw new RangeError(`attribute ${type} of ${length} bytes does not fit nla_len`);
    const attribute = new Uint8Array(align4(length));
    // Netlink's integers are in host byte order, which typed arrays use; the parsers and encodeRequest assume little-endian.
    attribute.set(new Uint8Array(new Uint16Array([length, type]).buffer));
    attribute.set(payload, NLATTR_SIZE);
    this.#parts.push(attribute);
    return this;
  }
  u8(type: number, value: number): this {
    return this.raw(type, new Uint8Array([value]));
  }
  u16(type: number, value: number): this {
    return this.raw(type, new Uint8Array(new Uint16Array([value]).buffer));
  }
  u32(type: number, value: number): this {
    return this.raw(type, new Uint8Array(new Uint32Array([value]).buffer));
  }
  /** A NUL-terminated string, as the kernel's NLA_STRING and NLA_NUL_STRING policies accept. */
  string(type: number, value: string): this {
    return this.raw(type, latin1Bytes(`${value}\0`));
  }
  /** Flagged NLA_F_NESTED: the bridge reads IFLA_PROTINFO without it as a port state. */
  nested(type: number, fill: (inner: AttributeList) => void): this {
    const inner = new AttributeList();
    fill(inner);
    return this.raw(type | NLA_F_NESTED, inner.bytes());
  }
  bytes(): Uint8Array {
    return joinBytes(this.#parts);
  }
}

type MessageHeader = { type: number; flags: number; seq: number };

/** One nlmsghdr + ifinfomsg + attributes, as RTM_GETLINK and RTM_SETLINK take them. */
export function encodeLinkRequest(header: MessageHeader & { family: number; index: number }, attributes: AttributeList): Uint8Array {
  const ifinfomsg = new Uint8Array(IFINFOMSG_SIZE);
  ifinfomsg[0] = header.family;
  new DataView(ifinfomsg.buffer).setInt32(4, header.index, true);
  return encodeRequest(header, ifinfomsg, attributes);
}

/** One nlmsghdr + the request's fixed header (ifinfomsg, ndmsg, tcmsg), laid out by the caller, + attributes. */
export function encodeRequest(header: MessageHeader, fixed: Uint8Array, attributes: AttributeList): Uint8Array {
  const body = attributes.bytes();
  const message = new Uint8Array(NLMSGHDR_SIZE + fixed.byteLength + body.byteLength);
  const view = new DataView(message.buffer);
  view.setUint32(0, message.byteLength, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags, true);
  view.setUint32(8, header.seq, true);
  message.set(fixed, NLMSGHDR_SIZE);
  message.set(body, NLMSGHDR_SIZE + fixed.byteLength);
  return message;
}

/** A malformed reply: a check built on it must fail, never read a half-parsed list as complete. */
const malformed = (what: string): SysError => new SysError("rtnetlink", EIO, `malformed reply: ${what}`);

/** One message of a reply datagram; `bytes` includes its header. */
export type NetlinkMessage = { type: number; flags: number; seq: number; bytes: Uint8Array };

/** The messages in one received datagram, each checked to lie inside it. throws SysError(EIO). */
export function splitMessages(datagram: Uint8Array): NetlinkMessage[] {
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const messages: NetlinkMessage[] = [];
  for (let at = 0, length = 0; at < datagram.byteLength; at += align4(length)) {
    if (at + NLMSGHDR_SIZE > datagram.byteLength) throw malformed("a message header is cut short");
    length = view.getUint32(at, true);
    if (length < NLMSGHDR_SIZE || at + length > datagram.byteLength) throw malformed(`a message claims ${length} bytes`);
    const bytes = datagram.subarray(at, at + length);
    messages.push({ type: view.getUint16(at + 4, true), flags: view.getUint16(at + 6, true), seq: view.getUint32(at + 8, true), bytes });
  }
  return messages;
}

/** The errno an NLMSG_ERROR message carries (0 for an acknowledgement), or null for another type. */
export function messageErrno(message: NetlinkMessage): number | null {
  if (message.type !== NLMSG_ERROR) return null;
  if (message.bytes.byteLength < NLMSGHDR_SIZE + 4) throw malformed("an error message without its code");
  return -new DataView(message.bytes.buffer, message.bytes.byteOffset).getInt32(NLMSGHDR_SIZE, true);
}

export const isDone = (message: NetlinkMessage): boolean => message.type === NLMSG_DONE;

/** The attributes of a reply from `start` on, every value by type, nested lists parsed on request. throws SysError(EIO). */
export class ParsedAttributes {
  /** Values by type, in order, filled in a loop: through a generator this cost ~0.4 ms at every start (docs/benchmarks.md). */
  readonly #byType: Uint8Array[][] = [];

  /** `stopAfter`: a type whose first value ends the reading (a large IFLA_AF_SPEC comes last in a link). */
  constructor(bytes: Uint8Array, start = 0, stopAfter = -1) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = start, length = 0; at + NLATTR_SIZE <= bytes.byteLength; at += align4(length)) {
      length = view.getUint16(at, true);
      if (length < NLATTR_SIZE || at + length > bytes.byteLength) throw malformed(`an attribute claims ${length} bytes`);
      const type = view.getUint16(at + 2, true) & NLA_TYPE_MASK;
      const value = bytes.subarray(at + NLATTR_SIZE, at + length);
      const values = this.#byType[type];
      if (values === undefined) this.#byType[type] = [value];
      else values.push(value);
      if (type === stopAfter) return;
    }
  }
  get(type: number): Uint8Array | undefined {
    return this.#byType[type]?.[0];
  }
  /** A u32 value, or null when absent. throws SysError(EIO) when shorter than 4 bytes. */
  u32(type: number): number | null {
    const value = this.get(type);
    if (value === undefined) return null;
    if (value.byteLength < 4) throw malformed(`attribute ${type} is shorter than a u32`);
    return new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
  }
  string(type: number): string | null {
    const value = this.get(type);
    return value === undefined ? null : attributeString(value);
  }
  /** Every value of `type` as a string, in order (IFLA_ALT_IFNAME repeats). */
  strings(type: number): string[] {
    const texts: string[] = [];
    for (const value of this.#byType[type] ?? []) texts.push(attributeString(value));
    return texts;
  }
  nested(type: number): ParsedAttributes | null {
    const value = this.get(type);
    return value === undefined ? null : new ParsedAttributes(value);
  }
}

/** The first value of `type` in an RTM_NEWLINK message, reading no further. */
export function firstLinkAttribute(message: NetlinkMessage, type: number): Uint8Array | undefined {
  return new ParsedAttributes(message.bytes, NLMSGHDR_SIZE + IFINFOMSG_SIZE, type).get(type);
}

/** A string attribute's value up to its first NUL (bytes as latin1). */
export function attributeString(value: Uint8Array): string {
  const end = value.indexOf(0);
  return latin1Text(end < 0 ? value : value.subarray(0, end));
}

/** The ifinfomsg's index of an RTM_NEWLINK message and its attributes. throws SysError(EIO). */
export function parseLinkMessage(message: NetlinkMessage): { index: number; attributes: ParsedAttributes } {
  const { bytes } = message;
  if (bytes.byteLength < NLMSGHDR_SIZE + IFINFOMSG_SIZE) throw malformed("a link message without its ifinfomsg");
  const index = new DataView(bytes.buffer, bytes.byteOffset).getInt32(NLMSGHDR_SIZE + 4, true);
  return { index, attributes: new ParsedAttributes(bytes, NLMSGHDR_SIZE + IFINFOMSG_SIZE) };
}
