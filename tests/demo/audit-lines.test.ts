// The README's count of the lines to audit for the privileged path is the one scripts/audit-lines.ts computes.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { countAuditLines } from "../../scripts/audit-lines.ts";
import { ROOT } from "./messages.ts";

const readme = readFileSync(join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");

test("the README's figure for the privileged path is the helper's import graph counted now", async () => {
  const count = await countAuditLines();
  expect(readme).toContain(`**${count.ownTotal.toLocaleString("en")} lines in ${count.own.length} files**`);
  expect(readme).toContain(`\`consola/core\`, ${count.packagesTotal.toLocaleString("en")} lines of their published files`);
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

test("the README's figures for the policy's own modules and the launcher-only ones are their line counts now", () => {
  const lines = (files: string[]) =>
    files.map((file) => readFileSync(join(ROOT, file), "utf8").replace(/\n$/, "").split("\n").length).reduce((a, b) => a + b, 0);
  const policy = lines(["acl/policy.ts", "acl/quota.ts", "helper/policy.ts", "helper/audit.ts", "shared/syslog.ts"]);
  const launcherOnly = lines(["shared/libc-launcher.ts", "shared/kernel-launcher.ts", "shared/fd-receive.ts", "shared/tap-info.ts"]);
  expect(readme).toContain(`\`shared/syslog.ts\`) are **${policy} lines**`);
  expect(readme).toContain(`\`TUNGETIFF\`: ${launcherOnly} lines)`);
});
