// A compiled program takes its version from the build's define and never reads package.json for it.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempFolder } from "../support/build.ts";
import { run } from "../support/proc.ts";

async function compiled(folder: string, define: string[]): Promise<string> {
  const entry = join(folder, "print-version.ts");
  writeFileSync(entry, `import { VERSION } from ${JSON.stringify(join(ROOT, "shared/version.ts"))};\nconsole.log(VERSION);\n`);
  const program = join(folder, define.length > 0 ? "with-define" : "without-define");
  const build = await run([process.execPath, "build", "--compile", "--bytecode", "--target=bun", ...define, entry, `--outfile=${program}`]);
  expect(build.exitCode).toBe(0);
  return program;
}

test("built with TAP_BUILD_VERSION it prints that; built without, it stops rather than read a package.json", async () => {
  const folder = tempFolder("tl-version-");
  const withDefine = await run([await compiled(folder, [`--define=TAP_BUILD_VERSION="9.8.7"`])]);
  expect(withDefine.stdout.trim()).toBe("9.8.7");
  const without = await run([await compiled(folder, [])]);
  expect(without.exitCode).not.toBe(0);
  expect(without.stderr).toContain("built without TAP_BUILD_VERSION");
});
