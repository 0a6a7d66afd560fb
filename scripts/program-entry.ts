// The one compiled program (`bun run build`): the bridge helper when called by a privileged program's name, else the launcher.
// argv[0] chooses, as the exec shim sets it; each branch is a lazy import, so the helper evaluates only its own
// modules. Why this is safe: docs/packaging.md, "Bun's runtime once".

/** The privileged programs by name (launcher/layout.ts, PRIVILEGED_PROGRAMS), each a lazy import of its entry. */
const PRIVILEGED_ENTRIES: Record<string, () => Promise<unknown>> = {
  "tap-bridge-helper": () => import("../helper/main.ts"),
  "tap-user-nic": () => import("../helper/user-nic/main.ts"),
};

// argv[0]'s last path component less a `.bun` suffix. Not awaited: top-level await prevents compiling to bytecode.
const name = (process.argv0.split("/").at(-1) ?? "").replace(/\.bun$/, "");
void (Object.hasOwn(PRIVILEGED_ENTRIES, name) ? PRIVILEGED_ENTRIES[name]?.() : import("../launcher/main.ts"));
