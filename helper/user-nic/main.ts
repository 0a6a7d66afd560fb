// tap-user-nic: a drop-in for LXC's lxc-user-nic; makes (create) or removes (delete) a container's veth on a bridge, as lxc-usernet and the policy allow.
// Exit status: 0 done (create printed `NICNAME:IFINDEX:HOSTVETH:IFINDEX`, the one line LXC and rootlesskit parse); 1 anything
// else, with stdout left empty. It runs as its caller with CAP_NET_ADMIN alone (the shim).
import { StepError, SysError, UsageError, systemReason } from "../../shared/errors.ts";
import { createLogger, reportStepError, writeText } from "../../shared/log.ts";
import { AuditTrail } from "../audit.ts";
import { readPolicy } from "../policy.ts";
import { verifiedCredentials } from "../privilege.ts";
import { parseUserNicArgv, USER_NIC_USAGE, type UserNicArgs } from "./args.ts";
import { VETH_AUDIT, type VethAuditRecord } from "./audit.ts";
import { createVeth } from "./create.ts";
import { deleteVeth } from "./delete.ts";

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
    if (args.verb === "delete") deleteVeth(args, record.uid, record, trail);
    else writeText(1, `${createVeth(args, credentials, policy, { uid: record.uid, record, trail, log })}\n`);
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
