// The one compiled program (`bun run build`): the bridge helper when called by a privileged program's name, else the launcher.
//
// Bun's runtime is in one executable, installed once as PREFIX/bin/tap-launcher and hard-linked as
// PREFIX/libexec/NAME.bun for each privileged program. The choice is the name in argv[0], which the
// exec shim sets (helper/shim.c: argv[0] = NAME, environment cleared, cwd /): nothing else a caller
// controls can reach the privileged process, and a caller who runs this program by another name runs
// it without privilege. Each branch imports its program lazily: the bundler keeps every module behind
// the import unevaluated until that import runs, so the helper evaluates only the helper's modules.
// One entry per privileged program (launcher/layout.ts, PRIVILEGED_PROGRAMS; tests/package/one-runtime.test.ts checks each).

/** The privileged programs by name, each a lazy import of its entry. */
const PRIVILEGED_ENTRIES: Record<string, () => Promise<unknown>> = {
  "tap-bridge-helper": () => import("../helper/main.ts"),
  "tap-user-nic": () => import("../helper/user-nic/main.ts"),
};

/** The program argv[0] names: its last path component without a `.bun` suffix. */
function programName(argv0: string): string {
  return (argv0.split("/").at(-1) ?? "").replace(/\.bun$/, "");
}

// Not awaited at top level, so that the module compiles to bytecode (which top-level await prevents).
const entry = Object.hasOwn(PRIVILEGED_ENTRIES, programName(process.argv0)) ? PRIVILEGED_ENTRIES[programName(process.argv0)] : undefined;
void (entry === undefined ? import("../launcher/main.ts") : entry());
