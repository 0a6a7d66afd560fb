// The shared-hosts policy as the helper applies it: the file, the caller's names, the count, and its verdicts phrased as refusals.
import { POLICY_FILE } from "../acl/files.ts";
import { contendedCount, holderAlias, type MarkedPort, portsMarkedFor } from "../policy/holders.ts";
import { loadPolicy, PolicyLoadError } from "../policy/load.ts";
import { MAX_QUEUES } from "../policy/verdicts.ts";
import { describePolicyRule, type PolicyRule } from "../policy/rules.ts";
import { FREE_A_PLACE, type QueueVerdict, type QuotaVerdict } from "../policy/verdicts.ts";
import { type CallerIdentity, lookUpCaller } from "../shared/caller.ts";
import type { ThreadCredentials } from "../shared/credentials.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { listBridgePorts, setLinkAlias } from "../shared/netlink.ts";
import { vethsHeldBy } from "../usernet/marks.ts";

const DOCTOR_HINT = "`tap-launcher doctor` shows your limits and the TAPs you hold on each bridge";

/** What the audit line records of a policy refusal. */
export interface RefusalFacts {
  /** The bridge device's canonical name. */
  bridge: string;
  /** The line that held; null when none did; undefined when which one holds could not be told. */
  rule: PolicyRule | null | undefined;
  /** The caller's TAPs on the bridge when counted, the one being made included once it is there; null before a count. */
  held: number | null;
}

/** A refusal by the policy: the message, and the facts it was decided on. */
export class PolicyRefusal extends StepError {
  constructor(
    message: string,
    hint: string,
    readonly facts: RefusalFacts,
  ) {
    super(message, { hint });
  }
}

/**
 * The caller's names for the policy. throws StepError when a name lookup fails: a line for a group
 * must not be skipped for that.
 */
export function identifyCaller(credentials: ThreadCredentials): CallerIdentity {
  try {
    return lookUpCaller(credentials);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw new StepError(
      `access denied by policy file: cannot look up the names of uid ${credentials.uids[0] ?? -1} and its groups: ${systemReason(err)}`,
      {
        cause: err,
        hint: "the policy matches user and group names: an administrator checks the name service (getent passwd, getent group)",
      },
    );
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
    if (!(err instanceof PolicyLoadError)) throw err;
    return new StepError(`access denied: ${err.message}`, {
      hint: `an administrator fixes ${POLICY_FILE}; until then every bridge is denied`,
    });
  }
}

/** How long a count waits for the requests it contends with (see contendedCount) before it counts them all. */
const SETTLE_DEADLINE_MS = 30_000;
/** The longest pause between two counts while waiting; each is drawn at random up to its bound. */
const MAX_SETTLE_PAUSE_MS = 128;

/** The ports on the bridge with `uid`'s mark, each said finished or still in making (down and root's). throws SysError. */
function markedPorts(bridgeIndex: number, uid: number): MarkedPort[] {
  const ports = listBridgePorts(bridgeIndex);
  // Their containers' veths (tap-user-nic) count beside their TAPs; a veth is never in making here.
  const veths = new Set(vethsHeldBy(ports, uid));
  return [...portsMarkedFor(ports, uid), ...ports.filter((port) => veths.has(port.name))].map((port) => ({
    index: port.index,
    name: port.name,
    inMaking: !port.up && port.tunOwner() === 0,
  }));
}

/**
 * Every port on the bridge with `uid`'s mark, finished or in making: what tap-user-nic counts once
 * its own veth is marked there. A TAP counted and granted stays in making until its hand-over, and a
 * veth is finished to every later count, so of a TAP and a veth racing for the last place at worst
 * both are refused, never both kept. throws SysError.
 */
export function portsMarkedOn(bridgeIndex: number, uid: number): string[] {
  return markedPorts(bridgeIndex, uid).map((port) => port.name);
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

/** The refusal a quota verdict that allows no more TAPs makes; `counted` is the use the audit line shows. */
export function quotaRefusal(verdict: QuotaVerdict, bridge: string, counted: number): PolicyRefusal {
  const { rule, limit, held } = verdict;
  if (limit === 0) {
    const message = `access denied by policy file: rule ${describePolicyRule(rule)} allows you no TAP on bridge ${bridge}`;
    return new PolicyRefusal(message, `an administrator changes ${rule.file}; ${DOCTOR_HINT}`, { bridge, rule, held: counted });
  }
  const message = `access denied by policy file: rule ${describePolicyRule(rule)} limits you to ${limit} on bridge ${bridge}: ${held.length} in use (${held.join(", ")})`;
  return new PolicyRefusal(message, `${FREE_A_PLACE}; ${DOCTOR_HINT}`, { bridge, rule, held: counted });
}

/** The refusal a queue verdict that does not allow `--queues=N` makes. */
export function queueRefusal(verdict: QueueVerdict, bridge: string): PolicyRefusal {
  const { rule, limit, asked } = verdict;
  const source = rule === null ? `the default without a policy line that sets queues=` : `rule ${describePolicyRule(rule)}`;
  return new PolicyRefusal(
    `access denied: --queues=${asked} is more than the ${limit} queues per TAP that ${source} allows`,
    `ask for ${limit} or fewer; an administrator can raise it with queues=N (up to ${MAX_QUEUES}) in ${POLICY_FILE}`,
    { bridge, rule, held: null },
  );
}

/** The refusal when the line that holds cannot be told: the name service named not every id the policy's lines could match. */
export function unknownNamesRefusal(
  choice: { unnamedUser: boolean; unnamedGids: readonly number[] },
  uid: number,
  bridge: string,
): PolicyRefusal {
  const ids = [...(choice.unnamedUser ? [`uid ${uid}`] : []), ...choice.unnamedGids.map((gid) => `gid ${gid}`)];
  return new PolicyRefusal(
    `access denied by policy file: the name service gave no name for ${ids.join(", ")}, so which line applies to you on bridge ${bridge} cannot be told`,
    "the policy matches user and group names: an administrator makes the name service answer for them (getent passwd UID, getent group GID)",
    { bridge, rule: undefined, held: null },
  );
}
