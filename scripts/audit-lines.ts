// `bun run audit-lines`: how many lines an auditor reads for each privileged program, and what each part costs, from the real import graphs.
//
// The rule (docs/line-budget.md): what runs privileged is helper/shim.c, the compiled program's entry
// (scripts/program-entry.ts, which picks the program by argv[0]), and every module of this repository
// that Bun's bundler puts into that program (its entry and the watchdog Worker, transitively: all of it
// is evaluated before the program sends the fd or names the device). Every line is counted, comments and
// blank lines included; each total also says how many are code (neither blank nor comment). The npm
// packages in a graph (citty, consola/core) are listed and counted apart: they are pinned, read once
// per version, not per change. `--total` prints the TAP helper's figure alone.
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
/** Privileged before any program's own module runs: the exec shim and the program's entry. */
const ALWAYS = ["helper/shim.c", "scripts/program-entry.ts"];
const WATCHDOG = "helper/watchdog.ts";
/** The privileged programs' entries (scripts/program-entry.ts names the same two). */
const PROGRAMS = { "tap-bridge-helper": "helper/main.ts", "tap-user-nic": "helper/user-nic/main.ts" } as const;
/**
 * The anti-spoofing feature's roots (docs/anti-spoofing.md): the port's binding and filter, and the
 * parser of the addresses and MAC it binds (which the policy's ip= and --mac reach). What only they
 * reach is that feature's cost.
 */
const ANTI_SPOOFING_ROOTS = ["helper/port-binding.ts", "policy/address-prefix.ts"];

/** A file's lines, and of them its code: neither blank nor only a comment (a line comment, or a block comment from a line's start). */
function lineCount(path: string): { lines: number; code: number } {
  const text = readFileSync(path, "utf8");
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  let code = 0;
  let inComment = false;
  for (const line of lines.map((each) => each.trim())) {
    if (inComment) inComment = !line.includes("*/");
    else if (line.startsWith("/*")) inComment = !line.includes("*/");
    else if (line !== "" && !line.startsWith("//")) code += 1;
  }
  return { lines: lines.length, code };
}

/** The bundler's graph of the program built from `entries`: each file (relative to the repository) and what it imports. */
async function bundleGraph(entries: readonly string[]): Promise<Map<string, string[]>> {
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
  const { inputs } = build.metafile;
  const local = (input: string) => relative(root, resolve(input));
  // Built-in modules (bun:ffi, node:fs) are imports but no inputs: nothing to read.
  return new Map(
    Object.entries(inputs).map(([input, { imports }]) => [
      local(input),
      imports.filter(({ path }) => Object.hasOwn(inputs, path)).map(({ path }) => local(path)),
    ]),
  );
}

/** Every file the bundler takes into the program built from `entries`, relative to the repository. */
export async function importGraph(entries: readonly string[]): Promise<string[]> {
  return [...(await bundleGraph(entries)).keys()];
}

/** The files reachable from `entries` in `graph` without passing through `avoid`. */
function reachable(graph: Map<string, string[]>, entries: readonly string[], avoid: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (avoid.includes(file) || seen.has(file)) return;
    seen.add(file);
    for (const next of graph.get(file) ?? []) visit(next);
  };
  for (const entry of entries) visit(entry);
  return seen;
}

interface FileCount {
  file: string;
  lines: number;
  code: number;
}
interface Part {
  files: FileCount[];
  total: number;
  /** Of `total`, the lines of code. */
  code: number;
}
export interface AuditCount {
  /** Each privileged program's own files (the shim and the entry included) and the union of both. */
  programs: Record<keyof typeof PROGRAMS | "union", Part>;
  /** The parts docs cost: the TAP helper with its policy and multiqueue; tap-user-nic's own files (veth); anti-spoofing. */
  parts: { core: Part; veth: Part; antiSpoofing: Part };
  /** npm packages' files in either graph. */
  packages: Part;
}

function part(files: Iterable<string>): Part {
  const counted = [...new Set(files)].sort().map((file) => ({ file, ...lineCount(resolve(root, file)) }));
  const sum = (of: (count: FileCount) => number) => counted.reduce((total, count) => total + of(count), 0);
  return { files: counted, total: sum(({ lines }) => lines), code: sum(({ code }) => code) };
}

const isPackage = (file: string) => file.includes("node_modules/");

export async function countAuditLines(): Promise<AuditCount> {
  const tapEntries = [PROGRAMS["tap-bridge-helper"], WATCHDOG];
  const nicEntries = [PROGRAMS["tap-user-nic"], WATCHDOG];
  const tapGraph = await bundleGraph(tapEntries);
  const nicGraph = await bundleGraph(nicEntries);
  const own = (files: Iterable<string>) => [...ALWAYS, ...[...files].filter((file) => !isPackage(file))];
  const tap = own(tapGraph.keys());
  const nic = own(nicGraph.keys());
  const core = own(reachable(tapGraph, tapEntries, ANTI_SPOOFING_ROOTS));
  const coreSet = new Set(core);
  const allPackages = [...tapGraph.keys(), ...nicGraph.keys()].filter(isPackage);
  return {
    programs: { "tap-bridge-helper": part(tap), "tap-user-nic": part(nic), union: part([...tap, ...nic]) },
    parts: {
      core: part(core),
      veth: part(nic.filter((file) => !tap.includes(file))),
      antiSpoofing: part(tap.filter((file) => !coreSet.has(file))),
    },
    packages: part(allPackages),
  };
}

if (import.meta.main) {
  const count = await countAuditLines();
  const line = (lines: number, what: string) => console.log(`${String(lines).padStart(6)}  ${what}`);
  if (process.argv.includes("--total")) {
    console.log(count.programs["tap-bridge-helper"].total);
  } else {
    const { core, veth, antiSpoofing } = count.parts;
    const listed: [string, Part][] = [
      ["core: the shim, the entry, the TAP helper with its policy and multiqueue", core],
      ["veth: tap-user-nic's own files", veth],
      [`anti-spoofing: what only ${ANTI_SPOOFING_ROOTS.join(" and ")} reach`, antiSpoofing],
    ];
    // Which program evaluates a core file: tap-user-nic's path is veth plus the core files not marked.
    const nic = new Set(count.programs["tap-user-nic"].files.map(({ file }) => file));
    for (const [what, part] of listed) {
      const { files, total } = part;
      for (const { file, lines } of files) line(lines, part === core && !nic.has(file) ? `${file}  (tap-bridge-helper only)` : file);
      line(total, `${what} (${files.length} files; ${part.code} lines of code)`);
      console.log();
    }
    const code = (lines: number) => `; ${lines} lines of code`;
    const { union } = count.programs;
    const [tapPath, nicPath] = [count.programs["tap-bridge-helper"], count.programs["tap-user-nic"]];
    line(tapPath.total, `tap-bridge-helper: core + anti-spoofing${code(tapPath.code)}`);
    line(nicPath.total, `tap-user-nic: veth + the core files it shares${code(nicPath.code)}`);
    line(union.total, `both privileged programs: core + veth + anti-spoofing${code(union.code)}`);
    line(core.total + veth.total, `core + veth (the budget's scope)${code(core.code + veth.code)}`);
    console.log();
    for (const { file, lines } of count.packages.files) line(lines, file.slice(file.indexOf("node_modules/")));
    line(count.packages.total, `npm packages the privileged programs import (${count.packages.files.length} files)`);
  }
}
