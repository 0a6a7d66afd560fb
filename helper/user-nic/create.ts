// `tap-user-nic create`: a veth pair whose host end joins the bridge and whose peer is born in the caller's container.
// Phases admit, make, join, hand over (docs/containers.md, "What create does"); a pair made but not handed over is deleted by index.
import { randomBytes } from "node:crypto";
import type { ConsolaInstance } from "consola";
import { choosePolicyLine } from "../../policy/choose.ts";
import { describePolicyRule, type PolicyRule } from "../../policy/rules.ts";
import type { CallerIdentity } from "../../shared/caller.ts";
import type { ThreadCredentials } from "../../shared/credentials.ts";
import { StepError, SysError, systemReason } from "../../shared/errors.ts";
import { EEXIST } from "../../shared/errno.ts";
import { InterfaceControl } from "../../shared/netdev.ts";
import { deleteLink, describeLink, type LinkDescription, setBridgePortIsolated, setLinkAlias } from "../../shared/netlink.ts";
import { createVethPair, deleteLinkByIndex } from "../../shared/veth.ts";
import { hostEndName } from "../../usernet/host-name.ts";
import { vethAlias } from "../../usernet/marks.ts";
import type { UsernetLine } from "../../usernet/parse.ts";
import { NO_BRIDGE, type UserNicArgs } from "./args.ts";
import type { VethAuditRecord } from "./audit.ts";
import type { AuditTrail } from "../audit.ts";
import { identifyCaller, placesTaken, roomFor, takePlace, unknownNamesRefusal } from "../policy.ts";
import { chooseUsernetLine, readUsernet, recheckUsernetLine, usernetCaller } from "./charge.ts";
import { Deadline } from "../deadline.ts";
import { attempt } from "../attempt.ts";
import { admitProcessNamespace } from "./namespace.ts";

/** Who asks, and where create's decisions go. */
export type CreateContext = { uid: number; record: VethAuditRecord; trail: AuditTrail<VethAuditRecord>; log: ConsolaInstance };
/** bridge-policy.conf's lines and the caller as it matches them; null without a policy file. */
type PolicyRules = { rules: readonly PolicyRule[]; caller: CallerIdentity } | null;

/** bridge-policy.conf's line for the caller on the bridge (null: none applies) and the lowest of their places found free; null without a policy file or a bridge. */
type PolicyLine = { rule: PolicyRule | null; firstFree: number } | null;

/** The bridge the host end joins: its index and every name (the policy judges the device); null for `none`. */
type BridgeTarget = { name: string; index: number; names: string[] };
type Host = { index: number; name: string };
/** What admit found: the bridge, the lxc-usernet line charged, bridge-policy.conf's line. */
type Admitted = { bridge: BridgeTarget | null; line: UsernetLine; policy: PolicyLine };

function findBridge(control: InterfaceControl, bridge: string): BridgeTarget | null {
  if (bridge === NO_BRIDGE) return null;
  const link = attempt(`find bridge \`${bridge}'`, () => describeLink(control.index(bridge)));
  if (link.kind !== "bridge") throw new StepError(`failed to find bridge \`${bridge}': it is a ${link.kind ?? "device"}, not a bridge`);
  return { name: bridge, index: link.index, names: [link.name, ...link.altNames] };
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** make: the pair, retried under another random name when one is taken. */
function makePair(control: InterfaceControl, bridge: BridgeTarget | null, peerName: string, namespaceFd: number, uid: number): Host {
  const mtu = bridge === null ? null : attempt(`get mtu of bridge \`${bridge.name}'`, () => control.mtu(bridge.name));
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    // 4 random letters (62^4 names per uid), so that a freed name is not handed out again at once.
    const hostName = hostEndName(uid, [...randomBytes(4)].map((byte) => LETTERS[byte % LETTERS.length]).join(""));
    // An fe: MAC: the bridge keeps its own address, as it takes the lowest of its ports' when none was set.
    const hostMac = randomBytes(6);
    hostMac[0] = 0xfe;
    try {
      createVethPair({ hostName, hostMac, mtu, peerName, peerNamespaceFd: namespaceFd });
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      // EEXIST does not say which side's name is taken: when the host name is, another random one is tried.
      if (err.errno === EEXIST && attemptNumber < 3 && hostNameTaken(control, hostName)) continue;
      throw new StepError(`failed to create veth pair \`${hostName}' (peer \`${peerName}' in the container): ${systemReason(err)}`, {
        cause: err,
        hint: err.errno === EEXIST ? `the container may already have a device named ${peerName}: give another nicname` : "",
      });
    }
    try {
      return { index: control.index(hostName), name: hostName };
    } catch (err) {
      // Not yet known by index: deleted by the name it was just given (only CAP_NET_ADMIN renames a host device).
      deleteLink(hostName);
      throw err instanceof SysError ? new StepError(`failed to find device \`${hostName}': ${systemReason(err)}`, { cause: err }) : err;
    }
  }
}

function hostNameTaken(control: InterfaceControl, name: string): boolean {
  try {
    control.index(name);
    return true;
  } catch {
    return false;
  }
}

/** join: mark, place, bridge, the lxc-usernet count again, isolation, the grant line, up (last). */
function joinBridge(control: InterfaceControl, host: Host, { bridge, line, policy }: Admitted, context: CreateContext): void {
  attempt(`set alias of device \`${host.name}'`, () =>
    setLinkAlias(host.index, vethAlias({ uid: context.uid, subject: line.subject, bridge: bridge?.name ?? NO_BRIDGE })),
  );
  if (bridge !== null) {
    // Its place before the veth joins the bridge, as a TAP takes one (helper/policy.ts).
    if (policy !== null) takePlace(host, bridge, context.uid, policy.rule, policy.firstFree);
    attempt(`add interface \`${host.name}' to bridge \`${bridge.name}'`, () => control.addToBridge(bridge.name, host.name));
    const joined = attempt(`add interface \`${host.name}' to bridge \`${bridge.name}'`, () => describeLink(host.index));
    if (joined.master !== bridge.index) {
      throw new StepError(`failed to add interface \`${host.name}' to bridge \`${bridge.name}': the bridge was replaced meanwhile`, {
        hint: "run it again",
      });
    }
  }
  // Of creators racing for the last place, each counts with its own mark present: no more than COUNT are kept.
  recheckUsernetLine(line, bridge?.name ?? NO_BRIDGE, context.uid, host.index);
  // policy is null on no bridge.
  if (policy?.rule?.isolated === true) attempt(`isolate bridge port \`${host.name}'`, () => setBridgePortIsolated(host.index));
  // Before the port goes up: a caller who kills the program once it is up must not suppress the line.
  context.trail.grant(context.record);
  attempt(`bring up interface \`${host.name}'`, () => control.bringUp(host.name));
}

/**
 * admit: bridge-policy.conf's line for the caller on `bridge`, with room for one more port. A line that
 * binds its ports (`locked`, `ip=`) refuses a veth: a veth has no such binding, its port would be unfiltered.
 */
function admitPolicyLine(bridge: BridgeTarget | null, policy: PolicyRules, context: CreateContext): PolicyLine {
  if (bridge === null || policy === null) return null;
  const choice = choosePolicyLine(policy.rules, policy.caller, bridge.names);
  if (!choice.known) throw unknownNamesRefusal(choice, context.uid, bridge.name);
  const { rule } = choice;
  context.record.rule = rule;
  if (rule !== null && (rule.locked || rule.addresses !== null)) {
    throw new StepError(
      `access denied by policy file: rule ${describePolicyRule(rule)} binds each port (locked, ip=) on bridge ${bridge.name}, and tap-user-nic cannot bind a veth`,
      {
        hint: "an administrator gives containers' users a line without locked and ip= (bridge.conf(5)); or run the workload in a VM, whose TAP the line binds",
      },
    );
  }
  if (rule === null) return { rule, firstFree: 0 };
  const taken = attempt(`count the ports you hold on bridge \`${bridge.name}'`, () => placesTaken(bridge.index, context.uid, rule.maxTaps));
  return { rule, firstFree: roomFor(rule, bridge.name, taken).firstFree };
}

/** The peer as the container sees it: the host end's IFLA_LINK, read in the namespace IFLA_LINK_NETNSID names. */
function peerOf(host: Host): LinkDescription {
  const { link, linkNamespaceId } = attempt(`find the peer of \`${host.name}'`, () => describeLink(host.index));
  if (link === null || linkNamespaceId === null) {
    throw new StepError(`failed to find the peer of \`${host.name}': the kernel names no peer in another namespace`);
  }
  return attempt(`find the peer of \`${host.name}'`, () => describeLink(link, linkNamespaceId));
}

/**
 * The whole of `create`, with the policy file's lines as readPolicy() gave them; returns the line to print
 * (`eth0:IFINDEX:HOSTVETH:IFINDEX`). throws StepError.
 */
export function createVeth(
  args: Extract<UserNicArgs, { verb: "create" }>,
  credentials: ThreadCredentials,
  policyFile: PolicyRule[] | StepError | null,
  context: CreateContext,
): string {
  // The name service may never answer (an /etc/group that is a FIFO, a directory server that hangs): LXC would hang with it.
  // A pair made before the deadline is not persistent in the way a TAP's fd is: it stays, down and counted, until its container goes.
  const deadline = new Deadline({
    program: "tap-user-nic",
    waits: [
      "the name service to name your user and groups (getent passwd, getent group)",
      "the container's namespace, the bridge, the count of your veths or the pair",
    ],
    leftBehind: "no line was printed, and a veth already made stays counted against you until its container goes",
  });
  deadline.start();
  deadline.enter("the name service to name your user and groups (getent passwd, getent group)");
  const caller = usernetCaller(credentials);
  context.record.userName = caller.userName;
  if (policyFile instanceof StepError) throw policyFile;
  const policyRules = policyFile === null ? null : { rules: policyFile, caller: identifyCaller(credentials) };
  deadline.enter("the container's namespace, the bridge, the count of your veths or the pair");
  const usernetLines = readUsernet();
  const namespace = admitProcessNamespace(args.pid, context.uid);
  const control = attempt("open a control socket", () => new InterfaceControl());
  let unsent: number | null = null;
  try {
    if (args.type !== "veth") throw new StepError(`access denied: type ${args.type} is not one tap-user-nic makes (only veth)`);
    const bridge = findBridge(control, args.bridge);
    const line = chooseUsernetLine(usernetLines, caller, context.uid, args.bridge);
    context.record.usernetLine = line;
    const policy = admitPolicyLine(bridge, policyRules, context);
    const host = makePair(control, bridge, args.peerName, namespace.fd, context.uid);
    unsent = host.index;
    context.record.veth = host.name;
    joinBridge(control, host, { bridge, line, policy }, context);
    const peer = peerOf(host);
    namespace.confirmStillThere();
    unsent = null;
    return `${peer.name}:${peer.index}:${host.name}:${host.index}`;
  } finally {
    control.close();
    if (unsent !== null) deleteUnsent(unsent, context.log);
    namespace.close();
  }
}

/** Deletes a pair that was not handed over; a pair already gone (its namespace died) is no error. */
function deleteUnsent(index: number, log: ConsolaInstance): void {
  try {
    deleteLinkByIndex(index);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    if (err.code !== "ENODEV") log.warn(`failed to delete device ${index}: ${systemReason(err)}`);
  }
}
