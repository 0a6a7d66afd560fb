// The helper's audit trail: one line per decision, to syslog (authpriv, tag tap-bridge-helper), when a policy file exists.
import type { PolicyRule } from "../policy/rules.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { formatSyslogLine, LOG_AUTHPRIV, LOG_INFO, LOG_WARNING, sendToSyslog } from "../shared/syslog.ts";

/** What the helper knew of one request when it decided, from the results of the phases that ran. */
export interface AuditRecord {
  userName: string | null;
  uid: number;
  /** As asked for (`--br`); its canonical name once known. */
  bridge: string;
  tap: string | null;
  queues: number;
  /** The line that holds; null: none does; undefined: the policy was not consulted (an ACL refusal). */
  rule: PolicyRule | null | undefined;
  /** The caller's TAPs on the bridge, the new one included once it counts; null before they were counted. */
  held: number | null;
  mac: string | null;
  /** The prefixes the port's sources are bound to (the line's ip=), or null. */
  addresses: string[] | null;
}

/** A value as written in the line: bare when plain printable ASCII and not `-` (which stands for none), else quoted as JSON. */
export function value(text: string): string {
  return text !== "-" && /^[\x21-\x7e]+$/.test(text) && !/["=\\]/.test(text) ? text : JSON.stringify(text);
}

/** One line (bridge.conf(5), AUDIT, shows a grant); `mac=`, `ip=` and a refusal's `reason=` only when there is one. */
export function auditMessage(outcome: "grant" | "refuse", record: AuditRecord, reason?: string): string {
  const fields = [
    outcome,
    `user=${record.userName === null ? "-" : value(record.userName)}`,
    `uid=${record.uid}`,
    `bridge=${value(record.bridge)}`,
    `tap=${record.tap ?? "-"}`,
    `queues=${record.queues}`,
    `rule=${record.rule === undefined ? "-" : record.rule === null ? "none" : value(`${record.rule.file}:${record.rule.line}`)}`,
    `use=${record.held ?? "-"}/${record.rule === undefined ? "-" : record.rule === null ? "unlimited" : record.rule.maxTaps}`,
  ];
  if (record.mac !== null) fields.push(`mac=${record.mac}`);
  if (record.addresses !== null) fields.push(`ip=${value(record.addresses.join(","))}`);
  if (reason !== undefined) fields.push(`reason=${JSON.stringify(reason)}`);
  return fields.join(" ");
}

/** How one program writes its audit lines: its syslog tag, the device's kind (`TAP`, `veth`), a record's message and device. */
export interface AuditFormat<R> {
  tag: string;
  kind: string;
  message(outcome: "grant" | "refuse", record: R, reason?: string): string;
  device(record: R): string | null;
}

export const TAP_AUDIT: AuditFormat<AuditRecord> = { tag: "tap-bridge-helper", kind: "TAP", message: auditMessage, device: (r) => r.tap };

/** One request's trail, under a policy file (else it does nothing); when and why: docs/audit.md, "The promise". */
export class AuditTrail<R> {
  constructor(
    private readonly enabled: boolean,
    private readonly warn: (message: string) => void,
    private readonly format: AuditFormat<R>,
  ) {}

  /** throws StepError when the grant line could not be written: the caller then refuses, and deletes the device. */
  grant(record: R): void {
    const problem = this.write("grant", record);
    if (problem === null) return;
    throw new StepError(`failed to hand over device \`${this.format.device(record) ?? "-"}': ${problem}`, {
      hint: `the policy file requires a line in the system log for every ${this.format.kind} handed over: tell an administrator that the syslog daemon does not take lines (\`tap-launcher doctor\` checks it)`,
    });
  }

  /** A refusal stands whether or not its line is written: a failure is only warned of. */
  refuse(record: R, reason: string): void {
    const problem = this.write("refuse", record, reason);
    if (problem !== null) this.warn(problem);
  }

  /** null when written, disabled, or the host has no system log; else why not (/dev/log stayed full, or refused it). */
  private write(outcome: "grant" | "refuse", record: R, reason?: string): string | null {
    if (!this.enabled) return null;
    const priority = LOG_AUTHPRIV | (outcome === "grant" ? LOG_INFO : LOG_WARNING);
    try {
      sendToSyslog(formatSyslogLine(priority, this.format.tag, process.pid, this.format.message(outcome, record, reason), new Date()));
      return null;
    } catch (err) {
      if (err instanceof SysError) return `audit line not written to the system log: ${systemReason(err)}`;
      throw err;
    }
  }
}
