// The allow/deny decision for one bridge device: deny wins over allow whatever the order; no match denies.
import type { AclRule } from "./parse.ts";

/**
 * The bridge as the caller named it, and every name of the device that name reaches. The kernel
 * resolves alternative names (`ip link property add dev br1 altname lab1`) wherever it takes a name,
 * so a rule about `br1` must hold for `lab1` too: the decision is about the device, not the string.
 */
export interface BridgeNames {
  /** What the caller typed (`--br=`). */
  requested: string;
  /** The device's canonical name first, then its alternative names; just `requested` when no device has that name. */
  deviceNames: readonly string[];
}

export interface AclDecision {
  allowed: boolean;
  /** The first `deny` that matched any name of the device, when one did. */
  denyRule: AclRule | null;
  /** The first `allow` that matched any name of the device, when one did. */
  allowRule: AclRule | null;
}

function matches(rule: AclRule, names: readonly string[]): boolean {
  return rule.bridge === null || names.includes(rule.bridge);
}

/**
 * Decides access from rules in the order they were read: denied when a deny rule names any of the
 * device's names (or is `deny all`), allowed only when no deny matched and an allow rule names one of
 * them (or is `allow all`).
 */
export function decideBridgeAccess(rules: readonly AclRule[], bridge: BridgeNames): AclDecision {
  const denyRule = rules.find((rule) => rule.action === "deny" && matches(rule, bridge.deviceNames)) ?? null;
  const allowRule = rules.find((rule) => rule.action === "allow" && matches(rule, bridge.deviceNames)) ?? null;
  return { allowed: denyRule === null && allowRule !== null, denyRule, allowRule };
}

/** `lab1`, or `lab1 (the device br1, also named lab1, lab2)` when the device has other names. */
function describeBridge(bridge: BridgeNames): string {
  const others = bridge.deviceNames.filter((name) => name !== bridge.requested);
  if (others.length === 0) return bridge.requested;
  const [canonical] = bridge.deviceNames;
  const aliases = bridge.deviceNames.slice(1);
  return `${bridge.requested} (the device ${canonical}, also named ${aliases.join(", ")})`;
}

/** A sentence saying why access was denied and what would change it. */
export function explainDenial(decision: AclDecision, bridge: BridgeNames, filesRead: readonly string[]): string {
  const files = filesRead.join(", ");
  if (decision.denyRule !== null) {
    const rule = decision.denyRule;
    return `access denied by acl file: rule "deny ${rule.bridge ?? "all"}" at ${rule.file}:${rule.line} matches bridge ${describeBridge(bridge)} (deny wins over allow)`;
  }
  const canonical = bridge.deviceNames[0] ?? bridge.requested;
  return `access denied by acl file: no allow rule matches bridge ${describeBridge(bridge)} in ${files}; add "allow ${canonical}" to one of them`;
}
