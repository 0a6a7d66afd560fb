// Each launcher command evaluates its own code only: `sudo tap-launcher install` runs nothing of the run/relay graph.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT, tempFolder } from "../support/build.ts";
import { run } from "../support/proc.ts";

/** The project's modules Bun evaluated while the launcher, from source, ran with `args` (relative paths). */
async function modulesEvaluated(args: string[]): Promise<string[]> {
  const record = join(tempFolder("tl-modules-"), "modules");
  const recorder = join(ROOT, "tests/support/module-recorder.ts");
  const result = await run([process.execPath, "--preload", recorder, join(ROOT, "launcher/main.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TL_MODULES_FILE: record },
  });
  expect(result.exitCode).toBe(0);
  return readFileSync(record, "utf8")
    .trim()
    .split("\n")
    .map((path) => relative(ROOT, path));
}

/** What only running a guest needs: the run command, the helper runner, unmanaged TAPs, the relay. */
const RUN_GRAPH = /^launcher\/(commands\/run|bridge-helper|unmanaged|guest|relay-mode|datapath\/.*)\.ts$/;

test("install (and its --help) evaluates the install code, and nothing of run, the relay or doctor", async () => {
  const modules = await modulesEvaluated(["install", "--help"]);
  expect(modules).toContain("launcher/commands/install.ts");
  expect(modules).toContain("launcher/install.ts");
  expect(modules.filter((path) => RUN_GRAPH.test(path) || path.includes("doctor") || path.startsWith("acl/"))).toEqual([]);
});

test("control: run's --help loads the run graph the recorder is meant to see, and not install", async () => {
  const modules = await modulesEvaluated(["run", "--help"]);
  expect(modules).toContain("launcher/commands/run.ts");
  expect(modules.filter((path) => RUN_GRAPH.test(path)).length).toBeGreaterThan(3);
  expect(modules).not.toContain("launcher/commands/install.ts");
});
