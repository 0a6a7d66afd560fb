// Which line of the policy holds for a caller on a bridge (pure).
import type { PolicyRule, PolicySubject } from "./rules.ts";

/** The caller, as the policy matches subjects: their user name and the names of all their groups. */
export interface PolicyCaller {
  /** null when the uid has no name: only `@group` and `*` lines can then match. */
  userName: string | null;
  groupNames: readonly string[];
}

function subjectMatches(subject: PolicySubject, caller: PolicyCaller, kind: PolicySubject["kind"]): boolean {
  if (subject.kind !== kind) return false;
  if (subject.kind === "user") return subject.name === caller.userName;
  if (subject.kind === "group") return caller.groupNames.includes(subject.name);
  return true;
}

/**
 * The line that applies to `caller` on the bridge device known by `bridgeNames` (its canonical name
 * and altnames), or null when none does (no limit from the policy). The most specific subject wins
 * (user over @group over *), then, for that subject, a line naming the bridge over a line for `all`;
 * among several matching lines of one kind (the caller's groups, or names of one device), the largest
 * MAX, and of equal ones the first in the file.
 */
export function choosePolicyRule(rules: readonly PolicyRule[], caller: PolicyCaller, bridgeNames: readonly string[]): PolicyRule | null {
  for (const kind of ["user", "group", "anyone"] as const) {
    const forSubject = rules.filter((rule) => subjectMatches(rule.subject, caller, kind));
    const named = forSubject.filter((rule) => rule.bridge !== null && bridgeNames.includes(rule.bridge));
    const candidates = named.length > 0 ? named : forSubject.filter((rule) => rule.bridge === null);
    const chosen = candidates.reduce<PolicyRule | null>((best, rule) => (best === null || rule.maxTaps > best.maxTaps ? rule : best), null);
    if (chosen !== null) return chosen;
  }
  return null;
}
