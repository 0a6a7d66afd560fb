// The shared-hosts policy as the helper applies it: the file, the caller's names, the places held, and its verdicts phrased as refusals.
import { POLICY_FILE } from "../acl/files.ts";
import type { RuleChoice } from "../policy/choose.ts";
import { MOST_PLACES, placeName, placeNames } from "../policy/holders.ts";
import { loadPolicy, PolicyLoadError } from "../policy/load.ts";
import { describePolicyRule, type PolicyRule } from "../policy/rules.ts";
import { FREE_A_PLACE, MAX_QUEUES, type QueueVerdict, type QuotaVerdict, quotaVerdict } from "../policy/verdicts.ts";
import { type CallerIdentity, lookUpCaller } from "../shared/caller.ts";
import type { ThreadCredentials } from "../shared/credentials.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { addAltName, devicesNamed } from "../shared/netlink.ts";
import { attempt, orSysError } from "./attempt.ts";
import type { AuditRecord } from "./audit.ts";

const DOCTOR_HINT = "`tap-launcher doctor` shows your limits and the TAPs you hold on each bridge";

/** A refusal by the policy, and the facts it was decided on for the audit line (`rule` undefined: which line holds is unknown). */
export class PolicyRefusal extends StepError {
  constructor(
    message: string,
    hint: string,
    readonly facts: Pick<AuditRecord, "bridge" | "rule" | "held">,
  ) {
    super(message, { hint });
  }
}

/** The caller's names for the policy. throws StepError when a lookup fails: a line for a group must not be skipped for that. */
export function identifyCaller(credentials: ThreadCredentials): CallerIdentity {
  try {
    return lookUpCaller(credentials);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    const hint = "the policy matches user and group names: an administrator checks the name service (getent passwd, getent group)";
    throw new StepError(
      `access denied by policy file: cannot look up the names of uid ${credentials.uids[0] ?? -1} and its groups: ${systemReason(err)}`,
      { cause: err, hint },
    );
  }
}

/** The policy's lines; null without a policy file; its refusal when unreadable, returned: the audit trail must know it exists. */
export function readPolicy(): PolicyRule[] | StepError | null {
  try {
    return loadPolicy(POLICY_FILE);
  } catch (err) {
    if (!(err instanceof PolicyLoadError)) throw err;
    const hint = `an administrator fixes ${POLICY_FILE}; until then every bridge is denied`;
    return new StepError(`access denied: ${err.message}`, { hint });
  }
}

/** The devices holding `uid`'s places below `limit` on the bridge, by place (null: free). throws SysError. */
export function placesTaken(bridgeIndex: number, uid: number, limit: number): (string | null)[] {
  return devicesNamed(placeNames(uid, bridgeIndex, limit));
}

/** Gives the device a free place of the caller's; of racers for the last one the kernel picks one (docs/design.md, "Shared hosts"). */
export function takePlace(
  device: { index: number; name: string },
  bridge: { index: number; name: string },
  uid: number,
  rule: PolicyRule | null,
  from: number,
): void {
  const limit = rule?.maxTaps ?? MOST_PLACES;
  const took = (place: number) =>
    attempt(`give device \`${device.name}' a place on bridge \`${bridge.name}'`, () => {
      const clash = orSysError("EEXIST", () => addAltName(device.index, placeName(uid, bridge.index, place)));
      return !(clash instanceof SysError);
    });
  const places = Array.from({ length: limit }, (_, at) => (from + at) % limit);
  for (let round = 1; ; round += 1) {
    if (places.some(took)) return;
    const taken = attempt(`count the TAPs you hold on bridge \`${bridge.name}'`, () => placesTaken(bridge.index, uid, limit));
    const held = taken.filter((name) => name !== null);
    if (rule === null)
      throw new StepError(
        `failed to give device \`${device.name}' a place on bridge \`${bridge.name}': all ${limit} of your places there are taken`,
      );
    const verdict = quotaVerdict(rule, held);
    // A place freed while this round went past it: one more round.
    if (verdict.allowed && round === 1) continue;
    throw quotaRefusal(verdict, bridge.name, held.length + 1);
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

/** From the caller's places below `rule`'s limit (placesTaken), how many are held and the lowest free; throws quotaRefusal when none is. */
export function roomFor(rule: PolicyRule, bridge: string, taken: readonly (string | null)[]): { held: number; firstFree: number } {
  const held = taken.filter((name) => name !== null);
  const verdict = quotaVerdict(rule, held);
  if (!verdict.allowed) throw quotaRefusal(verdict, bridge, held.length);
  return { held: held.length, firstFree: taken.indexOf(null) };
}

/** The refusal a queue verdict that does not allow `--queues=N` makes. */
export function queueRefusal(verdict: QueueVerdict, bridge: string): PolicyRefusal {
  const { rule, limit, asked } = verdict;
  const source = rule === null ? `the default without a policy line that sets queues=` : `rule ${describePolicyRule(rule)}`;
  return new PolicyRefusal(
    `access denied: --queues=${asked} is more than ${source} allows (${limit} per TAP)`,
    `ask for at most ${limit}; an administrator can allow more with queues=N (up to ${MAX_QUEUES}) in ${POLICY_FILE}`,
    { bridge, rule, held: null },
  );
}

/** The refusal when the line that holds cannot be told: the name service named not every id the policy's lines could match. */
export function unknownNamesRefusal(choice: Extract<RuleChoice, { known: false }>, uid: number, bridge: string): PolicyRefusal {
  const ids = [...(choice.unnamedUser ? [`uid ${uid}`] : []), ...choice.unnamedGids.map((gid) => `gid ${gid}`)];
  return new PolicyRefusal(
    `access denied by policy file: the name service gave no name for ${ids.join(", ")}, so which line applies to you on bridge ${bridge} cannot be told`,
    "the policy matches user and group names: an administrator makes the name service answer for them (getent passwd UID, getent group GID)",
    { bridge, rule: undefined, held: null },
  );
}
