// The allow/deny decision for one bridge device: deny wins over allow whatever the order; no match denies.
import type { AclRule } from "./parse.ts";

/** `--br=` as given, and its device's names, canonical first (or just it): the kernel resolves altnames, so rules hold for the device. */
export interface BridgeNames {
  requested: string;
  deviceNames: readonly string[];
}

/** Deny wins: a deny naming any of the device's names (or `all`), else an allow; with the first of each that matched. */
export function decideBridgeAccess(rules: readonly AclRule[], bridge: BridgeNames) {
  // A loop, not Array#find: each engine built-in costs its first use at every start (docs/benchmarks.md, "First uses").
  const first = (action: AclRule["action"]): AclRule | null => {
    for (const rule of rules) if (rule.action === action && (rule.bridge === null || bridge.deviceNames.includes(rule.bridge))) return rule;
    return null;
  };
  const denyRule = first("deny");
  const allowRule = first("allow");
  return { allowed: denyRule === null && allowRule !== null, denyRule, allowRule };
}
type AclDecision = ReturnType<typeof decideBridgeAccess>;

/** `lab1`, or `lab1 (the device br1, also named lab1, lab2)` when the device has other names. */
function describeBridge(bridge: BridgeNames): string {
  if (bridge.deviceNames.every((name) => name === bridge.requested)) return bridge.requested;
  const [canonical, ...aliases] = bridge.deviceNames;
  return `${bridge.requested} (the device ${canonical}, also named ${aliases.join(", ")})`;
}

/** A sentence saying why access was denied and what would change it. */
export function explainDenial(decision: AclDecision, bridge: BridgeNames, filesRead: readonly string[]): string {
  const rule = decision.denyRule;
  if (rule !== null) {
    return `access denied by acl file: rule "deny ${rule.bridge ?? "all"}" at ${rule.file}:${rule.line} matches bridge ${describeBridge(bridge)} (deny wins over allow)`;
  }
  return `access denied by acl file: no allow rule matches bridge ${describeBridge(bridge)} in ${filesRead.join(", ")}; add "allow ${bridge.deviceNames[0] ?? bridge.requested}" to one of them`;
}
