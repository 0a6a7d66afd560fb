// The privileged path as scripts/audit-lines.ts computes it from the helper's import graph: within budget, and only what the helper runs.
import { expect, test } from "bun:test";
import { countAuditLines } from "../../scripts/audit-lines.ts";

test("the privileged path (the shim and the helper's own modules, policy and multiqueue included) is at most 3,000 lines", async () => {
  const count = await countAuditLines();
  expect(count.ownTotal).toBeLessThanOrEqual(3000);
  expect(count.own.map(({ file }) => file)).toContain("policy/verdicts.ts");
});

test("the count follows the real graph: the shim, the helper's entry and the ACL it reads are in it, the launcher is not", async () => {
  const files = (await countAuditLines()).own.map(({ file }) => file);
  expect(files).toContain("helper/shim.c");
  expect(files).toContain("helper/main.ts");
  expect(files).toContain("acl/parse.ts");
  expect(files.filter((file) => file.startsWith("launcher/") || file.startsWith("tests/"))).toEqual([]);
});

test("the helper evaluates none of the launcher's own shared modules, nor package.json", async () => {
  const files = (await countAuditLines()).own.map(({ file }) => file);
  const launcherOnly = [
    "shared/libc-launcher.ts",
    "shared/kernel-launcher.ts",
    "shared/fd-receive.ts",
    "shared/tap-info.ts",
    "shared/netlink-launcher.ts",
    "package.json",
  ];
  expect(files.filter((file) => launcherOnly.includes(file))).toEqual([]);
});
