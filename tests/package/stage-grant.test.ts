// Install split in two: `install --destdir` stages without privilege, `grant` does what a postinst does; together they equal `install`.
import { beforeAll, describe, expect, test } from "bun:test";
import { chownSync, copyFileSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { privilegeOf } from "../../launcher/install.ts";
import { installLayout } from "../../launcher/layout.ts";
import { run, runOk } from "../support/proc.ts";
import { ALICE, asUser, sharedFolder } from "../support/users.ts";

/** The root-owned prefix the build is made for, and its build. */
let prefix = "";
let dist = "";
beforeAll(async () => {
  prefix = join(sharedFolder("tl-stage-prefix-"), "usr");
  dist = sharedFolder("tl-stage-dist-");
  await runOk([process.execPath, "run", "build"], {
    cwd: join(import.meta.dir, "..", ".."),
    env: { ...process.env, TAP_PREFIX: prefix, TAP_OUT_DIR: dist } as Record<string, string>,
  });
}, 300_000);

/** A folder ALICE owns, to stage into as ALICE. */
function aliceFolder(): string {
  const folder = sharedFolder("tl-stage-alice-");
  chownSync(folder, ALICE.uid, ALICE.gid);
  return folder;
}

const launcher = () => join(dist, "tap-launcher");

/** `getcap PATH`'s capabilities ("" when none). */
async function capabilitiesOf(path: string): Promise<string> {
  const out = await runOk(["getcap", path]);
  return out.trim().split(/\s+/).slice(1).join(" ");
}

describe("the build compiles each shim for TAP_PREFIX", () => {
  test("dist/shim/tap-bridge-helper executes PREFIX/libexec/tap-bridge-helper.bun and is not a Bun executable", () => {
    const shim = readFileSync(join(dist, "shim", "tap-bridge-helper"));
    expect(shim.includes(Buffer.from(`${prefix}/libexec/tap-bridge-helper.bun\0`))).toBe(true);
    expect(shim.includes(Buffer.from(".bun_builtins"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dist, "shim", "build.json"), "utf8"))).toEqual({ prefix });
  });
});

describe("install --destdir stages without privilege", () => {
  test("as an unprivileged user: every file under DESTDIR+PREFIX, the user's, nothing privileged, the build's own shim", async () => {
    const destdir = join(aliceFolder(), "root");
    const staged = await run([...asUser(ALICE), launcher(), "install", `--destdir=${destdir}`, `--prefix=${prefix}`, `--from=${dist}`]);
    expect(staged.stderr).toContain("nothing was made privileged: once installed, as root: tap-launcher grant");
    expect(staged.exitCode).toBe(0);
    const layout = installLayout(prefix);
    const files = [layout.shim, layout.helper, layout.launcher, ...layout.manPages.map(({ path }) => path)];
    for (const file of files) {
      const stat = lstatSync(join(destdir, file));
      expect({ file, uid: stat.uid, regular: stat.isFile() }).toEqual({ file, uid: ALICE.uid, regular: true });
      expect({ file, ...privilegeOf(join(destdir, file)) }).toEqual({ file, setuid: false, setgid: false, capabilities: false });
    }
    expect(readFileSync(join(destdir, layout.shim))).toEqual(readFileSync(join(dist, "shim", "tap-bridge-helper")));
  });
});

describe("staged, then granted: the same shim as install", () => {
  for (const mode of ["setuid", "caps"] as const) {
    test(`--mode=${mode}: byte for byte, with the same owner, mode and capabilities`, async () => {
      // The package's way: staged unprivileged, made root's (dpkg-deb --root-owner-group), granted.
      const folder = aliceFolder();
      const destdir = join(folder, "root");
      await runOk([...asUser(ALICE), launcher(), "install", `--destdir=${destdir}`, `--prefix=${prefix}`, `--from=${dist}`]);
      await runOk(["chown", "-R", "0:0", folder]);
      const staged = join(destdir, installLayout(prefix).shim);
      const granted = await run([launcher(), "grant", `--mode=${mode}`, staged]);
      expect(granted.stderr).toBe(`tap-launcher: ${staged}: ${mode === "setuid" ? "setuid root" : "cap_net_admin+p, no root"}\n`);
      expect(granted.exitCode).toBe(0);

      // install as root onto the prefix: the two steps in one.
      await runOk([launcher(), "install", `--prefix=${prefix}`, `--mode=${mode}`, `--from=${dist}`]);
      const installed = installLayout(prefix).shim;
      try {
        expect(readFileSync(staged)).toEqual(readFileSync(installed));
        const describe = (path: string) => ({ uid: lstatSync(path).uid, gid: lstatSync(path).gid, mode: lstatSync(path).mode & 0o7777 });
        expect(describe(staged)).toEqual(describe(installed));
        expect(describe(installed).mode).toBe(mode === "setuid" ? 0o4755 : 0o755);
        expect(await capabilitiesOf(staged)).toBe(await capabilitiesOf(installed));
        expect(await capabilitiesOf(installed)).toBe(mode === "caps" ? "cap_net_admin=p" : "");
      } finally {
        await runOk([launcher(), "uninstall", `--prefix=${prefix}`]);
      }
    });
  }
});

describe("grant refuses what it must not make privileged, and changes nothing", () => {
  test("a shim a user owns: its owner chose its content", async () => {
    const destdir = join(aliceFolder(), "root");
    await runOk([...asUser(ALICE), launcher(), "install", `--destdir=${destdir}`, `--prefix=${prefix}`, `--from=${dist}`]);
    const staged = join(destdir, installLayout(prefix).shim);
    const refused = await run([launcher(), "grant", "--mode=setuid", staged]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`${staged} is owned by uid ${ALICE.uid}, not root: its owner chose its content`);
    expect(privilegeOf(staged)).toEqual({ setuid: false, setgid: false, capabilities: false });
    expect(lstatSync(staged).uid).toBe(ALICE.uid);
  });

  test("a root-owned shim in a folder a user may write to", async () => {
    const folder = aliceFolder();
    const shim = join(folder, "tap-bridge-helper");
    copyFileSync(join(dist, "shim", "tap-bridge-helper"), shim);
    const refused = await run([launcher(), "grant", "--mode=setuid", shim]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`${folder} is owned by uid ${ALICE.uid}, not root: its owner could replace the helper`);
    expect(privilegeOf(shim)).toEqual({ setuid: false, setgid: false, capabilities: false });
  });

  test("a symbolic link, and a Bun executable", async () => {
    const folder = sharedFolder("tl-grant-");
    const link = join(folder, "link");
    symlinkSync(join(dist, "shim", "tap-bridge-helper"), link);
    const viaLink = await run([launcher(), "grant", "--mode=caps", link]);
    expect(viaLink.exitCode).toBe(1);
    expect(viaLink.stderr).toContain(`${link} is not a regular file: give the shim's own path, not a link to it`);
    const bun = join(folder, "tap-bridge-helper.bun");
    copyFileSync(join(dist, "tap-bridge-helper"), bun);
    const bunRefused = await run([launcher(), "grant", "--mode=setuid", bun]);
    expect(bunRefused.exitCode).toBe(1);
    expect(bunRefused.stderr).toContain(`refusing to make ${bun} privileged: it is a Bun executable`);
    expect(privilegeOf(bun)).toEqual({ setuid: false, setgid: false, capabilities: false });
  });

  test("without root", async () => {
    const folder = sharedFolder("tl-grant-user-");
    mkdirSync(join(folder, "libexec"), { mode: 0o755 });
    const shim = join(folder, "libexec", "tap-bridge-helper");
    copyFileSync(join(dist, "shim", "tap-bridge-helper"), shim);
    const refused = await run([...asUser(ALICE), launcher(), "grant", shim]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("grant must run as root: it makes the shim privileged");
  });
});
