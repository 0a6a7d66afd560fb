// The shared-hosts policy language (bridge-policy.conf): per-subject TAP quotas, port isolation, queue limits (pure, no I/O).
import { FileLineError, quoteLine } from "../shared/config-line.ts";
import { interfaceNameProblem } from "../shared/ifname.ts";
import { MAX_QUEUES } from "./verdicts.ts";

/** A Linux bridge takes at most 1024 ports (BR_MAX_PORTS): a larger MAX could never bind. */
const MAX_TAPS_LIMIT = 1024;

export type PolicySubject = { kind: "user"; name: string } | { kind: "group"; name: string } | { kind: "anyone" };

export interface PolicyRule {
  subject: PolicySubject;
  /** The bridge the line names, or null for `all`. */
  bridge: string | null;
  /** The most TAPs the subject may hold on the bridge at once; 0 forbids any. */
  maxTaps: number;
  /** Whether the helper turns on the port's isolation flag. */
  isolated: boolean;
  /** The most queues one TAP may have, or null when the line does not say (DEFAULT_MAX_QUEUES). */
  maxQueues: number | null;
  file: string;
  line: number;
  /** The line's fields joined by single spaces, for messages. */
  text: string;
}

/** A line that cannot be read as the policy language; the whole policy is then refused (deny). */
export class PolicySyntaxError extends FileLineError {}

// The blanks of bridge.conf (g_ascii_isspace without the newline that ends a line).
const BLANKS = /[ \t\f\r]+/;
/** User and group names: printable ASCII without blanks, not starting with `@`, `#` or `-`. */
const NAME = /^[A-Za-z0-9_.][\x21-\x7e]{0,63}$/;

function parseSubject(field: string, reject: (problem: string) => never): PolicySubject {
  if (field === "*") return { kind: "anyone" };
  const group = field.startsWith("@");
  const name = group ? field.slice(1) : field;
  if (!NAME.test(name)) {
    reject(`invalid subject ${quoteLine(field)}: expected a user name, @group or *`);
  }
  return group ? { kind: "group", name } : { kind: "user", name };
}

function parseBridge(field: string, reject: (problem: string) => never): string | null {
  if (field === "all") return null;
  // The one name rule the helper applies to `--br` too.
  const problem = interfaceNameProblem(field);
  if (problem !== null)
    reject(`invalid bridge ${quoteLine(field)}: expected a bridge name (at most 15 printable ASCII bytes) or all (${problem})`);
  return field;
}

function parseWholeNumber(field: string, what: string, low: number, high: number, reject: (problem: string) => never): number {
  if (!/^[0-9]{1,5}$/.test(field) || Number(field) < low || Number(field) > high) {
    reject(`invalid ${what} ${quoteLine(field)}: expected a whole number from ${low} to ${high}`);
  }
  return Number(field);
}

const subjectKey = (subject: PolicySubject): string =>
  subject.kind === "anyone" ? "*" : `${subject.kind === "group" ? "@" : ""}${subject.name}`;

/**
 * Parses a policy file's content: `SUBJECT BRIDGE MAX [isolated] [queues=N]` per line, `#` comment
 * lines and blank lines skipped, blanks between fields. Two lines for the same subject and bridge
 * are an error: which one holds would otherwise depend on their order.
 * throws PolicySyntaxError at the first line that is not of that form.
 */
export function parsePolicyText(content: Uint8Array, file: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const seen = new Map<string, number>();
  const lines = Buffer.from(content).toString("latin1").split("\n");
  lines.forEach((raw, index) => {
    const line = index + 1;
    const reject = (problem: string): never => {
      throw new PolicySyntaxError(file, line, problem);
    };
    const fields = raw.split(BLANKS).filter((field) => field.length > 0);
    if (fields.length === 0 || fields[0]?.startsWith("#")) return;
    if (raw.includes("\0") || raw.includes("\v")) reject("a NUL or vertical tab byte in the line");
    const [subjectField = "", bridgeField, maxField, ...options] = fields;
    if (bridgeField === undefined || maxField === undefined) {
      reject(`invalid line ${quoteLine(fields.join(" "))}: expected SUBJECT BRIDGE MAX [isolated] [queues=N]`);
    }
    const rule: PolicyRule = {
      subject: parseSubject(subjectField, reject),
      bridge: parseBridge(bridgeField ?? "", reject),
      maxTaps: parseWholeNumber(maxField ?? "", "MAX", 0, MAX_TAPS_LIMIT, reject),
      isolated: false,
      maxQueues: null,
      file,
      line,
      text: fields.join(" "),
    };
    for (const option of options) {
      if (option === "isolated" && !rule.isolated) rule.isolated = true;
      else if (option.startsWith("queues=") && rule.maxQueues === null) {
        rule.maxQueues = parseWholeNumber(option.slice("queues=".length), "queues", 1, MAX_QUEUES, reject);
      } else if (option === "isolated" || option.startsWith("queues=")) reject(`${option.split("=")[0]} given twice`);
      else reject(`unknown option ${quoteLine(option)}: expected isolated or queues=N`);
    }
    const key = `${subjectKey(rule.subject)} ${rule.bridge ?? "all"}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) reject(`a second line for ${key} (the first is line ${earlier})`);
    seen.set(key, line);
    rules.push(rule);
  });
  return rules;
}

/** `"@students br0 2 isolated" at /etc/qemu/bridge-policy.conf:3`, for messages and the audit trail. */
export function describePolicyRule(rule: PolicyRule): string {
  return `"${rule.text}" at ${rule.file}:${rule.line}`;
}
