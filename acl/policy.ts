// The shared-hosts policy language (bridge-policy.conf): per-subject TAP quotas, port isolation, queue limits, locked MACs, bound addresses (pure, no I/O).
import { type AddressPrefix, parsePrefixList } from "../policy/address-prefix.ts";
import { FileLineError, quoteLine } from "./syntax.ts";

/** A Linux bridge takes at most 1024 ports (BR_MAX_PORTS): a larger MAX could never bind. */
export const MAX_TAPS_LIMIT = 1024;
/** The most queues the helper gives one TAP (`--queues=`), and the limit when no line sets `queues=`. */
export const MAX_QUEUES = 16;
export const DEFAULT_MAX_QUEUES = 8;

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
  /** `locked`: the port forwards only frames from the MAC the request registers (--mac), which no other port can take. */
  locked: boolean;
  /** `ip=`: the only IPv4/IPv6 sources (and ARP/ND claims) the port's frames may carry, or null when the line does not bind them. */
  addresses: AddressPrefix[] | null;
  file: string;
  line: number;
  /** The line's fields joined by single spaces, for messages. */
  text: string;
}

/** The caller, as the policy matches subjects: their user name and the names of all their groups. */
export interface PolicyCaller {
  /** null when the uid has no name: only `@group` and `*` lines can then match. */
  userName: string | null;
  groupNames: readonly string[];
}

/** A line that cannot be read as the policy language; the whole policy is then refused (deny). */
export class PolicySyntaxError extends FileLineError {}

// The blanks of bridge.conf (g_ascii_isspace without the newline that ends a line).
const BLANKS = /[ \t\f\r]+/;
/** User and group names: printable ASCII without blanks, not starting with `@`, `#` or `-`. */
const NAME = /^[A-Za-z0-9_.][\x21-\x7e]{0,63}$/;
/** What the kernel's dev_valid_name() accepts, in printable ASCII (as the helper takes `--br`). */
const BRIDGE = /^[\x21-\x7e]{1,15}$/;

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
  if (!BRIDGE.test(field) || field === "." || field === ".." || /[/:%]/.test(field)) {
    reject(`invalid bridge ${quoteLine(field)}: expected a bridge name (at most 15 printable ASCII bytes) or all`);
  }
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
 * Parses a policy file's content: `SUBJECT BRIDGE MAX [isolated] [queues=N] [locked] [ip=PREFIX[,PREFIX...]]` per line, `#` comment
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
      locked: false,
      addresses: null,
      file,
      line,
      text: fields.join(" "),
    };
    for (const option of options) {
      if (option === "isolated" && !rule.isolated) rule.isolated = true;
      else if (option.startsWith("queues=") && rule.maxQueues === null) {
        rule.maxQueues = parseWholeNumber(option.slice("queues=".length), "queues", 1, MAX_QUEUES, reject);
      } else if (option === "locked" && !rule.locked) rule.locked = true;
      else if (option.startsWith("ip=") && rule.addresses === null) {
        const prefixes = parsePrefixList(option.slice("ip=".length));
        if (typeof prefixes === "string") reject(`invalid ip= ${quoteLine(option)}: ${prefixes}`);
        rule.addresses = prefixes as AddressPrefix[];
      } else if (["isolated", "locked"].includes(option) || /^(queues|ip)=/.test(option)) reject(`${option.split("=")[0]} given twice`);
      else reject(`unknown option ${quoteLine(option)}: expected isolated or queues=N or locked or ip=PREFIX[,PREFIX...]`);
    }
    const key = `${subjectKey(rule.subject)} ${rule.bridge ?? "all"}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) reject(`a second line for ${key} (the first is line ${earlier})`);
    seen.set(key, line);
    rules.push(rule);
  });
  return rules;
}

function subjectMatches(subject: PolicySubject, caller: PolicyCaller, kind: PolicySubject["kind"]): boolean {
  if (subject.kind !== kind) return false;
  if (subject.kind === "user") return subject.name === caller.userName;
  if (subject.kind === "group") return caller.groupNames.includes(subject.name);
  return true;
}

/**
 * The line that applies to `caller` on the bridge device known by `bridgeNames` (its canonical name
 * and altnames), or null when none does (no limit from the policy). The most specific subject wins
 * (user over @group over *), then, for that subject, a line naming the bridge over a line for `all`;
 * among several matching lines of one kind (the caller's groups, or names of one device), the largest
 * MAX, and of equal ones the first in the file.
 */
export function choosePolicyRule(rules: readonly PolicyRule[], caller: PolicyCaller, bridgeNames: readonly string[]): PolicyRule | null {
  for (const kind of ["user", "group", "anyone"] as const) {
    const forSubject = rules.filter((rule) => subjectMatches(rule.subject, caller, kind));
    const named = forSubject.filter((rule) => rule.bridge !== null && bridgeNames.includes(rule.bridge));
    const candidates = named.length > 0 ? named : forSubject.filter((rule) => rule.bridge === null);
    const chosen = candidates.reduce<PolicyRule | null>((best, rule) => (best === null || rule.maxTaps > best.maxTaps ? rule : best), null);
    if (chosen !== null) return chosen;
  }
  return null;
}

/** The most queues one TAP may have under `rule` (or with no rule). */
export function queueLimit(rule: PolicyRule | null): number {
  return rule?.maxQueues ?? DEFAULT_MAX_QUEUES;
}

/** `"@students br0 2 isolated" at /etc/qemu/bridge-policy.conf:3`, for messages and the audit trail. */
export function describePolicyRule(rule: PolicyRule): string {
  return `"${rule.text}" at ${rule.file}:${rule.line}`;
}
