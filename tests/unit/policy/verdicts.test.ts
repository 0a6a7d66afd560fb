// The policy's verdicts as data: the quota against what is held, the queue limit, and the one queue-count parser.
import { describe, expect, test } from "bun:test";
import { parsePolicyText, type PolicyRule } from "../../../policy/rules.ts";
import { MAX_QUEUES, parseQueueCount, queueVerdict, quotaVerdict } from "../../../policy/verdicts.ts";

const FILE = "/etc/qemu/bridge-policy.conf";
const rule = (line: string): PolicyRule => {
  const [parsed] = parsePolicyText(Buffer.from(line), FILE);
  if (parsed === undefined) throw new Error(`no rule in ${line}`);
  return parsed;
};

describe("quota", () => {
  test("room while fewer are held than the limit; none at the limit; none ever with MAX 0", () => {
    const two = rule("alice br0 2");
    expect(quotaVerdict(two, [])).toEqual({ rule: two, limit: 2, held: [], allowed: true });
    expect(quotaVerdict(two, ["tap0"]).allowed).toBe(true);
    expect(quotaVerdict(two, ["tap0", "tap1"])).toEqual({ rule: two, limit: 2, held: ["tap0", "tap1"], allowed: false });
    expect(quotaVerdict(two, ["tap0", "tap1", "tap2"]).allowed).toBe(false);
    expect(quotaVerdict(rule("alice br0 0"), []).allowed).toBe(false);
  });
});

describe("queues", () => {
  test("the line's queues= is the limit; 1 without it or without a line", () => {
    const four = rule("alice br0 1 queues=4");
    expect(queueVerdict(four, 4)).toEqual({ rule: four, limit: 4, asked: 4, allowed: true });
    expect(queueVerdict(four, 5)).toEqual({ rule: four, limit: 4, asked: 5, allowed: false });
    expect(queueVerdict(rule("alice br0 1"), 1).allowed).toBe(true);
    expect(queueVerdict(rule("alice br0 1"), 2).allowed).toBe(false);
    expect(queueVerdict(null, 1).allowed).toBe(true);
    expect(queueVerdict(null, 2)).toEqual({ rule: null, limit: 1, asked: 2, allowed: false });
  });

  test("one parser for every --queues: whole numbers from 1 to MAX_QUEUES, nothing else", () => {
    expect(MAX_QUEUES).toBe(16);
    expect(["1", "2", "16", "01"].map(parseQueueCount)).toEqual([1, 2, 16, 1]);
    expect(["0", "17", "", "1.5", "+2", " 2", "2 ", "0x2", "100", "-1", "１"].map(parseQueueCount)).toEqual(Array(11).fill(null));
  });
});
