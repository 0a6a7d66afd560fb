// `bun run audit-lines`: how many lines an auditor reads for the privileged path, from the helper's real import graph.
//
// The rule (README, "What to audit"): helper/shim.c, which runs privileged, plus every module of this
// repository that Bun's bundler puts into the helper (helper/main.ts and what it imports, transitively:
// all of it is evaluated before the helper sends the fd), every line counted, comments and blank lines
// included. The npm packages in that graph (citty, consola/core) are listed and counted apart: they are
// pinned, read once per version, not per change. `--total` prints the first figure alone.
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const SHIM = "helper/shim.c";

function lineCount(path: string): number {
  const text = readFileSync(path, "utf8");
  return text === "" ? 0 : text.replace(/\n$/, "").split("\n").length;
}

/** Every file the bundler takes into the program built from `entries`, relative to the repository. */
export async function importGraph(entries: readonly string[]): Promise<string[]> {
  const build = await Bun.build({
    entrypoints: entries.map((entry) => resolve(root, entry)),
    target: "bun",
    metafile: true,
    // As scripts/build.ts builds it (the value changes no import).
    define: {
      TAP_BUILD_ACL_FILE: JSON.stringify("/etc/qemu/bridge.conf"),
      TAP_BUILD_POLICY_FILE: JSON.stringify("/etc/qemu/bridge-policy.conf"),
      TAP_BUILD_VERSION: JSON.stringify("0"),
    },
  });
  if (!build.success || build.metafile === undefined) throw new Error(`cannot bundle ${entries.join(", ")}: ${build.logs.join("\n")}`);
  // The metafile names inputs relative to the working directory.
  return Object.keys(build.metafile.inputs).map((input) => relative(root, resolve(input)));
}

export interface AuditCount {
  /** The project's own files: the shim and the helper's modules, with their line counts. */
  own: { file: string; lines: number }[];
  /** npm packages' files in the graph. */
  packages: { file: string; lines: number }[];
  ownTotal: number;
  packagesTotal: number;
}

export async function countAuditLines(): Promise<AuditCount> {
  const files = [SHIM, ...new Set(await importGraph(["helper/main.ts", "helper/watchdog.ts"]))];
  const counted = files.map((file) => ({ file, lines: lineCount(resolve(root, file)) }));
  const own = counted.filter(({ file }) => !file.includes("node_modules/")).sort((a, b) => a.file.localeCompare(b.file));
  const packages = counted.filter(({ file }) => file.includes("node_modules/")).sort((a, b) => a.file.localeCompare(b.file));
  const sum = (list: { lines: number }[]) => list.reduce((total, { lines }) => total + lines, 0);
  return { own, packages, ownTotal: sum(own), packagesTotal: sum(packages) };
}

if (import.meta.main) {
  const count = await countAuditLines();
  if (process.argv.includes("--total")) {
    console.log(count.ownTotal);
  } else {
    for (const { file, lines } of count.own) console.log(`${String(lines).padStart(6)}  ${file}`);
    console.log(
      `${String(count.ownTotal).padStart(6)}  the privileged path: the shim and the helper's own modules (${count.own.length} files)`,
    );
    for (const { file, lines } of count.packages) console.log(`${String(lines).padStart(6)}  ${file.slice(file.indexOf("node_modules/"))}`);
    console.log(`${String(count.packagesTotal).padStart(6)}  npm packages the helper imports (${count.packages.length} files)`);
  }
}
