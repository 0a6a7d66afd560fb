// The helper's `locked` and `ip=` steps: who may ask (a MAC for a locked line), and the port held to its addresses before it goes up.
import { describePolicyRule, type PolicyRule } from "../acl/policy.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { formatMac } from "../shared/ifreq.ts";
import { guestEgressProgram, guestIngressProgram } from "../shared/port-filter.ts";
import { addStickyFdbEntry, attachPortFilters, lockBridgePort } from "../shared/port-guard.ts";

/** The argument QEMU users add to the helper= string, with an example MAC. */
const HOW_TO_PASS_MAC =
  "pass the guest's MAC: tap-launcher --mac=52:54:00:12:34:56, or in QEMU " +
  '-netdev bridge,id=n0,br=BRIDGE,helper="/usr/local/libexec/tap-bridge-helper --mac=52:54:00:12:34:56" ' +
  "with the same mac= on the NIC; libvirt's session mode runs the helper with QEMU's arguments only and cannot pass it";

/**
 * The refusal, before anything is made, of a request that a `locked` line needs a MAC for and that
 * gave none, or that asks for the bridge's own address; else null.
 */
export function macRequestProblem(
  rule: PolicyRule | null,
  mac: Uint8Array | null,
  bridgeMac: Uint8Array,
  bridge: string,
): StepError | null {
  if (rule?.locked !== true) return null;
  if (mac === null) {
    return new StepError(
      `access denied by policy file: rule ${describePolicyRule(rule)} locks each port to its guest's MAC address, and the request names none (--mac=MAC)`,
      { hint: HOW_TO_PASS_MAC },
    );
  }
  if (formatMac(mac) === formatMac(bridgeMac)) {
    return new StepError(`access denied: --mac=${formatMac(mac)} is bridge ${bridge}'s own address`, {
      hint: "give the guest an address of its own (QEMU's default is 52:54:00:12:34:56 plus the NIC's index)",
    });
  }
  return null;
}

/**
 * Holds the bridge port `tap` (index `tapIndex`, on the bridge, still down) to what `rule` says:
 * `locked` locks it to a static sticky FDB entry for `mac` and lets only frames for `mac` (or groups)
 * reach the guest; `ip=` filters what the guest sends. Everything goes with the TAP.
 * throws StepError when a step fails; an address the bridge already knows is refused as taken.
 */
export function bindGuestPort(tap: string, tapIndex: number, bridge: string, rule: PolicyRule | null, mac: Uint8Array | null): void {
  const locked = rule?.locked === true && mac !== null;
  const addresses = rule?.addresses ?? null;
  if (!locked && addresses === null) return;
  const step = <T>(what: string, action: () => T, hints: Readonly<Record<string, string>>): T => {
    try {
      return action();
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      const hint = hints[err.code];
      throw new StepError(`failed to ${what}: ${systemReason(err)}`, hint === undefined ? { cause: err } : { cause: err, hint });
    }
  };
  if (locked) {
    step(`lock bridge port \`${tap}'`, () => lockBridgePort(tapIndex), {
      EINVAL: "the kernel's bridge lacks locked ports (Linux 5.18 or later has them)",
    });
    try {
      addStickyFdbEntry(tapIndex, mac);
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      if (err.code === "EEXIST") {
        throw new StepError(
          `access denied: MAC address ${formatMac(mac)} is already in use on bridge ${bridge} (registered for another port, or seen there from another device)`,
          { cause: err, hint: "give the guest a MAC address of its own; `bridge fdb show br BRIDGE` shows the addresses the bridge knows" },
        );
      }
      throw new StepError(`failed to register MAC address ${formatMac(mac)} on bridge port \`${tap}': ${systemReason(err)}`, {
        cause: err,
      });
    }
  }
  step(
    `attach address filters to device \`${tap}'`,
    () =>
      attachPortFilters(tapIndex, {
        ingress: addresses === null ? null : guestIngressProgram(addresses),
        egress: locked ? guestEgressProgram(mac) : null,
      }),
    { EINVAL: "the kernel lacks tc's clsact qdisc or bpf classifier (CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF)" },
  );
}
