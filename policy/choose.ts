// Which line of the policy holds for a caller on a bridge, or why that cannot be told (pure).
import type { PolicyRule } from "./rules.ts";

/** The caller as the policy matches subjects; `userName` null, and `unnamedGids`, for ids the name service does not name. */
export interface PolicyCaller {
  userName: string | null;
  groupNames: readonly string[];
  unnamedGids?: readonly number[];
}

/** The line that holds, or, when names the decision needs are unknown, which ones. */
export type RuleChoice = { known: true; rule: PolicyRule | null } | { known: false; unnamedUser: boolean; unnamedGids: readonly number[] };

const subjectMatches = ({ subject }: PolicyRule, caller: PolicyCaller): boolean =>
  subject.kind === "anyone" || (subject.kind === "user" ? subject.name === caller.userName : caller.groupNames.includes(subject.name));
const subjectName = (rule: PolicyRule): string => (rule.subject.kind === "anyone" ? "*" : rule.subject.name);

/**
 * The line that applies to `caller` on the bridge device known by `bridgeNames`, or null (no limit), as bridge.conf(5)
 * explains: the most specific subject's tier (user, groups, `*`); a line naming the bridge (any of its names) over `all`;
 * then the largest MAX, of equal ones the first (one more group never takes away what another grants). Unknown when
 * the caller's uid (or a gid) has no name and the policy has user (group) lines here: it might be one's subject, so it
 * must be refused, not given the `*` line.
 */
export function choosePolicyLine(rules: readonly PolicyRule[], caller: PolicyCaller, bridgeNames: readonly string[]): RuleChoice {
  const lines = rules.filter((rule) => rule.bridge === null || bridgeNames.includes(rule.bridge));
  const unnamedUser = caller.userName === null && lines.some((rule) => rule.subject.kind === "user");
  const unnamedGids = lines.some((rule) => rule.subject.kind === "group") ? (caller.unnamedGids ?? []) : [];
  if (unnamedUser || unnamedGids.length > 0) return { known: false, unnamedUser, unnamedGids };
  const applying = lines.filter((rule) => subjectMatches(rule, caller));
  for (const kind of ["user", "group", "anyone"] as const) {
    const tier = applying.filter((rule) => rule.subject.kind === kind).sort((a, b) => a.line - b.line);
    const hasNamed = (rule: PolicyRule) => tier.some((other) => other.bridge !== null && subjectName(other) === subjectName(rule));
    const candidates = tier.filter((rule) => rule.bridge !== null || !hasNamed(rule));
    const chosen = candidates.reduce<PolicyRule | null>((best, rule) => (best === null || rule.maxTaps > best.maxTaps ? rule : best), null);
    if (chosen !== null) return { known: true, rule: chosen };
  }
  return { known: true, rule: null };
}
