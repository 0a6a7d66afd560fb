// `tap-launcher doctor`: one screen of checks, each with what to fix.
import { defineCommand } from "citty";
import { ACL_FILE, POLICY_FILE } from "../../acl/files.ts";
import {
  checkAcl,
  checkHelper,
  checkNoNewPrivs,
  checkPolicy,
  checkSystemLog,
  checkQemuDefaultHelper,
  checkStrandedTaps,
  checkTunDevice,
  checkVhostNet,
  listBridges,
  type Finding,
  type Severity,
} from "../doctor.ts";
import { defaultHelper } from "../layout.ts";
import { loggerFor, verbosityArgs } from "../cli.ts";

/** The word each finding's line starts with, exactly once: the logger writes `warning: ` itself. */
const LABEL: Record<Severity, string> = { ok: "ok: ", warn: "", error: "ERROR: ", critical: "CRITICAL: " };

export const doctor = defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check /dev/net/tun, /dev/vhost-net, the installed helper and its mode, no_new_privs, what the ACL allows you, your limits and TAPs in use under the policy, (as root) the bridges' addresses, and multiqueue TAPs a killed helper left; say what to fix",
  },
  args: {
    helper: { type: "string", valueHint: "CMD", description: "The helper to check (default: the installed one)" },
    ...verbosityArgs,
  },
  run({ args }) {
    const log = loggerFor(args);
    const uid = process.getuid?.() ?? -1;
    const bridges = listBridges();
    // The ACL is read once: its decisions are reported here and give the bridges the policy check covers.
    const acl = checkAcl(ACL_FILE, bridges, uid === 0);
    const helper = args.helper ?? defaultHelper();
    const findings: Finding[] = [
      checkTunDevice(),
      checkVhostNet(),
      ...checkHelper(helper),
      ...checkQemuDefaultHelper(helper),
      ...checkNoNewPrivs(uid),
      ...acl.findings,
      ...checkPolicy(POLICY_FILE, acl.allowed),
      ...checkSystemLog(POLICY_FILE),
      ...checkStrandedTaps(),
    ];
    for (const finding of findings) {
      const line = `${LABEL[finding.severity]}${finding.subject}: ${finding.message}${finding.fix ? ` -- fix: ${finding.fix}` : ""}`;
      if (finding.severity === "ok") log.success(line);
      else if (finding.severity === "warn") log.warn(line);
      else log.error(line);
    }
    const bad = findings.filter((finding) => finding.severity === "error" || finding.severity === "critical").length;
    if (bad > 0) process.exitCode = 1;
    log.info(bad === 0 ? "nothing to fix" : `${bad} problem${bad === 1 ? "" : "s"} to fix`);
  },
});
