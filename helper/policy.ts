// The shared-hosts policy as the helper applies it: who the caller is, which line holds, the TAPs they hold already.
import { AclLoadError, loadPolicy } from "../acl/load.ts";
import { choosePolicyRule, describePolicyRule, MAX_QUEUES, queueLimit, type PolicyRule } from "../acl/policy.ts";
import { contendedCount, holderAlias, type MarkedPort, portsMarkedFor } from "../acl/quota.ts";
import type { ThreadCredentials } from "../shared/credentials.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { groupNameOf, userNameOf } from "../shared/libc.ts";
import { listBridgePorts, setLinkAlias } from "../shared/netlink.ts";
import { POLICY_FILE } from "../acl/files.ts";

/** The caller as the policy and the audit trail name them. */
export interface CallerIdentity {
  uid: number;
  gid: number;
  /** null when the uid has no name in the name service. */
  userName: string | null;
  /** The names of the caller's real gid and supplementary groups, those that have one. */
  groupNames: string[];
}

const DOCTOR_HINT = "`tap-launcher doctor` shows your limits and the TAPs you hold on each bridge";

/**
 * Who the caller is: ids as the kernel holds them for this process (the exec shim kept the caller's
 * real ids and supplementary groups, as every permission check the kernel makes uses them; the same
 * groups decide which per-group ACL includes are readable), names from the name service.
 * throws StepError when a name lookup fails: a line for a group must not be skipped for that.
 */
export function identifyCaller(credentials: ThreadCredentials): CallerIdentity {
  const uid = credentials.uids[0] ?? -1;
  const gid = credentials.gids[0] ?? -1;
  try {
    const groupNames = [...new Set([gid, ...credentials.groups])].map(groupNameOf).filter((name): name is string => name !== null);
    return { uid, gid, userName: userNameOf(uid), groupNames };
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw new StepError(`access denied by policy file: cannot look up the names of uid ${uid} and its groups: ${systemReason(err)}`, {
      cause: err,
      hint: "the policy matches user and group names: an administrator checks the name service (getent passwd, getent group)",
    });
  }
}

/**
 * The policy's lines; null without a policy file; the refusal (deny) when it exists but cannot be
 * read or parsed, returned rather than thrown because the audit trail must know that it exists.
 */
export function readPolicy(): PolicyRule[] | StepError | null {
  try {
    return loadPolicy(POLICY_FILE);
  } catch (err) {
    if (!(err instanceof AclLoadError)) throw err;
    return new StepError(`access denied: ${err.message}`, {
      hint: `an administrator fixes ${POLICY_FILE}; until then every bridge is denied`,
    });
  }
}

/** The line that holds for `caller` on the bridge device with these names, or null (no limit). */
export function applicableRule(rules: readonly PolicyRule[], caller: CallerIdentity, bridgeNames: readonly string[]): PolicyRule | null {
  return choosePolicyRule(rules, { userName: caller.userName, groupNames: caller.groupNames }, bridgeNames);
}

/** How long a count waits for the requests it contends with (see contendedCount) before it counts them all. */
const SETTLE_DEADLINE_MS = 20_000;
/** The longest pause between two counts while waiting; each is drawn at random up to its bound. */
const MAX_SETTLE_PAUSE_MS = 128;

/** The ports on the bridge with `uid`'s mark, each said finished or still in making (down and root's). throws SysError. */
function markedPorts(bridgeIndex: number, uid: number): MarkedPort[] {
  return portsMarkedFor(listBridgePorts(bridgeIndex), uid).map((port) => ({
    index: port.index,
    name: port.name,
    inMaking: !port.up && port.tunOwner() === 0,
  }));
}

/**
 * The TAPs on the bridge with index `bridgeIndex` counted against `uid`. Without `making`: the
 * finished ones (the first count, before a TAP exists; doctor's). With `making`, the request's own
 * new port (marked) and its limit: counted as contendedCount says, again after short pauses while
 * requests in making decide it; once SETTLE_DEADLINE_MS have passed, every other marked port counts
 * (a refusal then errs on the safe side). throws SysError.
 */
export function tapsHeldOn(bridgeIndex: number, uid: number, making?: { index: number; limit: number | null }): string[] {
  if (making === undefined)
    return markedPorts(bridgeIndex, uid)
      .filter((port) => !port.inMaking)
      .map((port) => port.name);
  const own = making.index;
  const started = performance.now();
  const settled = () => performance.now() - started >= SETTLE_DEADLINE_MS;
  let pauseBound = 1;
  const pause = () => {
    Bun.sleepSync(Math.random() * pauseBound);
    pauseBound = Math.min(pauseBound * 2, MAX_SETTLE_PAUSE_MS);
  };
  for (;;) {
    const marked = markedPorts(bridgeIndex, uid);
    const verdict = contendedCount(marked, own, making.limit);
    if (typeof verdict === "object") return verdict.held;
    if (settled()) return marked.filter((port) => port.index !== own).map((port) => port.name);
    if (verdict === "step aside") {
      setLinkAlias(own, "");
      while (!settled() && markedPorts(bridgeIndex, uid).some((port) => port.inMaking && port.index < own)) pause();
      setLinkAlias(own, holderAlias(uid));
    } else pause();
  }
}

/** The refusal when `held` (the caller's TAPs on `bridge`, not counting one being made) leaves no room under `rule`. */
export function quotaProblem(rule: PolicyRule, bridge: string, held: readonly string[]): StepError | null {
  if (held.length < rule.maxTaps) return null;
  if (rule.maxTaps === 0) {
    return new StepError(`access denied by policy file: rule ${describePolicyRule(rule)} allows you no TAP on bridge ${bridge}`, {
      hint: `an administrator changes ${rule.file}; ${DOCTOR_HINT}`,
    });
  }
  return new StepError(
    `access denied by policy file: rule ${describePolicyRule(rule)} limits you to ${rule.maxTaps} on bridge ${bridge}: ${held.length} in use (${held.join(", ")})`,
    {
      hint: `stop a VM that uses one; a TAP made persistent counts until it is deleted (ip tuntap del dev TAP mode tap); ${DOCTOR_HINT}`,
    },
  );
}

/**
 * The refusal when `queues` is above what `rule` allows one TAP (queues=, or DEFAULT_MAX_QUEUES with
 * no line or no policy at all), else null.
 */
export function queueProblem(rule: PolicyRule | null, queues: number): StepError | null {
  const limit = queueLimit(rule);
  if (queues <= limit) return null;
  const source = rule === null ? `the default without a policy line that sets queues=` : `rule ${describePolicyRule(rule)}`;
  return new StepError(`access denied: --queues=${queues} is more than the ${limit} queues per TAP that ${source} allows`, {
    hint: `ask for ${limit} or fewer; an administrator can raise it with queues=N (up to ${MAX_QUEUES}) in ${POLICY_FILE}`,
  });
}
