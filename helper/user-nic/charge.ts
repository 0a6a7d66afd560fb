// Who may have one more veth on a bridge: the lxc-usernet line to charge, counted from the kernel's links.
import { readFileSync } from "node:fs";
import type { ThreadCredentials } from "../../shared/credentials.ts";
import { StepError, SysError, systemReason } from "../../shared/errors.ts";
import { groupNameOf, userNameOf } from "../../shared/libc.ts";
import { dumpLinks } from "../../shared/netlink-dump.ts";
import { type LinkDescription, readLinkMessage, withoutStatistics } from "../../shared/netlink.ts";
import { decideUsernet, type UsernetCaller } from "../../usernet/decide.ts";
import { unmarkedVethsOf } from "../../usernet/host-name.ts";
import { vethsChargedTo } from "../../usernet/charges.ts";
import { parseUsernet, type UsernetLine } from "../../usernet/parse.ts";

/** Where LXC (Debian's build, LXC_USERNIC_CONF) and so this drop-in read who may have how many veths. */
export const USERNET_FILE = "/etc/lxc/lxc-usernet";

/** Its lines, read with the caller's rights (world-readable on Debian); none when unreadable: lxc-user-nic then grants nothing either. */
export function readUsernet(): UsernetLine[] {
  try {
    return parseUsernet(readFileSync(USERNET_FILE));
  } catch {
    return [];
  }
}

/** The caller's names, as lxc-user-nic takes them: a user without one is refused, a group without one matches no line. */
export function usernetCaller(credentials: ThreadCredentials): UsernetCaller {
  const uid = credentials.uids[0] ?? -1;
  try {
    const userName = userNameOf(uid);
    if (userName === null) throw new StepError(`access denied: uid ${uid} has no user name, and ${USERNET_FILE} names users`);
    const names = credentials.groups.map(groupNameOf);
    const groupNames = names.every((name): name is string => name !== null) ? names : [];
    return { userName, groupNames };
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw new StepError(`access denied: cannot look up the names of uid ${uid} and its groups: ${systemReason(err)}`);
  }
}

/**
 * The count of a subject's veths on `bridge` in one dump of this namespace's links (but the link `except`),
 * with those `uid` made but did not mark (a create cut short): they count on every line. throws StepError.
 */
function counter(bridge: string, uid: number, except = 0): (subject: string) => number {
  const what = `the veths charged on ${bridge}`;
  let all: LinkDescription[];
  try {
    all = dumpLinks(withoutStatistics(), readLinkMessage, "RTM_GETLINK dump of all links").filter((link) => link.index !== except);
  } catch (err) {
    throw new StepError(`failed to count ${what}: ${systemReason(err)}`, { cause: err });
  }
  const unmarked = unmarkedVethsOf(all, uid).length;
  return (subject) => vethsChargedTo(all, subject, bridge) + unmarked;
}

/** The line the new veth is charged to (lxc-usernet(5): the first matching one below its COUNT). throws StepError. */
export function chooseUsernetLine(lines: readonly UsernetLine[], caller: UsernetCaller, uid: number, bridge: string): UsernetLine {
  const decision = decideUsernet(lines, caller, { type: "veth", bridge }, counter(bridge, uid));
  if (decision.verdict === "grant") return decision.line;
  if (decision.verdict === "no-line") {
    throw new StepError(`access denied: no line of ${USERNET_FILE} gives ${caller.userName} a veth on ${bridge}`, {
      hint: `an administrator adds a line \`USER veth BRIDGE COUNT\` (or @GROUP) to ${USERNET_FILE} (lxc-usernet(5))`,
    });
  }
  const counted = decision.matching.map((line) => `${line.subject} ${line.count} (line ${line.line})`).join(", ");
  throw new StepError(`quota reached: veth on ${bridge} for ${counted} in ${USERNET_FILE}`, {
    hint: `stop a container that holds one (its veth goes with it), or an administrator raises the COUNT in ${USERNET_FILE}`,
  });
}

/** Throws the refusal when `line`'s subject holds its COUNT without the veth with index `own`, counted again with it present. */
export function recheckUsernetLine(line: UsernetLine, bridge: string, uid: number, own: number): void {
  const held = counter(bridge, uid, own)(line.subject);
  if (held >= line.count) {
    throw new StepError(`quota reached: ${line.subject} holds ${held} of ${line.count} on ${bridge} (${USERNET_FILE} line ${line.line})`, {
      hint: "another veth was made at the same moment; stop a container that holds one",
    });
  }
}
