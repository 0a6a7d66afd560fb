// The privileged programs as their real import graphs give them (scripts/audit-lines.ts): what is in them, what
// must stay out of them, and how the parts docs/line-budget.md costs are cut. `bun run audit-lines` prints the figures.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type AuditCount, countAuditLines } from "../../scripts/audit-lines.ts";
import { ROOT } from "./messages.ts";

const count: Promise<AuditCount> = countAuditLines();
const names = (part: { files: { file: string }[] }) => part.files.map(({ file }) => file);

/** Modules only the launcher may evaluate: the libc and kernel bindings it alone calls, fd receiving, TUNGETIFF. */
const LAUNCHER_ONLY = [
  "shared/libc-launcher.ts",
  "shared/kernel-launcher.ts",
  "shared/fd-receive.ts",
  "shared/tap-info.ts",
  "shared/netlink-launcher.ts",
  "package.json",
];

test("each privileged program's count follows its real graph: the shim, the entry, its own main", async () => {
  const { programs } = await count;
  for (const [program, main] of [
    ["tap-bridge-helper", "helper/main.ts"],
    ["tap-user-nic", "helper/user-nic/main.ts"],
  ] as const) {
    const files = names(programs[program]);
    expect(files).toContain("helper/shim.c");
    expect(files).toContain("scripts/program-entry.ts");
    expect(files).toContain(main);
  }
  expect(names(programs["tap-bridge-helper"])).toContain("acl/parse.ts");
  expect(names(programs["tap-bridge-helper"])).not.toContain("helper/user-nic/main.ts");
  expect(names(programs["tap-user-nic"])).not.toContain("helper/main.ts");
});

test("no privileged program evaluates the launcher, the tests, or the launcher's own shared modules", async () => {
  const files = names((await count).programs.union);
  expect(files.filter((file) => file.startsWith("launcher/") || file.startsWith("tests/"))).toEqual([]);
  expect(files.filter((file) => LAUNCHER_ONLY.includes(file))).toEqual([]);
});

test("the parts cover both programs exactly once: core, veth (tap-user-nic's own files), anti-spoofing", async () => {
  const { programs, parts } = await count;
  const all = [...names(parts.core), ...names(parts.veth), ...names(parts.antiSpoofing)];
  expect(new Set(all).size).toBe(all.length);
  expect(all.sort()).toEqual(names(programs.union));
  expect(parts.core.total + parts.antiSpoofing.total).toBe(programs["tap-bridge-helper"].total);
  expect(parts.core.total + parts.veth.total + parts.antiSpoofing.total).toBe(programs.union.total);
  // Anti-spoofing is what only the port's binding and the address parser reach; tap-user-nic binds no port.
  expect(names(parts.antiSpoofing)).toEqual(
    expect.arrayContaining(["helper/port-binding.ts", "policy/address-prefix.ts", "shared/port-filter.ts"]),
  );
  expect(names(programs["tap-user-nic"]).filter((file) => file.startsWith("shared/port-") || file === "helper/port-binding.ts")).toEqual(
    [],
  );
  expect(names(parts.veth)).toContain("shared/veth.ts");
});

/** The files docs/line-budget.md lists under `### PART`: every backquoted path in that section. */
function documentedFiles(part: string): string[] {
  const text = readFileSync(join(ROOT, "docs/line-budget.md"), "utf8");
  const section = text.split(/^### /m).find((block) => block.startsWith(`${part}\n`)) ?? "";
  return [...section.matchAll(/`([\w.-]+(?:\/[\w.-]+)+\.(?:ts|c))`/g)].map(([, file]) => file ?? "").sort();
}

test("each part's files are the ones docs/line-budget.md lists, so that its costs name what is counted", async () => {
  const { parts } = await count;
  expect(documentedFiles("core")).toEqual(names(parts.core));
  expect(documentedFiles("veth")).toEqual(names(parts.veth));
  expect(documentedFiles("anti-spoofing")).toEqual(names(parts.antiSpoofing));
});

// The guide's budget: the helper's path with its policy and multiqueue (core). Issue 21's wider one,
// core + veth within the same 3,000, is not met (3,670 lines): docs/line-budget.md says what each part costs.
test("the core, the TAP helper with its policy and multiqueue, is within the 3,000 lines the guide allows", async () => {
  const { parts } = await count;
  expect(parts.core.total).toBeLessThanOrEqual(3000);
});
