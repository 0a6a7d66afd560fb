// The shared-hosts policy as the helper applies it: who the caller is, which line holds, the TAPs they hold already.
import { AclLoadError, loadPolicy } from "../acl/load.ts";
import { choosePolicyRule, describePolicyRule, MAX_QUEUES, queueLimit, type PolicyRule } from "../acl/policy.ts";
import { tapsHeldBy } from "../acl/quota.ts";
import type { ThreadCredentials } from "../shared/credentials.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { groupNameOf, userNameOf } from "../shared/libc.ts";
import { listBridgePorts } from "../shared/netlink.ts";
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

/** The TAPs on the bridge with index `bridgeIndex` counted against `uid`. throws SysError. */
export function tapsHeldOn(bridgeIndex: number, uid: number): string[] {
  const ports = listBridgePorts(bridgeIndex);
  return tapsHeldBy(ports, uid);
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
