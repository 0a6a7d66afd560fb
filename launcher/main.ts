// tap-launcher: run a guest on a TAP from the bridge helper (or an unmanaged TAP); install; doctor.
//
// Exit status: the guest's own status (128 + signal if it was killed); 1 a bad command line, a failed
// step or a problem doctor found; 127 the guest command could not be started.
import { defineCommand } from "citty";
//
// Each command's module is imported only when it runs (or its --help is shown), so that
// `sudo tap-launcher install` evaluates the install code and nothing of the run/relay graph.
import { runCommandLine } from "./cli.ts";

const main = defineCommand({
  meta: {
    name: "tap-launcher",
    version: "0.1.0",
    description: [
      "Give a guest layer-2 access to a host bridge: the TAP comes from the bridge helper (or is an",
      "unmanaged one) and is fd 3 of the guest, with TAP_FD=3 and TAP_IFNAME in its environment.",
      "",
      "Examples:",
      "  tap-launcher --br=br0 -- qemu-system-x86_64 -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0 ...",
      "  tap-launcher --tap=tap-alice --unmanaged -- qemu-system-x86_64 -netdev tap,id=n0,fd=3 ...",
      "  sudo tap-launcher install --mode=caps && tap-launcher doctor",
    ].join("\n"),
  },
  // The launcher's options on the root too, for --help; `run` is the default command.
  args: () => import("./commands/run.ts").then((module) => module.runArgs),
  default: "run",
  subCommands: {
    run: () => import("./commands/run.ts").then((module) => module.run),
    install: () => import("./commands/install.ts").then((module) => module.install),
    uninstall: () => import("./commands/install.ts").then((module) => module.uninstall),
    doctor: () => import("./commands/doctor.ts").then((module) => module.doctor),
  },
});

// citty defines the commands and renders --help; the command line itself is checked strictly first.
await runCommandLine(main, process.argv.slice(2), "run");
