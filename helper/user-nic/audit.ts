// tap-user-nic's audit trail: one line per decision to syslog (authpriv), as the TAP helper writes, with the device's kind.
import type { PolicyRule } from "../../policy/rules.ts";
import { systemReason } from "../../shared/errors.ts";
import { formatSyslogLine, LOG_AUTHPRIV, LOG_INFO, LOG_WARNING, sendToSyslog } from "../../shared/syslog.ts";
import type { UsernetLine } from "../../usernet/parse.ts";

/** What the helper knew of one request when it decided; filled in as the request goes. */
export interface VethAuditRecord {
  verb: "create" | "delete";
  userName: string | null;
  uid: number;
  bridge: string;
  /** The host end, once it exists (create) or is named (delete). */
  veth: string | null;
  /** The container's process (create) or namespace path (delete). */
  target: string;
  usernetLine: UsernetLine | null;
  /** bridge-policy.conf's line; null when none holds; undefined when not consulted. */
  rule: PolicyRule | null | undefined;
}

/** A value as written in the line: bare when plain printable ASCII, else quoted as JSON. */
function value(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) && !/["=\\]/.test(text) ? text : JSON.stringify(text);
}

/** `grant kind=veth verb=create user=alice uid=4101 bridge=br0 veth=vethab12cd34 target=PID usernet=@lab:2 rule=none`. */
export function vethAuditMessage(outcome: "grant" | "refuse", record: VethAuditRecord, reason?: string): string {
  const fields = [
    outcome,
    "kind=veth",
    `verb=${record.verb}`,
    `user=${record.userName === null ? "-" : value(record.userName)}`,
    `uid=${record.uid}`,
    `bridge=${value(record.bridge)}`,
    `veth=${record.veth ?? "-"}`,
    `target=${value(record.target)}`,
    `usernet=${record.usernetLine === null ? "-" : value(`${record.usernetLine.subject}:${record.usernetLine.line}`)}`,
    `rule=${record.rule === undefined ? "-" : record.rule === null ? "none" : value(`${record.rule.file}:${record.rule.line}`)}`,
  ];
  if (reason !== undefined) fields.push(`reason=${JSON.stringify(reason)}`);
  return fields.join(" ");
}

/** Writes one line when `enabled` (a policy file exists, as for TAPs); a failure is handed to `warn`, the decision stands. */
export function writeVethAudit(
  enabled: boolean,
  outcome: "grant" | "refuse",
  record: VethAuditRecord,
  warn: (message: string) => void,
  reason?: string,
): void {
  if (!enabled) return;
  const priority = LOG_AUTHPRIV | (outcome === "grant" ? LOG_INFO : LOG_WARNING);
  try {
    sendToSyslog(formatSyslogLine(priority, "tap-user-nic", process.pid, vethAuditMessage(outcome, record, reason), new Date()));
  } catch (err) {
    warn(`audit line not written to the system log: ${systemReason(err)}`);
  }
}
