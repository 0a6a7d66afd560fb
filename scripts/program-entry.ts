// The one compiled program (`bun run build`): the bridge helper when called by a privileged program's name, else the launcher.
// argv[0] chooses, as the exec shim sets it; each branch is a lazy import, so the helper evaluates only its own
// modules. Why this is safe: docs/packaging.md, "Bun's runtime once".

// argv[0]'s last path component less a `.bun` suffix. No RegExp, Array#at or Object.hasOwn: each costs its first use at every
// start (docs/benchmarks.md, "First uses"). Not awaited: top-level await prevents compiling to bytecode.
const base = process.argv0.slice(process.argv0.lastIndexOf("/") + 1);
const name = base.endsWith(".bun") ? base.slice(0, -".bun".length) : base;
// The privileged programs by name (launcher/layout.ts, PRIVILEGED_PROGRAMS), each a lazy import of its entry.
if (name === "tap-bridge-helper") void import("../helper/main.ts");
else if (name === "tap-user-nic") void import("../helper/user-nic/main.ts");
else void import("../launcher/main.ts");
