// tap-user-nic: a drop-in for LXC's lxc-user-nic; makes (create) or removes (delete) a container's veth on a bridge, as lxc-usernet and the policy allow.
// Exit status: 0 done (create printed `NICNAME:IFINDEX:HOSTVETH:IFINDEX`, the one line LXC and rootlesskit parse); 1 anything
// else, with stdout left empty. It runs as its caller with CAP_NET_ADMIN alone (the shim).
import type { ThreadCredentials } from "../../shared/credentials.ts";
import { StepError, SysError, UsageError, systemReason } from "../../shared/errors.ts";
import { createLogger, reportStepError, writeText } from "../../shared/log.ts";
import { AuditTrail } from "../audit.ts";
import { Deadline } from "../deadline.ts";
import { identifyCaller, readPolicy } from "../policy.ts";
import { verifiedCredentials } from "../privilege.ts";
import { parseUserNicArgv, USER_NIC_USAGE, type UserNicArgs } from "./args.ts";
import { VETH_AUDIT, type VethAuditRecord } from "./audit.ts";
import { readUsernet, usernetCaller } from "./charge.ts";
import { type CreateContext, createVeth } from "./create.ts";
import { deleteVeth } from "./delete.ts";

type Request = Pick<CreateContext, "uid" | "record" | "trail" | "log">;

/** Runs the verb with the policy file's lines (see readPolicy); returns the line create prints, or null for delete. throws StepError. */
function run(args: UserNicArgs, credentials: ThreadCredentials, policy: ReturnType<typeof readPolicy>, context: Request): string | null {
  if (args.verb === "delete") {
    deleteVeth(args, context.uid, context.record, context.trail);
    return null;
  }
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
  if (policy instanceof StepError) throw policy;
  const rules = policy === null ? null : { rules: policy, caller: identifyCaller(credentials) };
  deadline.enter("the container's namespace, the bridge, the count of your veths or the pair");
  return createVeth(args, { ...context, usernetCaller: caller, usernetLines: readUsernet(), policy: rules });
}

function main(argv: readonly string[]): void {
  process.exitCode = 1;
  const log = createLogger("tap-user-nic");
  const credentials = verifiedCredentials(log);
  if (credentials === null) return;
  let args: UserNicArgs;
  try {
    args = parseUserNicArgv(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.error(err.message);
    writeText(2, `${USER_NIC_USAGE}\n`);
    return;
  }
  const record: VethAuditRecord = {
    verb: args.verb,
    userName: null,
    uid: credentials.uids[0] ?? -1,
    bridge: args.bridge,
    veth: null,
    target: args.verb === "create" ? `pid:${args.pid}` : args.namespacePath,
    usernetLine: null,
    rule: undefined,
  };
  // As for TAPs: with a policy file (also one that cannot be read) every decision is audited.
  const policy = readPolicy();
  const trail = new AuditTrail(policy !== null, (message) => log.warn(message), VETH_AUDIT);
  try {
    const line = run(args, credentials, policy, { uid: record.uid, record, trail, log });
    if (line !== null) writeText(1, `${line}\n`);
    process.exitCode = 0;
  } catch (err) {
    const step = err instanceof SysError ? new StepError(`failed to ${args.verb} veth: ${systemReason(err)}`, { cause: err }) : err;
    if (!(step instanceof StepError)) throw err;
    reportStepError(log, step);
    const cause = step.cause instanceof Error ? `${step.message} (${step.cause.message})` : step.message;
    trail.refuse(record, cause);
  }
}

main(process.argv.slice(2));
