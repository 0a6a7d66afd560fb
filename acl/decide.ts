// The allow/deny decision for one bridge: deny wins over allow whatever the order; no match denies.
import type { AclRule } from "./parse.ts";

export interface AclDecision {
  allowed: boolean;
  /** The first `deny` that matched, when one did. */
  denyRule: AclRule | null;
  /** The first `allow` that matched, when one did. */
  allowRule: AclRule | null;
}

function matches(rule: AclRule, bridge: string): boolean {
  return rule.bridge === null || rule.bridge === bridge;
}

/** Decides access to `bridge` from rules in the order they were read. */
export function decideBridgeAccess(rules: readonly AclRule[], bridge: string): AclDecision {
  const denyRule = rules.find((rule) => rule.action === "deny" && matches(rule, bridge)) ?? null;
  const allowRule = rules.find((rule) => rule.action === "allow" && matches(rule, bridge)) ?? null;
  return { allowed: denyRule === null && allowRule !== null, denyRule, allowRule };
}

/** A sentence saying why access was denied and what would change it. */
export function explainDenial(decision: AclDecision, bridge: string, filesRead: readonly string[]): string {
  const files = filesRead.join(", ");
  if (decision.denyRule !== null) {
    const rule = decision.denyRule;
    return `access denied by acl file: rule "deny ${rule.bridge ?? "all"}" at ${rule.file}:${rule.line} matches bridge ${bridge} (deny wins over allow)`;
  }
  return `access denied by acl file: no allow rule matches bridge ${bridge} in ${files}; add "allow ${bridge}" to one of them`;
}
