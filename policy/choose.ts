// Which line of the policy holds for a caller on a bridge, or why that cannot be told (pure).
import type { PolicyRule, PolicySubject } from "./rules.ts";

/** The caller, as the policy matches subjects: their user name and the names of all their groups. */
export interface PolicyCaller {
  /** null when the name service has no name for the uid. */
  userName: string | null;
  groupNames: readonly string[];
  /** The caller's gids the name service has no name for (none when every group has one). */
  unnamedGids?: readonly number[];
}

/** The line that holds, or, when names the decision needs are unknown, which ones. */
export type RuleChoice = { known: true; rule: PolicyRule | null } | { known: false; unnamedUser: boolean; unnamedGids: readonly number[] };

function subjectMatches(subject: PolicySubject, caller: PolicyCaller): boolean {
  if (subject.kind === "user") return subject.name === caller.userName;
  if (subject.kind === "group") return caller.groupNames.includes(subject.name);
  return true;
}

/** Of `candidates` (lines of one tier), the most generous: the largest MAX, of equal ones the first in the file. */
function mostGenerous(candidates: readonly PolicyRule[]): PolicyRule | null {
  return candidates.reduce<PolicyRule | null>((best, rule) => (best === null || rule.maxTaps > best.maxTaps ? rule : best), null);
}

/**
 * The line that applies to `caller` on the bridge device known by `bridgeNames` (its canonical name
 * and altnames), or null when none does (no limit from the policy). Precedence, as bridge.conf(5)
 * explains:
 * 1. the tier of the most specific subject that has a line for this bridge or `all`: the user's own
 *    lines, else their groups' lines, else `*` lines;
 * 2. within one subject, a line naming the bridge (any of its names) over that subject's `all` line;
 * 3. across the caller's groups (and the names of one device), the largest MAX, of equal ones the
 *    first in the file: being in one more group never takes away what another group grants.
 */
export function choosePolicyRule(rules: readonly PolicyRule[], caller: PolicyCaller, bridgeNames: readonly string[]): PolicyRule | null {
  const forBridge = rules.filter((rule) => rule.bridge === null || bridgeNames.includes(rule.bridge));
  for (const kind of ["user", "group", "anyone"] as const) {
    const matching = forBridge.filter((rule) => rule.subject.kind === kind && subjectMatches(rule.subject, caller));
    const subjects = new Set(matching.map((rule) => (rule.subject.kind === "anyone" ? "*" : rule.subject.name)));
    const perSubject = [...subjects].map((name) => {
      const own = matching.filter((rule) => (rule.subject.kind === "anyone" ? "*" : rule.subject.name) === name);
      const named = own.filter((rule) => rule.bridge !== null);
      return mostGenerous(named.length > 0 ? named : own);
    });
    const chosen = mostGenerous(perSubject.filter((rule): rule is PolicyRule => rule !== null).sort((a, b) => a.line - b.line));
    if (chosen !== null) return chosen;
  }
  return null;
}

/**
 * choosePolicyRule, unless a name the decision depends on is unknown: a caller whose uid or one of
 * whose gids the name service did not name, where the policy has user (or group) lines for this
 * bridge, might be the subject of one of them. The choice is then not known, whatever the name
 * service's modules made of the failure: the caller must be refused, not given the `*` line.
 */
export function choosePolicyLine(rules: readonly PolicyRule[], caller: PolicyCaller, bridgeNames: readonly string[]): RuleChoice {
  const forBridge = rules.filter((rule) => rule.bridge === null || bridgeNames.includes(rule.bridge));
  const unnamedUser = caller.userName === null && forBridge.some((rule) => rule.subject.kind === "user");
  const unnamedGids = forBridge.some((rule) => rule.subject.kind === "group") ? (caller.unnamedGids ?? []) : [];
  if (unnamedUser || unnamedGids.length > 0) return { known: false, unnamedUser, unnamedGids };
  return { known: true, rule: choosePolicyRule(rules, caller, bridgeNames) };
}
