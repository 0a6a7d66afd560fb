// The privileged path as the helper's real import graph gives it (scripts/audit-lines.ts): what is in
// it, what must stay out of it, and its budget. No figure in prose is checked: `bun run audit-lines` prints them.
import { expect, test } from "bun:test";
import { countAuditLines } from "../../scripts/audit-lines.ts";

/** The most lines the privileged path may have (the shim and every module the helper evaluates), comments included. */
const BUDGET = 3000;

test(`the privileged path stays within its budget of ${BUDGET.toLocaleString("en")} lines`, async () => {
  const count = await countAuditLines();
  console.log(`${count.ownTotal} lines in ${count.own.length} files`);
  expect(count.ownTotal).toBeLessThanOrEqual(BUDGET);
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
