// The policy language: each field and option, malformed lines with file:line, and which line holds for whom.
import { describe, expect, test } from "bun:test";
import { choosePolicyLine, type PolicyCaller } from "../../../policy/choose.ts";
import { parsePolicyText, PolicySyntaxError } from "../../../policy/rules.ts";
import { queueLimit } from "../../../policy/verdicts.ts";
import { placeName, placesHeld } from "../../../policy/holders.ts";

const FILE = "/etc/qemu/bridge-policy.conf";
const parse = (text: string) => parsePolicyText(Buffer.from(text, "latin1"), FILE);
const ALICE: PolicyCaller = { userName: "alice", groupNames: ["alice", "lab", "staff"] };

function chosen(text: string, caller: PolicyCaller = ALICE, bridgeNames = ["br0"]): string | null {
  const choice = choosePolicyLine(parse(text), caller, bridgeNames);
  return choice.known ? (choice.rule?.text ?? null) : "unknown";
}

describe("parsing", () => {
  test("every field and option, comments, blank lines, blanks between fields, CRLF", () => {
    const rules = parse("# lab\n\n  alice\tbr0  2 isolated queues=4\r\n@lab all 0\n* br1 1024 queues=1 isolated\n");
    expect(
      rules.map(({ subject, bridge, maxTaps, isolated, maxQueues, line }) => ({ subject, bridge, maxTaps, isolated, maxQueues, line })),
    ).toEqual([
      { subject: { kind: "user", name: "alice" }, bridge: "br0", maxTaps: 2, isolated: true, maxQueues: 4, line: 3 },
      { subject: { kind: "group", name: "lab" }, bridge: null, maxTaps: 0, isolated: false, maxQueues: null, line: 4 },
      { subject: { kind: "anyone" }, bridge: "br1", maxTaps: 1024, isolated: true, maxQueues: 1, line: 5 },
    ]);
    expect(rules[0]?.text).toBe("alice br0 2 isolated queues=4");
  });

  test("queues= sets the queue limit; without it the limit is 1 (several queues only where a line grants them)", () => {
    expect(queueLimit(parse("alice br0 1 queues=16")[0] ?? null)).toBe(16);
    expect(queueLimit(parse("alice br0 1")[0] ?? null)).toBe(1);
    expect(queueLimit(null)).toBe(1);
  });

  for (const [line, problem] of [
    ["alice", /expected SUBJECT BRIDGE MAX/],
    ["alice br0", /expected SUBJECT BRIDGE MAX/],
    ["alice br0 x", /invalid MAX "x": expected a whole number from 0 to 1024/],
    ["alice br0 -1", /invalid MAX "-1"/],
    ["alice br0 1025", /invalid MAX "1025"/],
    ["alice br0 2.5", /invalid MAX "2.5"/],
    ["alice br0 2 isolated isolated", /isolated given twice/],
    ["alice br0 2 queues=0", /invalid queues "0": expected a whole number from 1 to 16/],
    ["alice br0 2 queues=17", /invalid queues "17"/],
    ["alice br0 2 queues=2 queues=3", /queues given twice/],
    ["alice br0 2 shared", /unknown option "shared": expected isolated or queues=N/],
    ["alice br0 2 # comment", /unknown option "#"/],
    ["@ br0 2", /invalid subject "@"/],
    ["-alice br0 2", /invalid subject "-alice"/],
    ["alice averyveryverylongbridge 2", /invalid bridge "averyveryverylongbridge"/],
    ["alice br/0 2", /invalid bridge "br\/0"/],
    ["alice br%d 2", /invalid bridge "br%d"/],
    ["al\u00e9 br0 2", /invalid subject/],
  ] as const) {
    test(`malformed: ${JSON.stringify(line)} names file and line`, () => {
      const text = `# first\n${line}\n`;
      expect(() => parse(text)).toThrow(PolicySyntaxError);
      expect(() => parse(text)).toThrow(new RegExp(`^${FILE}:2: `));
      expect(() => parse(text)).toThrow(problem);
    });
  }

  test("two lines for the same subject and bridge are an error, naming both lines", () => {
    expect(() => parse("alice br0 1\n@lab br0 2\nalice br0 3\n")).toThrow(`${FILE}:3: a second line for alice br0 (the first is line 1)`);
    expect(() => parse("* all 1\n*\tall 2\n")).toThrow(`${FILE}:2: a second line for * all (the first is line 1)`);
  });
});

describe("which line holds", () => {
  test("a user's line over a group's over *'s", () => {
    const text = "* br0 9\n@lab br0 5\nalice br0 1\n";
    expect(chosen(text)).toBe("alice br0 1");
    expect(chosen(text, { userName: "carol", groupNames: ["lab"] })).toBe("@lab br0 5");
    expect(chosen(text, { userName: "dave", groupNames: ["dave"] })).toBe("* br0 9");
  });

  test("for one subject, a line for the bridge over a line for all", () => {
    expect(chosen("alice all 7\nalice br0 2\n")).toBe("alice br0 2");
    expect(chosen("alice all 7\nalice br0 2\n", ALICE, ["br1"])).toBe("alice all 7");
    // The subject comes first: alice's line for all holds over @lab's line for br0.
    expect(chosen("@lab br0 2\nalice all 7\n")).toBe("alice all 7");
  });

  test("among the caller's groups, the largest MAX (the first of equal ones)", () => {
    expect(chosen("@lab br0 2\n@staff br0 6\n@other br0 9\n")).toBe("@staff br0 6");
    expect(chosen("@staff br0 3 isolated\n@lab br0 3\n")).toBe("@staff br0 3 isolated");
  });

  test("a line naming any name of the device (altnames) is a line for the bridge", () => {
    expect(chosen("alice all 1\nalice lab1 4\n", ALICE, ["br1", "lab1"])).toBe("alice lab1 4");
  });

  test("no matching line: null, no limit from the policy", () => {
    expect(chosen("bob br0 1\n@staff br1 1\n")).toBe(null);
    expect(chosen("")).toBe(null);
  });

  test("a caller whose uid has no name matches only group and * lines, and is undecided where user lines apply", () => {
    expect(chosen("@lab br0 1\n* br0 3\n", { userName: null, groupNames: [] })).toBe("* br0 3");
    expect(chosen("alice br0 1\n* br0 3\n", { userName: null, groupNames: [] })).toBe("unknown");
  });
});

describe("whose ports: places", () => {
  test("a place's name says whose, on which bridge, which place; nothing else parses as one", () => {
    expect(placeName(4101, 3, 0)).toBe("tbh-uid4101-br3-place0");
    const altNames = ["tbh-uid4101-br3-place", "tbh-uidx-br3-place0", "tap0", "tbh-uid4101-br3-place0 ", "xtbh-uid4101-br3-place1"];
    expect(placesHeld([{ altNames }], 4101, 3)).toEqual([]);
    expect(placesHeld([{ altNames: [...altNames, "tbh-uid4101-br3-place0"] }], 4101, 3)).toEqual([{ link: expect.anything(), place: 0 }]);
    // Longer than any device name (IFNAMSIZ 16, NUL included): no device can be made under a place's name.
    expect(placeName(0, 1, 0).length).toBeGreaterThanOrEqual(16);
  });

  test("the places decide, on that bridge, whatever the device's name, owner or alias; by place", () => {
    const links = [
      { name: "tap0", altNames: ["tbh-uid4101-br3-place1"] },
      { name: "tap1", altNames: ["lab1", "tbh-uid4101-br3-place0"] },
      { name: "tap2", altNames: ["tbh-uid4102-br3-place0"] },
      { name: "tap3", altNames: ["tbh-uid4101-br4-place0"] }, // another bridge's place
      { name: "tapa", altNames: [] }, // ip tuntap add ... user 4101: holds no place
    ];
    const held = (uid: number, bridge: number) => placesHeld(links, uid, bridge).map(({ link, place }) => `${link.name}@${place}`);
    expect(held(4101, 3)).toEqual(["tap1@0", "tap0@1"]);
    expect(held(4102, 3)).toEqual(["tap2@0"]);
    expect(held(4101, 4)).toEqual(["tap3@0"]);
  });
});
