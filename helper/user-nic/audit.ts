// tap-user-nic's audit trail: one line per decision to syslog (authpriv), as the TAP helper writes, with the device's kind.
import { type AuditFormat, type AuditRecord, value } from "../audit.ts";
import type { UsernetLine } from "../../usernet/parse.ts";

/** What the helper knew when it decided, filled in as the request goes; the fields the TAP's record has mean the same. */
export type VethAuditRecord = Pick<AuditRecord, "userName" | "uid" | "bridge" | "rule"> & {
  verb: "create" | "delete";
  veth: string | null;
  target: string;
  usernetLine: UsernetLine | null;
};

/** The AuditTrail's lines: `grant kind=veth verb=create user=alice uid=4101 bridge=br0 veth=X target=pid:N usernet=@lab:2 rule=none`. */
export const VETH_AUDIT: AuditFormat<VethAuditRecord> = {
  tag: "tap-user-nic",
  kind: "veth",
  message: (outcome, record, reason) => {
    const fields = [
      outcome,
      "kind=veth",
      `verb=${record.verb}`,
      `user=${record.userName === null ? "-" : value(record.userName)}`,
      `uid=${record.uid}`,
      `bridge=${value(record.bridge)}`,
      `veth=${record.veth === null ? "-" : value(record.veth)}`,
      `target=${value(record.target)}`,
      `usernet=${record.usernetLine === null ? "-" : value(`${record.usernetLine.subject}:${record.usernetLine.line}`)}`,
      `rule=${record.rule === undefined ? "-" : record.rule === null ? "none" : value(`${record.rule.file}:${record.rule.line}`)}`,
    ];
    if (reason !== undefined) fields.push(`reason=${JSON.stringify(reason)}`);
    return fields.join(" ");
  },
  device: (record) => record.veth,
};
