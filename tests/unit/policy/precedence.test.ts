// bridge.conf(5)'s table of which policy line applies, read from the page and checked against the code.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { choosePolicyLine } from "../../../policy/choose.ts";
import { parsePolicyText } from "../../../policy/rules.ts";

const page = readFileSync(join(import.meta.dir, "../../../man/bridge.conf.5.md"), "utf8");
const table = /<!-- precedence-table[^\n]*-->\n([\s\S]*?)<!-- end of precedence-table -->/.exec(page)?.[1] ?? "";
const cellText = (cell: string) => cell.trim().replaceAll("\\*", "*");
const rows = table
  .split("\n")
  .filter((line) => line.startsWith("|"))
  .slice(2) // the header and its rule
  .map((line) => line.split("|").slice(1, -1).map(cellText));

test("the page has the table, with the issue's two cases in it", () => {
  expect(rows.length).toBeGreaterThanOrEqual(10);
  expect(rows.map(([lines]) => lines)).toContain("@lab all 3; @alice br0 0");
  expect(rows.map(([lines]) => lines)).toContain("@staff all 8; @lab br0 2 isolated");
});

for (const [lines = "", bridge = "", expected = ""] of rows) {
  test(`${lines} on ${bridge}: ${expected}`, () => {
    const rules = parsePolicyText(
      Buffer.from(
        lines
          .split(";")
          .map((line) => line.trim())
          .join("\n"),
      ),
      "/etc/qemu/bridge-policy.conf",
    );
    const caller = { userName: "alice", groupNames: ["alice", "lab", "staff"] };
    const choice = choosePolicyLine(rules, caller, [bridge]);
    expect(choice.known ? (choice.rule?.text ?? "none") : "unknown").toBe(expected);
  });
}

test("a caller the name service could not fully name is undecided where the policy has lines of that kind, and only there", () => {
  const rules = parsePolicyText(Buffer.from("@lab br0 1 isolated\nalice br1 2\n* all 8\n"), "/etc/qemu/bridge-policy.conf");
  const unnamedGroup = { userName: "alice", groupNames: ["alice"], unnamedGids: [4201] };
  expect(choosePolicyLine(rules, unnamedGroup, ["br0"])).toEqual({ known: false, unnamedUser: false, unnamedGids: [4201] });
  // No group line for br1: the unnamed gid cannot change which line holds there.
  expect(choosePolicyLine(rules, unnamedGroup, ["br1"])).toMatchObject({ known: true, rule: { text: "alice br1 2" } });
  const unnamedUser = { userName: null, groupNames: ["lab"], unnamedGids: [] };
  expect(choosePolicyLine(rules, unnamedUser, ["br1"])).toEqual({ known: false, unnamedUser: true, unnamedGids: [] });
  expect(choosePolicyLine(rules, unnamedUser, ["br0"])).toMatchObject({ known: true, rule: { text: "@lab br0 1 isolated" } });
});
