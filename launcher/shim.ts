// Compiling the exec shim (helper/shim.c, copied into each build) for one privileged program: at build time, or at install for another prefix.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { StepError } from "../shared/errors.ts";
import { copyBuildFile } from "./build-file.ts";

/**
 * Hardened as Debian's dpkg-buildflags would (PIE, stack protector, fortify, full RELRO, bind now) and
 * stripped: no debug section records a build folder, so the same compiler, source and paths give the
 * same bytes whoever compiles it (the staged-then-granted shim is byte for byte the installed one).
 */
const CFLAGS = [
  "-O2",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-Wformat",
  "-Werror=format-security",
  "-fPIE",
  "-pie",
  "-D_FORTIFY_SOURCE=2",
  "-fstack-protector-strong",
  "-Wl,-z,relro,-z,now",
  "-s",
];

/** The folder of a build (dist/) holding the compiled shims, one per privileged program, build.json and the source. */
export const BUILT_SHIMS = "shim";

/**
 * The shim's C source in that folder: `bun run build` copies helper/shim.c there, and install reads it
 * from the build it installs from, so the launcher's code takes nothing from helper/.
 */
export const SHIM_SOURCE = "shim.c";

/** What shim/build.json records: the prefix the build's shims were compiled for. */
export interface BuildSettings {
  prefix: string;
}

/** Characters allowed in a path compiled into C: it must need no quoting anywhere. */
export const SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;

/**
 * Compiles `source` (the shim's C file) as the shim of program `name` (argv[0] and messages), which
 * executes `helperPath`, into `output` with the system C compiler. throws StepError when the compiler
 * fails or a path needs quoting.
 */
export function compileShim(source: string, name: string, helperPath: string, output: string): void {
  if (!SAFE_PATH.test(helperPath) || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new StepError(`cannot compile a shim for ${JSON.stringify(name)} at ${JSON.stringify(helperPath)}: the path needs quoting`);
  }
  const work = mkdtempSync(join(tmpdir(), "tl-shim-"));
  try {
    // Copied through a descriptor opened without following a link: the file compiled is the one checked,
    // never one swapped in after (the compiler's errors would print its lines).
    copyBuildFile(source, join(work, "shim.c"));
    const cmd = ["cc", ...CFLAGS, `-DTAP_PROGRAM_NAME="${name}"`, `-DTAP_HELPER_PATH="${helperPath}"`, "-o", resolve(output), "shim.c"];
    const result = Bun.spawnSync({
      cmd,
      cwd: work,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    if (result.exitCode !== 0) {
      throw new StepError(`failed to compile the exec shim for ${name}: cc exited ${result.exitCode}: ${result.stderr.toString().trim()}`, {
        hint: "is a C compiler installed? apt-get install gcc libc6-dev",
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
