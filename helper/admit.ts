// Phase 1, admit: the bridge the request names, the ACL's decision on it, the policy's line and the first count.
import type { ConsolaInstance } from "consola";
import { decideBridgeAccess, explainDenial, type BridgeNames } from "../acl/decide.ts";
import { ACL_FILE } from "../acl/files.ts";
import { AclLoadError, loadAcl } from "../acl/load.ts";
import { choosePolicyLine } from "../policy/choose.ts";
import type { PolicyRule } from "../policy/rules.ts";
import { queueVerdict } from "../policy/verdicts.ts";
import type { CallerIdentity } from "../shared/caller.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { interfaceNameProblem } from "../shared/ifname.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { describeLink } from "../shared/netlink.ts";
import type { HelperArgs } from "./args.ts";
import { attempt, orSysError } from "./attempt.ts";
import { placesTaken, queueRefusal, roomFor, unknownNamesRefusal } from "./policy.ts";

export type SharedHost = { rules: readonly PolicyRule[]; caller: CallerIdentity };

/** An admitted request: the bridge device it is for, and what the policy decided (null without a policy file). */
export interface Admission {
  bridge: string;
  bridgeIndex: number;
  /** `held`: the caller's places taken below the line's limit (null when none limits: none counted); `firstFree`: the lowest free. */
  policy: { rule: PolicyRule | null; held: number | null; firstFree: number } | null;
}

/** Names only what an installed user has. */
const ACL_HINT = `\`tap-launcher doctor\` shows which bridges ${ACL_FILE} allows you; an administrator changes it`;

/** Admits the request or throws its refusal; a caller at their limit is refused before any TAP exists (races: takePlace). */
export function admit(args: HelperArgs, host: SharedHost | null, control: InterfaceControl, log: ConsolaInstance): Admission {
  const { bridge, bridgeIndex, names } = admitBridge(args.bridge, control, log);
  const choice = host === null ? null : choosePolicyLine(host.rules, host.caller, names);
  if (choice?.known === false) throw unknownNamesRefusal(choice, host?.caller.uid ?? -1, bridge);
  const rule = choice?.rule ?? null;
  const queueCheck = queueVerdict(rule, args.queues);
  if (!queueCheck.allowed) throw queueRefusal(queueCheck, bridge);
  if (host === null) return { bridge, bridgeIndex, policy: null };
  if (rule === null) return { bridge, bridgeIndex, policy: { rule, held: null, firstFree: 0 } };
  // Only the caller's places are asked for, one lookup each: the bridge's other ports cost nothing.
  const taken = attempt(`count the TAPs you hold on bridge \`${bridge}'`, () => placesTaken(bridgeIndex, host.caller.uid, rule.maxTaps));
  return { bridge, bridgeIndex, policy: { rule, ...roomFor(rule, bridge, taken) } };
}

/** The bridge device `requested` reaches, once the ACL allows it under every name it has. throws StepError. */
function admitBridge(requested: string, control: InterfaceControl, log: ConsolaInstance): Omit<Admission, "policy"> & { names: string[] } {
  // The ACL judges the device, not the string typed: a deny for br1 must hold for its altname lab1.
  const found = attempt(`find bridge \`${requested}'`, () => lookUpBridge(control, requested));
  checkBridgeAcl({ requested, deviceNames: found instanceof SysError ? [requested] : found.names }, log);
  if (found instanceof SysError) {
    throw new StepError(`failed to find bridge \`${requested}': ${systemReason(found)}`, {
      cause: found,
      hint: `create it first (ip link add ${requested} type bridge), or name an existing bridge`,
    });
  }
  // The decisions are about the canonical name (checked again after the attach, in case of a rename).
  const [bridge = requested] = found.names;
  const nameProblem = interfaceNameProblem(bridge);
  if (nameProblem !== null) {
    throw new StepError(
      `failed to find bridge \`${requested}': the device's name ${JSON.stringify(bridge)} is not one the helper handles (${nameProblem})`,
      { hint: `an administrator renames it (ip link set dev ${requested} name NEWNAME) to printable ASCII` },
    );
  }
  return { bridge, bridgeIndex: found.index, names: found.names };
}

function checkBridgeAcl(bridge: BridgeNames, log: ConsolaInstance): void {
  let acl;
  try {
    acl = loadAcl(ACL_FILE);
  } catch (err) {
    if (!(err instanceof AclLoadError)) throw err;
    throw new StepError(`access denied: ${err.message}`, { hint: `an administrator fixes ${ACL_FILE}; until then every bridge is denied` });
  }
  for (const warning of acl.warnings) log.warn(warning);
  const decision = decideBridgeAccess(acl.rules, bridge);
  if (!decision.allowed) throw new StepError(explainDenial(decision, bridge, acl.filesRead), { hint: ACL_HINT });
}

/** The device `name` reaches (SIOCGIFINDEX follows alternative names) and all its names; a SysError(ENODEV) when none. */
function lookUpBridge(control: InterfaceControl, name: string): { index: number; names: string[] } | SysError {
  const index = orSysError("ENODEV", () => control.index(name));
  if (index instanceof SysError) return index;
  const link = describeLink(index);
  return { index, names: [link.name, ...link.altNames] };
}
