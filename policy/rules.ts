// The shared-hosts policy language (bridge-policy.conf): per-subject TAP quotas, port isolation, queue limits, locked MACs, bound addresses (pure, no I/O).
import { FileLineError, quoteLine } from "../shared/config-line.ts";
import { interfaceNameProblem } from "../shared/ifname.ts";
import { type AddressPrefix, parsePrefixList } from "./address-prefix.ts";
import { MOST_PLACES } from "./holders.ts";
import { isDecimal, latin1Text } from "../shared/text.ts";
import { MAX_QUEUES } from "./verdicts.ts";

export type PolicySubject = { kind: "user"; name: string } | { kind: "group"; name: string } | { kind: "anyone" };

export interface PolicyRule {
  subject: PolicySubject;
  /** The bridge the line names, or null for `all`. */
  bridge: string | null;
  /** The most TAPs the subject may hold on the bridge at once; 0 forbids any. */
  maxTaps: number;
  isolated: boolean;
  /** The most queues one TAP may have, or null when the line does not say (queueLimit). */
  maxQueues: number | null;
  /** The port forwards only frames from the MAC the request registers (--mac), which no other port can take. */
  locked: boolean;
  /** `ip=`: the only IPv4/IPv6 sources (and ARP/ND claims) the port's frames may carry, or null. */
  addresses: AddressPrefix[] | null;
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
  if (!NAME.test(name)) reject(`invalid subject ${quoteLine(field)}: expected a user name, @group or *`);
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
  if (field.length > 5 || !isDecimal(field) || Number(field) < low || Number(field) > high)
    reject(`invalid ${what} ${quoteLine(field)}: expected a whole number from ${low} to ${high}`);
  return Number(field);
}

/**
 * Parses `SUBJECT BRIDGE MAX [isolated] [queues=N] [locked] [ip=PREFIX[,...]]` lines. throws PolicySyntaxError at the
 * first line not of that form, or a second one for a subject and bridge: which held would depend on their order.
 */
export function parsePolicyText(content: Uint8Array, file: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const seen = new Map<string, number>();
  for (const [index, raw] of latin1Text(content).split("\n").entries()) {
    const line = index + 1;
    const reject = (problem: string): never => {
      throw new PolicySyntaxError(file, line, problem);
    };
    const fields = raw.split(BLANKS).filter((field) => field.length > 0);
    if (fields.length === 0 || fields[0]?.startsWith("#")) continue;
    if (raw.includes("\0") || raw.includes("\v")) reject("a NUL or vertical tab byte in the line");
    const [subjectField = "", bridgeField, maxField, ...options] = fields;
    if (bridgeField === undefined || maxField === undefined)
      reject(`invalid line ${quoteLine(fields.join(" "))}: expected SUBJECT BRIDGE MAX [isolated] [queues=N]`);
    const rule: PolicyRule = {
      subject: parseSubject(subjectField, reject),
      bridge: parseBridge(bridgeField ?? "", reject),
      maxTaps: parseWholeNumber(maxField ?? "", "MAX", 0, MOST_PLACES, reject),
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
    const key = `${subjectField} ${bridgeField}`; // as written: both were checked above
    const earlier = seen.get(key);
    if (earlier !== undefined) reject(`a second line for ${key} (the first is line ${earlier})`);
    seen.set(key, line);
    rules.push(rule);
  }
  return rules;
}

/** `"@students br0 2 isolated" at /etc/qemu/bridge-policy.conf:3`, for messages and the audit trail. */
export function describePolicyRule(rule: PolicyRule): string {
  return `"${rule.text}" at ${rule.file}:${rule.line}`;
}
