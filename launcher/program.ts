// The launcher's command definition: its commands, their options (citty ArgsDef) and its version.
import { defineCommand } from "citty";
import { VERSION } from "../shared/version.ts";

export { VERSION } from "../shared/version.ts";

export const launcherCommand = defineCommand({
  meta: {
    name: "tap-launcher",
    version: VERSION,
    description: [
      "Give a guest layer-2 access to a host bridge: the TAP comes from the bridge",
      "helper (or is an unmanaged one) and is fd 3 of the guest, with TAP_FD=3 and",
      "TAP_IFNAME in its environment. The reference is tap-launcher(1).",
      "",
      "Examples:",
      "  tap-launcher --br=br0 -- qemu-system-x86_64 \\",
      "      -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0 ...",
      "  tap-launcher --tap=tap-alice --unmanaged -- qemu-system-x86_64 \\",
      "      -netdev tap,id=n0,fd=3 ...",
      "  sudo tap-launcher install --mode=caps && tap-launcher doctor",
    ].join("\n"),
  },
  // Shown by `tap-launcher --help` only: a command line is checked against the chosen command's own
  // options (`run` by default); --help and --version are every command's (launcher/argv.ts).
  // Each command's module is imported only when it runs (or its --help is shown), so that
  // `sudo tap-launcher install` evaluates the install code and nothing of the run/relay graph.
  args: () => import("./commands/run.ts").then((module) => module.runArgs),
  default: "run",
  subCommands: {
    run: () => import("./commands/run.ts").then((module) => module.run),
    install: () => import("./commands/install.ts").then((module) => module.install),
    grant: () => import("./commands/install.ts").then((module) => module.grant),
    uninstall: () => import("./commands/install.ts").then((module) => module.uninstall),
    doctor: () => import("./commands/doctor.ts").then((module) => module.doctor),
  },
});
