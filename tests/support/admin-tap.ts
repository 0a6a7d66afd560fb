// Pre-made TAPs as an administrator would create them for a user, and the state that must not change.
import type { LinkInfo, TestNetns } from "./netns.ts";
import { ALICE } from "./users.ts";

/** What opening an unmanaged TAP must not change: address, MTU, flags, master, and its TUN settings. */
export function unmanagedState(link: LinkInfo): unknown {
  return { address: link.address, mtu: link.mtu, flags: link.flags, master: link.master, tun: link.linkinfo?.info_data };
}

/** An administrator's TAP (for ALICE unless `owner` says otherwise): vnet header, a port of br0, up, own MTU and MAC. */
export async function adminTap(ns: TestNetns, name: string, owner = `user ${ALICE.uid}`): Promise<void> {
  await ns.exec("ip", "tuntap", "add", "dev", name, "mode", "tap", ...owner.split(" "), "vnet_hdr");
  await ns.ip("link", "set", name, "address", "02:aa:bb:cc:dd:01", "mtu", "1400", "master", "br0", "up");
}
