// tap-launcher: install the bridge helper, check a machine with doctor, and (issue 4) run guests on a TAP.
//
// Exit status: 0 success; 1 a failed step or a problem doctor found; the guest's own status when running one.
import { defineCommand, runMain } from "citty";

const main = defineCommand({
  meta: {
    name: "tap-launcher",
    version: "0.1.0",
    description: "Layer-2 access to a host bridge for rootless VMs, through a privileged bridge helper",
  },
  subCommands: {
    install: () => import("./commands/install.ts").then((module) => module.install),
    uninstall: () => import("./commands/install.ts").then((module) => module.uninstall),
    doctor: () => import("./commands/doctor.ts").then((module) => module.doctor),
  },
});

await runMain(main);
