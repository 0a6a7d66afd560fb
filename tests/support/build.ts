// Builds the programs once per ACL path for tests, into a temporary folder removed at exit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runOk } from "./proc.ts";

export const ROOT = resolve(import.meta.dir, "../..");
const builds = new Map<string, Promise<string>>();
const folders: string[] = [];
process.on("exit", () => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** The dist folder of a build whose helper reads `aclFile`; built on first request. */
export function buildWithAcl(aclFile: string): Promise<string> {
  let build = builds.get(aclFile);
  if (build === undefined) {
    const outDir = mkdtempSync(join(tmpdir(), "tl-dist-"));
    folders.push(outDir);
    build = runOk([process.execPath, "run", "build"], {
      cwd: ROOT,
      env: { ...process.env, TAP_ACL_FILE: aclFile, TAP_OUT_DIR: outDir } as Record<string, string>,
    }).then(() => outDir);
    builds.set(aclFile, build);
  }
  return build;
}

/** A temporary folder removed when the test process exits. */
export function tempFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}
