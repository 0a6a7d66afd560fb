// Installing the helper for real use: the Bun helper unprivileged, beside a compiled exec shim that alone is privileged.
import {
  chmodSync,
  chownSync,
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import type { ConsolaInstance } from "consola";
import { isBunExecutable } from "../shared/bun-binary.ts";
import { StepError } from "../shared/errors.ts";
import { extendedAttribute } from "../shared/libc-launcher.ts";
import { copyBuildFile, readBuildFile } from "./build-file.ts";
import { installLayout, privilegedFiles, type InstallLayout } from "./layout.ts";
import { nosuidMountOf } from "./mounts.ts";
import { BUILT_SHIMS, type BuildSettings, compileShim, SAFE_PATH, SHIM_SOURCE } from "./shim.ts";

export type InstallMode = "setuid" | "caps";

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
export function checkTrustedPath(
  dir: string,
  prefix: string,
  hint = "nothing was removed: uninstall follows no symbolic link and removes nothing under a folder others control",
): boolean {
  const root = resolve(prefix);
  let path = "";
  for (const part of resolve(dir).split(sep).filter(Boolean)) {
    path += `/${part}`;
    if (!pathExists(path)) return false;
    const problem = untrustedBecause(path, path !== root && !path.startsWith(`${root}/`));
    if (problem !== null) throw new StepError(problem, { hint });
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
 * Copies `source` to `target` (mode `mode`, root-owned when `asRoot`), replacing it in one rename;
 * `beforeRename` may change the copy first (grant it privilege), so that nothing half-made is ever
 * at `target`. The temporary name is removed first and created exclusively, so nothing planted there
 * is followed; `source` is read through a descriptor that refuses a link or anything but a regular file.
 */
function placeFile(source: string, target: string, mode: number, asRoot: boolean, beforeRename?: (temporary: string) => void): void {
  const temporary = `${target}.new`;
  rmSync(temporary, { force: true });
  copyBuildFile(source, temporary);
  finishPlacing(temporary, target, mode, asRoot, beforeRename);
}

/** Sets `temporary`'s owner and mode, lets `beforeRename` change it, and renames it to `target`. */
function finishPlacing(temporary: string, target: string, mode: number, asRoot: boolean, beforeRename?: (temporary: string) => void): void {
  if (asRoot) chownSync(temporary, 0, 0);
  chmodSync(temporary, mode);
  beforeRename?.(temporary);
  renameSync(temporary, target);
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

/** Refuses a folder on a nosuid mount, where the kernel would ignore what grant gives. throws StepError. */
function refuseNosuid(folder: string): void {
  const nosuidMount = nosuidMountOf(folder);
  if (nosuidMount === null) return;
  throw new StepError(
    `${folder} is on a nosuid mount (${nosuidMount}): the kernel would ignore the shim's setuid bit and file capabilities, and every run would fail`,
    {
      hint: "install under a prefix on a mount without nosuid (findmnt -T DIR shows a folder's mount options), such as /usr/local",
    },
  );
}

/**
 * `tap-launcher grant`: what a package's postinst does to an installed shim. The file must be a
 * regular file (no symbolic link), already root-owned (whoever owns it chose its content), not a Bun
 * executable, in folders that are root's and not writable by others from / down, on a mount without
 * nosuid. Then it becomes setuid root (04755) or cap_net_admin+p (0755). throws StepError.
 */
export function grantInstalledShim(path: string, mode: InstallMode): void {
  if (process.getuid?.() !== 0) throw new StepError("grant must run as root: it makes the shim privileged");
  const file = resolve(path);
  if (!pathExists(file)) throw new StepError(`no file at ${file}`);
  const stat = lstatSync(file);
  if (!stat.isFile()) throw new StepError(`${file} is not a regular file: give the shim's own path, not a link to it`);
  if (stat.uid !== 0) {
    throw new StepError(`${file} is owned by uid ${stat.uid}, not root: its owner chose its content`, {
      hint: "check it is the shim the build made, then chown root:root it (a package's files are root's already)",
    });
  }
  checkTrustedPath(dirname(file), dirname(file), "nothing was granted: only a shim in folders root alone controls may be made privileged");
  refuseNosuid(dirname(file));
  grantPrivilege(file, mode);
}

export interface InstallOptions {
  prefix: string;
  mode: InstallMode;
  /** The folder holding the freshly built programs, their shims (shim/) and man pages (man/). */
  from: string;
  /** Stage the files under DESTDIR+PREFIX and grant nothing (a package's build): no root needed. */
  destdir?: string;
}

/** One file of an installation: where the build has it, where it goes, and its mode. */
interface PlannedFile {
  built: string;
  path: string;
  mode: number;
  /** The privileged program this file is the exec shim of. */
  shimOf?: string;
  /** A file placed before this one holding the same program: this one is a hard link to it. */
  sameAs?: string;
}

/**
 * The shim for `name` that executes PREFIX/libexec/NAME.bun. Staging: the build's own (FROM/shim/NAME)
 * when it was built for this prefix. Otherwise, and always when it is to be granted privilege, one
 * compiled now into `scratch` (root's, 0700) from the build's copy of the source (FROM/shim/shim.c;
 * the C compiler is needed): root never makes privileged a file whose bytes it did not check. The
 * build's own shim for this prefix, when there, must then be that compile byte for byte (the build
 * is reproducible), or the build is refused: it is not what its source makes.
 */
function shimFor(from: string, prefix: string, name: string, toGrant: boolean, scratch: () => string, log: ConsolaInstance): string {
  const settingsFile = join(from, BUILT_SHIMS, "build.json");
  const built = join(from, BUILT_SHIMS, name);
  let prebuilt: string | null = null;
  if (pathExists(settingsFile) && pathExists(built)) {
    const settings = JSON.parse(readBuildFile(settingsFile).toString("utf8")) as BuildSettings;
    if (settings.prefix === prefix) prebuilt = built;
    else log.info(`the build's shim for ${name} executes ${privilegedFiles(settings.prefix, name).helper}: compiling one for ${prefix}`);
  }
  if (prebuilt !== null && !toGrant) return prebuilt;
  const source = join(from, BUILT_SHIMS, SHIM_SOURCE);
  if (!pathExists(source)) {
    throw new StepError(`no shim source at ${source} to compile ${name}'s shim for ${prefix}: run \`bun run build\` first`);
  }
  const output = join(scratch(), name);
  compileShim(source, name, privilegedFiles(prefix, name).helper, output);
  if (prebuilt !== null && !readBuildFile(prebuilt).equals(readFileSync(output))) {
    throw new StepError(`refusing ${prebuilt}: it is not what ${source} compiles to for ${prefix}, so it is not the build's own shim`, {
      hint: "nothing was installed: rebuild with `bun run build` (as root, or copy the build to a root-owned folder) and install again",
    });
  }
  return output;
}

/**
 * Refuses a build folder someone other than root could change (before anything is read from it):
 * FROM, every folder from / down to it, and the folders below it install reads from (shim/, man/,
 * man/manN/) must be root's and not writable by group or others, none a symbolic link. A sticky
 * folder such as /tmp is accepted above FROM only, as for the prefix: others cannot rename or remove
 * root's folder in it, and cannot write in that folder. Returns FROM as a real path. throws StepError.
 */
function checkBuildFolder(from: string, layout: InstallLayout): string {
  const hint =
    "nothing was installed: root copies the build's programs and makes its shims privileged, so the build must be in folders root alone controls: build as root, or copy the build to a root-owned folder no one else can write (e.g. cp -r dist /root/tap-build)";
  let real: string;
  try {
    real = realpathSync(from);
  } catch {
    throw new StepError(`no build folder at ${from}: run \`bun run build\` first`);
  }
  const folders = [real, join(real, BUILT_SHIMS), ...layout.manPages.map(({ built }) => dirname(join(real, built)))];
  for (const folder of new Set(folders)) checkTrustedPath(folder, real, hint);
  return real;
}

/** Every file of an installation under `layout.prefix`, from the build in `from`, checked before anything is written. */
function planFiles(layout: InstallLayout, from: string, toGrant: boolean, scratch: () => string, log: ConsolaInstance): PlannedFile[] {
  const files: PlannedFile[] = [];
  const builtLauncher = join(from, "tap-launcher");
  const withLauncher = existsSync(builtLauncher);
  if (withLauncher) files.push({ built: builtLauncher, path: layout.launcher, mode: 0o755 });
  for (const { name, shim, helper } of layout.privileged) {
    const builtHelper = join(from, name);
    if (!existsSync(builtHelper)) throw new StepError(`no built helper at ${builtHelper}: run \`bun run build\` first`);
    if (!isBunExecutable(builtHelper)) throw new StepError(`${builtHelper} is not a Bun executable: rebuild it with \`bun run build\``);
    // The build's one program under two names: installed once, Bun's runtime with it.
    const sameAs = withLauncher && sameFile(builtHelper, builtLauncher) ? layout.launcher : undefined;
    files.push({ built: builtHelper, path: helper, mode: 0o755, sameAs });
    files.push({ built: shimFor(from, layout.prefix, name, toGrant, scratch, log), path: shim, mode: 0o755, shimOf: name });
  }
  for (const page of layout.manPages) {
    const built = join(from, page.built);
    if (!pathExists(built)) throw new StepError(`no built man page at ${built}: run \`bun run build\` first (it needs pandoc)`);
    // lstat: root copies it to a file everyone may read, so it must not lead anywhere else.
    if (!lstatSync(built).isFile()) throw new StepError(`${built} is not a regular file: rebuild the man pages with \`bun run build\``);
    files.push({ built, path: page.path, mode: 0o644 });
  }
  return files;
}

/** True when `a` and `b` are one file (hard links). */
function sameFile(a: string, b: string): boolean {
  const [first, second] = [statSync(a), statSync(b)];
  return first.dev === second.dev && first.ino === second.ino;
}

/**
 * Places `target` as a hard link to `existing` (placed just before, root's, 0755), through a
 * temporary name and a rename; where they are on different filesystems (EXDEV), as a copy.
 */
function placeLink(existing: string, target: string, mode: number, asRoot: boolean): void {
  const temporary = `${target}.new`;
  rmSync(temporary, { force: true });
  try {
    linkSync(existing, temporary);
  } catch (err) {
    if ((err as { code?: string }).code !== "EXDEV") throw err;
    copyFileSync(existing, temporary, constants.COPYFILE_EXCL);
  }
  finishPlacing(temporary, target, mode, asRoot);
}

/**
 * Installs PREFIX/libexec/NAME.bun (each privileged Bun program, root-owned, mode 0755, nothing
 * privileged), PREFIX/libexec/NAME (its exec shim: setuid root, or cap_net_admin+p), PREFIX/bin/tap-launcher
 * when built, and the man pages the build made (FROM/man/manN/PAGE.N) as PREFIX/share/man/manN/PAGE.N
 * (0644). As root without `destdir`: every folder is checked (and the missing ones made) before any
 * file is written, and files are written under temporary names and renamed, each shim granted its
 * privilege before its rename, so a half-done install never leaves a privileged shim pointing at
 * nothing. With `destdir`: the same files under DESTDIR+PREFIX, unprivileged, for a package (its
 * postinst or `tap-launcher grant` grants). throws StepError.
 */
export function installHelper(options: InstallOptions, log: ConsolaInstance): InstallLayout {
  const asRoot = process.getuid?.() === 0;
  const staging = options.destdir !== undefined;
  if (!staging && !asRoot) throw new StepError("install must run as root: it makes the shim privileged (or stage with --destdir=DIR)");
  if (!SAFE_PATH.test(options.prefix) || options.prefix.split("/").includes("..")) {
    throw new StepError(
      `--prefix must be an absolute path of letters, digits and ._+-/ without "..", not ${JSON.stringify(options.prefix)}`,
    );
  }
  const layout = installLayout(resolve(options.prefix));
  const destdir = staging ? resolve(options.destdir ?? "") : "/";
  const onDisk = (path: string) => join(destdir, path);
  let scratchFolder: string | null = null;
  const scratch = () => {
    scratchFolder ??= mkdtempSync(join(tmpdir(), "tl-install-"));
    return scratchFolder;
  };
  // Every check before anything is written; nothing that exists is changed. Root checks the folders
  // it writes in also when staging, since someone else may own DESTDIR.
  if (!staging) refuseNosuid(dirname(layout.shim));
  const from = staging ? options.from : checkBuildFolder(options.from, layout);
  try {
    const files = planFiles(layout, from, !staging, scratch, log);
    for (const dir of new Set(files.map(({ path }) => dirname(onDisk(path))))) {
      if (asRoot) makeTrustedPath(dir, staging ? destdir : layout.prefix);
      else mkdirSync(dir, { recursive: true, mode: 0o755 });
    }
    for (const { built, path, mode, shimOf, sameAs } of files) {
      const grant = staging || shimOf === undefined ? undefined : (temporary: string) => grantPrivilege(temporary, options.mode);
      if (sameAs === undefined) placeFile(built, onDisk(path), mode, asRoot, grant);
      else placeLink(onDisk(sameAs), onDisk(path), mode, asRoot);
      log.success(`${staging ? "staged" : "installed"} ${onDisk(path)}${describePlaced(path, layout, staging ? null : options.mode)}`);
    }
  } finally {
    if (scratchFolder !== null) rmSync(scratchFolder, { recursive: true, force: true });
  }
  for (const path of [...layout.privileged.map(({ helper }) => helper), layout.launcher].map(onDisk)) {
    if (!existsSync(path)) continue;
    const privilege = privilegeOf(path);
    if (privilege.setuid || privilege.setgid || privilege.capabilities) {
      throw new StepError(`${path} is a Bun executable and carries privilege: remove it (tap-launcher uninstall)`);
    }
  }
  if (staging) {
    const shims = layout.privileged.map(({ shim }) => shim).join(" ");
    log.info(`nothing was made privileged: once installed, as root: tap-launcher grant --mode=setuid|caps ${shims}`);
  }
  return layout;
}

/** What an installed file is, for the log line after its path. */
function describePlaced(path: string, layout: InstallLayout, mode: InstallMode | null): string {
  const program = layout.privileged.find(({ shim, helper }) => path === shim || path === helper);
  if (program === undefined) return "";
  if (path === program.helper) return ` (${program.name}'s Bun program, one with the launcher: 0755, unprivileged)`;
  if (mode === null) return ` (the exec shim of ${program.name}: 0755, not yet privileged)`;
  return ` (the exec shim of ${program.name}: ${mode === "setuid" ? "setuid root" : "cap_net_admin+p, no root"})`;
}

/** Removes what install made under `prefix`, and the folders it made if they are left empty. */
export function uninstallHelper(prefix: string, log: ConsolaInstance): void {
  if (process.getuid?.() !== 0) throw new StepError("uninstall must run as root");
  const layout = installLayout(resolve(prefix));
  const files = [
    ...layout.privileged.flatMap(({ shim, helper }) => [shim, helper]),
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
