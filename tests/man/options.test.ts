// Each program's man page lists every option the program accepts, per command, and the other way round;
// the accepted options come from the programs' own citty definitions, never from a list kept here.
import { describe, expect, test } from "bun:test";
import type { ArgsDef, CommandDef } from "citty";
import { helperUsage, parseHelperArgv } from "../../helper/args.ts";
import { launcherCommand, VERSION } from "../../launcher/program.ts";
import { UsageError } from "../../shared/errors.ts";
import packageJson from "../../package.json" with { type: "json" };
import { buildWithAcl } from "../support/build.ts";
import { run } from "../support/proc.ts";
import { definedOptions, normalised, pageOptions, spellingsInTerm, usageOptions } from "./page-options.ts";
import { join } from "node:path";

/** A value citty resolves lazily (meta, args, subcommands), resolved. */
async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

/** The launcher's options per command, from launcher/program.ts: "" for the program itself, else the command's name. */
async function launcherOptions(): Promise<Map<string, string[]>> {
  const options = new Map<string, string[]>([["", definedOptions(await resolved(launcherCommand.args ?? {}), true)]]);
  const commands = await resolved(launcherCommand.subCommands ?? {});
  const defaultName = await resolved(launcherCommand.default ?? "");
  for (const [name, entry] of Object.entries(commands)) {
    if (name === defaultName) continue; // the program's own options, checked as ""
    const command = (await resolved(entry)) as CommandDef;
    options.set(name, definedOptions(await resolved(command.args ?? {}), true));
  }
  return options;
}

describe("tap-launcher(1)", () => {
  test("lists every option of every command, and no option a command does not take", async () => {
    const page = await pageOptions("tap-launcher.1");
    const accepted = await launcherOptions();
    expect(accepted.size).toBeGreaterThanOrEqual(4);
    expect([...page.keys()].sort()).toEqual([...accepted.keys()].sort());
    for (const [command, spellings] of accepted) {
      expect({ command, options: normalised(page.get(command) ?? []) }).toEqual({ command, options: normalised(spellings) });
    }
  });

  test("the program's options are the default command's", async () => {
    const commands = await resolved(launcherCommand.subCommands ?? {});
    const runCommand = (await resolved(commands[await resolved(launcherCommand.default ?? "")] ?? {})) as CommandDef;
    const own = definedOptions(await resolved(launcherCommand.args ?? {}), true);
    const ofRun = definedOptions((await resolved(runCommand.args ?? {})) as ArgsDef, true);
    expect(normalised(own)).toEqual(normalised(ofRun));
  });

  test("tap-launcher --version prints package.json's version, wherever --help is taken", async () => {
    const dist = await buildWithAcl("/etc/qemu/bridge.conf");
    const launcher = join(dist, "tap-launcher");
    expect(VERSION).toBe(packageJson.version);
    for (const argv of [["--version"], ["--version", "--br=br0"], ["doctor", "--version"], ["install", "--version", "--prefix=/opt"]]) {
      expect({ argv, ...(await run([launcher, ...argv])) }).toMatchObject({
        argv,
        exitCode: 0,
        stdout: `${packageJson.version}\n`,
        stderr: "",
      });
    }
    const both = await run([launcher, "--version", "--help"]);
    expect(both.exitCode).toBe(0);
    expect(both.stdout).toStartWith(`tap-launcher ${packageJson.version}\n\n`);
    expect(both.stdout).toContain("USAGE tap-launcher [OPTIONS]");
    const unknown = await run([launcher, "--version", "--bridge=br0"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('unknown option "--bridge"');
  });
});

/** Whether `parse` throws the helper's usage error for an option it does not know. */
function refusedAsUnknown(parse: () => unknown): boolean {
  try {
    parse();
    return false;
  } catch (err) {
    return err instanceof UsageError && err.message.startsWith("unknown argument");
  }
}

describe("tap-bridge-helper(8)", () => {
  test("lists every option the helper's citty definition has, and no other", async () => {
    const page = await pageOptions("tap-bridge-helper.8");
    expect([...page.keys()]).toEqual([""]);
    const accepted = usageOptions(await helperUsage(false));
    expect(accepted).toContain("--br");
    expect(normalised(page.get("") ?? [])).toEqual(normalised(accepted));
  });

  test("the helper's parser accepts each option the page lists (none is refused as unknown)", async () => {
    const page = await pageOptions("tap-bridge-helper.8");
    const refused: string[] = [];
    for (const spelling of page.get("") ?? []) {
      // Each option in the form the page gives it: alone (--help, --version), or beside the two required ones.
      const valued: Readonly<Record<string, string>> = { "--queues": "--queues=2", "--mac": "--mac=52:54:00:12:34:56" };
      const form = spelling === "--br" || spelling === "--fd" ? [] : [valued[spelling] ?? spelling];
      const unknown = [form, [...form, "--br=br0", "--fd=3"]].every((argv) => refusedAsUnknown(() => parseHelperArgv(argv)));
      if (unknown) refused.push(spelling);
    }
    expect(refused).toEqual([]);
  });

  test("tap-bridge-helper --version prints package.json's version", async () => {
    const dist = await buildWithAcl("/etc/qemu/bridge.conf");
    const result = await run([join(dist, "tap-bridge-helper"), "--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(packageJson.version);
  });
});

describe("the option readers", () => {
  test("a term's spellings, and citty's usage read back into the definition it was rendered from", async () => {
    expect(spellingsInTerm("-v, --verbose")).toEqual(["-v", "--verbose"]);
    expect(spellingsInTerm("--relay=stream|dgram")).toEqual(["--relay"]);
    expect(spellingsInTerm("--br=BRIDGE")).toEqual(["--br"]);
    const { renderUsage } = await import("citty");
    const args = {
      "use-vnet": { type: "boolean" },
      br: { type: "string", valueHint: "BRIDGE", required: true },
      quiet: { type: "boolean", alias: "q" },
    } satisfies ArgsDef;
    const usage = await renderUsage({ meta: { name: "x", version: "9.9.9", description: "d" }, args });
    expect(normalised(usageOptions(usage))).toEqual(normalised(["--use-vnet", "--br", "-q", "--quiet", "--version"]));
    const withoutVersion = await renderUsage({ meta: { name: "x", description: "d" }, args });
    expect(normalised(usageOptions(withoutVersion))).toEqual(normalised(["--use-vnet", "--br", "-q", "--quiet"]));
  });
});
