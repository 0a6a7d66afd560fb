// Phase 3, join the bridge: the TAP configured like the bridge, made its port while down, and checked there.
import { StepError, SysError } from "../shared/errors.ts";
import { formatMac } from "../shared/ifreq.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { describeLink, setBridgePortIsolated } from "../shared/netlink.ts";
import type { Admission } from "./admit.ts";
import { attempt, orSysError } from "./attempt.ts";
import type { Port } from "./port.ts";

/** A port on the bridge: how it was set up, and the caller's places there with it (null without a limit). */
export type Joined = { mtu: number; mac: string; held: number | null };

/** Makes `port` (a device that exists, still down) a port of the admitted bridge. throws StepError. */
export function joinBridge(port: Port, admission: Admission, control: InterfaceControl): Joined {
  const { bridge } = admission;
  const device = port.name ?? "";
  const mtu = attempt(`get mtu of bridge \`${bridge}'`, () => control.mtu(bridge));
  attempt(`set mtu of device \`${device}' to ${mtu}`, () => control.setMtu(device, mtu));
  // A first byte of 0xFE keeps a new TAP from becoming the bridge's lowest port MAC by accident (docs/design.md, "Kernel facts").
  const { family, mac } = attempt(`get MAC address of device \`${device}'`, () => control.hardwareAddress(device));
  mac[0] = 0xfe;
  attempt(`set MAC address of device \`${device}'`, () => control.setHardwareAddress(device, family, mac));
  const adding = `add interface \`${device}' to bridge \`${bridge}'`;
  // EXFULL said as what it means: a bridge numbers its ports 1 to 1023 (BR_MAX_PORTS 1024, port 0 unused).
  const full = attempt(adding, () => orSysError("EXFULL", () => control.addToBridge(bridge, device)), {
    EOPNOTSUPP: `\`${bridge}' is not a bridge: name a bridge (ip -d link show type bridge)`,
  });
  if (full instanceof SysError) {
    throw new StepError(`failed to ${adding}: the bridge has no free port (it has the 1023 a Linux bridge can have)`, {
      cause: full,
      hint: `an administrator removes a port it no longer needs (ip link set dev PORT nomaster), or use another bridge`,
    });
  }
  // The device is still down: no frame has crossed this port yet.
  const link = attempt(adding, () => describeLink(port.index));
  if (link.master !== admission.bridgeIndex) {
    throw new StepError(`failed to ${adding}: the bridge was renamed or replaced while the TAP was being made`, { hint: "run it again" });
  }
  // The use the audit line shows: the caller's places taken when admitted, and this port's.
  const held = admission.policy?.held == null ? null : admission.policy.held + 1;
  if (admission.policy?.rule?.isolated === true) {
    attempt(`isolate bridge port \`${device}'`, () => setBridgePortIsolated(port.index), {
      EOPNOTSUPP: "the kernel's bridge lacks port isolation (Linux 4.18 or later has it)",
    });
  }
  return { mtu, mac: formatMac(mac), held };
}
