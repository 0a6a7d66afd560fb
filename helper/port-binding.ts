// The helper's `locked` and `ip=` steps: admitting the MAC a locked line needs, and the joined port held to its addresses before it goes up.
import { describePolicyRule } from "../policy/rules.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { formatMac } from "../shared/ifreq.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { guestEgressProgram, guestIngressProgram } from "../shared/port-filter.ts";
import { addStickyFdbEntry, attachPortFilters, lockBridgePort } from "../shared/port-guard.ts";
import type { Admission } from "./admit.ts";
import { attempt } from "./attempt.ts";
import type { Port } from "./port.ts";

/** How QEMU users and launcher users pass a MAC, with an example. */
const HOW_TO_PASS_MAC =
  "pass the guest's MAC: tap-launcher --mac=52:54:00:12:34:56, or in QEMU " +
  '-netdev bridge,id=n0,br=BRIDGE,helper="/usr/local/libexec/tap-bridge-helper --mac=52:54:00:12:34:56" ' +
  "with the same mac= on the NIC; libvirt's session mode runs the helper with QEMU's arguments only and cannot pass it";

/**
 * Part of admit: refuses, before anything is made, a request that a `locked` line needs a MAC for and
 * that gave none, or that asks for the bridge's own address. throws StepError.
 */
export function admitGuestMac(admission: Admission, mac: Uint8Array | null, control: InterfaceControl): void {
  const rule = admission.policy?.rule ?? null;
  const { bridge } = admission;
  if (rule?.locked !== true) return;
  if (mac === null) {
    throw new StepError(
      `access denied by policy file: rule ${describePolicyRule(rule)} locks each port to its guest's MAC address, and the request names none (--mac=MAC)`,
      { hint: HOW_TO_PASS_MAC },
    );
  }
  const bridgeMac = attempt(`get MAC address of bridge \`${bridge}'`, () => control.hardwareAddress(bridge)).mac;
  if (formatMac(mac) === formatMac(bridgeMac)) {
    throw new StepError(`access denied: --mac=${formatMac(mac)} is bridge ${bridge}'s own address`, {
      hint: "give the guest an address of its own (QEMU's default is 52:54:00:12:34:56 plus the NIC's index)",
    });
  }
}

/**
 * Part of make: whether the TAP may carry the virtio-net header QEMU asks for (--use-vnet). Not under
 * `ip=`: the header's checksum request (VIRTIO_NET_HDR_F_NEEDS_CSUM) has the kernel write 16 bits at
 * an offset the guest picks once the frame reaches a port without checksum offload, after the filter
 * passed it. `locked` alone keeps it: the kernel refuses a checksum that starts before byte 20 (EINVAL),
 * so it cannot reach the source MAC, even once a VLAN tag is taken out. QEMU reads the TAP's flags
 * (TUNGETIFF) and runs without offloads. The fd's holder can still turn the header on again (persist,
 * attach anew): docs/anti-spoofing.md.
 */
export function portTakesVnetHeader(admission: Admission): boolean {
  return (admission.policy?.rule?.addresses ?? null) === null;
}

/**
 * Part of join: holds `port` (a port of the admitted bridge, still down) to what its line says:
 * `locked` locks it to a static sticky FDB entry for `mac` and lets only frames for `mac` (or groups)
 * reach the guest; `ip=` filters what the guest sends. Everything goes with the device.
 * throws StepError when a step fails; an address the bridge already knows is refused as taken.
 */
export function bindGuestPort(port: Port, admission: Admission, mac: Uint8Array | null): void {
  const rule = admission.policy?.rule ?? null;
  const locked = rule?.locked === true;
  const addresses = rule?.addresses ?? null;
  if (!locked && addresses === null) return;
  const { bridge } = admission;
  const tap = port.name ?? "";
  if (locked) {
    // admitGuestMac refused a locked request without a MAC already; fail closed all the same.
    if (mac === null) throw new StepError(`failed to lock bridge port \`${tap}': no --mac to lock it to`);
    attempt(`lock bridge port \`${tap}'`, () => lockBridgePort(port.index), {
      EINVAL: "the kernel's bridge lacks locked ports (Linux 5.18 or later has them)",
    });
    registerMac(port.index, mac, tap, bridge);
  }
  attempt(
    `attach address filters to device \`${tap}'`,
    () =>
      attachPortFilters(port.index, {
        ingress: addresses === null ? null : guestIngressProgram(addresses),
        egress: locked && mac !== null ? guestEgressProgram(mac) : null,
      }),
    { EINVAL: "the kernel lacks tc's clsact qdisc or bpf classifier (CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF)" },
  );
}

/** The FDB entry for `mac` on the port; a MAC the bridge already knows is refused as in use. throws StepError. */
function registerMac(index: number, mac: Uint8Array, tap: string, bridge: string): void {
  try {
    addStickyFdbEntry(index, mac);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    if (err.code === "EEXIST") {
      throw new StepError(
        `access denied: MAC address ${formatMac(mac)} is already in use on bridge ${bridge} (registered for another port, or seen there from another device)`,
        { cause: err, hint: "give the guest a MAC address of its own; `bridge fdb show br BRIDGE` shows the addresses the bridge knows" },
      );
    }
    throw new StepError(`failed to register MAC address ${formatMac(mac)} on bridge port \`${tap}': ${systemReason(err)}`, { cause: err });
  }
}
