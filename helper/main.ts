// tap-bridge-helper: check the ACL, create a TAP, configure it like the bridge, attach it, send its fd.
// Exit 0 only once the TAP fd was sent over --fd (else QEMU would take fd 0 for the TAP), or for a lone --help (QEMU
// always passes --fd); else 1. Four phases, a file each, build one Port (port.ts; docs/privileged-core.md): admit.ts,
// make-tap.ts, join.ts, hand-over.ts.
import type { ConsolaInstance } from "consola";
import type { CallerIdentity } from "../shared/caller.ts";
import type { ThreadCredentials } from "../shared/credentials.ts";
import { StepError, UsageError } from "../shared/errors.ts";
import { formatMac } from "../shared/ifreq.ts";
import { isTerminal } from "../shared/libc.ts";
import { createLogger, reportStepError, writeText } from "../shared/log.ts";
import { InterfaceControl } from "../shared/netdev.ts";
import { VERSION } from "../shared/version.ts";
import { type Admission, admit } from "./admit.ts";
import { HELPER_USAGE_LINE, helperUsage, parseHelperArgv, type HelperArgs } from "./args.ts";
import { attempt } from "./attempt.ts";
import { type AuditRecord, AuditTrail, TAP_AUDIT } from "./audit.ts";
import { handOverTap, type TapOwner } from "./hand-over.ts";
import { type Joined, joinBridge } from "./join.ts";
import { makeTap } from "./make-tap.ts";
import { admitGuestMac, bindGuestPort, portTakesVnetHeader } from "./port-binding.ts";
import { identifyCaller, PolicyRefusal, readPolicy } from "./policy.ts";
import { Port } from "./port.ts";
import { Deadline, HELPER_DEADLINE } from "./deadline.ts";
import { verifiedCredentials } from "./privilege.ts";
import { checkCallerSocket } from "./socket.ts";

/** A request the helper will serve, who made it, and the results of the phases that ran (the audit record's source). */
type Request = { args: HelperArgs; owner: TapOwner; credentials: ThreadCredentials };
type Results = { caller: CallerIdentity | null; admission: Admission | null; joined: Joined | null };

async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = 1;
  const deadline = new Deadline(HELPER_DEADLINE);
  const log = createLogger("tap-bridge-helper");
  const request = await readRequest(argv, log);
  if (request === null) return;
  const { args, owner } = request;
  // With a policy file, also one that cannot be read or parsed, every decision is audited.
  deadline.enter("the policy file to be read");
  const policy = readPolicy();
  if (policy !== null) deadline.start();
  const trail = new AuditTrail(policy !== null, (message) => log.warn(message), TAP_AUDIT);
  const port = new Port();
  const results: Results = { caller: null, admission: null, joined: null };
  let control: InterfaceControl | null = null;
  try {
    // Before any name-service lookup, which may open a socket at a number the caller left free (sssd's client does).
    checkCallerSocket(args.socketFd);
    deadline.enter("the name service to name your user and groups (getent passwd, getent group)");
    const caller = policy === null ? null : identifyCaller(request.credentials);
    results.caller = caller;
    if (policy instanceof StepError) throw policy;
    const host = policy === null || caller === null ? null : { rules: policy, caller };
    deadline.enter("the bridge, the ACL or the count of your TAPs");
    control = attempt("open a control socket", () => new InterfaceControl());
    results.admission = admit(args, host, control, log);
    const admission = results.admission;
    admitGuestMac(admission, args.mac, control);
    deadline.enter("the TAP to be made");
    const useVnet = args.useVnet && portTakesVnetHeader(admission);
    const rootHeld = makeTap(port, { queues: args.queues, useVnet, uid: owner.uid }, admission, control, log);
    deadline.enter("the TAP to join the bridge");
    results.joined = joinBridge(port, admission, control);
    bindGuestPort(port, admission, args.mac);
    deadline.enter("the fd to be handed over");
    handOverTap(port, rootHeld, owner, args.socketFd, control, () => trail.grant(auditRecord(request, results, port)));
    process.exitCode = 0;
  } catch (err) {
    if (!(err instanceof StepError)) throw err;
    reportStepError(log, err);
    trail.refuse(auditRecord(request, results, port, err), err.message);
  } finally {
    port.release(log, control);
  }
}

/** The audit record of the request from what the phases found; a policy refusal adds the facts it was decided on. */
function auditRecord(request: Request, results: Results, port: Port, refusal?: StepError): AuditRecord {
  const { admission, joined, caller } = results;
  const facts = refusal instanceof PolicyRefusal ? refusal.facts : null;
  // undefined: the policy was not consulted (refused before, by the ACL or a failed step).
  const rule = facts !== null ? facts.rule : admission === null ? undefined : (admission.policy?.rule ?? null);
  return {
    userName: caller?.userName ?? null,
    uid: request.owner.uid,
    bridge: facts?.bridge ?? admission?.bridge ?? request.args.bridge,
    tap: port.name,
    queues: request.args.queues,
    rule,
    held: facts !== null ? facts.held : (joined?.held ?? admission?.policy?.held ?? null),
    mac: request.args.mac === null ? null : formatMac(request.args.mac),
    addresses: rule?.addresses?.map((prefix) => prefix.text) ?? null,
  };
}

/** The request, once the helper holds only what it needs; null when answered (--help, --version) or refused, having said so. */
async function readRequest(argv: readonly string[], log: ConsolaInstance): Promise<Request | null> {
  const credentials = verifiedCredentials(log);
  if (credentials === null) return null;
  let args: HelperArgs | "help" | "version";
  try {
    args = parseHelperArgv(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.error(err.message);
    log.info(HELPER_USAGE_LINE);
    return null;
  }
  if (args === "help" || args === "version") {
    writeText(1, `${args === "help" ? await helperUsage(isTerminal(1)) : VERSION}\n`);
    process.exitCode = 0;
    return null;
  }
  return { args, owner: { uid: credentials.uids[0] ?? -1, gid: credentials.gids[0] ?? -1 }, credentials };
}

// Not awaited at top level, so that the module compiles to bytecode (which top-level await prevents).
void main(process.argv.slice(2));
