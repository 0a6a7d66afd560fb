// A guest's bridge port held to its own addresses over rtnetlink: the port locked to one static FDB entry, and tc filters on the TAP.
//
// All of it belongs to the TAP: the kernel flushes a port's FDB entries when it leaves the bridge and
// destroys a device's qdiscs and filters with it, so nothing here outlives the TAP or needs undoing.
import { AttributeList, encodeLinkRequest, encodeRequest } from "./netlink-message.ts";
import { requestAcknowledged } from "./netlink.ts";
import { AF_BRIDGE, AF_UNSPEC, IFLA_PROTINFO, NLM_F_ACK, NLM_F_REQUEST, RTM_SETLINK } from "./kernel.ts";
import { SOCK_FILTER_SIZE } from "./port-filter.ts";

// <linux/netlink.h>
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
// <linux/if_link.h>
const IFLA_BRPORT_LEARNING = 8;
const IFLA_BRPORT_LOCKED = 39;
// <linux/rtnetlink.h>, <linux/neighbour.h>
const RTM_NEWNEIGH = 28;
const RTM_NEWQDISC = 36;
const RTM_NEWTFILTER = 44;
const NDA_LLADDR = 2;
/** A bridge FDB entry that never ages out ("static" in bridge(8)); NUD_PERMANENT would make it the bridge's own address. */
const NUD_NOARP = 0x40;
const NTF_MASTER = 0x04;
/** The entry never moves to another port, whatever source addresses that port's frames carry. */
const NTF_STICKY = 0x40;
// <linux/rtnetlink.h> TCA_*, <linux/pkt_sched.h>, <linux/pkt_cls.h> TCA_BPF_*
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TC_H_CLSACT = 0xfffffff1;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const TCA_BPF_OPS_LEN = 4;
const TCA_BPF_OPS = 5;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
/** ETH_P_ALL in network byte order, as tcm_info's protocol half takes it. */
const ETH_P_ALL_BE = 0x0300;
const CREATE_ONLY = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

/**
 * Locks the bridge port with index `index` and turns its learning off (`bridge link set dev X locked
 * on learning off`): it then forwards only frames whose source address has an FDB entry on this
 * port, and learns none. throws SysError(EOPNOTSUPP when it is no bridge port, EINVAL on a kernel
 * before 5.18, which has no locked ports, EPERM, ...).
 */
export function lockBridgePort(index: number): void {
  const attributes = new AttributeList().nested(IFLA_PROTINFO, (port) => port.u8(IFLA_BRPORT_LOCKED, 1).u8(IFLA_BRPORT_LEARNING, 0));
  const request = encodeLinkRequest({ type: RTM_SETLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 1, family: AF_BRIDGE, index }, attributes);
  requestAcknowledged(request, "RTM_SETLINK", `lock of bridge port ${index}`);
}

/**
 * Adds a static, sticky FDB entry for `mac` on the bridge port with index `index` (`bridge fdb add MAC
 * dev X master static sticky`), only if the bridge has no entry for it yet: an address already
 * learned or registered on any port, or the bridge's own, is refused by the kernel as EEXIST, in the
 * same step that adds it, so two requests for one address cannot both win.
 * throws SysError(EEXIST, EINVAL, ...).
 */
export function addStickyFdbEntry(index: number, mac: Uint8Array): void {
  // struct ndmsg (12 bytes): u8 family, u8 pad1, u16 pad2, i32 ifindex, u16 state, u8 flags, u8 type
  const ndmsg = new Uint8Array(12);
  const view = new DataView(ndmsg.buffer);
  view.setUint8(0, AF_BRIDGE);
  view.setInt32(4, index, true);
  view.setUint16(8, NUD_NOARP, true);
  view.setUint8(10, NTF_MASTER | NTF_STICKY);
  const attributes = new AttributeList().raw(NDA_LLADDR, mac.subarray(0, 6));
  requestAcknowledged(
    encodeRequest({ type: RTM_NEWNEIGH, flags: CREATE_ONLY, seq: 1 }, ndmsg, attributes),
    "RTM_NEWNEIGH",
    `FDB entry on port ${index}`,
  );
}

/** struct tcmsg (20 bytes): u8 family, u8 pad1, u16 pad2, i32 ifindex, u32 handle, u32 parent, u32 info. */
function tcmsg(index: number, handle: number, parent: number, info: number): Uint8Array {
  const bytes = new Uint8Array(20);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, AF_UNSPEC);
  view.setInt32(4, index, true);
  view.setUint32(8, handle, true);
  view.setUint32(12, parent, true);
  view.setUint32(16, info, true);
  return bytes;
}

/**
 * Gives the device with index `index` a clsact qdisc (`tc qdisc add dev X clsact`) and attaches each
 * given classic BPF program in direct-action mode: `ingress` to what the device receives (for a TAP,
 * what the guest sends), `egress` to what it transmits (what the guest receives).
 * throws SysError(EEXIST when it has a clsact already, EINVAL, ...).
 */
export function attachPortFilters(index: number, filters: { ingress: Uint8Array | null; egress: Uint8Array | null }): void {
  const qdisc = tcmsg(index, (TC_H_CLSACT & 0xffff0000) >>> 0, TC_H_CLSACT, 0);
  const kind = new AttributeList().string(TCA_KIND, "clsact");
  requestAcknowledged(
    encodeRequest({ type: RTM_NEWQDISC, flags: CREATE_ONLY, seq: 1 }, qdisc, kind),
    "RTM_NEWQDISC",
    `clsact of link ${index}`,
  );
  for (const [hook, minor, program] of [
    ["ingress", TC_H_MIN_INGRESS, filters.ingress],
    ["egress", TC_H_MIN_EGRESS, filters.egress],
  ] as const) {
    if (program === null) continue;
    // Priority 1, all protocols; handle 1.
    const header = tcmsg(index, 1, ((TC_H_CLSACT & 0xffff0000) | minor) >>> 0, ((1 << 16) | ETH_P_ALL_BE) >>> 0);
    const attributes = new AttributeList().string(TCA_KIND, "bpf").nested(TCA_OPTIONS, (options) =>
      options
        .u16(TCA_BPF_OPS_LEN, program.byteLength / SOCK_FILTER_SIZE)
        .raw(TCA_BPF_OPS, program)
        .u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT),
    );
    requestAcknowledged(
      encodeRequest({ type: RTM_NEWTFILTER, flags: CREATE_ONLY, seq: 1 }, header, attributes),
      "RTM_NEWTFILTER",
      `${hook} filter of link ${index}`,
    );
  }
}
