// The .deb files `bun run package` makes from a clean clone of the committed tree, built once per test process.
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { ROOT, tempFolder } from "../support/build.ts";
import { run, runOk } from "../support/proc.ts";
import { sharedFolder } from "../support/users.ts";

export interface BuiltDebs {
  /** The commit built. */
  commit: string;
  main: string;
  qemuHelper: string;
  lxcUserNic: string;
  /** What `bun run package` printed. */
  output: string;
}

let built: Promise<BuiltDebs> | undefined;

/** Clones HEAD (committed files only, as CI sees them), links the installed node_modules, runs `bun run package`. */
export function builtDebs(): Promise<BuiltDebs> {
  built ??= (async () => {
    const commit = (await runOk(["git", "-C", ROOT, "rev-parse", "HEAD"])).trim();
    const clone = join(tempFolder("tl-clone-"), "tap-launcher");
    await runOk(["git", "clone", "--quiet", "--no-checkout", ROOT, clone]);
    await runOk(["git", "-C", clone, "checkout", "--quiet", commit]);
    symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));
    const out = sharedFolder("tl-debs-");
    const result = await run([process.execPath, "run", "package"], {
      cwd: clone,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", TAP_OUT_DIR: out },
    });
    if (result.exitCode !== 0) throw new Error(`bun run package failed (${result.exitCode}): ${result.stderr}${result.stdout}`);
    const version = packageJson.version;
    const arch = (await runOk(["dpkg", "--print-architecture"])).trim();
    return {
      commit,
      main: join(out, `tap-launcher_${version}_${arch}.deb`),
      qemuHelper: join(out, `tap-launcher-qemu-helper_${version}_all.deb`),
      lxcUserNic: join(out, `tap-launcher-lxc-user-nic_${version}_all.deb`),
      output: result.stdout + result.stderr,
    };
  })();
  return built;
}
