// Veth pairs over rtnetlink: one made with its peer straight in another network namespace, one deleted by index (tap-user-nic's only; the TAP helper evaluates none of it).
import { AF_UNSPEC, IFLA_ADDRESS, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINKINFO, RTM_DELLINK, RTM_NEWLINK } from "./kernel.ts";
import { changeLink } from "./netlink.ts";
import { AttributeList, IFINFOMSG_SIZE } from "./netlink-message.ts";

const NLM_F_EXCL = 0x200; // <linux/netlink.h>
const NLM_F_CREATE = 0x400;
const IFLA_MTU = 4; // <linux/if_link.h>
const IFLA_NET_NS_FD = 28;
const VETH_INFO_PEER = 1; // <linux/veth.h>

/** The host end here, its peer (`%d` lets its kernel number it) in the namespace `peerNamespaceFd`; mtu null: the kernel's. */
export type VethPairRequest = { hostName: string; hostMac: Uint8Array; mtu: number | null; peerName: string; peerNamespaceFd: number };

/**
 * One RTM_NEWLINK (`ip link add NAME address MAC type veth peer name PEER netns FD`): the peer is never seen
 * here; the kernel checks CAP_NET_ADMIN over its namespace. throws SysError(EEXIST for either side's name, ...).
 */
export function createVethPair(request: VethPairRequest): void {
  const peer = new AttributeList().string(IFLA_IFNAME, request.peerName).u32(IFLA_NET_NS_FD, request.peerNamespaceFd);
  const host = new AttributeList().string(IFLA_IFNAME, request.hostName).raw(IFLA_ADDRESS, request.hostMac);
  if (request.mtu !== null) {
    peer.u32(IFLA_MTU, request.mtu);
    host.u32(IFLA_MTU, request.mtu);
  }
  // VETH_INFO_PEER holds a bare ifinfomsg (family AF_UNSPEC, index 0), then the peer's attributes.
  const peerAttributes = peer.bytes();
  const peerInfo = new Uint8Array(IFINFOMSG_SIZE + peerAttributes.byteLength);
  peerInfo.set(peerAttributes, IFINFOMSG_SIZE);
  host.nested(IFLA_LINKINFO, (info) =>
    info.string(IFLA_INFO_KIND, "veth").nested(IFLA_INFO_DATA, (data) => data.raw(VETH_INFO_PEER, peerInfo)),
  );
  const newLink = { type: RTM_NEWLINK, call: "RTM_NEWLINK", family: AF_UNSPEC, flags: NLM_F_CREATE | NLM_F_EXCL };
  changeLink(newLink, 0, host, `creation of veth ${request.hostName}`);
}

/** Deletes the device with index `index`: an index is not reused soon, where a freed name can be at once. throws SysError(ENODEV, ...). */
export function deleteLinkByIndex(index: number): void {
  changeLink({ type: RTM_DELLINK, call: "RTM_DELLINK", family: AF_UNSPEC }, index, new AttributeList(), `deletion of link ${index}`);
}
