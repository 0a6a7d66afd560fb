// Which lxc-usernet line a new veth is charged to, or why none is (pure): lxc-user-nic's documented rule.
import type { UsernetLine } from "./parse.ts";

/** The caller as lxc-user-nic matches lines: their user name and the names of their supplementary groups. */
export interface UsernetCaller {
  userName: string;
  /**
   * The names of the groups getgroups(2) reports (the primary group only when it is also listed
   * there, as login and newgrp arrange). Empty when any of them has no name: lxc-user-nic then
   * matches no `@group` line, and so does this decision.
   */
  groupNames: readonly string[];
}

export interface UsernetRequest {
  type: string;
  bridge: string;
}

export type UsernetDecision =
  /** Charge the new device to this line (its subject's count of devices is below its COUNT). */
  | { verdict: "grant"; line: UsernetLine; matching: UsernetLine[] }
  /** No line names the caller (or a group of theirs), the type and the bridge, or their COUNTs add up to 0 or less. */
  | { verdict: "no-line"; matching: UsernetLine[] }
  /** Every matching line's subject already holds its COUNT. */
  | { verdict: "quota-reached"; matching: UsernetLine[] };

/** Whether the line is about the caller, the type and the bridge (strcmp equality, as lxc-user-nic compares). */
function lineMatches(line: UsernetLine, caller: UsernetCaller, request: UsernetRequest): boolean {
  const aboutCaller =
    line.subject === caller.userName || (line.subject.startsWith("@") && caller.groupNames.includes(line.subject.slice(1)));
  return aboutCaller && line.type === request.type && line.bridge === request.bridge;
}

/**
 * lxc-usernet(5): "interfaces created are counted towards the quotas of the user or group in the
 * order in which they appear in the file. If the quota of one line is full, the rest will be parsed
 * until one is found." A user line's devices are the user's; a `@group` line's are shared by every
 * member charged to it. lxc-user-nic also refuses outright when the matching COUNTs sum to 0 or less.
 * `heldBy(subject)` is how many devices of this type on this bridge are charged to `subject` now.
 */
export function decideUsernet(
  lines: readonly UsernetLine[],
  caller: UsernetCaller,
  request: UsernetRequest,
  heldBy: (subject: string) => number,
): UsernetDecision {
  const matching = lines.filter((line) => lineMatches(line, caller, request));
  const total = matching.reduce((sum, line) => sum + line.count, 0);
  if (total <= 0) return { verdict: "no-line", matching };
  const line = matching.find((candidate) => heldBy(candidate.subject) < candidate.count);
  return line === undefined ? { verdict: "quota-reached", matching } : { verdict: "grant", line, matching };
}
