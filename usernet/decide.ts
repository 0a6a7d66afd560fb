// Which lxc-usernet line a new veth is charged to, or why none is (pure): lxc-user-nic's documented rule.
import type { UsernetLine } from "./parse.ts";

/** The caller's user name and the names of the groups getgroups(2) reports (the primary one only when listed there too). */
export type UsernetCaller = { userName: string; groupNames: readonly string[] };

/** `no-line`: none names the caller (or a group of theirs), the type and the bridge, or their COUNTs sum to 0 or less. */
type UsernetDecision =
  | { verdict: "grant"; line: UsernetLine; matching: UsernetLine[] }
  | { verdict: "no-line" | "quota-reached"; matching: UsernetLine[] };

/**
 * lxc-usernet(5): "interfaces created are counted towards the quotas of the user or group in the
 * order in which they appear in the file. If the quota of one line is full, the rest will be parsed
 * until one is found." A `@group` line's devices are shared by every member charged to it.
 * `heldBy(subject)` is how many devices of this type on this bridge are charged to `subject` now.
 */
export function decideUsernet(
  lines: readonly UsernetLine[],
  caller: UsernetCaller,
  request: { type: string; bridge: string },
  heldBy: (subject: string) => number,
): UsernetDecision {
  const isCaller = (subject: string) => subject === caller.userName || (subject[0] === "@" && caller.groupNames.includes(subject.slice(1)));
  const matching = lines.filter((line) => isCaller(line.subject) && line.type === request.type && line.bridge === request.bridge);
  if (matching.reduce((sum, line) => sum + line.count, 0) <= 0) return { verdict: "no-line", matching };
  const line = matching.find((candidate) => heldBy(candidate.subject) < candidate.count);
  return line === undefined ? { verdict: "quota-reached", matching } : { verdict: "grant", line, matching };
}
