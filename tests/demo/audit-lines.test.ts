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
