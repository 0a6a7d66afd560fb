// The bash completion offers exactly the commands and options tap-launcher accepts, and the build ships it.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ArgsDef, CommandDef } from "citty";
import { launcherCommand } from "../../launcher/program.ts";
import { buildWithAcl, ROOT } from "../support/build.ts";
import { runOk } from "../support/proc.ts";
import { definedOptions, normalised } from "./page-options.ts";

const SCRIPT = join(ROOT, "completions/tap-launcher.bash");

/** What the completion offers for the words typed so far (the last one being completed). */
async function complete(words: string[]): Promise<string[]> {
  const quoted = words.map((word) => `'${word}'`).join(" ");
  const script = `source '${SCRIPT}'; COMP_WORDS=(tap-launcher ${quoted}); COMP_CWORD=${words.length}; _tap_launcher; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return (await runOk(["bash", "-c", script])).split("\n").filter(Boolean);
}

async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

describe("completions/tap-launcher.bash", () => {
  test("each command's options are exactly those it accepts", async () => {
    const commands = await resolved(launcherCommand.subCommands ?? {});
    for (const [name, entry] of Object.entries(commands)) {
      const args = (await resolved(((await resolved(entry)) as CommandDef).args ?? {})) as ArgsDef;
      const offered = (await complete([name, "-"])).map((word) => word.replace(/=$/, ""));
      expect({ name, options: normalised(offered) }).toEqual({ name, options: normalised(definedOptions(args, true)) });
    }
  });

  test("the first word offers the commands and run's options; values and the guest command complete too", async () => {
    expect(await complete([""])).toEqual(expect.arrayContaining(["run", "install", "uninstall", "doctor", "--br=", "--relay="]));
    expect(await complete(["--relay=d"])).toEqual(["--relay=dgram"]);
    expect(await complete(["install", "--mode="])).toEqual(["--mode=setuid", "--mode=caps"]);
    expect(await complete(["--br=br0", "--", "qemu-system-x86_6"])).toContain("qemu-system-x86_64");
  });

  test("the build puts it beside the man pages, under the name bash-completion looks for", async () => {
    const dist = await buildWithAcl("/etc/qemu/bridge.conf");
    expect(existsSync(join(dist, "completions/tap-launcher"))).toBe(true);
    expect(readFileSync(join(dist, "completions/tap-launcher"), "utf8")).toBe(readFileSync(SCRIPT, "utf8"));
  });
});
