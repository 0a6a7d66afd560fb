// Installing the helper for real use: the Bun helper unprivileged, beside a compiled exec shim that alone is privileged.
import {
  chmodSync,
  chownSync,
  constants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { ConsolaInstance } from "consola";
import shimSource from "../helper/shim.c" with { type: "text" };
import { isBunExecutable } from "../shared/bun-binary.ts";
import { StepError } from "../shared/errors.ts";
import { extendedAttribute } from "../shared/libc-launcher.ts";
import { installLayout, type InstallLayout } from "./layout.ts";
import { nosuidMountOf } from "./mounts.ts";

export type InstallMode = "setuid" | "caps";

/** Characters allowed in a prefix: it is compiled into C and must not need quoting anywhere. */
const SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;

/** security.capability: present when a file has capabilities (setcap). */
export function fileCapabilities(path: string): Uint8Array | null {
  return extendedAttribute(path, "security.capability");
}

/** The privilege a file carries: setuid/setgid bits and file capabilities. */
export function privilegeOf(path: string): { setuid: boolean; setgid: boolean; capabilities: boolean } {
  const mode = lstatSync(path).mode;
  return { setuid: (mode & 0o4000) !== 0, setgid: (mode & 0o2000) !== 0, capabilities: fileCapabilities(path) !== null };
}

function run(cmd: string[], what: string): string {
  const result = Bun.spawnSync({ cmd, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  if (result.exitCode !== 0) {
    throw new StepError(`failed to ${what}: ${cmd[0]} exited ${result.exitCode}: ${result.stderr.toString().trim()}`);
  }
  return result.stdout.toString();
}

/** Why `path` (which exists) cannot hold or lead to the privileged shim's helper, or null. */
function untrustedBecause(path: string, allowSticky: boolean): string | null {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return `${path} is a symbolic link: give the prefix as a real path`;
  if (!stat.isDirectory()) return `${path} is not a directory`;
  if (stat.uid !== 0) return `${path} is owned by uid ${stat.uid}, not root: its owner could replace the helper`;
  const writableByOthers = (stat.mode & 0o022) !== 0;
  if (writableByOthers && !(allowSticky && (stat.mode & 0o1000) !== 0)) {
    return `${path} is writable by group or others (mode ${(stat.mode & 0o7777).toString(8)}): they could replace the helper`;
  }
  return null;
}

/**
 * Makes sure every directory from / down to `dir` is a real directory, root-owned and not writable by
 * others, creating the missing ones (root, 0755) one level at a time and changing none that exist.
 * A sticky directory such as /tmp is accepted above the prefix only: others cannot replace what root
 * made in it, but could plant anything in the prefix or below. A directory that appears between the
 * check and mkdir (EEXIST) is checked like any other. throws StepError naming the directory.
 */
export function makeTrustedPath(dir: string, prefix: string): void {
  const root = resolve(prefix);
  let path = "";
  for (const part of resolve(dir).split(sep).filter(Boolean)) {
    path += `/${part}`;
    const allowSticky = path !== root && !path.startsWith(`${root}/`);
    try {
      mkdirSync(path, { mode: 0o755 });
      chownSync(path, 0, 0);
      chmodSync(path, 0o755);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
    }
    const problem = untrustedBecause(path, allowSticky);
    if (problem !== null) throw new StepError(problem);
  }
}

/**
 * Checks, without creating or following anything, every directory from / down to `dir` that exists,
 * as makeTrustedPath does: uninstall must not remove files through a folder someone else controls
 * (a user's prefix whose libexec/ links into a real installation). Returns whether all of `dir`
 * exists: when a folder is missing, nothing below it may be touched, since someone could create it
 * (a link, say) between this check and the removal. throws StepError naming the directory.
 */
export function checkTrustedPath(dir: string, prefix: string): boolean {
  const root = resolve(prefix);
  let path = "";
  for (const part of resolve(dir).split(sep).filter(Boolean)) {
    path += `/${part}`;
    if (!pathExists(path)) return false;
    const problem = untrustedBecause(path, path !== root && !path.startsWith(`${root}/`));
    if (problem !== null)
      throw new StepError(problem, {
        hint: "nothing was removed: uninstall follows no symbolic link and removes nothing under a folder others control",
      });
  }
  return true;
}

/** True when `path` exists, itself: a symbolic link counts even when it leads nowhere. */
function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies `source` to `target` as a root-owned file of `mode` (no privilege), replacing it in one rename.
 * The temporary name is removed first and created exclusively, so nothing planted there is followed.
 */
function placeRootOwned(source: string, target: string, mode: number): void {
  const temporary = `${target}.new`;
  rmSync(temporary, { force: true });
  copyFileSync(source, temporary, constants.COPYFILE_EXCL);
  chownSync(temporary, 0, 0);
  chmodSync(temporary, mode);
  renameSync(temporary, target);
}

/** Compiles the shim for `helperPath` into `output` with the system C compiler; `programName` names it in its messages. */
function compileShim(helperPath: string, output: string, programName = "tap-bridge-helper"): void {
  const work = mkdtempSync(join(tmpdir(), "tl-shim-"));
  try {
    const source = join(work, "shim.c");
    writeFileSync(source, shimSource);
    run(
      [
        "cc",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fPIE",
        "-pie",
        "-D_FORTIFY_SOURCE=2",
        "-fstack-protector-strong",
        `-DTAP_HELPER_PATH="${helperPath}"`,
        `-DTAP_PROGRAM_NAME="${programName}"`,
        "-o",
        output,
        source,
      ],
      "compile the exec shim (is gcc installed? apt-get install gcc libc6-dev)",
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Makes `path` root-owned and privileged: setuid root, or cap_net_admin+p. The rule this design rests
 * on is checked here, where the privilege is granted: never on a Bun executable. throws StepError.
 */
export function grantPrivilege(path: string, mode: InstallMode): void {
  if (isBunExecutable(path)) {
    throw new StepError(
      `refusing to make ${path} privileged: it is a Bun executable, which obeys BUN_OPTIONS and BUN_BE_BUN before any of its own code runs`,
    );
  }
  chownSync(path, 0, 0);
  if (mode === "setuid") {
    chmodSync(path, 0o4755);
  } else {
    chmodSync(path, 0o755);
    run(["setcap", "cap_net_admin+p", path], "set cap_net_admin on the shim (is libcap2-bin installed?)");
  }
}

export interface InstallOptions {
  prefix: string;
  mode: InstallMode;
  /** The folder holding the freshly built tap-bridge-helper (and tap-launcher). */
  from: string;
}

/**
 * Installs as root: PREFIX/libexec/tap-bridge-helper.bun (the Bun helper, root-owned, mode 0755,
 * nothing privileged), PREFIX/libexec/tap-bridge-helper (the shim: setuid root, or cap_net_admin+p),
 * PREFIX/bin/tap-launcher when available, and the man pages the build made (FROM/man/manN/PAGE.N) as
 * PREFIX/share/man/manN/PAGE.N (root-owned, 0644). Every folder is checked (and the missing ones
 * made) before any file is written; files are written under temporary names and renamed, so a
 * half-done install never leaves a privileged shim pointing at nothing. throws StepError.
 */
export function installHelper(options: InstallOptions, log: ConsolaInstance): InstallLayout {
  if (process.getuid?.() !== 0) throw new StepError("install must run as root: it makes the shim privileged");
  if (!SAFE_PATH.test(options.prefix) || options.prefix.split("/").includes("..")) {
    throw new StepError(
      `--prefix must be an absolute path of letters, digits and ._+-/ without "..", not ${JSON.stringify(options.prefix)}`,
    );
  }
  const layout = installLayout(resolve(options.prefix));
  const builtHelper = join(options.from, "tap-bridge-helper");
  if (!existsSync(builtHelper)) throw new StepError(`no built helper at ${builtHelper}: run \`bun run build\` first`);
  if (!isBunExecutable(builtHelper)) throw new StepError(`${builtHelper} is not a Bun executable: rebuild it with \`bun run build\``);
  const pages = layout.manPages.map((page) => ({ built: join(options.from, page.built), path: page.path }));
  for (const { built } of pages) {
    if (!pathExists(built)) throw new StepError(`no built man page at ${built}: run \`bun run build\` first (it needs pandoc)`);
    // lstat: root copies it to a file everyone may read, so it must not lead anywhere else.
    if (!lstatSync(built).isFile()) throw new StepError(`${built} is not a regular file: rebuild the man pages with \`bun run build\``);
  }
  const builtLauncher = join(options.from, "tap-launcher");
  const withLauncher = existsSync(builtLauncher);

  // Every check before anything is written; nothing that exists is changed.
  const libexec = dirname(layout.shim);
  const nosuidMount = nosuidMountOf(libexec);
  if (nosuidMount !== null) {
    throw new StepError(
      `${libexec} is on a nosuid mount (${nosuidMount}): the kernel would ignore the shim's setuid bit and file capabilities, and every run would fail`,
      {
        hint: "install under a prefix on a mount without nosuid (findmnt -T DIR shows a folder's mount options), such as /usr/local",
      },
    );
  }
  makeTrustedPath(libexec, layout.prefix);
  if (withLauncher) makeTrustedPath(dirname(layout.launcher), layout.prefix);
  for (const { path } of pages) makeTrustedPath(dirname(path), layout.prefix);

  placeRootOwned(builtHelper, layout.helper, 0o755);
  log.success(`installed the Bun helper ${layout.helper} (root-owned, 0755, unprivileged)`);

  const shimTemp = `${layout.shim}.new`;
  rmSync(shimTemp, { force: true });
  compileShim(layout.helper, shimTemp);
  grantPrivilege(shimTemp, options.mode);
  renameSync(shimTemp, layout.shim);
  log.success(`installed the exec shim ${layout.shim} (${options.mode === "setuid" ? "setuid root" : "cap_net_admin+p, no root"})`);

  // tap-user-nic (lxc-user-nic's drop-in), when built: the same pair of an unprivileged Bun program and a privileged shim.
  const builtUserNic = join(options.from, "tap-user-nic");
  if (existsSync(builtUserNic)) {
    if (!isBunExecutable(builtUserNic)) throw new StepError(`${builtUserNic} is not a Bun executable: rebuild it with \`bun run build\``);
    placeRootOwned(builtUserNic, layout.userNicHelper, 0o755);
    rmSync(`${layout.userNicShim}.new`, { force: true });
    compileShim(layout.userNicHelper, `${layout.userNicShim}.new`, "tap-user-nic");
    grantPrivilege(`${layout.userNicShim}.new`, options.mode);
    renameSync(`${layout.userNicShim}.new`, layout.userNicShim);
    log.success(`installed tap-user-nic ${layout.userNicShim} beside ${layout.userNicHelper}`);
  }

  if (withLauncher) {
    placeRootOwned(builtLauncher, layout.launcher, 0o755);
    log.success(`installed the launcher ${layout.launcher}`);
  }
  for (const { built, path } of pages) placeRootOwned(built, path, 0o644);
  log.success(`installed the man pages ${pages.map(({ path }) => basename(path)).join(", ")} under ${join(layout.prefix, "share", "man")}`);

  for (const path of [layout.helper, layout.launcher, layout.userNicHelper]) {
    if (!existsSync(path)) continue;
    const privilege = privilegeOf(path);
    if (privilege.setuid || privilege.setgid || privilege.capabilities) {
      throw new StepError(`${path} is a Bun executable and carries privilege: remove it (tap-launcher uninstall)`);
    }
  }
  return layout;
}

/** Removes what install made under `prefix`, and the folders it made if they are left empty. */
export function uninstallHelper(prefix: string, log: ConsolaInstance): void {
  if (process.getuid?.() !== 0) throw new StepError("uninstall must run as root");
  const layout = installLayout(resolve(prefix));
  const files = [
    layout.shim,
    layout.helper,
    layout.userNicShim,
    layout.userNicHelper,
    layout.launcher,
    ...layout.manPages.map(({ path }) => path),
  ];
  const folders = [...new Set(files.map((path) => dirname(path)))];
  // Every folder checked before anything is removed, as install checks them before writing; in a
  // folder that does not (fully) exist there is nothing of ours to remove.
  const present = new Set(folders.filter((dir) => checkTrustedPath(dir, layout.prefix)));
  let removed = 0;
  for (const path of [...files, ...files.map((file) => `${file}.new`)]) {
    if (!present.has(dirname(path)) || !pathExists(path)) continue;
    if (lstatSync(path).isDirectory()) {
      log.warn(`left ${path} alone: it is a directory, which install never makes`);
      continue;
    }
    rmSync(path);
    removed += 1;
    log.success(`removed ${path}`);
  }
  // The folders install may have made, deepest first: share/man/man1 before share/man before share.
  const share = join(layout.prefix, "share");
  for (const dir of [...folders, join(share, "man"), share]) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty, or not there: leave it
    }
  }
  if (removed === 0) log.warn(`nothing of tap-launcher was installed under ${layout.prefix}`);
}
