// Builds the programs once per ACL path for tests, and temporary folders removed after the run.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runOk } from "./proc.ts";

export const ROOT = resolve(import.meta.dir, "../..");
const builds = new Map<string, Promise<string>>();
const folders: string[] = [];

/** Removes every folder handed out so far (tests/support/preload.ts calls it after all tests). */
export function removeTempFolders(): void {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  builds.clear();
}

/**
 * The dist folder of a build whose programs read `aclFile` and `policyFile` (by default the
 * installed default path, absent on a host without a policy); built on first request.
 */
export function buildWithAcl(aclFile: string, policyFile = "/etc/qemu/bridge-policy.conf"): Promise<string> {
  const key = `${aclFile}\0${policyFile}`;
  let build = builds.get(key);
  if (build === undefined) {
    const outDir = mkdtempSync(join(tmpdir(), "tl-dist-"));
    folders.push(outDir);
    build = runOk([process.execPath, "run", "build"], {
      cwd: ROOT,
      env: { ...process.env, TAP_ACL_FILE: aclFile, TAP_POLICY_FILE: policyFile, TAP_OUT_DIR: outDir } as Record<string, string>,
    }).then(() => outDir);
    builds.set(key, build);
  }
  return build;
}

/** A build whose ACL, at a private path, allows br0: the folder and the two programs in it. */
export async function buildAllowingBr0(): Promise<{ dist: string; launcher: string; helper: string }> {
  const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(aclFile, "allow br0\n");
  const dist = await buildWithAcl(aclFile);
  return { dist, launcher: join(dist, "tap-launcher"), helper: join(dist, "tap-bridge-helper") };
}

/** Has `folder` removed after the run. */
export function removeAtExit(folder: string): void {
  folders.push(folder);
}

/** A temporary folder removed after the run. */
export function tempFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}
