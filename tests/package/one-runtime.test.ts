// Bun's runtime once: one compiled program, the helper when argv[0] names it, installed under two names as one file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privilegeOf } from "../../launcher/install.ts";
import { PRIVILEGED_PROGRAMS } from "../../launcher/layout.ts";
import { COMPILE_FLAGS } from "../../scripts/compile-flags.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { run, runOk } from "../support/proc.ts";

let dist = "";
let installed: TestInstall;
beforeAll(async () => {
  dist = await buildWithAcl("/etc/qemu/bridge.conf");
  installed = await installForTest("caps");
}, 300_000);
afterAll(async () => {
  await installed?.uninstall();
});

/** `PROGRAM ARGS…` with argv[0] set to `argv0` (sh's exec -a). */
const runAs = (argv0: string, program: string, ...args: string[]) =>
  run(["bash", "-c", 'argv0=$1; program=$2; shift 2; exec -a "$argv0" "$program" "$@"', "bash", argv0, program, ...args]);

const HELPER_USAGE = "USAGE tap-bridge-helper [OPTIONS] --br=<BRIDGE> --fd=<N>";
const LAUNCHER_USAGE = "Give a guest layer-2 access to a host bridge";

describe("the build", () => {
  test("dist/NAME of every privileged program is dist/tap-launcher itself (one inode)", () => {
    const launcher = statSync(join(dist, "tap-launcher"));
    for (const { name } of PRIVILEGED_PROGRAMS) {
      const program = statSync(join(dist, name));
      expect({ name, ino: program.ino, dev: program.dev }).toEqual({ name, ino: launcher.ino, dev: launcher.dev });
    }
  });

  test("every privileged program's name runs that program (scripts/program-entry.ts has an entry for each)", async () => {
    // The bridge helper's usage is citty's; tap-user-nic's is lxc-user-nic's, for any wrong argument count.
    const usage: Record<string, string> = {
      "tap-bridge-helper": "USAGE tap-bridge-helper ",
      "tap-user-nic": "Usage: tap-user-nic create ",
    };
    for (const { name } of PRIVILEGED_PROGRAMS) {
      const help = await runAs(name, join(dist, "tap-launcher"), "--help");
      expect({ name, usage: (help.stdout + help.stderr).includes(usage[name] ?? "(no usage known)") }).toEqual({ name, usage: true });
    }
  });

  test("argv[0] chooses: tap-bridge-helper (and NAME.bun) runs the helper; any other name, bun included, the launcher", async () => {
    const program = join(dist, "tap-launcher");
    for (const argv0 of ["tap-bridge-helper", "/usr/libexec/tap-bridge-helper.bun", join(dist, "tap-bridge-helper")]) {
      const helper = await runAs(argv0, program, "--help");
      expect({ argv0, usage: (helper.stdout + helper.stderr).includes(HELPER_USAGE) }).toEqual({ argv0, usage: true });
    }
    for (const argv0 of ["tap-launcher", "bun", "tap-bridge-helperx", "x/tap-bridge-helper/", ""]) {
      const launcher = await runAs(argv0, program, "--help");
      expect({ argv0, usage: (launcher.stdout + launcher.stderr).includes(LAUNCHER_USAGE) }).toEqual({ argv0, usage: true });
    }
    expect((await runAs("bun", program, "--version")).stdout).toBe(`${(await runOk([program, "--version"])).trim()}\n`);
  });
});

describe("what the choice rests on: a compiled program evaluates only the branch argv[0] picks", () => {
  test("a probe built with the same flags evaluates one of its two lazily imported modules, never both", async () => {
    const folder = tempFolder("tl-probe-");
    writeFileSync(
      join(folder, "entry.ts"),
      'const name = (process.argv0.split("/").at(-1) ?? "");\nvoid (name === "tap-bridge-helper" ? import("./helper.ts") : import("./launcher.ts"));\n',
    );
    writeFileSync(join(folder, "helper.ts"), 'console.log("helper evaluated");\nexport {};\n');
    writeFileSync(join(folder, "launcher.ts"), 'console.log("launcher evaluated");\nexport {};\n');
    await runOk([process.execPath, "build", ...COMPILE_FLAGS, join(folder, "entry.ts"), `--outfile=${join(folder, "probe")}`]);
    expect((await runAs("tap-bridge-helper", join(folder, "probe"))).stdout).toBe("helper evaluated\n");
    expect((await runAs("tap-launcher", join(folder, "probe"))).stdout).toBe("launcher evaluated\n");
  }, 120_000);
});

describe("installed", () => {
  test("PREFIX/libexec/NAME.bun of every privileged program is PREFIX/bin/tap-launcher (one file, root's, 0755, unprivileged)", () => {
    const launcher = statSync(installed.launcher);
    for (const { helper: path } of installed.privileged) {
      const helper = statSync(path);
      expect([helper.ino, helper.dev]).toEqual([launcher.ino, launcher.dev]);
      // One name for the launcher, one for each privileged program.
      expect([helper.uid, helper.mode & 0o7777, helper.nlink]).toEqual([0, 0o755, 1 + PRIVILEGED_PROGRAMS.length]);
      expect(privilegeOf(path)).toEqual({ setuid: false, setgid: false, capabilities: false });
    }
  });

  test("uninstall removes both names", async () => {
    const second = await installForTest("setuid");
    await second.uninstall();
    expect([second.helper, second.launcher].map((path) => statSync(path, { throwIfNoEntry: false }))).toEqual([undefined, undefined]);
  });
});
