// The README's first command, exactly as written, from a fresh clone: it succeeds, reports the
// pings, and leaves no namespace, TAP, user, file or process behind.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, tempFolder } from "../support/build.ts";
import { run, runOk } from "../support/proc.ts";

/** The first line of the README's first shell block, without its comment. */
function firstCommand(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```sh\n([^\n]*)\n/.exec(readme)?.[1] ?? "";
  return block.replace(/\s+#.*$/, "").trim();
}

async function leftovers(): Promise<Record<string, string[]>> {
  return {
    namespaces: (await runOk(["ip", "netns", "list"])).split("\n").filter((line) => line.startsWith("tl-demo")),
    taps: (await runOk(["ip", "-o", "link", "show", "type", "tun"])).split("\n").filter(Boolean),
    users: (await runOk(["getent", "passwd"])).split("\n").filter((line) => line.startsWith("tl-demo")),
    files: readdirSync(tmpdir()).filter((name) => name.startsWith("tl-demo-")),
    processes: (await run(["pgrep", "-f", "tl-demo-"])).stdout.split("\n").filter(Boolean),
  };
}

test("README's first command from a fresh clone", async () => {
  const command = firstCommand();
  expect(command).toBe("bash scripts/demo.sh");
  const before = await leftovers();
  const clone = join(tempFolder("tl-clone-"), "tap-launcher");
  await runOk(["git", "clone", "--quiet", ROOT, clone]);
  const result = await run(["bash", "-c", command], { cwd: clone });
  const output = result.stdout + result.stderr;
  console.log(
    output
      .split("\n")
      .filter((line) => line.startsWith("demo: "))
      .join("\n"),
  );
  expect(result.exitCode).toBe(0);
  expect(output).toMatch(/stream relay: ARP [\d.]+ ms; ping 5\/5, rtt min\/avg\/max [\d./]+ ms; echo throughput [\d.]+ Mbit\/s/);
  expect(output).toMatch(/hand-over: ARP [\d.]+ ms; ping 5\/5/);
  expect(output).toContain("nothing is left");
  expect(await leftovers()).toEqual(before);
}, 600_000);
