// The helper's audit trail: one line per decision, to syslog (authpriv, tag tap-bridge-helper), when a policy file exists.
import type { PolicyRule } from "../policy/rules.ts";
import { systemReason } from "../shared/errors.ts";
import { formatSyslogLine, LOG_AUTHPRIV, LOG_INFO, LOG_WARNING, sendToSyslog } from "../shared/syslog.ts";

/** What the helper knew of one request when it decided, from the results of the phases that ran. */
export interface AuditRecord {
  userName: string | null;
  uid: number;
  /** The bridge as asked for (`--br`); its canonical name once known. */
  bridge: string;
  tap: string | null;
  queues: number;
  /** The policy line that holds; null when none does; undefined before the policy was consulted (an ACL refusal). */
  rule: PolicyRule | null | undefined;
  /** The caller's TAPs on the bridge, the new one included once it counts; null before they were counted. */
  held: number | null;
}

/** A value as written in the line: bare when plain printable ASCII, else quoted as JSON. */
function value(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) && !/["=\\]/.test(text) ? text : JSON.stringify(text);
}

/** `grant user=alice uid=4101 bridge=br0 tap=tap3 queues=1 rule=/etc/qemu/bridge-policy.conf:2 use=1/2` (refusals add reason=). */
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
  if (reason !== undefined) fields.push(`reason=${JSON.stringify(reason)}`);
  return fields.join(" ");
}

/**
 * Writes the line to syslog. A missing /dev/log is not an error; any other failure is returned as a
 * sentence for a warning (the decision stands: the TAP is already handed over, or refused).
 */
export function writeAuditLine(outcome: "grant" | "refuse", record: AuditRecord, reason?: string): string | null {
  const priority = LOG_AUTHPRIV | (outcome === "grant" ? LOG_INFO : LOG_WARNING);
  try {
    sendToSyslog(formatSyslogLine(priority, "tap-bridge-helper", process.pid, auditMessage(outcome, record, reason), new Date()));
    return null;
  } catch (err) {
    return `audit line not written to the system log: ${systemReason(err)}`;
  }
}

/**
 * The audit trail of one request: `grant` just before the fds are sent (a caller that kills the
 * helper once it has them must not suppress the line), `refuse` for any refusal or failure, also one
 * after a grant whose fds could not be sent. Does nothing without a policy file.
 */
export class AuditTrail {
  constructor(
    private readonly enabled: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  grant(record: AuditRecord): void {
    this.#write("grant", record);
  }

  refuse(record: AuditRecord, reason: string): void {
    this.#write("refuse", record, reason);
  }

  #write(outcome: "grant" | "refuse", record: AuditRecord, reason?: string): void {
    if (!this.enabled) return;
    const problem = writeAuditLine(outcome, record, reason);
    if (problem !== null) this.warn(problem);
  }
}
