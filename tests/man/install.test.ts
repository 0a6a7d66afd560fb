// `tap-launcher install` places the built man pages under PREFIX/share/man with the same folder checks as
// the programs, and `uninstall` removes them; neither follows a link nor writes under a folder others control.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { installLayout, PRIVILEGED_PROGRAMS } from "../../launcher/layout.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { run } from "../support/proc.ts";
import { ALICE, asUser, sharedFolder } from "../support/users.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid");
}, 120_000);
afterAll(() => installed.uninstall());

/** Every file and folder below `folder`, relative to it, sorted. */
function tree(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      found.push(`${prefix}${entry.name}`);
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
    }
  };
  walk(folder, "");
  return found.sort();
}

test("install puts each page under PREFIX/share/man/manN, root-owned 0644, as the build made it", async () => {
  expect(installed.manPages.map(({ path }) => path.slice(installed.prefix.length))).toEqual([
    "/share/man/man1/tap-launcher.1",
    "/share/man/man5/bridge.conf.5",
    "/share/man/man8/tap-bridge-helper.8",
    "/share/man/man8/tap-user-nic.8",
  ]);
  for (const { built, path } of installed.manPages) {
    const stat = lstatSync(path);
    expect({ path, file: stat.isFile(), uid: stat.uid, gid: stat.gid, mode: stat.mode & 0o7777 }).toEqual({
      path,
      file: true,
      uid: 0,
      gid: 0,
      mode: 0o644,
    });
    expect(readFileSync(path)).toEqual(readFileSync(join(installed.dist, built)));
  }
});

test("an unprivileged user finds the installed pages with man through MANPATH", async () => {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", MANPATH: join(installed.prefix, "share", "man"), MANWIDTH: "80", HOME: "/" };
  const where = await run([...asUser(ALICE), "man", "-w", "tap-launcher", "bridge.conf", "tap-bridge-helper", "tap-user-nic"], { env });
  expect(where.stderr).toBe("");
  expect(where.stdout.trim().split("\n")).toEqual(installed.manPages.map(({ path }) => path));
  const page = await run([...asUser(ALICE), "man", "5", "bridge.conf"], { env });
  expect(page.exitCode).toBe(0);
  expect(page.stdout).toContain("THE POLICY FILE");
});

describe("install and uninstall of a whole prefix", () => {
  test("uninstall removes the pages and the folders install made, leaving the prefix empty", async () => {
    const second = await installForTest("caps");
    expect(tree(second.prefix)).toEqual([
      "bin",
      "bin/tap-launcher",
      "libexec",
      "libexec/tap-bridge-helper",
      "libexec/tap-bridge-helper.bun",
      "libexec/tap-user-nic",
      "libexec/tap-user-nic.bun",
      "share",
      "share/man",
      "share/man/man1",
      "share/man/man1/tap-launcher.1",
      "share/man/man5",
      "share/man/man5/bridge.conf.5",
      "share/man/man8",
      "share/man/man8/tap-bridge-helper.8",
      "share/man/man8/tap-user-nic.8",
    ]);
    await second.uninstall();
    expect(tree(second.prefix)).toEqual([]);
  }, 60_000);

  test("uninstall keeps a share/man holding other pages, and removes only ours", async () => {
    const prefix = join(sharedFolder("tl-manshare-"), "usr");
    const result = await run([installed.launcher, "install", `--prefix=${prefix}`, `--from=${installed.dist}`]);
    expect(result.exitCode).toBe(0);
    writeFileSync(join(prefix, "share", "man", "man1", "other.1"), ".TH OTHER 1\n");
    const removal = await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    expect(removal.exitCode).toBe(0);
    expect(tree(prefix)).toEqual(["share", "share/man", "share/man/man1", "share/man/man1/other.1"]);
  });
});

describe("the folder checks apply to the man folders too", () => {
  test("install refuses a share/man a user owns, before it writes any file", async () => {
    const prefix = join(sharedFolder("tl-manplant-"), "usr");
    mkdirSync(join(prefix, "share", "man"), { recursive: true, mode: 0o755 });
    chownSync(join(prefix, "share", "man"), ALICE.uid, ALICE.gid);
    const result = await run([installed.launcher, "install", `--prefix=${prefix}`, `--from=${installed.dist}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${prefix}/share/man is owned by uid ${ALICE.uid}, not root: its owner could replace the helper`);
    const layout = installLayout(prefix);
    expect(
      [layout.shim, layout.helper, layout.launcher, ...layout.manPages.map(({ path }) => path)].filter((path) => existsSync(path)),
    ).toEqual([]);
    expect(readdirSync(join(prefix, "share", "man"))).toEqual([]);
  });

  test("install refuses a man1 that is a symbolic link, and writes nothing through it", async () => {
    const prefix = join(sharedFolder("tl-manlink-"), "usr");
    const elsewhere = sharedFolder("tl-manelsewhere-");
    mkdirSync(join(prefix, "share", "man"), { recursive: true, mode: 0o755 });
    symlinkSync(elsewhere, join(prefix, "share", "man", "man1"));
    const result = await run([installed.launcher, "install", `--prefix=${prefix}`, `--from=${installed.dist}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${prefix}/share/man/man1 is a symbolic link: give the prefix as a real path`);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(installLayout(prefix).shim)).toBe(false);
  });

  test("uninstall of a prefix whose share/man links into a real installation: refused, no page removed", async () => {
    const prefix = join(sharedFolder("tl-manrm-"), "usr");
    mkdirSync(join(prefix, "share"), { recursive: true, mode: 0o755 });
    symlinkSync(join(installed.prefix, "share", "man"), join(prefix, "share", "man"));
    const result = await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${prefix}/share/man is a symbolic link: give the prefix as a real path`);
    expect(result.stderr).toContain("nothing was removed");
    expect(installed.manPages.every(({ path }) => existsSync(path))).toBe(true);
  });
});

/** Copies the test's build into `from`, the programs and the shims' folder (compiled shims, build.json, the source), without man/. */
function copyBuildWithoutManPages(from: string): void {
  for (const name of ["tap-launcher", ...PRIVILEGED_PROGRAMS.map((program) => program.name)])
    copyFileSync(join(installed.dist, name), join(from, name));
  cpSync(join(installed.dist, "shim"), join(from, "shim"), { recursive: true });
}

/** These tests copy the built programs (about 110 MB each, hard links of one): slow on a loaded machine, not a figure. */
const COPIES_BUILD_TIMEOUT_MS = 60_000;

describe("a build without its man pages", () => {
  test(
    "install refuses it and names the missing page, before it writes anything",
    async () => {
      const from = sharedFolder("tl-nomandist-");
      copyBuildWithoutManPages(from);
      const prefix = join(sharedFolder("tl-nomanprefix-"), "usr");
      const result = await run([installed.launcher, "install", `--prefix=${prefix}`, `--from=${from}`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        `no built man page at ${from}/man/man1/tap-launcher.1: run \`bun run build\` first (it needs pandoc)`,
      );
      expect(existsSync(prefix)).toBe(false);
    },
    COPIES_BUILD_TIMEOUT_MS,
  );

  test(
    "install refuses a page that is a symbolic link (root would copy what it leads to for everyone to read)",
    async () => {
      const from = sharedFolder("tl-linkmandist-");
      copyBuildWithoutManPages(from);
      for (const { built } of installed.manPages) {
        mkdirSync(join(from, built, ".."), { recursive: true });
        copyFileSync(join(installed.dist, built), join(from, built));
      }
      const secret = join(sharedFolder("tl-secret-"), "secret");
      writeFileSync(secret, "root only\n", { mode: 0o600 });
      const linked = join(from, "man", "man5", "bridge.conf.5");
      await run(["rm", "-f", linked]);
      symlinkSync(secret, linked);
      const prefix = join(sharedFolder("tl-linkmanprefix-"), "usr");
      const result = await run([installed.launcher, "install", `--prefix=${prefix}`, `--from=${from}`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${linked} is not a regular file: rebuild the man pages with \`bun run build\``);
      expect(existsSync(prefix)).toBe(false);
    },
    COPIES_BUILD_TIMEOUT_MS,
  );
});
