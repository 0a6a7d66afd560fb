// What the QEMU tests share: the tiny guest (built once, removed after the run) and a bridge it can ping.
import { buildGuest, type Guest } from "./guest.ts";
import { removeAtExit } from "./build.ts";
import type { TestNetns } from "./netns.ts";

/** The bridge's address, which the guest pings; the guest takes GUEST_ADDRESS. */
export const BRIDGE_ADDRESS = "10.77.0.1";
export const GUEST_ADDRESS = "10.77.0.2";

/** The guest for this test process. */
export async function testGuest(): Promise<Guest> {
  const guest = await buildGuest();
  removeAtExit(guest.folder);
  return guest;
}

/** An up bridge `name` with BRIDGE_ADDRESS/24. */
export async function bridgeWithAddress(ns: TestNetns, name = "br0"): Promise<void> {
  await ns.addBridge(name);
  await ns.ip("addr", "add", `${BRIDGE_ADDRESS}/24`, "dev", name);
}
